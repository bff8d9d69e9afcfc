//! Post-data: indexes and constraints, ordered so that the expensive part (index
//! builds, foreign-key validation) can run in parallel.
//!
//! Order: (1) partitioned parents' constraints and indexes `ON ONLY` (instant);
//! (2) index builds on leaf tables, including the unique indexes behind primary
//! keys and unique constraints, in parallel; (3) those indexes attached as
//! constraints with `ADD CONSTRAINT ... USING INDEX`; (4) partitions' indexes
//! attached to their parents' indexes; (5) NOT VALID checks; (6) foreign keys
//! added `NOT VALID` (instant) and then validated in parallel.

use super::tablespace::{constraint_in, index_in};
use crate::catalog::{Catalog, Constraint};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::step::{Phase, Step, StepKind};

fn table_name(cat: &Catalog, oid: Oid) -> String {
    cat.table(oid)
        .map(|t| qualified(&t.schema, &t.name))
        .unwrap_or_else(|| format!("<table {oid}>"))
}

fn schema_of(cat: &Catalog, table_oid: Oid) -> &str {
    cat.table(table_oid)
        .map(|t| t.schema.as_str())
        .unwrap_or("")
}

fn on_partitioned(cat: &Catalog, table_oid: Oid) -> bool {
    cat.table(table_oid).is_some_and(|t| t.is_partitioned())
}

fn add_constraint(cat: &Catalog, c: &Constraint, suffix: &str) -> String {
    format!(
        "ALTER TABLE ONLY {} ADD CONSTRAINT {} {}{suffix};",
        table_name(cat, c.table_oid),
        quote_ident(&c.name),
        c.definition
    )
}

/// A primary key, unique or exclusion constraint added whole, its index in
/// its tablespace (`USING INDEX TABLESPACE`).
fn add_key_constraint(cat: &Catalog, c: &Constraint) -> String {
    format!(
        "ALTER TABLE ONLY {} ADD CONSTRAINT {} {};",
        table_name(cat, c.table_oid),
        quote_ident(&c.name),
        constraint_in(
            &c.definition,
            c.index_oid.and_then(|o| cat.tablespaces.create_in(o))
        )
    )
}

fn display(cat: &Catalog, table_oid: Oid, name: &str) -> String {
    format!("{} on {}", quote_ident(name), table_name(cat, table_oid))
}

/// Index-backed steps, in the groups they run in: what is created on
/// partitioned parents first (it cascades to partitions), then the builds
/// (concurrent), then what attaches built indexes to constraints and marks
/// them (CLUSTER, replica identity), then partition indexes attached to their
/// parent's.
#[derive(Default)]
struct IndexSteps {
    parents: Vec<Step>,
    builds: Vec<Step>,
    attach: Vec<Step>,
    attach_parts: Vec<Step>,
}

impl IndexSteps {
    fn into_steps(self) -> Vec<Step> {
        let mut out = self.parents;
        out.extend(self.builds);
        out.extend(self.attach);
        out.extend(self.attach_parts);
        out
    }
}

/// Steps for primary key, unique and exclusion constraints, and for indexes.
pub fn index_steps(cat: &Catalog) -> Vec<Step> {
    let mut out = IndexSteps::default();
    key_constraint_steps(cat, &mut out);
    plain_index_steps(cat, &mut out);
    out.into_steps()
}

/// The qualified name of the index with `oid`, whether it is a plain index
/// or the one behind a key constraint.
fn index_name(cat: &Catalog, oid: Oid) -> Option<String> {
    if let Some(i) = cat.index(oid) {
        return Some(qualified(schema_of(cat, i.table_oid), &i.name));
    }
    cat.constraints
        .iter()
        .find(|c| c.index_oid == Some(oid) && matches!(c.contype.as_str(), "p" | "u" | "x"))
        .map(|c| qualified(schema_of(cat, c.table_oid), &c.name))
}

/// `ALTER INDEX parent ATTACH PARTITION child`, when both names are known.
fn attach_partition_index(
    cat: &Catalog,
    obj: String,
    parent: Option<Oid>,
    child: Option<Oid>,
    oid: Oid,
) -> Option<Step> {
    let (pi, ci) = (index_name(cat, parent?)?, index_name(cat, child?)?);
    Some(
        Step::new(
            Phase::PostData,
            StepKind::IndexAttach,
            obj,
            format!("ALTER INDEX {pi} ATTACH PARTITION {ci};"),
        )
        .of(oid),
    )
}

