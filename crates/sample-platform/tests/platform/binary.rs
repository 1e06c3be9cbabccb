//! The `sample-platform` binary: configured by the environment, prints its URL, stops on
//! SIGTERM, refuses malformed configuration, never logs credentials.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

use crate::common::{API_KEY, TestResult, bank, read};

const BINARY: &str = env!("CARGO_BIN_EXE_sample-platform");

#[tokio::test]
async fn the_binary_serves_until_sigterm_and_never_logs_the_key() -> TestResult {
    let bank = bank().await?;
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("BANK_BASE_URL", bank.base_url())
        .env("BANK_API_KEY", API_KEY)
        .env("BANK_API_VERSION", "v2")
        .env("PORT", "0")
        .env("PLATFORM_VERSION", "9.9.9")
        .env("PLATFORM_COMMIT", "abc1234")
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await??
        .ok_or("the binary printed nothing")?;
    let url = line
        .strip_prefix("sample-platform listening on ")
        .ok_or_else(|| format!("unexpected first line: {line}"))?
        .to_owned();

    let http = reqwest::Client::new();
    let (_, version) = read(http.get(format!("{url}/version")).send().await?).await?;
    let (ready, readiness) = read(http.get(format!("{url}/readyz")).send().await?).await?;
    let (created, payment) = read(
        http.post(format!("{url}/payments"))
            .json(&crate::common::payment("120.00"))
            .send()
            .await?,
    )
    .await?;
    let pid = child.id().ok_or("no pid")?;
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await??;
    let logs = logs.await?;

    assert_eq!(
        version,
        json!({"version": "9.9.9", "commit": "abc1234", "bank_api_version": "v2"})
    );
    assert_eq!(ready, 200, "{readiness:#}");
    assert_eq!(created, 201, "{payment:#}");
    assert!(kill.success());
    assert!(exit.success(), "exit: {exit:?}\n{logs}");
    assert!(logs.contains("payment created"), "{logs}");
    assert!(
        !logs.contains(API_KEY),
        "the API key is in the logs:\n{logs}"
    );
    bank.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_binary_refuses_a_malformed_variable_with_exit_code_2() -> TestResult {
    let output = Command::new(BINARY)
        .env_clear()
        .env("BANK_API_VERSION", "v9")
        .env("PORT", "0")
        .output()
        .await?;

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "failed to read the configuration: read BANK_API_VERSION=`v9`: expected v1, v2, v3 or v4"
        ),
        "{stderr}"
    );
    Ok(())
}
