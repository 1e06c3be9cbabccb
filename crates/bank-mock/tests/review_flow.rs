//! The headline flow: a large v2 payment is held for review, approved through the back
//! office, and settles only when bank time crosses the next batch.

mod common;

use std::time::Instant;

use common::*;
use serde_json::json;

#[tokio::test]
async fn large_v2_payment_is_reviewed_approved_and_settled_at_the_next_batch() -> TestResult {
    // Arrange
    let (bank, client) = bank().await?;
    let body = example("v2/examples/create-payment.json")?;

    // Act: create
    let (status, created) = create_v2(&bank, &client, "key-1", &body).await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "pending_review");
    assert_eq!(created["review"]["required"], true);
    assert_eq!(created["review"]["decided_at"], serde_json::Value::Null);
    let id = created["id"].as_str().ok_or("no id")?.to_owned();
    let url = format!("{}/v2/payments/{id}", bank.base_url());

    // The back office sees it in the queue.
    let (_, queue) = get_json(&client, &format!("{}/reviews", bank.admin_url()), None).await?;
    assert_eq!(queue["reviews"][0]["payment_id"], id.as_str());
    assert_eq!(queue["reviews"][0]["amount"], "25000.00");

    // Hours pass: batches run but never settle a payment in review.
    let (_, advanced) = admin_post(&bank, &client, "/clock/advance", &json!({"by": "2h"})).await?;
    assert_eq!(advanced["ticks"].as_array().map(Vec::len), Some(2));
    let (_, still) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(still["status"], "pending_review");

    // Approve through the admin API.
    let (status, decided) = admin_post(
        &bank,
        &client,
        &format!("/reviews/{id}/decision"),
        &json!({"decision": "approve", "note": "checked by ops"}),
    )
    .await?;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "accepted");
    let (_, accepted) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["review"]["decision"], "approve");
    assert_eq!(accepted["review"]["decided_at"], "2025-01-06T11:00:00Z");

    // 4 hours of bank time, well under 100 ms of wall time.
    let started = Instant::now();
    let (status, advanced) =
        admin_post(&bank, &client, "/clock/advance", &json!({"by": "4h"})).await?;
    let wall = started.elapsed();
    assert_eq!(status, 200);
    assert_eq!(advanced["now"], "2025-01-06T15:00:00Z");
    assert!(wall.as_millis() < 100, "4h of bank time took {wall:?}");

    // Assert
    let (_, settled) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(settled["status"], "settled");
    let history: Vec<(String, String)> = settled["status_history"]
        .as_array()
        .ok_or("no history")?
        .iter()
        .map(|c| (c["status"].to_string(), c["at"].to_string()))
        .collect();
    assert_eq!(
        history,
        vec![
            (r#""received""#.into(), r#""2025-01-06T09:00:00Z""#.into()),
            (
                r#""pending_review""#.into(),
                r#""2025-01-06T09:00:00Z""#.into()
            ),
            (r#""accepted""#.into(), r#""2025-01-06T11:00:00Z""#.into()),
            (r#""settled""#.into(), r#""2025-01-06T12:00:00Z""#.into()),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn approval_is_refused_for_unknown_or_already_decided_payments() -> TestResult {
    let (bank, client) = bank().await?;
    let (status, body) = admin_post(
        &bank,
        &client,
        "/reviews/pay_nope/decision",
        &json!({"decision": "approve"}),
    )
    .await?;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "find payment `pay_nope`: no such payment");

    let small = example("v2/examples/create-payment-small.json")?;
    let (_, created) = create_v2(&bank, &client, "k", &small).await?;
    assert_eq!(created["status"], "accepted");
    let id = created["id"].as_str().ok_or("no id")?;
    let (status, body) = admin_post(
        &bank,
        &client,
        &format!("/reviews/{id}/decision"),
        &json!({"decision": "approve"}),
    )
    .await?;
    assert_eq!(status, 409);
    assert_eq!(
        body["error"],
        format!("decide on payment `{id}`: it is `accepted`, not `pending_review`")
    );

    let (status, body) = admin_post(
        &bank,
        &client,
        &format!("/reviews/{id}/decision"),
        &json!({"decision": "maybe"}),
    )
    .await?;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("expected e.g.")),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn auto_decide_policy_rejects_unattended_reviews_after_the_delay() -> TestResult {
    let (bank, client) = start(rehearse_bank_mock::BankMock::builder().auto_decide(
        rehearse_bank_mock::AutoDecide::Reject {
            after: std::time::Duration::from_secs(30 * 60),
        },
    ))
    .await?;
    let (_, created) = create_v2(
        &bank,
        &client,
        "k",
        &example("v2/examples/create-payment.json")?,
    )
    .await?;
    let id = created["id"].as_str().ok_or("no id")?;
    bank.clock()
        .advance(std::time::Duration::from_secs(29 * 60));
    let url = format!("{}/v2/payments/{id}", bank.base_url());
    assert_eq!(
        get_json(&client, &url, Some(API_KEY)).await?.1["status"],
        "pending_review"
    );
    bank.clock().advance(std::time::Duration::from_secs(60));
    let (_, p) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(p["status"], "rejected");
    assert_eq!(p["review"]["decision"], "reject");
    assert_eq!(p["review"]["decided_at"], "2025-01-06T09:30:00Z");
    Ok(())
}

#[tokio::test]
async fn reset_forgets_payments_and_rewinds_the_clock() -> TestResult {
    let (bank, client) = bank().await?;
    let (_, created) = create_v2(
        &bank,
        &client,
        "k",
        &example("v2/examples/create-payment.json")?,
    )
    .await?;
    admin_post(&bank, &client, "/clock/advance", &json!({"by": "90m"})).await?;
    let (status, _) = admin_post(&bank, &client, "/reset", &json!({})).await?;
    assert_eq!(status, 204);
    let url = format!(
        "{}/v2/payments/{}",
        bank.base_url(),
        created["id"].as_str().ok_or("id")?
    );
    assert_eq!(get_json(&client, &url, Some(API_KEY)).await?.0, 404);
    let (_, clock) = get_json(&client, &format!("{}/clock", bank.admin_url()), None).await?;
    assert_eq!(clock["now"], "2025-01-06T09:00:00Z");
    // Same seed after reset: the same reference again.
    let (_, again) = create_v2(
        &bank,
        &client,
        "k",
        &example("v2/examples/create-payment.json")?,
    )
    .await?;
    assert_eq!(again["id"], created["id"]);
    Ok(())
}

/// Bodies of payments are kept rendered until the payment changes (issue #10): a payment
/// booked after a reset gets a forgotten payment's id again, and must show its own data.
#[tokio::test]
async fn a_payment_booked_after_a_reset_shows_its_own_data_under_a_reused_id() -> TestResult {
    let (bank, client) = bank().await?;
    let mut body = example("v2/examples/create-payment.json")?;
    let (_, first) = create_v2(&bank, &client, "k", &body).await?;
    let url = format!(
        "{}/v2/payments/{}",
        bank.base_url(),
        first["id"].as_str().ok_or("id")?
    );
    let (_, shown) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(shown["amount"], "25000.00");

    admin_post(&bank, &client, "/reset", &json!({})).await?;
    body["amount"] = json!("12.50");
    let (_, second) = create_v2(&bank, &client, "k", &body).await?;
    assert_eq!(second["id"], first["id"], "the same seed gives the same id");

    let (status, shown) = get_json(&client, &url, Some(API_KEY)).await?;
    assert_eq!(status, 200);
    assert_eq!(shown["amount"], "12.50");
    assert_eq!(shown["status"], "accepted");
    Ok(())
}
