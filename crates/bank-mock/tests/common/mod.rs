//! Shared helpers: a bank on loopback and a plain reqwest client, as a platform would use.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use rehearse_bank_mock::{BankMock, BankMockBuilder, RunningBank};
use serde_json::Value;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const API_KEY: &str = "test-api-key";

pub async fn start(
    builder: BankMockBuilder,
) -> Result<(RunningBank, reqwest::Client), Box<dyn std::error::Error>> {
    let bank = builder.start().await?;
    let client = reqwest::Client::builder().build()?;
    Ok((bank, client))
}

pub async fn bank() -> Result<(RunningBank, reqwest::Client), Box<dyn std::error::Error>> {
    start(BankMock::builder()).await
}

pub fn example(path: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let text = rehearse_bank_mock::fixture(path).ok_or_else(|| format!("no fixture {path}"))?;
    Ok(serde_json::from_str(text)?)
}

/// `POST /v2/payments` with the API key and an idempotency key.
pub async fn create_v2(
    bank: &RunningBank,
    client: &reqwest::Client,
    key: &str,
    body: &Value,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let response = client
        .post(format!("{}/v2/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

pub async fn get_json(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let mut request = client.get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

pub async fn admin_post(
    bank: &RunningBank,
    client: &reqwest::Client,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let response = client
        .post(format!("{}{path}", bank.admin_url()))
        .json(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    };
    Ok((status, value))
}

pub async fn token(
    bank: &RunningBank,
    client: &reqwest::Client,
) -> Result<String, Box<dyn std::error::Error>> {
    let response = client
        .post(bank.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "rehearse-client"),
            ("client_secret", "rehearse-secret"),
        ])
        .send()
        .await?;
    let body: Value = response.json().await?;
    Ok(body["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned())
}
