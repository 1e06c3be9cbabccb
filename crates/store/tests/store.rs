//! The store against real databases: a SQLite file and a PostgreSQL server the test starts.

#[path = "../../../tests/common/postgres.rs"]
mod postgres;

use std::time::Duration;

use rehearse_runner::{CheckResult, RunResult, ScenarioResult, Status};
use rehearse_store::{Outcome, RunMeta, Store, StoreError, StoreUrl, Trend};

fn run(n: u32, status: Status, version: &str) -> RunResult {
    RunResult {
        run_id: format!("run-{n}"),
        environment: "staging".to_owned(),
        started_at: chrono::Utc::now() + chrono::TimeDelta::seconds(i64::from(n)),
        duration: Duration::from_millis(100),
        scenarios: vec![ScenarioResult {
            path: "scenarios/pay.yaml".to_owned(),
            name: "pay".to_owned(),
            tags: Vec::new(),
            owner: None,
            status,
            duration: Duration::from_millis(u64::from(n) * 10),
            steps: Vec::new(),
            cleanup: Vec::new(),
            retries: 0,
        }],
        interrupted: false,
        preflight: vec![CheckResult {
            name: "platform version".to_owned(),
            kind: "version".to_owned(),
            owner: None,
            hint: None,
            status: Status::Passed,
            evidence: format!(
                "deployed version is {version} (no version expected: pass --expect-version)"
            ),
            duration: Duration::ZERO,
            location: None,
            required_by: Vec::new(),
            ticket: None,
        }],
        rehearse_version: "0.1.0".to_owned(),
        bank_api_version: Some("v2".to_owned()),
        aborted: None,
    }
}

async fn five_runs(store: &Store) {
    let plan = [
        (Status::Passed, "1.5.0"),
        (Status::Passed, "1.5.0"),
        (Status::Failed, "1.6.0"),
        (Status::Failed, "1.6.0"),
        (Status::Passed, "1.6.1"),
    ];
    for (i, (status, version)) in plan.into_iter().enumerate() {
        let n = u32::try_from(i).unwrap() + 1;
        let meta = RunMeta::default();
        store.record(&run(n, status, version), &meta).await.unwrap();
        let h = store.history("staging", 50).await.unwrap();
        let s = &h.scenarios[0];
        let trend = s.trend(&h);
        match n {
            3 => {
                assert_eq!(trend, Some(Trend::NewFailure));
                let b = s.breakage(&h).unwrap();
                assert_eq!(b.failing_since.id, "run-3");
                assert_eq!(b.last_green.unwrap().id, "run-2");
                let changes: Vec<String> = b.changes.iter().map(ToString::to_string).collect();
                assert_eq!(changes, ["deployed version 1.5.0 → 1.6.0"]);
            }
            4 => assert!(matches!(trend, Some(Trend::StillFailing(r)) if r.id == "run-3")),
            5 => assert_eq!(trend, Some(Trend::Fixed)),
            _ => assert_eq!(trend, None),
        }
    }
    let h = store.history("staging", 50).await.unwrap();
    let s = &h.scenarios[0];
    assert_eq!(s.strip(10), "✓✓✗✗✓");
    assert_eq!(s.strip(3), "✗✗✓");
    assert_eq!(s.pass_rate(10), Some(0.6));
    assert_eq!(s.percentile_ms(10, 50), Some(30));
    assert_eq!(s.percentile_ms(10, 95), Some(50));
    assert_eq!(s.entries[2].outcome, Outcome::Fail);
    assert!(
        store
            .history("production", 50)
            .await
            .unwrap()
            .runs
            .is_empty()
    );
}

#[tokio::test]
async fn history_of_five_runs_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("sub/r.db"));
    let store = Store::open(&url).await.unwrap();
    five_runs(&store).await;
}

#[tokio::test]
async fn history_of_five_runs_on_postgres() {
    let pg = postgres::Postgres::start();
    let url: StoreUrl = pg.url().parse().unwrap();
    let store = Store::open(&url).await.unwrap();
    five_runs(&store).await;
    // Opened again (a second CI runner): the schema is there, nothing is applied twice.
    let again = Store::open(&url).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        rehearse_store::SCHEMA_VERSION
    );
    assert_eq!(again.history("staging", 50).await.unwrap().runs.len(), 5);
}

