//! A panic inside a step (here, in an approver given to the runner) is that step's error:
//! reported with its message, masked, the scenario's cleanup still runs, and the result
//! says an internal error happened (the binary exits 4).

use std::sync::Arc;

use futures::future::BoxFuture;
use rehearse_runner::{ApprovalRequest, Approver, INTERNAL_ERROR, Status};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Project, json, run_plan};

const SECRET: &str = "panic-canary-7e21";

/// An approver with a bug: it panics, with the secret in its message.
#[derive(Debug)]
struct Buggy;

impl Approver for Buggy {
    fn approve<'a>(&'a self, r: &'a ApprovalRequest) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { panic!("index out of range for {} ({SECRET})", r.reference) })
    }
}

#[tokio::test]
async fn a_panic_in_a_step_is_its_error_and_cleanup_still_runs() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/payments/p-1"))
        .respond_with(json(204, json!({})))
        .mount(&server)
        .await;
    let yaml = r#"
name: a bug in the approver
steps:
  - name: approve
    approve: { reference: "B-1", decision: approve }
  - name: not reached
    request: { url: "{{ base }}/payments/p-1" }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/payments/p-1" }
"#;
    // Approvals `wait` so that the file compiles; the plan's approver takes their place.
    let env = format!(
        "vars:\n  base: \"{}\"\napprovals:\n  mode: wait\ntimeouts:\n  request: 2s\n",
        server.uri()
    );
    let project = Project::with_environment(&env)
        .secret("API_KEY", SECRET)
        .scenario("bug.yaml", yaml);
    let (plan, options) = project.compile();
    let mut plan = Arc::try_unwrap(plan).expect("the only handle");
    plan.approver = Some(Arc::new(Buggy));

    let ran = run_plan(Arc::new(plan), options, |_, _| {}).await;

    assert_eq!(ran.scenario().status, Status::Error);
    let step = ran.step("approve");
    assert_eq!(step.status, Status::Error, "{step:#?}");
    let failure = step.failure.as_ref().expect("a failure");
    assert_eq!(failure.check, INTERNAL_ERROR);
    assert_eq!(
        failure.actual,
        "rehearse panicked: index out of range for B-1 (***) (a bug: please report it)"
    );
    assert_eq!(ran.step("not reached").status, Status::Skipped);
    assert_eq!(ran.step("delete").status, Status::Passed, "cleanup ran");
    let deletes = server.received_requests().await.expect("recording").len();
    assert_eq!(deletes, 1, "the cleanup request was sent");
    let internal: Vec<&str> = ran
        .result
        .internal_errors()
        .iter()
        .map(|(_, st)| st.name.as_str())
        .collect();
    assert_eq!(internal, vec!["approve"]);
}
