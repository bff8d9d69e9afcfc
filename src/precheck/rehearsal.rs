//! The DDL rehearsal (`target.ddl`): the plan's whole pre-data, post-data and
//! rename DDL run on the target inside one transaction that is always rolled
//! back, so every statement the target would refuse is known before anything
//! is written, not found half-way through a migration.
//!
//! How:
//! - One transaction on the precheck's target session; `ROLLBACK` at the end,
//!   whatever happens (and a dropped session rolls back too). Everything the
//!   plan runs is transactional DDL, so the target's catalog is the same
//!   before and after (the integration test compares `pg_dump` of both).
//! - Statements run in batches of [`BATCH`] under one savepoint (two round
//!   trips: the savepoint is sent alone, since a statement the target cannot
//!   parse fails its whole query string). A batch that fails is rolled back to its savepoint and run again
//!   statement by statement, each under its own savepoint, to name every
//!   statement that fails (`ROLLBACK TO SAVEPOINT` after each failure, so
//!   the rest goes on).
//! - A statement of an object that depends (`pg_depend`, the closure the plan
//!   uses to prune) on an object already rejected is not run: it is listed as
//!   a dependent of that object, not as a failure of its own, so the user
//!   sees the one object to fix.
//! - Tables are created empty, so indexes, constraints, foreign keys and
//!   materialized view refreshes run on no rows: the rehearsal is fast.
//!
//! What it cannot find: failures that only the data causes (a row the
//! target's stricter input function refuses, a materialized view whose query
//! fails on the real rows, an index expression that errors on a value), and
//! sequence values (`setval` is not transactional, so it is not rehearsed).
//! The plan has no statement that cannot run in a transaction (no `CREATE
//! INDEX CONCURRENTLY`, no `ALTER TYPE ... ADD VALUE`: enum types are created
//! with all their labels at once); a statement of that kind added to the plan
//! would show up here as rejected (SQLSTATE 25001), never pass unchecked.

use super::{Context, Finding};
use crate::catalog::Catalog;
use crate::pg::Oid;
use crate::plan::{dependent_reason, roots_of, Dependents, Rejection, Skipped, Step};
use std::collections::HashSet;
use tokio_postgres::Client;

/// Statements per round trip when nothing fails.
const BATCH: usize = 200;

/// What the rehearsal found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Statements that ran (or were tried).
    pub statements: usize,
    /// Statements the target refused, with its error.
    pub rejected: Vec<Rejection>,
    /// Objects not tried because they depend on a rejected one.
    pub dependents: Vec<Skipped>,
    /// The target ran out of a resource (its lock table, most often: one
    /// transaction cannot create tens of thousands of relations on default
    /// settings) after this many statements; the rest were not rehearsed.
    pub stopped: Option<(usize, String)>,
}

/// Errors of the target's limits, not of the statement (insufficient
/// resources, program limits): the rehearsal stops there.
fn out_of_resources(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| c.code().starts_with("53") || c.code().starts_with("54"))
}

/// Runs the rehearsal; the transaction is rolled back on every path.
pub async fn rehearse(target: &Client, steps: &[&Step], cat: &Catalog) -> anyhow::Result<Outcome> {
    target
        .batch_execute(
            "BEGIN; SET LOCAL check_function_bodies = false; SET LOCAL default_tablespace = ''",
        )
        .await?;
    let result = run_all(target, steps, cat).await;
    let rolled_back = target.batch_execute("ROLLBACK").await;
    let out = result?;
    rolled_back?;
    Ok(out)
}

