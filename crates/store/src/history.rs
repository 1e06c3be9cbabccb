//! History of an environment's runs: per scenario its results, oldest first, and what can
//! be read from them (the strip, pass and flaky rates, durations, since when it fails and
//! what changed).

use crate::backend::Val;
use crate::error::StoreError;
use crate::store::Store;

/// One run, as history shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// The run id.
    pub id: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// The deployed version a `version` check saw.
    pub deployed_version: Option<String>,
    /// The bank API version (var `bank_api_version`).
    pub bank_api_version: Option<String>,
    /// The rehearse version that ran.
    pub rehearse_version: String,
    /// The suite's git commit.
    pub git_commit: Option<String>,
}

impl RunInfo {
    /// The date and minute it started, `2026-12-02 05:56`.
    pub fn when(&self) -> String {
        let t = self.started_at.replace('T', " ");
        t.get(..16).unwrap_or(&t).to_owned()
    }
}

/// How a scenario ended in one run, as history counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Passed only after a retry.
    Flaky,
    /// Failed or errored.
    Fail,
    /// Not run (skipped, interrupted).
    Skip,
}

impl Outcome {
    fn of(status: &str) -> Self {
        match status {
            "passed" => Self::Pass,
            "flaky" => Self::Flaky,
            "failed" | "error" => Self::Fail,
            _ => Self::Skip,
        }
    }

    /// Its mark in a strip: `✓`, `~`, `✗`, `·`.
    pub fn mark(self) -> char {
        match self {
            Self::Pass => '✓',
            Self::Flaky => '~',
            Self::Fail => '✗',
            Self::Skip => '·',
        }
    }

    /// Passed, plainly or flakily.
    pub fn green(self) -> bool {
        matches!(self, Self::Pass | Self::Flaky)
    }
}

/// One scenario in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Index into [`History::runs`].
    pub run: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// The hash of its file's text then.
    pub file_hash: Option<String>,
}

/// One scenario's results, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioHistory {
    /// Its file (the key across runs).
    pub path: String,
    /// Its name in the latest run.
    pub name: String,
    /// Its results, oldest first.
    pub entries: Vec<Entry>,
}

/// What changed between two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `deployed version`, `bank API`, `scenario file`, `rehearse version`, `suite commit`.
    pub what: &'static str,
    /// Before, when it has a value.
    pub from: Option<String>,
    /// After.
    pub to: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.from, &self.to) {
            (None, None) => f.write_str(self.what),
            (from, to) => write!(
                f,
                "{} {} → {}",
                self.what,
                from.as_deref().unwrap_or("(none)"),
                to.as_deref().unwrap_or("(none)")
            ),
        }
    }
}

/// A scenario failing now: since when, the last green run before, what changed between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakage {
    /// The first failing run since the last green one.
    pub failing_since: RunInfo,
    /// The last green run before it, if there is one in the history.
    pub last_green: Option<RunInfo>,
    /// What changed between them.
    pub changes: Vec<Change>,
}

/// The label of a scenario's latest result against the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trend {
    /// Failing now, green (or never run) before.
    NewFailure,
    /// Failing now and before, since this run.
    StillFailing(RunInfo),
    /// Green now, failing before.
    Fixed,
}

/// An environment's history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The runs, oldest first.
    pub runs: Vec<RunInfo>,
    /// Every scenario seen, by path.
    pub scenarios: Vec<ScenarioHistory>,
}

const HISTORY: &str = "SELECT r.id, r.started_at, r.deployed_version, r.bank_api_version, r.rehearse_version, r.git_commit, s.path, s.name, s.status, s.duration_ms, s.file_hash FROM scenarios s JOIN runs r ON r.id = s.run_id WHERE r.id IN (SELECT id FROM runs WHERE environment = $1 AND verdict <> 'running' ORDER BY started_at DESC, id DESC LIMIT $2) ORDER BY r.started_at, r.id, s.idx";