/// Primary keys and unique constraints are built as unique indexes (in
/// parallel, on loaded tables), then attached with `USING INDEX`; exclusion
/// constraints, keys `WITHOUT OVERLAPS` (their GiST index cannot be built
/// unique on its own) and keys of partitioned tables are added whole.
fn key_constraint_steps(cat: &Catalog, out: &mut IndexSteps) {
    let post = Phase::PostData;
    for c in cat
        .constraints
        .iter()
        .filter(|c| matches!(c.contype.as_str(), "p" | "u" | "x"))
    {
        let obj = display(cat, c.table_oid, &c.name);
        let kind = match c.contype.as_str() {
            "p" => StepKind::PrimaryKey,
            "u" => StepKind::UniqueConstraint,
            _ => StepKind::ExclusionConstraint,
        };
        if on_partitioned(cat, c.table_oid) {
            out.parents
                .push(Step::new(post, kind, obj.clone(), add_key_constraint(cat, c)).of(c.oid));
        } else if let (Some(def), true) = (&c.index_definition, c.contype != "x" && !c.period) {
            let def = index_in(def, c.index_oid.and_then(|o| cat.tablespaces.create_in(o)));
            out.builds.push(
                Step::new(post, StepKind::Index, obj.clone(), format!("{def};"))
                    .of(c.oid)
                    .concurrent(),
            );
            let using = using_index_sql(
                &table_name(cat, c.table_oid),
                &c.name,
                c.contype == "p",
                c.deferrable,
                c.deferred,
            );
            out.attach
                .push(Step::new(post, kind, obj.clone(), using).of(c.oid));
        } else {
            out.builds.push(
                Step::new(post, kind, obj.clone(), add_key_constraint(cat, c))
                    .of(c.oid)
                    .concurrent(),
            );
        }
        index_markers(
            cat,
            c.table_oid,
            &c.name,
            (c.index_clustered, c.index_replica_identity),
            c.oid,
            &mut out.attach,
        );
        if let Some(parent_oid) = c.parent_oid {
            if let Some(parent) = cat.constraint(parent_oid) {
                out.attach_parts.extend(attach_partition_index(
                    cat,
                    obj,
                    parent.index_oid,
                    c.index_oid,
                    c.oid,
                ));
            }
        }
    }
}

/// Indexes that back no constraint: built in parallel on loaded tables, or
/// created on partitioned parents first.
fn plain_index_steps(cat: &Catalog, out: &mut IndexSteps) {
    for i in &cat.indexes {
        let obj = display(cat, i.table_oid, &i.name);
        let step = Step::new(
            Phase::PostData,
            StepKind::Index,
            obj.clone(),
            format!(
                "{};",
                index_in(&i.definition, cat.tablespaces.create_in(i.oid))
            ),
        )
        .of(i.oid);
        if i.partitioned {
            out.parents.push(step);
        } else {
            out.builds.push(step.concurrent());
        }
        if i.parent_oid.is_some() {
            out.attach_parts.extend(attach_partition_index(
                cat,
                obj,
                i.parent_oid,
                Some(i.oid),
                i.oid,
            ));
        }
        index_markers(
            cat,
            i.table_oid,
            &i.name,
            (i.clustered, i.replica_identity),
            i.oid,
            &mut out.attach,
        );
    }
}

/// `ALTER TABLE ONLY t ADD CONSTRAINT c PRIMARY KEY|UNIQUE USING INDEX c`,
/// keeping the constraint's deferrability (from `condeferrable` and
/// `condeferred`, never from the text of its definition). The index was built
/// under the constraint's name, so the attach keeps that name.
pub fn using_index_sql(
    table: &str,
    name: &str,
    primary: bool,
    deferrable: bool,
    deferred: bool,
) -> String {
    let mut sql = format!(
        "ALTER TABLE ONLY {table} ADD CONSTRAINT {c} {} USING INDEX {c}",
        if primary { "PRIMARY KEY" } else { "UNIQUE" },
        c = quote_ident(name)
    );
    if deferrable {
        sql.push_str(" DEFERRABLE");
        if deferred {
            sql.push_str(" INITIALLY DEFERRED");
        }
    }
    sql.push(';');
    sql
}

/// CLUSTER ON and REPLICA IDENTITY USING INDEX markers of an index (a plain
/// one or a constraint's), once it exists.
fn index_markers(
    cat: &Catalog,
    table_oid: Oid,
    name: &str,
    (clustered, replica_identity): (bool, bool),
    oid: Oid,
    out: &mut Vec<Step>,
) {
    let t = table_name(cat, table_oid);
    let obj = display(cat, table_oid, name);
    if clustered {
        out.push(
            Step::new(
                Phase::PostData,
                StepKind::ClusterOn,
                obj.clone(),
                format!("ALTER TABLE {t} CLUSTER ON {};", quote_ident(name)),
            )
            .of(oid),
        );
    }
    if replica_identity {
        out.push(
            Step::new(
                Phase::PostData,
                StepKind::ReplicaIdentity,
                obj,
                format!(
                    "ALTER TABLE ONLY {t} REPLICA IDENTITY USING INDEX {};",
                    quote_ident(name)
                ),
            )
            .of(oid),
        );
    }
}

