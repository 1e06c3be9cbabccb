//! `poll`: passing after N attempts, `fail_if`, the deadline, `Retry-After`.

use std::time::Duration;

use rehearse_runner::Status;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Counted, Project, json, run};

const POLL_SETTLES: &str = r#"
name: settles
steps:
  - name: wait for settlement
    request: { url: "{{ base }}/payments/1" }
    poll: { every: 20ms, timeout: 10s }
    expect: { status: 200, json: { "$.status": settled } }
"#;

#[tokio::test]
async fn poll_passes_after_n_attempts_and_keeps_every_attempt() {
    const N: usize = 4;
    let server = MockServer::start().await;
    let target = Counted::default();
    Mock::given(method("GET"))
        .and(path("/payments/1"))
        .respond_with(target.responder(|n| {
            let status = if n < N { "pending" } else { "settled" };
            json(200, json!({ "status": status, "n": n }))
        }))
        .mount(&server)
        .await;

    let ran = run(&Project::new(&server.uri()).scenario("settles.yaml", POLL_SETTLES)).await;

    assert_eq!(ran.scenario().status, Status::Passed);
    let step = ran.step("wait for settlement");
    assert_eq!(step.status, Status::Passed);
    assert_eq!(step.attempts.len(), N, "{step:#?}");
    for (i, a) in step.attempts.iter().enumerate() {
        assert_eq!(a.number as usize, i + 1);
        let body = &a.response.as_ref().expect("a response").body;
        assert!(body.contains(&format!("\"n\":{}", i + 1)), "{body}");
        if i + 1 < N {
            assert!(body.contains("pending"), "{body}");
            assert!(!a.failures.is_empty(), "attempt {} should not pass", i + 1);
        } else {
            assert!(a.failures.is_empty(), "{:#?}", a.failures);
        }
    }
    assert_eq!(ran.attempt_events("wait for settlement"), N);
    assert_eq!(target.count(), N, "no request after the poll passed");
}

#[tokio::test]
async fn a_long_poll_keeps_the_bodies_of_its_first_and_last_three_attempts_only() {
    const N: usize = 7;
    let server = MockServer::start().await;
    let target = Counted::default();
    Mock::given(method("GET"))
        .and(path("/payments/1"))
        .respond_with(target.responder(|n| {
            let status = if n < N { "pending" } else { "settled" };
            json(200, json!({ "status": status, "n": n }))
        }))
        .mount(&server)
        .await;

    let ran = run(&Project::new(&server.uri()).scenario("settles.yaml", POLL_SETTLES)).await;

    let step = ran.step("wait for settlement");
    assert_eq!(step.status, Status::Passed);
    assert_eq!(step.attempts.len(), N, "every attempt is still listed");
    for (i, a) in step.attempts.iter().enumerate() {
        let number = i + 1;
        assert_eq!(a.number as usize, number);
        let response = a.response.as_ref().expect("a response");
        assert_eq!(response.status, 200, "the status is always kept");
        let whole = number == 1 || number > N - 3;
        if whole {
            assert!(
                response.body.contains(&format!("\"n\":{number}")),
                "{response:?}"
            );
            assert!(!response.headers.is_empty());
        } else {
            assert!(response.body.starts_with("(not kept"), "{response:?}");
            assert!(response.headers.is_empty());
            // What failed on it is kept.
            assert!(!a.failures.is_empty(), "attempt {number}");
        }
    }
    // Events carried every attempt whole, as it happened.
    assert_eq!(ran.attempt_events("wait for settlement"), N);
}

