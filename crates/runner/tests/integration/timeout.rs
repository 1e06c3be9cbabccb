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
