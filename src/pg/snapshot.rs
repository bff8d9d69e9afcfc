//! The consistent snapshot every reader shares.
//!
//! The holder's transaction exports the snapshot and must stay open for the
//! whole data phase: once it ends, the snapshot can no longer be imported.
//! If its session is ended (an administrator's `pg_terminate_backend`, a
//! source restart), the moment it held is gone for good: rows not yet copied
//! can only be read under a new snapshot, which `--resume` takes.
//!
//! The holder also takes ACCESS SHARE on every table it will copy, right after
//! reading the catalog, as pg_dump and pgcopydb do: a TRUNCATE, DROP or ALTER
//! on the source then waits for the migration instead of slipping in between
//! the catalog read and the copy of that table.

use anyhow::Context;
use std::fmt;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// The exported snapshot can no longer be imported: the session holding it
/// ended. Not transient: retrying cannot bring it back.
#[derive(Debug)]
pub struct SnapshotLost;

impl fmt::Display for SnapshotLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the source snapshot was lost: the source session holding it was ended (by \
             pg_terminate_backend, an administrator, or a restart of the source), so the rows \
             still to copy can no longer be read as of the same moment as those already \
             copied. Run `pgferry migrate --resume` to continue under a new snapshot; writes \
             to the source must stay stopped (a resumed copy reads the source as of the \
             resume), and `pgferry verify` afterwards proves the result",
        )
    }
}
impl std::error::Error for SnapshotLost {}

/// Source tables that could not be locked in time, and who holds them.
#[derive(Debug)]
pub struct TablesLocked {
    /// Qualified names.
    pub tables: Vec<String>,
    /// Sessions holding or waiting for a conflicting lock, one a line.
    pub holders: Vec<String>,
    pub timeout: Duration,
}

impl fmt::Display for TablesLocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot lock source table(s) {} in ACCESS SHARE mode within {} s (lock_timeout): \
             another session holds or waits for a conflicting lock (ACCESS EXCLUSIVE: \
             ALTER TABLE, TRUNCATE, DROP, VACUUM FULL, CLUSTER, LOCK TABLE){}; let it finish \
             or end it, then run pgferry again",
            if self.tables.is_empty() {
                "(released meanwhile)".to_string()
            } else {
                self.tables.join(", ")
            },
            self.timeout.as_secs(),
            if self.holders.is_empty() {
                String::new()
            } else {
                format!(" [{}]", self.holders.join("; "))
            }
        )
    }
}
impl std::error::Error for TablesLocked {}

/// Tables locked per statement (one round trip each).
const LOCK_BATCH: usize = 500;

/// A source session holding an exported snapshot open.
pub struct SnapshotHolder {
    client: Client,
    id: String,
}

impl SnapshotHolder {
    /// Starts a REPEATABLE READ, READ ONLY transaction on `client` and exports its snapshot.
    pub async fn open(client: Client) -> anyhow::Result<SnapshotHolder> {
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .context("starting the snapshot transaction on the source")?;
        let row = client
            .query_typed_one("SELECT pg_catalog.pg_export_snapshot()", &[])
            .await
            .context("exporting a snapshot on the source (pg_export_snapshot)")?;
        let id: String = row.get(0);
        tracing::debug!(snapshot = %id, "exported source snapshot");
        Ok(SnapshotHolder { client, id })
    }

    /// Reads under a snapshot exported elsewhere (a replication slot's, for
    /// follow mode) instead of exporting one; `id` must stay importable (its
    /// exporter open) for as long as other sessions import it.
    pub async fn adopt(client: Client, id: &str) -> anyhow::Result<SnapshotHolder> {
        import_snapshot(&client, id).await?;
        Ok(SnapshotHolder {
            client,
            id: id.to_string(),
        })
    }

    /// The snapshot identifier to pass to `SET TRANSACTION SNAPSHOT`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The holder's session, which reads under the same snapshot.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// True when the holder's session ended: its snapshot cannot be imported.
    pub fn is_lost(&self) -> bool {
        self.client.is_closed()
    }

    /// Ends the snapshot transaction (and its table locks). A holder whose
    /// session already ended has nothing left to close.
    pub async fn close(self) -> anyhow::Result<()> {
        if self.client.is_closed() {
            return Ok(());
        }
        self.client
            .batch_execute("COMMIT")
            .await
            .context("closing the snapshot transaction")
    }

