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

/// Creates `count` v2 payments with references `{prefix}-1`… and the header
/// `X-Rehearse-Run: {run}`.
async fn create_many(
    bank: &rehearse_bank_mock::RunningBank,
    client: &reqwest::Client,
    run: &str,
    prefix: &str,
    count: usize,
) -> TestResult {
    let mut body = example("v2/examples/create-payment-small.json")?;
    for i in 1..=count {
        body["reference"] = json!(format!("{prefix}-{i}"));
        let response = client
            .post(format!("{}/v2/payments", bank.base_url()))
            .bearer_auth(API_KEY)
            .header("Idempotency-Key", format!("{run}-{prefix}-{i}"))
            .header("X-Rehearse-Run", run)
            .json(&body)
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 201);
    }
    Ok(())
}

fn references(journal: &serde_json::Value) -> Vec<String> {
    journal["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["body"]["reference"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn journal_finds_one_runs_entries_by_body_field_and_header_on_a_shared_bank() -> TestResult {
    // Arrange: two runs on one bank, the same amounts, different references.
    let (bank, client) = bank().await?;
    create_many(&bank, &client, "r-first", "first", 3).await?;
    create_many(&bank, &client, "r-second", "second", 3).await?;
    let journal = |query: &str| {
        let url = format!("{}/journal?{query}", bank.admin_url());
        let client = client.clone();
        async move { get_json(&client, &url, None).await }
    };

    // Act + Assert: by a body field, exact or with a `*`.
    let (status, found) = journal("path=/v2/payments&body.reference=second-2").await?;
    assert_eq!(status, 200, "{found}");
    assert_eq!(references(&found), ["second-2"]);
    assert_eq!(found["total"], 6);
    let (_, found) = journal("body.reference=first-*").await?;
    assert_eq!(references(&found), ["first-1", "first-2", "first-3"]);
    // Nested fields too; several conditions all hold.
    let (_, found) = journal("body.reference=first-1&body.creditor.name=ACME*").await?;
    assert_eq!(references(&found), ["first-1"], "{found}");

    // By a header, the name in any case.
    let (_, found) = journal("header.X-Rehearse-Run=r-second").await?;
    assert_eq!(references(&found), ["second-1", "second-2", "second-3"]);
    let (_, found) = journal("header.x-rehearse-run=r-second&body.reference=first-1").await?;
    assert_eq!(references(&found), Vec::<String>::new());

    // `limit` keeps the newest, still oldest first.
    let (_, found) = journal("header.x-rehearse-run=r-first&limit=2").await?;
    assert_eq!(references(&found), ["first-2", "first-3"]);
    Ok(())
}

#[tokio::test]
async fn journal_filters_see_masked_credentials_only() -> TestResult {
    let (bank, client) = bank().await?;
    create_many(&bank, &client, "r-1", "ref", 1).await?;
    let url = |query: &str| format!("{}/journal?{query}", bank.admin_url());

    let (_, masked) = get_json(
        &client,
        &url("header.authorization=Bearer%20****-key"),
        None,
    )
    .await?;
    assert_eq!(references(&masked), ["ref-1"]);
    // Guessing at the key behind the mask finds nothing, so the filter is no oracle.
    let (_, guessed) =
        get_json(&client, &url("header.authorization=Bearer%20test-*"), None).await?;
    assert_eq!(references(&guessed), Vec::<String>::new());
    Ok(())
}

#[tokio::test]
async fn journal_refuses_an_unknown_or_malformed_filter_instead_of_returning_everything()
-> TestResult {
    let (bank, client) = bank().await?;
    create_many(&bank, &client, "r-1", "ref", 1).await?;
    let refused = |query: &str| {
        let url = format!("{}/journal?{query}", bank.admin_url());
        let client = client.clone();
        async move {
            let (status, body) = get_json(&client, &url, None).await?;
            assert_eq!(status, 400, "{body}");
            Ok::<_, Box<dyn std::error::Error>>(body["error"].as_str().unwrap_or("").to_owned())
        }
    };
    insta::assert_snapshot!(refused("reference=ref-1").await?, @"unknown journal filter `reference`: use `path`, `method`, `limit`, `header.NAME` (e.g. `header.x-rehearse-run`) or `body.FIELD` (e.g. `body.reference`, `body.amount.value`)");
    insta::assert_snapshot!(refused("body.=x").await?, @"`body.` has an empty field name; write e.g. `body.reference` or `body.amount.value`");
    insta::assert_snapshot!(refused("limit=ten").await?, @"read `limit` = `ten`: not a whole number");
    Ok(())
}
