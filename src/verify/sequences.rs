//! Sequence values on both ends: `last_value` and `is_called` of every
//! selected sequence (identity columns' too), which migrate sets after the
//! data. A sequence behind the source would hand out keys that already
//! exist, so a difference is a failed verify like a differing row.
//!
//! Sequences are not transactional: both ends are read as they are now, not
//! under the snapshot; with writes stopped on the source (the rule during a
//! migration) that is the same thing.

use super::session::missing_on_target;
use crate::plan::{Plan, SequenceValue};
use anyhow::Context;
use serde::Serialize;
use std::fmt::Write;
use tokio_postgres::Client;

/// One sequence's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct SequenceCheck {
    /// Quoted source name (also the name in the report).
    pub sequence: String,
    /// Quoted name on the target, when renamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    pub source_last_value: i64,
    pub source_is_called: bool,
    /// `None` when the sequence is missing on the target.
    pub target_last_value: Option<i64>,
    pub target_is_called: Option<bool>,
    pub equal: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Sequences read per query (one `UNION ALL` each): thousands of sequences
/// cost a few round trips, not thousands.
const BATCH: usize = 500;

/// `(last_value, is_called)` of each name, in order; `Err` with the server's
/// message when one of them does not exist.
async fn read_values(
    client: &Client,
    names: &[&str],
) -> Result<Vec<(i64, bool)>, tokio_postgres::Error> {
    let sql = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("SELECT {i}, last_value, is_called FROM {n}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows = client.query_typed(&sql, &[]).await?;
    let mut out = vec![(0, false); names.len()];
    for r in rows {
        let i: i32 = r.get(0);
        if let Some(slot) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            *slot = (r.get(1), r.get(2));
        }
    }
    Ok(out)
}

/// The target's values of one batch; when a sequence is missing, each is
/// read alone to tell which.
async fn read_target(
    client: &Client,
    batch: &[SequenceValue],
) -> anyhow::Result<Vec<Result<(i64, bool), String>>> {
    let names: Vec<&str> = batch.iter().map(|s| s.target.as_str()).collect();
    match read_values(client, &names).await {
        Ok(v) => return Ok(v.into_iter().map(Ok).collect()),
        Err(e) if missing_on_target(&e).is_some() => {}
        Err(e) => return Err(anyhow::Error::new(e).context("reading sequences on the target")),
    }
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        match read_values(client, &[n]).await {
            Ok(v) => out.push(Ok(v.first().copied().unwrap_or((0, false)))),
            Err(e) => match missing_on_target(&e) {
                Some(m) => out.push(Err(format!("missing on the target: {m}"))),
                None => {
                    return Err(anyhow::Error::new(e).context(format!("reading {n} on the target")))
                }
            },
        }
    }
    Ok(out)
}

/// Compares every sequence of the plan, reading both ends as they are.
pub async fn compare_sequences(
    source: &Client,
    target: &Client,
    plan: &Plan,
) -> anyhow::Result<Vec<SequenceCheck>> {
    let mut out = Vec::with_capacity(plan.sequences.len());
    for batch in plan.sequences.chunks(BATCH) {
        let names: Vec<&str> = batch.iter().map(|s| s.source.as_str()).collect();
        let src = read_values(source, &names)
            .await
            .with_context(|| format!("reading sequences on the source ({} ...)", names[0]))?;
        let dst = read_target(target, batch).await?;
        for ((sv, (value, called)), t) in batch.iter().zip(src).zip(dst) {
            let (tv, note) = match t {
                Ok(v) => (Some(v), None),
                Err(n) => (None, Some(n)),
            };
            out.push(SequenceCheck {
                sequence: sv.source.clone(),
                target_name: (sv.target != sv.source).then(|| sv.target.clone()),
                source_last_value: value,
                source_is_called: called,
                target_last_value: tv.map(|v| v.0),
                target_is_called: tv.map(|v| v.1),
                equal: tv == Some((value, called)),
                note,
            });
        }
    }
    out.sort_by(|a, b| a.sequence.cmp(&b.sequence));
    Ok(out)
}

/// The human report: one line per differing sequence and a count.
pub fn sequences_text(seqs: &[SequenceCheck]) -> String {
    let mut out = String::new();
    for s in seqs.iter().filter(|s| !s.equal) {
        let target = match (s.target_last_value, s.target_is_called, &s.note) {
            (_, _, Some(note)) => note.clone(),
            (Some(v), Some(c), None) => format!("target last_value {v} is_called {c}"),
            _ => "target unreadable".to_string(),
        };
        let _ = writeln!(
            out,
            "DIFFERENT: sequence {}: source last_value {} is_called {}, {target}",
            s.sequence, s.source_last_value, s.source_is_called
        );
    }
    if !seqs.is_empty() {
        let bad = seqs.iter().filter(|s| !s.equal).count();
        let _ = writeln!(
            out,
            "{} sequences compared, {} equal, {bad} different",
            seqs.len(),
            seqs.len() - bad
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_differing_sequences() {
        let mk = |name: &str, t: Option<(i64, bool)>| SequenceCheck {
            sequence: name.to_string(),
            target_name: None,
            source_last_value: 7,
            source_is_called: true,
            target_last_value: t.map(|v| v.0),
            target_is_called: t.map(|v| v.1),
            equal: t == Some((7, true)),
            note: t.is_none().then(|| "missing on the target: x".to_string()),
        };
        let text = sequences_text(&[
            mk("public.a", Some((7, true))),
            mk("public.b", Some((1, false))),
            mk("public.c", None),
        ]);
        assert!(text.contains("DIFFERENT: sequence public.b: source last_value 7 is_called true, target last_value 1 is_called false"), "{text}");
        assert!(
            text.contains("sequence public.c: source last_value 7 is_called true, missing"),
            "{text}"
        );
        assert!(!text.contains("public.a"), "{text}");
        assert!(
            text.ends_with("3 sequences compared, 1 equal, 2 different\n"),
            "{text}"
        );
        assert_eq!(sequences_text(&[]), "");
    }
}
