//! Changes sent to the target in a pipeline: up to [`DEPTH`] statements are
//! on the wire before the first answer is awaited, so applying is not one
//! network round trip per change. Order is kept (tokio-postgres sends each
//! request when its future is first polled, and `join_all` of a few futures
//! polls them in order), and each answer is still checked: the first error
//! fails the batch (the target transaction is then rolled back and the
//! source transactions come again), and an UPDATE or DELETE must have
//! touched exactly one row.

use super::apply::Diverged;
use super::map::Bound;
use crate::repl::{Lsn, Value};
use anyhow::Context;
use bytes::BytesMut;
use postgres_types::{to_sql_checked, Format, IsNull, ToSql, Type};
use std::collections::HashMap;
use tokio_postgres::{Client, Statement};

/// Statements in flight at most. `join_all` keeps poll order for up to 30
/// futures (above that it switches to an unordered set).
pub const DEPTH: usize = 30;

/// A value bound in text form, whatever the column's type: the server
/// parses it as it parses the source's output.
#[derive(Debug)]
struct Text<'a>(Option<&'a str>);

impl ToSql for Text<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            None => Ok(IsNull::Yes),
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    fn encode_format(&self, _: &Type) -> Format {
        Format::Text
    }
    to_sql_checked!();
}

/// One queued change.
struct Queued {
    statement: Statement,
    sql: String,
    params: Vec<Option<String>>,
    /// `(what, table)` when exactly one row must be touched.
    one_row: Option<(&'static str, String)>,
    /// The source transaction's commit position, for messages.
    lsn: Lsn,
}

/// Prepared statements by SQL, and the changes not yet sent.
#[derive(Default)]
pub struct Pipeline {
    statements: HashMap<String, Statement>,
    queued: Vec<Queued>,
}

impl Pipeline {
    /// Queues a change; sends the queue when it is full.
    pub async fn queue(
        &mut self,
        target: &Client,
        b: &Bound,
        new: &[Value],
        old: &[Value],
        one_row: Option<(&'static str, String)>,
        lsn: Lsn,
    ) -> anyhow::Result<()> {
        let statement = match self.statements.get(&b.sql) {
            Some(s) => s.clone(),
            None => {
                let s = target
                    .prepare(&b.sql)
                    .await
                    .with_context(|| format!("preparing {}", b.sql))?;
                self.statements.insert(b.sql.clone(), s.clone());
                s
            }
        };
        let params = b
            .params
            .iter()
            .map(|(tuple, i)| {
                let v = if *tuple == 0 {
                    new.get(*i)
                } else {
                    old.get(*i)
                };
                v.and_then(Value::as_text).map(str::to_string)
            })
            .collect();
        self.queued.push(Queued {
            statement,
            sql: b.sql.clone(),
            params,
            one_row,
            lsn,
        });
        if self.queued.len() >= DEPTH {
            self.flush(target).await?;
        }
        Ok(())
    }

    /// Sends every queued change and checks the answers.
    pub async fn flush(&mut self, target: &Client) -> anyhow::Result<()> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let queued = std::mem::take(&mut self.queued);
        let params: Vec<Vec<Text>> = queued
            .iter()
            .map(|q| q.params.iter().map(|p| Text(p.as_deref())).collect())
            .collect();
        let futures = queued
            .iter()
            .zip(&params)
            .map(|(q, p)| target.execute_raw(&q.statement, p.iter()));
        let results = futures_util::future::join_all(futures).await;
        for (q, r) in queued.iter().zip(results) {
            let n =
                r.with_context(|| format!("applying {} (source transaction at {})", q.sql, q.lsn))?;
            if let Some((what, table)) = &q.one_row {
                if n != 1 {
                    return Err(Diverged {
                        what: format!(
                            "{what} of {table} matched {n} rows on the target instead of 1"
                        ),
                        lsn: q.lsn,
                    }
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Forgets what is queued (the target transaction was rolled back).
    pub fn clear(&mut self) {
        self.queued.clear();
    }
}
