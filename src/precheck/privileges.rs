//! Privileges of the two logins, tested with the server's own `has_*_privilege`
//! functions for the login's own role, so inherited grants, PUBLIC and role
//! membership count exactly as they will when the migration runs.

use super::{Context, End, Finding, SQL};
use crate::pg::Oid;
use crate::pg::{qualified, quote_ident};
use anyhow::Context as _;

/// Source: USAGE on pg_catalog and every selected schema, SELECT on every
/// table (COPY reads it) and sequence (its value is read after the data).
pub(super) async fn source(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    let role = quote_ident(&cx.src.login);
    let mut out = Vec::new();
    let mut names: Vec<String> = vec!["pg_catalog".to_string()];
    names.extend(cx.cat.schemas.iter().map(|s| s.name.clone()));
    let rows = cx
        .source
        .query(
            "SELECT n.nspname::text FROM pg_catalog.pg_namespace n \
             WHERE n.nspname = ANY($1) AND NOT pg_catalog.has_schema_privilege(n.oid, 'USAGE') \
             ORDER BY 1",
            &[&names],
        )
        .await
        .context("checking USAGE on source schemas")?;
    let missing: Vec<String> = rows.iter().map(|r| quote_ident(r.get(0))).collect();
    out.push(if missing.is_empty() {
        Finding::pass(
            "source.privilege.usage",
            format!(
                "{} has USAGE on pg_catalog and the {} selected schema(s)",
                cx.src.login,
                cx.cat.schemas.len()
            ),
        )
    } else {
        Finding::failure(
            "source.privilege.usage",
            format!(
                "{} lacks USAGE on schema(s): {}",
                cx.src.login,
                missing.join(", ")
            ),
            format!("on the source, as the schema owner: {SQL}"),
        )
        .with_sql(
            End::Source,
            vec![format!(
                "GRANT USAGE ON SCHEMA {} TO {role};",
                missing.join(", ")
            )],
        )
    });

    let table_oids: Vec<Oid> = cx.cat.tables.iter().map(|t| t.oid).collect();
    let seq_oids: Vec<Oid> = cx.cat.sequences.iter().map(|s| s.oid).collect();
    let row = cx
        .source
        .query_one(
            "SELECT COALESCE((SELECT array_agg(o ORDER BY o) FROM unnest($1::int8[]) o \
                              WHERE NOT pg_catalog.has_table_privilege(o::oid, 'SELECT')), '{}'), \
                    COALESCE((SELECT array_agg(o ORDER BY o) FROM unnest($2::int8[]) o \
                              WHERE NOT pg_catalog.has_sequence_privilege(o::oid, 'SELECT')), '{}')",
            &[&table_oids, &seq_oids],
        )
        .await
        .context("checking SELECT on source tables and sequences")?;
    let bad_tables: Vec<Oid> = row.get(0);
    let bad_seqs: Vec<Oid> = row.get(1);
    let tables: Vec<String> = cx
        .cat
        .tables
        .iter()
        .filter(|t| bad_tables.contains(&t.oid))
        .map(|t| qualified(&t.schema, &t.name))
        .collect();
    let seqs: Vec<String> = cx
        .cat
        .sequences
        .iter()
        .filter(|s| bad_seqs.contains(&s.oid))
        .map(|s| qualified(&s.schema, &s.name))
        .collect();
    if tables.is_empty() && seqs.is_empty() {
        out.push(Finding::pass(
            "source.privilege.select",
            format!(
                "{} can read all {} table(s){} and {} sequence(s)",
                cx.src.login,
                cx.plan.counts.tables,
                match cx.plan.counts.partitioned_tables {
                    0 => String::new(),
                    n => format!(" (and {n} partitioned)"),
                },
                seq_oids.len()
            ),
        ));
        return Ok(out);
    }
    let mut what = Vec::new();
    let mut grants = Vec::new();
    if !tables.is_empty() {
        what.push(format!("table(s) {}", tables.join(", ")));
        grants.push(format!(
            "GRANT SELECT ON TABLE {} TO {role};",
            tables.join(", ")
        ));
    }
    if !seqs.is_empty() {
        what.push(format!("sequence(s) {}", seqs.join(", ")));
        grants.push(format!(
            "GRANT SELECT ON SEQUENCE {} TO {role};",
            seqs.join(", ")
        ));
    }
    out.push(
        Finding::failure(
            "source.privilege.select",
            format!("{} lacks SELECT on {}", cx.src.login, what.join(" and ")),
            format!("on the source, as the owner: {SQL}"),
        )
        .with_sql(End::Source, grants),
    );
    Ok(out)
}

