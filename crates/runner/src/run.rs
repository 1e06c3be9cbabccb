//! Running a plan: scenarios concurrently, each isolated, events on a channel.

use std::sync::Arc;
use std::time::Instant;

use rehearse_scenario::{ApprovalMode, ClockKind, Environment, Scenario, Templates};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::control::{Approver, ClockControl, HttpApprover, HttpClock, MockApprover, WaitApprover};
use crate::event::RunEvent;
use crate::exec::{ScenarioRun, environment_vars};
use crate::http::{ClientError, Clients};
use crate::redact::Redactor;
use crate::result::{RunResult, ScenarioResult, Status, StepResult};

/// What to run: the environment, the selected scenarios and their compiled templates.
#[derive(Debug)]
pub struct Plan {
    /// Where.
    pub environment: Environment,
    /// What, in order of path.
    pub scenarios: Vec<Scenario>,
    /// Every template of the environment and the scenarios.
    pub templates: Templates,
    /// Carries out `approve` steps; when `None`, the environment's mode decides
    /// (`mock`: the bank mock's back office at var `bank_admin`; `wait`: nobody).
    pub approver: Option<Arc<dyn Approver>>,
    /// Moves the bank's clock; when `None` and the environment's clock is virtual, the
    /// bank mock's admin API at var `bank_admin`, firing the environment's `jobs`.
    pub clock: Option<Arc<dyn ClockControl>>,
}

impl Plan {
    /// A plan with the environment's own approval mode and clock.
    pub fn new(environment: Environment, scenarios: Vec<Scenario>, templates: Templates) -> Self {
        Self {
            environment,
            scenarios,
            templates,
            approver: None,
            clock: None,
        }
    }
}

/// The approver and the clock control of a run, when there are any.
pub(crate) type Controls = (Option<Arc<dyn Approver>>, Option<Arc<dyn ClockControl>>);

/// The approver and clock of a run: the plan's, or those the environment describes.
pub(crate) fn controls(
    plan: &Arc<Plan>,
    run_id: &str,
    vars: &rehearse_scenario::Vars,
    client: &reqwest::Client,
) -> Result<Controls, String> {
    let admin = vars
        .get("bank_admin")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    // The back office is called within the environment's request timeout, like any request.
    let timeout = plan.environment.request_timeout;
    let approver: Option<Arc<dyn Approver>> =
        match (&plan.approver, plan.environment.approvals, &admin) {
            (Some(a), _, _) => Some(Arc::clone(a)),
            (None, ApprovalMode::Wait, _) => Some(Arc::new(WaitApprover)),
            (None, ApprovalMode::Mock, Some(admin)) => Some(Arc::new(
                MockApprover::new(client.clone(), admin).with_timeout(timeout),
            )),
            (None, ApprovalMode::Mock, None) => None,
            (None, ApprovalMode::Http, _) => Some(Arc::new(HttpApprover::new(
                Arc::clone(plan),
                client.clone(),
                Arc::clone(vars),
                run_id.to_owned(),
            ))),
            // An operator's prompt is the composition root's business (it owns the
            // terminal): without one, `approve` steps fail clearly.
            (None, ApprovalMode::Prompt, _) => None,
        };
    let clock: Option<Arc<dyn ClockControl>> = match (&plan.clock, plan.environment.clock, &admin) {
        (Some(c), _, _) => Some(Arc::clone(c)),
        // Only a poll or an `advance_clock` moves the clock: a run with neither does not
        // render the jobs' triggers nor parse their cron expressions (~1 M instructions,
        // a tenth of a 1-step run).
        (None, ClockKind::Virtual, Some(_)) if !moves_clock(&plan.scenarios) => None,
        (None, ClockKind::Virtual, Some(admin)) => {
            let mut specs = Vec::new();
            for j in &plan.environment.jobs {
                let trigger = plan
                    .templates
                    .render_string(&j.trigger, vars)
                    .map_err(|e| format!("job `{}`: {}", j.name, e.message))?;
                specs.push((j.name.clone(), j.cron.clone(), trigger));
            }
            Some(Arc::new(
                HttpClock::new(client.clone(), admin, HttpClock::jobs(specs)?)
                    .with_timeout(timeout),
            ))
        }
        _ => None,
    };
    Ok((approver, clock))
}

