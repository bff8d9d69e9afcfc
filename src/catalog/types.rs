//! Extensions, enum/composite/range/base types, domains and collations.
//!
//! Extension member objects are never read here (CREATE EXTENSION makes them on
//! the target). Base types are read with every property: those whose I/O
//! functions are LANGUAGE internal are recreated, C ones reported.

mod extensions;

pub use extensions::{Collation, Extension};

use crate::pg::Oid;
use anyhow::Context;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};

/// Extensions, enum/composite/range/base types, domains and collations of the source.
#[derive(Debug, Clone, Default)]
pub struct Types {
    pub extensions: Vec<Extension>,
    pub collations: Vec<Collation>,
    pub enums: Vec<EnumType>,
    pub composites: Vec<CompositeType>,
    pub ranges: Vec<RangeType>,
    pub base_types: Vec<BaseType>,
    pub domains: Vec<Domain>,
}

/// `CREATE TYPE ... AS ENUM`.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// Labels in `enumsortorder` order.
    pub labels: Vec<String>,
    pub comment: Option<String>,
}

/// `CREATE TYPE ... AS (...)`.
#[derive(Debug, Clone)]
pub struct CompositeType {
    pub oid: Oid,
    /// The `pg_class` entry behind the type; dependencies are folded into it.
    pub rel_oid: Oid,
    pub schema: String,
    pub name: String,
    /// Attributes in order, dropped ones left out.
    pub attributes: Vec<Attribute>,
    pub comment: Option<String>,
}

