//! Tables, their columns, constraints and indexes.

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::Client;

/// A table (ordinary or partitioned), with its columns in physical order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `r` ordinary, `p` partitioned.
    pub relkind: String,
    pub unlogged: bool,
    pub is_partition: bool,
    /// `FOR VALUES ...` / `DEFAULT` of a partition.
    pub partition_bound: Option<String>,
    /// `RANGE (a)` etc. of a partitioned table.
    pub partition_key: Option<String>,
    /// Inheritance (or partition) parents, in `inhseqno` order.
    pub parent_oids: Vec<Oid>,
    pub reloptions: Vec<String>,
    pub row_security: bool,
    pub force_row_security: bool,
    pub replica_identity: String,
    /// `WITH OIDS` (before PostgreSQL 12): a hidden `oid` column no target
    /// of 12 or later can have.
    pub has_oids: bool,
    pub comment: Option<String>,
    /// Planner estimate, used to schedule big tables first.
    pub est_rows: f64,
    pub bytes: i64,
    pub columns: Vec<Column>,
}

impl Table {
    /// True for a partitioned table, which holds no rows itself.
    pub fn is_partitioned(&self) -> bool {
        self.relkind == "p"
    }
}

/// A column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    pub num: i32,
    pub name: String,
    /// `format_type()` rendering, schema-qualified where needed.
    pub type_sql: String,
    pub type_oid: Oid,
    pub type_name: String,
    pub not_null: bool,
    /// The NOT NULL constraint's name (18+ sources, which name them).
    pub not_null_name: Option<String>,
    /// `NOT NULL NO INHERIT` (18+).
    pub not_null_no_inherit: bool,
    /// Built-in type with binary send/receive: safe for binary COPY between servers.
    pub binary_ok: bool,
    pub default_sql: Option<String>,
    /// `a` ALWAYS, `d` BY DEFAULT, empty when not an identity column.
    pub identity: String,
    /// `s` for a stored generated column (12+), `v` for a virtual one (18+),
    /// else empty.
    pub generated: String,
    /// `pglz` or `lz4` when set on the column (14+), else empty.
    pub compression: String,
    /// Qualified collation when it differs from the type's default.
    pub collation: Option<String>,
    pub is_local: bool,
    pub inh_count: i32,
    pub storage: String,
    pub type_storage: String,
    pub stat_target: i32,
    pub comment: Option<String>,
    pub options: Vec<String>,
    /// Set by the plan's version rules (targets before 16): an inheritance
    /// child's generated column whose expression is the parent's is written
    /// without it, and inherits it, as those targets require.
    pub inherit_generation: bool,
}

impl Column {
    /// Generated columns get their values from the target server, never from COPY.
    pub fn is_generated(&self) -> bool {
        !self.generated.is_empty()
    }
}

/// A primary key, unique, check, exclusion or foreign-key constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub oid: Oid,
    pub table_oid: Oid,
    pub name: String,
    /// `p`, `u`, `c`, `x` or `f`.
    pub contype: String,
    /// `pg_get_constraintdef()`.
    pub definition: String,
    /// The referenced table of a foreign key.
    pub ref_table_oid: Option<Oid>,
    /// The index behind a primary key or unique constraint.
    pub index_oid: Option<Oid>,
    /// `pg_get_indexdef()` of that index, for building it before attaching.
    pub index_definition: Option<String>,
    /// The parent's constraint when a partitioned table's constraint made this one (11+).
    pub parent_oid: Option<Oid>,
    /// The constrained columns, in key order.
    pub key_columns: Vec<String>,
    /// The constraint's index is the table's CLUSTER index.
    pub index_clustered: bool,
    /// The constraint's index is the table's replica identity.
    pub index_replica_identity: bool,
    pub validated: bool,
    /// A primary key or unique constraint `WITHOUT OVERLAPS` (18+).
    pub period: bool,
    /// `condeferrable` and `condeferred`.
    pub deferrable: bool,
    pub deferred: bool,
    pub is_local: bool,
    pub comment: Option<String>,
}

/// An index that does not implement a constraint.
#[derive(Debug, Clone)]
pub struct Index {
    pub oid: Oid,
    pub table_oid: Oid,
    pub name: String,
    /// `pg_get_indexdef()`: a complete `CREATE INDEX` statement.
    pub definition: String,
    /// The index of a partitioned table (created `ON ONLY`, then partitions attached).
    pub partitioned: bool,
    /// The partitioned index this partition's index is attached to.
    pub parent_oid: Option<Oid>,
    pub clustered: bool,
    pub replica_identity: bool,
    pub comment: Option<String>,
}

