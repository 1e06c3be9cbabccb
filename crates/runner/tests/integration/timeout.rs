//! A target that accepts connections and never answers.

use rehearse_runner::Status;
use tokio::net::TcpListener;

use crate::common::{Project, run};

/// Accepts every connection and holds it open without ever reading or writing.
async fn silent_target() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn silent_target_errors_at_the_request_timeout() {
    let base = silent_target().await;
    let yaml = r#"
name: silent
steps:
  - name: ask
    request: { url: "{{ base }}/healthz", timeout: 300ms }
    expect: { status: 200 }
  - name: never reached
    request: { url: "{{ base }}/other" }
"#;

    let ran = run(&Project::new(&base).scenario("silent.yaml", yaml)).await;

    assert_eq!(ran.scenario().status, Status::Error);
    let step = ran.step("ask");
    assert_eq!(step.status, Status::Error, "{step:#?}");
    assert_eq!(step.attempts.len(), 1);
    assert!(step.attempts[0].response.is_none());
    let failure = step.failure.as_ref().expect("a failure");
    assert!(
        failure.actual.contains("no response within 300ms"),
        "the message names the timeout: {failure:#?}"
    );
    assert_eq!(ran.step("never reached").status, Status::Skipped);
}

#[tokio::test]
async fn a_polls_deadline_cuts_a_request_in_flight() {
    // Regression: the poll waited for the request's own timeout (15s here) before it
    // looked at its deadline.
    let base = silent_target().await;
    let yaml = r#"
name: poll against a black hole
steps:
  - name: wait for it
    request: { url: "{{ base }}/status", timeout: 15s }
    poll: { every: 100ms, timeout: 1s }
    expect: { status: 200 }
"#;
    let started = std::time::Instant::now();

    let ran = run(&Project::new(&base).scenario("hole.yaml", yaml)).await;

    let step = ran.step("wait for it");
    assert_eq!(step.status, Status::Error, "{step:#?}");
    let failure = step.failure.as_ref().expect("a failure");
    assert_eq!(
        failure.actual,
        "the poll's 1s ran out while waiting for a response (poll timed out after 1 attempt)"
    );
    // Not a speed check: proves the run did not wait for the request's 15s.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// An environment whose bank back office (`bank_admin`) is `admin`, with mock approvals
/// and a virtual clock, and a request timeout of 300ms.
fn back_office_env(admin: &str) -> String {
    format!(
        "vars:\n  base: \"{admin}\"\n  bank_admin: \"{admin}/__admin\"\napprovals:\n  mode: mock\nclock: virtual\ntimeouts:\n  request: 300ms\n"
    )
}

#[tokio::test]
async fn a_mock_approval_keeps_to_the_request_timeout_and_says_timed_out() {
    // Regression: the back office was given a fixed 10s, whatever the environment said.
    let admin = silent_target().await;
    let yaml = r#"
name: approve against a silent back office
steps:
  - name: approve
    approve: { reference: "B-1", decision: approve }
"#;
    let started = std::time::Instant::now();

    let ran =
        run(&Project::with_environment(&back_office_env(&admin)).scenario("a.yaml", yaml)).await;

    let step = ran.step("approve");
    assert_eq!(step.status, Status::Failed, "{step:#?}");
    let failure = step.failure.as_ref().expect("a failure");
    assert_eq!(
        failure.actual,
        format!(
            "the bank's back office at {admin}/__admin/reviews/B-1/decision timed out: no answer within 300ms"
        )
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn advance_clock_keeps_to_the_request_timeout_and_says_timed_out() {
    // Regression: the clock's calls had a fixed 10s and 30s.
    let admin = silent_target().await;
    let yaml = r#"
name: advance a silent clock
steps:
  - name: a day later
    advance_clock: 1d
"#;
    let started = std::time::Instant::now();

    let ran =
        run(&Project::with_environment(&back_office_env(&admin)).scenario("c.yaml", yaml)).await;

    let step = ran.step("a day later");
    assert_eq!(step.status, Status::Error, "{step:#?}");
    let failure = step.failure.as_ref().expect("a failure");
    assert_eq!(
        failure.actual,
        format!("{admin}/__admin/clock timed out: no answer within 300ms")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
