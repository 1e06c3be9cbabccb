//! The built-in `local` environment starts its embedded stack (bank mock and four sample
//! platforms) only when a selected scenario uses it: a suite of absolute URLs runs without
//! it (issue #10: the start was most of a short run's time). What a user sees: the run
//! passes, and `-vvv` says whether the stack was started and why.

use std::process::Command;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

const NOT_STARTED: &str = "embedded stack not started: no selected scenario uses it";
const STARTED: &str = "starting the embedded stack:";

async fn target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/health"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

/// Runs `rehearse -vvv run ARGS scenario.yaml` on the built-in `local` environment in a
/// fresh suite; gives the exit code and stderr.
async fn run_local(scenario: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scenario.yaml"), scenario).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["-vvv", "run"])
        .args(args)
        .arg("scenario.yaml")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    drop(dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_of_absolute_urls_runs_without_the_embedded_stack() {
    let server = target().await;
    let scenario = format!(
        "name: absolute\nsteps:\n  - request: {{ url: \"{}/health\" }}\n    expect: {{ status: 200, json: {{ \"$.ok\": true }} }}\n",
        server.uri()
    );

    let (code, stdout, stderr) = run_local(&scenario, &[]).await;

    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(stdout.contains("environment local"), "{stdout}");
    assert!(stderr.contains(NOT_STARTED), "{stderr}");
    assert!(!stderr.contains(STARTED), "{stderr}");
    // Plain http: the system's TLS root certificates are never read.
    assert!(
        !stderr.contains("loading the platform's TLS root certificates"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_var_set_with_var_needs_no_stack() {
    let server = target().await;
    let scenario = "name: overridden\nsteps:\n  - request: { url: \"{{ platform }}/health\" }\n    expect: { status: 200 }\n";
    let var = format!("platform={}", server.uri());

    let (code, stdout, stderr) = run_local(scenario, &["--var", &var]).await;

    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains(NOT_STARTED), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_reading_a_stack_var_starts_the_stack() {
    let scenario = "name: platform health\nsteps:\n  - request: { url: \"{{ platform }}/healthz\" }\n    expect: { status: 200 }\n";

    let (code, stdout, stderr) = run_local(scenario, &[]).await;

    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("starting the embedded stack: scenario.yaml reads `platform`"),
        "{stderr}"
    );
    assert!(!stderr.contains(NOT_STARTED), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_on_the_virtual_clock_starts_the_stack_even_with_absolute_urls() {
    let server = target().await;
    let scenario = format!(
        "name: polled\nsteps:\n  - name: wait for health\n    request: {{ url: \"{}/health\" }}\n    poll: {{ every: 1s, timeout: 10s }}\n    expect: {{ status: 200 }}\n",
        server.uri()
    );

    let (code, stdout, stderr) = run_local(&scenario, &[]).await;

    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "starting the embedded stack: scenario.yaml polls on the virtual clock (step `wait for health`)"
        ),
        "{stderr}"
    );
}
