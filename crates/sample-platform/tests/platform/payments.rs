//! `POST/GET/DELETE /payments`: validation, the bank's answers, missing or refused credentials.

use rehearse_sample_platform::BankApiVersion;
use serde_json::{Value, json};

use crate::common::{Stack, TestResult, beneficiary, payment, read};

#[tokio::test]
async fn a_large_payment_is_created_pending_review_with_the_banks_reference() -> TestResult {
    let stack = Stack::v2().await?;

    let created = stack.create("25000.00").await?;

    assert!(
        created["id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pmt_"),
        "{created:#}"
    );
    assert_eq!(created["status"], "pending_review");
    assert_eq!(created["bank_status"], "pending_review");
    assert_eq!(created["amount"], "25000.00");
    assert_eq!(created["currency"], "EUR");
    assert_eq!(created["reason"], Value::Null);
    let reference = created["bank_reference"].as_str().unwrap_or_default();
    assert!(reference.starts_with("pay_"), "{created:#}");
    let history: Vec<&str> = created["history"]
        .as_array()
        .map(|h| h.iter().filter_map(|e| e["status"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(history, ["pending_review"]);
    let fetched = stack.payment(&created["id"]).await?;
    assert_eq!(fetched, created);
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list["payments"], json!([created]));
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn missing_credentials_answer_502_with_a_clear_body_and_store_nothing() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| c.bank_api_key = None).await?;

    let (status, body) = stack.post("/payments", &payment("120.00")).await?;

    assert_eq!(status, 502, "{body:#}");
    assert_eq!(
        body["error"],
        "bank credentials are not configured (BANK_API_KEY)"
    );
    assert_eq!(body["missing"], json!(["BANK_API_KEY"]));
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list, json!({"payments": []}));
    assert!(
        stack.journal("POST", "/v2/payments").await?.is_empty(),
        "something reached the bank"
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_refused_api_key_answers_502_naming_the_auth_problem() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| {
        c.bank_api_key = Some("expired-key-1234".to_owned());
    })
    .await?;

    let (status, body) = stack.post("/payments", &payment("120.00")).await?;

    assert_eq!(status, 502, "{body:#}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("the bank refused the platform's credentials"),
        "{body:#}"
    );
    assert!(
        error.contains("401") && error.contains("invalid API key"),
        "{body:#}"
    );
    assert_eq!(body["hint"], "check BANK_API_KEY");
    assert!(
        !body.to_string().contains("expired-key-1234"),
        "the key leaked: {body:#}"
    );
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list, json!({"payments": []}));
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn an_invalid_body_is_400_naming_each_field() -> TestResult {
    let stack = Stack::v2().await?;

    let (status, body) = stack
        .post(
            "/payments",
            &json!({"amount": 25000, "currency": "euro", "beneficiary": {"name": "ACME"}}),
        )
        .await?;
    let response = stack
        .http
        .post(stack.url("/payments"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    let (bad_json_status, bad_json) = read(response).await?;

    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["error"], "invalid payment request");
    let fields: Vec<&String> = body["fields"]
        .as_object()
        .map(|f| f.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["amount", "beneficiary.iban", "currency"],
        "{body:#}"
    );
    assert_eq!(bad_json_status, 400);
    assert!(
        bad_json["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("the body is not valid JSON")
    );
    assert!(stack.journal("POST", "/v2/payments").await?.is_empty());
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_beneficiary_given_as_json_text_is_accepted() -> TestResult {
    let stack = Stack::v2().await?;
    let mut request = payment("120.00");
    request["beneficiary"] = Value::String(beneficiary().to_string());

    let (status, body) = stack.post("/payments", &request).await?;

    assert_eq!(status, 201, "{body:#}");
    assert_eq!(body["beneficiary"], beneficiary());
    let sent = stack.journal("POST", "/v2/payments").await?;
    assert_eq!(
        sent[0]["body"]["creditor"],
        json!({"name": "ACME Supplies Ltd", "iban": "GB33BUKB20201555555555"})
    );
    stack.shutdown().await;
    Ok(())
}

/// A bank that refuses every payment with a v2 validation error (the bank mock's faults only
/// answer 5xx and 429, and the platform validates too well to trigger the mock's 422).
async fn refusing_bank() -> TestResult<(String, tokio::task::JoinHandle<()>)> {
    use axum::routing::{get, post};
    let bank = axum::Router::new()
        .route(
            "/v2/payments",
            post(|| async {
                (
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    axum::Json(json!({"error": {
                        "code": "validation_failed",
                        "message": "creditor.iban: payments to GB are suspended",
                        "details": [{"field": "creditor.iban", "problem": "suspended"}],
                    }})),
                )
            }),
        )
        .route(
            "/v2/payments/{id}",
            get(|| async { axum::http::StatusCode::NOT_FOUND }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, bank).await;
    });
    Ok((url, server))
}

#[tokio::test]
async fn a_payment_the_bank_refuses_for_good_is_failed_with_the_banks_error() -> TestResult {
    let (bank_url, bank_server) = refusing_bank().await?;
    let stack = Stack::with(BankApiVersion::V2, |c| c.bank_base_url = Some(bank_url)).await?;

    let created = stack.create("120.00").await?;
    let job = stack.run_poller().await?;

    assert_eq!(created["status"], "failed", "{created:#}");
    assert_eq!(created["bank_reference"], Value::Null);
    assert_eq!(
        created["reason"],
        "the bank refused the payment: 422: validation_failed: creditor.iban: payments to GB are suspended"
    );
    let summary = &job["recent_runs"][0]["summary"];
    assert_eq!(
        summary["resubmitted"], 0,
        "a failed payment was retried: {job:#}"
    );
    assert_eq!(
        summary["checked"], 0,
        "a failed payment was polled: {job:#}"
    );
    bank_server.abort();
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn get_and_delete_answer_404_for_unknown_payments_and_delete_forgets() -> TestResult {
    let stack = Stack::v2().await?;
    let created = stack.create("120.00").await?;
    let id = created["id"].as_str().unwrap_or_default();

    let deleted = stack
        .http
        .delete(stack.url(&format!("/payments/{id}")))
        .send()
        .await?;
    let (after_status, after) = stack.get(&format!("/payments/{id}")).await?;
    let again = stack
        .http
        .delete(stack.url(&format!("/payments/{id}")))
        .send()
        .await?;
    let (unknown_status, unknown) = stack.get("/payments/pmt_nope").await?;

    assert_eq!(deleted.status(), 204);
    assert_eq!(after_status, 404, "{after:#}");
    assert_eq!(after["error"], format!("no payment `{id}`"));
    assert_eq!(again.status(), 404);
    assert_eq!(unknown_status, 404);
    assert_eq!(unknown, json!({"error": "no payment `pmt_nope`"}));
    let (_, list) = stack.get("/payments").await?;
    assert_eq!(list, json!({"payments": []}));
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_same_payment_and_reaches_the_bank_once()
-> TestResult {
    let stack = Stack::v2().await?;
    let post = |body: Value| {
        stack
            .http
            .post(stack.url("/payments"))
            .header("Idempotency-Key", "client-key-1")
            .json(&body)
            .send()
    };

    let first = read(post(payment("120.00")).await?).await?;
    let replay = post(payment("120.00")).await?;
    let replayed_header = replay.headers().get("idempotent-replayed").cloned();
    let replay = read(replay).await?;
    let conflict = read(post(payment("130.00")).await?).await?;

    assert_eq!(first.0, 201, "{:#}", first.1);
    assert_eq!(replay.0, 201);
    assert_eq!(replay.1["id"], first.1["id"]);
    assert_eq!(
        replayed_header.as_ref().and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(conflict.0, 409, "{:#}", conflict.1);
    assert_eq!(stack.journal("POST", "/v2/payments").await?.len(), 1);
    stack.shutdown().await;
    Ok(())
}