/// Whether a step of `scenarios` (or of their cleanup) polls or advances the clock.
fn moves_clock(scenarios: &[Scenario]) -> bool {
    scenarios
        .iter()
        .flat_map(|s| s.steps.iter().chain(&s.cleanup))
        .any(|step| {
            step.poll.is_some() || matches!(step.action, rehearse_scenario::Action::AdvanceClock(_))
        })
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Sent as `X-Rehearse-Run` and shown in reports.
    pub run_id: String,
    /// Scenarios at once.
    pub jobs: usize,
    /// Stop starting scenarios after the first failure.
    pub fail_fast: bool,
    /// Values to mask everywhere (the environment's secrets).
    pub secrets: Vec<String>,
    /// The second Ctrl-C: cancelled after `run`'s `cancel`, it cuts cleanup short too
    /// (the cleanup steps in flight stop, those not begun are not run, all shown as
    /// `interrupted`) and the result is still returned at once. Never cancelled unless
    /// the caller does.
    pub quit: CancellationToken,
    /// Records what steps create, each before its scenario's next step starts, and what
    /// the run's cleanup removed (the ledger of test data); none by default.
    pub recorder: Option<Arc<dyn crate::ledger::Recorder>>,
    /// Keeps the place of each scenario that can wait, at each of its step boundaries
    /// (a resumable run); none by default, and then nothing is written.
    pub checkpointer: Option<Arc<dyn crate::resume::Checkpointer>>,
    /// Lets the caller suspend the run while its scenarios wait; none by default.
    pub suspension: Option<Arc<crate::resume::Suspension>>,
    /// A resumed run: where each scenario is taken up, by path. A scenario not named
    /// runs from its start.
    pub resume: Option<Arc<std::collections::BTreeMap<String, crate::resume::ResumeFrom>>>,
}

