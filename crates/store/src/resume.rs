//! Resumable runs (issue #12 §2): how to compile a run again, and each waiting-capable
//! scenario's place, written at its step boundaries (so a SIGKILLed run can be resumed).

use chrono::Utc;
use rehearse_runner::Checkpoint;
use serde::{Deserialize, Serialize};

use crate::backend::Val;
use crate::error::StoreError;
use crate::store::{Store, time_text};

/// A scenario of a resumable run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumableScenario {
    /// Its path as the run named it.
    pub path: String,
    /// Its path under the suite's root.
    pub rel: String,
    /// SHA-256 of its text, hex.
    pub hash: String,
}

/// How to compile a resumable run again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumable {
    /// The run.
    pub run_id: String,
    /// The suite's root, absolute.
    pub root: String,
    /// `--env` as given: a name, or an absolute file path.
    pub environment: String,
    /// `--approvals`, when given.
    pub approvals: Option<String>,
    /// The run's scenarios.
    pub scenarios: Vec<ResumableScenario>,
    /// `running`, `suspended` or `finished`.
    pub state: String,
}

const UPSERT_RESUMABLE: &str = "INSERT INTO resumable (run_id, root, environment, approvals, scenarios, state, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO UPDATE SET root = excluded.root, environment = excluded.environment, approvals = excluded.approvals, scenarios = excluded.scenarios, state = excluded.state, updated_at = excluded.updated_at";
const SET_STATE: &str = "UPDATE resumable SET state = $1, updated_at = $2 WHERE run_id = $3";
const SET_VERDICT: &str = "UPDATE runs SET verdict = $1 WHERE id = $2";
const UPSERT_CHECKPOINT: &str = "INSERT INTO checkpoints (run_id, scenario_path, updated_at, checkpoint) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, scenario_path) DO UPDATE SET updated_at = excluded.updated_at, checkpoint = excluded.checkpoint";
const SELECT_RESUMABLE: &str = "SELECT run_id, root, environment, approvals, scenarios, state FROM resumable WHERE run_id = $1";
const SELECT_CHECKPOINTS: &str =
    "SELECT checkpoint FROM checkpoints WHERE run_id = $1 ORDER BY scenario_path";
const FORGET: [&str; 4] = [
    "DELETE FROM attempts WHERE run_id = $1",
    "DELETE FROM steps WHERE run_id = $1",
    "DELETE FROM scenarios WHERE run_id = $1",
    "DELETE FROM checks WHERE run_id = $1",
];

impl Store {
    /// Writes (or rewrites) how to compile a resumable run again.
    pub async fn record_resumable(&self, r: &Resumable) -> Result<(), StoreError> {
        let row = vec![
            Val::text(&r.run_id),
            Val::text(&r.root),
            Val::text(&r.environment),
            Val::opt(r.approvals.as_deref()),
            Val::text(serde_json::to_string(&r.scenarios).unwrap_or_else(|_| "[]".to_owned())),
            Val::text(&r.state),
            Val::text(time_text(Utc::now())),
        ];
        self.write(vec![(UPSERT_RESUMABLE, vec![row])]).await
    }

    /// A resumable run's state: `suspended` also sets the run's verdict to `suspended`.
    pub async fn set_resumable_state(&self, run_id: &str, state: &str) -> Result<(), StoreError> {
        let mut batches = vec![(
            SET_STATE,
            vec![vec![
                Val::text(state),
                Val::text(time_text(Utc::now())),
                Val::text(run_id),
            ]],
        )];
        if state == "suspended" {
            batches.push((SET_VERDICT, vec![vec![Val::text(state), Val::text(run_id)]]));
        }
        self.write(batches).await
    }

    /// Writes a scenario's place in a run (replacing the one before).
    pub async fn save_checkpoint(&self, run_id: &str, c: &Checkpoint) -> Result<(), StoreError> {
        let text = serde_json::to_string(c).map_err(|e| StoreError::Query {
            url: self.url().to_string(),
            reason: format!("a checkpoint could not be written as JSON: {e}"),
        })?;
        let row = vec![
            Val::text(run_id),
            Val::text(&c.scenario_path),
            Val::text(time_text(Utc::now())),
            Val::text(text),
        ];
        self.write(vec![(UPSERT_CHECKPOINT, vec![row])]).await
    }

    /// A resumable run and its scenarios' places; `None` when the run was never
    /// resumable (or is unknown).
    pub async fn load_resumable(
        &self,
        run_id: &str,
    ) -> Result<Option<(Resumable, Vec<Checkpoint>)>, StoreError> {
        let rows = self.rows(SELECT_RESUMABLE, vec![Val::text(run_id)]).await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let text = |i: usize| r.get(i).and_then(Val::as_text).unwrap_or("").to_owned();
        let bad = |what: &str| StoreError::Query {
            url: self.url().to_string(),
            reason: format!("resumable run {run_id} has unreadable {what}"),
        };
        let scenarios = serde_json::from_str(&text(4)).map_err(|_| bad("scenarios"))?;
        let resumable = Resumable {
            run_id: text(0),
            root: text(1),
            environment: text(2),
            approvals: r.get(3).and_then(Val::as_text).map(str::to_owned),
            scenarios,
            state: text(5),
        };
        let mut checkpoints = Vec::new();
        for row in self
            .rows(SELECT_CHECKPOINTS, vec![Val::text(run_id)])
            .await?
        {
            let t = row.first().and_then(Val::as_text).unwrap_or("");
            checkpoints.push(serde_json::from_str(t).map_err(|_| bad("checkpoints"))?);
        }
        Ok(Some((resumable, checkpoints)))
    }

    /// Removes a run's scenarios, steps, attempts and checks (its row stays): a resumed
    /// run records them all again, those before the suspension included.
    pub async fn forget_results(&self, run_id: &str) -> Result<(), StoreError> {
        let batches = FORGET
            .iter()
            .map(|sql| (*sql, vec![vec![Val::text(run_id)]]))
            .collect();
        self.write(batches).await
    }
}
