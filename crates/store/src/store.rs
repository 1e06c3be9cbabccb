//! The [`Store`]: opened (and migrated) once per command, then written once per run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::SecondsFormat;
use rehearse_runner::{RunResult, ScenarioResult, Status};

use crate::backend::{Backend, Batch, DbError, Val};
use crate::error::StoreError;
use crate::url::StoreUrl;

/// The schema this binary writes and reads; `schema_version` holds a database's own.
pub const SCHEMA_VERSION: i64 = 6;

/// The migrations, in order: (version, SQL). Embedded in the binary.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_runs.sql")),
    (2, include_str!("../migrations/0002_ledger.sql")),
    (3, include_str!("../migrations/0003_shards.sql")),
    (4, include_str!("../migrations/0004_resume.sql")),
    (5, include_str!("../migrations/0005_no_path_index.sql")),
    (6, include_str!("../migrations/0006_steps_document.sql")),
];

const SCHEMA_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_at TEXT NOT NULL)";

/// How long a write to the store may take before the run gives up on it (its reports are
/// written anyway).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long opening a SQLite store that another run is creating at that moment is retried.
pub const LOCKED_RETRY_FOR: Duration = Duration::from_secs(15);

/// SQLite's SQLITE_BUSY / SQLITE_LOCKED, as rusqlite words them.
fn is_locked(reason: &str) -> bool {
    reason.contains("database is locked") || reason.contains("database table is locked")
}

/// What a run's record needs besides its result.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// `git rev-parse HEAD` of the suite, when it is a repository.
    pub git_commit: Option<String>,
    /// The exit code the run ended with.
    pub exit_code: u8,
    /// A hash of each scenario file's text, by the scenario's path.
    pub file_hashes: BTreeMap<String, String>,
    /// How many times each scenario was rerun by `--retry-failed`, by path.
    pub retries: BTreeMap<String, u32>,
    /// The shard this process ran, when the run is one of several shards writing one run
    /// id (`--shard K/N --run-id ID`): its rows join the others' under that id.
    pub shard: Option<ShardOf>,
}

/// One shard of a sharded run: `index` of `total`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardOf {
    /// 1-based.
    pub index: u32,
    /// How many shards the run has.
    pub total: u32,
}

/// Scenario and check indices of shard K start at (K-1) × this, so shards writing one run
/// never collide (a shard of a million scenarios is far beyond any suite).
pub const SHARD_STRIDE: i64 = 1_000_000;

impl ShardOf {
    fn base(self) -> i64 {
        i64::from(self.index.saturating_sub(1)) * SHARD_STRIDE
    }
}

/// The store of runs: SQLite or PostgreSQL, one schema.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
    url: StoreUrl,
}

impl Store {
    /// Opens the store, creating it (and a SQLite file's folder) when missing, and brings
    /// its schema to [`SCHEMA_VERSION`]. A store newer than this binary is an error.
    ///
    /// Runs that start together on one SQLite file (shards on one machine, parallel CI
    /// jobs in one checkout) race to create and migrate it: SQLite then answers "database
    /// is locked" at once for some of those steps, whatever its busy timeout. The whole
    /// open is retried for up to [`LOCKED_RETRY_FOR`] before it is an error.
    pub async fn open(url: &StoreUrl) -> Result<Self, StoreError> {
        let deadline = std::time::Instant::now() + LOCKED_RETRY_FOR;
        loop {
            match Self::open_once(url).await {
                Err(StoreError::Open { reason, .. })
                    if is_locked(&reason) && std::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                other => return other,
            }
        }
    }