/// Target: CREATE on the database (`CREATE SCHEMA IF NOT EXISTS` checks it
/// even when the schema exists), USAGE and CREATE on the schemas that already
/// exist, and ownership of those whose comment the plan sets.
pub(super) async fn target(cx: &Context<'_>) -> anyhow::Result<Vec<Finding>> {
    if cx.opts.data_only {
        return Ok(vec![Finding::pass(
            "target.privilege.create",
            "data only: no objects are created on the target",
        )]);
    }
    let role = quote_ident(&cx.tgt.login);
    let mut out = Vec::new();
    out.push(if cx.tgt.can_create {
        Finding::pass(
            "target.privilege.create",
            format!(
                "{} may create schemas in database {}",
                cx.tgt.login, cx.tgt.database
            ),
        )
    } else {
        Finding::failure(
            "target.privilege.create",
            format!(
                "{} lacks CREATE on database {}",
                cx.tgt.login,
                quote_ident(&cx.tgt.database)
            ),
            format!("on the target, as the database owner: {SQL}"),
        )
        .with_sql(
            End::Target,
            vec![format!(
                "GRANT CREATE ON DATABASE {} TO {role};",
                quote_ident(&cx.tgt.database)
            )],
        )
    });
    let names: Vec<String> = cx.cat.schemas.iter().map(|s| s.name.clone()).collect();
    let rows = cx
        .target
        .query(
            "SELECT n.nspname::text, \
                    pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND pg_catalog.has_schema_privilege(n.oid, 'CREATE'), \
                    pg_catalog.pg_has_role(n.nspowner, 'USAGE') \
             FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY($1) ORDER BY 1",
            &[&names],
        )
        .await
        .context("checking privileges on target schemas")?;
    let mut no_create = Vec::new();
    let mut not_owner = Vec::new();
    for r in &rows {
        let name: String = r.get(0);
        if !r.get::<_, bool>(1) {
            no_create.push(quote_ident(&name));
        }
        // Only when the plan really sets the comment (the default comment of
        // `public` is left alone).
        let what = format!("COMMENT ON SCHEMA {} ", quote_ident(&name));
        let commented = cx.plan.pre_data.iter().any(|s| s.sql.starts_with(&what));
        if commented && !r.get::<_, bool>(2) {
            not_owner.push(quote_ident(&name));
        }
    }
    out.push(if no_create.is_empty() {
        Finding::pass(
            "target.privilege.schema",
            format!(
                "{} has USAGE and CREATE on the {} existing target schema(s)",
                cx.tgt.login,
                rows.len()
            ),
        )
    } else {
        Finding::failure(
            "target.privilege.schema",
            format!(
                "{} lacks USAGE or CREATE on existing target schema(s): {}",
                cx.tgt.login,
                no_create.join(", ")
            ),
            format!("on the target, as the schema owner: {SQL}"),
        )
        .with_sql(
            End::Target,
            vec![format!(
                "GRANT USAGE, CREATE ON SCHEMA {} TO {role};",
                no_create.join(", ")
            )],
        )
    });
    if !not_owner.is_empty() {
        out.push(Finding::failure(
            "target.privilege.schema_owner",
            format!(
                "{} does not own target schema(s) {} whose comment must be set (COMMENT ON SCHEMA needs the owner)",
                cx.tgt.login,
                not_owner.join(", ")
            ),
            format!("on the target, as a superuser or the schemas' owner: {SQL}"),
        )
        .with_sql(
            End::Target,
            not_owner
                .iter()
                .map(|s| format!("ALTER SCHEMA {s} OWNER TO {role};"))
                .collect(),
        ));
    }
    Ok(out)
}
