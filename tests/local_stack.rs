//! Every shipped scenario runs against the embedded local stack (bank mock + sample
//! platform, virtual clock), through the real binary, and the console report of the whole
//! run is snapshotted (durations, ids and ports redacted).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_shipped_scenario_passes_on_the_embedded_stack() {
    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("run.json");
    // One job at a time: the console prints scenarios as they finish, so this makes the
    // order (by path) stable for the snapshot.
    let out = Command::new(BIN)
        .args(["run", "--jobs", "1", "--report"])
        .arg(format!("json={}", json.display()))
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let scenarios = result["scenarios"].as_array().unwrap();
    let shipped = walk(&repo().join("scenarios"));
    assert_eq!(scenarios.len(), shipped, "every shipped scenario ran");
    for s in scenarios {
        assert_eq!(s["status"], "passed", "{}", s["path"]);
    }

    insta::with_settings!({filters => vec![
        (r"\b\d+(\.\d+)?(ms|s)\b", "[duration]"),
        (r"r-\d{8}T\d{6}Z-[0-9a-f]{6}", "[run-id]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
    ]}, {
        insta::assert_snapshot!(stdout);
    });
}

fn walk(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        if e.path().is_dir() {
            n += walk(&e.path());
        } else if name.ends_with(".yaml") {
            n += 1;
        }
    }
    n
}

#[test]
fn up_serves_the_stack_until_ctrl_c() {
    let mut child = Command::new(BIN)
        .arg("up")
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut platform = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.trim().strip_prefix("platform")
            && rest.contains("bank API v2")
        {
            platform = Some(rest.split_whitespace().next().unwrap().to_owned());
        }
        if line.trim().starts_with("credentials") {
            break;
        }
    }
    let platform = platform.expect("`up` prints the platform's URL");
    let health = ureq_get(&format!("{platform}/healthz"));
    assert!(health.contains("\"ok\""), "{health}");
    let ready = ureq_get(&format!("{platform}/readyz"));
    assert!(ready.contains("\"ready\""), "{ready}");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// A plain HTTP/1.1 GET over a TCP socket (the test needs no client library).
fn ureq_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    write!(
        sock,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    sock.read_to_string(&mut out).unwrap();
    out
}
