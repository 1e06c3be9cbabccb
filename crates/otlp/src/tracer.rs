//! Run events into spans: one trace per scenario (the trace id its requests' `traceparent`
//! carries), a root span for the scenario, a span per step under it, and a client span per
//! attempt under its step whose id is the `traceparent`'s parent id, so the system under
//! test's spans for that request are its children.
//!
//! Attribute names are OpenTelemetry's semantic conventions: `test.suite.name` (the scenario
//! file, as the JUnit report's testsuite), `test.case.name` (the scenario, as its testcase),
//! `test.case.result.status` (`pass` / `fail`), `http.request.method`, `url.full`,
//! `http.response.status_code`, `http.request.resend_count`, `error.type`; rehearse's own
//! under `rehearse.*`. Every text comes from the runner's records, which are masked: no
//! secret reaches a span.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use rehearse_runner::{Attempt, Phase, RunEvent, ScenarioResult, Status, StepResult};

use crate::wire::{
    KIND_CLIENT, KIND_INTERNAL, KeyValue, STATUS_ERROR, STATUS_OK, Span, int, text, unix_nanos,
};

/// What is known of a scenario in flight.
#[derive(Debug)]
struct Open {
    trace_id: String,
    span_id: String,
    started_at: SystemTime,
    path: String,
    name: String,
    /// The step in flight: its span id.
    step: Option<String>,
}

/// Turns events into finished spans, in the order they finish (children before parents).
#[derive(Debug, Default)]
pub(crate) struct Tracer {
    run_id: String,
    environment: String,
    open: HashMap<usize, Open>,
}

impl Tracer {
    /// The spans `event` finishes (none for most).
    pub(crate) fn spans(&mut self, event: &RunEvent) -> Vec<Span> {
        match event {
            RunEvent::RunStarted {
                run_id,
                environment,
                ..
            } => {
                self.run_id.clone_from(run_id);
                self.environment.clone_from(environment);
                Vec::new()
            }
            RunEvent::ScenarioStarted {
                scenario,
                path,
                name,
                trace_id,
                started_at,
            } => {
                self.open.insert(
                    *scenario,
                    Open {
                        trace_id: trace_id.clone(),
                        span_id: span_id(),
                        started_at: *started_at,
                        path: path.clone(),
                        name: name.clone(),
                        step: None,
                    },
                );
                Vec::new()
            }
            RunEvent::StepStarted { scenario, .. } => {
                if let Some(open) = self.open.get_mut(scenario) {
                    open.step = Some(span_id());
                }
                Vec::new()
            }
            RunEvent::AttemptFinished {
                scenario,
                step,
                attempt,
                span_id,
                ..
            } => self
                .open
                .get_mut(scenario)
                .map(|open| vec![attempt_span(open, step, attempt, span_id)])
                .unwrap_or_default(),
            RunEvent::StepFinished {
                scenario,
                phase,
                result,
            } => self
                .open
                .get_mut(scenario)
                .map(|open| vec![step_span(open, *phase, result)])
                .unwrap_or_default(),
            RunEvent::ScenarioFinished { scenario, result } => self
                .open
                .remove(scenario)
                .map(|open| vec![self.scenario_span(&open, result)])
                .unwrap_or_default(),
            RunEvent::RunFinished { .. } => Vec::new(),
        }
    }

    fn scenario_span(&self, open: &Open, result: &ScenarioResult) -> Span {
        let mut attributes = common(open);
        attributes.push(text("test.case.result.status", case_status(result.status)));
        attributes.push(text("rehearse.status", result.status.as_str()));
        attributes.push(text("rehearse.run.id", self.run_id.as_str()));
        attributes.push(text("rehearse.environment", self.environment.as_str()));
        if let Some(owner) = &result.owner {
            attributes.push(text("rehearse.owner", owner.as_str()));
        }
        if result.retries > 0 {
            attributes.push(int("rehearse.retries", result.retries));
        }
        let message = result
            .first_failure()
            .map(|(step, f)| format!("{}: {f}", step.name))
            .unwrap_or_default();
        Span {
            trace_id: open.trace_id.clone(),
            span_id: open.span_id.clone(),
            parent_span_id: String::new(),
            name: open.name.clone(),
            kind: KIND_INTERNAL,
            start_time_unix_nano: unix_nanos(open.started_at),
            end_time_unix_nano: unix_nanos(after(open.started_at, result.duration)),
            attributes,
            status: status(result.status, message),
        }
    }
}

