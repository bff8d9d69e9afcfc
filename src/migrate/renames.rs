//! Renames that survive a kill: whether each `ALTER ... RENAME` already ran is
//! decided from the target catalog, by oid, not from the task state alone.
//!
//! A rename is the one statement that cannot simply be run again: once it
//! committed, its old name is gone and a second run fails ("column ... does
//! not exist"). A run killed (or cut off from the target) after the server
//! committed a rename but before the state recorded it could then never be
//! resumed. So before the first rename runs, the oid of every object to be
//! renamed (a schema's, a table's, a column's table and attnum) is recorded
//! while the objects still carry their source names; a resumed run asks the
//! target whether the object with that oid now carries its new name, and if
//! so records the rename as done without running it. Names alone would not
//! do: another object may have taken the old or the new name.

use crate::pg::Oid;
use crate::plan::rename::{targets, RenameTarget};
use crate::plan::Plan;
use crate::state::State;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio_postgres::Client;

/// The task attribute holding the oids, by step key.
const KEY: &str = "rename_oids";

/// Where a renamed object lives on the target. Persisted in the task state
/// (`{"Table":16385}`, `{"Column":[16385,2]}`): the variant names and shapes
/// must stay as they are.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
enum Located {
    Schema(Oid),
    Table(Oid),
    Column(Oid, i32),
}

/// Records the target oids of the renamed objects on the first run, and on a
/// resumed one marks as done every rename the target shows already made.
pub(super) async fn prepare(
    target: &Client,
    plan: &Plan,
    state: Option<&State>,
) -> anyhow::Result<()> {
    let Some(st) = state else {
        return Ok(());
    };
    let list = targets(&plan.names);
    if list.is_empty() {
        return Ok(());
    }
    let oids: BTreeMap<String, Located> = match st.get(KEY)? {
        Some(json) => serde_json::from_str(&json).context("reading the recorded rename oids")?,
        None => {
            // No rename has run yet (none runs before this is recorded): every
            // object still has its source name.
            let mut m = BTreeMap::new();
            for t in &list {
                if let Some(oid) = lookup(target, t).await? {
                    m.insert(t.step.key(), oid);
                }
            }
            st.set(KEY, &serde_json::to_string(&m)?)?;
            m
        }
    };
    for t in &list {
        let key = t.step.key();
        if st.step_done(&key)? {
            continue;
        }
        let Some(oid) = oids.get(&key) else {
            continue;
        };
        if carries(target, *oid, &t.to).await? {
            tracing::info!(
                "{} {}: already done on the target (an earlier run was stopped after it)",
                t.step.kind,
                t.step.object
            );
            st.mark_step(&key, "post-data", t.step.kind.label(), &t.step.object)?;
        }
    }
    Ok(())
}

/// The oid of the object a rename works on, found by its source name.
async fn lookup(target: &Client, t: &RenameTarget) -> anyhow::Result<Option<Located>> {
    let f = &t.from;
    let rel = |s: &str, n: &str| crate::pg::qualified(s, n);
    let row = match f.as_slice() {
        [s] => target
            .query_opt(
                "SELECT oid::int8, 0::int4 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[s],
            )
            .await?
            .map(|r| Located::Schema(r.get(0))),
        [s, n] => target
            .query_opt(
                "SELECT pg_catalog.to_regclass($1)::oid::int8 WHERE pg_catalog.to_regclass($1) IS NOT NULL",
                &[&rel(s, n)],
            )
            .await?
            .map(|r| Located::Table(r.get(0))),
        [s, n, c] => target
            .query_opt(
                "SELECT attrelid::int8, attnum::int4 FROM pg_catalog.pg_attribute \
                 WHERE attrelid = pg_catalog.to_regclass($1) AND attname = $2 AND NOT attisdropped",
                &[&rel(s, n), c],
            )
            .await?
            .map(|r| Located::Column(r.get(0), r.get(1))),
        _ => None,
    };
    Ok(row)
}

/// Whether the object with this oid now carries the name `to`.
async fn carries(target: &Client, oid: Located, to: &str) -> anyhow::Result<bool> {
    let row =
        match oid {
            Located::Schema(o) => target
                .query_opt(
                    "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE oid = $1::int8::oid",
                    &[&o],
                )
                .await?,
            Located::Table(o) => {
                target
                    .query_opt(
                        "SELECT relname::text FROM pg_catalog.pg_class WHERE oid = $1::int8::oid",
                        &[&o],
                    )
                    .await?
            }
            Located::Column(o, n) => {
                target
                    .query_opt(
                        "SELECT attname::text FROM pg_catalog.pg_attribute \
                     WHERE attrelid = $1::int8::oid AND attnum = $2",
                        &[&o, &(n as i16)],
                    )
                    .await?
            }
        };
    Ok(row.is_some_and(|r| r.get::<_, String>(0) == to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_locations_read_as_earlier_builds_wrote_them() {
        // Written by builds that kept oids as i64: must still resume.
        let json = r#"{"a":{"Schema":2200},"b":{"Table":16385},"c":{"Column":[16385,2]}}"#;
        let m: BTreeMap<String, Located> = serde_json::from_str(json).unwrap();
        assert_eq!(m["a"], Located::Schema(Oid::new(2200)));
        assert_eq!(m["b"], Located::Table(Oid::new(16385)));
        assert_eq!(m["c"], Located::Column(Oid::new(16385), 2));
        assert_eq!(serde_json::to_string(&m).unwrap(), json);
    }
}
