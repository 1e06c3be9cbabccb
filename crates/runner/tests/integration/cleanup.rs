//! `cleanup:` runs after a failed step and after cancellation.

use rehearse_runner::{Phase, RunEvent, Status};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Project, json, run, run_plan};

async fn target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(json(201, json!({ "id": "p-1" })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/payments/p-1"))
        .respond_with(json(200, json!({ "status": "pending" })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/payments/p-1"))
        .respond_with(json(204, json!({})))
        .mount(&server)
        .await;
    server
}

async fn deletes(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("recording")
        .iter()
        .filter(|r| r.method.as_str() == "DELETE" && r.url.path() == "/payments/p-1")
        .count()
}

#[tokio::test]
async fn cleanup_runs_after_a_failed_step() {
    let server = target().await;
    let yaml = r#"
name: fails then cleans up
steps:
  - name: create
    request: { method: POST, url: "{{ base }}/payments", json: { amount: 1 } }
    capture: { payment_id: "$.id" }
  - name: check settled
    request: { url: "{{ base }}/payments/{{ payment_id }}" }
    expect: { json: { "$.status": settled } }
  - name: not reached
    request: { url: "{{ base }}/payments/{{ payment_id }}" }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/payments/{{ payment_id }}" }
"#;

    let ran = run(&Project::new(&server.uri()).scenario("fails.yaml", yaml)).await;

    let scenario = ran.scenario();
    assert_eq!(scenario.status, Status::Failed);
    assert_eq!(ran.step("check settled").status, Status::Failed);
    assert_eq!(ran.step("not reached").status, Status::Skipped);
    assert_eq!(scenario.cleanup.len(), 1);
    assert_eq!(scenario.cleanup[0].status, Status::Passed, "{scenario:#?}");
    assert_eq!(
        deletes(&server).await,
        1,
        "the cleanup request reached the target"
    );
}

#[tokio::test]
async fn cleanup_runs_after_cancellation_mid_poll() {
    let server = target().await;
    let yaml = r#"
name: interrupted
steps:
  - name: create
    request: { method: POST, url: "{{ base }}/payments", json: { amount: 1 } }
    capture: { payment_id: "$.id" }
  - name: wait for settlement
    request: { url: "{{ base }}/payments/{{ payment_id }}" }
    poll: { every: 20ms, timeout: 60s }
    expect: { json: { "$.status": settled } }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/payments/{{ payment_id }}" }
"#;
    let (plan, options) = Project::new(&server.uri())
        .scenario("interrupted.yaml", yaml)
        .compile();

    let mut polled = 0;
    let ran = run_plan(plan, options, |event, cancel| {
        if let RunEvent::AttemptFinished { step, .. } = event
            && step == "wait for settlement"
        {
            polled += 1;
            if polled == 3 {
                cancel.cancel(); // Ctrl-C, mid-poll
            }
        }
    })
    .await;

    assert!(ran.result.interrupted);
    let scenario = ran.scenario();
    assert_eq!(scenario.status, Status::Interrupted);
    let poll = ran.step("wait for settlement");
    assert_eq!(poll.status, Status::Interrupted);
    assert!(poll.attempts.len() >= 3, "{poll:#?}");
    assert_eq!(scenario.cleanup.len(), 1);
    assert_eq!(scenario.cleanup[0].status, Status::Passed, "{scenario:#?}");
    assert_eq!(
        deletes(&server).await,
        1,
        "the cleanup request reached the target"
    );
}

#[tokio::test]
async fn the_second_ctrl_c_cuts_cleanup_short_and_the_result_still_comes() {
    let server = target().await;
    let yaml = r#"
name: slow cleanup
steps:
  - name: create
    request: { method: POST, url: "{{ base }}/payments", json: { amount: 1 } }
    capture: { payment_id: "$.id" }
  - name: wait for settlement
    request: { url: "{{ base }}/payments/{{ payment_id }}" }
    poll: { every: 20ms, timeout: 60s }
    expect: { json: { "$.status": settled } }
cleanup:
  - name: let the bank catch up
    wait: 60s
  - name: delete
    request: { method: DELETE, url: "{{ base }}/payments/{{ payment_id }}" }
"#;
    let (plan, options) = Project::new(&server.uri())
        .scenario("slow.yaml", yaml)
        .compile();
    let quit = options.quit.clone();
    let started = std::time::Instant::now();

    let ran = run_plan(plan, options, |event, cancel| match event {
        RunEvent::AttemptFinished { step, .. } if step == "wait for settlement" => {
            cancel.cancel(); // the first Ctrl-C, mid-poll
        }
        RunEvent::StepStarted {
            phase: Phase::Cleanup,
            ..
        } => quit.cancel(), // the second, in cleanup
        _ => {}
    })
    .await;

    assert!(ran.result.interrupted);
    let scenario = ran.scenario();
    assert_eq!(scenario.status, Status::Interrupted);
    assert_eq!(
        ran.step("let the bank catch up").status,
        Status::Interrupted
    );
    assert_eq!(ran.step("delete").status, Status::Interrupted, "not begun");
    assert_eq!(deletes(&server).await, 0);
    // Not a speed check: proves the cleanup's 60s wait was cut.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
