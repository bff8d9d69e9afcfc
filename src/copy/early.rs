//! Index builds that start as soon as their table's rows are all in, on copy
//! workers that have no data left to copy, instead of after the whole data
//! phase: the tail of the data phase (one worker still copying the last big
//! table, the others idle) builds the other tables' indexes.
//!
//! Only the expensive, independent part moves here: building the indexes of
//! a loaded table (plain ones and the unique indexes behind its primary key
//! and unique constraints). Attaching constraints, foreign keys and the rest
//! stay in post-data, in plan order, which skips what was built here.

use crate::exec::{barrier, run_step, step_phase, Pending};
use crate::plan::Step;
use crate::state::State;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use tokio_postgres::Client;

#[derive(Default)]
struct Inner {
    /// Units of each table not copied yet.
    units_left: HashMap<String, usize>,
    /// Steps of tables still being copied.
    waiting: HashMap<String, Vec<Step>>,
    /// Steps whose table is complete.
    ready: VecDeque<Step>,
    /// Keys of the steps done here, for post-data to skip.
    done: HashSet<String>,
    /// Keys of steps that may have committed without being known durable
    /// (or recorded): post-data runs them again and takes "already exists"
    /// as done.
    unconfirmed: HashSet<String>,
}

/// Index builds waiting for their tables, shared by the copy workers.
#[derive(Default)]
pub struct EarlySteps {
    inner: Mutex<Inner>,
    state: Option<State>,
}

impl EarlySteps {
    /// `steps` maps each table (target name) to its early steps; `units`
    /// lists the table of every unit about to be copied. Tables with no unit
    /// left to copy (a resumed run) have their steps ready at once.
    pub fn new(
        steps: HashMap<String, Vec<Step>>,
        units: impl Iterator<Item = String>,
        state: Option<State>,
    ) -> EarlySteps {
        let mut inner = Inner::default();
        for t in units {
            *inner.units_left.entry(t).or_default() += 1;
        }
        for (table, s) in steps {
            if inner.units_left.contains_key(&table) {
                inner.waiting.insert(table, s);
            } else {
                inner.ready.extend(s);
            }
        }
        EarlySteps {
            inner: Mutex::new(inner),
            state,
        }
    }

    /// Records that one unit of `table` is in; its steps become ready with the last.
    pub fn unit_done(&self, table: &str) {
        let Ok(mut g) = self.inner.lock() else { return };
        let left = g.units_left.get_mut(table).map(|n| {
            *n = n.saturating_sub(1);
            *n
        });
        if left == Some(0) {
            if let Some(s) = g.waiting.remove(table) {
                g.ready.extend(s);
            }
        }
    }

    /// The next ready step, whether steps still wait for tables, and whether
    /// rows are still being copied.
    fn next(&self) -> (Option<Step>, bool, bool) {
        match self.inner.lock() {
            Ok(mut g) => {
                let s = g.ready.pop_front();
                let more = !g.waiting.is_empty();
                let copying = g.units_left.values().any(|n| *n > 0);
                (s, more, copying)
            }
            Err(_) => (None, false, false),
        }
    }

    /// Runs ready steps on `client` until none is ready. Returns whether steps
    /// are still waiting for tables other workers copy. A failed build is
    /// left to post-data, which redoes it and reports the error there.
    pub async fn run_ready(&self, client: &Client) -> bool {
        let mut ran: Pending<(String, Step)> = Pending::default();
        // The parallel-build setting sent to this session, sent again only
        // when it changes (not once per index of thousands of small tables).
        let mut parallel_set: Option<bool> = None;
        let more = loop {
            let (step, more, copying) = self.next();
            let Some(step) = step else { break more };
            let key = step.key();
            if self
                .state
                .as_ref()
                .is_some_and(|s| s.step_done(&key).unwrap_or(false))
            {
                self.mark(key);
                continue;
            }
            // While other workers copy, every core is already busy: parallel
            // index-build workers only add their start-up, temp files and
            // merge (measured: 0.3 s more target CPU on the bench). Once the
            // copies are over, the server may use idle cores for the last
            // builds. Older servers without the setting ignore the error.
            if parallel_set != Some(copying) {
                let sql = if copying {
                    "SET max_parallel_maintenance_workers = 0"
                } else {
                    "RESET max_parallel_maintenance_workers"
                };
                client.batch_execute(sql).await.ok();
                parallel_set = Some(copying);
            }
            match run_step(client, &step).await {
                Ok(()) => {
                    ran.push((key, step), 0);
                    if ran.due() {
                        self.settle(client, &mut ran).await;
                    }
                }
                Err(e) => {
                    tracing::debug!(
                        "early {} {} failed ({e:#}); post-data redoes it",
                        step.kind,
                        step.object
                    );
                    self.unconfirmed(key);
                }
            }
        };
        self.settle(client, &mut ran).await;
        more
    }

    /// Records the steps run since the last call, once a barrier made them
    /// durable; without it they are left to post-data.
    async fn settle(&self, client: &Client, ran: &mut Pending<(String, Step)>) {
        if ran.is_empty() {
            return;
        }
        let steps = ran.take();
        if let Err(e) = barrier(client).await {
            tracing::debug!("early index builds not known durable ({e}); post-data checks them");
            for (key, _) in steps {
                self.unconfirmed(key);
            }
            return;
        }
        for (key, step) in steps {
            if let Some(st) = &self.state {
                if st
                    .mark_step(&key, step_phase(&step), step.kind.label(), &step.object)
                    .is_err()
                {
                    self.unconfirmed(key);
                    continue;
                }
            }
            self.mark(key);
        }
    }

    fn unconfirmed(&self, key: String) {
        if let Ok(mut g) = self.inner.lock() {
            g.unconfirmed.insert(key);
        }
    }

    /// Keys of steps that ran here but are not known durable or recorded.
    pub fn not_confirmed(&self) -> HashSet<String> {
        self.inner
            .lock()
            .map(|g| g.unconfirmed.clone())
            .unwrap_or_default()
    }

    fn mark(&self, key: String) {
        if let Ok(mut g) = self.inner.lock() {
            g.done.insert(key);
        }
    }

    /// Drops every step not started: a copy failed, so the data phase ends
    /// with an error and no worker may wait for tables that will not finish.
    pub fn abandon(&self) {
        if let Ok(mut g) = self.inner.lock() {
            g.waiting.clear();
            g.ready.clear();
        }
    }

    /// Keys of the steps done here.
    pub fn done(&self) -> HashSet<String> {
        self.inner
            .lock()
            .map(|g| g.done.clone())
            .unwrap_or_default()
    }
}