impl RunOptions {
    /// Options with a fresh run id and one job per CPU.
    pub fn new() -> Self {
        Self {
            run_id: new_run_id(),
            jobs: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            fail_fast: false,
            secrets: Vec::new(),
            quit: CancellationToken::new(),
            recorder: None,
            checkpointer: None,
            suspension: None,
            resume: None,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// A short, sortable, unique run id: `r-20261126T223000Z-1a2b3c`.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("r-{now}-{}", &rand[..6])
}

/// Runs every scenario of the plan. Sends events on `events` (the last one is
/// [`RunEvent::RunFinished`], which shares the result) and returns the result. `cancel` (Ctrl-C) stops the steps in
/// flight; cleanup still runs (until [`RunOptions::quit`]) and the result is still
/// returned. A panic inside a step is that step's error (`check` [`INTERNAL_ERROR`]), and
/// cleanup runs after it as after any error.
///
/// [`INTERNAL_ERROR`]: crate::INTERNAL_ERROR
pub async fn run(
    plan: Arc<Plan>,
    options: RunOptions,
    events: UnboundedSender<RunEvent>,
    cancel: CancellationToken,
) -> Result<Arc<RunResult>, ClientError> {
    let clients = Clients::for_environment(&plan.environment)?;
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let _ = events.send(RunEvent::RunStarted {
        run_id: options.run_id.clone(),
        environment: plan.environment.name.clone(),
        scenarios: plan.scenarios.len(),
    });
    let redactor = Redactor::new(options.secrets.iter().cloned());
    let base_vars =
        environment_vars(&plan).and_then(|vars| {
            let (approver, clock) = controls(&plan, &options.run_id, &vars, &clients.plain)
                .map_err(|message| rehearse_scenario::RenderError {
                    message,
                    span: None,
                    missing: Vec::new(),
                })?;
            Ok((vars, approver, clock))
        });
    let stop_new = cancel.child_token();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    // Exclusive scenarios take the write side: they run alone.
    let alone = Arc::new(tokio::sync::RwLock::new(()));
    let mut tasks = tokio::task::JoinSet::new();
    // Which scenario each task runs, to report one whose task panicked outside a step.
    let mut task_of = std::collections::HashMap::new();
    let mut results: Vec<Option<ScenarioResult>> = vec![None; plan.scenarios.len()];
    for index in 0..plan.scenarios.len() {
        // Admission in path order (so `--jobs 1` runs and prints in a stable order): a job
        // slot, then the shared lock, or the exclusive one for a scenario that runs alone.
        let exclusive = plan.scenarios[index].exclusive;
        let admission = async {
            let permit = Arc::clone(&permits).acquire_owned().await.ok()?;
            let guard = if exclusive {
                Guard::Write(Arc::clone(&alone).write_owned().await)
            } else {
                Guard::Read(Arc::clone(&alone).read_owned().await)
            };
            Some((permit, guard))
        };
        let suspension = options.suspension.clone();
        let suspended = || suspension.as_ref().is_some_and(|s| s.suspended());
        let admitted = if stop_new.is_cancelled() || suspended() {
            None
        } else {
            tokio::select! {
                a = admission => a,
                () = stop_new.cancelled() => None,
                () = async {
                    match &suspension {
                        Some(s) => s.fired().await,
                        None => std::future::pending().await,
                    }
                } => None,
            }
        };
        let Some(admitted) = admitted else {
            let status = if cancel.is_cancelled() || suspended() {
                Status::Interrupted
            } else {
                Status::Skipped
            };
            results[index] = Some(not_run(&plan.scenarios[index], status));
            continue;
        };
        // Take what has finished: a finished task holds its memory until it is joined.
        while let Some(joined) = tasks.try_join_next() {
            if let Ok((index, result)) = joined {
                results[index] = Some(result);
            }
        }
        let plan = Arc::clone(&plan);
        let clients = clients.clone();
        let events = events.clone();
        let cancel = cancel.clone();
        let quit = options.quit.clone();
        let stop_new = stop_new.clone();
        let redactor = redactor.clone();
        let run_id = options.run_id.clone();
        let base_vars = base_vars.clone();
        let fail_fast = options.fail_fast;
        let recorder = options.recorder.clone();
        let checkpointer = options.checkpointer.clone();
        let from = options
            .resume
            .as_ref()
            .and_then(|r| r.get(&plan.scenarios[index].path.display().to_string()))
            .cloned();
        let task = tasks.spawn(async move {
            let _admitted = admitted;
            // Counted while it runs: an exchange polls for its reply only in a run of one
            // scenario at a time (wire.rs, `Wire::scenario`).
            let _on_wire = clients.wire.as_deref().map(crate::wire::Wire::scenario);
            let _running = suspension
                .as_deref()
                .map(crate::resume::Suspension::running);
            let scenario = &plan.scenarios[index];
            let resume_from = match from {
                Some(crate::resume::ResumeFrom::Done(result)) => {
                    let _ = events.send(RunEvent::ScenarioStarted {
                        scenario: index,
                        path: result.path.clone(),
                        name: result.name.clone(),
                        trace_id: crate::trace::trace_id(),
                        started_at: std::time::SystemTime::now(),
                    });
                    let _ = events.send(RunEvent::ScenarioFinished {
                        scenario: index,
                        result: result.clone(),
                    });
                    return (index, result);
                }
                Some(crate::resume::ResumeFrom::At(c)) => Some(c),
                None => None,
            };
            let (vars, approver, clock) = match base_vars {
                Ok(v) => v,
                Err(e) => {
                    let mut r = not_run(scenario, Status::Error);
                    r.steps.insert(
                        0,
                        StepResult {
                            offset: None,
                            name: "environment variables".to_owned(),
                            location: e
                                .span
                                .as_ref()
                                .map_or_else(String::new, ToString::to_string),
                            status: Status::Error,
                            duration: std::time::Duration::ZERO,
                            attempts: Vec::new(),
                            failure: Some(crate::check::failure(
                                "environment vars",
                                "every var of the environment to render".to_owned(),
                                // "expected … to render, got `{{ env('X') }}`: …", not
                                // "got failed to render …".
                                redactor.mask(
                                    e.message
                                        .strip_prefix("failed to render ")
                                        .unwrap_or(&e.message),
                                ),
                                e.span.as_ref(),
                            )),
                            captures: Vec::new(),
                        },
                    );
                    return (index, r);
                }
            };
            let run = ScenarioRun {
                index,
                plan: &plan,
                clients: &clients,
                run_id: &run_id,
                events: &events,
                cancel: &cancel,
                quit: &quit,
                redactor,
                vars,
                approver,
                clock,
                trace_id: crate::trace::trace_id(),
                scenario_name: scenario.name.clone(),
                started: std::time::Instant::now(),
                jar: scenario.cookies.then(crate::cookies::Jar::default),
                recorder,
                recorded: Vec::new(),
                checkpointer,
                suspension: suspension.clone(),
                resume_from,
                poll_from: 0,
                suspended_at: None,
            };
            let result = run.run(scenario).await;
            if fail_fast && result.status != Status::Passed {
                stop_new.cancel();
            }
            (index, result)
        });
        task_of.insert(task.id(), index);
    }
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((_, (index, result))) => results[index] = Some(result),
            // A panic outside any step (a step's own is caught where it happens, and its
            // cleanup runs): the scenario is reported as an internal error.
            Err(e) => {
                if let Some(&index) = task_of.get(&e.id()) {
                    let why = if e.is_panic() {
                        crate::exec::panic_message(e.into_panic().as_ref())
                    } else {
                        e.to_string()
                    };
                    results[index] = Some(panicked(&plan.scenarios[index], &redactor.mask(&why)));
                }
            }
        }
    }
    let scenarios = results
        .into_iter()
        .zip(&plan.scenarios)
        .map(|(r, s)| r.unwrap_or_else(|| not_run(s, Status::Error)))
        .collect();
    let result = RunResult {
        run_id: options.run_id,
        environment: plan.environment.name.clone(),
        started_at,
        duration: started.elapsed(),
        scenarios,
        interrupted: cancel.is_cancelled(),
        preflight: Vec::new(),
        rehearse_version: env!("CARGO_PKG_VERSION").to_owned(),
        bank_api_version: base_vars
            .as_ref()
            .ok()
            .and_then(|(vars, ..)| vars.get("bank_api_version"))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
        aborted: None,
    };
    let result = Arc::new(result);
    let _ = events.send(RunEvent::RunFinished {
        result: Arc::clone(&result),
    });
    Ok(result)
}