impl Store {
    /// The last `runs` runs of `environment`, oldest first, with every scenario they ran.
    pub async fn history(&self, environment: &str, runs: usize) -> Result<History, StoreError> {
        let rows = self
            .rows(HISTORY, vec![Val::text(environment), Val::int(runs)])
            .await?;
        let mut h = History::default();
        for row in rows {
            let text = |i: usize| row.get(i).and_then(Val::as_text).map(str::to_owned);
            let id = text(0).unwrap_or_default();
            if h.runs.last().is_none_or(|r| r.id != id) {
                h.runs.push(RunInfo {
                    id,
                    started_at: text(1).unwrap_or_default(),
                    deployed_version: text(2),
                    bank_api_version: text(3),
                    rehearse_version: text(4).unwrap_or_default(),
                    git_commit: text(5),
                });
            }
            let run = h.runs.len() - 1;
            let path = text(6).unwrap_or_default();
            let entry = Entry {
                run,
                outcome: Outcome::of(&text(8).unwrap_or_default()),
                duration_ms: row.get(9).and_then(Val::as_int).unwrap_or(0),
                file_hash: text(10),
            };
            let name = text(7).unwrap_or_default();
            match h.scenarios.iter_mut().find(|s| s.path == path) {
                Some(s) => {
                    s.name = name;
                    // A run that ran a scenario twice (a merge of shards) counts once.
                    if s.entries.last().is_some_and(|e| e.run == run) {
                        continue;
                    }
                    s.entries.push(entry);
                }
                None => h.scenarios.push(ScenarioHistory {
                    path,
                    name,
                    entries: vec![entry],
                }),
            }
        }
        Ok(h)
    }
}

impl ScenarioHistory {
    /// The last `n` entries.
    pub fn last(&self, n: usize) -> &[Entry] {
        &self.entries[self.entries.len().saturating_sub(n)..]
    }

    /// The last `n` results as marks, newest last: `✓✓✗✓`.
    pub fn strip(&self, n: usize) -> String {
        self.last(n).iter().map(|e| e.outcome.mark()).collect()
    }

    fn ran(&self, n: usize) -> impl Iterator<Item = &Entry> {
        self.last(n).iter().filter(|e| e.outcome != Outcome::Skip)
    }

    /// Of the last `n` runs that ran it, the share that passed (flaky included), 0..=1.
    pub fn pass_rate(&self, n: usize) -> Option<f64> {
        rate(self.ran(n), |e| e.outcome.green())
    }

    /// Of the last `n` runs that ran it, the share that passed only on a retry.
    pub fn flaky_rate(&self, n: usize) -> Option<f64> {
        rate(self.ran(n), |e| e.outcome == Outcome::Flaky)
    }

    /// The `p`th percentile (0..=100, nearest rank) of its duration over the last `n`
    /// runs that ran it, in milliseconds.
    pub fn percentile_ms(&self, n: usize, p: u32) -> Option<i64> {
        let mut d: Vec<i64> = self.ran(n).map(|e| e.duration_ms).collect();
        if d.is_empty() {
            return None;
        }
        d.sort_unstable();
        let rank = (usize::try_from(p).unwrap_or(100).min(100) * d.len()).div_ceil(100);
        d.get(rank.saturating_sub(1)).copied()
    }

    /// The latest result's label against the one before it (runs that did not run it
    /// are passed over).
    pub fn trend(&self, history: &History) -> Option<Trend> {
        let mut ran = self
            .entries
            .iter()
            .rev()
            .filter(|e| e.outcome != Outcome::Skip);
        let now = ran.next()?;
        let before = ran.next();
        match (now.outcome.green(), before.map(|e| e.outcome.green())) {
            (false, Some(false)) => self
                .breakage(history)
                .map(|b| Trend::StillFailing(b.failing_since)),
            (false, _) => Some(Trend::NewFailure),
            (true, Some(false)) => Some(Trend::Fixed),
            (true, _) => None,
        }
    }

    /// When it is failing now: the first failing run since the last green one, and what
    /// changed between them.
    pub fn breakage(&self, history: &History) -> Option<Breakage> {
        let ran: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.outcome != Outcome::Skip)
            .collect();
        if ran.last()?.outcome.green() {
            return None;
        }
        let green = ran.iter().rposition(|e| e.outcome.green());
        let first_fail = ran[green.map_or(0, |g| g + 1)];
        let last_green = green.map(|g| ran[g]);
        let fail_run = history.runs.get(first_fail.run)?.clone();
        let green_run = last_green.and_then(|e| history.runs.get(e.run)).cloned();
        let changes = match (&green_run, last_green) {
            (Some(g), Some(ge)) => changes(g, &fail_run, ge, first_fail),
            _ => Vec::new(),
        };
        Some(Breakage {
            failing_since: fail_run,
            last_green: green_run,
            changes,
        })
    }
}

