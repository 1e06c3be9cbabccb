//! The ledger of test data against a SQLite file and a PostgreSQL server the test starts:
//! a run's row written at its start, a created resource pending until marked removed.

#[path = "../../../tests/common/postgres.rs"]
mod postgres;

use std::collections::BTreeMap;

use rehearse_store::{Created, RunStart, Store, StoreUrl};

fn created(run: &str, env: &str, resource: &str) -> Created {
    Created {
        run_id: run.to_owned(),
        environment: env.to_owned(),
        scenario_path: "scenarios/payment.yaml".to_owned(),
        scenario_name: "a payment".to_owned(),
        step_idx: 1,
        step_name: "create payment".to_owned(),
        method: "POST".to_owned(),
        url: "http://127.0.0.1:1/payments".to_owned(),
        resource_id: resource.to_owned(),
        captures: BTreeMap::from([("payment_id".to_owned(), resource.to_owned())]),
        cleanup: vec![0],
    }
}

async fn ledger_round_trip(store: &Store) {
    let start = RunStart {
        run_id: "r1".to_owned(),
        environment: "staging".to_owned(),
        rehearse_version: "0.1.0".to_owned(),
        git_commit: None,
        started_at: chrono::Utc::now(),
    };
    store.record_start(&start).await.unwrap();
    // An unfinished run is not a point of history (it has no scenarios yet).
    assert!(store.history("staging", 20).await.unwrap().runs.is_empty());

    let at = chrono::Utc::now();
    let a = store
        .record_created(&created("r1", "staging", "pay_1"), at)
        .await
        .unwrap();
    // Recorded twice (a retried write): still one entry.
    store
        .record_created(&created("r1", "staging", "pay_1"), at)
        .await
        .unwrap();
    store
        .record_created(&created("r1", "dev", "pay_2"), at)
        .await
        .unwrap();

    let pending = store.pending(Some("staging")).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].created, created("r1", "staging", "pay_1"));
    assert_eq!(store.pending(None).await.unwrap().len(), 2);

    store
        .mark_cleanup_failed(&a, "DELETE answered 500")
        .await
        .unwrap();
    let pending = store.pending(Some("staging")).await.unwrap();
    assert_eq!(
        pending[0].cleanup_error.as_deref(),
        Some("DELETE answered 500")
    );

    store
        .mark_removed(&a, "r2", chrono::Utc::now())
        .await
        .unwrap();
    assert!(store.pending(Some("staging")).await.unwrap().is_empty());
    assert_eq!(store.pending(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn ledger_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("r.db"));
    let store = Store::open(&url).await.unwrap();
    ledger_round_trip(&store).await;
}

#[tokio::test]
async fn ledger_on_postgres() {
    let pg = postgres::Postgres::start();
    let url: StoreUrl = pg.url().parse().unwrap();
    let store = Store::open(&url).await.unwrap();
    ledger_round_trip(&store).await;
}
