//! Each bank API version end to end: the request the bank got, its statuses, settlement.

use rehearse_sample_platform::BankApiVersion;
use serde_json::{Value, json};

use crate::common::{Stack, TestResult, bank_version};

/// A small payment needs no review: the bank accepts it, the next batch settles it, the poller
/// brings the news.
async fn small_payment_settles(
    version: BankApiVersion,
    create_path: &str,
) -> TestResult<(Stack, Vec<Value>)> {
    let stack = Stack::with(version, |_| {}).await?;
    let (ready, readiness) = stack.get("/readyz").await?;
    assert_eq!(ready, 200, "{readiness:#}");

    let created = stack.create("120.00").await?;
    stack.advance_past_settlement().await?;
    stack.run_poller().await?;
    let settled = stack.payment(&created["id"]).await?;

    assert_eq!(created["status"], "accepted", "{version}: {created:#}");
    assert_eq!(settled["status"], "settled", "{version}: {settled:#}");
    let (_, version_body) = stack.get("/version").await?;
    assert_eq!(version_body["bank_api_version"], version.to_string());
    let sent = stack.journal("POST", create_path).await?;
    assert_eq!(sent.len(), 1, "{version}: {sent:#?}");
    assert_eq!(sent[0]["version"], json!(bank_version(version).to_string()));
    assert!(
        sent[0]["headers"]["authorization"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Bearer ****"),
        "{version}: no credentials reached the bank: {sent:#?}"
    );
    Ok((stack, sent))
}

#[tokio::test]
async fn v1_amounts_in_cents_uppercase_statuses() -> TestResult {
    let (stack, sent) = small_payment_settles(BankApiVersion::V1, "/v1/payments").await?;

    assert_eq!(sent[0]["body"]["amount_cents"], 12_000);
    assert_eq!(sent[0]["body"]["currency"], "EUR");
    assert_eq!(sent[0]["headers"]["idempotency-key"], Value::Null);
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list["payments"][0]["bank_status"], "SETTLED");
    assert!(
        list["payments"][0]["bank_reference"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pay_")
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn v2_decimal_amounts_and_an_idempotency_key() -> TestResult {
    let (stack, sent) = small_payment_settles(BankApiVersion::V2, "/v2/payments").await?;

    assert_eq!(sent[0]["body"]["amount"], "120.00");
    assert_eq!(sent[0]["body"]["currency"], "EUR");
    assert!(
        sent[0]["headers"]["idempotency-key"].is_string(),
        "{sent:#?}"
    );
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list["payments"][0]["bank_status"], "settled");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn v3_amount_objects_oauth_token_cached_and_renamed_statuses() -> TestResult {
    let (stack, sent) = small_payment_settles(BankApiVersion::V3, "/v3/transfers").await?;

    assert_eq!(
        sent[0]["body"]["amount"],
        json!({"value": "120.00", "currency": "EUR"})
    );
    assert_eq!(sent[0]["body"]["remittance_information"], "INV-2025-0001");
    assert!(
        sent[0]["headers"]["idempotency-key"].is_string(),
        "{sent:#?}"
    );
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list["payments"][0]["bank_status"], "completed");
    assert!(
        list["payments"][0]["bank_reference"]
            .as_str()
            .unwrap_or_default()
            .starts_with("trf_")
    );
    // readyz, create and poll all used one token.
    let tokens = stack.journal("POST", "/oauth/token").await?;
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn v4_instructed_amounts_iso_statuses_and_its_own_token_endpoint() -> TestResult {
    let (stack, sent) = small_payment_settles(BankApiVersion::V4, "/v4/payments").await?;

    assert_eq!(
        sent[0]["body"]["instructed_amount"],
        json!({"amount": "120.00", "currency": "EUR"})
    );
    assert_eq!(sent[0]["body"]["remittance_information"], "INV-2025-0001");
    assert!(
        sent[0]["headers"]["idempotency-key"].is_string(),
        "{sent:#?}"
    );
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list["payments"][0]["bank_status"], "ACSC");
    assert!(
        list["payments"][0]["bank_reference"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pmt_"),
        "{list:#}"
    );
    // readyz, create and poll all used one token, from v4's own endpoint.
    assert_eq!(stack.journal("POST", "/v4/oauth/token").await?.len(), 1);
    assert_eq!(stack.journal("POST", "/oauth/token").await?.len(), 0);
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn v4_a_large_payment_waits_in_review_as_pdng_then_settles() -> TestResult {
    let stack = Stack::with(BankApiVersion::V4, |_| {}).await?;
    let created = stack.create("25000.00").await?;
    assert_eq!(created["status"], "pending_review", "{created:#}");
    stack
        .decide(&created["bank_reference"], "approve", "documents checked")
        .await?;
    stack.advance_past_settlement().await?;

    stack.run_poller().await?;

    let settled = stack.payment(&created["id"]).await?;
    assert_eq!(settled["status"], "settled", "{settled:#}");
    assert_eq!(settled["bank_status"], "ACSC", "{settled:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn v3_a_token_the_bank_no_longer_accepts_is_renewed() -> TestResult {
    let stack = Stack::with(BankApiVersion::V3, |_| {}).await?;
    let created = stack.create("25000.00").await?;
    // Bank time jumps past the token's 24 h lifetime; the platform's wall clock does not.
    let (status, body) = stack
        .admin("POST", "/clock/advance", Some(json!({"by": "25h"})))
        .await?;
    assert_eq!(status, 200, "{body:#}");

    let job = stack.run_poller().await?;

    assert_eq!(job["last_error"], Value::Null, "{job:#}");
    assert_eq!(
        stack.payment(&created["id"]).await?["status"],
        "pending_review"
    );
    assert_eq!(stack.journal("POST", "/oauth/token").await?.len(), 2);
    stack.shutdown().await;
    Ok(())
}