/// A span id: 16 lowercase hex digits, never all zeros.
fn span_id() -> String {
    let bits = uuid::Uuid::new_v4().as_u64_pair().0;
    format!("{:016x}", bits.max(1))
}

fn after(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).unwrap_or(t)
}

/// The attributes every span of a scenario carries.
fn common(open: &Open) -> Vec<KeyValue> {
    vec![
        text("test.suite.name", open.path.as_str()),
        text("test.case.name", open.name.as_str()),
    ]
}

/// `test.case.result.status`: `pass` or `fail` (the only values the convention has).
fn case_status(status: Status) -> &'static str {
    match status {
        Status::Passed | Status::Flaky | Status::Skipped => "pass",
        Status::Failed | Status::Error | Status::Interrupted => "fail",
    }
}

fn status(status: Status, message: String) -> crate::wire::Status {
    match status {
        Status::Failed | Status::Error | Status::Interrupted => crate::wire::Status {
            code: STATUS_ERROR,
            message,
        },
        Status::Passed | Status::Flaky | Status::Skipped => crate::wire::Status {
            code: STATUS_OK,
            message: String::new(),
        },
    }
}

fn step_span(open: &mut Open, phase: Phase, result: &StepResult) -> Span {
    let span_id = open.step.take().unwrap_or_else(span_id);
    let start = after(open.started_at, result.offset.unwrap_or_default());
    let mut attributes = common(open);
    attributes.push(text("rehearse.step.name", result.name.as_str()));
    attributes.push(text("rehearse.step.location", result.location.as_str()));
    attributes.push(text(
        "rehearse.step.phase",
        match phase {
            Phase::Steps => "steps",
            Phase::Cleanup => "cleanup",
        },
    ));
    attributes.push(text("rehearse.status", result.status.as_str()));
    attributes.push(int(
        "rehearse.step.attempts",
        i64::try_from(result.attempts.len()).unwrap_or(i64::MAX),
    ));
    let message = result
        .failure
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    Span {
        trace_id: open.trace_id.clone(),
        span_id,
        parent_span_id: open.span_id.clone(),
        name: result.name.clone(),
        kind: KIND_INTERNAL,
        start_time_unix_nano: unix_nanos(start),
        end_time_unix_nano: unix_nanos(after(start, result.duration)),
        attributes,
        status: status(result.status, message),
    }
}

fn attempt_span(open: &mut Open, step: &str, attempt: &Attempt, span_id: &str) -> Span {
    // An attempt outside a StepStarted (not sent today) still gets a parent.
    let parent = open.step.get_or_insert_with(self::span_id).clone();
    let start = after(open.started_at, attempt.offset.unwrap_or_default());
    let mut attributes = common(open);
    attributes.push(text("rehearse.step.name", step));
    attributes.push(text("http.request.method", attempt.request.method.as_str()));
    // The runner's record of the URL: secrets already masked.
    attributes.push(text("url.full", attempt.request.url.as_str()));
    if attempt.number > 1 {
        attributes.push(int(
            "http.request.resend_count",
            attempt.number.saturating_sub(1),
        ));
    }
    attributes.push(int("rehearse.attempt.number", attempt.number));
    if let Some(r) = &attempt.response {
        attributes.push(int("http.response.status_code", r.status));
    }
    let (code, message) = if let Some(e) = &attempt.error {
        attributes.push(text("error.type", "transport"));
        (STATUS_ERROR, e.clone())
    } else if let Some(f) = attempt.failures.first() {
        (STATUS_ERROR, f.to_string())
    } else {
        (STATUS_OK, String::new())
    };
    Span {
        trace_id: open.trace_id.clone(),
        span_id: span_id.to_owned(),
        parent_span_id: parent,
        name: attempt.request.method.clone(),
        kind: KIND_CLIENT,
        start_time_unix_nano: unix_nanos(start),
        end_time_unix_nano: unix_nanos(after(start, attempt.duration)),
        attributes,
        status: crate::wire::Status { code, message },
    }
}

