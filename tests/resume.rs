//! Resumable runs, end to end, against the bank mock and the sample platform run as
//! processes on a real clock: a large payment held for review, approved by someone else
//! (`wait` mode) while nothing runs, then polled until settled. Suspended by
//! `--suspend-after`, by SIGTERM while waiting, or SIGKILLed while it polls, the run is
//! continued by `rehearse resume RUN_ID`, which ends green; the stored run and the reports
//! cover every step, those before the suspension too, and cleanup ran once. Also: an
//! unknown run, a finished run, and the canary secret nowhere in the SQLite store.

#[path = "common/mod.rs"]
mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

const CANARY: &str = "canary-5d10b7-resume-token";

/// Create a large payment (held for review), a reviewer's approval someone else makes,
/// a poll until it settled; cleanup deletes it.
const SCENARIO: &str = r#"name: large payment waits for a reviewer
steps:
  - name: create payment
    request:
      method: POST
      url: "{{ platform }}/payments"
      headers: { Authorization: "Bearer {{ secret('API_TOKEN') }}" }
      json:
        amount: "30000.00"
        currency: EUR
        beneficiary: { name: ACME Supplies Ltd, iban: GB33BUKB20201555555555, bic: BUKBGB22 }
        reference: resume test
    expect: { status: 201 }
    capture:
      payment_id: { json: $.id, secret: false }
      bank_ref: { json: $.bank_reference, secret: false }
  - name: bank staff approves
    approve: { reference: "{{ bank_ref }}", decision: approve }
  - name: platform shows settled
    request: { url: "{{ platform }}/payments/{{ payment_id }}" }
    poll: { every: 200ms, timeout: 10m, fail_if: { "$.status": { one_of: [rejected, failed] } } }
    expect: { json: { "$.status": settled } }
cleanup:
  - name: delete payment
    request:
      method: DELETE
      url: "{{ platform }}/payments/{{ payment_id }}"
      headers: { Authorization: "Bearer {{ secret('API_TOKEN') }}" }
    expect: { status: 204 }
"#;

struct World {
    _bank: common::Proc,
    bank: String,
    _platform: common::Proc,
    platform: String,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let (bank_proc, bank) = common::bank();
    let (platform_proc, platform) = common::platform(&bank);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("scenarios")).unwrap();
    std::fs::create_dir_all(d.join("environments")).unwrap();
    std::fs::write(
        d.join("environments/staging.yaml"),
        format!(
            "vars:\n  platform: {platform}\nsecrets: [API_TOKEN]\ntimeouts: {{ request: 5s }}\nclock: real\napprovals: {{ mode: wait }}\n"
        ),
    )
    .unwrap();
    std::fs::write(d.join("scenarios/large.yaml"), SCENARIO).unwrap();
    World {
        _bank: bank_proc,
        bank,
        _platform: platform_proc,
        platform,
        dir,
    }
}

