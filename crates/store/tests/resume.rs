//! Resumable runs against a SQLite file and a PostgreSQL server the test starts: how to
//! compile a run again and its scenarios' places, each place replaced by the next one, the
//! state `suspended` also the run's verdict.

#[path = "../../../tests/common/postgres.rs"]
mod postgres;

use std::collections::BTreeMap;

use rehearse_runner::Checkpoint;
use rehearse_store::{Resumable, ResumableScenario, RunStart, Store, StoreUrl};

fn checkpoint(next: usize) -> Checkpoint {
    Checkpoint {
        scenario_path: "scenarios/wait.yaml".to_owned(),
        next_step: next,
        poll_attempts: 3,
        vars: BTreeMap::from([("payment_id".to_owned(), serde_json::json!("pay_1"))]),
        withheld: vec!["token".to_owned()],
        steps: Vec::new(),
        finished: None,
    }
}

async fn round_trip(store: &Store) {
    assert!(store.load_resumable("r1").await.unwrap().is_none());
    store
        .record_start(&RunStart {
            run_id: "r1".to_owned(),
            environment: "staging".to_owned(),
            rehearse_version: "0.1.0".to_owned(),
            git_commit: None,
            started_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let r = Resumable {
        run_id: "r1".to_owned(),
        root: "/suite".to_owned(),
        environment: "staging".to_owned(),
        approvals: Some("wait".to_owned()),
        scenarios: vec![ResumableScenario {
            path: "scenarios/wait.yaml".to_owned(),
            rel: "scenarios/wait.yaml".to_owned(),
            hash: "ab12".to_owned(),
        }],
        state: "running".to_owned(),
    };
    store.record_resumable(&r).await.unwrap();
    store.save_checkpoint("r1", &checkpoint(1)).await.unwrap();
    store.save_checkpoint("r1", &checkpoint(2)).await.unwrap();
    let (back, places) = store.load_resumable("r1").await.unwrap().unwrap();
    assert_eq!(back, r);
    assert_eq!(places.len(), 1, "one place per scenario, the last one");
    assert_eq!(places[0].next_step, 2);
    assert_eq!(places[0].poll_attempts, 3);
    assert_eq!(places[0].vars["payment_id"], "pay_1");
    assert_eq!(places[0].withheld, ["token"]);

    store.set_resumable_state("r1", "suspended").await.unwrap();
    let (back, _) = store.load_resumable("r1").await.unwrap().unwrap();
    assert_eq!(back.state, "suspended");
    let run = store.load_run("r1").await.unwrap().unwrap();
    assert!(run.result.scenarios.is_empty());
    store.forget_results("r1").await.unwrap();
}

#[tokio::test]
async fn resumable_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("r.db"));
    let store = Store::open(&url).await.unwrap();
    round_trip(&store).await;
}

#[tokio::test]
async fn resumable_runs_on_postgres() {
    let pg = postgres::Postgres::start();
    let url: StoreUrl = pg.url().parse().unwrap();
    let store = Store::open(&url).await.unwrap();
    round_trip(&store).await;
}
