//! What follow mode creates on the source, and takes away again.
//!
//! - A publication `FOR TABLE` the tables the plan copies (never `FOR ALL
//!   TABLES`: that needs a superuser, which Aurora/RDS do not give).
//! - On PostgreSQL 10, which does not decode TRUNCATE, a guard: a schema of
//!   ours holding one function, and a `BEFORE TRUNCATE` trigger on every
//!   selected table that refuses the TRUNCATE. A TRUNCATE during follow
//!   would otherwise be lost silently; refusing it keeps source and target
//!   equal and tells the application why.
//! - The logical slot (`pgoutput`) with its exported snapshot, created last,
//!   so every change after its consistent point passes the publication and
//!   the guard.
//!
//! The names are recorded in the task state before anything is created, so
//! `pgferry cleanup` finds what a crashed run left behind.

use super::keys;
use crate::pg::{qualified, quote_ident, ConnSpec};
use crate::plan::Plan;
use crate::repl::{Lsn, ReplConnection, SnapshotHolder};
use crate::state::State;
use anyhow::Context;
use tokio_postgres::Client;

/// The objects of one follow task on the source.
#[derive(Debug, Clone)]
pub struct SourceObjects {
    pub slot: String,
    pub publication: String,
    /// PostgreSQL 10 only: the schema of the TRUNCATE guard.
    pub guard_schema: Option<String>,
}

impl SourceObjects {
    /// The names recorded in a task state, if it follows.
    pub fn recorded(state: &State) -> anyhow::Result<Option<SourceObjects>> {
        let Some(slot) = state.get(keys::SLOT)? else {
            return Ok(None);
        };
        Ok(Some(SourceObjects {
            publication: state
                .get(keys::PUBLICATION)?
                .unwrap_or_else(|| slot.clone()),
            guard_schema: state.get(keys::GUARD)?,
            slot,
        }))
    }
}

/// Unique per task: slot names are cluster-wide and at most 63 bytes.
fn new_name(state: &State) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}{nanos}", state.dir().display());
    format!(
        "pgferry_{:012x}",
        xxhash_rust::xxh3::xxh3_64(seed.as_bytes()) & 0xffff_ffff_ffff
    )
}

/// The distinct source tables of the plan, qualified.
fn plan_tables(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .copies
        .iter()
        .map(|c| qualified(&c.source_schema, &c.source_name))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Creates the publication, the guard (10) and the slot; the returned
/// holder keeps the slot's snapshot importable while it lives.
pub async fn create(
    spec: &ConnSpec,
    src: &Client,
    plan: &Plan,
    version: i32,
    state: &State,
) -> anyhow::Result<(SourceObjects, SnapshotHolder)> {
    let name = new_name(state);
    let objs = SourceObjects {
        slot: name.clone(),
        publication: name.clone(),
        guard_schema: (version < crate::pg::PG11).then(|| name.clone()),
    };
    state.set(keys::SLOT, &objs.slot)?;
    state.set(keys::PUBLICATION, &objs.publication)?;
    if let Some(g) = &objs.guard_schema {
        state.set(keys::GUARD, g)?;
    }
    let tables = plan_tables(plan);
    if tables.is_empty() {
        return Err(crate::error::usage(
            "--follow needs at least one table with rows to migrate",
        ));
    }
    let columns = published_columns(src, &tables).await?;
    state.set(keys::COLUMNS, &serde_json::to_string(&columns)?)?;
    src.batch_execute(&format!(
        "CREATE PUBLICATION {} FOR TABLE {}",
        quote_ident(&objs.publication),
        tables.join(", ")
    ))
    .await
    .with_context(|| format!("creating publication {} on the source", objs.publication))?;
    if let Some(g) = &objs.guard_schema {
        src.batch_execute(&guard_sql(g, &tables)).await.context(
            "creating the TRUNCATE guard on the source (PostgreSQL 10 does not decode TRUNCATE)",
        )?;
    }
    let holder = ReplConnection::connect(spec, "follow slot")
        .await?
        .create_slot_with_snapshot(&objs.slot, false)
        .await
        .with_context(|| format!("creating replication slot {} on the source", objs.slot))?;
    tracing::info!(
        slot = %objs.slot,
        consistent_point = %holder.slot().consistent_point,
        "created publication and replication slot on the source"
    );
    Ok((objs, holder))
}

/// Every column pgoutput sends for each table (all but dropped and
/// generated ones), before the slot exists: the Relation messages of the
/// stream are compared with this to notice DDL (the plan's catalog only has
/// the selected columns).
async fn published_columns(src: &Client, tables: &[String]) -> anyhow::Result<super::Columns> {
    let rows = src
        .query(
            "SELECT n.nspname::text, c.relname::text, array_agg(a.attname::text ORDER BY a.attnum), \
                    array_agg(a.atttypid::int8 ORDER BY a.attnum) \
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE a.attrelid = ANY($1::text[]::regclass[]) AND a.attnum > 0 \
               AND NOT a.attisdropped AND coalesce(to_jsonb(a)->>'attgenerated', '') = '' \
             GROUP BY 1, 2",
            &[&tables],
        )
        .await
        .context("reading the columns of the published tables")?;
    Ok(rows
        .iter()
        .map(|r| {
            let (s, t): (String, String) = (r.get(0), r.get(1));
            let (names, types): (Vec<String>, Vec<i64>) = (r.get(2), r.get(3));
            let cols = names
                .into_iter()
                .zip(types)
                .map(|(n, o)| (n, u32::try_from(o).unwrap_or(0)))
                .collect();
            (qualified(&s, &t), cols)
        })
        .collect())
}

/// The PostgreSQL 10 TRUNCATE guard: one function, one trigger per table.
pub fn guard_sql(schema: &str, tables: &[String]) -> String {
    let s = quote_ident(schema);
    let mut sql = format!(
        "CREATE SCHEMA {s};\n\
         CREATE FUNCTION {s}.refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $f$\n\
         BEGIN RAISE EXCEPTION 'TRUNCATE of % is refused while pgferry follows this table \
         (PostgreSQL 10 does not replicate TRUNCATE); use DELETE, or finish the migration first', \
         TG_TABLE_NAME::regclass; END $f$;\n"
    );
    for t in tables {
        sql.push_str(&format!(
            "CREATE TRIGGER pgferry_refuse_truncate BEFORE TRUNCATE ON {t} \
             FOR EACH STATEMENT EXECUTE PROCEDURE {s}.refuse_truncate();\n"
        ));
    }
    sql
}

/// What the source says about the slot.
#[derive(Debug, Clone)]
pub struct SlotHealth {
    pub confirmed_flush: Lsn,
    /// WAL the source keeps for the slot (current position - restart_lsn).
    pub retained_bytes: i64,
    pub active_pid: Option<i32>,
}

/// Why following cannot go on from this slot.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    #[error(
        "the replication slot {slot} is gone from the source{why}: changes made since the last \
         one applied are lost for the target, which cannot be brought up to date. Remedy: \
         `pgferry cleanup` (drops the publication), empty the target, then migrate again with \
         --follow --restart"
    )]
    Lost { slot: String, why: String },
}

