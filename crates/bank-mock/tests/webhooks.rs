//! Status-change webhooks as a platform's receiver sees them: registration, signatures,
//! retries on the bank clock, and every webhook fault kind.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use hmac::{Hmac, Mac};
use rehearse_bank_mock::{BankMock, RunningBank};
use serde_json::{Value, json};
use sha2::Sha256;

const SECRET: &str = "whsec_test_0123456789";

#[derive(Default)]
struct Seen {
    events: Vec<Value>,
    bad_signatures: usize,
    /// Statuses to answer, in order; 200 once empty.
    plan: VecDeque<u16>,
}

type Shared = Arc<Mutex<Seen>>;

/// Checks the signature as a platform would: `t=…,v1=HEX(HMAC-SHA256(secret, "t.body"))`.
fn verify(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(header) = headers.get("bank-signature").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) else {
        return false;
    };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

async fn receive(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !verify(&headers, &body) {
        seen.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let status = seen.plan.pop_front().unwrap_or(200);
    // Only what it accepted counts as received.
    if (200..300).contains(&status)
        && let Ok(event) = serde_json::from_slice::<Value>(&body)
    {
        seen.events.push(event);
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

/// A receiver on a free loopback port: its URL and what it saw.
async fn receiver() -> Result<(String, Shared), Box<dyn std::error::Error>> {
    let seen: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, seen))
}

/// A v2 bank sending webhooks to a fresh receiver (configured at start).
async fn setup() -> Result<(RunningBank, reqwest::Client, Shared), Box<dyn std::error::Error>> {
    let (url, seen) = receiver().await?;
    let (bank, client) = start(BankMock::builder().webhook(None, url, SECRET)).await?;
    Ok((bank, client, seen))
}

fn events(seen: &Shared) -> Vec<(String, u64)> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .events
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap_or_default().to_owned(),
                e["sequence"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

async fn pay(
    bank: &RunningBank,
    client: &reqwest::Client,
    amount: &str,
    reference: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut body = example("v2/examples/create-payment.json")?;
    body["amount"] = json!(amount);
    body["reference"] = json!(reference);
    let (status, created) = create_v2(bank, client, reference, &body).await?;
    assert_eq!(status, 201, "{created}");
    bank.deliver_webhooks().await;
    Ok(created["id"].as_str().ok_or("no id")?.to_owned())
}

async fn journal(
    bank: &RunningBank,
    client: &reqwest::Client,
    payment: &str,
) -> Result<Value, Box<dyn std::error::Error>> {
    let url = format!("{}/webhooks?payment_id={payment}", bank.admin_url());
    let (status, body) = get_json(client, &url, None).await?;
    assert_eq!(status, 200, "{body}");
    Ok(body)
}

fn column(journal: &Value, field: &str) -> Vec<Value> {
    journal["deliveries"]
        .as_array()
        .map(|d| d.iter().map(|a| a[field].clone()).collect())
        .unwrap_or_default()
}

async fn arm(bank: &RunningBank, client: &reqwest::Client, spec: Value) -> TestResult {
    let (status, body) = admin_post(bank, client, "/faults", &spec).await?;
    assert_eq!(status, 201, "{body}");
    Ok(())
}

async fn advance(bank: &RunningBank, client: &reqwest::Client, by: &str) -> TestResult {
    let (status, body) = admin_post(bank, client, "/clock/advance", &json!({"by": by})).await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

#[tokio::test]
async fn each_status_change_is_delivered_signed_in_order_and_settlement_before_the_advance_returns()
-> TestResult {
    let (bank, client, seen) = setup().await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-1").await?;
    assert_eq!(
        events(&seen),
        [("received".into(), 1), ("accepted".into(), 2)]
    );
    let first = seen.lock().map(|s| s.events[0].clone()).unwrap_or_default();
    assert_eq!(first["type"], "payment.status_changed");
    assert_eq!(first["payment_id"], id.as_str());
    assert_eq!(first["reference"], "INV-WH-1");
    assert_eq!(first["occurred_at"], "2025-01-06T09:00:00Z");
    assert!(first["id"].as_str().is_some_and(|e| e.starts_with("evt_")));

    advance(&bank, &client, "1h").await?;
    // No waiting: the advance answered after the settlement's delivery.
    assert_eq!(events(&seen).last(), Some(&("settled".into(), 3)));
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(column(&journal, "status_code"), [200, 200, 200]);
    assert_eq!(
        column(&journal, "at"),
        [
            "2025-01-06T09:00:00Z",
            "2025-01-06T09:00:00Z",
            "2025-01-06T10:00:00Z"
        ]
    );
    assert_eq!(seen.lock().map(|s| s.bad_signatures).unwrap_or(1), 0);
    Ok(())
}

#[tokio::test]
async fn a_platform_registers_lists_and_removes_its_endpoint_with_its_credentials() -> TestResult {
    let (url, seen) = receiver().await?;
    let (bank, client) = bank().await?;
    let hooks = format!("{}/v2/webhooks", bank.base_url());
    let anonymous = client
        .post(&hooks)
        .json(&json!({"url": url, "secret": SECRET}))
        .send()
        .await?;
    assert_eq!(anonymous.status().as_u16(), 401);
    let bad = client
        .post(&hooks)
        .bearer_auth(API_KEY)
        .json(&json!({"url": "not a url", "secret": SECRET}))
        .send()
        .await?;
    assert_eq!(bad.status().as_u16(), 422);
    let created = client
        .post(&hooks)
        .bearer_auth(API_KEY)
        .json(&json!({"url": url, "secret": SECRET}))
        .send()
        .await?;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await?;
    assert!(
        created.get("secret").is_none(),
        "the secret is never echoed"
    );
    let (status, list) = get_json(&client, &hooks, Some(API_KEY)).await?;
    assert_eq!(status, 200);
    assert_eq!(list["webhooks"][0]["url"], url.as_str());
    let journaled = get_json(
        &client,
        &format!("{}/journal?path=/v2/webhooks&method=POST", bank.admin_url()),
        None,
    )
    .await?
    .1;
    assert!(
        !journaled.to_string().contains(SECRET),
        "the journal masks the secret: {journaled}"
    );

    pay(&bank, &client, "10.00", "INV-WH-REG").await?;
    assert_eq!(events(&seen).len(), 2);

    let id = created["id"].as_str().ok_or("no id")?;
    let removed = client
        .delete(format!("{hooks}/{id}"))
        .bearer_auth(API_KEY)
        .send()
        .await?;
    assert_eq!(removed.status().as_u16(), 204);
    pay(&bank, &client, "11.00", "INV-WH-REG2").await?;
    assert_eq!(events(&seen).len(), 2, "nothing after the removal");
    Ok(())
}

#[tokio::test]
async fn a_failed_delivery_is_retried_on_the_bank_clock_after_10s() -> TestResult {
    let (bank, client, seen) = setup().await?;
    if let Ok(mut s) = seen.lock() {
        s.plan.push_back(500);
    }
    let id = pay(&bank, &client, "120.00", "INV-WH-RETRY").await?;
    let before = journal(&bank, &client, &id).await?;
    assert_eq!(column(&before, "status_code"), [500, 200]);
    assert_eq!(column(&before, "outcome"), ["failed", "delivered"]);
    assert_eq!(
        before["deliveries"][0]["next_attempt_at"],
        "2025-01-06T09:00:10Z"
    );

    advance(&bank, &client, "9s").await?;
    assert_eq!(
        journal(&bank, &client, &id).await?["deliveries"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    advance(&bank, &client, "1s").await?;
    let after = journal(&bank, &client, &id).await?;
    assert_eq!(column(&after, "attempt"), [1, 1, 2]);
    assert_eq!(column(&after, "status_code"), [500, 200, 200]);
    assert_eq!(after["deliveries"][2]["at"], "2025-01-06T09:00:10Z");
    // The receiver saw the retried `received` after `accepted`: sequence tells them apart.
    assert_eq!(
        events(&seen),
        [("accepted".into(), 2), ("received".into(), 1)]
    );
    Ok(())
}

#[tokio::test]
async fn a_receiver_that_never_answers_2xx_is_given_up_after_five_attempts() -> TestResult {
    let (bank, client, seen) = setup().await?;
    if let Ok(mut s) = seen.lock() {
        s.plan.extend([503; 10]);
    }
    // Both events fail 5 times (10s, 1m, 5m, 30m apart): 36m10s of bank time.
    let id = pay(&bank, &client, "120.00", "INV-WH-GIVEUP").await?;
    advance(&bank, &client, "40m").await?;
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(column(&journal, "attempt"), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    let outcomes = column(&journal, "outcome");
    assert_eq!(outcomes[..8], vec![json!("failed"); 8]);
    assert_eq!(outcomes[8..], vec![json!("given_up"); 2]);
    assert!(events(&seen).is_empty());
    Ok(())
}

#[tokio::test]
async fn webhook_duplicate_delivers_the_same_event_twice() -> TestResult {
    let (bank, client, seen) = setup().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "webhook_duplicate", "count": 1, "where": {"body.reference": "INV-WH-DUP", "body.status": "accepted"}}),
    )
    .await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-DUP").await?;
    assert_eq!(
        events(&seen),
        [
            ("received".into(), 1),
            ("accepted".into(), 2),
            ("accepted".into(), 2)
        ]
    );
    let journal = journal(&bank, &client, &id).await?;
    let ids = column(&journal, "event_id");
    assert_eq!(ids[1], ids[2], "the same event id");
    assert_eq!(
        column(&journal, "fault")[1..],
        [json!("webhook_duplicate"), json!("webhook_duplicate")]
    );
    Ok(())
}

#[tokio::test]
async fn webhook_out_of_order_sends_an_event_after_the_next_one_of_its_payment() -> TestResult {
    let (bank, client, seen) = setup().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "webhook_out_of_order", "where": {"body.reference": "INV-WH-OOO", "body.status": "received"}}),
    )
    .await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-OOO").await?;
    pay(&bank, &client, "120.00", "INV-WH-OTHER").await?;
    let mine: Vec<(String, u64)> = events(&seen)[..2].to_vec();
    assert_eq!(mine, [("accepted".into(), 2), ("received".into(), 1)]);
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(column(&journal, "sequence"), [2, 1]);
    assert_eq!(
        column(&journal, "fault"),
        [Value::Null, json!("webhook_out_of_order")]
    );
    Ok(())
}