fn rate<'a>(entries: impl Iterator<Item = &'a Entry>, yes: impl Fn(&Entry) -> bool) -> Option<f64> {
    let (mut n, mut y) = (0_u32, 0_u32);
    for e in entries {
        n += 1;
        if yes(e) {
            y += 1;
        }
    }
    (n > 0).then(|| f64::from(y) / f64::from(n))
}

fn changes(a: &RunInfo, b: &RunInfo, ea: &Entry, eb: &Entry) -> Vec<Change> {
    let differ = |what: &'static str, x: Option<String>, y: Option<String>| {
        (x != y).then_some(Change {
            what,
            from: x,
            to: y,
        })
    };
    let short = |c: &Option<String>| c.as_ref().map(|c| c.chars().take(8).collect::<String>());
    [
        differ(
            "deployed version",
            a.deployed_version.clone(),
            b.deployed_version.clone(),
        ),
        differ(
            "bank API",
            a.bank_api_version.clone(),
            b.bank_api_version.clone(),
        ),
        (ea.file_hash != eb.file_hash).then_some(Change {
            what: "scenario file",
            from: None,
            to: None,
        }),
        differ(
            "rehearse version",
            Some(a.rehearse_version.clone()),
            Some(b.rehearse_version.clone()),
        ),
        differ("suite commit", short(&a.git_commit), short(&b.git_commit)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// A pre-flight check that passes in the newest run after failing in the one before: when
/// its streak of failures began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedCheck {
    /// The check's name (its key across runs).
    pub name: String,
    /// The first run of the streak of failures that ended now.
    pub first_failed: RunInfo,
}

const CHECKS_BY_RUN: &str = "SELECT r.id, r.started_at, c.name, c.status FROM checks c JOIN runs r ON r.id = c.run_id WHERE r.id IN (SELECT id FROM runs WHERE environment = $1 AND verdict <> 'running' ORDER BY started_at DESC, id DESC LIMIT $2) ORDER BY r.started_at DESC, r.id DESC";

impl Store {
    /// The checks of run `run_id` (the newest of `environment`) that pass now and failed in
    /// the run before, each with the first run of that streak of failures (looking back at
    /// most `runs` runs).
    pub async fn verified_fixed(
        &self,
        environment: &str,
        run_id: &str,
        runs: usize,
    ) -> Result<Vec<FixedCheck>, StoreError> {
        let rows = self
            .rows(CHECKS_BY_RUN, vec![Val::text(environment), Val::int(runs)])
            .await?;
        // Newest first: (run, its checks by name → failed on any shard).
        let mut by_run: Vec<(RunInfo, Vec<(String, bool)>)> = Vec::new();
        for row in rows {
            let text = |i: usize| {
                row.get(i)
                    .and_then(Val::as_text)
                    .unwrap_or_default()
                    .to_owned()
            };
            let id = text(0);
            if by_run.last().is_none_or(|(r, _)| r.id != id) {
                by_run.push((
                    RunInfo {
                        id,
                        started_at: text(1),
                        deployed_version: None,
                        bank_api_version: None,
                        rehearse_version: String::new(),
                        git_commit: None,
                    },
                    Vec::new(),
                ));
            }
            let failed = matches!(text(3).as_str(), "failed" | "error");
            let checks = &mut by_run.last_mut().expect("pushed above").1;
            match checks.iter_mut().find(|(n, _)| *n == text(2)) {
                Some((_, f)) => *f |= failed,
                None => checks.push((text(2), failed)),
            }
        }
        let failed_in = |run: &(RunInfo, Vec<(String, bool)>), name: &str| {
            run.1.iter().any(|(n, f)| n == name && *f)
        };
        let Some((now, earlier)) = by_run.split_first() else {
            return Ok(Vec::new());
        };
        if now.0.id != run_id {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (name, failed) in &now.1 {
            if *failed || !earlier.first().is_some_and(|r| failed_in(r, name)) {
                continue;
            }
            let streak = earlier.iter().take_while(|r| failed_in(r, name)).last();
            if let Some((first, _)) = streak {
                out.push(FixedCheck {
                    name: name.clone(),
                    first_failed: first.clone(),
                });
            }
        }
        Ok(out)
    }
}