/// Held while a scenario runs: shared, or alone for an exclusive one.
enum Guard {
    Read(#[expect(dead_code, reason = "held for its drop")] tokio::sync::OwnedRwLockReadGuard<()>),
    Write(
        #[expect(dead_code, reason = "held for its drop")] tokio::sync::OwnedRwLockWriteGuard<()>,
    ),
}

/// The plan's scenarios as a run stopped by Ctrl-C before any began (during pre-flight)
/// reports them: `interrupted`, their steps not run.
pub fn not_started(plan: &Plan) -> Vec<ScenarioResult> {
    plan.scenarios
        .iter()
        .map(|s| not_run(s, Status::Interrupted))
        .collect()
}

/// A scenario whose task panicked outside a step: its steps not run, and a step that says
/// why.
fn panicked(s: &Scenario, why: &str) -> ScenarioResult {
    let mut r = not_run(s, Status::Error);
    r.steps.insert(
        0,
        StepResult {
            offset: None,
            name: "run the scenario".to_owned(),
            location: s.span.to_string(),
            status: Status::Error,
            duration: std::time::Duration::ZERO,
            attempts: Vec::new(),
            failure: Some(crate::check::failure(
                crate::INTERNAL_ERROR,
                "the scenario to run to its end".to_owned(),
                format!("rehearse panicked: {why} (a bug: please report it)"),
                Some(&s.span),
            )),
            captures: Vec::new(),
        },
    );
    r
}

fn not_run(s: &Scenario, status: Status) -> ScenarioResult {
    ScenarioResult {
        path: s.path.display().to_string(),
        name: s.name.clone(),
        tags: s.tags.clone(),
        owner: s.owner.clone(),
        status,
        duration: std::time::Duration::ZERO,
        steps: s.steps.iter().map(crate::exec::skipped).collect(),
        cleanup: Vec::new(),
        retries: 0,
    }
}
