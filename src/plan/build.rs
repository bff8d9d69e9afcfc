//! Source model -> ordered plan.

use super::{
    order_by_dependencies, FamilySteps, Phase, Plan, SequenceValue, Skipped, Step, TableCopy,
};
use crate::catalog::{Catalog, Table};
use crate::ddl;
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use crate::step::StepKind;
use std::collections::{HashMap, HashSet};

/// What the plan adds beyond the structure and data; the default is what
/// managed targets need (objects owned by the target login, no GRANTs).
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--keep-owners`: end post-data with the source's owners and ACLs.
    pub keep_owners: bool,
    /// The target's roles: owner and grant statements naming any other role
    /// are left out and listed in `plan.skipped`. `None`: not asked (dry run).
    pub target_roles: Option<HashSet<String>>,
    /// The target's version and `--map-removed-types`, for the version rules.
    pub target: super::compat::Target,
    /// `--create-roles`: create the named roles the target lacks (needs
    /// `target_roles`).
    pub create_roles: bool,
    /// The security label providers the target has loaded: labels of any
    /// other provider are left out and listed in `plan.skipped`. `None`:
    /// not asked (dry run), every label is kept.
    pub label_providers: Option<HashSet<String>>,
    /// The target database's default tablespace, for the tablespace rule
    /// (`plan::tablespaces`); `None`: not asked (dry run).
    pub target_default_tablespace: Option<String>,
    /// Create relations in the tablespaces they were read in instead of
    /// applying the tablespace map: `verify --schema`'s picture of the target
    /// as it is.
    pub tablespaces_as_read: bool,
}

/// Builds the plan for migrating everything in `cat`.
pub fn build(cat: &Catalog, opts: &BuildOptions) -> Plan {
    let mut plan = Plan::default();
    // Roles first: everything after may name them.
    let mut roles = opts.target_roles.clone();
    if let (true, Some(have)) = (opts.create_roles, roles.as_mut()) {
        let (steps, created, notes) = ddl::roles::steps(cat, have);
        plan.pre_data.extend(steps);
        plan.rewritten.extend(notes);
        have.extend(created);
    }
    let opts = &BuildOptions {
        target_roles: roles,
        ..opts.clone()
    };
    plan.pre_data.extend(schema_steps(cat));
    let types = ddl::types::steps(cat);
    let routines = ddl::routines::steps(cat);
    let views = ddl::views::steps(cat);
    plan.pre_data.extend(types.pre.iter().cloned());
    plan.pre_data.extend(routines.pre.iter().cloned());
    plan.pre_data.extend(ddl::transforms::steps(cat));
    plan.pre_data.extend(ddl::textsearch::steps(cat).pre);
    plan.pre_data.extend(ddl::extra::conversion_steps(cat));
    let (foreign, password_notes) = ddl::foreign::steps(cat, opts.target_roles.as_ref());
    plan.pre_data.extend(foreign.pre.iter().cloned());
    plan.rewritten.extend(password_notes);
    plan.pre_data.extend(sequence_steps(cat));
    let ordered = parents_first(cat);
    plan.pre_data.extend(table_steps(cat, &ordered));
    plan.pre_data.extend(owned_by_steps(cat));
    table_comments(cat, &ordered, &mut plan.pre_data);
    plan.pre_data.extend(views.pre.iter().cloned());
    plan.pre_data = order_by_dependencies(std::mem::take(&mut plan.pre_data), &cat.depends);

    for t in ordered.iter().filter(|t| !t.is_partitioned()) {
        plan.copies.push(copy_of(t, cat));
    }
    plan.copies.sort_by_key(|c| std::cmp::Reverse(c.bytes));

    plan.post_data.extend(ddl::index_steps(cat));
    plan.post_data.extend(ddl::constraint_steps(cat));
    plan.post_data.extend(ddl::statistics_steps(cat));
    plan.post_data.extend(ddl::constraint_comments(cat));
    for fam in [&types, &routines, &views] {
        plan.post_data.extend(fam.post.iter().cloned());
    }
    for s in &cat.sequences {
        let name = qualified(&s.schema, &s.name);
        plan.sequences.push(SequenceValue {
            source: name.clone(),
            target: name,
        });
    }
    plan.post_data
        .extend(ddl::extra::publication_steps(cat).post);
    // Last in post-data: triggers and policies are created by the target
    // login, and ownership must not change before everything is built.
    let role_skips = match opts.keep_owners {
        true => {
            let (steps, skipped) = owner_steps(cat, opts);
            plan.post_data.extend(steps);
            skipped
        }
        false => Vec::new(),
    };
    // After everything, so that none fires on the migration's own DDL.
    plan.post_data.extend(ddl::extra::event_trigger_steps(cat));
    skip_unsupported(&mut plan, cat, [types, routines, views, foreign]);
    // Objects not migrated at all are already reported once.
    let gone: HashSet<Option<Oid>> = plan.skipped.iter().map(|s| s.oid).collect();
    plan.skipped
        .extend(role_skips.into_iter().filter(|s| !gone.contains(&s.oid)));
    plan.counts = super::Counts::of(&plan, cat);
    plan
}

/// `CREATE SCHEMA` of every schema, and its comment.
fn schema_steps(cat: &Catalog) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    for s in &cat.schemas {
        let name = quote_ident(&s.name);
        out.push(
            Step::new(
                pre,
                StepKind::Schema,
                name.clone(),
                format!("CREATE SCHEMA IF NOT EXISTS {name};"),
            )
            .of(s.oid),
        );
        // Every database's `public` carries this comment from initdb; setting it
        // again would need ownership of `public`, which managed targets keep.
        let default_public =
            s.name == "public" && s.comment.as_deref() == Some("standard public schema");
        if let Some(c) =
            ddl::comment(&format!("SCHEMA {name}"), &s.comment).filter(|_| !default_public)
        {
            out.push(Step::new(pre, StepKind::Comment, name, c).of(s.oid));
        }
    }
    out
}

/// Every table (parents first, inheritance trees replayed where that keeps
/// their columns as the source has them), its settings and inherited-column
/// fixes, then the partitions' `ATTACH`.
fn table_steps(cat: &Catalog, ordered: &[&Table]) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    let mut replayed: HashSet<Oid> = HashSet::new();
    for t in ordered {
        let name = qualified(&t.schema, &t.name);
        if !replayed.contains(&t.oid) {
            match ddl::inheritance_replay(t, cat) {
                Some(steps) => {
                    replayed.extend(
                        cat.tables
                            .iter()
                            .filter(|c| c.parent_oids.contains(&t.oid))
                            .map(|c| c.oid),
                    );
                    for r in steps {
                        out.push(Step::new(pre, r.kind, name.clone(), r.sql).of(r.oid));
                    }
                }
                None => out.push(
                    Step::new(
                        pre,
                        StepKind::Table,
                        name.clone(),
                        ddl::create_table(t, cat),
                    )
                    .of(t.oid),
                ),
            }
        }
        for sql in ddl::table_settings(t) {
            out.push(Step::new(pre, StepKind::TableSetting, name.clone(), sql).of(t.oid));
        }
        for sql in ddl::inherited_column_fixups(t, cat) {
            out.push(Step::new(pre, StepKind::ColumnDefault, name.clone(), sql).of(t.oid));
        }
    }
    for t in ordered {
        if let Some(sql) = ddl::attach_partition(t, cat) {
            let name = qualified(&t.schema, &t.name);
            out.push(Step::new(pre, StepKind::PartitionAttach, name, sql).of(t.oid));
        }
    }
    out
}

/// `CREATE SEQUENCE` of every sequence but identity columns' (those come
/// with their column).
fn sequence_steps(cat: &Catalog) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        let name = qualified(&s.schema, &s.name);
        out.push(Step::new(pre, StepKind::Sequence, name, ddl::create_sequence(s)).of(s.oid));
    }
    out
}

/// `ALTER SEQUENCE ... OWNED BY`, once the owning tables exist.
fn owned_by_steps(cat: &Catalog) -> Vec<Step> {
    let pre = Phase::PreData;
    let mut out = Vec::new();
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        if let Some(sql) = ddl::sequence_owned_by(s, cat) {
            out.push(Step {
                oid: s.owned_by.as_ref().map(|o| o.0),
                ..Step::new(
                    pre,
                    StepKind::SequenceOwnedBy,
                    qualified(&s.schema, &s.name),
                    sql,
                )
            });
        }
    }
    out
}

/// `--keep-owners`: owners and grants of every object, then default
/// privileges; what names a role the target lacks is skipped.
fn owner_steps(cat: &Catalog, opts: &BuildOptions) -> (Vec<Step>, Vec<Skipped>) {
    let (mut steps, mut role_skips) = ddl::owners::steps(cat, opts.target_roles.as_ref());
    let (more, skipped) = ddl::owners::default_privilege_steps(cat, opts.target_roles.as_ref());
    steps.extend(more);
    role_skips.extend(skipped);
    (steps, role_skips)
}

/// Drops every statement and copy of an object that cannot be migrated, or
/// that depends on one (a C-language function, say), and lists each in
/// `plan.skipped` with the reason.
fn skip_unsupported(plan: &mut Plan, cat: &Catalog, families: [FamilySteps; 4]) {
    let roots: Vec<Skipped> = families.into_iter().flat_map(|f| f.skipped).collect();
    if roots.is_empty() {
        return;
    }
    let root_oids: Vec<Oid> = roots.iter().filter_map(|s| s.oid).collect();
    // With the indexes and constraints of skipped tables (see `reject`).
    let closure = super::reject::closure_with_parts(&root_oids, cat);
    let because = blocking_roots(&roots, &cat.depends);
    let mut seen: HashSet<Oid> = root_oids.iter().copied().collect();
    let mut skipped = roots;
    for steps in [&mut plan.pre_data, &mut plan.post_data] {
        steps.retain(|s| {
            let Some(oid) = s.oid.filter(|o| closure.contains(o)) else {
                return true;
            };
            if seen.insert(oid) {
                skipped.push(Skipped {
                    kind: s.kind.label(),
                    object: s.object.clone(),
                    reason: format!(
                        "depends on an object that cannot be migrated ({})",
                        because.get(&oid).map_or("", String::as_str)
                    ),
                    oid: s.oid,
                });
            }
            false
        });
    }
    plan.copies.retain(|c| {
        !cat.tables.iter().any(|t| {
            closure.contains(&t.oid) && t.schema == c.source_schema && t.name == c.source_name
        })
    });
    plan.skipped = skipped;
}

/// For each object that depends on one of `roots`, the roots it depends on
/// (directly or not), as the reason names them: at most three, then how many
/// more. One closure per root: there are few roots, and naming every root for
/// every dependent made reasons thousands of characters long.
fn blocking_roots(roots: &[Skipped], depends: &[(Oid, Oid)]) -> HashMap<Oid, String> {
    let mut by_object: HashMap<Oid, Vec<&str>> = HashMap::new();
    for (r, root) in roots.iter().filter_map(|r| Some((r, r.oid?))) {
        for oid in crate::step::dependents_closure(&[root], depends) {
            by_object.entry(oid).or_default().push(r.object.as_str());
        }
    }
    by_object
        .into_iter()
        .map(|(oid, mut names)| {
            names.sort_unstable();
            names.dedup();
            let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let text = match names.len() {
                n if n > 3 => format!("{shown} and {} more", n - 3),
                _ => shown,
            };
            (oid, text)
        })
        .collect()
}

/// Tables ordered so that every inheritance or partition parent comes before
/// its children (the catalog gives them by name).
fn parents_first(cat: &Catalog) -> Vec<&Table> {
    let mut done: HashSet<Oid> = HashSet::new();
    let mut out = Vec::with_capacity(cat.tables.len());
    fn visit<'a>(
        t: &'a Table,
        cat: &'a Catalog,
        done: &mut HashSet<Oid>,
        out: &mut Vec<&'a Table>,
    ) {
        if !done.insert(t.oid) {
            return;
        }
        for p in t.parent_oids.iter().filter_map(|o| cat.table(*o)) {
            visit(p, cat, done, out);
        }
        out.push(t);
    }
    for t in &cat.tables {
        visit(t, cat, &mut done, &mut out);
    }
    out
}

/// A single-column integer primary key, or else unique key on a NOT NULL
/// integer column: what a big table can be split on.
fn split_key(t: &Table, cat: &Catalog) -> Option<String> {
    let mut keys: Vec<&crate::catalog::Constraint> = cat
        .constraints
        .iter()
        .filter(|c| c.table_oid == t.oid && matches!(c.contype.as_str(), "p" | "u"))
        .filter(|c| c.key_columns.len() == 1)
        .collect();
    keys.sort_by_key(|c| c.contype != "p");
    keys.into_iter().find_map(|c| {
        let col = t.columns.iter().find(|x| x.name == c.key_columns[0])?;
        let int = matches!(col.type_name.as_str(), "int2" | "int4" | "int8");
        (int && col.not_null).then(|| col.name.clone())
    })
}

fn copy_of(t: &Table, cat: &Catalog) -> TableCopy {
    let cols: Vec<&crate::catalog::Column> =
        t.columns.iter().filter(|c| !c.is_generated()).collect();
    TableCopy {
        source_schema: t.schema.clone(),
        source_name: t.name.clone(),
        target_schema: t.schema.clone(),
        target_name: t.name.clone(),
        source_columns: cols.iter().map(|c| c.name.clone()).collect(),
        target_columns: cols.iter().map(|c| c.name.clone()).collect(),
        binary: cols.iter().all(|c| c.binary_ok),
        bytes: t.bytes,
        est_rows: t.est_rows,
        split_key: split_key(t, cat),
        range: None,
    }
}

fn table_comments(cat: &Catalog, tables: &[&Table], out: &mut Vec<Step>) {
    let pre = Phase::PreData;
    for t in tables {
        let name = qualified(&t.schema, &t.name);
        if let Some(c) = ddl::comment(&format!("TABLE {name}"), &t.comment) {
            out.push(Step::new(pre, StepKind::Comment, name.clone(), c).of(t.oid));
        }
        for col in &t.columns {
            let what = format!("COLUMN {name}.{}", quote_ident(&col.name));
            if let Some(c) = ddl::comment(&what, &col.comment) {
                out.push(Step::new(pre, StepKind::Comment, name.clone(), c).of(t.oid));
            }
        }
    }
    for s in cat.sequences.iter().filter(|s| !s.is_identity) {
        let name = qualified(&s.schema, &s.name);
        if let Some(c) = ddl::comment(&format!("SEQUENCE {name}"), &s.comment) {
            out.push(Step::new(pre, StepKind::Comment, name, c).of(s.oid));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(oid: u32, name: &str) -> Skipped {
        Skipped {
            kind: "function",
            object: name.into(),
            reason: String::new(),
            oid: Some(Oid::new(oid)),
        }
    }

    fn pairs(p: &[(u32, u32)]) -> Vec<(Oid, Oid)> {
        p.iter().map(|&(a, b)| (Oid::new(a), Oid::new(b))).collect()
    }

    #[test]
    fn a_dependent_names_only_the_roots_it_depends_on() {
        let roots = [root(1, "a()"), root(2, "b()"), root(3, "c()")];
        // 10 uses a; 11 uses 10 and b; 12 uses c only.
        let depends = pairs(&[(10, 1), (11, 10), (11, 2), (12, 3)]);
        let r = blocking_roots(&roots, &depends);
        assert_eq!(r[&Oid::new(10)], "a()");
        assert_eq!(r[&Oid::new(11)], "a(), b()");
        assert_eq!(r[&Oid::new(12)], "c()");
        let many: Vec<Skipped> = (1..=5).map(|i| root(i, &format!("f{i}()"))).collect();
        let deps: Vec<(Oid, Oid)> = (1..=5).map(|i| (Oid::new(99), Oid::new(i))).collect();
        assert_eq!(
            blocking_roots(&many, &deps)[&Oid::new(99)],
            "f1(), f2(), f3() and 2 more"
        );
    }
}