    async fn open_once(url: &StoreUrl) -> Result<Self, StoreError> {
        let shown = url.to_string();
        let backend = match url {
            StoreUrl::Sqlite(path) => Backend::open_sqlite(path).await,
            StoreUrl::Postgres(u) => Backend::open_postgres(u).await,
        }
        .map_err(|e| open_error(&shown, e))?;
        let store = Self {
            backend,
            url: url.clone(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Where it is.
    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// The schema version the database holds.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let rows = self
            .backend
            .query("SELECT MAX(version) FROM schema_version", Vec::new())
            .await
            .map_err(|e| self.query_error(e))?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Val::as_int)
            .unwrap_or(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let shown = self.url.to_string();
        self.backend
            .script(SCHEMA_TABLE)
            .await
            .map_err(|e| open_error(&shown, e))?;
        let found = self.schema_version().await?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                url: shown,
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
            tracing::debug!("store {shown}: applying migration {version}");
            self.backend
                .migrate(*version, sql)
                .await
                .map_err(|e| open_error(&shown, e))?;
        }
        Ok(())
    }

    fn query_error(&self, e: DbError) -> StoreError {
        StoreError::Query {
            url: self.url.to_string(),
            reason: e.text,
        }
    }

    /// Records a run, its scenarios, steps, attempts and pre-flight checks, in one
    /// transaction. Everything comes from the result, which the runner masked.
    pub async fn record(&self, result: &RunResult, meta: &RunMeta) -> Result<(), StoreError> {
        self.record_except(result, meta, &BTreeSet::new()).await
    }

    /// [`Store::record`], leaving out the scenarios (by index in `result.scenarios`) that
    /// [`Store::record_scenarios`] already wrote while the run went on.
    pub async fn record_except(
        &self,
        result: &RunResult,
        meta: &RunMeta,
        written: &BTreeSet<usize>,
    ) -> Result<(), StoreError> {
        self.write(rows_of(result, meta, written)).await
    }

    /// Records finished scenarios of a run still going, each with its steps and attempts,
    /// in one transaction: `(index in the run, result)`. The run's row must be there
    /// already ([`Store::record_start`]); [`Store::record_except`] writes the rest when the
    /// run ends. Not for a shard of a sharded run (its rows are replaced as a whole).
    ///
    /// `hash` gives the hash of a scenario's file; it is called, as the rows are made, on
    /// the thread that writes them (SQLite's), not the caller's.
    pub async fn record_scenarios(
        &self,
        run_id: &str,
        scenarios: Vec<(usize, ScenarioResult)>,
        hash: impl Fn(usize, &ScenarioResult) -> Option<String> + Send + 'static,
    ) -> Result<(), StoreError> {
        let run_id = run_id.to_owned();
        self.write_built(move || {
            let mut rows = ScenarioRows::default();
            for (si, s) in &scenarios {
                let at = Val::Int(Some(i64::try_from(*si).unwrap_or(i64::MAX)));
                rows.push(&run_id, at, s, hash(*si, s).as_deref(), 0);
            }
            rows.batches().into()
        })
        .await
    }

    /// Runs `batches` in one transaction, bounded by the write timeout.
    pub(crate) async fn write(&self, batches: Vec<Batch>) -> Result<(), StoreError> {
        self.write_built(move || batches).await
    }

    /// [`Store::write`] of what `build` makes, made where it is written.
    async fn write_built(
        &self,
        build: impl FnOnce() -> Vec<Batch> + Send + 'static,
    ) -> Result<(), StoreError> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.backend.write_built(build)).await {
            Ok(r) => r.map_err(|e| self.query_error(e)),
            Err(_) => Err(StoreError::Query {
                url: self.url.to_string(),
                reason: format!("no answer within {}s", WRITE_TIMEOUT.as_secs()),
            }),
        }
    }

    pub(crate) async fn rows(
        &self,
        sql: &'static str,
        params: Vec<Val>,
    ) -> Result<Vec<Vec<Val>>, StoreError> {
        self.backend
            .query(sql, params)
            .await
            .map_err(|e| self.query_error(e))
    }
}

fn open_error(shown: &str, e: DbError) -> StoreError {
    if e.unreachable {
        StoreError::Unreachable {
            url: shown.to_owned(),
            reason: e.text,
        }
    } else {
        StoreError::Open {
            url: shown.to_owned(),
            reason: e.text,
        }
    }
}

/// A time as stored: RFC 3339 in UTC with microseconds (sorts as text).
pub(crate) fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn ms(d: Duration) -> Val {
    Val::int(d.as_millis())
}

