//! A run read back from the store (`rehearse report merge --run RUN_ID`): the shards of a
//! sharded run joined into one [`RunResult`], for the same reporters a live run uses.
//!
//! What the store keeps is what comes back: scenarios, steps (with their failure),
//! attempts (method, URL, status code, masked excerpts of the bodies) and pre-flight checks.
//! What it does not keep does not: tags, captures, headers. Steps and attempts are a JSON
//! document in the scenario's row since schema 6 (crate::doc); a run recorded before keeps
//! them in rows of their own, whose failures are stored as text and split back here.

use std::time::Duration;

use rehearse_runner::{
    Attempt, CheckResult, Failure, RequestRecord, ResponseRecord, RunResult, ScenarioResult,
    Status, StepResult,
};

use crate::backend::Val;
use crate::error::StoreError;
use crate::store::Store;

/// A run as the store holds it, and which of its shards were recorded.
#[derive(Debug, Clone)]
pub struct StoredRun {
    /// The run joined over its shards.
    pub result: RunResult,
    /// The exit code recorded (the worst of its shards').
    pub exit_code: u8,
    /// The shards recorded, 1-based, sorted; empty for a run that was not sharded.
    pub shards: Vec<u32>,
    /// How many shards the run has, when it was sharded.
    pub total: Option<u32>,
}

impl StoredRun {
    /// The shards not (yet) recorded, 1-based.
    pub fn missing_shards(&self) -> Vec<u32> {
        let Some(total) = self.total else {
            return Vec::new();
        };
        (1..=total).filter(|k| !self.shards.contains(k)).collect()
    }
}

fn text(row: &[Val], i: usize) -> String {
    row.get(i)
        .and_then(Val::as_text)
        .unwrap_or_default()
        .to_owned()
}

fn opt_text(row: &[Val], i: usize) -> Option<String> {
    row.get(i).and_then(Val::as_text).map(str::to_owned)
}

fn int(row: &[Val], i: usize) -> i64 {
    row.get(i).and_then(Val::as_int).unwrap_or(0)
}

fn millis(row: &[Val], i: usize) -> Duration {
    Duration::from_millis(u64::try_from(int(row, i)).unwrap_or(0))
}

fn opt_millis(row: &[Val], i: usize) -> Option<Duration> {
    row.get(i)
        .and_then(Val::as_int)
        .map(|m| Duration::from_millis(u64::try_from(m).unwrap_or(0)))
}

fn status(s: &str) -> Status {
    match s {
        "passed" => Status::Passed,
        "flaky" => Status::Flaky,
        "failed" => Status::Failed,
        "error" => Status::Error,
        "interrupted" => Status::Interrupted,
        _ => Status::Skipped,
    }
}

/// A failure stored as its text (`check: expected X, got Y`) back into its parts.
fn failure(text: &str, location: &str) -> Failure {
    let (check, rest) = text.split_once(": expected ").unwrap_or((text, ""));
    let (expected, actual) = rest.rsplit_once(", got ").unwrap_or((rest, ""));
    Failure {
        check: check.to_owned(),
        expected: expected.to_owned(),
        actual: actual.to_owned(),
        location: Some(location.to_owned()),
        source_line: None,
    }
}