#[tokio::test]
async fn webhook_delayed_sends_an_event_late_by_bank_time() -> TestResult {
    let (bank, client, seen) = setup().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "webhook_delayed", "delay": "10m", "where": {"body.status": "accepted"}}),
    )
    .await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-LATE").await?;
    assert_eq!(events(&seen), [("received".into(), 1)]);
    advance(&bank, &client, "9m").await?;
    assert_eq!(events(&seen).len(), 1, "not before its delay");
    advance(&bank, &client, "1m").await?;
    assert_eq!(
        events(&seen),
        [("received".into(), 1), ("accepted".into(), 2)]
    );
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(journal["deliveries"][1]["at"], "2025-01-06T09:10:00Z");
    assert_eq!(journal["deliveries"][1]["fault"], "webhook_delayed");
    Ok(())
}

#[tokio::test]
async fn webhook_dropped_never_sends_the_event_and_the_journal_says_so() -> TestResult {
    let (bank, client, seen) = setup().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "webhook_dropped", "count": 1, "where": {"body.status": "accepted"}}),
    )
    .await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-DROP").await?;
    advance(&bank, &client, "2h").await?;
    assert_eq!(
        events(&seen),
        [("received".into(), 1), ("settled".into(), 3)]
    );
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(
        column(&journal, "outcome"),
        ["delivered", "dropped", "delivered"]
    );
    assert_eq!(
        column(&journal, "status_code"),
        [json!(200), Value::Null, json!(200)]
    );
    Ok(())
}

