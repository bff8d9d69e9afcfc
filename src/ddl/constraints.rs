//! Post-data: indexes and constraints, ordered so that the expensive part (index
//! builds, foreign-key validation) can run in parallel.
//!
//! Order: (1) partitioned parents' constraints and indexes `ON ONLY` (instant);
//! (2) index builds on leaf tables, including the unique indexes behind primary
//! keys and unique constraints, in parallel; (3) those indexes attached as
//! constraints with `ADD CONSTRAINT ... USING INDEX`; (4) partitions' indexes
//! attached to their parents' indexes; (5) NOT VALID checks; (6) foreign keys
//! added `NOT VALID` (instant) and then validated in parallel.

use crate::catalog::{Catalog, Constraint};
use crate::pg::{qualified, quote_ident};
use crate::step::{Phase, Step, StepKind};

fn table_name(cat: &Catalog, oid: i64) -> String {
    cat.table(oid)
        .map(|t| qualified(&t.schema, &t.name))
        .unwrap_or_else(|| format!("<table {oid}>"))
}

fn schema_of(cat: &Catalog, table_oid: i64) -> &str {
    cat.table(table_oid)
        .map(|t| t.schema.as_str())
        .unwrap_or("")
}

fn on_partitioned(cat: &Catalog, table_oid: i64) -> bool {
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

fn display(cat: &Catalog, table_oid: i64, name: &str) -> String {
    format!("{} on {}", quote_ident(name), table_name(cat, table_oid))
}

/// Steps for primary key, unique, exclusion and NOT VALID check constraints,
/// and for indexes. Foreign keys are in [`constraint_steps`] too, last.
pub fn index_steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut parents = Vec::new();
    let mut builds = Vec::new();
    let mut attach = Vec::new();
    let mut attach_parts = Vec::new();
    let index_name = |oid: i64| -> Option<String> {
        if let Some(i) = cat.indexes.iter().find(|i| i.oid == oid) {
            return Some(qualified(schema_of(cat, i.table_oid), &i.name));
        }
        cat.constraints
            .iter()
            .find(|c| c.index_oid == oid && matches!(c.contype.as_str(), "p" | "u" | "x"))
            .map(|c| qualified(schema_of(cat, c.table_oid), &c.name))
    };
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
            parents.push(Step::new(post, kind, obj.clone(), add_constraint(cat, c, "")).of(c.oid));
        } else if let (Some(def), true) = (&c.index_definition, c.contype != "x") {
            builds.push(
                Step::new(post, StepKind::Index, obj.clone(), format!("{def};"))
                    .of(c.oid)
                    .concurrent(),
            );
            let mut using = format!(
                "ALTER TABLE ONLY {} ADD CONSTRAINT {} {} USING INDEX {}",
                table_name(cat, c.table_oid),
                quote_ident(&c.name),
                if c.contype == "p" {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                },
                quote_ident(&c.name)
            );
            if c.definition.contains(" DEFERRABLE") && !c.definition.contains("NOT DEFERRABLE") {
                using.push_str(" DEFERRABLE");
            }
            if c.definition.contains("INITIALLY DEFERRED") {
                using.push_str(" INITIALLY DEFERRED");
            }
            using.push(';');
            attach.push(Step::new(post, kind, obj.clone(), using).of(c.oid));
        } else {
            builds.push(
                Step::new(post, kind, obj.clone(), add_constraint(cat, c, ""))
                    .of(c.oid)
                    .concurrent(),
            );
        }
        let mut markers = Vec::new();
        index_markers(
            cat,
            c.table_oid,
            &c.name,
            (c.index_clustered, c.index_replica_identity),
            c.oid,
            &mut markers,
        );
        attach.extend(markers);
        if c.parent_oid != 0 {
            if let Some(parent) = cat.constraints.iter().find(|p| p.oid == c.parent_oid) {
                if let (Some(pi), Some(ci)) =
                    (index_name(parent.index_oid), index_name(c.index_oid))
                {
                    attach_parts.push(
                        Step::new(
                            post,
                            StepKind::IndexAttach,
                            obj,
                            format!("ALTER INDEX {pi} ATTACH PARTITION {ci};"),
                        )
                        .of(c.oid),
                    );
                }
            }
        }
    }
    for i in &cat.indexes {
        let obj = display(cat, i.table_oid, &i.name);
        let step = Step::new(
            post,
            StepKind::Index,
            obj.clone(),
            format!("{};", i.definition),
        )
        .of(i.oid);
        if i.partitioned {
            parents.push(step);
        } else {
            builds.push(step.concurrent());
        }
        if i.parent_oid != 0 {
            if let (Some(pi), Some(ci)) = (index_name(i.parent_oid), index_name(i.oid)) {
                attach_parts.push(
                    Step::new(
                        post,
                        StepKind::IndexAttach,
                        obj,
                        format!("ALTER INDEX {pi} ATTACH PARTITION {ci};"),
                    )
                    .of(i.oid),
                );
            }
        }
        index_markers(
            cat,
            i.table_oid,
            &i.name,
            (i.clustered, i.replica_identity),
            i.oid,
            &mut attach,
        );
    }
    let mut out = parents;
    out.extend(builds);
    out.extend(attach);
    out.extend(attach_parts);
    out
}

/// CLUSTER ON and REPLICA IDENTITY USING INDEX markers of an index (a plain
/// one or a constraint's), once it exists.
fn index_markers(
    cat: &Catalog,
    table_oid: i64,
    name: &str,
    (clustered, replica_identity): (bool, bool),
    oid: i64,
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

/// NOT VALID check constraints and foreign keys, after every index exists
/// (a foreign key needs the referenced table's unique index).
pub fn constraint_steps(cat: &Catalog) -> Vec<Step> {
    let post = Phase::PostData;
    let mut out = Vec::new();
    let mut validate = Vec::new();
    for c in cat
        .constraints
        .iter()
        .filter(|c| c.contype == "c" && !c.validated && c.is_local)
    {
        out.push(
            Step::new(
                post,
                StepKind::CheckConstraint,
                display(cat, c.table_oid, &c.name),
                add_constraint(cat, c, ""),
            )
            .of(c.oid),
        );
    }
    for c in cat
        .constraints
        .iter()
        .filter(|c| c.contype == "f" && c.parent_oid == 0)
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