/// NOT VALID check and NOT NULL (18+) constraints and foreign keys, after
/// every index exists (a foreign key needs the referenced table's unique index).
pub fn constraint_steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut out = Vec::new();
    let mut validate = Vec::new();
    for c in cat
        .constraints
        .iter()
        .filter(|c| (c.contype == "c" || c.contype == "n") && !c.validated && c.is_local)
    {
        // An inheritable check on a table with inheritance children must
        // reach them (PostgreSQL refuses `ONLY` there: "constraint must be
        // added to child tables too"); the children's copies are inherited,
        // not created on their own (they are not local).
        let inherited = !c.definition.contains("NO INHERIT")
            && cat
                .tables
                .iter()
                .any(|t| t.parent_oids.contains(&c.table_oid));
        let sql = if inherited {
            add_constraint(cat, c, "").replacen("ALTER TABLE ONLY ", "ALTER TABLE ", 1)
        } else {
            add_constraint(cat, c, "")
        };
        out.push(
            Step::new(
                post,
                StepKind::CheckConstraint,
                display(cat, c.table_oid, &c.name),
                sql,
            )
            .of(c.oid),
        );
    }
    for c in cat
        .constraints
        .iter()
        .filter(|c| c.contype == "f" && c.parent_oid.is_none())
    {
        let obj = display(cat, c.table_oid, &c.name);
        if on_partitioned(cat, c.table_oid) {
            // NOT VALID foreign keys on partitioned tables are not supported before 18,
            // nor is ONLY: the key is made on every partition too.
            out.push(
                Step::new(
                    post,
                    StepKind::ForeignKey,
                    obj,
                    format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} {};",
                        table_name(cat, c.table_oid),
                        quote_ident(&c.name),
                        c.definition
                    ),
                )
                .of(c.oid),
            );
        } else if !c.validated {
            // A source NOT VALID key stays NOT VALID (its definition says so).
            out.push(
                Step::new(post, StepKind::ForeignKey, obj, add_constraint(cat, c, "")).of(c.oid),
            );
        } else {
            out.push(
                Step::new(
                    post,
                    StepKind::ForeignKey,
                    obj.clone(),
                    add_constraint(cat, c, " NOT VALID"),
                )
                .of(c.oid),
            );
            validate.push(
                Step::new(
                    post,
                    StepKind::ForeignKeyValidation,
                    obj,
                    format!(
                        "ALTER TABLE {} VALIDATE CONSTRAINT {};",
                        table_name(cat, c.table_oid),
                        quote_ident(&c.name)
                    ),
                )
                .of(c.oid)
                .concurrent(),
            );
        }
    }
    out.extend(validate);
    out
}

/// Comments on constraints and indexes, once they all exist.
pub fn constraint_comments(cat: &Catalog) -> Vec<Step> {
    let mut out = Vec::new();
    for c in &cat.constraints {
        let what = format!(
            "CONSTRAINT {} ON {}",
            quote_ident(&c.name),
            table_name(cat, c.table_oid)
        );
        if let Some(sql) = super::comment(&what, &c.comment) {
            out.push(
                Step::new(
                    Phase::PostData,
                    StepKind::Comment,
                    display(cat, c.table_oid, &c.name),
                    sql,
                )
                .of(c.oid),
            );
        }
    }
    for i in &cat.indexes {
        let what = format!("INDEX {}", qualified(schema_of(cat, i.table_oid), &i.name));
        if let Some(sql) = super::comment(&what, &i.comment) {
            out.push(
                Step::new(
                    Phase::PostData,
                    StepKind::Comment,
                    display(cat, i.table_oid, &i.name),
                    sql,
                )
                .of(i.oid),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::using_index_sql;

    #[test]
    fn using_index_keeps_deferrability_from_the_flags() {
        assert_eq!(
            using_index_sql("public.t", "t_pkey", true, false, false),
            "ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;"
        );
        assert_eq!(
            using_index_sql("s.\"T\"", "U k", false, true, false),
            "ALTER TABLE ONLY s.\"T\" ADD CONSTRAINT \"U k\" UNIQUE USING INDEX \"U k\" DEFERRABLE;"
        );
        assert_eq!(
            using_index_sql("t", "k", false, true, true),
            "ALTER TABLE ONLY t ADD CONSTRAINT k UNIQUE USING INDEX k DEFERRABLE INITIALLY DEFERRED;"
        );
        // A name that merely contains the words is not deferrable.
        assert!(!using_index_sql("t", "not deferrable", true, false, false)
            .ends_with("USING INDEX \"not deferrable\" DEFERRABLE;"));
    }
}
