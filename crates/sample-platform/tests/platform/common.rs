//! A bank mock and a platform wired to it, and a plain HTTP client to talk to both.

use std::time::{Duration, Instant};

use rehearse_bank_mock::{ApiVersion, BankMock, RunningBank};
use rehearse_sample_platform::{BankApiVersion, Config, RunningPlatform, start};
use serde_json::{Value, json};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub const API_KEY: &str = "platform-test-key-0001";
pub const CLIENT_ID: &str = "platform-client";
pub const CLIENT_SECRET: &str = "platform-client-secret-0001";

/// A schedule that never fires during a test (midnight on January 1st): the poller is
/// registered, and the tests fire it through `POST /internal/jobs/{name}/run`.
pub const NEVER: &str = "0 0 0 1 1 *";

pub fn beneficiary() -> Value {
    json!({"name": "ACME Supplies Ltd", "iban": "GB33BUKB20201555555555", "bic": "BUKBGB22"})
}

pub fn payment(amount: &str) -> Value {
    json!({
        "amount": amount,
        "currency": "EUR",
        "beneficiary": beneficiary(),
        "reference": "INV-2025-0001",
    })
}

pub async fn bank() -> TestResult<RunningBank> {
    Ok(BankMock::builder()
        .servers(1)
        .api_key(API_KEY)
        .client(CLIENT_ID, CLIENT_SECRET)
        .start()
        .await?)
}

/// A platform configured for `bank` with every credential, speaking `version`.
pub fn config(bank: &RunningBank, version: BankApiVersion) -> Config {
    Config {
        bank_base_url: Some(bank.base_url().to_owned()),
        bank_api_key: Some(API_KEY.to_owned()),
        bank_client_id: Some(CLIENT_ID.to_owned()),
        bank_client_secret: Some(CLIENT_SECRET.to_owned()),
        bank_api_version: version,
        poll_schedule: NEVER.to_owned(),
        bank_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

pub fn bank_version(version: BankApiVersion) -> ApiVersion {
    match version {
        BankApiVersion::V1 => ApiVersion::V1,
        BankApiVersion::V2 => ApiVersion::V2,
        BankApiVersion::V3 => ApiVersion::V3,
        BankApiVersion::V4 => ApiVersion::new(4).unwrap_or(ApiVersion::V3),
    }
}

/// The bank, the platform, and a client.
pub struct Stack {
    pub bank: RunningBank,
    pub platform: RunningPlatform,
    pub http: reqwest::Client,
}

impl Stack {
    /// A v2 stack with everything configured.
    pub async fn v2() -> TestResult<Self> {
        Self::with(BankApiVersion::V2, |_| {}).await
    }

    /// A stack speaking `version`, with the configuration changed by `tweak`.
    pub async fn with(
        version: BankApiVersion,
        tweak: impl FnOnce(&mut Config),
    ) -> TestResult<Self> {
        let bank = bank().await?;
        let mut config = config(&bank, version);
        tweak(&mut config);
        let platform = start(config).await?;
        Ok(Self {
            bank,
            platform,
            http: reqwest::Client::new(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.platform.base_url())
    }

    pub async fn get(&self, path: &str) -> TestResult<(u16, Value)> {
        read(self.http.get(self.url(path)).send().await?).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResult<(u16, Value)> {
        read(self.http.post(self.url(path)).json(body).send().await?).await
    }

    /// `POST /payments`, expecting 201.
    pub async fn create(&self, amount: &str) -> TestResult<Value> {
        let (status, body) = self.post("/payments", &payment(amount)).await?;
        assert_eq!(status, 201, "POST /payments answered {status}: {body:#}");
        Ok(body)
    }

    /// `POST /internal/jobs/bank-status-poller/run`, expecting 200: the job after the run.
    pub async fn run_poller(&self) -> TestResult<Value> {
        let (status, job) = self
            .post("/internal/jobs/bank-status-poller/run", &Value::Null)
            .await?;
        assert_eq!(status, 200, "run answered {status}: {job:#}");
        Ok(job)
    }

    /// `GET /payments/{id}`, expecting 200.
    pub async fn payment(&self, id: &Value) -> TestResult<Value> {
        let id = id.as_str().ok_or("payment id is not a string")?;
        let (status, body) = self.get(&format!("/payments/{id}")).await?;
        assert_eq!(
            status, 200,
            "GET /payments/{id} answered {status}: {body:#}"
        );
        Ok(body)
    }

    /// A call to the bank's back office.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> TestResult<(u16, Value)> {
        let url = format!("{}{path}", self.bank.admin_url());
        let mut request = self.http.request(method.parse()?, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await?).await
    }

    /// The bank's journal for an exact path and method.
    pub async fn journal(&self, method: &str, path: &str) -> TestResult<Vec<Value>> {
        let (status, body) = self
            .admin(
                "GET",
                &format!("/journal?path={path}&method={method}"),
                None,
            )
            .await?;
        assert_eq!(status, 200, "{body:#}");
        Ok(body["entries"].as_array().cloned().unwrap_or_default())
    }

    /// Approves or rejects a review at the bank.
    pub async fn decide(&self, bank_reference: &Value, decision: &str, note: &str) -> TestResult {
        let reference = bank_reference.as_str().ok_or("no bank reference")?;
        let (status, body) = self
            .admin(
                "POST",
                &format!("/reviews/{reference}/decision"),
                Some(json!({"decision": decision, "note": note})),
            )
            .await?;
        assert_eq!(status, 200, "decision answered {status}: {body:#}");
        Ok(())
    }

    /// Moves bank time past the next hourly settlement batch.
    pub async fn advance_past_settlement(&self) -> TestResult {
        let (status, body) = self
            .admin("POST", "/clock/advance", Some(json!({"by": "1h"})))
            .await?;
        assert_eq!(status, 200, "{body:#}");
        assert!(
            !body["ticks"].as_array().is_none_or(Vec::is_empty),
            "no settlement batch ran: {body:#}"
        );
        Ok(())
    }

    pub async fn shutdown(self) {
        self.platform.shutdown().await;
        self.bank.shutdown().await;
    }
}

pub async fn read(response: reqwest::Response) -> TestResult<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?
    };
    Ok((status, body))
}

/// Polls `check` every 100 ms until it returns `Some`, or fails after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> TestResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = TestResult<Option<T>>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {timeout:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
