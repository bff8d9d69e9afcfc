//! What pgferry cannot carry over faithfully: C-language functions (their
//! code is a library on the source host), columns holding catalog OIDs,
//! large objects (copied, but their OIDs must be free), and tables that have
//! no key to identify a row by.

use super::{Context, Finding};
use crate::pg::Oid;
use crate::plan::dependents_closure;
use anyhow::Context as _;
use std::collections::BTreeSet;

/// The OID-alias types: their values name catalog objects by OID.
const REG_TYPES: &[&str] = &[
    "regproc",
    "regprocedure",
    "regoper",
    "regoperator",
    "regclass",
    "regtype",
    "regconfig",
    "regdictionary",
    "regnamespace",
    "regrole",
    "regcollation",
];

/// C-language functions outside extensions, and what depends on them (the
/// plan skips both; this says so before the user finds out afterwards).
pub(super) async fn c_functions(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let schemas: Vec<String> = cx.cat.schemas.iter().map(|s| s.name.clone()).collect();
    let rows = cx
        .source
        .query(
            include_str!("../../sql/precheck/c_functions.sql"),
            &[&schemas],
        )
        .await
        .context("listing C-language functions (sql/precheck/c_functions.sql)")?;
    if rows.is_empty() {
        return Ok(vec![Finding::pass(
            "source.unsupported.c_function",
            "no C-language function outside extensions",
        )]);
    }
    let oids: Vec<Oid> = rows.iter().map(|r| r.get(0)).collect();
    let funcs: Vec<String> = rows
        .iter()
        .map(|r| {
            let sig: String = r.get(1);
            match r.get::<_, Option<String>>(2) {
                Some(lib) => format!("{sig} [library {lib}]"),
                None => sig,
            }
        })
        .collect();
    let closure = dependents_closure(&oids, &cx.cat.depends);
    let others: Vec<Oid> = closure.into_iter().filter(|o| !oids.contains(o)).collect();
    let dependents: BTreeSet<String> = cx
        .source
        .query(include_str!("../../sql/precheck/describe.sql"), &[&others])
        .await
        .context("naming dependents of C functions (sql/precheck/describe.sql)")?
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(1))
        .collect();
    let also = if dependents.is_empty() {
        String::new()
    } else {
        format!(
            "; skipped with them because they depend on them: {}",
            dependents.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    Ok(vec![Finding::warning(
        "source.unsupported.c_function",
        format!(
            "C-language function(s) outside extensions are not migrated: {}{also}",
            funcs.join(", ")
        ),
        "install their shared library on the target and create them there by hand before \
         migrating (or package them as an extension); `pgferry migrate --dry-run` lists every \
         skipped object",
    )])
}

/// Columns of OID-alias types (regclass, regtype...) in user tables.
pub(super) fn reg_columns(cx: &Context<'_>) -> Vec<Finding> {
    let mut cols = Vec::new();
    for t in &cx.cat.tables {
        for c in &t.columns {
            let base = c.type_name.trim_start_matches('_');
            if REG_TYPES.contains(&base) {
                cols.push(format!(
                    "{}.{} ({})",
                    crate::pg::qualified(&t.schema, &t.name),
                    crate::pg::quote_ident(&c.name),
                    c.type_sql
                ));
            }
        }
    }
    if cols.is_empty() {
        return vec![Finding::pass(
            "source.unsupported.reg_column",
            "no column of an OID-alias type (regclass, regtype, regproc...)",
        )];
    }
    vec![Finding::warning(
        "source.unsupported.reg_column",
        format!(
            "column(s) hold OIDs of catalog objects, which differ on the target: {}",
            cols.join(", ")
        ),
        "store the names as text instead (ALTER TABLE ... ALTER COLUMN ... TYPE text), or \
         check every value after the migration: objects not migrated, or created with \
         other OIDs, make them wrong or unloadable",
    )]
}

/// Column options that upstream PostgreSQL does not define (`ALTER COLUMN
/// ... SET (name=value)` accepts only `n_distinct` and `n_distinct_inherited`):
/// a patched server or an extension set them, and an upstream target would
/// reject the table for them, so they are left out and named here.
pub(super) fn column_options(cx: &Context<'_>) -> Vec<Finding> {
    let code = "source.unsupported.column_option";
    let mut by_option: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for t in &cx.cat.tables {
        for c in &t.columns {
            for o in &c.options {
                let name = crate::ddl::option_name(o);
                if !crate::ddl::carried_column_options(std::slice::from_ref(o)).is_empty() {
                    continue;
                }
                by_option.entry(name).or_default().push(format!(
                    "{}.{}",
                    crate::pg::qualified(&t.schema, &t.name),
                    crate::pg::quote_ident(&c.name)
                ));
            }
        }
    }
    if by_option.is_empty() {
        return vec![Finding::pass(
            code,
            "every column option is one PostgreSQL defines",
        )];
    }
    let listing = by_option
        .iter()
        .map(|(name, cols)| {
            let shown = cols.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            let more = cols.len().saturating_sub(3);
            if more > 0 {
                format!(
                    "{name} on {} column(s) ({shown} and {more} more)",
                    cols.len()
                )
            } else {
                format!("{name} on {shown}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    vec![Finding::warning(
        code,
        format!("column option(s) that PostgreSQL does not define are not carried: {listing}"),
        "nothing to do unless an extension on the target defines them: then set them \
         after the migration (ALTER TABLE ... ALTER COLUMN ... SET (...)); a patched \
         server (e.g. a vendor build) may set them on every column by itself",
    )]
}

/// Large objects: copied with their OIDs (contents; owners with
/// `--keep-owners`), so the same OIDs must be free on the target.
pub(super) async fn large_objects(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let oids: Vec<u32> = cx
        .source
        .query_typed(
            "SELECT oid FROM pg_catalog.pg_largeobject_metadata ORDER BY oid",
            &[],
        )
        .await
        .context("listing large objects")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if oids.is_empty() {
        return Ok(vec![Finding::pass(
            "source.large_object",
            "no large objects",
        )]);
    }
    let mut out = vec![Finding::pass(
        "source.large_object",
        format!(
            "{} large object(s) are copied with the tables, with their OIDs (and owners and \
             GRANTs with --keep-owners)",
            oids.len()
        ),
    )];
    if cx.opts.data_only {
        return Ok(out);
    }
    let taken: Vec<u32> = cx
        .target
        .query(
            "SELECT oid FROM pg_catalog.pg_largeobject_metadata WHERE oid = ANY($1) ORDER BY oid",
            &[&oids],
        )
        .await
        .context("looking for the same large objects on the target")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !taken.is_empty() {
        let shown: Vec<String> = taken.iter().take(20).map(u32::to_string).collect();
        out.push(Finding::failure(
            "target.large_object.conflict",
            format!(
                "{} large object OID(s) of the source already exist on the target: {}{}",
                taken.len(),
                shown.join(", "),
                if taken.len() > 20 { ", ..." } else { "" }
            ),
            format!(
                "unlink them on the target if they are leftovers (SELECT lo_unlink({}); ...), \
                 or migrate into another database",
                taken[0]
            ),
        ));
    }
    Ok(out)
}

/// Objects of kinds the plan does not migrate (default privileges without
/// `--keep-owners`): named, so that nothing is left behind silently.
/// Relations in other tablespaces are `tablespaces.rs`'s.
pub(super) async fn other_objects(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let rows = cx
        .source
        .query_typed(include_str!("../../sql/precheck/other_objects.sql"), &[])
        .await
        .context("listing objects pgferry does not migrate (sql/precheck/other_objects.sql)")?;
    let replayed = |r: &tokio_postgres::Row| {
        cx.opts.keep_owners && r.get::<_, String>(0) == "default privileges"
    };
    if rows.iter().all(replayed) {
        return Ok(vec![Finding::pass(
            "source.unsupported.other",
            "no default privileges to leave behind",
        )]);
    }
    let mut by_kind: Vec<(String, Vec<String>)> = Vec::new();
    for r in &rows {
        let (kind, name): (String, String) = (r.get(0), r.get(1));
        // `--keep-owners` replays them (ALTER DEFAULT PRIVILEGES).
        if replayed(r) {
            continue;
        }
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(name),
            None => by_kind.push((kind, vec![name])),
        }
    }
    let listed: Vec<String> = by_kind
        .iter()
        .map(|(k, v)| {
            let shown: Vec<&str> = v.iter().take(10).map(String::as_str).collect();
            let more = if v.len() > 10 {
                format!(" and {} more", v.len() - 10)
            } else {
                String::new()
            };
            format!("{k}: {}{more}", shown.join(", "))
        })
        .collect();
    Ok(vec![Finding::warning(
        "source.unsupported.other",
        format!(
            "objects of kinds pgferry does not migrate: {}",
            listed.join("; ")
        ),
        "default privileges are replayed with --keep-owners, or recreate them by hand \
         (pg_dump --schema-only shows them)",
    )])
}

/// Tables with no primary key and no unique index over NOT NULL columns.
pub(super) async fn no_key(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let oids: Vec<Oid> = cx.cat.tables.iter().map(|t| t.oid).collect();
    let rows = cx
        .source
        .query(include_str!("../../sql/precheck/no_key.sql"), &[&oids])
        .await
        .context("finding tables without a key (sql/precheck/no_key.sql)")?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(vec![if names.is_empty() {
        Finding::pass(
            "source.table.no_key",
            "every table has a primary key or a unique NOT NULL key",
        )
    } else {
        Finding::warning(
            "source.table.no_key",
            format!(
                "table(s) without a primary key or unique NOT NULL key: {}; verification can only compare them as whole rows, and future incremental migration will need REPLICA IDENTITY FULL",
                names.join(", ")
            ),
            format!(
                "add a primary key on the source where possible (ALTER TABLE {} ADD PRIMARY KEY (...)), or accept weaker verification",
                names[0]
            ),
        )
    }])
}