#[tokio::test]
async fn a_stopped_server_is_unreachable_and_its_password_never_shown() {
    let mut pg = postgres::Postgres::start();
    let url: StoreUrl = pg.url().parse().unwrap();
    pg.stop();
    let e = Store::open(&url).await.unwrap_err();
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e:?}");
    let text = format!("{e} {e:?}");
    assert!(text.contains("rehearse:***@127.0.0.1"), "{text}");
    assert!(!text.contains("pg-canary-pw"), "{text}");
}

#[tokio::test]
async fn opening_a_current_store_is_a_no_op_and_a_newer_one_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let url = StoreUrl::Sqlite(path.clone());
    let store = Store::open(&url).await.unwrap();
    store
        .record(&run(1, Status::Passed, "1.0.0"), &RunMeta::default())
        .await
        .unwrap();
    drop(store);
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.history("staging", 5).await.unwrap().runs.len(), 1);
    drop(store);
    let conn = bump_to_99(&path);
    let e = Store::open(&url).await.unwrap_err();
    assert!(
        matches!(e, StoreError::TooNew { found, .. } if found == conn),
        "{e:?}"
    );
    assert!(
        e.to_string().contains(&format!(
            "newer than this rehearse knows ({})",
            rehearse_store::SCHEMA_VERSION
        )),
        "{e}"
    );
    assert!(e.hint().contains("upgrade rehearse"));
}

/// Marks the database as written by a future rehearse (schema version 99).
fn bump_to_99(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute(
        "INSERT INTO schema_version (version, applied_at) VALUES (99, 'future')",
        [],
    )
    .unwrap();
    99
}

/// A run of `n` scenarios, each one step whose request carried a 2 KB body: ~0.7 MB of
/// rows.
fn big_run(k: u32, n: usize) -> RunResult {
    let mut r = run(k, Status::Passed, "1.0.0");
    let step = rehearse_runner::StepResult {
        offset: Some(Duration::ZERO),
        name: "create".to_owned(),
        location: "scenarios/s.yaml:3:5".to_owned(),
        status: Status::Passed,
        duration: Duration::from_millis(3),
        attempts: vec![rehearse_runner::Attempt {
            offset: Some(Duration::ZERO),
            number: 1,
            request: rehearse_runner::RequestRecord {
                method: "POST".to_owned(),
                url: "http://127.0.0.1:1/items".to_owned(),
                headers: Vec::new(),
                body: Some("x".repeat(2048)),
            },
            response: None,
            duration: Duration::from_millis(3),
            error: None,
            failures: Vec::new(),
        }],
        failure: None,
        captures: Vec::new(),
    };
    let one = r.scenarios.remove(0);
    r.scenarios = (0..n)
        .map(|i| ScenarioResult {
            path: format!("scenarios/s{i:04}.yaml"),
            steps: vec![step.clone()],
            ..one.clone()
        })
        .collect();
    r
}

/// Each run opens the store anew, as each `rehearse run` does, and SQLite's own checkpoint
/// waits for 16 MB of WAL: the opening checkpoints a WAL beyond 1 MB, so it stays near one
/// run's writes instead of growing with every run, and every run is still there.
#[tokio::test]
async fn the_wal_stays_near_one_runs_writes_however_many_runs_open_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let url = StoreUrl::Sqlite(path.clone());
    let wal = dir.path().join("r.db-wal");
    let mut largest = 0;
    for k in 1..=12 {
        let store = Store::open(&url).await.unwrap();
        store
            .record(&big_run(k, 300), &RunMeta::default())
            .await
            .unwrap();
        drop(store);
        largest = largest.max(std::fs::metadata(&wal).unwrap().len());
    }
    let db = std::fs::metadata(&path).unwrap().len();
    assert!(
        db > 6_000_000,
        "12 runs of ~0.7 MB were folded in: {db} bytes"
    );
    assert!(
        largest < 3_000_000,
        "the WAL grew to {largest} bytes (12 runs of ~0.7 MB each)"
    );
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.history("staging", 20).await.unwrap().runs.len(), 12);
}

