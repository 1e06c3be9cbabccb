//! The bank mock on a fixed port for load benchmarks (`scripts/bench-bank-mock.sh`).
//!
//! `cargo run --release -p rehearse-bank-mock --example bench_server -- 18081` prints the id
//! of a payment to GET, then serves until Ctrl-C.

use rehearse_bank_mock::BankMock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18081);
    let mut builder = BankMock::builder().port(port);
    if let Some(n) = std::env::var("BENCH_SERVERS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        builder = builder.servers(n);
    }
    let bank = builder.start().await?;
    let body = rehearse_bank_mock::fixture("v2/examples/create-payment-small.json")
        .ok_or("missing fixture")?;
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/v2/payments", bank.base_url()))
        .bearer_auth("test-api-key")
        .header("Idempotency-Key", "bench-seed")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?
        .json()
        .await?;
    println!("{}", created["id"].as_str().unwrap_or_default());
    tokio::signal::ctrl_c().await?;
    bank.shutdown().await;
    Ok(())
}
