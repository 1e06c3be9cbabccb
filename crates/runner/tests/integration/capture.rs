//! Captures: a JSONPath number stays a number; header and regex captures.

use rehearse_runner::Status;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Project, json, run};

#[tokio::test]
async fn jsonpath_capture_keeps_a_number_a_number_in_a_later_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items"))
        .respond_with(json(201, json!({ "id": 42, "ref": "abc" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(json(201, json!({ "ok": true })))
        .mount(&server)
        .await;
    let yaml = r#"
name: typed capture
steps:
  - name: create item
    request: { method: POST, url: "{{ base }}/items", json: { name: x } }
    expect: { status: 201 }
    capture: { item_id: "$.id", item_ref: "$.ref" }
  - name: order it
    request:
      method: POST
      url: "{{ base }}/orders"
      json: { item_id: "{{ item_id }}", label: "item {{ item_id }}", ref: "{{ item_ref }}" }
    expect: { status: 201 }
"#;

    let ran = run(&Project::new(&server.uri()).scenario("typed.yaml", yaml)).await;

    assert_eq!(
        ran.scenario().status,
        Status::Passed,
        "{:#?}",
        ran.scenario()
    );
    assert_eq!(
        ran.step("create item").captures,
        vec![
            ("item_id".to_owned(), "42".to_owned()),
            ("item_ref".to_owned(), "abc".to_owned())
        ]
    );
    let received = server.received_requests().await.expect("recording");
    let order = received
        .iter()
        .find(|r| r.url.path() == "/orders")
        .expect("the order was sent");
    let body: serde_json::Value = serde_json::from_slice(&order.body).expect("a JSON body");
    assert_eq!(body["item_id"], json!(42), "{body}");
    assert!(body["item_id"].is_u64(), "a number, not \"42\": {body}");
    assert_eq!(body["label"], json!("item 42"));
    assert_eq!(body["ref"], json!("abc"));
}

#[tokio::test]
async fn header_and_regex_captures_feed_later_requests() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", "/payments/p-77")
                .set_body_string("created; bank reference=BR-9921, see you"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(json(200, json!({ "ok": true })))
        .mount(&server)
        .await;
    let yaml = r#"
name: header and regex
steps:
  - name: create
    request: { method: POST, url: "{{ base }}/payments", body: "x" }
    expect: { status: 201 }
    capture:
      location: { header: Location }
      bank_ref: { regex: 'reference=(BR-\d+)' }
  - name: follow
    request: { url: "{{ base }}{{ location }}?ref={{ bank_ref }}" }
    expect: { status: 200 }
"#;

    let ran = run(&Project::new(&server.uri()).scenario("hdr.yaml", yaml)).await;

    assert_eq!(
        ran.scenario().status,
        Status::Passed,
        "{:#?}",
        ran.scenario()
    );
    let received = server.received_requests().await.expect("recording");
    let follow = received
        .iter()
        .find(|r| r.method.as_str() == "GET")
        .expect("the follow-up was sent");
    assert_eq!(follow.url.path(), "/payments/p-77");
    assert_eq!(follow.url.query(), Some("ref=BR-9921"));
}