/// An attribute of a composite type.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    /// `format_type()` rendering.
    pub type_sql: String,
    /// Qualified collation when it differs from the type's default.
    pub collation: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE TYPE ... AS RANGE`.
#[derive(Debug, Clone)]
pub struct RangeType {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub subtype: String,
    /// Qualified operator class when it is not the subtype's default.
    pub opclass: Option<String>,
    /// Qualified collation when it differs from the subtype's.
    pub collation: Option<String>,
    /// `regproc` text of the canonical function.
    pub canonical: Option<String>,
    /// `regproc` text of the subtype_diff function.
    pub subtype_diff: Option<String>,
    /// Schema and name of the multirange type (14+ sources).
    pub multirange: Option<(String, String)>,
    pub comment: Option<String>,
}

/// A C-language base type outside any extension (reported, never created).
#[derive(Debug, Clone)]
pub struct BaseType {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    pub input: String,
    pub output: String,
    pub receive: Option<String>,
    pub send: Option<String>,
    pub typmod_in: Option<String>,
    pub typmod_out: Option<String>,
    pub analyze: Option<String>,
    pub subscript: Option<String>,
    /// `typlen`: -1 variable, -2 C string, else bytes.
    pub length: i32,
    pub byval: bool,
    pub align: String,
    pub storage: String,
    pub category: String,
    pub preferred: bool,
    pub default_value: Option<String>,
    pub element: Option<String>,
    pub delimiter: String,
    pub collatable: bool,
    /// The I/O and support functions (created with the type, see `ddl::types`).
    pub io_oids: Vec<Oid>,
    /// Some function is not LANGUAGE internal (C): the type cannot be migrated.
    pub c_io: bool,
    pub comment: Option<String>,
}

/// `CREATE DOMAIN`.
#[derive(Debug, Clone)]
pub struct Domain {
    pub oid: Oid,
    pub schema: String,
    pub name: String,
    /// `format_type()` of the base type with the domain's typmod.
    pub base_sql: String,
    /// Qualified collation when it differs from the base type's.
    pub collation: Option<String>,
    /// `pg_get_expr()` of the default.
    pub default_sql: Option<String>,
    pub not_null: bool,
    /// CHECK constraints by name.
    pub constraints: Vec<DomainConstraint>,
    pub comment: Option<String>,
}

/// A CHECK constraint of a domain.
#[derive(Debug, Clone)]
pub struct DomainConstraint {
    pub oid: Oid,
    pub name: String,
    /// `pg_get_constraintdef()`; ends in `NOT VALID` when not validated.
    pub definition: String,
    pub validated: bool,
    pub comment: Option<String>,
}

/// Reads them from the schemas named in `schemas`.
/// All at once: pipelined on the session (see [`super::Catalog::read`]).
pub async fn read(client: &Client, schemas: &[String]) -> anyhow::Result<Types> {
    let (extensions, collations, enums, composites, ranges, base_types, domains) = tokio::try_join!(
        extensions::read_extensions(client),
        extensions::read_collations(client, schemas),
        read_enums(client, schemas),
        read_composites(client, schemas),
        read_ranges(client, schemas),
        read_base_types(client, schemas),
        read_domains(client, schemas),
    )?;
    Ok(Types {
        extensions,
        collations,
        enums,
        composites,
        ranges,
        base_types,
        domains,
    })
}

/// Runs one catalog query, naming its file in the error.
async fn query(
    client: &Client,
    sql: &str,
    file: &str,
    params: &[(&(dyn tokio_postgres::types::ToSql + Sync), Type)],
) -> anyhow::Result<Vec<Row>> {
    client
        .query_typed(sql, params)
        .await
        .with_context(|| format!("reading sql/catalog/{file}"))
}

async fn read_enums(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<EnumType>> {
    let sql = include_str!("../../sql/catalog/types_enum.sql");
    let rows = query(
        client,
        sql,
        "types_enum.sql",
        &[(&schemas, Type::NAME_ARRAY)],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| EnumType {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            labels: r.get("labels"),
            comment: r.get("comment"),
        })
        .collect())
}

async fn read_composites(
    client: &Client,
    schemas: &[String],
) -> anyhow::Result<Vec<CompositeType>> {
    let sql = include_str!("../../sql/catalog/types_composite.sql");
    let rows = query(
        client,
        sql,
        "types_composite.sql",
        &[(&schemas, Type::NAME_ARRAY)],
    )
    .await?;
    let mut types: Vec<CompositeType> = rows
        .iter()
        .map(|r| CompositeType {
            oid: r.get("oid"),
            rel_oid: r.get("rel_oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            attributes: Vec::new(),
            comment: r.get("comment"),
        })
        .collect();
    let rel_oids: Vec<Oid> = types.iter().map(|t| t.rel_oid).collect();
    let sql = include_str!("../../sql/catalog/types_composite_attrs.sql");
    let rows = query(
        client,
        sql,
        "types_composite_attrs.sql",
        &[(&rel_oids, Type::INT8_ARRAY)],
    )
    .await?;
    for r in rows {
        let rel_oid: Oid = r.get("rel_oid");
        if let Some(t) = types.iter_mut().find(|t| t.rel_oid == rel_oid) {
            t.attributes.push(Attribute {
                name: r.get("name"),
                type_sql: r.get("type_sql"),
                collation: r.get("collation"),
                comment: r.get("comment"),
            });
        }
    }
    Ok(types)
}

async fn read_ranges(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<RangeType>> {
    let sql = include_str!("../../sql/catalog/types_range.sql");
    let rows = query(
        client,
        sql,
        "types_range.sql",
        &[(&schemas, Type::NAME_ARRAY)],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let m_schema: Option<String> = r.get("multirange_schema");
            let m_name: Option<String> = r.get("multirange_name");
            RangeType {
                oid: r.get("oid"),
                schema: r.get("schema"),
                name: r.get("name"),
                subtype: r.get("subtype"),
                opclass: r.get("opclass"),
                collation: r.get("collation"),
                canonical: r.get("canonical"),
                subtype_diff: r.get("subtype_diff"),
                multirange: m_schema.zip(m_name),
                comment: r.get("comment"),
            }
        })
        .collect())
}

async fn read_base_types(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<BaseType>> {
    let sql = include_str!("../../sql/catalog/types_base.sql");
    let rows = query(
        client,
        sql,
        "types_base.sql",
        &[(&schemas, Type::NAME_ARRAY)],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|r| BaseType {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            input: r.get("input"),
            output: r.get("output"),
            receive: r.get("receive"),
            send: r.get("send"),
            typmod_in: r.get("typmod_in"),
            typmod_out: r.get("typmod_out"),
            analyze: r.get("analyze"),
            subscript: r.get("subscript"),
            length: r.get("length"),
            byval: r.get("byval"),
            align: r.get("align"),
            storage: r.get("storage"),
            category: r.get("category"),
            preferred: r.get("preferred"),
            default_value: r.get("default_value"),
            element: r.get("element"),
            delimiter: r.get("delimiter"),
            collatable: r.get("collatable"),
            io_oids: r.get("io_oids"),
            c_io: r.get("c_io"),
            comment: r.get("comment"),
        })
        .collect())
}

async fn read_domains(client: &Client, schemas: &[String]) -> anyhow::Result<Vec<Domain>> {
    let sql = include_str!("../../sql/catalog/domains.sql");
    let rows = query(client, sql, "domains.sql", &[(&schemas, Type::NAME_ARRAY)]).await?;
    let mut domains: Vec<Domain> = rows
        .iter()
        .map(|r| Domain {
            oid: r.get("oid"),
            schema: r.get("schema"),
            name: r.get("name"),
            base_sql: r.get("base_sql"),
            collation: r.get("collation"),
            default_sql: r.get("default_sql"),
            not_null: r.get("not_null"),
            constraints: Vec::new(),
            comment: r.get("comment"),
        })
        .collect();
    let oids: Vec<Oid> = domains.iter().map(|d| d.oid).collect();
    let sql = include_str!("../../sql/catalog/domains_constraints.sql");
    let rows = query(
        client,
        sql,
        "domains_constraints.sql",
        &[(&oids, Type::INT8_ARRAY)],
    )
    .await?;
    for r in rows {
        let domain_oid: Oid = r.get("domain_oid");
        if let Some(d) = domains.iter_mut().find(|d| d.oid == domain_oid) {
            d.constraints.push(DomainConstraint {
                oid: r.get("oid"),
                name: r.get("name"),
                definition: r.get("definition"),
                validated: r.get("validated"),
                comment: r.get("comment"),
            });
        }
    }
    Ok(domains)
}