#[tokio::test]
async fn webhook_bad_signature_is_refused_by_the_receiver_and_the_retry_is_signed_right()
-> TestResult {
    let (bank, client, seen) = setup().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "webhook_bad_signature", "count": 1, "where": {"body.status": "accepted"}}),
    )
    .await?;
    let id = pay(&bank, &client, "120.00", "INV-WH-SIG").await?;
    assert_eq!(seen.lock().map(|s| s.bad_signatures).unwrap_or(0), 1);
    assert_eq!(events(&seen), [("received".into(), 1)]);
    advance(&bank, &client, "10s").await?;
    assert_eq!(
        events(&seen),
        [("received".into(), 1), ("accepted".into(), 2)]
    );
    let journal = journal(&bank, &client, &id).await?;
    assert_eq!(column(&journal, "status_code"), [200, 401, 200]);
    assert_eq!(journal["deliveries"][1]["fault"], "webhook_bad_signature");
    Ok(())
}

/// v4 (made by `contract import` from its OpenAPI webhook) sends its ISO 20022 events
/// signed like every version, in the shape of its own template and schema.
#[tokio::test]
async fn v4_delivers_signed_iso_20022_events_in_its_imported_shape() -> TestResult {
    let (url, seen) = receiver().await?;
    let (bank, client) =
        start(BankMock::builder().webhook(Some(rehearse_bank_mock::ApiVersion::V4), url, SECRET))
            .await?;
    let token: Value = client
        .post(format!("{}/v4/oauth/token", bank.base_url()))
        .basic_auth("rehearse-client", Some("rehearse-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    let bearer = token["access_token"].as_str().ok_or("no token")?;
    let body = example("v4/examples/create-payment-small.json")?;
    let created = client
        .post(format!("{}/v4/payments", bank.base_url()))
        .bearer_auth(bearer)
        .header("Idempotency-Key", "k-v4-wh")
        .json(&body)
        .send()
        .await?;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await?;
    bank.deliver_webhooks().await;

    // The receiver verified each signature (bad ones are not counted as events).
    assert_eq!(seen.lock().map(|s| s.bad_signatures).unwrap_or(1), 0);
    assert_eq!(events(&seen), [("RCVD".into(), 1), ("ACSP".into(), 2)]);
    let first = seen.lock().map(|s| s.events[0].clone()).unwrap_or_default();
    assert!(
        first["event_id"]
            .as_str()
            .is_some_and(|e| e.starts_with("evt_")),
        "{first}"
    );
    assert_eq!(first["payment_id"], created["payment_id"]);
    assert_eq!(first["type"], "payment.status_changed");
    assert_eq!(first["remittance_information"], "INV-2025-0002");
    assert_eq!(first["status_reason"], Value::Null);
    assert_eq!(first.get("id"), None, "v4 calls it event_id: {first}");

    advance(&bank, &client, "1h").await?;
    assert_eq!(events(&seen).last(), Some(&("ACSC".into(), 3)));
    Ok(())
}