/// The version a `version` pre-flight check saw (`deployed version is 1.6.0, …`).
pub fn deployed_version(result: &RunResult) -> Option<String> {
    result
        .preflight
        .iter()
        .filter(|c| c.kind == "version")
        .find_map(|c| c.evidence.strip_prefix("deployed version is "))
        .map(|rest| {
            rest.split([',', ' '])
                .next()
                .unwrap_or(rest)
                .trim()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
}

/// What the run's verdict is called in the store.
fn verdict(result: &RunResult) -> String {
    if result.interrupted {
        "interrupted".to_owned()
    } else if let Some(a) = &result.aborted {
        a.reason.clone()
    } else if result.passed() {
        "passed".to_owned()
    } else {
        "failed".to_owned()
    }
}

const INSERT_RUN: &str = "INSERT INTO runs (id, environment, rehearse_version, deployed_version, bank_api_version, git_commit, started_at, ended_at, verdict, exit_code, interrupted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO UPDATE SET deployed_version = excluded.deployed_version, bank_api_version = excluded.bank_api_version, git_commit = excluded.git_commit, ended_at = excluded.ended_at, verdict = excluded.verdict, exit_code = excluded.exit_code, interrupted = excluded.interrupted";
const INSERT_SCENARIO: &str = "INSERT INTO scenarios (run_id, idx, path, name, file_hash, owner, status, duration_ms, flaky, retries, failure, steps) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
const INSERT_CHECK: &str = "INSERT INTO checks (run_id, idx, name, kind, owner, status, evidence, duration_ms, location) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

fn rows_of(result: &RunResult, meta: &RunMeta, written: &BTreeSet<usize>) -> Vec<Batch> {
    let id = &result.run_id;
    let base = meta.shard.map_or(0, ShardOf::base);
    let at = |i: usize| {
        Val::Int(Some(
            base.saturating_add(i64::try_from(i).unwrap_or(i64::MAX)),
        ))
    };
    let ended = result
        .started_at
        .checked_add_signed(chrono::TimeDelta::from_std(result.duration).unwrap_or_default())
        .unwrap_or(result.started_at);
    let run = vec![
        Val::text(id),
        Val::text(&result.environment),
        Val::text(&result.rehearse_version),
        Val::Text(deployed_version(result)),
        Val::opt(result.bank_api_version.as_deref()),
        Val::opt(meta.git_commit.as_deref()),
        Val::text(time_text(result.started_at)),
        Val::text(time_text(ended)),
        Val::text(verdict(result)),
        Val::int(meta.exit_code),
        Val::int(i64::from(result.interrupted)),
    ];
    let mut rows = ScenarioRows::default();
    for (si, s) in result.scenarios.iter().enumerate() {
        if written.contains(&si) {
            continue;
        }
        let retries = meta.retries.get(&s.path).copied().unwrap_or(0);
        let hash = meta.file_hashes.get(&s.path).map(String::as_str);
        rows.push(id, at(si), s, hash, retries);
    }
    let checks = result
        .preflight
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                Val::text(id),
                at(i),
                Val::text(&c.name),
                Val::text(&c.kind),
                Val::opt(c.owner.as_deref()),
                Val::text(c.status.as_str()),
                Val::text(&c.evidence),
                ms(c.duration),
                Val::opt(c.location.as_deref()),
            ]
        })
        .collect();
    let mut batches = match meta.shard {
        None => vec![(INSERT_RUN, vec![run])],
        Some(shard) => shard_run_rows(result, meta, shard, run),
    };
    batches.extend(rows.batches());
    batches.push((INSERT_CHECK, checks));
    batches
}

/// The rows of scenarios: one each, its steps and their attempts a JSON document in it
/// (crate::doc).
#[derive(Default)]
struct ScenarioRows {
    scenarios: Vec<Vec<Val>>,
}

impl ScenarioRows {
    fn push(&mut self, id: &str, at: Val, s: &ScenarioResult, hash: Option<&str>, retries: u32) {
        self.scenarios.push(vec![
            Val::text(id),
            at,
            Val::text(&s.path),
            Val::text(&s.name),
            Val::opt(hash),
            Val::opt(s.owner.as_deref()),
            Val::text(s.status.as_str()),
            ms(s.duration),
            Val::int(i64::from(s.status == Status::Flaky)),
            Val::int(retries),
            Val::Text(s.first_failure().map(|(st, f)| format!("{}: {f}", st.name))),
            Val::text(crate::doc::steps_json(s)),
        ]);
    }

    fn batches(self) -> [Batch; 1] {
        [(INSERT_SCENARIO, self.scenarios)]
    }
}

