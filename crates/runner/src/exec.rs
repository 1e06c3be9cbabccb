//! Running one scenario: its steps, then its cleanup.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rehearse_scenario::{Action, Request, Scenario, Step, Vars};
use serde_json::Value as Json;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::check::{self, Response};
use crate::control::{ApprovalRequest, Approver, ClockControl};
use crate::cookies::Jar;
use crate::event::{Phase, RunEvent};
use crate::http::Clients;
use crate::prepare::{Prepared, prepare};
use crate::redact::Redactor;
use crate::result::{
    Attempt, Failure, RequestRecord, ResponseRecord, ScenarioResult, Status, StepResult,
};
use crate::run::Plan;

mod approve;
mod checkpoint;
mod guard;
mod ledger;
mod record;

pub(crate) use guard::panic_message;
pub(crate) use ledger::run_cleanup;

use crate::send::{Exchange, Session, exchange};
use record::is_token;

/// Why a step that did not pass ended.
#[derive(Clone, Copy)]
enum Ending {
    /// A `fail_if` held.
    Terminal,
    /// The poll's (or the request's) time ran out.
    Deadline,
    /// The poll's time ran out during an attempt, which it cut short.
    DeadlineInFlight,
    /// A poll on a virtual clock moved bank time through [`MAX_VIRTUAL_TICKS`] job ticks.
    BankDay,
}

/// A poll on a virtual clock gives up after this many job ticks (a day of 5-minute ticks).
const MAX_VIRTUAL_TICKS: u32 = 288;

/// Pause before a network-level retry.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// How much of a request's text body is searched for values a response echoes.
const PUBLIC_BODY: usize = 1 << 20;

/// Longest body excerpt kept in results.
const BODY_EXCERPT: usize = 2048;

pub(crate) struct ScenarioRun<'a> {
    pub(crate) index: usize,
    pub(crate) plan: &'a Plan,
    pub(crate) clients: &'a Clients,
    pub(crate) run_id: &'a str,
    pub(crate) events: &'a UnboundedSender<RunEvent>,
    pub(crate) cancel: &'a CancellationToken,
    /// The second Ctrl-C: cleanup is cut short too.
    pub(crate) quit: &'a CancellationToken,
    pub(crate) redactor: Redactor,
    pub(crate) vars: Vars,
    pub(crate) approver: Option<Arc<dyn Approver>>,
    pub(crate) clock: Option<Arc<dyn ClockControl>>,
    pub(crate) trace_id: String,
    pub(crate) scenario_name: String,
    /// When the scenario started: step and attempt offsets count from here.
    pub(crate) started: Instant,
    /// The scenario's cookies (none when it says `cookies: false`).
    pub(crate) jar: Option<Jar>,
    /// Records what the scenario's steps create (the ledger of test data).
    pub(crate) recorder: Option<Arc<dyn crate::ledger::Recorder>>,
    /// What this scenario recorded, for its cleanup to mark removed.
    pub(crate) recorded: Vec<ledger::Recorded>,
    /// Keeps the scenario's place at its step boundaries (a resumable run).
    pub(crate) checkpointer: Option<Arc<dyn crate::resume::Checkpointer>>,
    /// The run's suspension, when it can be suspended.
    pub(crate) suspension: Option<Arc<crate::resume::Suspension>>,
    /// Where a resumed run takes the scenario up.
    pub(crate) resume_from: Option<crate::resume::Checkpoint>,
    /// The attempts a resumed poll counts on from (taken by the first poll).
    pub(crate) poll_from: u32,
    /// The attempts of the poll the suspension stopped.
    pub(crate) suspended_at: Option<u32>,
}

enum Outcome {
    Passed,
    Failed,
    Interrupted,
    /// The run was suspended while the step waited: the scenario stops, without cleanup.
    Suspended,
}