    /// Runs what follows (the catalog read) under a savepoint with
    /// `lock_timeout`: the size functions take ACCESS SHARE on each table,
    /// and a table another session holds in ACCESS EXCLUSIVE would make them
    /// wait forever. End with [`SnapshotHolder::end_lock_bound`], or after a
    /// lock timeout with [`SnapshotHolder::locked_tables`].
    pub async fn begin_lock_bound(&self, timeout: Duration) -> anyhow::Result<()> {
        self.client
            .batch_execute(&format!(
                "SAVEPOINT pgferry_bound; SET LOCAL lock_timeout = {}",
                timeout.as_millis().max(1)
            ))
            .await
            .context("setting lock_timeout for the catalog read")
    }

    /// Ends [`SnapshotHolder::begin_lock_bound`]: locks are waited for again.
    pub async fn end_lock_bound(&self) -> anyhow::Result<()> {
        self.client
            .batch_execute("SET LOCAL lock_timeout = 0; RELEASE SAVEPOINT pgferry_bound")
            .await
            .context("resetting lock_timeout after the catalog read")
    }

    /// After a lock timeout under [`SnapshotHolder::begin_lock_bound`]:
    /// the error naming every table of the database that another session
    /// holds or waits for in ACCESS EXCLUSIVE mode.
    pub async fn locked_tables(&self, timeout: Duration) -> anyhow::Error {
        if let Err(e) = self
            .client
            .batch_execute("ROLLBACK TO SAVEPOINT pgferry_bound; RELEASE SAVEPOINT pgferry_bound")
            .await
        {
            return anyhow::Error::new(e).context("after a lock timeout on the source");
        }
        const SQL: &str = "SELECT DISTINCT pg_catalog.quote_ident(n.nspname) || '.' || \
             pg_catalog.quote_ident(c.relname) \
             FROM pg_catalog.pg_locks l \
             JOIN pg_catalog.pg_class c ON c.oid = l.relation \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' \
               AND l.database = (SELECT oid FROM pg_catalog.pg_database \
                                 WHERE datname = pg_catalog.current_database()) \
               AND l.pid <> pg_catalog.pg_backend_pid() AND c.relkind IN ('r', 'p') \
             ORDER BY 1";
        let tables: Vec<String> = match self.client.query_typed(SQL, &[]).await {
            Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
            Err(e) => return anyhow::Error::new(e).context("after a lock timeout on the source"),
        };
        let mut holders = Vec::new();
        for t in &tables {
            holders.extend(self.lock_holders(t).await);
        }
        anyhow::Error::new(TablesLocked {
            tables,
            holders,
            timeout,
        })
    }

