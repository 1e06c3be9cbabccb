//! A newcomer's suite against a service nobody here wrote: httpbin (the PyPI package,
//! psf/httpbin), started on a free loopback port. The scenarios in `tests/httpbin/`
//! use only what docs/FORMAT.md documents; each must pass, and the deliberate failures
//! in `tests/httpbin/failing/` must fail with the message a user would need.
//!
//! httpbin is installed by scripts/test.sh (`python3 -m pip install --user httpbin`);
//! `REHEARSE_PYTHON` names another interpreter. When it cannot be started this test
//! fails and says how to install it: it never skips.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Proc, repo};

/// Fake secret values, masked in every output (asserted below).
const PASSWORD: &str = "hb-pass-7c1e9d";
const TOKEN: &str = "hb-token-4f0a2b";

fn python() -> String {
    std::env::var("REHEARSE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Starts httpbin on a free loopback port and waits until it answers `/get` itself.
///
/// An open port is not enough: the port is picked by binding port 0 and letting it go, so
/// another test's server can take it first. httpbin then fails to bind and exits, while a
/// bare connect succeeds against the other server and the scenario later meets "connection
/// refused". So readiness is an HTTP answer with httpbin's own `/get` body while the
/// child is still alive, and a child that exits on a taken port is started again on another.
fn httpbin() -> (Proc, String) {
    for _ in 0..5 {
        if let Some(started) = try_start_httpbin() {
            return started;
        }
    }
    panic!("failed to start httpbin: five free ports were each taken before it could bind");
}

/// One attempt of [`httpbin`]: `None` when the port was taken under it.
fn try_start_httpbin() -> Option<(Proc, String)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spawned = Command::new(python())
        .args(["-m", "httpbin.core", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) => panic!(
            "failed to start httpbin: `{}` could not be run ({e}); run scripts/test.sh, which \
             installs it, or `python3 -m pip install --user httpbin`",
            python()
        ),
    };
    let mut proc = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = proc.0.try_wait().unwrap() {
            let mut err = String::new();
            let _ = proc.0.stderr.take().unwrap().read_to_string(&mut err);
            if err.contains("Address already in use") {
                return None;
            }
            panic!(
                "failed to start httpbin: `{} -m httpbin.core` exited with {status}; run \
                 scripts/test.sh, which installs it, or `python3 -m pip install --user \
                 httpbin`\n{err}",
                python()
            );
        }
        if answers_as_httpbin(port) && proc.0.try_wait().unwrap().is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "failed to start httpbin: 127.0.0.1:{port} gave no httpbin answer to `GET /get` \
             after 30s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Drain stderr (one line per request) so httpbin never blocks on a full pipe.
    let mut stderr = proc.0.stderr.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Some((proc, format!("http://127.0.0.1:{port}")))
}

/// Whether `GET /get` on `port` answers 200 with httpbin's echo of the request URL.
fn answers_as_httpbin(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /get HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status_ok = answer
        .lines()
        .next()
        .is_some_and(|line| line.starts_with("HTTP/1.") && line.contains(" 200"));
    status_ok && answer.contains(&format!("\"url\": \"http://127.0.0.1:{port}/get\""))
}

fn suite() -> PathBuf {
    repo().join("tests/httpbin")
}

/// `rehearse run` against httpbin, with a JSON report; returns the output and the report.
fn run(base: &str, paths: &str) -> (Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = Command::new(BIN)
        // As a newcomer runs it: the environment by name, fixtures/ found in the root
        // (tests/httpbin/, the folder above the PATH that holds scenarios/).
        .args([
            "run", "--color", "never", "-vv", "--env", "httpbin", "--report",
        ])
        .arg(format!("json={}", report.display()))
        .arg(suite().join(paths))
        .env("HTTPBIN_BASE", base)
        .env("HTTPBIN_PASSWORD", PASSWORD)
        .env("HTTPBIN_TOKEN", TOKEN)
        .env_remove("CI_PIPELINE_ID")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let json = serde_json::from_str(&text).unwrap();
    // Secrets never show, as written or as the base64 Basic auth sends.
    let basic = base64_of(&format!("alice:{PASSWORD}"));
    for shown in [
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        text,
    ] {
        for secret in [PASSWORD, TOKEN, basic.as_str()] {
            assert!(!shown.contains(secret), "a secret was shown:\n{shown}");
        }
    }
    (out, json)
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn every_httpbin_scenario_passes() {
    let (_httpbin, base) = httpbin();

    let (out, report) = run(&base, "scenarios");

    let stdout = String::from_utf8_lossy(&out.stdout);
    let scenarios = report["scenarios"].as_array().unwrap();
    let files = std::fs::read_dir(suite().join("scenarios"))
        .unwrap()
        .count();
    assert_eq!(scenarios.len(), files, "every file ran:\n{stdout}");
    for s in scenarios {
        assert_eq!(s["status"], "passed", "{}:\n{stdout}", s["path"]);
        for step in s["steps"].as_array().unwrap() {
            assert_eq!(step["status"], "passed", "{}: {}", s["path"], step["name"]);
        }
    }
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // The user name echoed by /basic-auth/alice/… is captured and shown as is.
    assert!(stdout.contains("/anything/alice"), "{stdout}");
}

#[test]
fn a_slow_answer_past_its_timeout_fails_clearly() {
    let (_httpbin, base) = httpbin();

    let (out, report) = run(&base, "failing/timeout.yaml");

    assert_eq!(out.status.code(), Some(1));
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["status"], "error", "{step}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("expected a response, got no response within 1s"),
        "{stdout}"
    );
}

#[test]
fn a_wrong_status_with_an_empty_body_ends_at_the_status() {
    let (_httpbin, base) = httpbin();

    let (out, report) = run(&base, "failing/empty-status.yaml");

    assert_eq!(out.status.code(), Some(1));
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["status"], "failed", "{step}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Regression: it read `got 204 ` (the status, a space, an empty excerpt).
    assert!(
        stdout.contains("status: expected 200, got 204\n"),
        "{stdout}"
    );
}

#[test]
fn an_unset_env_var_is_not_blamed_on_the_secret_checks() {
    // No httpbin needed: nothing is sent, `base` cannot render.
    let out = Command::new(BIN)
        .args(["run", "--color", "never", "--env"])
        .arg(suite().join("environments/httpbin.yaml"))
        .arg(suite().join("failing/empty-status.yaml"))
        .env_remove("HTTPBIN_BASE")
        .env("HTTPBIN_PASSWORD", PASSWORD)
        .env("HTTPBIN_TOKEN", TOKEN)
        .output()
        .unwrap();

    let stdout = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    // Regression: both secret checks failed, each with the error of `base`.
    assert!(
        stdout.contains("pre-flight: 2 checks, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("environment variable `HTTPBIN_BASE` is not set"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
}

#[test]
fn a_binary_body_is_not_captured_as_text() {
    let (_httpbin, base) = httpbin();

    let (out, report) = run(&base, "failing/binary-capture.yaml");

    assert_eq!(out.status.code(), Some(1));
    let step = &report["scenarios"][0]["steps"][0];
    assert_eq!(step["status"], "failed", "{step}");
    // Regression: it captured the bytes as lossy text and the report showed them raw.
    assert_eq!(step["captures"], serde_json::json!([]), "{step}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("capture `raw`: expected a text or JSON body")
            && stdout.contains("<16 bytes application/octet-stream>"),
        "{stdout}"
    );
}
