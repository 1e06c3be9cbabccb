//! The ledger of test data (issue #12 §3): every resource a step created, written the
//! moment it is created (so a SIGKILLed run leaves it), and marked removed when a cleanup
//! step succeeds for it. Also the run's row written when the run starts (verdict
//! `running`), so an unfinished run is visible.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::backend::Val;
use crate::error::StoreError;
use crate::store::{Store, time_text};

/// The verdict of a run whose end was never recorded (still running, or killed).
pub const RUNNING: &str = "running";

/// What the run's row holds before the run ends.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// The run's id.
    pub run_id: String,
    /// The environment it runs against.
    pub environment: String,
    /// This binary's version.
    pub rehearse_version: String,
    /// `git rev-parse HEAD` of the suite, when it is a repository.
    pub git_commit: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

/// A resource a step created: a 2xx to a POST/PUT whose response id the step captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The run that created it.
    pub run_id: String,
    /// The environment it lives in.
    pub environment: String,
    /// The scenario file, as the run named it (relative to the suite's root).
    pub scenario_path: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// The creating step's index in `steps`.
    pub step_idx: usize,
    /// The creating step's name.
    pub step_name: String,
    /// The request's method (`POST`, `PUT`).
    pub method: String,
    /// The request's URL, masked.
    pub url: String,
    /// The id the step captured from the response.
    pub resource_id: String,
    /// The captured values the cleanup steps use, secret-derived ones left out.
    pub captures: BTreeMap<String, String>,
    /// The scenario's cleanup steps that use it, by index in `cleanup`.
    pub cleanup: Vec<usize>,
}

/// A ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The entry's id (run, scenario, step and resource id).
    pub id: String,
    /// What was created.
    pub created: Created,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When a cleanup step removed it.
    pub removed_at: Option<DateTime<Utc>>,
    /// Why the last cleanup of it failed, if one did.
    pub cleanup_error: Option<String>,
}

const UPSERT_RUN_START: &str = "INSERT INTO runs (id, environment, rehearse_version, deployed_version, bank_api_version, git_commit, started_at, ended_at, verdict, exit_code, interrupted) VALUES ($1, $2, $3, NULL, NULL, $4, $5, $5, $6, -1, 0) ON CONFLICT (id) DO NOTHING";
const INSERT_CREATED: &str = "INSERT INTO ledger (id, run_id, environment, scenario_path, scenario_name, step_idx, step_name, method, url, resource_id, created_at, captures, cleanup) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING";
const PENDING: &str = "SELECT id, run_id, environment, scenario_path, scenario_name, step_idx, step_name, method, url, resource_id, created_at, captures, cleanup, removed_at, cleanup_error FROM ledger WHERE removed_at IS NULL AND ($1 = '' OR environment = $1) ORDER BY created_at, id";
// SQLite numbers `$N` parameters in order of first appearance, not by N: each statement
// names them in order.
const MARK_REMOVED: &str =
    "UPDATE ledger SET removed_at = $1, removed_by_run = $2, cleanup_error = NULL WHERE id = $3";
const MARK_FAILED: &str = "UPDATE ledger SET cleanup_error = $1 WHERE id = $2";

impl Store {
    /// Writes the run's row as the run starts, with verdict [`RUNNING`]; the row
    /// [`Store::record`] writes at the end replaces it.
    pub async fn record_start(&self, run: &RunStart) -> Result<(), StoreError> {
        let row = vec![
            Val::text(&run.run_id),
            Val::text(&run.environment),
            Val::text(&run.rehearse_version),
            Val::opt(run.git_commit.as_deref()),
            Val::text(time_text(run.started_at)),
            Val::text(RUNNING),
        ];
        self.write(vec![(UPSERT_RUN_START, vec![row])]).await
    }

    /// Records a created resource at once and returns its entry's id. Recording the
    /// same one twice is a no-op.
    pub async fn record_created(
        &self,
        c: &Created,
        at: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let id = entry_id(c);
        let row = vec![
            Val::text(&id),
            Val::text(&c.run_id),
            Val::text(&c.environment),
            Val::text(&c.scenario_path),
            Val::text(&c.scenario_name),
            Val::int(c.step_idx),
            Val::text(&c.step_name),
            Val::text(&c.method),
            Val::text(&c.url),
            Val::text(&c.resource_id),
            Val::text(time_text(at)),
            Val::text(json_object(&c.captures)),
            Val::text(json_array(&c.cleanup)),
        ];
        self.write(vec![(INSERT_CREATED, vec![row])]).await?;
        Ok(id)
    }

    /// What was created and never removed, oldest first; in one environment, or all
    /// when `environment` is `None`.
    pub async fn pending(&self, environment: Option<&str>) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows = self
            .rows(PENDING, vec![Val::text(environment.unwrap_or(""))])
            .await?;
        rows.iter().map(|r| self.entry_of(r)).collect()
    }

    /// Marks an entry removed by a cleanup step of `run_id` that succeeded.
    pub async fn mark_removed(
        &self,
        id: &str,
        run_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = vec![Val::text(time_text(at)), Val::text(run_id), Val::text(id)];
        self.write(vec![(MARK_REMOVED, vec![row])]).await
    }

    /// Notes why a cleanup of an entry failed (masked text); the entry stays pending.
    pub async fn mark_cleanup_failed(&self, id: &str, error: &str) -> Result<(), StoreError> {
        let row = vec![Val::text(error), Val::text(id)];
        self.write(vec![(MARK_FAILED, vec![row])]).await
    }

    fn entry_of(&self, r: &[Val]) -> Result<LedgerEntry, StoreError> {
        let text = |i: usize| r.get(i).and_then(Val::as_text).unwrap_or("").to_owned();
        let bad = |what: &str| StoreError::Query {
            url: self.url().to_string(),
            reason: format!("ledger entry {} has an unreadable {what}", text(0)),
        };
        let time = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
            match r.get(i).and_then(Val::as_text) {
                None => Ok(None),
                Some(t) => DateTime::parse_from_rfc3339(t)
                    .map(|t| Some(t.with_timezone(&Utc)))
                    .map_err(|_| bad("time")),
            }
        };
        let captures: BTreeMap<String, String> =
            serde_json::from_str(&text(11)).map_err(|_| bad("captures"))?;
        let cleanup: Vec<usize> = serde_json::from_str(&text(12)).map_err(|_| bad("cleanup"))?;
        Ok(LedgerEntry {
            id: text(0),
            created: Created {
                run_id: text(1),
                environment: text(2),
                scenario_path: text(3),
                scenario_name: text(4),
                step_idx: r
                    .get(5)
                    .and_then(Val::as_int)
                    .and_then(|i| usize::try_from(i).ok())
                    .ok_or_else(|| bad("step index"))?,
                step_name: text(6),
                method: text(7),
                url: text(8),
                resource_id: text(9),
                captures,
                cleanup,
            },
            created_at: time(10)?.ok_or_else(|| bad("creation time"))?,
            removed_at: time(13)?,
            cleanup_error: r.get(14).and_then(Val::as_text).map(str::to_owned),
        })
    }
}

/// An entry's id: unique per run, scenario file, step and resource id.
fn entry_id(c: &Created) -> String {
    format!(
        "{}/{}#{}/{}",
        c.run_id, c.scenario_path, c.step_idx, c.resource_id
    )
}

fn json_object(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_owned())
}

fn json_array(v: &[usize]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}
