//! What a run produced: every scenario, step and attempt. Serialised as the JSON report.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `check` of a step's [`Failure`] when rehearse itself failed there (a panic: a bug),
/// rather than the system under test: [`RunResult::internal_errors`].
pub const INTERNAL_ERROR: &str = "internal error";

/// The outcome of a whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The run id, also sent in `X-Rehearse-Run`.
    pub run_id: String,
    /// The environment's name.
    pub environment: String,
    /// When the run started (wall clock).
    pub started_at: DateTime<Utc>,
    /// How long it took.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// One entry per selected scenario, in the order of their paths.
    pub scenarios: Vec<ScenarioResult>,
    /// True when the run was stopped by Ctrl-C.
    pub interrupted: bool,
    /// The pre-flight checks (of the environment and of the selected scenarios), run
    /// before any business step.
    #[serde(default)]
    pub preflight: Vec<CheckResult>,
    /// The rehearse version that ran.
    #[serde(default)]
    pub rehearse_version: String,
    /// The bank API version, when the environment says (var `bank_api_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_api_version: Option<String>,
    /// Set when the run could not start (invalid input, environment not ready): what is
    /// wrong. Reports are written all the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<Aborted>,
}

/// The outcome of one pre-flight check: is this part of the environment ready, and if
/// not, who must fix what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    /// What is checked, e.g. "platform has bank credentials".
    pub name: String,
    /// The kind: `request`, `job_heartbeat`, `version`, `secret_present`, `reachable`.
    pub kind: String,
    /// Who fixes it when it fails (a team, a person).
    pub owner: Option<String>,
    /// What to do when it fails.
    pub hint: Option<String>,
    /// `passed` or `failed`.
    pub status: Status,
    /// What was seen: status and body excerpt, the age of a heartbeat, the version found…
    /// (secrets masked).
    pub evidence: String,
    /// How long it took.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Where the check is written (`file:line:col`).
    pub location: Option<String>,
    /// The scenarios that require it (empty: the environment's own check).
    #[serde(default)]
    pub required_by: Vec<String>,
    /// The ticket raised for it (an http or https URL), when the check names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl RunResult {
    /// The failed pre-flight checks, grouped by owner (owners sorted; no owner last).
    pub fn preflight_failures_by_owner(&self) -> Vec<(Option<String>, Vec<&CheckResult>)> {
        let mut groups: Vec<(Option<String>, Vec<&CheckResult>)> = Vec::new();
        for c in self.preflight.iter().filter(|c| c.status != Status::Passed) {
            match groups.iter_mut().find(|(o, _)| *o == c.owner) {
                Some((_, list)) => list.push(c),
                None => groups.push((c.owner.clone(), vec![c])),
            }
        }
        groups.sort_by(|a, b| match (&a.0, &b.0) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        groups
    }
}

/// Why a run did not start its scenarios.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Aborted {
    /// `invalid_input` or `environment_not_ready`.
    pub reason: String,
    /// One line per problem, secrets masked.
    pub problems: Vec<String>,
}

impl RunResult {
    /// Counts of scenarios by status.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.scenarios {
            match s.status {
                Status::Passed => c.passed += 1,
                Status::Flaky => {
                    c.passed += 1;
                    c.flaky += 1;
                }
                Status::Failed | Status::Error => c.failed += 1,
                Status::Skipped | Status::Interrupted => c.skipped += 1,
            }
        }
        c
    }

    /// The steps that ended in an internal error (a panic: a bug), with their scenario.
    /// The binary exits 4 when there is one.
    pub fn internal_errors(&self) -> Vec<(&ScenarioResult, &StepResult)> {
        self.scenarios
            .iter()
            .flat_map(|s| s.steps.iter().chain(&s.cleanup).map(move |st| (s, st)))
            .filter(|(_, st)| {
                st.failure
                    .as_ref()
                    .is_some_and(|f| f.check == INTERNAL_ERROR)
            })
            .collect()
    }

    /// True when every scenario passed and the run was not interrupted.
    pub fn passed(&self) -> bool {
        !self.interrupted
            && self.aborted.is_none()
            && self
                .scenarios
                .iter()
                .all(|s| matches!(s.status, Status::Passed | Status::Flaky))
    }
}

