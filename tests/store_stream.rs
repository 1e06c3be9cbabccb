//! The store takes a run's passed scenarios while the run goes on, in batches, and the rest
//! when it ends (#12, "Speed"): whatever the split, the stored run is the run. A run of
//! 150 scenarios (some failing, one passing on `--retry-failed`), at `--jobs 16`, is read
//! back with `rehearse report merge --run` into a SQLite file and a real PostgreSQL server:
//! every scenario once, with its status, steps and attempts as the run's own JSON report
//! has them.

#[path = "common/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use axum::routing::get;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");
const SCENARIOS: usize = 150;

/// `/ok` answers 200, `/down` 503, `/second` 503 the first time and 200 after.
async fn serve() -> String {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route(
            "/second",
            get(move || {
                let calls = Arc::clone(&calls);
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Scenario `i`: a step against `/ok`, then one against `/ok`, or `/down` for every 17th
/// from the 5th, or `/second` for scenario 40; and a polled third step for every 10th.
fn suite(dir: &Path, base: &str) {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::write(dir.join("env.yaml"), format!("vars:\n  base: \"{base}\"\n")).unwrap();
    for i in 0..SCENARIOS {
        let route = match i {
            40 => "second",
            i if i % 17 == 5 => "down",
            _ => "ok",
        };
        let poll = if i % 10 == 0 {
            "\n  - name: counted\n    request: { url: \"{{ base }}/ok\" }\n    poll: { every: 1ms, timeout: 5s }\n    expect: { status: 200, body_contains: [fine] }"
        } else {
            ""
        };
        std::fs::write(
            dir.join(format!("scenarios/s{i:03}.yaml")),
            format!(
                "name: scenario {i:03}\nsteps:\n  - name: first\n    request: {{ url: \"{{{{ base }}}}/ok\" }}\n    expect: {{ status: 200 }}\n  - name: second\n    request: {{ url: \"{{{{ base }}}}/{route}\" }}\n    expect: {{ status: 200 }}{poll}\n"
            ),
        )
        .unwrap();
    }
}

fn command(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("REHEARSE_STORE")
        .env_remove("REHEARSE_RUN_ID")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A step: its name, status and the status codes of its attempts.
type StepShape = (String, String, Vec<i64>);

/// Per scenario, sorted by name: name, status, and its steps.
fn shape(path: &Path) -> Vec<(String, String, Vec<StepShape>)> {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out: Vec<_> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let steps = s["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|st| {
                    let codes = st["attempts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a["response"]["status"].as_i64().unwrap_or(-1))
                        .collect();
                    (
                        st["name"].as_str().unwrap().to_owned(),
                        st["status"].as_str().unwrap().to_owned(),
                        codes,
                    )
                })
                .collect();
            (
                s["name"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
                steps,
            )
        })
        .collect();
    out.sort();
    out
}

async fn the_stored_run_is_the_run(store: String) {
    let base = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    suite(&root, &base);
    let (run, merged) = tokio::task::spawn_blocking(move || {
        let run = command(
            &root,
            &[
                "run",
                "--env",
                "env.yaml",
                "--jobs",
                "16",
                "--retry-failed",
                "1",
                "--store",
                &store,
                "--report",
                "json=own/run.json",
            ],
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("own/run.json")).unwrap())
                .unwrap();
        let id = json["run_id"].as_str().unwrap().to_owned();
        let merged = command(
            &root,
            &["report", "merge", "merged", "--run", &id, "--store", &store],
        );
        (run, merged)
    })
    .await
    .unwrap();
    // Failing scenarios exit 1; a store error would be 2.
    assert_eq!(run.status.code(), Some(1), "{}", text(&run));
    assert!(
        text(&run).contains("141 passed (1 flaky), 9 failed"),
        "{}",
        text(&run)
    );
    // The merge exits as the run did.
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged));
    assert!(text(&merged).contains("150 scenarios"), "{}", text(&merged));
    let own = shape(&dir.path().join("own/run.json"));
    let back = shape(&dir.path().join("merged/run.json"));
    assert_eq!(own.len(), SCENARIOS);
    assert_eq!(
        back, own,
        "the stored run differs from the run's own report"
    );
    // The flaky one keeps its retried result, the polls their three attempts.
    let flaky = own.iter().find(|s| s.0 == "scenario 040").unwrap();
    assert_eq!(flaky.1, "flaky");
    let polled = own.iter().find(|s| s.0 == "scenario 010").unwrap();
    assert_eq!(polled.2[2].2.len(), 1, "{polled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streamed_into_sqlite_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    the_stored_run_is_the_run(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_streamed_into_postgres_reads_back_whole() {
    let pg = postgres::Postgres::start();
    the_stored_run_is_the_run(pg.url()).await;
}
