//! The webhook receiver: the platform registers itself, verifies signatures (401 and a
//! `/readyz` counter otherwise), ignores duplicates and stale events, and reaches the status
//! the poller would without the poller.

use rehearse_sample_platform::BankApiVersion;
use serde_json::{Value, json};

use crate::common::*;

const SECRET: &str = "whsec_platform_test_0001";

/// A stack whose platform has the webhook secret (and, with `register`, registers its
/// receiver with the bank at start).
async fn stack(register: bool) -> TestResult<Stack> {
    // The platform's port is chosen first so that its own URL is known before it starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Stack::with(BankApiVersion::V2, |config| {
        config.port = port;
        config.bank_webhook_secret = Some(SECRET.to_owned());
        if register {
            config.bank_webhook_url = Some(format!("http://127.0.0.1:{port}/webhooks/bank"));
        }
    })
    .await
}

async fn send(stack: &Stack, event: &Value, secret: &str) -> TestResult<(u16, Value)> {
    let body = serde_json::to_vec(event)?;
    let signature = rehearse_bank_mock::sign(secret, 1_736_154_000, &body);
    read(
        stack
            .http
            .post(stack.url("/webhooks/bank"))
            .header("content-type", "application/json")
            .header("Bank-Signature", signature)
            .body(body)
            .send()
            .await?,
    )
    .await
}

fn event(id: &str, bank_reference: &Value, status: &str, sequence: u64) -> Value {
    json!({"id": id, "type": "payment.status_changed", "payment_id": bank_reference,
           "status": status, "sequence": sequence, "occurred_at": "2025-01-06T09:00:00Z"})
}

async fn counters(stack: &Stack) -> TestResult<Value> {
    Ok(stack.get("/readyz").await?.1["webhooks"].clone())
}

#[tokio::test]
async fn a_registered_platform_learns_each_status_from_the_webhooks_without_polling() -> TestResult
{
    let stack = stack(true).await?;
    let (_, subscriptions) = stack.admin("GET", "/webhooks", None).await?;
    assert_eq!(
        subscriptions["subscriptions"].as_array().map(Vec::len),
        Some(1)
    );

    let created = stack.create("20000.00").await?;
    assert_eq!(created["status"], "pending_review");
    stack
        .decide(&created["bank_reference"], "approve", "ok")
        .await?;
    // The decision answered after its webhook: no poller run is needed.
    let accepted = stack.payment(&created["id"]).await?;
    assert_eq!(accepted["status"], "accepted", "{accepted:#}");
    stack.advance_past_settlement().await?;
    let settled = stack.payment(&created["id"]).await?;
    assert_eq!(settled["status"], "settled", "{settled:#}");
    assert_eq!(settled["webhooks"]["last_sequence"], 4);
    assert!(
        settled["webhooks"]["applied"].as_u64() >= Some(2),
        "{settled:#}"
    );
    let job = stack.get("/internal/jobs/bank-status-poller").await?.1;
    assert_eq!(job["runs"], 0, "the poller never ran");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_with_401_and_counted_in_readyz() -> TestResult {
    let stack = stack(false).await?;
    let created = stack.create("20000.00").await?;
    let forged = event("evt_forged", &created["bank_reference"], "accepted", 3);
    let (status, body) = send(&stack, &forged, "not-the-secret").await?;
    assert_eq!(status, 401, "{body}");
    let unsigned = stack.post("/webhooks/bank", &forged).await?;
    assert_eq!(unsigned.0, 401);
    let webhooks = counters(&stack).await?;
    assert_eq!(webhooks["rejected_signatures"], 2, "{webhooks}");
    assert_eq!(webhooks["received"], 0);
    assert_eq!(
        stack.payment(&created["id"]).await?["status"],
        "pending_review",
        "a forged event changes nothing"
    );
    let (_, ready) = stack.get("/readyz").await?;
    assert_eq!(
        ready["checks"]["bank_credentials"], "ok",
        "the checks stay as they were"
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_duplicate_event_is_applied_once_and_a_stale_one_is_ignored() -> TestResult {
    let stack = stack(false).await?;
    let created = stack.create("20000.00").await?;
    let reference = &created["bank_reference"];

    let accepted = event("evt_a", reference, "accepted", 3);
    assert_eq!(
        send(&stack, &accepted, SECRET).await?.1["outcome"],
        "applied"
    );
    assert_eq!(
        send(&stack, &accepted, SECRET).await?.1["outcome"],
        "duplicate"
    );
    // Older than what was applied: by sequence, and by lifecycle.
    let late = event("evt_b", reference, "pending_review", 2);
    assert_eq!(send(&stack, &late, SECRET).await?.1["outcome"], "stale");
    let settled = event("evt_c", reference, "settled", 4);
    assert_eq!(
        send(&stack, &settled, SECRET).await?.1["outcome"],
        "applied"
    );
    let rewound = event("evt_d", reference, "accepted", 9);
    assert_eq!(send(&stack, &rewound, SECRET).await?.1["outcome"], "stale");

    let payment = stack.payment(&created["id"]).await?;
    assert_eq!(payment["status"], "settled");
    assert_eq!(
        payment["webhooks"],
        json!({"applied": 2, "duplicates": 1, "stale": 2, "last_sequence": 4})
    );
    let statuses: Vec<&Value> = payment["history"]
        .as_array()
        .map(|h| h.iter().map(|e| &e["status"]).collect())
        .unwrap_or_default();
    assert_eq!(statuses, ["pending_review", "accepted", "settled"]);
    let webhooks = counters(&stack).await?;
    assert_eq!(
        (
            &webhooks["applied"],
            &webhooks["duplicates"],
            &webhooks["stale"]
        ),
        (&json!(2), &json!(1), &json!(2))
    );
    let unknown = event("evt_e", &json!("pay_not_ours"), "accepted", 1);
    assert_eq!(send(&stack, &unknown, SECRET).await?.0, 202);
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_delayed_approval_event_reaches_the_platform_when_bank_time_catches_up() -> TestResult {
    let stack = stack(true).await?;
    let (status, body) = stack
        .admin(
            "POST",
            "/faults",
            Some(json!({"kind": "webhook_delayed", "delay": "10m", "where": {"body.status": "accepted"}})),
        )
        .await?;
    assert_eq!(status, 201, "{body}");
    let created = stack.create("20000.00").await?;
    stack
        .decide(&created["bank_reference"], "approve", "ok")
        .await?;
    assert_eq!(
        stack.payment(&created["id"]).await?["status"],
        "pending_review"
    );

    let (status, _) = stack
        .admin("POST", "/clock/advance", Some(json!({"by": "10m"})))
        .await?;
    assert_eq!(status, 200);
    let payment = stack.payment(&created["id"]).await?;
    assert_eq!(payment["status"], "accepted", "{payment:#}");
    assert_eq!(payment["webhooks"]["last_sequence"], 3);
    let reference = created["bank_reference"]
        .as_str()
        .ok_or("no bank reference")?;
    let (_, journal) = stack
        .admin("GET", &format!("/webhooks?payment_id={reference}"), None)
        .await?;
    let accepted: Vec<&Value> = journal["deliveries"]
        .as_array()
        .map(|d| d.iter().filter(|a| a["status"] == "accepted").collect())
        .unwrap_or_default();
    assert_eq!(accepted.len(), 1, "{journal:#}");
    assert_eq!(accepted[0]["fault"], "webhook_delayed");
    assert_eq!(accepted[0]["at"], "2025-01-06T09:10:00Z");
    stack.shutdown().await;
    Ok(())
}
