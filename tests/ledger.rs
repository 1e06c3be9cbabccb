//! The ledger of test data, end to end, against the bank mock and the sample platform run
//! as processes: a run SIGKILLed after its create step leaves the payment in
//! `rehearse ledger`; `rehearse cleanup` deletes it (the platform answers 404 for it
//! afterwards) and the ledger is empty again; on SQLite and on a real PostgreSQL server.
//! Also: a run whose own cleanup succeeds leaves nothing pending, a failed cleanup leaves
//! its entry pending with the error, and the canary secret the requests carry is not in
//! the SQLite file.

#[path = "common/mod.rs"]
mod common;
#[path = "common/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

const CANARY: &str = "canary-7c2e91-ledger-token";

/// The create step every scenario here starts with: a payment on the platform, with the
/// canary secret in a header (so the id is captured with `secret: false`).
const CREATE: &str = r#"  - name: create payment
    request:
      method: POST
      url: "{{ platform }}/payments"
      headers: { Authorization: "Bearer {{ secret('API_TOKEN') }}" }
      json:
        amount: "12.00"
        currency: EUR
        beneficiary: { name: ACME Supplies Ltd, iban: GB33BUKB20201555555555, bic: BUKBGB22 }
        reference: ledger test
    expect: { status: 201 }
    capture: { payment_id: { json: $.id, secret: false } }
"#;

/// A cleanup step deleting the payment that expects `status`.
fn delete(status: u16) -> String {
    format!(
        r#"cleanup:
  - name: delete payment
    request:
      method: DELETE
      url: "{{{{ platform }}}}/payments/{{{{ payment_id }}}}"
      headers: {{ Authorization: "Bearer {{{{ secret('API_TOKEN') }}}}" }}
    expect: {{ status: {status} }}
"#
    )
}

/// A suite in `dir` against `platform`: environment `staging`, and `scenarios` (file stem,
/// text) under scenarios/.
fn suite(dir: &Path, platform: &str, scenarios: &[(&str, String)]) {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::write(
        dir.join("environments/staging.yaml"),
        format!(
            "vars:\n  platform: {platform}\nsecrets: [API_TOKEN]\ntimeouts: {{ request: 5s }}\n"
        ),
    )
    .unwrap();
    for (name, text) in scenarios {
        std::fs::write(dir.join(format!("scenarios/{name}.yaml")), text).unwrap();
    }
}

fn rehearse(dir: &Path, args: &[&str], store: &[String]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .args(store)
        .current_dir(dir)
        .env("API_TOKEN", CANARY)
        .env_remove("REHEARSE_STORE")
        .env_remove("REHEARSE_ENV")
        .env_remove("REHEARSE_NOW")
        .env("NO_COLOR", "1");
    cmd
}

fn output(dir: &Path, args: &[&str], store: &[String]) -> Output {
    rehearse(dir, args, store).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `rehearse ledger --env staging --json`: the pending entries.
fn pending(dir: &Path, store: &[String]) -> Vec<serde_json::Value> {
    let out = output(dir, &["ledger", "--env", "staging", "--json"], store);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("ledger --json: {e}: {}", text(&out)));
    json["pending"].as_array().unwrap().clone()
}

