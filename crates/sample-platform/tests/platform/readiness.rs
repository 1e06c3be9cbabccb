//! `/healthz`, `/readyz` and `/version`: every failing check is named.

use rehearse_sample_platform::BankApiVersion;
use serde_json::json;

use crate::common::{Stack, TestResult};

#[tokio::test]
async fn readyz_is_ready_when_credentials_bank_and_poller_are_all_fine() -> TestResult {
    let stack = Stack::v2().await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["checks"],
        json!({"bank_credentials": "ok", "bank_reachable": "ok", "status_poller": "ok"})
    );
    let (status, health) = stack.get("/healthz").await?;
    assert_eq!((status, health), (200, json!({"status": "ok"})));
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_names_the_missing_credential() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| c.bank_api_key = None).await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["checks"]["bank_credentials"], "missing");
    assert_eq!(body["checks"]["status_poller"], "ok");
    let detail = body["details"]["bank_credentials"]
        .as_str()
        .unwrap_or_default();
    assert!(detail.contains("BANK_API_KEY"), "{body:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_names_the_missing_v3_client_secret() -> TestResult {
    let stack = Stack::with(BankApiVersion::V3, |c| c.bank_client_secret = None).await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["checks"]["bank_credentials"], "missing");
    let detail = body["details"]["bank_credentials"]
        .as_str()
        .unwrap_or_default();
    assert!(detail.contains("BANK_CLIENT_SECRET"), "{body:#}");
    assert!(!detail.contains("BANK_CLIENT_ID"), "{body:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_says_unauthorized_when_the_bank_refuses_the_key() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| {
        c.bank_api_key = Some("wrong-key".to_owned());
    })
    .await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["checks"]["bank_credentials"], "ok");
    assert_eq!(body["checks"]["bank_reachable"], "unauthorized");
    let detail = body["details"]["bank_reachable"]
        .as_str()
        .unwrap_or_default();
    assert!(detail.contains("invalid API key"), "{body:#}");
    assert!(
        !body.to_string().contains("wrong-key"),
        "the key leaked: {body:#}"
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_says_unauthorized_when_the_v3_token_endpoint_refuses_the_client() -> TestResult {
    let stack = Stack::with(BankApiVersion::V3, |c| {
        c.bank_client_secret = Some("not-the-secret".to_owned());
    })
    .await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["checks"]["bank_reachable"], "unauthorized");
    let detail = body["details"]["bank_reachable"]
        .as_str()
        .unwrap_or_default();
    assert!(detail.contains("invalid_client"), "{body:#}");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_says_unreachable_when_nothing_listens_at_the_bank_url() -> TestResult {
    // Port 9 (discard), as elsewhere in the tests: a port freed by dropping a listener
    // could be handed to another test's server running alongside, which then answered.
    let stack = Stack::with(BankApiVersion::V2, |c| {
        c.bank_base_url = Some("http://127.0.0.1:9".to_owned());
    })
    .await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    let reachable = body["checks"]["bank_reachable"]
        .as_str()
        .unwrap_or_default();
    assert!(reachable.starts_with("unreachable: "), "{body:#}");
    assert_eq!(body["checks"]["bank_credentials"], "ok");
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn readyz_says_disabled_when_the_poller_is_disabled_and_the_job_cannot_be_run() -> TestResult
{
    let stack = Stack::with(BankApiVersion::V2, |c| c.disable_poller = true).await?;

    let (status, body) = stack.get("/readyz").await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(
        body["checks"],
        json!({"bank_credentials": "ok", "bank_reachable": "ok", "status_poller": "disabled"})
    );
    let (status, job) = stack.get("/internal/jobs/bank-status-poller").await?;
    assert_eq!(status, 200);
    assert_eq!(job["registered"], false);
    assert_eq!(job["next_run"], serde_json::Value::Null);
    let (status, run) = stack
        .post(
            "/internal/jobs/bank-status-poller/run",
            &serde_json::Value::Null,
        )
        .await?;
    assert_eq!(status, 409, "{run:#}");
    assert!(
        run["error"]
            .as_str()
            .unwrap_or_default()
            .contains("DISABLE_POLLER"),
        "{run:#}"
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn version_reports_version_commit_and_bank_api() -> TestResult {
    let stack = Stack::with(BankApiVersion::V3, |c| {
        c.platform_version = "2.4.1".to_owned();
        c.commit = Some("0badc0de".to_owned());
    })
    .await?;

    let (status, body) = stack.get("/version").await?;

    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"version": "2.4.1", "commit": "0badc0de", "bank_api_version": "v3"})
    );
    stack.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_missing_bank_url_is_named_by_readyz_and_by_payments() -> TestResult {
    let stack = Stack::with(BankApiVersion::V2, |c| c.bank_base_url = None).await?;

    let (status, body) = stack.get("/readyz").await?;
    let (payment_status, payment) = stack
        .post("/payments", &crate::common::payment("120.00"))
        .await?;

    assert_eq!(status, 503, "{body:#}");
    assert_eq!(body["checks"]["bank_credentials"], "ok");
    assert_eq!(
        body["checks"]["bank_reachable"],
        "unreachable: the bank's address is not configured (BANK_BASE_URL)"
    );
    assert_eq!(payment_status, 502, "{payment:#}");
    assert_eq!(
        payment["error"],
        "the bank's address is not configured (BANK_BASE_URL)"
    );
    assert_eq!(payment["missing"], json!(["BANK_BASE_URL"]));
    stack.shutdown().await;
    Ok(())
}
