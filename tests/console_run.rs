//! The console of a real run (the `rehearse` binary against a wiremock target): a
//! passing scenario is one line, a failing one shows its failing step in full, and the
//! run ends with a recap of the failures grouped by owner. Durations, ports and the run id
//! are redacted.

use std::process::Command;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

const HEALTH: &str = r#"
name: platform is healthy
owner: payments-team
steps:
  - name: health
    request: { url: "{{ base }}/health" }
    expect: { status: 200 }
"#;

const REFUND: &str = r#"
name: refund is accepted
owner: payments-team
steps:
  - name: ask for a refund
    request:
      method: POST
      url: "{{ base }}/refunds"
      json: { payment: p-1, amount: "5.00" }
    expect:
      status: 201
  - name: read the refund
    request: { url: "{{ base }}/refunds/r-1" }
"#;

const REPORT: &str = r#"
name: nightly report is published
owner: reporting-team
steps:
  - name: fetch the report
    request: { url: "{{ reports }}/reports/latest" }
    expect: { status: 200 }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn run_with_two_failures_of_two_owners_ends_with_a_recap_by_owner() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/refunds"))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(serde_json::json!({"error": "refund already requested"})),
        )
        .mount(&server)
        .await;
    // A port nothing listens on: 9 (discard), not a freed ephemeral port, which another
    // test's server running alongside could be given.
    let closed = 9;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::write(
        dir.path().join("environments/test.yaml"),
        format!(
            "vars:\n  base: {}\n  reports: http://127.0.0.1:{closed}\ntimeouts:\n  request: 2s\n",
            server.uri()
        ),
    )
    .unwrap();
    for (file, yaml) in [
        ("a-health.yaml", HEALTH),
        ("b-refund.yaml", REFUND),
        ("c-report.yaml", REPORT),
    ] {
        std::fs::write(dir.path().join("scenarios").join(file), yaml).unwrap();
    }

    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--env", "test", "--jobs", "1"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "connection refused by 127.0.0.1:{closed} (is the service running?)"
        )),
        "{stdout}"
    );
    assert!(!stdout.contains("error sending request"), "{stdout}");

    insta::with_settings!({filters => vec![
        (r"\b\d+(\.\d+)?(ms|s)\b", "[duration]"),
        (r"r-\d{8}T\d{6}Z-[0-9a-f]{6}", "[run-id]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
}
