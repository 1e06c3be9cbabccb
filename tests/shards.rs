//! Shards of one run writing into one store (#12 §5): eight `rehearse run --shard auto/8
//! --run-id ID` processes, started together as a Kubernetes Indexed Job starts its pods
//! (`JOB_COMPLETION_INDEX` 0..7), record into one run of a SQLite file and of a real
//! PostgreSQL server; `rehearse report merge OUT --run ID` reads it back, and its counts
//! equal those of one unsharded run of the same suite. A shard run again replaces its own
//! rows; a shard never recorded is named and fails the merge.

#[path = "common/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use axum::http::StatusCode;
use axum::routing::get;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");
const SCENARIOS: usize = 24;
/// Scenarios 5, 12 and 19 fail (their endpoint answers 503).
const FAILING: [usize; 3] = [5, 12, 19];

async fn serve() -> String {
    let app = axum::Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route("/down", get(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn suite(dir: &Path, base: &str) {
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.join("environments")).unwrap();
    std::fs::write(
        dir.join("environments/staging.yaml"),
        format!(
            "vars:\n  base: \"{base}\"\nchecks:\n  - name: the target answers\n    owner: devops\n    request: {{ url: \"{{{{ base }}}}/ok\" }}\n    expect: {{ status: 200 }}\n"
        ),
    )
    .unwrap();
    for i in 0..SCENARIOS {
        let route = if FAILING.contains(&i) { "down" } else { "ok" };
        std::fs::write(
            dir.join(format!("scenarios/s{i:02}.yaml")),
            format!(
                "name: scenario {i:02}\nsteps:\n  - request: {{ url: \"{{{{ base }}}}/{route}\" }}\n    expect: {{ status: 200 }}\n"
            ),
        )
        .unwrap();
    }
}

fn command(dir: &Path, args: &[String]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .env_remove("REHEARSE_STORE")
        .env_remove("REHEARSE_RUN_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(ToString::to_string).collect()
}

/// The counts and the scenario names of a JSON report.
fn summary(path: &Path) -> (usize, usize, Vec<String>) {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let scenarios = json["scenarios"].as_array().unwrap();
    let failed = scenarios.iter().filter(|s| s["status"] == "failed").count();
    let passed = scenarios.iter().filter(|s| s["status"] == "passed").count();
    let mut names: Vec<String> = scenarios
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    (passed, failed, names)
}

/// Starts the shards `which` (1-based) of 8 together, as pods of an Indexed Job, and waits.
fn shards(dir: &Path, store: &str, run_id: &str, which: &[usize]) {
    let children: Vec<_> = which
        .iter()
        .map(|k| {
            let args = strings(&[
                "run", "--env", "staging", "--color", "never", "--shard", "auto/8", "--run-id",
                run_id, "--store", store,
            ]);
            command(dir, &args)
                .env("JOB_COMPLETION_INDEX", (k - 1).to_string())
                .spawn()
                .unwrap()
        })
        .collect();
    for (k, child) in which.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        // 0 or 1: the shard's scenarios passed or one failed; 2 would be the store.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "shard {k}: {}",
            text(&out)
        );
    }
}

fn merge(dir: &Path, store: &str, run_id: &str, out: &str) -> Output {
    let args = strings(&["report", "merge", out, "--run", run_id, "--store", store]);
    command(dir, &args).output().unwrap()
}

async fn eight_shards_merge_to_one_run(store: String) {
    let base = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        suite(&root, &base);
        // One unsharded run, into a store of its own: what the merge must equal.
        let whole = command(
            &root,
            &strings(&[
                "run",
                "--env",
                "staging",
                "--color",
                "never",
                "--no-store",
                "--report",
                "json=whole.json",
            ]),
        )
        .output()
        .unwrap();
        assert_eq!(whole.status.code(), Some(1), "{}", text(&whole));
        let expected = summary(&root.join("whole.json"));
        assert_eq!(
            (expected.0, expected.1),
            (SCENARIOS - FAILING.len(), FAILING.len())
        );

        shards(&root, &store, "nightly-42", &[1, 2, 3, 4, 5, 6, 7, 8]);
        let out = merge(&root, &store, "nightly-42", "merged");
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(
            t.contains("merged run nightly-42 from 8 of 8 shards: 24 scenarios"),
            "{t}"
        );
        assert_eq!(summary(&root.join("merged/run.json")), expected, "{t}");
        let junit = std::fs::read_to_string(root.join("merged/junit.xml")).unwrap();
        // One test case per scenario, and the pre-flight check once.
        assert_eq!(junit.matches("<testcase").count(), SCENARIOS + 1, "{junit}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("merged/run.json")).unwrap())
                .unwrap();
        assert_eq!(json["preflight"].as_array().unwrap().len(), 1, "{json}");

        // A pod run again (a retried shard) replaces its rows: the counts do not change.
        shards(&root, &store, "nightly-42", &[3]);
        let again = merge(&root, &store, "nightly-42", "merged-again");
        assert_eq!(again.status.code(), Some(1), "{}", text(&again));
        assert_eq!(summary(&root.join("merged-again/run.json")), expected);

        // A shard that never recorded is named, and the merge fails.
        shards(&root, &store, "nightly-43", &[1, 2, 3, 4, 5, 6, 7]);
        let partial = merge(&root, &store, "nightly-43", "partial");
        let t = text(&partial);
        assert_eq!(partial.status.code(), Some(1), "{t}");
        assert!(t.contains("from 7 of 8 shards"), "{t}");
        assert!(t.contains("shard 8 of 8 not recorded"), "{t}");

        let unknown = merge(&root, &store, "nightly-44", "none");
        assert_eq!(unknown.status.code(), Some(3), "{}", text(&unknown));
        assert!(text(&unknown).contains("holds no run `nightly-44`"));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_shards_into_sqlite_merge_to_the_counts_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db").display().to_string();
    eight_shards_merge_to_one_run(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_shards_into_postgres_merge_to_the_counts_of_one_run() {
    let pg = postgres::Postgres::start();
    eight_shards_merge_to_one_run(pg.url()).await;
}

#[test]
fn shard_auto_without_its_index_says_where_it_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = command(dir.path(), &strings(&["run", "--shard", "auto/8"]))
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("JOB_COMPLETION_INDEX, which is not set"), "{t}");
}
