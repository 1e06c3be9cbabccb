//! Every fault kind, as a real HTTP client sees it.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

async fn arm(
    bank: &rehearse_bank_mock::RunningBank,
    client: &reqwest::Client,
    spec: Value,
) -> TestResult {
    let (status, body) = admin_post(bank, client, "/faults", &spec).await?;
    assert_eq!(status, 201, "{body}");
    Ok(())
}

#[tokio::test]
async fn error_fault_answers_5xx_for_the_next_n_requests_of_its_route_only() -> TestResult {
    let (bank, client) = bank().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "error", "status": 503, "route": "/v2/payments*", "count": 2}),
    )
    .await?;
    let url = format!("{}/v2/payments/pay_x", bank.base_url());
    let v1_url = format!("{}/v1/payments/pay_x", bank.base_url());

    assert_eq!(
        get_json(&client, &v1_url, Some(API_KEY)).await?.0,
        404,
        "other routes are untouched"
    );
    let (status, body) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "service_unavailable");
    assert_eq!(get_json(&client, &url, Some(API_KEY)).await?.0, 503);
    assert_eq!(
        get_json(&client, &url, Some(API_KEY)).await?.0,
        404,
        "the fault is spent after 2"
    );
    Ok(())
}

#[tokio::test]
async fn rate_limit_fault_answers_429_with_retry_after_and_does_not_create() -> TestResult {
    let (bank, client) = bank().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "rate_limit", "retry_after": "30s", "version": "v2", "count": 1}),
    )
    .await?;
    let response = client
        .post(format!("{}/v2/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", "k")
        .json(&example("v2/examples/create-payment.json")?)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("30")
    );
    assert_eq!(
        response.json::<Value>().await?["error"]["code"],
        "rate_limited"
    );
    let (_, info) = get_json(&client, &bank.admin_url(), None).await?;
    assert_eq!(info["payments"], 0);
    Ok(())
}

#[tokio::test]
async fn latency_fault_delays_the_answer_and_a_client_timeout_fires() -> TestResult {
    let (bank, client) = bank().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "latency", "delay": "300ms", "route": "/v1/*"}),
    )
    .await?;
    let url = format!("{}/v1/payments/pay_x", bank.base_url());

    let started = Instant::now();
    let (status, _) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(status, 404);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    let timed_out = client
        .get(&url)
        .bearer_auth(API_KEY)
        .timeout(Duration::from_millis(100))
        .send()
        .await;
    assert!(
        timed_out.as_ref().is_err_and(reqwest::Error::is_timeout),
        "{timed_out:?}"
    );

    let response = client
        .delete(format!("{}/faults", bank.admin_url()))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 204);
    let started = Instant::now();
    get_json(&client, &url, Some(API_KEY)).await?;
    assert!(started.elapsed() < Duration::from_millis(300));
    Ok(())
}

