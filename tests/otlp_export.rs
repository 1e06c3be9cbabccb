//! `rehearse run --otlp` (issue #12 §4): an OTLP/HTTP receiver started by the test gets the
//! scenario's trace: the attempt span carries the trace and span ids of the request's
//! `traceparent`, the sample platform's server span is its child in the same trace, the
//! platform's bank call is a grandchild, and no credential is in any span.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use serde_json::Value;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// Every span the receiver got, flattened out of its export requests.
fn spans(bodies: &[Value]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for b in bodies {
        for rs in b["resourceSpans"].as_array().into_iter().flatten() {
            let service = rs["resource"]["attributes"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| a["key"] == "service.name")
                .and_then(|a| a["value"]["stringValue"].as_str())
                .unwrap_or_default()
                .to_owned();
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    out.push((service.clone(), s.clone()));
                }
            }
        }
    }
    out
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[test]
fn a_run_sends_one_trace_per_scenario_that_the_platform_and_bank_calls_join() {
    // Arrange: an OTLP/HTTP receiver that keeps every JSON body it gets.
    let bodies: Arc<Mutex<Vec<Value>>> = Arc::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let kept = Arc::clone(&bodies);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move {
        let app = Router::new().route(
            "/v1/traces",
            post(move |body: Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let v: Value = serde_json::from_slice(&body).expect("OTLP/JSON body");
                    kept.lock().unwrap().push(v);
                    "{}"
                }
            }),
        );
        axum::serve(listener, app).await.unwrap();
    });

    // Act: a shipped scenario on the embedded stack.
    let out = Command::new(BIN)
        .current_dir(common::repo())
        .args(["run", "scenarios/payments/small-payment.yaml", "--no-store"])
        .args(["--otlp", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stderr.contains("warning: OTLP"), "{stderr}");

    // Assert.
    let deadline = Instant::now() + Duration::from_secs(10);
    let spans = loop {
        let spans = spans(&bodies.lock().unwrap());
        if spans
            .iter()
            .any(|(svc, _)| svc.starts_with("sample-platform"))
            || Instant::now() > deadline
        {
            break spans;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let harness: Vec<&Value> = spans
        .iter()
        .filter(|(svc, _)| svc == "rehearse")
        .map(|(_, s)| s)
        .collect();
    let scenario = harness
        .iter()
        .find(|s| s["parentSpanId"].is_null())
        .expect("a root span for the scenario");
    let trace = scenario["traceId"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert_eq!(
        attr(scenario, "test.case.result.status").unwrap()["stringValue"],
        "pass"
    );
    assert!(attr(scenario, "test.suite.name").is_some());
    // The create step's attempt: a client span under its step.
    let create = harness
        .iter()
        .find(|s| {
            s["kind"] == 3
                && attr(s, "http.request.method").unwrap()["stringValue"] == "POST"
                && attr(s, "url.full").unwrap()["stringValue"]
                    .as_str()
                    .unwrap()
                    .ends_with("/payments")
        })
        .expect("the POST /payments attempt span");
    assert_eq!(create["traceId"], trace);
    assert_eq!(
        attr(create, "http.response.status_code").unwrap()["intValue"],
        "201"
    );
    let step = harness
        .iter()
        .find(|s| s["spanId"] == create["parentSpanId"])
        .expect("the attempt's step span");
    assert_eq!(step["parentSpanId"], scenario["spanId"]);

    // The platform's server span for that request: same trace, child of the attempt
    // (its parent is the traceparent's parent id).
    let platform: Vec<&Value> = spans
        .iter()
        .filter(|(svc, _)| svc.starts_with("sample-platform"))
        .map(|(_, s)| s)
        .collect();
    let served = platform
        .iter()
        .find(|s| s["kind"] == 2 && s["parentSpanId"] == create["spanId"])
        .unwrap_or_else(|| panic!("a platform span under the attempt: {platform:#?}"));
    assert_eq!(served["traceId"], trace);
    assert_eq!(served["name"], "POST /payments");
    // Its call to the bank: a client span under it, in the same trace.
    let bank_call = platform
        .iter()
        .find(|s| s["kind"] == 3 && s["parentSpanId"] == served["spanId"])
        .unwrap_or_else(|| panic!("a bank call under the platform span: {platform:#?}"));
    assert_eq!(bank_call["traceId"], trace);

    // No credential of the embedded bank in any span.
    let all = serde_json::to_string(&*bodies.lock().unwrap()).unwrap();
    for secret in [
        rehearse_bank_mock::DEFAULT_API_KEY,
        rehearse_bank_mock::DEFAULT_CLIENT_SECRET,
    ] {
        assert!(!all.contains(secret), "`{secret}` in the spans");
    }
}

#[test]
fn a_collector_that_is_down_is_a_warning_and_the_exit_code_stays() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(BIN)
        .current_dir(common::repo())
        .args(["run", "scenarios/platform-health.yaml", "--no-store"])
        .args(["--otlp", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: OTLP export to"), "{stderr}");
}

#[test]
fn an_endpoint_that_is_no_url_is_invalid_input() {
    let out = Command::new(BIN)
        .current_dir(common::repo())
        .args(["run", "scenarios/platform-health.yaml", "--no-store"])
        .args(["--otlp", "localhost:4318"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid --otlp endpoint"));
}
