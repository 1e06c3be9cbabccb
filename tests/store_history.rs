//! The store and history, end to end: five runs of a suite against a target the test
//! controls, where one scenario fails on runs 3 and 4 after a new version is deployed.
//! The reports label it (new failure, still failing, fixed), `rehearse history` shows its
//! strip and names the deployed version that changed; on SQLite (the default) and on a
//! real PostgreSQL server. Also: a store that is down (exit 2, reports written), the
//! canary secret never in the database, CTRF validated against CTRF's schema, and
//! `--retry-failed` turning a scenario that fails once into a flaky one.

#[path = "common/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");
const CANARY: &str = "canary-4f1d9e-token";

/// What the target does: its deployed version, whether `/pay` fails, and how many of the
/// next `/pay` calls fail before it succeeds again.
#[derive(Default)]
struct Target {
    version: Mutex<String>,
    pay_fails: AtomicBool,
    fail_next: AtomicUsize,
}

async fn serve() -> (Arc<Target>, String) {
    let target = Arc::new(Target::default());
    *target.version.lock().unwrap() = "1.5.0".to_owned();
    let app = axum::Router::new()
        .route(
            "/version",
            get(|State(t): State<Arc<Target>>| async move {
                axum::Json(serde_json::json!({ "version": *t.version.lock().unwrap() }))
            }),
        )
        .route(
            "/pay",
            post(|State(t): State<Arc<Target>>| async move {
                let once = t
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if once || t.pay_fails.load(Ordering::SeqCst) {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::CREATED
                }
            }),
        )
        .route("/balance", get(|| async { "100.00" }))
        .with_state(Arc::clone(&target));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (target, url)
}

fn suite(dir: &Path, base: &str) {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::write(
        dir.join("environments/staging.yaml"),
        format!(
            r#"vars:
  base: "{base}"
  bank_api_version: v2
secrets: [API_TOKEN]
checks:
  - name: the release under test is deployed
    owner: release-manager
    version: {{ url: "{{{{ base }}}}/version" }}
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("scenarios/pay.yaml"),
        r#"name: pay a supplier
owner: payments-team
steps:
  - name: pay
    request:
      method: POST
      url: "{{ base }}/pay"
      headers: { Authorization: "Bearer {{ secret('API_TOKEN') }}" }
    expect: { status: 201 }
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("scenarios/balance.yaml"),
        r#"name: read the balance
steps:
  - name: balance
    request: { url: "{{ base }}/balance" }
    expect: { status: 200 }
"#,
    )
    .unwrap();
}

/// `rehearse ARGS` in the suite's folder, off the async runtime.
async fn rehearse(dir: &Path, args: Vec<String>) -> Output {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .current_dir(&dir)
            .env("API_TOKEN", CANARY)
            .env_remove("REHEARSE_STORE")
            .env_remove("REHEARSE_ENV")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn run_args(n: usize, store: &[String]) -> Vec<String> {
    let mut a: Vec<String> = ["run", "--env", "staging", "--jobs", "1"]
        .iter()
        .map(ToString::to_string)
        .collect();
    for kind in ["html", "markdown", "json"] {
        a.push("--report".to_owned());
        a.push(format!("{kind}=out/{n}/report.{kind}"));
    }
    a.extend(store.iter().cloned());
    a
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn run_id(dir: &Path, n: usize) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&read(dir, &format!("out/{n}/report.json"))).unwrap();
    json["run_id"].as_str().unwrap().to_owned()
}

/// The HTML summary line of the scenario named `name`.
fn html_line<'a>(html: &'a str, name: &str) -> &'a str {
    html.lines()
        .find(|l| l.contains("<summary>") && l.contains(name))
        .unwrap_or_else(|| panic!("no summary of {name} in the HTML report"))
}