/// A scenario of two steps (the second a poll of two attempts, failing) and a cleanup
/// step, with excerpts that JSON must escape.
fn run_with_steps() -> RunResult {
    use rehearse_runner::{Attempt, Failure, RequestRecord, ResponseRecord, StepResult};
    let attempt = |number: u32, code: Option<u16>, body: &str| Attempt {
        offset: Some(Duration::from_millis(u64::from(number) * 7)),
        number,
        request: RequestRecord {
            method: "GET".to_owned(),
            url: format!("http://127.0.0.1:1/payments/p{number}?q=\"x\""),
            headers: vec![("authorization".to_owned(), "***".to_owned())],
            body: (number == 1).then(|| "{\"amount\":\"12.50\",\"note\":\"ä\\n\"}".to_owned()),
        },
        response: code.map(|status| ResponseRecord {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }),
        duration: Duration::from_millis(3),
        error: code.is_none().then(|| "connection refused".to_owned()),
        failures: Vec::new(),
    };
    let step = |name: &str, attempts: Vec<Attempt>, failure: Option<Failure>| StepResult {
        offset: Some(Duration::from_millis(1)),
        name: name.to_owned(),
        location: format!("scenarios/pay.yaml:{}:5", name.len()),
        status: if failure.is_some() {
            Status::Failed
        } else {
            Status::Passed
        },
        duration: Duration::from_millis(11),
        attempts,
        failure,
        captures: vec![("id".to_owned(), "p1".to_owned())],
    };
    let mut r = run(1, Status::Failed, "1.0.0");
    r.scenarios[0].steps = vec![
        step(
            "create",
            vec![attempt(1, Some(201), "{\"id\":\"p1\"}")],
            None,
        ),
        step(
            "settled",
            vec![
                attempt(2, None, ""),
                attempt(3, Some(200), "<pending> \t\""),
            ],
            Some(Failure {
                check: "$.status".to_owned(),
                expected: "\"settled\"".to_owned(),
                actual: "\"pending\", got it".to_owned(),
                location: Some("scenarios/pay.yaml:7:5".to_owned()),
                source_line: None,
            }),
        ),
    ];
    r.scenarios[0].cleanup = vec![step("delete", vec![attempt(4, Some(204), "")], None)];
    r
}

/// What `report merge` and `resume` read back of a run's steps: every step in its phase,
/// every attempt, excerpts as written.
async fn steps_read_back(store: &Store) {
    let written = run_with_steps();
    store.record(&written, &RunMeta::default()).await.unwrap();
    let back = store.load_run("run-1").await.unwrap().unwrap().result;
    let (w, b) = (&written.scenarios[0], &back.scenarios[0]);
    let shown = |steps: &[rehearse_runner::StepResult]| -> Vec<String> {
        steps
            .iter()
            .map(|st| {
                let attempts: Vec<String> = st
                    .attempts
                    .iter()
                    .map(|a| {
                        format!(
                            "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                            a.number,
                            a.request.method,
                            a.request.url,
                            a.request.body,
                            a.response.as_ref().map(|r| (r.status, &r.body)),
                            a.error,
                            a.offset,
                            a.duration,
                            (),
                        )
                    })
                    .collect();
                format!(
                    "{} {} {} {:?} {:?} {:?} {:?}",
                    st.name,
                    st.location,
                    st.status.as_str(),
                    st.offset,
                    st.duration,
                    st.failure.as_ref().map(ToString::to_string),
                    attempts,
                )
            })
            .collect()
    };
    assert_eq!(shown(&b.steps), shown(&w.steps));
    assert_eq!(shown(&b.cleanup), shown(&w.cleanup));
    assert_eq!(
        b.steps[1].failure.as_ref().unwrap().actual,
        "\"pending\", got it"
    );
    assert!(
        b.steps[0].attempts[0].request.headers.is_empty(),
        "headers are not kept"
    );
    assert!(b.steps[0].captures.is_empty(), "captures are not kept");
}