    /// Takes ACCESS SHARE on every table of `tables` (qualified, quoted
    /// names) in the snapshot transaction, until [`SnapshotHolder::close`].
    /// A table another session keeps locked for longer than `timeout` fails
    /// with [`TablesLocked`] naming it; the snapshot stays usable (each batch
    /// runs under a savepoint).
    pub async fn lock_tables(&self, tables: &[String], timeout: Duration) -> anyhow::Result<()> {
        let ms = timeout.as_millis().max(1);
        for batch in tables.chunks(LOCK_BATCH) {
            let sql = format!(
                "SAVEPOINT pgferry_lock; SET LOCAL lock_timeout = {ms}; \
                 LOCK TABLE {} IN ACCESS SHARE MODE; \
                 SET LOCAL lock_timeout = 0; RELEASE SAVEPOINT pgferry_lock",
                batch
                    .iter()
                    .map(|t| format!("ONLY {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let Err(e) = self.client.batch_execute(&sql).await else {
                continue;
            };
            if e.code() != Some(&SqlState::LOCK_NOT_AVAILABLE) {
                return Err(anyhow::Error::new(e).context("locking the source tables"));
            }
            self.client
                .batch_execute("ROLLBACK TO SAVEPOINT pgferry_lock; RELEASE SAVEPOINT pgferry_lock")
                .await
                .context("locking the source tables")?;
            self.lock_one_by_one(batch, timeout).await?;
        }
        Ok(())
    }

    /// After a batch timed out: locks its tables one at a time without
    /// waiting, to name those still held by others.
    async fn lock_one_by_one(&self, batch: &[String], timeout: Duration) -> anyhow::Result<()> {
        let mut locked = Vec::new();
        let mut holders = Vec::new();
        for t in batch {
            let sql = format!(
                "SAVEPOINT pgferry_lock; LOCK TABLE ONLY {t} IN ACCESS SHARE MODE NOWAIT; \
                 RELEASE SAVEPOINT pgferry_lock"
            );
            let Err(e) = self.client.batch_execute(&sql).await else {
                continue;
            };
            self.client
                .batch_execute("ROLLBACK TO SAVEPOINT pgferry_lock; RELEASE SAVEPOINT pgferry_lock")
                .await
                .context("locking the source tables")?;
            if e.code() != Some(&SqlState::LOCK_NOT_AVAILABLE) {
                return Err(anyhow::Error::new(e).context(format!("locking source table {t}")));
            }
            locked.push(t.clone());
            holders.extend(self.lock_holders(t).await);
        }
        if locked.is_empty() {
            return Ok(());
        }
        Err(anyhow::Error::new(TablesLocked {
            tables: locked,
            holders,
            timeout,
        }))
    }

    /// Sessions holding or waiting for ACCESS EXCLUSIVE on `table`, as
    /// `pid N (application): query` (empty when they cannot be read).
    async fn lock_holders(&self, table: &str) -> Vec<String> {
        const SQL: &str = "SELECT l.pid, l.granted, COALESCE(a.application_name, ''), \
             COALESCE(left(a.query, 80), '') \
             FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'relation' AND l.relation = pg_catalog.to_regclass($1) \
               AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_catalog.pg_backend_pid() \
             ORDER BY l.granted DESC, l.pid";
        let Ok(rows) = self.client.query(SQL, &[&table]).await else {
            return Vec::new();
        };
        rows.iter()
            .map(|r| {
                let (pid, granted, app, query): (i32, bool, String, String) =
                    (r.get(0), r.get(1), r.get(2), r.get(3));
                format!(
                    "{table}: pid {pid}{} {} ACCESS EXCLUSIVE{}",
                    if app.is_empty() {
                        String::new()
                    } else {
                        format!(" ({app})")
                    },
                    if granted { "holds" } else { "waits for" },
                    if query.is_empty() {
                        String::new()
                    } else {
                        format!(", last query: {query}")
                    }
                )
            })
            .collect()
    }
}

/// Tables a session reads in one transaction under an imported snapshot
/// before it ends it and imports the snapshot again: each read keeps a lock
/// on its table until then, and ten thousand tables fill the lock table
/// ("out of shared memory"). Copy workers and verify both read this way.
const RENEW_AFTER: usize = 64;

/// Counts one more table read by `client` under the snapshot `id`, and
/// first, every [`RENEW_AFTER`] reads, ends its transaction (its locks with
/// it) and imports the snapshot again.
pub async fn renew_snapshot(client: &Client, id: &str, reads: &mut usize) -> anyhow::Result<()> {
    if *reads >= RENEW_AFTER {
        client
            .batch_execute("COMMIT")
            .await
            .context("ending a transaction under the snapshot")?;
        import_snapshot(client, id).await?;
        *reads = 0;
    }
    *reads += 1;
    Ok(())
}

/// The server's lock table size: `max_locks_per_transaction` slots for
/// each of its possible sessions and prepared transactions, shared by all.
/// A transaction that locks or creates more relations than fit fails with
/// "out of shared memory".
pub async fn lock_slots(client: &Client) -> anyhow::Result<usize> {
    let row = client
        .query_typed_one(
            "SELECT pg_catalog.current_setting('max_locks_per_transaction')::int8 \
             * (pg_catalog.current_setting('max_connections')::int8 \
                + pg_catalog.current_setting('max_prepared_transactions')::int8)",
            &[],
        )
        .await
        .context("reading the size of the server's lock table")?;
    Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// Makes `client` read under the exported snapshot `id` until its transaction
/// ends. Fails with [`SnapshotLost`] when the snapshot no longer exists (the
/// session that exported it ended).
pub async fn import_snapshot(client: &Client, id: &str) -> anyhow::Result<()> {
    let r = client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SET TRANSACTION SNAPSHOT {}",
            crate::pg::quote_literal(id)
        ))
        .await;
    match r {
        Ok(()) => Ok(()),
        // "invalid snapshot identifier": its file went with the exporting
        // transaction.
        Err(e) if e.code() == Some(&SqlState::INVALID_PARAMETER_VALUE) => {
            tracing::debug!("importing snapshot {id}: {e}");
            Err(anyhow::Error::new(SnapshotLost))
        }
        Err(e) => {
            Err(anyhow::Error::new(e).context(format!("importing snapshot {id} on the source")))
        }
    }
}

/// True when `err` is a lock wait that ran into `lock_timeout` (55P03).
pub fn is_lock_timeout(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|code| *code == SqlState::LOCK_NOT_AVAILABLE)
    })
}