std::thread_local! {
    /// The store this test's commands use (`REHEARSE_STORE`), when not the default SQLite
    /// file: each test runs on a thread of its own.
    static STORE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn rehearse(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    match STORE.with(|s| s.borrow().clone()) {
        Some(url) => cmd.env("REHEARSE_STORE", url),
        None => cmd.env_remove("REHEARSE_STORE"),
    };
    cmd.args(args)
        .current_dir(dir)
        .env("API_TOKEN", CANARY)
        .env_remove("REHEARSE_ENV")
        .env_remove("REHEARSE_NOW")
        .env_remove("REHEARSE_RUN_ID")
        .env("NO_COLOR", "1");
    cmd
}

fn output(dir: &Path, args: &[&str]) -> Output {
    rehearse(dir, args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A plain HTTP/1.1 request: the status and the body.
fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Someone else approves: the one payment waiting in the bank's review queue.
fn approve_at_the_bank(bank: &str) {
    let (status, body) = http("GET", &format!("{bank}/__admin/reviews"), None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let reviews = v["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 1, "{body}");
    let id = reviews[0]["payment_id"].as_str().unwrap();
    let (status, body) = http(
        "POST",
        &format!("{bank}/__admin/reviews/{id}/decision"),
        Some(r#"{"decision": "approve", "note": "approved while nothing ran"}"#),
    );
    assert_eq!(status, 200, "{body}");
}

/// The run id in `suspended: resume with `rehearse resume ID``.
fn resume_hint(said: &str) -> String {
    let at = said
        .find("suspended: resume with `rehearse resume ")
        .unwrap_or_else(|| panic!("no resume hint: {said}"));
    said[at..]
        .split('`')
        .nth(1)
        .unwrap()
        .trim_start_matches("rehearse resume ")
        .to_owned()
}

/// The first payment the ledger lists once the run recorded it (a minute at most): the
/// run is then past its create step. Returns (run id, payment id).
fn created(dir: &Path) -> (String, String) {
    let began = Instant::now();
    loop {
        let stored = STORE.with(|s| s.borrow().is_some());
        if stored || dir.join(".rehearse/rehearse.db").exists() {
            let out = output(dir, &["ledger", "--env", "staging", "--json"]);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if let Some(e) = v["pending"].as_array().and_then(|a| a.first()) {
                return (
                    e["run_id"].as_str().unwrap().to_owned(),
                    e["resource_id"].as_str().unwrap().to_owned(),
                );
            }
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the run created no payment in a minute"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `resume RUN_ID` ends green; the JSON report and the stored run hold every step passed,
/// cleanup once; the platform no longer has the payment.
fn resumed_green(w: &World, run_id: &str, payment: &str) {
    let d = w.dir.path();
    let out = output(d, &["resume", run_id, "--report", "json=resumed.json"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(!said.contains(CANARY), "{said}");
    let report = json(&d.join("resumed.json"));
    assert_eq!(report["run_id"], run_id);
    let s = &report["scenarios"][0];
    assert_eq!(s["status"], "passed", "{s:#}");
    let steps: Vec<_> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| (st["name"].as_str().unwrap(), st["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("create payment", "passed"),
            ("bank staff approves", "passed"),
            ("platform shows settled", "passed")
        ]
    );
    assert_eq!(s["cleanup"].as_array().unwrap().len(), 1, "{s:#}");
    assert_eq!(s["cleanup"][0]["status"], "passed");
    assert_eq!(
        http("GET", &format!("{}/payments/{payment}", w.platform), None).0,
        404,
        "cleanup deleted the payment"
    );
    // The resumed cleanup removed the payment from the ledger too.
    let ledger = output(d, &["ledger", "--env", "staging"]);
    assert!(
        text(&ledger).contains("nothing to clean up"),
        "{}",
        text(&ledger)
    );
    // The create step was not sent again: no second payment waits for a reviewer.
    let (_, queue) = http("GET", &format!("{}/__admin/reviews", w.bank), None);
    let queue: serde_json::Value = serde_json::from_str(&queue).unwrap();
    assert_eq!(queue["reviews"], serde_json::json!([]), "{queue}");
    // The stored run: read back as `report merge --run` reads it.
    let out = output(d, &["report", "merge", "stored", "--run", run_id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stored = json(&d.join("stored/run.json"));
    let s = &stored["scenarios"][0];
    assert_eq!(s["status"], "passed", "{s:#}");
    let statuses: Vec<_> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["passed", "passed", "passed"], "{s:#}");
    assert_eq!(s["cleanup"].as_array().unwrap().len(), 1, "{s:#}");

    // An unknown run id, in a store that has runs.
    let unknown = output(d, &["resume", "r-20260101T000000Z-abcdef"]);
    assert_eq!(unknown.status.code(), Some(3), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("holds no run"),
        "{}",
        text(&unknown)
    );
    // Finished: not resumable again.
    let again = output(d, &["resume", run_id]);
    assert_eq!(again.status.code(), Some(3), "{}", text(&again));
    assert!(
        text(&again).contains("already finished"),
        "{}",
        text(&again)
    );
}

/// `run --suspend-after 1s` exits 75 with the resume hint, no cleanup; the approval is
/// made while nothing runs; `resume` ends green.
fn suspended_then_resumed() -> World {
    let w = world();
    let d = w.dir.path();
    let out = output(
        d,
        &[
            "run",
            "--env",
            "staging",
            "--suspend-after",
            "1s",
            "--report",
            "json=suspended.json",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(75), "{said}");
    let run_id = resume_hint(&said);
    let report = json(&d.join("suspended.json"));
    let s = &report["scenarios"][0];
    assert_eq!(s["status"], "interrupted", "{s:#}");
    assert_eq!(s["steps"][0]["status"], "passed");
    assert!(
        s["cleanup"].as_array().unwrap().is_empty(),
        "no cleanup: {s:#}"
    );
    let payment = s["steps"][0]["captures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[0] == "payment_id")
        .map(|c| c[1].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(
        http("GET", &format!("{}/payments/{payment}", w.platform), None).0,
        200,
        "the payment is still there for the resumed run"
    );

    approve_at_the_bank(&w.bank);
    resumed_green(&w, &run_id, &payment);
    w
}

#[test]
fn a_run_suspended_after_a_while_resumes_green_after_the_approval() {
    let w = suspended_then_resumed();
    assert!(
        !common::store_holds(&common::store_bytes(w.dir.path()), CANARY),
        "the canary is in the store"
    );
}

#[test]
fn a_run_suspended_after_a_while_resumes_green_on_postgres() {
    let pg = postgres::Postgres::start();
    STORE.with(|s| *s.borrow_mut() = Some(pg.url()));
    suspended_then_resumed();
}

#[test]
fn a_run_killed_while_it_polls_resumes_green() {
    let w = world();
    let d = w.dir.path();
    let mut run = common::Proc(
        rehearse(d, &["run", "--env", "staging"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (run_id, payment) = created(d);
    // Past the create step the scenario is at its poll within milliseconds.
    std::thread::sleep(Duration::from_millis(500));
    run.0.kill().unwrap(); // SIGKILL
    run.0.wait().unwrap();

    approve_at_the_bank(&w.bank);
    resumed_green(&w, &run_id, &payment);
}

#[test]
fn sigterm_while_waiting_suspends() {
    let w = world();
    let d = w.dir.path();
    let child = rehearse(d, &["run", "--env", "staging"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (run_id, _) = created(d);
    // Past the create step the scenario is at its poll within milliseconds.
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(75), "{said}");
    assert_eq!(resume_hint(&said), run_id);
    assert!(said.contains("SIGTERM while waiting"), "{said}");

    // A scenario file changed since: refused unless --force.
    let file = d.join("scenarios/large.yaml");
    let changed = std::fs::read_to_string(&file).unwrap() + "# edited\n";
    std::fs::write(&file, changed).unwrap();
    let out = output(d, &["resume", &run_id]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("changed since run") && text(&out).contains("scenarios/large.yaml"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_run_with_nothing_that_waits_cannot_be_resumed() {
    let w = world();
    let d = w.dir.path();
    std::fs::write(
        d.join("scenarios/large.yaml"),
        "name: no wait\nsteps:\n  - name: ready\n    request: { url: \"{{ platform }}/readyz\" }\n",
    )
    .unwrap();
    let out = output(
        d,
        &[
            "run",
            "--env",
            "staging",
            "--suspend-after",
            "1s",
            "--report",
            "json=r.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(
            "--suspend-after has no effect: no selected scenario has an `approve` step or a `poll`"
        ),
        "{}",
        text(&out)
    );
    let run_id = json(&d.join("r.json"))["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = output(d, &["resume", &run_id]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("cannot be resumed"), "{}", text(&out));
}

#[test]
fn resuming_without_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = output(dir.path(), &["resume", "r-nope"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("there is no store"), "{}", text(&out));
}
