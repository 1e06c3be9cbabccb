//! Secret canary: a secret and a token captured from a response to a request that carried it
//! never appear in any event or in the result.

use rehearse_runner::MASK;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::common::{Project, json, run};

const SECRET: &str = "canary-secret-7f3a9c1e";
const TOKEN: &str = "canary-token-51d2e8b4";

#[tokio::test]
async fn secret_and_token_captured_with_it_appear_in_no_event() {
    let server = MockServer::start().await;
    // The login echoes the key it got and hands out a token.
    Mock::given(method("POST"))
        .and(path("/login"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(json(
            200,
            json!({ "token": TOKEN, "echo": format!("Bearer {SECRET}") }),
        ))
        .mount(&server)
        .await;
    // The profile echoes the token back, so failure text would hold it.
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(json(200, json!({ "user": "u1", "token": TOKEN })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/session"))
        .respond_with(json(200, json!({ "closed": TOKEN })))
        .mount(&server)
        .await;
    let yaml = r#"
name: login
steps:
  - name: log in
    request:
      method: POST
      url: "{{ base }}/login"
      headers: { Authorization: "Bearer {{ secret('API_KEY') }}" }
      json: { key: "{{ secret('API_KEY') }}" }
    expect: { status: 200 }
    capture: { token: "$.token" }
  - name: who am i
    request:
      url: "{{ base }}/me"
      headers: { Authorization: "Bearer {{ token }}" }
      query: { key: "{{ secret('API_KEY') }}" }
    expect: { json: { "$.token": not-the-token } }
cleanup:
  - name: log out
    request:
      method: DELETE
      url: "{{ base }}/session"
      headers: { X-Token: "{{ token }}" }
    expect: { json: { "$.closed": nope } }
"#;
    let project = Project::new(&server.uri())
        .secret("API_KEY", SECRET)
        .scenario("login.yaml", yaml);

    let ran = run(&project).await;

    // The flow really used both values (else the test proves nothing).
    let received = server.received_requests().await.expect("recording");
    assert_eq!(received.len(), 3, "log in, who am i, log out");
    let me = received
        .iter()
        .find(|r| r.url.path() == "/me")
        .expect("/me");
    assert_eq!(
        me.headers["authorization"],
        format!("Bearer {TOKEN}").as_str()
    );
    assert!(me.url.query().unwrap_or_default().contains(SECRET));
    let step = ran.step("who am i");
    assert!(step.failure.is_some(), "the failure text shows the token");

    let result_json = serde_json::to_string(&ran.result).expect("serialise");
    for canary in [SECRET, TOKEN] {
        assert!(
            !result_json.contains(canary),
            "{canary} leaked into the result: {result_json}"
        );
        for event in &ran.events {
            let text = format!("{event:?}");
            assert!(!text.contains(canary), "{canary} leaked into {text}");
        }
    }
    assert!(result_json.contains(MASK), "values are shown as {MASK}");
    assert_eq!(
        ran.step("log in").captures,
        vec![("token".to_owned(), MASK.to_owned())]
    );
}
