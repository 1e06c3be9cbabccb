//! The journal tells a scenario what the bank really received.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn journal_shows_the_masked_api_key_and_the_exact_amount() -> TestResult {
    // Arrange
    let (bank, client) = bank().await?;
    let body = example("v1/examples/create-payment.json")?;
    client
        .post(format!("{}/v1/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .await?;
    client
        .get(format!("{}/v1/payments/x", bank.base_url()))
        .send()
        .await?;

    // Act
    let (status, journal) = get_json(
        &client,
        &format!("{}/journal?path=/v1/payments&method=POST", bank.admin_url()),
        None,
    )
    .await?;

    // Assert
    assert_eq!(status, 200);
    let entries = journal["entries"].as_array().ok_or("no entries")?;
    assert_eq!(entries.len(), 1, "{journal}");
    let entry = &entries[0];
    assert_eq!(entry["headers"]["authorization"], "Bearer ****-key");
    assert!(
        !journal.to_string().contains(API_KEY),
        "the key must never appear in the journal"
    );
    assert_eq!(entry["body"]["amount_cents"], 2_500_000);
    assert_eq!(entry["version"], "v1");
    assert_eq!(entry["status"], 201);
    assert_eq!(entry["at"], "2025-01-06T09:00:00Z");
    assert_eq!(journal["total"], 2);

    let (_, all) = get_json(
        &client,
        &format!("{}/journal?path=/v1/*", bank.admin_url()),
        None,
    )
    .await?;
    assert_eq!(all["entries"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[tokio::test]
async fn journal_masks_the_oauth_client_secret() -> TestResult {
    let (bank, client) = bank().await?;
    token(&bank, &client).await?;
    let (_, journal) = get_json(
        &client,
        &format!("{}/journal?path=/oauth/token", bank.admin_url()),
        None,
    )
    .await?;
    assert_eq!(
        journal["entries"][0]["body"],
        json!({"grant_type": "client_credentials", "client_id": "rehearse-client", "client_secret": "****cret"})
    );
    assert!(!journal.to_string().contains("rehearse-secret"));
    Ok(())
}