/// Scenario counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed (assertion or error).
    pub failed: usize,
    /// Not run (fail-fast, Ctrl-C).
    pub skipped: usize,
    /// Of the passed, those that needed a network-level retry.
    pub flaky: usize,
}

/// How a scenario, step or attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything held.
    Passed,
    /// Passed, but only after a network-level retry (a connection reset, a timeout): not
    /// a plain pass.
    Flaky,
    /// An expectation did not hold.
    Failed,
    /// The step could not be carried out (connection refused, timeout, render error).
    Error,
    /// Not run.
    Skipped,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Status {
    /// A short lowercase word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Flaky => "flaky",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Skipped => "skipped",
            Self::Interrupted => "interrupted",
        }
    }
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario file.
    pub path: String,
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The owning team.
    pub owner: Option<String>,
    /// How it ended.
    pub status: Status,
    /// How long it took.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// The steps, in order (those not reached are `skipped`).
    pub steps: Vec<StepResult>,
    /// The cleanup steps.
    pub cleanup: Vec<StepResult>,
    /// How many times `--retry-failed` reran it after it failed (0: it ran once). The
    /// steps are those of its last run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde passes a reference"
)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ScenarioResult {
    /// The first step that did not pass, with its failure.
    pub fn first_failure(&self) -> Option<(&StepResult, &Failure)> {
        self.steps
            .iter()
            .chain(&self.cleanup)
            .find_map(|s| s.failure.as_ref().map(|f| (s, f)))
    }
}

/// The outcome of one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    /// When it started, from the start of its scenario (for timelines).
    #[serde(default, with = "opt_millis", skip_serializing_if = "Option::is_none")]
    pub offset: Option<Duration>,
    /// Its name.
    pub name: String,
    /// Where it is written (`file:line:col`).
    pub location: String,
    /// How it ended.
    pub status: Status,
    /// How long it took, all attempts included.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Every attempt (one for a plain request, several for a poll).
    pub attempts: Vec<Attempt>,
    /// Why it did not pass.
    pub failure: Option<Failure>,
    /// Variables captured (secret ones shown as `***`).
    pub captures: Vec<(String, String)>,
}

/// One HTTP exchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was sent, from the start of its scenario (for timelines).
    #[serde(default, with = "opt_millis", skip_serializing_if = "Option::is_none")]
    pub offset: Option<Duration>,
    /// 1-based.
    pub number: u32,
    /// What was sent (secrets masked).
    pub request: RequestRecord,
    /// What came back, if anything did.
    pub response: Option<ResponseRecord>,
    /// Time from sending to the end of the body.
    #[serde(with = "millis")]
    pub duration: Duration,
    /// A transport error (connection refused, timeout).
    pub error: Option<String>,
    /// Expectations that did not hold on this attempt.
    pub failures: Vec<Failure>,
}

/// A request as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Method.
    pub method: String,
    /// Full URL (secrets masked).
    pub url: String,
    /// Headers (secrets masked).
    pub headers: Vec<(String, String)>,
    /// Body excerpt (secrets masked).
    pub body: Option<String>,
}

/// A response as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// Status code.
    pub status: u16,
    /// Headers (secrets masked).
    pub headers: Vec<(String, String)>,
    /// Body excerpt (secrets masked).
    pub body: String,
}

/// Why a step failed: what was expected, what came, where it is written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// What was checked, e.g. `$.status` or `status`.
    pub check: String,
    /// What was expected.
    pub expected: String,
    /// What came.
    pub actual: String,
    /// Where the expectation is written (`file:line:col`).
    pub location: Option<String>,
    /// The source line of the expectation.
    pub source_line: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.check, self.expected, self.actual
        )
    }
}

pub(crate) mod opt_millis {
    use std::time::Duration;

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub(crate) fn serialize<S: serde::Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let ms: Option<u64> = serde::Deserialize::deserialize(d)?;
        Ok(ms.map(Duration::from_millis))
    }
}

pub(crate) mod millis {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        let ms: u64 = serde::Deserialize::deserialize(d)?;
        Ok(Duration::from_millis(ms))
    }
}