async fn five_runs(store: &[String]) -> tempfile::TempDir {
    let (target, base) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), &base);
    let d = dir.path();
    for n in 1..=5 {
        match n {
            3 => {
                *target.version.lock().unwrap() = "1.6.0".to_owned();
                target.pay_fails.store(true, Ordering::SeqCst);
            }
            5 => {
                *target.version.lock().unwrap() = "1.6.1".to_owned();
                target.pay_fails.store(false, Ordering::SeqCst);
            }
            _ => {}
        }
        let out = rehearse(d, run_args(n, store)).await;
        let want = if matches!(n, 3 | 4) { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "run {n}: {}", text(&out));
        let html = read(d, &format!("out/{n}/report.html"));
        let md = read(d, &format!("out/{n}/report.markdown"));
        let pay = html_line(&html, "pay a supplier");
        let balance = html_line(&html, "read the balance");
        match n {
            1 => {
                assert!(pay.contains("<span class=\"strip\""), "{pay}");
                assert!(!pay.contains("class=\"trend"), "{pay}");
            }
            3 => {
                assert!(pay.contains("✓✓✗</span>"), "{pay}");
                assert!(
                    pay.contains("<span class=\"trend t-new-failure\">new failure</span>"),
                    "{pay}"
                );
                assert!(!balance.contains("class=\"trend"), "{balance}");
                // New failures come first in the Markdown summary, before failures by owner.
                let new = md
                    .find("### New failures")
                    .unwrap_or_else(|| panic!("{md}"));
                let by_owner = md
                    .find("### Failures by owner")
                    .unwrap_or_else(|| panic!("{md}"));
                assert!(new < by_owner, "{md}");
                assert!(md[new..by_owner].contains("**pay a supplier**"), "{md}");
                assert!(md.contains("_new failure_"), "{md}");
            }
            4 => {
                let since = format!("still failing since run {}", run_id(d, 3));
                assert!(pay.contains(&since), "{pay}");
                assert!(!md.contains("### New failures"), "{md}");
            }
            5 => {
                assert!(pay.contains("✓✓✗✗✓</span>"), "{pay}");
                assert!(
                    pay.contains("<span class=\"trend t-fixed\">fixed</span>"),
                    "{pay}"
                );
                assert!(md.contains("### Fixed"), "{md}");
            }
            _ => {}
        }
        if n == 4 {
            let mut args = vec![
                "history".to_owned(),
                "--env".to_owned(),
                "staging".to_owned(),
            ];
            args.extend(store.iter().cloned());
            let out = rehearse(d, args).await;
            let shown = text(&out);
            assert_eq!(out.status.code(), Some(0), "{shown}");
            assert!(shown.contains("✓✓✗✗  pass 50%"), "{shown}");
            assert!(shown.contains("✓✓✓✓  pass 100%"), "{shown}");
            let why = format!("failing since run {} (", run_id(d, 3));
            assert!(shown.contains(&why), "{shown}");
            assert!(
                shown.contains(&format!("last green {} (", run_id(d, 2))),
                "{shown}"
            );
            assert!(
                shown.contains("changed between them: deployed version 1.5.0 → 1.6.0"),
                "{shown}"
            );
            assert!(!shown.contains("scenario file"), "{shown}");
            assert!(!shown.contains("pg-canary-pw"), "{shown}");
        }
    }
    // After the fix: no "failing since", the strip of five, and JSON for tools.
    let mut args: Vec<String> = ["history", "--env", "staging", "--json", "pay"]
        .iter()
        .map(ToString::to_string)
        .collect();
    args.extend(store.iter().cloned());
    let out = rehearse(d, args).await;
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    let list = json["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{json}");
    assert_eq!(list[0]["strip"], "✓✓✗✗✓");
    assert_eq!(list[0]["path"], "scenarios/pay.yaml");
    assert!(list[0]["failing_since"].is_null());
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_runs_on_sqlite_label_the_failure_and_name_the_deployed_version() {
    let dir = five_runs(&[]).await;
    let db = dir.path().join(".rehearse/rehearse.db");
    assert!(db.is_file(), "the default store is under the suite's root");
    // The secret sent in every /pay request never reaches the store.
    for file in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(CANARY),
                "{} holds the secret",
                file.display()
            );
        }
    }
    let conn_check = Command::new("sqlite3")
        .arg(&db)
        .arg(
            "SELECT count(*) FROM runs; SELECT group_concat(request_excerpt || url) FROM attempts;",
        )
        .output();
    if let Ok(o) = conn_check {
        let t = String::from_utf8_lossy(&o.stdout);
        assert!(t.starts_with("5\n"), "{t}");
        assert!(!t.contains(CANARY), "{t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_runs_on_postgres_label_the_failure_and_name_the_deployed_version() {
    let pg = postgres::Postgres::start();
    five_runs(&["--store".to_owned(), pg.url()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_is_down_exits_2_with_a_hint_and_the_reports_are_written() {
    let (_target, base) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), &base);
    let mut pg = postgres::Postgres::start();
    let url = pg.url();
    pg.stop();
    let out = rehearse(dir.path(), run_args(1, &["--store".to_owned(), url])).await;
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(
        shown.contains("the store postgres://rehearse:***@127.0.0.1:"),
        "{shown}"
    );
    assert!(shown.contains("does not answer"), "{shown}");
    assert!(shown.contains("is PostgreSQL running"), "{shown}");
    assert!(shown.contains("--no-store"), "{shown}");
    assert!(!shown.contains("pg-canary-pw"), "{shown}");
    // The run happened and its reports were written.
    let json: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "out/1/report.json")).unwrap();
    assert_eq!(json["scenarios"].as_array().unwrap().len(), 2);
    assert!(read(dir.path(), "out/1/report.html").contains("pay a supplier"));
    // --no-store: the same run exits 0 and writes no database.
    let out = rehearse(dir.path(), run_args(2, &["--no-store".to_owned()])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!dir.path().join(".rehearse").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrf_report_is_valid_against_the_ctrf_schema() {
    let (target, base) = serve().await;
    target.pay_fails.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), &base);
    let args: Vec<String> = [
        "run",
        "--env",
        "staging",
        "--no-store",
        "--shard",
        "1/1",
        "--report",
        "ctrf=out/ctrf.json",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let out = rehearse(dir.path(), args).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "out/ctrf.json")).unwrap();
    // The schema of CTRF's own repository (github.com/ctrf-io/ctrf, schema/ctrf.schema.json
    // at 84ddec5, MIT), copied into tests/schemas/.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("schemas/ctrf.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{report:#}");
    let results = &report["results"];
    assert_eq!(results["tool"]["name"], "rehearse");
    assert_eq!(results["summary"]["tests"], 2);
    assert_eq!(results["summary"]["failed"], 1);
    assert_eq!(results["summary"]["passed"], 1);
    assert_eq!(results["environment"]["testEnvironment"], "staging");
    assert_eq!(results["environment"]["shardId"], "1/1");
    let pay = results["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pay a supplier")
        .unwrap();
    assert_eq!(pay["status"], "failed");
    assert_eq!(pay["filePath"], "scenarios/pay.yaml");
    assert!(pay["message"].as_str().unwrap().contains("status"), "{pay}");
    assert!(!report.to_string().contains(CANARY));
    // The schema can fail: a document without its format marker is refused.
    let mut broken = report.clone();
    broken.as_object_mut().unwrap().remove("reportFormat");
    assert!(!validator.is_valid(&broken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_that_fails_once_then_passes_on_retry_is_flaky() {
    let (target, base) = serve().await;
    target.fail_next.store(1, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), &base);
    let mut args = run_args(1, &["--retry-failed".to_owned(), "2".to_owned()]);
    args.extend(["--report".to_owned(), "junit=out/1/junit.xml".to_owned()]);
    args.extend(["--report".to_owned(), "ctrf=out/1/ctrf.json".to_owned()]);
    let out = rehearse(dir.path(), args).await;
    let shown = text(&out);
    // Flaky is not a failure: exit 0, but visible everywhere.
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("retrying 1 failed scenario (retry 1 of 2)"),
        "{shown}"
    );
    assert!(
        shown.contains("after --retry-failed: 2 passed (1 flaky), 0 failed"),
        "{shown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "out/1/report.json")).unwrap();
    let pay = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pay a supplier")
        .unwrap();
    assert_eq!(pay["status"], "flaky", "{pay}");
    assert_eq!(pay["retries"], 1, "{pay}");
    let ctrf: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "out/1/ctrf.json")).unwrap();
    let t = ctrf["results"]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pay a supplier")
        .unwrap();
    assert_eq!(t["flaky"], true);
    assert_eq!(t["retries"], 1);
    assert_eq!(ctrf["results"]["summary"]["flaky"], 1);
    let md = read(dir.path(), "out/1/report.markdown");
    assert!(md.contains("Flaky"), "{md}");
    assert!(md.contains("pay a supplier"), "{md}");
    let html = read(dir.path(), "out/1/report.html");
    assert!(html_line(&html, "pay a supplier").contains("flaky"));
    let junit = read(dir.path(), "out/1/junit.xml");
    assert!(
        junit.contains("flaky") || junit.contains("rerun"),
        "{junit}"
    );
    // Stored as flaky, so history shows `~`.
    let out = rehearse(
        dir.path(),
        vec![
            "history".into(),
            "--env".into(),
            "staging".into(),
            "pay".into(),
        ],
    )
    .await;
    assert!(
        text(&out).contains("~  pass 100%  flaky 100%"),
        "{}",
        text(&out)
    );
}

