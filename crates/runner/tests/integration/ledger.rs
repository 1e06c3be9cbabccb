//! The run's [`Recorder`]: told what a step created before the scenario's next step is
//! sent, without secret-derived values, and told how the run's own cleanup went.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use rehearse_runner::{CreatedResource, Recorder};
use serde_json::json as j;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Project, json, run_plan};

/// Every call, in order, beside the requests the target saw (one shared log).
#[derive(Debug, Default)]
struct Log {
    lines: Arc<Mutex<Vec<String>>>,
    created: Mutex<Vec<CreatedResource>>,
}

impl Recorder for Log {
    fn created<'a>(&'a self, c: &'a CreatedResource) -> BoxFuture<'a, Option<String>> {
        self.lines
            .lock()
            .unwrap()
            .push(format!("created {}", c.resource_id));
        self.created.lock().unwrap().push(c.clone());
        Box::pin(async move { Some(format!("key-{}", c.resource_id)) })
    }

    fn cleaned<'a>(&'a self, key: &'a str, outcome: Result<(), String>) -> BoxFuture<'a, ()> {
        let said = match outcome {
            Ok(()) => "removed".to_owned(),
            Err(why) => format!("failed: {why}"),
        };
        self.lines.lock().unwrap().push(format!("{key} {said}"));
        Box::pin(async {})
    }
}

async fn target(lines: &Arc<Mutex<Vec<String>>>, delete_status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(json(200, j!({ "token": "tok-5e1f9a7c" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(json(201, j!({ "id": "p-1" })))
        .mount(&server)
        .await;
    let seen = Arc::clone(lines);
    Mock::given(method("GET"))
        .and(path("/payments/p-1"))
        .respond_with(move |_: &wiremock::Request| {
            seen.lock().unwrap().push("GET p-1".to_owned());
            json(200, j!({ "status": "pending" }))
        })
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/payments/p-1"))
        .respond_with(json(delete_status, j!({})))
        .mount(&server)
        .await;
    server
}

const SCENARIO: &str = r#"
name: creates a payment
steps:
  - name: log in
    request: { method: POST, url: "{{ base }}/login", json: { key: "{{ secret('API_KEY') }}" } }
    capture: { token: "$.token" }
  - name: create
    request: { method: POST, url: "{{ base }}/payments", json: { amount: 1 } }
    capture: { payment_id: "$.id" }
  - name: read it
    request: { url: "{{ base }}/payments/{{ payment_id }}" }
cleanup:
  - name: delete
    request:
      method: DELETE
      url: "{{ base }}/payments/{{ payment_id }}"
      headers: { X-Token: "{{ token }}" }
    expect: { status: 204 }
"#;

async fn run_with(delete_status: u16) -> (Arc<Log>, Vec<String>) {
    let log = Arc::new(Log::default());
    let server = target(&log.lines, delete_status).await;
    let project = Project::new(&server.uri())
        .secret("API_KEY", "key-3b8d0c2e")
        .scenario("s.yaml", SCENARIO);
    let (plan, mut options) = project.compile();
    options.recorder = Some(Arc::clone(&log) as Arc<dyn Recorder>);
    run_plan(plan, options, |_, _| {}).await;
    let lines = log.lines.lock().unwrap().clone();
    (log, lines)
}

#[tokio::test]
async fn a_created_resource_is_recorded_before_the_next_step_and_removed_by_cleanup() {
    let (log, lines) = run_with(204).await;
    assert_eq!(lines, ["created p-1", "GET p-1", "key-p-1 removed"]);
    let created = log.created.lock().unwrap();
    // The login's POST captured only a secret-derived token: nothing is recorded for it.
    assert_eq!(created.len(), 1);
    let c = &created[0];
    assert_eq!((c.step_idx, c.step_name.as_str()), (1, "create"));
    assert_eq!(c.method, "POST");
    assert_eq!(c.cleanup, [0]);
    // The token (captured with the secret) is left out; `base` is the environment's.
    assert_eq!(
        c.captures.iter().collect::<Vec<_>>(),
        [(&"payment_id".to_owned(), &"p-1".to_owned())]
    );
}

#[tokio::test]
async fn a_failed_cleanup_is_reported_with_its_error() {
    let (_, lines) = run_with(500).await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[2].starts_with("key-p-1 failed: cleanup step `delete`") && lines[2].contains("500"),
        "{lines:?}"
    );
}