#[tokio::test]
async fn reset_fault_closes_the_connection_without_an_answer() -> TestResult {
    let (bank, client) = bank().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "reset", "route": "/v1/payments", "method": "POST", "count": 1}),
    )
    .await?;
    let result = client
        .post(format!("{}/v1/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .json(&example("v1/examples/create-payment.json")?)
        .send()
        .await;
    let err = result
        .err()
        .ok_or("expected a transport error, got a response")?;
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");

    // The journal shows it came in; nothing was created; the next request is served.
    let (_, journal) = get_json(
        &client,
        &format!("{}/journal?path=/v1/payments", bank.admin_url()),
        None,
    )
    .await?;
    assert_eq!(journal["entries"][0]["fault"], "reset");
    assert_eq!(journal["entries"][0]["status"], Value::Null);
    let response = client
        .post(format!("{}/v1/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .json(&example("v1/examples/create-payment.json")?)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    Ok(())
}

#[tokio::test]
async fn malformed_fault_processes_the_request_but_garbles_the_json() -> TestResult {
    let (bank, client) = bank().await?;
    arm(&bank, &client, json!({"kind": "malformed", "count": 1})).await?;
    let response = client
        .post(format!("{}/v1/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .json(&example("v1/examples/create-payment-small.json")?)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let parsed = response.json::<Value>().await;
    assert!(
        parsed.as_ref().is_err_and(reqwest::Error::is_decode),
        "{parsed:?}"
    );
    let (_, info) = get_json(&client, &bank.admin_url(), None).await?;
    assert_eq!(info["payments"], 1, "the bank did book it");
    Ok(())
}

#[tokio::test]
async fn bad_fault_specs_are_refused_with_the_reason() -> TestResult {
    let (bank, client) = bank().await?;
    let (status, body) = admin_post(&bank, &client, "/faults", &json!({"kind": "latency"})).await?;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "arm the fault: a latency fault needs `delay`, e.g. \"2s\""
    );
    let (status, body) = admin_post(
        &bank,
        &client,
        "/faults",
        &json!({"kind": "error", "status": 404}),
    )
    .await?;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "arm the fault: `status` must be 500-599 for an error fault, got 404"
    );
    let (status, _) = admin_post(&bank, &client, "/faults", &json!({"kind": "explode"})).await?;
    assert_eq!(status, 400);
    Ok(())
}

#[tokio::test]
async fn a_fault_with_where_fails_only_the_payment_it_names() -> TestResult {
    // Arrange: a fault for one reference, as a scenario on a shared bank arms it.
    let (bank, client) = bank().await?;
    arm(
        &bank,
        &client,
        json!({"kind": "error", "status": 503, "route": "/v2/payments", "method": "POST",
               "count": 1, "where": {"body.reference": "rehearse outage 1a2b"}}),
    )
    .await?;
    let mut body = example("v2/examples/create-payment-small.json")?;

    // Act: another run's payment first, then this one.
    let (other, _) = create_v2(&bank, &client, "other", &body).await?;
    body["reference"] = json!("rehearse outage 1a2b");
    let (mine, _) = create_v2(&bank, &client, "mine", &body).await?;
    let (retried, _) = create_v2(&bank, &client, "mine", &body).await?;

    // Assert
    assert_eq!((other, mine, retried), (201, 503, 201));
    Ok(())
}

#[tokio::test]
async fn an_armed_fault_expires_after_its_ttl_so_a_killed_run_leaves_no_fault_behind() -> TestResult
{
    // Arrange: an unlimited fault, as a run killed before its cleanup leaves it.
    let (bank, client) = bank().await?;
    let (status, fault) = admin_post(
        &bank,
        &client,
        "/faults",
        &json!({"kind": "error", "status": 503, "route": "/v2/*", "ttl": "200ms"}),
    )
    .await?;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(fault["ttl"], "1s", "shown in whole seconds, rounded up");
    let url = format!("{}/v2/payments/pay_x", bank.base_url());
    assert_eq!(get_json(&client, &url, Some(API_KEY)).await?.0, 503);

    // Act: the ttl passes on the wall clock (the bank's clock does not move).
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Assert: the bank answers again and lists no fault.
    assert_eq!(get_json(&client, &url, Some(API_KEY)).await?.0, 404);
    let (_, listed) = get_json(&client, &format!("{}/faults", bank.admin_url()), None).await?;
    assert_eq!(listed["faults"], json!([]));
    Ok(())
}

#[tokio::test]
async fn a_fault_without_ttl_is_armed_for_five_minutes() -> TestResult {
    let (bank, client) = bank().await?;
    let (status, fault) = admin_post(
        &bank,
        &client,
        "/faults",
        &json!({"kind": "reset", "count": 1}),
    )
    .await?;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(
        (&fault["ttl"], &fault["expires_in"]),
        (&json!("5m"), &json!("5m"))
    );
    let (status, body) = admin_post(
        &bank,
        &client,
        "/faults",
        &json!({"kind": "reset", "ttl": "forever"}),
    )
    .await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}