async fn run_all(target: &Client, steps: &[&Step], cat: &Catalog) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let index = Dependents::new(cat);
    let mut closure: HashSet<Oid> = HashSet::new();
    let mut dependent_seen: HashSet<Oid> = HashSet::new();
    let mut rehearsed = 0;
    for chunk in steps.chunks(BATCH) {
        let runnable: Vec<&Step> = chunk
            .iter()
            .copied()
            .filter(|s| {
                if let Some(oid) = s.oid.filter(|o| closure.contains(o)) {
                    note_dependent(&mut out, &mut dependent_seen, s, oid);
                    return false;
                }
                true
            })
            .collect();
        // The savepoint goes in its own round trip: a statement the target
        // cannot even parse fails the whole query string, savepoint included.
        target.batch_execute("SAVEPOINT pgferry_batch").await?;
        let mut sql = String::new();
        for s in &runnable {
            sql.push_str(&s.sql);
            sql.push('\n');
        }
        sql.push_str("RELEASE SAVEPOINT pgferry_batch;");
        out.statements += runnable.len();
        if target.batch_execute(&sql).await.is_ok() {
            rehearsed += runnable.len();
            continue;
        }
        target
            .batch_execute("ROLLBACK TO SAVEPOINT pgferry_batch; RELEASE SAVEPOINT pgferry_batch")
            .await?;
        for s in runnable {
            if let Some(oid) = s.oid.filter(|o| closure.contains(o)) {
                note_dependent(&mut out, &mut dependent_seen, s, oid);
                continue;
            }
            target.batch_execute("SAVEPOINT pgferry_one").await?;
            let one = format!("{}\nRELEASE SAVEPOINT pgferry_one;", s.sql);
            let Err(e) = target.batch_execute(&one).await else {
                rehearsed += 1;
                continue;
            };
            if e.as_db_error().is_none() {
                // The session is gone or broken: not the statement's fault.
                return Err(anyhow::Error::new(e).context("rehearsing the DDL on the target"));
            }
            target
                .batch_execute("ROLLBACK TO SAVEPOINT pgferry_one; RELEASE SAVEPOINT pgferry_one")
                .await?;
            if out_of_resources(&e) {
                out.stopped = Some((rehearsed, crate::pg::db_error(&e)));
                return Ok(out);
            }
            // A refused label, grant, comment... leaves its object be: only
            // the statement is rejected (by its key), not the object and its
            // dependents.
            let oid = match s.kind.sets_an_attribute() {
                true => None,
                false => s.oid,
            };
            out.rejected.push(Rejection {
                kind: s.kind.label().to_string(),
                object: s.object.clone(),
                sqlstate: e.code().map(|c| c.code().to_string()).unwrap_or_default(),
                error: crate::pg::db_error(&e),
                statement: s.sql.lines().next().unwrap_or("").to_string(),
                oid,
                key: s.key(),
            });
            if let Some(oid) = oid {
                dependent_seen.insert(oid);
                closure.extend(index.closure(&[oid]));
            }
        }
    }
    Ok(out)
}

fn note_dependent(out: &mut Outcome, seen: &mut HashSet<Oid>, s: &Step, oid: Oid) {
    if !seen.insert(oid) {
        return;
    }
    out.dependents.push(Skipped {
        kind: s.kind.label(),
        object: s.object.clone(),
        reason: "depends on an object the target rejects".into(),
        oid: Some(oid),
    });
}

/// The check: the plan's DDL rehearsed on the target, as one finding, and the
/// rejections (for `migrate --ignore-check target.ddl` to leave out).
pub(super) async fn check(cx: &Context<'_>) -> anyhow::Result<(Vec<Finding>, Vec<Rejection>)> {
    if cx.opts.data_only {
        return Ok((
            vec![Finding::pass(
                "target.ddl",
                "--data-only: no DDL to rehearse",
            )],
            Vec::new(),
        ));
    }
    let p = cx.plan;
    let steps: Vec<&Step> = p
        .pre_data
        .iter()
        .chain(&p.post_data)
        .chain(&p.renames)
        .collect();
    let mut o = rehearse(cx.target, &steps, cx.cat).await?;
    let because = roots_of(&o.rejected, cx.cat);
    for d in &mut o.dependents {
        d.reason = dependent_reason(d.oid.and_then(|o| because.get(&o)));
    }
    let total = steps.len();
    let partial = o.stopped.as_ref().map(|(done, error)| {
        format!(
            "only the first {done} of {total} statements were rehearsed: the target could not \
             hold more in one transaction ({error}); the other {} are not checked here, and \
             migrate creates its objects in several transactions, as the target's lock table \
             allows",
            total - done
        )
    });
    if o.rejected.is_empty() {
        if let Some(p) = partial {
            return Ok((
                vec![Finding::warning(
                    "target.ddl",
                    format!("the target accepts the statements rehearsed; {p}"),
                    "to rehearse everything, raise max_locks_per_transaction on the target \
                     (a restart) for the migration, or migrate in parts with --include",
                )],
                Vec::new(),
            ));
        }
        return Ok((
            vec![Finding::pass(
                "target.ddl",
                format!(
                    "the target accepts all {} DDL statements of the plan (rehearsed in a \
                     transaction that was rolled back)",
                    o.statements
                ),
            )],
            Vec::new(),
        ));
    }
    let listed: Vec<String> = o
        .rejected
        .iter()
        .map(|r| format!("{} {}: {} [{}]", r.kind, r.object, r.error, r.sqlstate))
        .collect();
    let deps = if o.dependents.is_empty() {
        String::new()
    } else {
        format!(
            "; skipped with them because they depend on them: {}",
            o.dependents
                .iter()
                .map(|d| format!("{} {} ({})", d.kind, d.object, d.reason))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let finding = Finding::failure(
        "target.ddl",
        format!(
            "the target rejects {} statement(s) of the plan (rehearsed in a transaction that was \
             rolled back; nothing was written): {}{deps}{}",
            o.rejected.len(),
            listed.join("; "),
            partial.map(|p| format!("; {p}")).unwrap_or_default()
        ),
        "change or exclude these objects on the source (--exclude), or create what they need on \
         the target; or pass --ignore-check target.ddl to migrate everything else: each rejected \
         object and its dependents are then skipped and listed in the report",
    );
    Ok((vec![finding], o.rejected))
}