/// The status of `GET url` (plain HTTP/1.1 over a socket: the tests here are not async).
fn status_of(url: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

/// `rehearse run --env staging` in the background (killed when the test ends).
fn spawn_run(dir: &Path, store: &[String]) -> common::Proc {
    let child = rehearse(dir, &["run", "--env", "staging"], store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::Proc(child)
}

/// The first entry the ledger lists, once there is one (a minute at most).
fn first_pending(dir: &Path, store: &[String]) -> serde_json::Value {
    let began = Instant::now();
    loop {
        let recorded = !store.is_empty() || dir.join(".rehearse/rehearse.db").exists();
        if recorded && let Some(e) = pending(dir, store).into_iter().next() {
            return e;
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "the run recorded no payment in a minute"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A run killed (SIGKILL) after its create step, while it waits: the ledger lists the
/// payment, `cleanup` deletes it, the platform answers 404, the ledger is empty.
fn killed_then_cleaned(store: &[String]) -> tempfile::TempDir {
    let (_bank, bank_url) = common::bank();
    let (_platform, platform) = common::platform(&bank_url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let slow = format!(
        "name: create a payment then wait\nsteps:\n{CREATE}  - name: wait for a reviewer\n    wait: 10m\n{}",
        delete(204)
    );
    suite(d, &platform, &[("slow", slow)]);
    let mut run = spawn_run(d, store);
    // The entry is written before the wait step starts; wait for it, then kill the run.
    let entry = first_pending(d, store);
    run.0.kill().unwrap(); // SIGKILL
    run.0.wait().unwrap();
    let id = entry["resource_id"].as_str().unwrap().to_owned();
    assert_eq!(status_of(&format!("{platform}/payments/{id}")), 200);

    let out = output(d, &["ledger", "--env", "staging"], store);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed = text(&out);
    assert!(
        listed.contains("1 resource created and never cleaned up"),
        "{listed}"
    );
    assert!(listed.contains(&format!("payment_id {id}")), "{listed}");
    assert!(
        listed.contains("scenario \"create a payment then wait\" (scenarios/slow.yaml)"),
        "{listed}"
    );
    assert!(
        listed.contains("step \"create payment\" (POST "),
        "{listed}"
    );
    assert!(listed.contains("cleanup never ran"), "{listed}");
    assert_eq!(
        entry["run_id"].as_str().map(|r| r.starts_with("r-")),
        Some(true)
    );
    assert_eq!(entry["cleanup_steps"], serde_json::json!([0]));

    let dry = output(d, &["cleanup", "--env", "staging", "--dry-run"], store);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(
        text(&dry).contains("would run cleanup step \"delete payment\""),
        "{}",
        text(&dry)
    );
    assert_eq!(
        status_of(&format!("{platform}/payments/{id}")),
        200,
        "a dry run sent nothing"
    );

    let out = output(d, &["cleanup", "--env", "staging"], store);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("✓ removed payment_id {id}")),
        "{said}"
    );
    assert!(said.contains("1 removed, 0 not removed"), "{said}");
    assert!(!said.contains(CANARY), "{said}");
    assert_eq!(status_of(&format!("{platform}/payments/{id}")), 404);

    assert!(pending(d, store).is_empty());
    let out = output(d, &["ledger", "--env", "staging"], store);
    assert!(text(&out).contains("nothing to clean up"), "{}", text(&out));
    dir
}

#[test]
fn a_killed_run_leaves_its_payment_and_cleanup_deletes_it_sqlite() {
    let dir = killed_then_cleaned(&[]);
    assert!(
        !common::store_holds(&common::store_bytes(dir.path()), CANARY),
        "the canary is in the store"
    );
}

#[test]
fn a_killed_run_leaves_its_payment_and_cleanup_deletes_it_postgres() {
    let pg = postgres::Postgres::start();
    killed_then_cleaned(&["--store".to_owned(), pg.url()]);
}

/// Two scenarios in one run: one whose cleanup succeeds (nothing left of it), one whose
/// cleanup fails (its entry stays, with the error); `cleanup` then fails on it too (the
/// payment is gone already: 404) and exits 1.
#[test]
fn own_cleanup_removes_and_a_failed_one_stays_pending_with_its_error() {
    let (_bank, bank_url) = common::bank();
    let (_platform, platform) = common::platform(&bank_url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = format!(
        "name: cleans up after itself\nsteps:\n{CREATE}{}",
        delete(204)
    );
    let bad = format!(
        "name: cleanup expects the wrong status\nsteps:\n{CREATE}{}",
        delete(200)
    );
    suite(d, &platform, &[("good", good), ("bad", bad)]);
    let out = output(d, &["run", "--env", "staging", "--jobs", "1"], &[]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));

    let left = pending(d, &[]);
    assert_eq!(left.len(), 1, "{left:?}");
    let e = &left[0];
    assert_eq!(e["scenario"], "cleanup expects the wrong status");
    let why = e["cleanup_error"].as_str().unwrap_or_default();
    assert!(why.contains("cleanup step `delete payment`"), "{why}");
    assert!(why.contains("200") && why.contains("204"), "{why}");
    let listed = text(&output(d, &["ledger", "--env", "staging"], &[]));
    assert!(
        listed.contains("cleanup failed: cleanup step `delete payment`"),
        "{listed}"
    );

    let out = output(d, &["cleanup", "--env", "staging"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("✗ not removed payment_id"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("404"), "{}", text(&out));
    assert_eq!(pending(d, &[]).len(), 1);
    assert!(
        !common::store_holds(&common::store_bytes(d), CANARY),
        "the canary is in the store"
    );
}

/// A cleanup step that needs a secret-derived capture is refused, naming the step and the
/// capture: a token captured before the create step is never recorded with it.
#[test]
fn a_cleanup_needing_a_secret_derived_capture_is_refused() {
    let (_bank, bank_url) = common::bank();
    let (_platform, platform) = common::platform(&bank_url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `token` is captured from a response to a request that carried the secret: a token.
    let scenario = format!(
        r#"name: needs a token to clean up
steps:
  - name: a token
    request:
      method: POST
      url: "{{{{ platform }}}}/payments"
      headers: {{ Authorization: "Bearer {{{{ secret('API_TOKEN') }}}}" }}
      json:
        amount: "1.00"
        currency: EUR
        beneficiary: {{ name: A, iban: GB33BUKB20201555555555, bic: BUKBGB22 }}
        reference: token
    expect: {{ status: 201 }}
    capture: {{ token: $.id }}
{CREATE}  - name: wait
    wait: 10m
cleanup:
  - name: delete payment
    request:
      method: DELETE
      url: "{{{{ platform }}}}/payments/{{{{ payment_id }}}}"
      headers: {{ X-Token: "{{{{ token }}}}" }}
    expect: {{ status: 204 }}
"#
    );
    suite(d, &platform, &[("token", scenario)]);
    let mut run = spawn_run(d, &[]);
    let entry = first_pending(d, &[]);
    run.0.kill().unwrap();
    run.0.wait().unwrap();
    assert_eq!(entry["step"], "create payment");
    let out = output(d, &["cleanup", "--env", "staging"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("refused: cleanup step \"delete payment\""),
        "{said}"
    );
    assert!(said.contains("needs `token`"), "{said}");
    let id = entry["resource_id"].as_str().unwrap();
    assert_eq!(
        status_of(&format!("{platform}/payments/{id}")),
        200,
        "nothing was sent"
    );
}
