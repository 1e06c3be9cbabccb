//! Long-lived use: the engine's mocks are re-registered under load without a single request
//! refused or cut, so wiremock's per-mock request log never grows past the bound.

mod common;

use common::*;
use rehearse_bank_mock::BankMock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mocks_are_recycled_under_concurrent_load_without_losing_a_request() -> TestResult {
    // Arrange: a tiny bound so recycling happens often.
    let (bank, client) = start(BankMock::builder().servers(2).recycle_after(25)).await?;
    let body = example("v1/examples/create-payment-small.json")?;
    let (_, created) = {
        let response = client
            .post(format!("{}/v1/payments", bank.base_url()))
            .bearer_auth(API_KEY)
            .json(&body)
            .send()
            .await?;
        (
            response.status(),
            response.json::<serde_json::Value>().await?,
        )
    };
    let url = format!(
        "{}/v1/payments/{}",
        bank.base_url(),
        created["id"].as_str().ok_or("id")?
    );

    // Act: 16 concurrent clients, 1,600 requests.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..100 {
                let status = match client.get(&url).bearer_auth(API_KEY).send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                };
                statuses.push(status);
            }
            statuses
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.extend(task.await?);
    }

    // Assert
    let failures: Vec<_> = statuses.iter().filter(|s| **s != 200).collect();
    assert!(
        failures.is_empty(),
        "{} of {} requests failed: {failures:?}",
        failures.len(),
        statuses.len()
    );
    assert!(bank.recycles() >= 50, "only {} recycles", bank.recycles());
    Ok(())
}
