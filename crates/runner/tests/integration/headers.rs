//! Every request carries a W3C `traceparent` and `X-Rehearse-Run`.

use std::collections::{HashMap, HashSet};

use rehearse_runner::Status;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::common::{Project, json};

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[tokio::test]
async fn every_request_carries_traceparent_and_run_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(200, json!({ "status": "ok" })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json(204, json!({})))
        .mount(&server)
        .await;
    let scenario = |name: &str| {
        format!(
            r#"
name: {name}
steps:
  - name: one
    request: {{ url: "{{{{ base }}}}/{name}/1" }}
  - name: two
    request: {{ url: "{{{{ base }}}}/{name}/2" }}
    poll: {{ every: 20ms, timeout: 2s }}
    expect: {{ json: {{ "$.status": ok }} }}
cleanup:
  - request: {{ method: DELETE, url: "{{{{ base }}}}/{name}/3" }}
"#
        )
    };
    let (plan, options) = Project::new(&server.uri())
        .scenario("a.yaml", &scenario("a"))
        .scenario("b.yaml", &scenario("b"))
        .compile();
    let run_id = options.run_id.clone();

    let ran = crate::common::run_plan(plan, options, |_, _| {}).await;

    assert!(ran.result.passed(), "{:#?}", ran.result);
    assert!(
        ran.result
            .scenarios
            .iter()
            .all(|s| s.status == Status::Passed)
    );
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 6);
    let mut traces: HashMap<String, HashSet<String>> = HashMap::new();
    let mut spans = HashSet::new();
    for r in &received {
        let header = |name: &str| {
            r.headers
                .get(name)
                .unwrap_or_else(|| panic!("{} {} has no {name}", r.method, r.url))
                .to_str()
                .expect("ASCII")
                .to_owned()
        };
        assert_eq!(header("x-rehearse-run"), run_id);
        let tp = header("traceparent");
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(parts.len(), 4, "{tp}");
        assert_eq!(parts[0], "00", "{tp}");
        assert!(is_lower_hex(parts[1], 32), "trace id: {tp}");
        assert!(is_lower_hex(parts[2], 16), "span id: {tp}");
        assert_eq!(parts[3], "01", "{tp}");
        assert_ne!(parts[1], "0".repeat(32), "{tp}");
        assert_ne!(parts[2], "0".repeat(16), "{tp}");
        let scenario = r.url.path().split('/').nth(1).expect("path").to_owned();
        traces
            .entry(scenario)
            .or_default()
            .insert(parts[1].to_owned());
        assert!(
            spans.insert(parts[2].to_owned()),
            "span ids are unique: {tp}"
        );
    }
    // One trace per scenario, spanning its steps and cleanup.
    assert_eq!(traces.len(), 2);
    assert!(traces.values().all(|t| t.len() == 1), "{traces:?}");
    assert_ne!(traces["a"], traces["b"]);
}
