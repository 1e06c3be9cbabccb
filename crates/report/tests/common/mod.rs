//! Hand-built results and event streams shared by the integration tests.

#![allow(dead_code)] // each test file uses a part

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rehearse_report::{ConsoleOptions, ConsoleReporter};
use rehearse_runner::{
    Aborted, Attempt, CheckResult, Failure, Phase, RequestRecord, ResponseRecord, RunEvent,
    RunResult, ScenarioResult, Status, StepResult,
};

/// A writer the test can read back after handing a clone to the reporter.
#[derive(Debug, Clone, Default)]
pub struct Buf(Arc<Mutex<Vec<u8>>>);

impl Buf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Feeds `events` to a console reporter with `options`, returns what it wrote.
pub fn console(options: ConsoleOptions, events: &[RunEvent]) -> String {
    let buf = Buf::default();
    let mut reporter = ConsoleReporter::new(Box::new(buf.clone()), options);
    for e in events {
        reporter.handle(e).unwrap();
    }
    buf.text()
}

fn started_at() -> DateTime<Utc> {
    "2025-01-02T03:04:05Z".parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn request(method: &str, url: &str, body: Option<&str>) -> RequestRecord {
    RequestRecord {
        method: method.into(),
        url: url.into(),
        headers: vec![
            ("authorization".into(), "Bearer ***".into()),
            ("x-rehearse-run".into(), "run-0001".into()),
        ],
        body: body.map(Into::into),
    }
}

fn response(status: u16, body: &str) -> Option<ResponseRecord> {
    Some(ResponseRecord {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    })
}

fn attempt(number: u32, req: RequestRecord, resp: Option<ResponseRecord>, took: u64) -> Attempt {
    Attempt {
        offset: None,
        number,
        request: req,
        response: resp,
        duration: ms(took),
        error: None,
        failures: vec![],
    }
}

fn passed_step(name: &str, line: u32, attempts: Vec<Attempt>, took: u64) -> StepResult {
    StepResult {
        offset: None,
        name: name.into(),
        location: format!("scenarios/payments.yaml:{line}:5"),
        status: Status::Passed,
        duration: ms(took),
        attempts,
        failure: None,
        captures: vec![],
    }
}

fn status_failure() -> Failure {
    Failure {
        check: "$.status".into(),
        expected: "settled".into(),
        actual: "\"pending_review\"".into(),
        location: Some("scenarios/payments.yaml:24:34".into()),
        source_line: Some(r#"expect: { status: 200, json: { "$.status": settled } }"#.into()),
    }
}

/// A scenario that creates a payment, approves it, and polls 3 times for `settled`
/// that never comes; its cleanup passes.
pub fn failed_payment() -> ScenarioResult {
    let get = || request("GET", "http://127.0.0.1:8080/payments/p-1", None);
    let pending = r#"{"id":"p-1","status":"pending_review"}"#;
    let polls = (1..=3)
        .map(|n| Attempt {
            offset: None,
            failures: vec![status_failure()],
            ..attempt(n, get(), response(200, pending), 10 + u64::from(n))
        })
        .collect();
    ScenarioResult {
        path: "scenarios/payments.yaml".into(),
        name: "Large payment is settled".into(),
        tags: vec!["payments".into(), "demo".into()],
        owner: Some("payments-team".into()),
        status: Status::Failed,
        duration: ms(1_520),
        steps: vec![
            passed_step(
                "create payment",
                8,
                vec![attempt(
                    1,
                    request(
                        "POST",
                        "http://127.0.0.1:8080/payments",
                        Some(r#"{"amount":"25000.00","currency":"USD"}"#),
                    ),
                    response(201, r#"{"id":"p-1","status":"pending_review"}"#),
                    12,
                )],
                12,
            ),
            StepResult {
                offset: None,
                name: "poller picks up the final status".into(),
                location: "scenarios/payments.yaml:21:5".into(),
                status: Status::Failed,
                duration: ms(1_500),
                attempts: polls,
                failure: Some(status_failure()),
                captures: vec![],
            },
            StepResult {
                offset: None,
                status: Status::Skipped,
                duration: Duration::ZERO,
                ..passed_step("notify the customer", 26, vec![], 0)
            },
        ],
        cleanup: vec![passed_step(
            "delete payment",
            30,
            vec![attempt(
                1,
                request("DELETE", "http://127.0.0.1:8080/payments/p-1", None),
                response(204, ""),
                2,
            )],
            2,
        )],
        retries: 0,
    }
}

/// A scenario whose one step passes.
pub fn passed_small_payment() -> ScenarioResult {
    ScenarioResult {
        path: "scenarios/payments.yaml".into(),
        name: "Small payment is settled at once".into(),
        tags: vec![],
        owner: Some("payments-team".into()),
        status: Status::Passed,
        duration: ms(40),
        steps: vec![passed_step(
            "create small payment",
            40,
            vec![attempt(
                1,
                request(
                    "POST",
                    "http://127.0.0.1:8080/payments",
                    Some(r#"{"amount":"5.00"}"#),
                ),
                response(201, r#"{"id":"p-2","status":"settled"}"#),
                31,
            )],
            31,
        )],
        cleanup: vec![],
        retries: 0,
    }
}

/// A scenario whose request never got a response.
pub fn errored_refund() -> ScenarioResult {
    let refused = "connection refused (127.0.0.1:9999)";
    ScenarioResult {
        path: "scenarios/refunds.yaml".into(),
        name: "Refund reaches the bank".into(),
        tags: vec![],
        owner: None,
        status: Status::Error,
        duration: ms(5),
        steps: vec![StepResult {
            offset: None,
            name: "ask for a refund".into(),
            location: "scenarios/refunds.yaml:5:5".into(),
            status: Status::Error,
            duration: ms(3),
            attempts: vec![Attempt {
                offset: None,
                error: Some(refused.into()),
                ..attempt(
                    1,
                    request("POST", "http://127.0.0.1:9999/refunds", None),
                    None,
                    3,
                )
            }],
            failure: Some(Failure {
                check: "request".into(),
                expected: "a response".into(),
                actual: refused.into(),
                location: Some("scenarios/refunds.yaml:5:5".into()),
                source_line: Some("- name: ask for a refund".into()),
            }),
            captures: vec![],
        }],
        cleanup: vec![],
        retries: 0,
    }
}

/// A scenario that was not run.
pub fn skipped_statement() -> ScenarioResult {
    ScenarioResult {
        path: "scenarios/statements.yaml".into(),
        name: "Monthly statement lists the payment".into(),
        tags: vec![],
        owner: None,
        status: Status::Skipped,
        duration: Duration::ZERO,
        steps: vec![],
        cleanup: vec![],
        retries: 0,
    }
}

pub fn run(scenarios: Vec<ScenarioResult>, duration: u64) -> RunResult {
    RunResult {
        run_id: "run-0001".into(),
        environment: "staging".into(),
        started_at: started_at(),
        duration: ms(duration),
        scenarios,
        interrupted: false,
        preflight: vec![],
        rehearse_version: "0.1.0".into(),
        bank_api_version: None,
        aborted: None,
    }
}

/// Every scenario passed.
pub fn passing() -> RunResult {
    run(vec![passed_small_payment()], 45)
}

/// One failed (a poll of 3 attempts), one passed, one error, one skipped.
pub fn failing() -> RunResult {
    run(
        vec![
            failed_payment(),
            passed_small_payment(),
            errored_refund(),
            skipped_statement(),
        ],
        1_234,
    )
}

/// The environment was not ready: no scenario ran.
pub fn aborted() -> RunResult {
    RunResult {
        aborted: Some(Aborted {
            reason: "environment_not_ready".into(),
            problems: vec![
                "platform has bank credentials (owner devops): GET /readyz: $.checks.bank_credentials: expected ok, got \"missing\"; hint: set BANK_API_KEY".into(),
                "status poller is installed and running (owner devops): no heartbeat".into(),
            ],
        }),
        ..run(vec![], 80)
    }
}

/// A scenario that passed only after a network-level retry: the first attempt of its
/// step met a connection reset.
pub fn flaky_statement() -> ScenarioResult {
    let get = || request("GET", "http://127.0.0.1:8080/statements/2025-01", None);
    ScenarioResult {
        path: "scenarios/statements.yaml".into(),
        name: "Statement download survives a reset".into(),
        tags: vec!["statements".into()],
        owner: Some("ledger-team".into()),
        status: Status::Flaky,
        duration: ms(260),
        steps: vec![StepResult {
            offset: None,
            status: Status::Flaky,
            ..passed_step(
                "download statement",
                12,
                vec![
                    Attempt {
                        offset: None,
                        error: Some("connection reset by peer".into()),
                        ..attempt(1, get(), None, 4)
                    },
                    attempt(2, get(), response(200, r#"{"lines":3}"#), 21),
                ],
                250,
            )
        }],
        cleanup: vec![],
        retries: 0,
    }
}

/// A pre-flight check.
pub fn check(name: &str, kind: &str, owner: Option<&str>, status: Status) -> CheckResult {
    CheckResult {
        name: name.into(),
        kind: kind.into(),
        owner: owner.map(Into::into),
        hint: None,
        status,
        evidence: String::new(),
        duration: ms(7),
        location: None,
        required_by: vec![],
        ticket: None,
    }
}

/// Three pre-flight checks failed (two owned by devops, one by the bank integration
/// team) and one passed: no scenario ran.
pub fn not_ready() -> RunResult {
    let preflight = vec![
        CheckResult {
            evidence: "GET http://127.0.0.1:8080/health → 200".into(),
            ..check("bank is reachable", "reachable", Some("devops"), Status::Passed)
        },
        CheckResult {
            hint: Some("set BANK_API_KEY in the payments service's deployment".into()),
            evidence: r#"GET http://127.0.0.1:8080/readyz → 503: $.checks.bank_credentials: expected ok, got "missing""#.into(),
            location: Some("scenarios/payments.yaml:5:5".into()),
            required_by: vec!["scenarios/payments.yaml".into(), "scenarios/refunds.yaml".into()],
            ticket: None,
            ..check("platform has bank credentials", "request", Some("devops"), Status::Failed)
        },
        CheckResult {
            hint: Some("install the bank-status-poller CronJob (helm upgrade … --set poller.enabled=true)".into()),
            evidence: "last heartbeat 3h 12m ago; max age 10m".into(),
            ..check("status poller is installed and running", "job_heartbeat", Some("devops"), Status::Failed)
        },
        CheckResult {
            hint: Some("pin the sandbox to v2 or run with --env staging-v3".into()),
            evidence: "bank API v3 found, v2 expected".into(),
            ..check("bank API version is v2", "version", Some("bank-integration"), Status::Failed)
        },
    ];
    RunResult {
        preflight,
        bank_api_version: Some("v2".into()),
        aborted: Some(Aborted {
            reason: "environment_not_ready".into(),
            problems: vec![
                "platform has bank credentials (owner devops): expected ok, got \"missing\"".into(),
                "status poller is installed and running (owner devops): no heartbeat for 3h 12m"
                    .into(),
                "bank API version is v2 (owner bank-integration): found v3".into(),
            ],
        }),
        ..run(vec![], 90)
    }
}

/// The failing run with a flaky scenario and passed pre-flight checks, as a nightly
/// run against staging would look.
pub fn failing_with_flaky() -> RunResult {
    let mut r = failing();
    r.scenarios.push(flaky_statement());
    r.scenarios.sort_by(|a, b| a.path.cmp(&b.path));
    r.bank_api_version = Some("v2".into());
    r.preflight = vec![
        check(
            "platform has bank credentials",
            "request",
            Some("devops"),
            Status::Passed,
        ),
        check(
            "status poller is installed and running",
            "job_heartbeat",
            Some("devops"),
            Status::Passed,
        ),
    ];
    r
}

/// The events a runner would send for `result`: scenarios start together, their steps
/// interleave, and they finish in the order given by `finish_order` (indices).
pub fn events(result: &RunResult, finish_order: &[usize]) -> Vec<RunEvent> {
    let mut events = vec![RunEvent::RunStarted {
        run_id: result.run_id.clone(),
        environment: result.environment.clone(),
        scenarios: result.scenarios.len(),
    }];
    for (i, s) in result.scenarios.iter().enumerate() {
        events.push(RunEvent::ScenarioStarted {
            scenario: i,
            path: s.path.clone(),
            name: s.name.clone(),
            trace_id: format!("{:032x}", i + 1),
            started_at: std::time::SystemTime::UNIX_EPOCH,
        });
    }
    let longest = result
        .scenarios
        .iter()
        .map(|s| s.steps.len() + s.cleanup.len())
        .max()
        .unwrap_or(0);
    for k in 0..longest {
        for (i, s) in result.scenarios.iter().enumerate() {
            let steps = s.steps.iter().map(|st| (st, Phase::Steps));
            let cleanup = s.cleanup.iter().map(|st| (st, Phase::Cleanup));
            let Some((step, phase)) = steps.chain(cleanup).nth(k) else {
                continue;
            };
            events.push(RunEvent::StepStarted {
                scenario: i,
                step: step.name.clone(),
                phase,
                poll_timeout: (step.attempts.len() > 1).then(|| Duration::from_secs(2)),
            });
            for a in &step.attempts {
                events.push(RunEvent::AttemptFinished {
                    scenario: i,
                    step: step.name.clone(),
                    attempt: a.clone(),
                    time_left: None,
                    span_id: format!("{:016x}", a.number),
                });
            }
            events.push(RunEvent::StepFinished {
                scenario: i,
                phase,
                result: step.clone(),
            });
        }
    }
    for &i in finish_order {
        events.push(RunEvent::ScenarioFinished {
            scenario: i,
            result: result.scenarios[i].clone(),
        });
    }
    events.push(RunEvent::RunFinished {
        result: std::sync::Arc::new(result.clone()),
    });
    events
}
