//! What the HTML and Markdown reports say first: the verdict of a run, its counts, and
//! its failures grouped by owner.

use rehearse_runner::{Aborted, RunResult, ScenarioResult, Status, StepResult};

use crate::render;

/// The reason an aborted run gives when its environment was not ready.
const NOT_READY: &str = "environment_not_ready";

/// The one-word answer to "did it work?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every scenario passed (some maybe flaky).
    Passed,
    /// A scenario failed or could not be carried out.
    Failed,
    /// A pre-flight check failed: the environment, not the flow, is broken.
    NotReady,
    /// The run never started: a scenario, the environment or a flag is invalid.
    InvalidInput,
    /// Stopped by Ctrl-C.
    Interrupted,
}

impl Verdict {
    /// The verdict of `result`. A failed pre-flight check outranks failed scenarios: it
    /// is what must be fixed first.
    pub(crate) fn of(result: &RunResult) -> Self {
        let not_ready = result
            .aborted
            .as_ref()
            .is_some_and(|a| a.reason == NOT_READY)
            || result
                .preflight
                .iter()
                .any(|c| matches!(c.status, Status::Failed | Status::Error));
        if not_ready {
            Self::NotReady
        } else if result.aborted.is_some() {
            Self::InvalidInput
        } else if result.interrupted {
            Self::Interrupted
        } else if result.passed() {
            Self::Passed
        } else {
            Self::Failed
        }
    }

    /// A CSS class and a stable word: `passed`, `failed`, `not-ready`, …
    pub(crate) fn class(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::NotReady => "not-ready",
            Self::InvalidInput => "invalid-input",
            Self::Interrupted => "interrupted",
        }
    }

    /// What a person reads: `passed`, `environment not ready`, …
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::NotReady => "environment not ready",
            Self::InvalidInput => "invalid input",
            Self::Interrupted => "interrupted",
        }
    }
}

/// `3 passed (1 flaky), 1 failed, 2 skipped`.
pub(crate) fn counts_line(result: &RunResult) -> String {
    let c = result.counts();
    let flaky = if c.flaky > 0 {
        format!(" ({} flaky)", c.flaky)
    } else {
        String::new()
    };
    format!(
        "{} passed{flaky}, {} failed, {} skipped",
        c.passed, c.failed, c.skipped
    )
}

/// A scenario that did not pass, as a failure report names it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScenarioFailure<'a> {
    /// Its index in `result.scenarios` (the HTML report's anchor).
    pub(crate) index: usize,
    pub(crate) scenario: &'a ScenarioResult,
    /// The first step that failed, if one did.
    pub(crate) step: Option<&'a StepResult>,
}

impl ScenarioFailure<'_> {
    /// `step `x` failed after 3 attempts: $.status: expected settled, got "pending"`.
    pub(crate) fn summary(&self) -> String {
        let Some(step) = self.step else {
            return format!("scenario {}", self.scenario.status.as_str());
        };
        let after = render::attempts_note(step)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        let verb = if step.status == Status::Error {
            "could not be carried out"
        } else {
            "failed"
        };
        format!(
            "step `{}` {verb}{after}: {}",
            step.name,
            render::headline(step)
        )
    }

    /// Where the failed expectation (or the step) is written.
    pub(crate) fn location(&self) -> Option<&str> {
        let step = self.step?;
        let at = render::failures(step)
            .first()
            .and_then(|f| f.location.as_deref())
            .unwrap_or(&step.location);
        (!at.is_empty()).then_some(at)
    }
}

/// The scenarios that failed or errored, grouped by their owner (owners sorted, no
/// owner last), each in run order.
pub(crate) fn failures_by_owner(
    result: &RunResult,
) -> Vec<(Option<&str>, Vec<ScenarioFailure<'_>>)> {
    let mut groups: Vec<(Option<&str>, Vec<ScenarioFailure<'_>>)> = Vec::new();
    let failed = result
        .scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.status, Status::Failed | Status::Error));
    for (index, scenario) in failed {
        let step = scenario
            .steps
            .iter()
            .chain(&scenario.cleanup)
            .find(|st| matches!(st.status, Status::Failed | Status::Error));
        let failure = ScenarioFailure {
            index,
            scenario,
            step,
        };
        let owner = scenario.owner.as_deref();
        match groups.iter_mut().find(|(o, _)| *o == owner) {
            Some((_, list)) => list.push(failure),
            None => groups.push((owner, vec![failure])),
        }
    }
    groups.sort_by(|a, b| owner_order(a.0, b.0));
    groups
}

/// Owners sorted by name, no owner last.
pub(crate) fn owner_order(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// The scenarios that passed only after a retry (network-level, or `--retry-failed`),
/// with their flaky steps.
pub(crate) fn flaky(result: &RunResult) -> Vec<(usize, &ScenarioResult, Vec<&StepResult>)> {
    result
        .scenarios
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let steps: Vec<&StepResult> = s
                .steps
                .iter()
                .chain(&s.cleanup)
                .filter(|st| st.status == Status::Flaky)
                .collect();
            (s.status == Status::Flaky || !steps.is_empty()).then_some((i, s, steps))
        })
        .collect()
}

/// `rehearse 0.1.0 · bank API v2`-style facts of the run, as (label, value) pairs.
pub(crate) fn facts(result: &RunResult) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("environment", result.environment.clone()),
        ("run", result.run_id.clone()),
        (
            "started",
            result
                .started_at
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
        ),
        ("duration", render::duration(result.duration)),
    ];
    if let Some(v) = &result.bank_api_version {
        facts.push(("bank API", v.clone()));
    }
    if !result.rehearse_version.is_empty() {
        facts.push(("rehearse", result.rehearse_version.clone()));
    }
    facts
}

/// The problems of an aborted run that its failed pre-flight checks do not already tell
/// (a problem line starts with the name of the check it is about).
pub(crate) fn other_problems<'a>(result: &RunResult, aborted: &'a Aborted) -> Vec<&'a str> {
    let failed: Vec<&str> = result
        .preflight
        .iter()
        .filter(|c| c.status != Status::Passed)
        .map(|c| c.name.as_str())
        .collect();
    aborted
        .problems
        .iter()
        .map(String::as_str)
        .filter(|p| !failed.iter().any(|name| p.starts_with(name)))
        .collect()
}