#[cfg(test)]
mod tests {
    use rehearse_runner::{RequestRecord, ResponseRecord};

    use super::*;

    fn attempt(number: u32, status: u16) -> Attempt {
        Attempt {
            offset: Some(Duration::from_millis(5)),
            number,
            request: RequestRecord {
                method: "POST".into(),
                url: "http://127.0.0.1:1/payments?key=***".into(),
                headers: Vec::new(),
                body: None,
            },
            response: Some(ResponseRecord {
                status,
                headers: Vec::new(),
                body: String::new(),
            }),
            duration: Duration::from_millis(3),
            error: None,
            failures: Vec::new(),
        }
    }

    fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a crate::wire::AnyValue> {
        span.attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| &kv.value)
    }

    #[test]
    fn an_attempt_is_a_client_span_of_its_step_with_the_traceparent_ids() {
        let mut tracer = Tracer::default();
        let trace = "0af7651916cd43dd8448eb211c80319c";
        tracer.spans(&RunEvent::ScenarioStarted {
            scenario: 0,
            path: "scenarios/pay.yaml".into(),
            name: "pay".into(),
            trace_id: trace.into(),
            started_at: SystemTime::UNIX_EPOCH,
        });
        tracer.spans(&RunEvent::StepStarted {
            scenario: 0,
            step: "create".into(),
            phase: Phase::Steps,
            poll_timeout: None,
        });
        let spans = tracer.spans(&RunEvent::AttemptFinished {
            scenario: 0,
            step: "create".into(),
            attempt: attempt(2, 201),
            time_left: None,
            span_id: "b7ad6b7169203331".into(),
        });
        let [span] = spans.as_slice() else {
            panic!("one span: {spans:?}")
        };
        assert_eq!(span.trace_id, trace);
        assert_eq!(span.span_id, "b7ad6b7169203331");
        assert_eq!(span.kind, KIND_CLIENT);
        assert_eq!(span.start_time_unix_nano, "5000000");
        assert_eq!(span.end_time_unix_nano, "8000000");
        let json = serde_json::to_string(span).unwrap();
        assert!(json.contains(r#"{"key":"http.response.status_code","value":{"intValue":"201"}}"#));
        assert!(json.contains(r#"{"key":"http.request.resend_count","value":{"intValue":"1"}}"#));
        assert!(json.contains(
            r#"{"key":"url.full","value":{"stringValue":"http://127.0.0.1:1/payments?key=***"}}"#
        ));
        assert!(attr(span, "test.case.name").is_some());

        let step = StepResult {
            offset: Some(Duration::from_millis(4)),
            name: "create".into(),
            location: "pay.yaml:3:5".into(),
            status: Status::Passed,
            duration: Duration::from_millis(6),
            attempts: vec![attempt(1, 201)],
            failure: None,
            captures: Vec::new(),
        };
        let steps = tracer.spans(&RunEvent::StepFinished {
            scenario: 0,
            phase: Phase::Steps,
            result: step.clone(),
        });
        assert_eq!(steps[0].span_id, span.parent_span_id);
        let scenario = tracer.spans(&RunEvent::ScenarioFinished {
            scenario: 0,
            result: ScenarioResult {
                path: "scenarios/pay.yaml".into(),
                name: "pay".into(),
                tags: Vec::new(),
                owner: None,
                status: Status::Failed,
                duration: Duration::from_millis(20),
                steps: vec![step],
                cleanup: Vec::new(),
                retries: 0,
            },
        });
        assert_eq!(scenario[0].span_id, steps[0].parent_span_id);
        assert!(scenario[0].parent_span_id.is_empty());
        assert_eq!(scenario[0].status.code, STATUS_ERROR);
        let json = serde_json::to_string(&scenario[0]).unwrap();
        assert!(
            json.contains(r#"{"key":"test.case.result.status","value":{"stringValue":"fail"}}"#)
        );
    }

    #[test]
    fn events_of_an_unknown_scenario_make_no_span() {
        let mut tracer = Tracer::default();
        assert!(
            tracer
                .spans(&RunEvent::AttemptFinished {
                    scenario: 7,
                    step: "s".into(),
                    attempt: attempt(1, 200),
                    time_left: None,
                    span_id: "b7ad6b7169203331".into(),
                })
                .is_empty()
        );
    }
}