pub(super) async fn read_tables(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Table>> {
    let sql = include_str!("../../sql/catalog/tables.sql");
    let rows = client
        .query_typed(sql, &[(&schemas, Type::NAME_ARRAY)])
        .await
        .context("reading tables (sql/catalog/tables.sql)")?;
    let mut tables: Vec<Table> = rows
        .iter()
        .map(|r| Table {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            relkind: r.get("relkind"),
            unlogged: r.get::<_, String>("persistence") == "u",
            is_partition: r.get("is_partition"),
            partition_bound: r.get("partition_bound"),
            partition_key: r.get("partition_key"),
            parent_oids: r.get("parent_oids"),
            reloptions: crate::pg::lower_option_names(r.get("reloptions")),
            row_security: r.get("row_security"),
            force_row_security: r.get("force_row_security"),
            replica_identity: r.get("replica_identity"),
            has_oids: r.get("has_oids"),
            comment: r.get("comment"),
            est_rows: r.get("est_rows"),
            bytes: r.get("bytes"),
            columns: Vec::new(),
        })
        .collect();
    let oids: Vec<Oid> = tables.iter().map(|t| t.oid).collect();
    let sql = include_str!("../../sql/catalog/columns.sql");
    let rows = client
        .query_typed(sql, &[(&oids, Type::INT8_ARRAY)])
        .await
        .context("reading columns (sql/catalog/columns.sql)")?;
    let index: std::collections::HashMap<Oid, usize> =
        oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    for r in rows {
        let table_oid: Oid = r.get("table_oid");
        let Some(&i) = index.get(&table_oid) else {
            continue;
        };
        tables[i].columns.push(Column {
            num: r.get("num"),
            name: r.get("name"),
            type_sql: r.get("type_sql"),
            type_oid: r.get("type_oid"),
            type_name: r.get("type_name"),
            not_null: r.get("not_null"),
            not_null_name: r.get("not_null_name"),
            not_null_no_inherit: r.get("not_null_no_inherit"),
            binary_ok: r.get("binary_ok"),
            default_sql: r
                .get::<_, Option<String>>("default_sql")
                .map(|d| crate::pg::plain_bit_literals(&d)),
            identity: r.get("identity"),
            generated: r.get("generated"),
            collation: r.get("collation"),
            compression: match r.get::<_, &str>("compression") {
                "p" => "pglz".to_string(),
                "l" => "lz4".to_string(),
                _ => String::new(),
            },
            is_local: r.get("is_local"),
            inh_count: r.get("inh_count"),
            storage: r.get("storage"),
            type_storage: r.get("type_storage"),
            stat_target: r.get("stat_target"),
            comment: r.get("comment"),
            options: r.get("options"),
            inherit_generation: false,
        });
    }
    Ok(tables)
}

pub(super) async fn read_constraints(
    client: &Client,
    table_oids: &[Oid],
) -> anyhow::Result<Vec<Constraint>> {
    let sql = include_str!("../../sql/catalog/constraints.sql");
    let rows = client
        .query_typed(sql, &[(&table_oids, Type::INT8_ARRAY)])
        .await
        .context("reading constraints (sql/catalog/constraints.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Constraint {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            name: r.get("name"),
            contype: r.get("contype"),
            definition: crate::pg::plain_bit_literals(r.get("definition")),
            ref_table_oid: r.get::<_, Oid>("ref_table_oid").nonzero(),
            index_oid: r.get::<_, Oid>("index_oid").nonzero(),
            index_definition: r
                .get::<_, Option<String>>("index_definition")
                .map(|d| crate::pg::plain_bit_literals(&d)),
            parent_oid: r.get::<_, Oid>("parent_oid").nonzero(),
            key_columns: r.get("key_columns"),
            index_clustered: r.get("index_clustered"),
            index_replica_identity: r.get("index_replica_identity"),
            period: r.get("period"),
            validated: r.get("validated"),
            deferrable: r.get("deferrable"),
            deferred: r.get("deferred"),
            is_local: r.get("is_local"),
            comment: r.get("comment"),
        })
        .collect())
}

pub(super) async fn read_indexes(
    client: &Client,
    table_oids: &[Oid],
) -> anyhow::Result<Vec<Index>> {
    let rows = client
        .query_typed(
            include_str!("../../sql/catalog/indexes.sql"),
            &[(&table_oids, Type::INT8_ARRAY)],
        )
        .await
        .context("reading indexes (sql/catalog/indexes.sql)")?;
    Ok(rows
        .iter()
        .map(|r| Index {
            oid: r.get("oid"),
            table_oid: r.get("table_oid"),
            name: r.get("name"),
            definition: crate::pg::plain_bit_literals(r.get("definition")),
            partitioned: r.get("partitioned"),
            parent_oid: r.get::<_, Oid>("parent_oid").nonzero(),
            clustered: r.get("clustered"),
            replica_identity: r.get("replica_identity"),
            comment: r.get("comment"),
        })
        .collect())
}