const INSERT_SHARD_RUN: &str = "INSERT INTO runs (id, environment, rehearse_version, deployed_version, bank_api_version, git_commit, started_at, ended_at, verdict, exit_code, interrupted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING";
/// Taken before the shard's rows are read back: on PostgreSQL it holds the run's row
/// until commit, so two shards finishing together recompute the run one after the other,
/// each seeing the other's rows (SQLite has one writer at a time anyway).
const LOCK_RUN: &str = "UPDATE runs SET id = id WHERE id = $1";
const DELETE_SHARD: [&str; 5] = [
    "DELETE FROM attempts WHERE run_id = $1 AND scenario_idx >= $2 AND scenario_idx < $3",
    "DELETE FROM steps WHERE run_id = $1 AND scenario_idx >= $2 AND scenario_idx < $3",
    "DELETE FROM scenarios WHERE run_id = $1 AND idx >= $2 AND idx < $3",
    "DELETE FROM checks WHERE run_id = $1 AND idx >= $2 AND idx < $3",
    "DELETE FROM run_shards WHERE run_id = $1 AND shard = $2",
];
const INSERT_SHARD: &str = "INSERT INTO run_shards (run_id, shard, total, started_at, ended_at, verdict, exit_code, interrupted, scenarios) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// The run over its shards so far: earliest start, latest end, the worst verdict
/// (interrupted, then any abort reason, then failed) and exit code, the first deployed
/// version seen.
/// `$1` must appear before `$2`: SQLite numbers `$N` parameters in the order they first
/// appear.
const RECOMPUTE_RUN: &str = "UPDATE runs SET \
    started_at = (SELECT MIN(started_at) FROM run_shards WHERE run_id = $1), \
    ended_at = (SELECT MAX(ended_at) FROM run_shards WHERE run_id = $1), \
    exit_code = (SELECT MAX(exit_code) FROM run_shards WHERE run_id = $1), \
    interrupted = (SELECT MAX(interrupted) FROM run_shards WHERE run_id = $1), \
    verdict = CASE \
        WHEN EXISTS (SELECT 1 FROM run_shards WHERE run_id = $1 AND interrupted = 1) THEN 'interrupted' \
        WHEN EXISTS (SELECT 1 FROM run_shards WHERE run_id = $1 AND verdict NOT IN ('passed', 'failed', 'interrupted')) \
            THEN (SELECT MIN(verdict) FROM run_shards WHERE run_id = $1 AND verdict NOT IN ('passed', 'failed', 'interrupted')) \
        WHEN EXISTS (SELECT 1 FROM run_shards WHERE run_id = $1 AND verdict = 'failed') THEN 'failed' \
        ELSE 'passed' END, \
    deployed_version = COALESCE(deployed_version, $2) \
    WHERE id = $1";

/// The statements of a shard's run: the run's row created by the first shard, locked,
/// this shard's earlier rows removed (a shard run again, e.g. a retried Kubernetes pod,
/// replaces its rows), its row added, and the run recomputed over every shard so far.
fn shard_run_rows(result: &RunResult, meta: &RunMeta, shard: ShardOf, run: Vec<Val>) -> Vec<Batch> {
    let id = &result.run_id;
    let (lo, hi) = (shard.base(), shard.base().saturating_add(SHARD_STRIDE));
    let mut out: Vec<Batch> = vec![
        (INSERT_SHARD_RUN, vec![run.clone()]),
        (LOCK_RUN, vec![vec![Val::text(id)]]),
    ];
    for sql in DELETE_SHARD {
        let params = if sql.starts_with("DELETE FROM run_shards") {
            vec![Val::text(id), Val::int(shard.index)]
        } else {
            vec![Val::text(id), Val::Int(Some(lo)), Val::Int(Some(hi))]
        };
        out.push((sql, vec![params]));
    }
    // started_at, ended_at, verdict, exit_code, interrupted of this shard: as in its run row.
    out.push((
        INSERT_SHARD,
        vec![vec![
            Val::text(id),
            Val::int(shard.index),
            Val::int(shard.total),
            run[6].clone(),
            run[7].clone(),
            run[8].clone(),
            Val::int(meta.exit_code),
            run[10].clone(),
            Val::int(result.scenarios.len()),
        ]],
    ));
    out.push((
        RECOMPUTE_RUN,
        vec![vec![Val::text(id), Val::Text(deployed_version(result))]],
    ));
    out
}
