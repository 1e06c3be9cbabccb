//! Resumable runs: a scenario that can wait hands its place to the run's [`Checkpointer`]
//! at each step boundary; a suspension asked for while it polls stops it without cleanup;
//! a run given that place continues there and ends green, cleanup included; a remaining
//! step that reads a secret-derived capture fails at once, naming it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use rehearse_runner::{Checkpoint, Checkpointer, ResumeFrom, RunEvent, Status, Suspension};
use serde_json::json as j;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Project, json, run_plan};

#[derive(Debug, Default)]
struct Saved(Mutex<Vec<Checkpoint>>);

impl Checkpointer for Saved {
    fn save<'a>(&'a self, _: usize, c: &'a Checkpoint) -> BoxFuture<'a, ()> {
        self.0.lock().unwrap().push(c.clone());
        Box::pin(async {})
    }
}

struct Target {
    server: MockServer,
    settled: Arc<AtomicBool>,
    deletes: Arc<AtomicUsize>,
    creates: Arc<AtomicUsize>,
}

async fn target() -> Target {
    let server = MockServer::start().await;
    let settled = Arc::new(AtomicBool::new(false));
    let deletes = Arc::new(AtomicUsize::new(0));
    let creates = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(json(200, j!({ "token": "tok-5e1f9a7c" })))
        .mount(&server)
        .await;
    let c = Arc::clone(&creates);
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(move |_: &wiremock::Request| {
            c.fetch_add(1, Ordering::SeqCst);
            json(201, j!({ "id": "p-1" }))
        })
        .mount(&server)
        .await;
    let s = Arc::clone(&settled);
    Mock::given(method("GET"))
        .and(path("/payments/p-1"))
        .respond_with(move |_: &wiremock::Request| {
            let status = if s.load(Ordering::SeqCst) {
                "settled"
            } else {
                "pending"
            };
            json(200, j!({ "status": status }))
        })
        .mount(&server)
        .await;
    let d = Arc::clone(&deletes);
    Mock::given(method("DELETE"))
        .and(path("/payments/p-1"))
        .respond_with(move |_: &wiremock::Request| {
            d.fetch_add(1, Ordering::SeqCst);
            json(204, j!({}))
        })
        .mount(&server)
        .await;
    Target {
        server,
        settled,
        deletes,
        creates,
    }
}

fn scenario(cleanup_header: &str) -> String {
    format!(
        r#"
name: waits for settlement
steps:
  - name: log in
    request: {{ method: POST, url: "{{{{ base }}}}/login", json: {{ key: "{{{{ secret('API_KEY') }}}}" }} }}
    capture: {{ token: "$.token" }}
  - name: create
    request: {{ method: POST, url: "{{{{ base }}}}/payments", json: {{ amount: 1 }} }}
    capture: {{ payment_id: "$.id" }}
  - name: settled
    request: {{ url: "{{{{ base }}}}/payments/{{{{ payment_id }}}}" }}
    poll: {{ every: 50ms, timeout: 60s }}
    expect: {{ json: {{ "$.status": settled }} }}
cleanup:
  - name: delete
    request:
      method: DELETE
      url: "{{{{ base }}}}/payments/{{{{ payment_id }}}}"
      headers: {{ X-Note: "{cleanup_header}" }}
    expect: {{ status: 204 }}
"#
    )
}

/// Runs the scenario until its poll has made two attempts, then suspends it.
async fn suspended(t: &Target, cleanup_header: &str) -> (Project, Checkpoint) {
    let project = Project::new(&t.server.uri())
        .secret("API_KEY", "key-3b8d0c2e")
        .scenario("s.yaml", &scenario(cleanup_header));
    let (plan, mut options) = project.compile();
    let saved = Arc::new(Saved::default());
    let suspension = Arc::new(Suspension::new());
    options.checkpointer = Some(Arc::clone(&saved) as Arc<dyn Checkpointer>);
    options.suspension = Some(Arc::clone(&suspension));
    let s = Arc::clone(&suspension);
    let ran = run_plan(plan, options, move |e, _| {
        if let RunEvent::AttemptFinished { step, attempt, .. } = e
            && step == "settled"
            && attempt.number == 2
        {
            s.request();
        }
    })
    .await;
    assert!(suspension.suspended());
    let r = &ran.result.scenarios[0];
    assert_eq!(r.status, Status::Interrupted);
    assert!(
        r.cleanup.is_empty(),
        "no cleanup on suspension: {:?}",
        r.cleanup
    );
    assert_eq!(t.deletes.load(Ordering::SeqCst), 0);
    let all = saved.0.lock().unwrap().clone();
    // After each of the three steps that passed or was stopped: log in, create, the poll.
    assert_eq!(
        all.iter().map(|c| c.next_step).collect::<Vec<_>>(),
        [1, 2, 2],
        "{all:#?}"
    );
    let last = all.last().unwrap().clone();
    assert!(last.poll_attempts >= 2, "{}", last.poll_attempts);
    assert_eq!(last.steps.len(), 2);
    assert!(last.finished.is_none());
    assert_eq!(last.vars.get("payment_id"), Some(&j!("p-1")));
    assert_eq!(
        last.withheld,
        ["token"],
        "the secret-derived token is not stored"
    );
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("tok-5e1f9a7c") && !text.contains("key-3b8d0c2e"),
        "{text}"
    );
    (project, last)
}