impl Store {
    /// The run `id`, joined over its shards; `None` when the store has no such run.
    pub async fn load_run(&self, id: &str) -> Result<Option<StoredRun>, StoreError> {
        let runs = self
            .rows(
                "SELECT environment, rehearse_version, bank_api_version, started_at, ended_at, verdict, exit_code, interrupted FROM runs WHERE id = $1",
                vec![Val::text(id)],
            )
            .await?;
        let Some(run) = runs.first() else {
            return Ok(None);
        };
        let started_at = chrono::DateTime::parse_from_rfc3339(&text(run, 3))
            .map_or_else(|_| chrono::Utc::now(), |t| t.with_timezone(&chrono::Utc));
        let ended_at = chrono::DateTime::parse_from_rfc3339(&text(run, 4))
            .map_or(started_at, |t| t.with_timezone(&chrono::Utc));
        let verdict = text(run, 5);
        let exit_code = u8::try_from(int(run, 6)).unwrap_or(u8::MAX);
        let mut legacy = false;
        let mut scenarios: Vec<(i64, ScenarioResult)> = self
            .rows(
                "SELECT idx, path, name, owner, status, duration_ms, retries, steps FROM scenarios WHERE run_id = $1 ORDER BY idx",
                vec![Val::text(id)],
            )
            .await?
            .iter()
            .map(|r| {
                // Schema 6 on: the steps in the row (crate::doc); before, rows of their own.
                let (steps, cleanup) = match r.get(7).and_then(Val::as_text) {
                    Some(json) => crate::doc::parse_steps(json).unwrap_or_default(),
                    None => {
                        legacy = true;
                        (Vec::new(), Vec::new())
                    }
                };
                (
                    int(r, 0),
                    ScenarioResult {
                        path: text(r, 1),
                        name: text(r, 2),
                        tags: Vec::new(),
                        owner: opt_text(r, 3),
                        status: status(&text(r, 4)),
                        duration: millis(r, 5),
                        steps,
                        cleanup,
                        retries: u32::try_from(int(r, 6)).unwrap_or(0),
                    },
                )
            })
            .collect();
        if legacy {
            self.legacy_steps(id, &mut scenarios).await?;
        }
        let checks: Vec<CheckResult> = self
            .rows(
                "SELECT name, kind, owner, status, evidence, duration_ms, location FROM checks WHERE run_id = $1 ORDER BY idx",
                vec![Val::text(id)],
            )
            .await?
            .iter()
            .map(|r| CheckResult {
                name: text(r, 0),
                kind: text(r, 1),
                owner: opt_text(r, 2),
                hint: None,
                ticket: None,
                status: status(&text(r, 3)),
                evidence: text(r, 4),
                duration: millis(r, 5),
                location: opt_text(r, 6),
                required_by: Vec::new(),
            })
            .collect();
        // As `rehearse report merge` joins shards' JSON reports: each shard ran the
        // pre-flight checks, kept once per name with a failure on any shard winning.
        let mut preflight: Vec<CheckResult> = Vec::new();
        for c in checks {
            match preflight.iter_mut().find(|k| k.name == c.name) {
                Some(kept) if kept.status == Status::Passed && c.status != Status::Passed => {
                    *kept = c;
                }
                Some(_) => {}
                None => preflight.push(c),
            }
        }
        let shard_rows = self
            .rows(
                "SELECT shard, total FROM run_shards WHERE run_id = $1 ORDER BY shard",
                vec![Val::text(id)],
            )
            .await?;
        let shards: Vec<u32> = shard_rows
            .iter()
            .filter_map(|r| u32::try_from(int(r, 0)).ok())
            .collect();
        let total = shard_rows
            .iter()
            .filter_map(|r| u32::try_from(int(r, 1)).ok())
            .max();
        let aborted =
            (!matches!(verdict.as_str(), "passed" | "failed" | "interrupted")).then(|| {
                rehearse_runner::Aborted {
                    reason: verdict.clone(),
                    problems: Vec::new(),
                }
            });
        let result = RunResult {
            run_id: id.to_owned(),
            environment: text(run, 0),
            started_at,
            duration: (ended_at - started_at).to_std().unwrap_or_default(),
            scenarios: {
                // Sorted by path as a merge of JSON reports is; stable, so a path run by
                // one shard keeps its order.
                let mut all: Vec<ScenarioResult> = scenarios.into_iter().map(|(_, s)| s).collect();
                all.sort_by(|a, b| a.path.cmp(&b.path));
                all
            },
            interrupted: int(run, 7) != 0,
            preflight,
            rehearse_version: text(run, 1),
            bank_api_version: opt_text(run, 2),
            aborted,
        };
        Ok(Some(StoredRun {
            result,
            exit_code,
            shards,
            total,
        }))
    }

    /// The steps and attempts of a run recorded before schema 6, from their own tables,
    /// into its scenarios (by index).
    async fn legacy_steps(
        &self,
        id: &str,
        scenarios: &mut [(i64, ScenarioResult)],
    ) -> Result<(), StoreError> {
        let steps = self
            .rows(
                "SELECT scenario_idx, idx, phase, name, location, status, offset_ms, duration_ms, failure FROM steps WHERE run_id = $1 ORDER BY scenario_idx, idx",
                vec![Val::text(id)],
            )
            .await?;
        let attempts = self
            .rows(
                "SELECT scenario_idx, step_idx, number, method, url, status_code, offset_ms, duration_ms, error, request_excerpt, response_excerpt FROM attempts WHERE run_id = $1 ORDER BY scenario_idx, step_idx, number",
                vec![Val::text(id)],
            )
            .await?;
        let at: std::collections::HashMap<i64, usize> = scenarios
            .iter()
            .enumerate()
            .map(|(n, (i, _))| (*i, n))
            .collect();
        let mut attempts = attempts.iter().peekable();
        for r in &steps {
            let (si, ti) = (int(r, 0), int(r, 1));
            let location = text(r, 4);
            let mut step = StepResult {
                offset: opt_millis(r, 6),
                name: text(r, 3),
                location: location.clone(),
                status: status(&text(r, 5)),
                duration: millis(r, 7),
                attempts: Vec::new(),
                failure: opt_text(r, 8).map(|f| failure(&f, &location)),
                captures: Vec::new(),
            };
            // Attempts come in the same order as steps: skip any of a step not found.
            while let Some(a) = attempts.next_if(|a| (int(a, 0), int(a, 1)) <= (si, ti)) {
                if (int(a, 0), int(a, 1)) != (si, ti) {
                    continue;
                }
                step.attempts.push(Attempt {
                    offset: opt_millis(a, 6),
                    number: u32::try_from(int(a, 2)).unwrap_or(0),
                    request: RequestRecord {
                        method: text(a, 3),
                        url: text(a, 4),
                        headers: Vec::new(),
                        body: opt_text(a, 9),
                    },
                    response: a.get(5).and_then(Val::as_int).map(|code| ResponseRecord {
                        status: u16::try_from(code).unwrap_or(0),
                        headers: Vec::new(),
                        body: opt_text(a, 10).unwrap_or_default(),
                    }),
                    duration: millis(a, 7),
                    error: opt_text(a, 8),
                    failures: Vec::new(),
                });
            }
            if let Some((_, s)) = at.get(&si).and_then(|n| scenarios.get_mut(*n)) {
                if text(r, 2) == "cleanup" {
                    s.cleanup.push(step);
                } else {
                    s.steps.push(step);
                }
            }
        }
        Ok(())
    }
}