/// Reads the slot's state; [`SlotError::Lost`] when it is missing or
/// invalidated (PostgreSQL 13+ `wal_status = 'lost'`).
pub async fn slot_health(src: &Client, slot: &str) -> anyhow::Result<SlotHealth> {
    let row = src
        .query_opt(
            "SELECT confirmed_flush_lsn::text, \
                    (pg_catalog.pg_current_wal_lsn() - restart_lsn)::int8, active_pid, \
                    to_jsonb(s)->>'wal_status' \
             FROM pg_catalog.pg_replication_slots s WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .context("reading the replication slot on the source")?;
    let Some(row) = row else {
        return Err(SlotError::Lost {
            slot: slot.into(),
            why: " (dropped by someone, or the source was replaced)".into(),
        }
        .into());
    };
    let status: Option<String> = row.get(3);
    let confirmed: Option<String> = row.get(0);
    if status.as_deref() == Some("lost") || confirmed.is_none() {
        return Err(SlotError::Lost {
            slot: slot.into(),
            why: " (invalidated: the source removed WAL it still needed, e.g. \
                  max_slot_wal_keep_size was exceeded)"
                .into(),
        }
        .into());
    }
    Ok(SlotHealth {
        confirmed_flush: confirmed.unwrap_or_default().parse().unwrap_or(Lsn::ZERO),
        retained_bytes: row.get::<_, Option<i64>>(1).unwrap_or(0),
        active_pid: row.get(2),
    })
}

/// The source's current WAL insert position: after every commit record
/// already inserted. (`pg_current_wal_lsn()` is the *write* position, which
/// can still be before commits that returned under `synchronous_commit =
/// off`: a cut-over at it would miss them.)
pub async fn current_lsn(src: &Client) -> anyhow::Result<Lsn> {
    let s: String = src
        .query_one("SELECT pg_catalog.pg_current_wal_insert_lsn()::text", &[])
        .await
        .context("reading the source's WAL position")?
        .get(0);
    s.parse()
        .with_context(|| format!("parsing the source's WAL position {s}"))
}

/// Drops the slot, publication and guard (each if it exists). Returns what
/// was dropped, for the report.
pub async fn drop_all(src: &Client, objs: &SourceObjects) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    // A follower that just stopped may hold the slot for a moment more.
    for attempt in 0..50 {
        let row = src
            .query_opt(
                "SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                &[&objs.slot],
            )
            .await
            .context("reading the replication slot on the source")?;
        match row {
            None => break,
            Some(r) => {
                let pid: Option<i32> = r.get(0);
                if let Some(pid) = pid {
                    if attempt == 49 {
                        return Err(crate::error::usage(format!(
                            "the replication slot {} is in use by process {pid} on the source: \
                             stop the `pgferry migrate --follow` using it first",
                            objs.slot
                        )));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
                src.execute(
                    "SELECT pg_catalog.pg_drop_replication_slot($1)",
                    &[&objs.slot],
                )
                .await
                .with_context(|| format!("dropping replication slot {}", objs.slot))?;
                done.push(format!("replication slot {}", objs.slot));
                break;
            }
        }
    }
    let exists: bool = src
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1)",
            &[&objs.publication],
        )
        .await?
        .get(0);
    if exists {
        src.batch_execute(&format!(
            "DROP PUBLICATION {}",
            quote_ident(&objs.publication)
        ))
        .await
        .with_context(|| format!("dropping publication {}", objs.publication))?;
        done.push(format!("publication {}", objs.publication));
    }
    if let Some(g) = &objs.guard_schema {
        let exists: bool = src
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
                &[g],
            )
            .await?
            .get(0);
        if exists {
            src.batch_execute(&format!("DROP SCHEMA {} CASCADE", quote_ident(g)))
                .await
                .with_context(|| format!("dropping the TRUNCATE guard (schema {g})"))?;
            done.push(format!(
                "TRUNCATE guard (schema {g}, its function and triggers)"
            ));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guard_refuses_truncate_on_every_table() {
        let sql = super::guard_sql("pgferry_x", &["public.a".into(), "\"S\".b".into()]);
        assert!(sql.starts_with("CREATE SCHEMA pgferry_x;"));
        assert_eq!(sql.matches("BEFORE TRUNCATE ON").count(), 2);
        assert!(sql.contains("ON \"S\".b FOR EACH STATEMENT"));
    }
}
