//! `--retry-failed N`: a scenario that failed is run again, up to N times, with its
//! cleanup each time. One that then passes is *flaky* (the runner's word for a pass that
//! needed a retry): counted and shown as such, not a failure. One that errored on its own
//! input (a template that cannot render) or on a bug of rehearse is not retried: running
//! it again cannot change the outcome.

use std::sync::Arc;

use rehearse_report::{ConsoleOptions, ConsoleReporter};
use rehearse_runner::{INTERNAL_ERROR, Plan, RunOptions, RunResult, ScenarioResult, Status};
use tokio_util::sync::CancellationToken;

/// What each retry run is given.
pub(crate) struct RetryOptions {
    pub(crate) times: u32,
    pub(crate) run_id: String,
    pub(crate) jobs: usize,
    pub(crate) secrets: Vec<String>,
    pub(crate) quit: CancellationToken,
    pub(crate) recorder: Option<Arc<dyn rehearse_runner::Recorder>>,
    pub(crate) console: ConsoleOptions,
}

/// Failed by the system under test, so worth another try.
fn retryable(s: &ScenarioResult) -> bool {
    matches!(s.status, Status::Failed | Status::Error)
        && !s
            .steps
            .iter()
            .chain(&s.cleanup)
            .filter_map(|st| st.failure.as_ref())
            .any(|f| f.check == INTERNAL_ERROR || f.check == "template")
}

/// Reruns the failed scenarios of `result`; returns the plan (whole again) and the
/// result with each retried scenario's last outcome, `retries` counted.
pub(crate) async fn retry_failed(
    plan: Arc<Plan>,
    mut result: RunResult,
    o: &RetryOptions,
    cancel: &CancellationToken,
) -> (Arc<Plan>, RunResult) {
    let mut plan = match Arc::try_unwrap(plan) {
        Ok(p) => p,
        Err(plan) => {
            tracing::warn!("--retry-failed skipped: the plan is still in use");
            return (plan, result);
        }
    };
    let all = std::mem::take(&mut plan.scenarios);
    for k in 1..=o.times {
        if cancel.is_cancelled() || result.interrupted {
            break;
        }
        let failed: Vec<String> = result
            .scenarios
            .iter()
            .filter(|s| retryable(s))
            .map(|s| s.path.clone())
            .collect();
        if failed.is_empty() {
            break;
        }
        eprintln!(
            "retrying {} failed scenario{} (retry {k} of {})",
            failed.len(),
            if failed.len() == 1 { "" } else { "s" },
            o.times
        );
        plan.scenarios = all
            .iter()
            .filter(|s| failed.contains(&s.path.display().to_string()))
            .cloned()
            .collect();
        let shared = Arc::new(plan);
        let mut options = RunOptions::new();
        options.run_id.clone_from(&o.run_id);
        options.jobs = o.jobs;
        options.secrets.clone_from(&o.secrets);
        options.quit = o.quit.clone();
        options.recorder.clone_from(&o.recorder);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let console = o.console;
        let printer = tokio::spawn(async move {
            let mut reporter = ConsoleReporter::stdout(console);
            while let Some(event) = rx.recv().await {
                let _ = reporter.handle(&event);
            }
        });
        let outcome = rehearse_runner::run(Arc::clone(&shared), options, tx, cancel.clone()).await;
        let _ = printer.await;
        plan = match Arc::try_unwrap(shared) {
            Ok(p) => p,
            Err(shared) => {
                tracing::warn!("--retry-failed stopped: the plan is still in use");
                return (shared, result);
            }
        };
        let Ok(again) = outcome else { break };
        let again = Arc::unwrap_or_clone(again);
        if again.interrupted {
            result.interrupted = true;
        }
        for mut r in again.scenarios {
            if let Some(slot) = result.scenarios.iter_mut().find(|s| s.path == r.path) {
                r.retries = k;
                if matches!(r.status, Status::Passed | Status::Flaky) {
                    r.status = Status::Flaky;
                }
                *slot = r;
            }
        }
    }
    plan.scenarios = all;
    let c = result.counts();
    eprintln!(
        "after --retry-failed: {} passed ({} flaky), {} failed, {} skipped",
        c.passed, c.flaky, c.failed, c.skipped
    );
    (Arc::new(plan), result)
}