impl ScenarioRun<'_> {
    pub(crate) async fn run(mut self, scenario: &Scenario) -> ScenarioResult {
        let started = Instant::now();
        let _ = self.events.send(RunEvent::ScenarioStarted {
            scenario: self.index,
            path: scenario.path.display().to_string(),
            name: scenario.name.clone(),
            trace_id: self.trace_id.clone(),
            // The wall-clock instant step and attempt offsets count from.
            started_at: std::time::SystemTime::now()
                .checked_sub(self.started.elapsed())
                .unwrap_or_else(std::time::SystemTime::now),
        });
        let mut status = Status::Passed;
        let mut steps = Vec::with_capacity(scenario.steps.len());
        let base = Arc::clone(&self.vars);
        let waitable = self.checkpointer.is_some() && crate::resume::can_wait(scenario);
        let from = self.resume_from.take();
        let first = from.as_ref().map_or(0, |c| c.next_step);

        // Variables: the environment's, then the scenario's, in order; a resumed scenario's
        // stored values over them.
        let mut bind_error = self.bind_vars(&scenario.vars);
        if let Some(from) = from {
            steps = from.steps;
            self.poll_from = from.poll_attempts;
            bind_error = bind_error
                .or_else(|| self.resumed_vars(scenario, first, from.vars, &from.withheld));
        }
        if first > 0 && bind_error.is_none() && self.recorder.is_some() {
            // What the steps done created: their ledger records again (recording one twice
            // is a no-op), so this run's cleanup marks them removed.
            let done: Vec<StepResult> = steps.iter().take(first).cloned().collect();
            for (idx, r) in done.iter().enumerate() {
                if matches!(r.status, Status::Passed | Status::Flaky) {
                    self.record_created(scenario, idx, r).await;
                }
            }
        }
        let mut stopped = bind_error.is_some();
        if let Some(f) = bind_error {
            status = Status::Error;
            steps.push(StepResult {
                offset: None,
                name: "bind variables".to_owned(),
                location: scenario.span.to_string(),
                status: Status::Error,
                duration: Duration::ZERO,
                attempts: Vec::new(),
                failure: Some(f),
                captures: Vec::new(),
            });
        }
        let mut suspended = false;
        for (idx, step) in scenario.steps.iter().enumerate().skip(first) {
            if stopped {
                steps.push(skipped(step));
                continue;
            }
            let (result, outcome) = self.guarded_step(step, Phase::Steps, self.cancel).await;
            if matches!(outcome, Outcome::Passed) {
                // Before the next step starts: a run killed from now on leaves the record.
                self.record_created(scenario, idx, &result).await;
            }
            if waitable {
                match outcome {
                    Outcome::Passed => {
                        self.checkpoint(scenario, idx + 1, 0, &steps, &result, &base)
                            .await
                    }
                    Outcome::Suspended => {
                        let attempts = self.suspended_at.take().unwrap_or(0);
                        self.checkpoint_at(scenario, idx, attempts, &steps, &base)
                            .await;
                    }
                    _ => {}
                }
            }
            match outcome {
                Outcome::Suspended => {
                    status = Status::Interrupted;
                    stopped = true;
                    suspended = true;
                }
                Outcome::Passed if result.status == Status::Flaky && status == Status::Passed => {
                    status = Status::Flaky;
                }
                Outcome::Passed => {}
                Outcome::Failed => {
                    status = result.status;
                    stopped = true;
                }
                Outcome::Interrupted => {
                    status = Status::Interrupted;
                    stopped = true;
                }
            }
            steps.push(result);
        }
        // Cleanup always runs, after a failure, a panic and Ctrl-C too; it is not itself
        // interrupted by the first Ctrl-C (each request still has its timeout), only by the
        // second, after which the cleanup steps not yet begun are not run.
        // A suspended scenario keeps what it made for the resumed run: no cleanup.
        let quit = self.quit;
        let mut cleanup = Vec::with_capacity(scenario.cleanup.len());
        for (idx, step) in scenario.cleanup.iter().enumerate() {
            if suspended {
                break;
            }
            if quit.is_cancelled() {
                let mut result = skipped(step);
                result.status = Status::Interrupted;
                cleanup.push(result);
                continue;
            }
            let (result, _) = self.guarded_step(step, Phase::Cleanup, quit).await;
            self.record_cleaned(idx, &result).await;
            cleanup.push(result);
        }
        let result = ScenarioResult {
            path: scenario.path.display().to_string(),
            name: scenario.name.clone(),
            tags: scenario.tags.clone(),
            owner: scenario.owner.clone(),
            status,
            duration: started.elapsed(),
            steps,
            cleanup,
            retries: 0,
        };
        if waitable && !suspended {
            self.checkpoint_finished(scenario, &result).await;
        }
        let _ = self.events.send(RunEvent::ScenarioFinished {
            scenario: self.index,
            result: result.clone(),
        });
        result
    }

    fn bind_vars(&mut self, vars: &[(String, rehearse_scenario::TplValue)]) -> Option<Failure> {
        for (name, value) in vars {
            match self.plan.templates.render_value(value, &self.vars) {
                Ok(v) => {
                    Arc::make_mut(&mut self.vars).insert(name.clone(), v);
                }
                Err(e) => {
                    return Some(check::failure(
                        format!("variable `{name}`"),
                        "a value".to_owned(),
                        self.redactor.mask(&e.message),
                        e.span.as_ref(),
                    ));
                }
            }
        }
        None
    }

    async fn step(
        &mut self,
        step: &Step,
        phase: Phase,
        cancel: &CancellationToken,
    ) -> (StepResult, Outcome) {
        let started = Instant::now();
        let _ = self.events.send(RunEvent::StepStarted {
            scenario: self.index,
            step: step.name.clone(),
            phase,
            poll_timeout: step.poll.as_ref().map(|p| p.timeout),
        });
        let mut result = StepResult {
            offset: Some(started.saturating_duration_since(self.started)),
            name: step.name.clone(),
            location: step.span.to_string(),
            status: Status::Passed,
            duration: Duration::ZERO,
            attempts: Vec::new(),
            failure: None,
            captures: Vec::new(),
        };
        let outcome = match &step.action {
            Action::Wait(d) => {
                tokio::select! {
                    () = tokio::time::sleep(*d) => Outcome::Passed,
                    () = cancel.cancelled() => Outcome::Interrupted,
                }
            }
            Action::Bind(binds) => match self.bind_vars(binds) {
                None => Outcome::Passed,
                Some(f) => {
                    result.failure = Some(f);
                    result.status = Status::Error;
                    Outcome::Failed
                }
            },
            Action::Request(req) => {
                self.request_step(step, req, phase, cancel, &mut result)
                    .await
            }
            Action::Approve(a) => self.approve_step(step, a, cancel, &mut result).await,
            Action::AdvanceClock(by) => {
                let Some(clock) = self.clock.clone() else {
                    return self.finish_without(
                        step,
                        phase,
                        started,
                        result,
                        "the environment's clock cannot be advanced (it is not virtual)",
                    );
                };
                tokio::select! {
                    r = clock.advance(*by) => match r {
                        Ok(summary) => {
                            result.captures.push(("bank_clock".to_owned(), summary));
                            Outcome::Passed
                        }
                        Err(e) => {
                            result.status = Status::Error;
                            result.failure = Some(step_failure(step, "advance_clock", format!("the bank's clock to move {}", humantime::format_duration(*by)), self.redactor.mask(&e)));
                            Outcome::Failed
                        }
                    },
                    () = cancel.cancelled() => Outcome::Interrupted,
                }
            }
        };
        if matches!(outcome, Outcome::Interrupted | Outcome::Suspended) {
            result.status = Status::Interrupted;
        }
        if matches!(outcome, Outcome::Suspended) {
            result
                .captures
                .push(("suspended".to_owned(), "the run was suspended while this step waited; `rehearse resume` carries it out again".to_owned()));
        }
        result.duration = started.elapsed();
        // Kept to the run's end: a vector pushed to holds room for four attempts (240
        // bytes each) where a plain request makes one, some 18 MB of a 5,000-scenario run.
        result.attempts.shrink_to_fit();
        result.captures.shrink_to_fit();
        let _ = self.events.send(RunEvent::StepFinished {
            scenario: self.index,
            phase,
            result: result.clone(),
        });
        (result, outcome)
    }

    fn finish_without(
        &self,
        step: &Step,
        phase: Phase,
        started: Instant,
        mut result: StepResult,
        why: &str,
    ) -> (StepResult, Outcome) {
        result.status = Status::Error;
        result.failure = Some(step_failure(
            step,
            "step",
            "it to be possible here".to_owned(),
            why.to_owned(),
        ));
        result.duration = started.elapsed();
        let _ = self.events.send(RunEvent::StepFinished {
            scenario: self.index,
            phase,
            result: result.clone(),
        });
        (result, Outcome::Failed)
    }

    async fn request_step(
        &mut self,
        step: &Step,
        req: &Request,
        phase: Phase,
        cancel: &CancellationToken,
        result: &mut StepResult,
    ) -> Outcome {
        let templates = &self.plan.templates;
        let cookies = match req
            .cookies
            .iter()
            .map(|(k, v)| Ok((k.clone(), templates.render_string(v, &self.vars)?)))
            .collect::<Result<Vec<_>, rehearse_scenario::RenderError>>()
        {
            Ok(c) => c,
            Err(e) if phase == Phase::Cleanup && !e.missing.is_empty() => {
                result.status = Status::Skipped;
                result.captures.push((
                    "skipped".to_owned(),
                    format!("needs {}, which was never captured", e.missing.join(", ")),
                ));
                return Outcome::Passed;
            }
            Err(e) => {
                result.status = Status::Error;
                result.failure = Some(check::failure(
                    "template",
                    render_expected(&e),
                    self.redactor.mask(&e.message),
                    e.span.as_ref(),
                ));
                return Outcome::Failed;
            }
        };
        let timeout = req.timeout.unwrap_or(self.plan.environment.request_timeout);
        let poll = step.poll.as_ref();
        // A poll's time is counted from here. No deadline `Instant` is computed: adding a
        // duration to an instant can overflow (a plan built in code may carry any
        // duration; files are bounded to 366 days at validation), subtracting cannot.
        let polling = Instant::now();
        let poll_left = || poll.map(|p| p.timeout.saturating_sub(polling.elapsed()));
        let mut interval = poll.map_or(Duration::ZERO, |p| p.every);
        let mut number = std::mem::take(&mut self.poll_from);
        let mut virtual_ticks = 0u32;
        let mut retries_left = req.retries.unwrap_or(self.plan.environment.retries);
        let mut retried = false;
        // Prepared again for every attempt of a poll (`uuid()`, `now()` and variables are
        // rendered anew); a network-level retry resends the same request unchanged, so an
        // `Idempotency-Key: {{ uuid() }}` stays the same across retries.
        let mut resend: Option<Prepared> = None;
        // A poll is waiting from its start (a suspension asked for during an attempt
        // happens when the attempt ends): the run may be suspended between its attempts.
        let suspension = self.suspension.clone();
        let _waiting = poll
            .and(suspension.as_deref())
            .map(crate::resume::Suspension::waiting);
        loop {
            number = number.saturating_add(1);
            let prepared = match resend.take() {
                Some(p) => p,
                None => match self.prepare(req, phase, result) {
                    Ok(p) => p,
                    Err(outcome) => return outcome,
                },
            };
            let carries_secret = self.carries_secret(&prepared)
                || cookies
                    .iter()
                    .any(|(_, v)| self.redactor.contains_secret(v));
            let sent = Instant::now();
            let session = Session {
                follow: req.follow_redirects,
                jar: self.jar.as_mut(),
                cookies: cookies.clone(),
                wire: self.clients.wire.as_deref(),
            };
            let span_id = crate::trace::span_id();
            let sending = exchange(
                &self.clients.plain,
                &prepared,
                session,
                timeout,
                (&self.trace_id, &span_id),
                self.run_id,
            );
            let mut cut = false;
            let exchange = match (poll, poll_left()) {
                // The poll's deadline comes before the request's timeout: it cuts the
                // request in flight.
                (Some(p), Some(left)) if left < timeout => tokio::select! {
                    r = tokio::time::timeout(left, sending) => r.unwrap_or_else(|_| {
                        cut = true;
                        Exchange {
                            outcome: Err(format!(
                                "the poll's {} ran out while waiting for a response",
                                humantime::format_duration(p.timeout)
                            )),
                            duration: sent.elapsed(),
                            cookie: None,
                        }
                    }),
                    () = cancel.cancelled() => return Outcome::Interrupted,
                },
                _ => tokio::select! {
                    r = sending => r,
                    () = cancel.cancelled() => return Outcome::Interrupted,
                },
            };
            // A session cookie that is a token makes the request carry a secret too.
            let carries_secret = carries_secret
                || exchange
                    .cookie
                    .as_ref()
                    .is_some_and(|c| self.redactor.contains_secret(c));
            let mut attempt = Attempt {
                offset: Some(sent.saturating_duration_since(self.started)),
                number,
                request: self.record_request(&prepared, exchange.cookie.as_deref()),
                response: None,
                duration: exchange.duration,
                error: None,
                failures: Vec::new(),
            };
            let mut terminal = false;
            let mut retry_after = None;
            match &exchange.outcome {
                Err(e) => attempt.error = Some(self.redactor.mask(e)),
                Ok(resp) => {
                    if carries_secret {
                        // A cookie set in answer to a request that carried a secret is a
                        // token, as a capture would be.
                        for v in &resp.set_cookie_values {
                            self.redactor.add(v.clone());
                        }
                    }
                    if carries_secret || step.captures.iter().any(|c| c.secret == Some(true)) {
                        // What this response would give a capture (a token) is a secret:
                        // learn it before the response is recorded and sent in an event.
                        let public = self.public_text(&prepared);
                        for c in &step.captures {
                            if let Ok(value) = check::capture(c, resp, templates, &self.vars) {
                                let text = capture_text(&value);
                                if is_token(c.secret, carries_secret, &text, &public) {
                                    self.redactor.add(text);
                                }
                            }
                        }
                    }
                    attempt.response = Some(self.record_response(resp));
                    retry_after = resp.retry_after();
                    attempt.failures =
                        check::expect(&step.expect, resp, exchange.duration, templates, &self.vars)
                            .into_iter()
                            .map(|f| self.mask_failure(f))
                            .collect();
                    if let Some(p) = poll
                        && let Some(f) = check::fail_if(&p.fail_if, resp, templates, &self.vars)
                    {
                        attempt.failures.insert(0, self.mask_failure(f));
                        terminal = true;
                    }
                }
            }
            // Kept to the run's end: the collect above reuses `expect`'s vector, which has
            // room for four failures (120 bytes each) when a poll's attempt has one.
            attempt.failures.shrink_to_fit();
            let passed = attempt.error.is_none() && attempt.failures.is_empty();
            let time_left = poll_left();
            let _ = self.events.send(RunEvent::AttemptFinished {
                scenario: self.index,
                step: step.name.clone(),
                attempt: attempt.clone(),
                time_left,
                span_id,
            });
            result.attempts.push(attempt);
            record::thin_kept_attempts(&mut result.attempts);
            if passed && let Ok(resp) = &exchange.outcome {
                let public = if carries_secret {
                    self.public_text(&prepared)
                } else {
                    String::new()
                };
                let outcome = self.capture(step, resp, carries_secret, &public, result);
                if retried && matches!(outcome, Outcome::Passed) {
                    // Passed, but only after a network-level retry: not a plain pass.
                    result.status = Status::Flaky;
                }
                return outcome;
            }
            // A network-level failure (no response at all) of a plain request is retried
            // as many times as allowed; polls already try again.
            if poll.is_none() && exchange.outcome.is_err() && retries_left > 0 {
                retries_left -= 1;
                retried = true;
                tokio::select! {
                    () = tokio::time::sleep(RETRY_PAUSE) => {},
                    () = cancel.cancelled() => return Outcome::Interrupted,
                }
                resend = Some(prepared);
                continue;
            }
            // A poll's next attempt is prepared anew (`resend` stays empty).
            drop(prepared);
            // Not passed: stop now unless a poll has time left.
            let left = match (poll, time_left) {
                (Some(_), Some(left)) if !terminal && !left.is_zero() => left,
                _ => {
                    return self.fail(
                        step,
                        result,
                        if terminal {
                            Ending::Terminal
                        } else if cut {
                            Ending::DeadlineInFlight
                        } else {
                            Ending::Deadline
                        },
                    );
                }
            };
            if let Some(clock) = self.clock.clone() {
                // A virtual clock: between attempts, bank time moves to the next due job
                // tick (the platform's poller, say) instead of the harness sleeping.
                virtual_ticks += 1;
                if virtual_ticks > MAX_VIRTUAL_TICKS {
                    return self.fail(step, result, Ending::BankDay);
                }
                let moved = tokio::select! {
                    r = clock.next_tick() => r,
                    () = cancel.cancelled() => return Outcome::Interrupted,
                };
                if let Err(e) = moved {
                    result.status = Status::Error;
                    result.failure = Some(step_failure(
                        step,
                        "poll",
                        "the bank's virtual clock to move to the next tick".to_owned(),
                        self.redactor.mask(&e),
                    ));
                    return Outcome::Failed;
                }
                continue;
            }
            let mut wait = interval;
            if let Some(ra) = retry_after {
                wait = wait.max(ra);
            }
            if wait >= left {
                // The next attempt would start after the deadline: one last try at the
                // deadline is pointless, so report now with the last response.
                tokio::select! {
                    () = tokio::time::sleep(left) => {},
                    () = cancel.cancelled() => return Outcome::Interrupted,
                    () = suspension_fired(self.suspension.as_deref()) => {
                        self.suspended_at = Some(number);
                        return Outcome::Suspended;
                    }
                }
                return self.fail(step, result, Ending::Deadline);
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {},
                () = cancel.cancelled() => return Outcome::Interrupted,
                () = suspension_fired(self.suspension.as_deref()) => {
                    self.suspended_at = Some(number);
                    return Outcome::Suspended;
                }
            }
            if let Some(p) = poll {
                // Checked: `mul_f64` panics past what a Duration holds.
                let next = Duration::try_from_secs_f64(interval.as_secs_f64() * p.backoff)
                    .unwrap_or(rehearse_scenario::MAX_DURATION);
                interval = p.max_every.map_or(next, |m| next.min(m));
            }
        }
    }

    fn fail(&self, step: &Step, result: &mut StepResult, ending: Ending) -> Outcome {
        let attempts = result.attempts.len();
        // An attempt the poll's deadline cut short has no response: the last one that had
        // is what the failure shows, when there is one.
        let last = match ending {
            Ending::DeadlineInFlight => result
                .attempts
                .iter()
                .rev()
                .find(|a| a.response.is_some())
                .or(result.attempts.last()),
            _ => result.attempts.last(),
        };
        let transport = last.and_then(|a| a.error.clone());
        let mut failure = match (last.and_then(|a| a.failures.first().cloned()), transport) {
            (Some(f), _) => f,
            (None, Some(err)) => step_failure(step, "request", "a response".to_owned(), err),
            (None, None) => Failure {
                check: "step".to_owned(),
                expected: "success".to_owned(),
                actual: "failure".to_owned(),
                location: Some(step.span.to_string()),
                source_line: None,
            },
        };
        if step.poll.is_some() {
            let why = match ending {
                Ending::Terminal => "terminal state reached",
                Ending::Deadline | Ending::DeadlineInFlight => "poll timed out",
                Ending::BankDay => "a day of bank time passed",
            };
            failure.actual = format!(
                "{} ({why} after {attempts} attempt{})",
                failure.actual,
                if attempts == 1 { "" } else { "s" }
            );
        }
        result.status = if last.is_some_and(|a| a.error.is_some() && a.failures.is_empty()) {
            Status::Error
        } else {
            Status::Failed
        };
        result.failure = Some(failure);
        Outcome::Failed
    }

    fn capture(
        &mut self,
        step: &Step,
        resp: &Response,
        secret: bool,
        public: &str,
        result: &mut StepResult,
    ) -> Outcome {
        for c in &step.captures {
            match check::capture(c, resp, &self.plan.templates, &self.vars) {
                Ok(value) => {
                    let text = capture_text(&value);
                    if is_token(c.secret, secret, &text, public) {
                        self.redactor.add(text.clone());
                    }
                    result
                        .captures
                        .push((c.var.clone(), self.redactor.mask(&text)));
                    Arc::make_mut(&mut self.vars).insert(c.var.clone(), value);
                }
                Err(f) => {
                    result.status = Status::Failed;
                    result.failure = Some(self.mask_failure(f));
                    return Outcome::Failed;
                }
            }
        }
        Outcome::Passed
    }

    /// Renders the request; on failure the step's outcome (a cleanup step whose id was
    /// never captured is skipped, not failed).
    fn prepare(
        &mut self,
        req: &Request,
        phase: Phase,
        result: &mut StepResult,
    ) -> Result<Prepared, Outcome> {
        match prepare(&self.plan.templates, req, &self.vars) {
            Ok(p) => {
                for c in &p.credentials {
                    // What `auth` puts on the wire is a credential, whatever it was made of.
                    self.redactor.add(c.clone());
                }
                Ok(p)
            }
            Err(e) if phase == Phase::Cleanup && !e.missing.is_empty() => {
                // Cleanup of something that was never created (its id was never captured):
                // nothing to clean up.
                result.status = Status::Skipped;
                result.captures.push((
                    "skipped".to_owned(),
                    format!("needs {}, which was never captured", e.missing.join(", ")),
                ));
                Err(Outcome::Passed)
            }
            Err(e) => {
                result.status = Status::Error;
                result.failure = Some(check::failure(
                    "template",
                    render_expected(&e),
                    self.redactor.mask(&e.message),
                    e.span.as_ref(),
                ));
                Err(Outcome::Failed)
            }
        }
    }
}