async fn resume(
    project: &Project,
    from: Checkpoint,
) -> (rehearse_runner::RunResult, Vec<Checkpoint>) {
    let (plan, mut options) = project.compile();
    let saved = Arc::new(Saved::default());
    options.checkpointer = Some(Arc::clone(&saved) as Arc<dyn Checkpointer>);
    let mut map = BTreeMap::new();
    map.insert(from.scenario_path.clone(), ResumeFrom::At(from));
    options.resume = Some(Arc::new(map));
    let ran = run_plan(plan, options, |_, _| {}).await;
    let all = saved.0.lock().unwrap().clone();
    (ran.result, all)
}

#[tokio::test]
async fn a_suspended_poll_resumes_where_it_stopped_and_cleanup_runs_once() {
    let t = target().await;
    let (project, last) = suspended(&t, "plain").await;
    let carried = last.poll_attempts;
    t.settled.store(true, Ordering::SeqCst);

    let (result, saved) = resume(&project, last).await;

    let r = &result.scenarios[0];
    assert_eq!(r.status, Status::Passed, "{r:#?}");
    let names: Vec<_> = r
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.status))
        .collect();
    assert_eq!(
        names,
        [
            ("log in", Status::Passed),
            ("create", Status::Passed),
            ("settled", Status::Passed)
        ]
    );
    // The poll counted on from the attempts made before the suspension.
    assert_eq!(r.steps[2].attempts[0].number, carried + 1);
    assert_eq!(
        t.creates.load(Ordering::SeqCst),
        1,
        "steps done are not sent again"
    );
    assert_eq!(t.deletes.load(Ordering::SeqCst), 1, "cleanup ran once");
    assert!(saved.last().unwrap().finished.is_some());
}

#[tokio::test]
async fn a_remaining_step_reading_a_secret_derived_capture_fails_at_once() {
    let t = target().await;
    let (project, last) = suspended(&t, "{{ token }}").await;

    let (result, _) = resume(&project, last).await;

    let r = &result.scenarios[0];
    assert_eq!(r.status, Status::Error);
    let f = r.steps.iter().find_map(|s| s.failure.as_ref()).unwrap();
    assert_eq!(f.check, "resume");
    assert!(
        f.actual.contains("`token`") && f.actual.contains("never stored"),
        "{f:?}"
    );
}

/// An approver that never answers (a reviewer who takes hours).
#[derive(Debug)]
struct NeverAnswers;

impl rehearse_runner::Approver for NeverAnswers {
    fn approve<'a>(
        &'a self,
        _: &'a rehearse_runner::ApprovalRequest,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_run_waiting_for_an_approval_suspends_at_the_approve_step() {
    let t = target().await;
    let yaml = r#"
name: waits for a reviewer
steps:
  - name: create
    request: { method: POST, url: "{{ base }}/payments", json: { amount: 1 } }
    capture: { payment_id: "$.id" }
  - name: reviewer approves
    approve: { reference: "{{ payment_id }}", decision: approve }
"#;
    let env = format!(
        "vars:\n  base: \"{}\"\napprovals: {{ mode: wait }}\n",
        t.server.uri()
    );
    let project = Project::with_environment(&env).scenario("a.yaml", yaml);
    let (mut plan, mut options) = project.compile();
    Arc::get_mut(&mut plan).unwrap().approver = Some(Arc::new(NeverAnswers));
    let saved = Arc::new(Saved::default());
    let suspension = Arc::new(Suspension::new());
    options.checkpointer = Some(Arc::clone(&saved) as Arc<dyn Checkpointer>);
    options.suspension = Some(Arc::clone(&suspension));
    // Asked for before anything waits: it happens once the approval is being carried out.
    suspension.request();

    let ran = run_plan(plan, options, |_, _| {}).await;

    assert!(suspension.suspended());
    let r = &ran.result.scenarios[0];
    assert_eq!(r.status, Status::Interrupted);
    assert_eq!(r.steps[1].status, Status::Interrupted);
    assert!(r.steps[1].captures.iter().any(|(k, _)| k == "suspended"));
    let last = saved.0.lock().unwrap().last().unwrap().clone();
    assert_eq!((last.next_step, last.poll_attempts), (1, 0));
    assert_eq!(last.steps.len(), 1);
}
