//! Exit codes of `rehearse`: a CI pipeline branches on them.

use rehearse_runner::{RunResult, Status};

/// Every scenario passed.
pub const PASSED: u8 = 0;
/// A scenario failed (an expectation did not hold, or a step could not be carried out).
pub const FAILED: u8 = 1;
/// The environment is not ready: a pre-flight check failed, a required secret is missing,
/// or an approval needs an operator and none is there. No business step ran. Also the
/// store that could not be opened or written (the run did run, its reports were written).
pub const NOT_READY: u8 = 2;
/// Invalid input: a scenario or environment file, or the flags.
pub const INVALID_INPUT: u8 = 3;
/// Internal error: rehearse could not do its job (IO, a bug).
pub const INTERNAL: u8 = 4;
/// Suspended while its scenarios waited (`--suspend-after`, or SIGTERM while waiting):
/// cleanup did not run, the reports were written, and `rehearse resume RUN_ID` continues
/// the run (BSD's EX_TEMPFAIL: try again later).
pub const SUSPENDED: u8 = 75;
/// Interrupted by Ctrl-C, SIGTERM or SIGHUP; reports are still written, and cleanup ran
/// unless a second signal cut it short.
pub const INTERRUPTED: u8 = 130;

/// The table shown in `--help` and the README.
pub const HELP: &str = "\
Exit codes:
  0    every scenario passed (flaky ones too)
  1    a scenario failed
  2    environment not ready (pre-flight check failed, secret missing, or an
       approval needs an operator; no business step ran), or the store could
       not be opened or written (the run ran, reports written)
  3    invalid input (scenario, environment or flags)
  4    internal error
  75   suspended while waiting (--suspend-after, or SIGTERM while a scenario
       waits): no cleanup, reports written; `rehearse resume RUN_ID` continues
  130  interrupted by Ctrl-C, SIGTERM or SIGHUP (reports written; cleanup ran
       unless a second Ctrl-C cut it short)";

/// The exit codes of `rehearse resume`, shown in its `--help`.
pub const RESUME_HELP: &str = "\
Exit codes: as `rehearse run`'s (0, 1, 2, 4, 75 when it is suspended again,
130), and
  3    invalid input: no such run in the store, a run that cannot be resumed
       (finished, or never resumable), a scenario file changed since (unless
       --force), bad flags";

/// The exit codes of `rehearse ledger`, shown in its `--help`.
pub const LEDGER_HELP: &str = "\
Exit codes:
  0    the list was printed, whatever it holds (an empty ledger too): a
       pipeline branches on `rehearse cleanup`, not on this
  2    the store could not be opened or read
  3    invalid input (flags, --no-store, REHEARSE_NOW)";

/// The exit codes of `rehearse cleanup`, shown in its `--help`.
pub const CLEANUP_HELP: &str = "\
Exit codes:
  0    every pending resource was removed (or none was pending, or --dry-run)
  1    a pending resource was not removed (its cleanup step failed, or was
       refused: scenario file or cleanup step gone, a secret-derived value
       needed); `rehearse ledger` shows why
  2    the store could not be opened, read or written
  3    invalid input (flags, environment, protected environment)
  130  interrupted by Ctrl-C, SIGTERM or SIGHUP";

/// The exit code a run's result stands for (`report merge` reads it from the shards').
pub(crate) fn of_result(result: &RunResult) -> u8 {
    // A check stopped by Ctrl-C says nothing of the environment.
    let not_ready = result
        .preflight
        .iter()
        .any(|c| matches!(c.status, Status::Failed | Status::Error));
    match result.aborted.as_ref().map(|a| a.reason.as_str()) {
        Some("invalid_input") => INVALID_INPUT,
        Some("environment_not_ready") => NOT_READY,
        Some(_) => INTERNAL,
        None if not_ready => NOT_READY,
        None => of_run(result, true),
    }
}

/// The exit code of a run that went through pre-flight, `written` when its reports were. A
/// panic caught in a step (an internal error) outranks failures: rehearse, not the system
/// under test, is at fault.
pub(crate) fn of_run(result: &RunResult, written: bool) -> u8 {
    if result.interrupted {
        INTERRUPTED
    } else if !written || !result.internal_errors().is_empty() {
        INTERNAL
    } else if result.passed() {
        PASSED
    } else {
        FAILED
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rehearse_runner::{CheckResult, Failure, INTERNAL_ERROR, ScenarioResult, StepResult};

    use super::*;

    /// A run of one scenario whose one step ended with `status` and a failure of `check`.
    fn run_of(status: Status, check: Option<&str>) -> RunResult {
        let step = StepResult {
            offset: None,
            name: "approve".to_owned(),
            location: "s.yaml:3:5".to_owned(),
            status,
            duration: Duration::ZERO,
            attempts: Vec::new(),
            failure: check.map(|c| Failure {
                check: c.to_owned(),
                expected: "x".to_owned(),
                actual: "y".to_owned(),
                location: None,
                source_line: None,
            }),
            captures: Vec::new(),
        };
        RunResult {
            run_id: "r".to_owned(),
            environment: "test".to_owned(),
            started_at: chrono::Utc::now(),
            duration: Duration::ZERO,
            scenarios: vec![ScenarioResult {
                path: "s.yaml".to_owned(),
                name: "s".to_owned(),
                tags: Vec::new(),
                owner: None,
                status,
                duration: Duration::ZERO,
                steps: vec![step],
                cleanup: Vec::new(),
                retries: 0,
            }],
            interrupted: false,
            preflight: Vec::new(),
            rehearse_version: String::new(),
            bank_api_version: None,
            aborted: None,
        }
    }

    #[test]
    fn a_panic_caught_in_a_step_exits_4_not_1() {
        assert_eq!(
            of_run(&run_of(Status::Error, Some(INTERNAL_ERROR)), true),
            INTERNAL
        );
        assert_eq!(
            of_result(&run_of(Status::Error, Some(INTERNAL_ERROR))),
            INTERNAL
        );
        assert_eq!(
            of_run(&run_of(Status::Error, Some("request")), true),
            FAILED
        );
        assert_eq!(of_run(&run_of(Status::Passed, None), true), PASSED);
    }

    #[test]
    fn a_run_stopped_during_preflight_exits_130_not_2() {
        let mut r = run_of(Status::Interrupted, None);
        r.interrupted = true;
        r.preflight.push(CheckResult {
            name: "the platform answers".to_owned(),
            kind: "request".to_owned(),
            owner: None,
            hint: None,
            status: Status::Interrupted,
            evidence: "stopped by Ctrl-C before it ended".to_owned(),
            duration: Duration::ZERO,
            location: None,
            required_by: Vec::new(),
            ticket: None,
        });
        assert_eq!(of_result(&r), INTERRUPTED);
        r.preflight[0].status = Status::Failed;
        assert_eq!(of_result(&r), NOT_READY);
    }
}