/// Completes when the run is suspended; never without a suspension.
async fn suspension_fired(s: Option<&crate::resume::Suspension>) {
    match s {
        Some(s) => s.fired().await,
        None => std::future::pending().await,
    }
}

/// What a template that failed to render was expected to do.
fn render_expected(e: &rehearse_scenario::RenderError) -> String {
    if e.missing.is_empty() {
        "the template to render".to_owned()
    } else {
        "every variable to be set".to_owned()
    }
}

/// A captured value as text, the way it is shown and masked.
fn capture_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn step_failure(step: &Step, check: &str, expected: String, actual: String) -> Failure {
    check::failure(check, expected, actual, Some(&step.span))
}

pub(crate) fn skipped(step: &Step) -> StepResult {
    StepResult {
        offset: None,
        name: step.name.clone(),
        location: step.span.to_string(),
        status: Status::Skipped,
        duration: Duration::ZERO,
        attempts: Vec::new(),
        failure: None,
        captures: Vec::new(),
    }
}

/// The starting variables of every scenario: the environment's, rendered once.
pub(crate) fn environment_vars(plan: &Plan) -> Result<Vars, rehearse_scenario::RenderError> {
    let mut vars: Vars = Arc::new(HashMap::new());
    for (name, value) in &plan.environment.vars {
        let v = plan.templates.render_value(value, &vars)?;
        Arc::make_mut(&mut vars).insert(name.clone(), v);
    }
    Ok(vars)
}