#[tokio::test]
async fn fail_if_stops_on_the_first_terminal_state() {
    let server = MockServer::start().await;
    let target = Counted::default();
    Mock::given(method("GET"))
        .and(path("/payments/1"))
        .respond_with(target.responder(|n| {
            let status = if n < 3 { "pending" } else { "rejected" };
            json(200, json!({ "status": status }))
        }))
        .mount(&server)
        .await;
    let yaml = r#"
name: rejected
steps:
  - name: wait for settlement
    request: { url: "{{ base }}/payments/1" }
    poll:
      every: 20ms
      timeout: 30s
      fail_if: { "$.status": rejected }
    expect: { json: { "$.status": settled } }
"#;

    let ran = run(&Project::new(&server.uri()).scenario("rejected.yaml", yaml)).await;

    let step = ran.step("wait for settlement");
    assert_eq!(step.status, Status::Failed);
    assert_eq!(
        step.attempts.len(),
        3,
        "stopped where `rejected` first came"
    );
    assert_eq!(target.count(), 3);
    let failure = step.failure.as_ref().expect("a failure");
    assert!(failure.check.starts_with("fail_if"), "{failure:#?}");
    assert!(
        failure
            .actual
            .contains("terminal state reached after 3 attempts"),
        "{failure:#?}"
    );
    assert_eq!(ran.scenario().status, Status::Failed);
}

#[tokio::test]
async fn poll_deadline_failure_shows_last_response_and_attempt_count() {
    let server = MockServer::start().await;
    let target = Counted::default();
    Mock::given(method("GET"))
        .and(path("/payments/1"))
        .respond_with(target.responder(|n| json(200, json!({ "status": "pending", "n": n }))))
        .mount(&server)
        .await;
    let yaml = r#"
name: never settles
steps:
  - name: wait for settlement
    request: { url: "{{ base }}/payments/1" }
    poll: { every: 20ms, timeout: 300ms }
    expect: { json: { "$.status": settled } }
"#;

    let ran = run(&Project::new(&server.uri()).scenario("never.yaml", yaml)).await;

    let step = ran.step("wait for settlement");
    assert_eq!(step.status, Status::Failed);
    let attempts = step.attempts.len();
    assert!(attempts >= 2, "it polled: {attempts} attempt(s)");
    // Every attempt is kept; the deadline may have cut the last one short, maybe before it
    // reached the target (then it has no response).
    let cut_short = step.attempts.last().is_some_and(|a| a.response.is_none());
    let reached = target.count();
    assert!(
        attempts == reached || (cut_short && attempts == reached + 1),
        "every attempt is kept: {attempts} attempts, {reached} reached the target"
    );
    let failure = step.failure.as_ref().expect("a failure");
    assert_eq!(failure.check, "$.status");
    assert!(failure.expected.contains("settled"), "{failure:#?}");
    assert!(failure.actual.contains("pending"), "{failure:#?}");
    assert!(
        failure
            .actual
            .contains(&format!("poll timed out after {attempts} attempts")),
        "{failure:#?}"
    );
    // The last attempt that had a response (the last one, unless the deadline cut it).
    let (index, last) = step
        .attempts
        .iter()
        .enumerate()
        .rev()
        .find(|(_, a)| a.response.is_some())
        .expect("a response");
    assert!(
        index + 1 >= attempts - 1,
        "only the last attempt may be cut"
    );
    let body = &last.response.as_ref().expect("a response").body;
    assert!(
        body.contains(&format!("\"n\":{}", index + 1)),
        "the last response is shown: {body}"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_on_429_and_503() {
    let server = MockServer::start().await;
    let target = Counted::default();
    Mock::given(method("GET"))
        .and(path("/payments/1"))
        .respond_with(target.responder(|n| match n {
            1 => ResponseTemplate::new(429).insert_header("retry-after", "1"),
            2 => ResponseTemplate::new(503).insert_header("retry-after", "1"),
            _ => json(200, json!({ "status": "settled" })),
        }))
        .mount(&server)
        .await;

    let ran = run(&Project::new(&server.uri()).scenario("settles.yaml", POLL_SETTLES)).await;

    let step = ran.step("wait for settlement");
    assert_eq!(step.status, Status::Passed, "{step:#?}");
    assert_eq!(step.attempts.len(), 3);
    let at = target.arrivals();
    assert_eq!(at.len(), 3);
    for (what, gap) in [("429", at[1] - at[0]), ("503", at[2] - at[1])] {
        assert!(
            gap >= Duration::from_secs(1),
            "after a {what} with Retry-After: 1 the next attempt came after {gap:?}, though `every` is 20ms"
        );
    }
}