#[tokio::test]
async fn steps_read_back_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("r.db"));
    steps_read_back(&Store::open(&url).await.unwrap()).await;
}

#[tokio::test]
async fn steps_read_back_on_postgres() {
    let pg = postgres::Postgres::start();
    let url: StoreUrl = pg.url().parse().unwrap();
    steps_read_back(&Store::open(&url).await.unwrap()).await;
}

/// A store written by a rehearse before schema 6 (steps and attempts in rows of their own)
/// is migrated on opening, and its runs still read back with their steps.
#[tokio::test]
async fn a_run_recorded_before_schema_6_keeps_its_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version BIGINT NOT NULL, applied_at TEXT NOT NULL);",
        )
        .unwrap();
        for (v, sql) in [
            include_str!("../migrations/0001_runs.sql"),
            include_str!("../migrations/0002_ledger.sql"),
            include_str!("../migrations/0003_shards.sql"),
            include_str!("../migrations/0004_resume.sql"),
            include_str!("../migrations/0005_no_path_index.sql"),
        ]
        .into_iter()
        .enumerate()
        {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO schema_version VALUES (?1, 'then')",
                [i64::try_from(v).unwrap() + 1],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO runs VALUES ('old', 'staging', '0.1.0', NULL, NULL, NULL, \
               '2026-11-01T00:00:00.000000Z', '2026-11-01T00:00:01.000000Z', 'failed', 1, 0);
             INSERT INTO scenarios VALUES ('old', 0, 'scenarios/pay.yaml', 'pay', NULL, NULL, \
               'failed', 40, 0, 0, 'settled: $.status: expected \"settled\", got \"pending\"');
             INSERT INTO steps VALUES ('old', 0, 0, 'steps', 'create', 'scenarios/pay.yaml:3:5', \
               'passed', 0, 10, NULL);
             INSERT INTO steps VALUES ('old', 0, 1, 'steps', 'settled', 'scenarios/pay.yaml:7:5', \
               'failed', 10, 20, '$.status: expected \"settled\", got \"pending\"');
             INSERT INTO steps VALUES ('old', 0, 2, 'cleanup', 'delete', 'scenarios/pay.yaml:12:5', \
               'passed', 30, 5, NULL);
             INSERT INTO attempts VALUES ('old', 0, 0, 1, 'POST', 'http://h/payments', 201, 0, \
               10, NULL, '{\"amount\":1}', '{\"id\":\"p1\"}');
             INSERT INTO attempts VALUES ('old', 0, 1, 1, 'GET', 'http://h/payments/p1', 200, \
               10, 9, NULL, NULL, 'pending');
             INSERT INTO attempts VALUES ('old', 0, 1, 2, 'GET', 'http://h/payments/p1', 200, \
               20, 9, NULL, NULL, 'pending');",
        )
        .unwrap();
    }
    let url = StoreUrl::Sqlite(path.clone());
    let store = Store::open(&url).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 6);
    let old = store.load_run("old").await.unwrap().unwrap().result;
    let s = &old.scenarios[0];
    let names: Vec<(&str, usize)> = s
        .steps
        .iter()
        .chain(&s.cleanup)
        .map(|st| (st.name.as_str(), st.attempts.len()))
        .collect();
    assert_eq!(names, [("create", 1), ("settled", 2), ("delete", 0)]);
    assert_eq!(s.cleanup.len(), 1);
    assert_eq!(
        s.steps[1].failure.as_ref().unwrap().to_string(),
        "$.status: expected \"settled\", got \"pending\""
    );
    assert_eq!(
        s.steps[0].attempts[0].response.as_ref().unwrap().body,
        "{\"id\":\"p1\"}"
    );
    // A new run in the same store is kept the new way, and both read back.
    store
        .record(&run_with_steps(), &RunMeta::default())
        .await
        .unwrap();
    let new = store.load_run("run-1").await.unwrap().unwrap().result;
    assert_eq!(new.scenarios[0].steps.len(), 2);
    assert_eq!(new.scenarios[0].steps[1].attempts.len(), 2);
    let rows: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM steps WHERE run_id = 'run-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "a new run's steps are in its scenario's row");
}