/// Runs that start together on a suite whose store does not exist yet (parallel CI jobs in
/// one checkout) all record: none fails to open the SQLite file while another creates it
/// ("database is locked" made one of six such runs exit 2 on a fresh clone).
#[test]
fn runs_starting_together_on_a_fresh_sqlite_store_all_open_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    std::fs::write(
        dir.path().join("scenarios/a.yaml"),
        "name: a\nsteps:\n  - request: { url: 'http://127.0.0.1:9/x' }\n",
    )
    .unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rehearse"))
                .args(["run", "--color", "never"])
                .current_dir(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        // 1: the scenario fails (nothing listens on port 9); 2 would be the store.
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(
            !text(&out).contains("failed to open the store"),
            "{}",
            text(&out)
        );
    }
}

/// A pre-flight check that failed on the environment's previous runs and passes now is
/// *verified fixed*, with the run where it was first seen failing: on the console, in the
/// Markdown summary and the HTML report; the run after that says nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_that_failed_and_passes_now_is_verified_fixed_since_its_first_failure() {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ready);
    let app = axum::Router::new().route(
        "/readyz",
        get(move || {
            let flag = Arc::clone(&flag);
            async move {
                if flag.load(Ordering::SeqCst) {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::write(
        dir.path().join("environments/staging.yaml"),
        format!(
            "vars:\n  base: \"{base}\"\nchecks:\n  - name: the status poller is installed\n    owner: devops\n    request: {{ url: \"{{{{ base }}}}/readyz\" }}\n    expect: {{ status: 200 }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scenarios/ready.yaml"),
        "name: ready\nsteps:\n  - request: { url: \"{{ base }}/readyz\" }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let mut outs = Vec::new();
    for n in 1..=4 {
        ready.store(n >= 3, Ordering::SeqCst);
        let out = rehearse(dir.path(), run_args(n, &[])).await;
        let expected = if n >= 3 { 0 } else { 2 };
        assert_eq!(out.status.code(), Some(expected), "run {n}: {}", text(&out));
        outs.push(out);
    }
    let first_failing = run_id(dir.path(), 1);
    let third = text(&outs[2]);
    assert!(
        third.contains(&format!(
            "✓ verified fixed: the status poller is installed (failing since run {first_failing} ("
        )),
        "{third}"
    );
    let md = read(dir.path(), "out/3/report.markdown");
    assert!(md.contains("### Verified fixed"), "{md}");
    assert!(
        md.contains(&format!(
            "_verified fixed_, failing since run {first_failing}"
        )),
        "{md}"
    );
    let html = read(dir.path(), "out/3/report.html");
    assert!(
        html.contains("verified fixed") || html.contains("Verified fixed"),
        "{html}"
    );
    for later in [text(&outs[0]), text(&outs[1]), text(&outs[3])] {
        assert!(!later.contains("verified fixed"), "{later}");
    }
    assert!(!read(dir.path(), "out/4/report.markdown").contains("Verified fixed"));
}
