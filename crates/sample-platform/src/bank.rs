//! The bank, over HTTP: one client that speaks the configured API version (v1 cents and API
//! key; v2 decimals, API key and `Idempotency-Key`; v3 amount objects, OAuth tokens and
//! `Idempotency-Key`; v4 `instructed_amount` objects, `payment_id`, ISO 20022 status codes,
//! OAuth tokens from `/v4/oauth/token`) and turns its answers into version-independent
//! outcomes.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::config::{BankApiVersion, Config};
use crate::error::Error;
use crate::payment::Payment;

/// The platform's own account, the debtor of every payment.
const DEBTOR_NAME: &str = "Rehearse Demo Corp";
const DEBTOR_IBAN: &str = "DE89370400440532013000";

/// A token is renewed this long before the bank says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// Why a call to the bank did not give an answer the platform can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BankError {
    /// The platform lacks settings (`BANK_BASE_URL`, a credential): nothing was sent.
    NotConfigured(String),
    /// The bank refused the platform's credentials (401, 403, or an OAuth client error).
    Unauthorized(String),
    /// Worth retrying later: unreachable, timeout, 5xx, 429, an unreadable answer.
    Unavailable(String),
    /// The bank refused the request for good (another 4xx): `status` and the bank's message.
    Refused { status: u16, message: String },
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConfigured(m) => write!(f, "bank not configured: {m}"),
            Self::Unauthorized(m) => write!(f, "bank refused the credentials: {m}"),
            Self::Unavailable(m) => write!(f, "bank unavailable: {m}"),
            Self::Refused { message, .. } => write!(f, "bank refused the request: {message}"),
        }
    }
}

/// A payment as the bank reported it, in version-independent terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BankPayment {
    pub(crate) id: String,
    /// The raw status, e.g. `PENDING_REVIEW`, `in_review`.
    pub(crate) status: String,
    /// Why the bank held it for review.
    pub(crate) review_reason: Option<String>,
    /// The reviewer's note, when the bank's API exposes one.
    pub(crate) review_note: Option<String>,
}

impl BankPayment {
    fn from_json(body: &Value) -> Option<Self> {
        let text = |pointer: &str| {
            body.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Some(Self {
            // v4 calls it `payment_id`.
            id: text("/id").or_else(|| text("/payment_id"))?,
            status: text("/status")?,
            review_reason: text("/review/reason"),
            review_note: text("/review/note")
                .or_else(|| text("/review/decision_note"))
                .or_else(|| text("/review/comment")),
        })
    }

    /// Why a rejected payment was rejected, as well as the bank tells.
    pub(crate) fn rejection_reason(&self) -> String {
        match (&self.review_note, &self.review_reason) {
            (Some(note), _) => note.clone(),
            (None, Some(held)) => format!("rejected in the bank's manual review (held: {held})"),
            (None, None) => "rejected by the bank".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    renew_at: Instant,
}

/// The bank client, shared by the HTTP handlers and the poller.
pub(crate) struct BankClient {
    http: reqwest::Client,
    base_url: Option<String>,
    version: BankApiVersion,
    api_key: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    missing: Vec<&'static str>,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

/// Keeps credentials out of `{:?}`.
impl fmt::Debug for BankClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankClient")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("missing", &self.missing)
            .finish_non_exhaustive()
    }
}

impl BankClient {
    pub(crate) fn new(config: &Config) -> Result<Self, Error> {
        let mut http = reqwest::Client::builder()
            .timeout(config.bank_timeout)
            .connect_timeout(config.bank_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!(
                "rehearse-sample-platform/",
                env!("CARGO_PKG_VERSION")
            ));
        if config
            .bank_base_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://"))
        {
            // A bank on plain HTTP (the embedded stack): no TLS roots to trust, so none are
            // read from the system (a few milliseconds per client, three platforms a stack).
            http = http.tls_certs_only(std::iter::empty());
        }
        let http = http.build().map_err(Error::HttpClient)?;
        Ok(Self {
            http,
            base_url: config
                .bank_base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            version: config.bank_api_version,
            api_key: config.bank_api_key.clone(),
            client_id: config.bank_client_id.clone(),
            client_secret: config.bank_client_secret.clone(),
            missing: config.missing_credentials(),
            token: tokio::sync::Mutex::new(None),
        })
    }

    pub(crate) fn version(&self) -> BankApiVersion {
        self.version
    }

    /// The environment variables of missing credentials.
    pub(crate) fn missing_credentials(&self) -> &[&'static str] {
        &self.missing
    }

    /// The environment variables of missing settings: credentials, and `BANK_BASE_URL`.
    pub(crate) fn missing_settings(&self) -> Vec<&'static str> {
        let mut missing = self.missing.clone();
        if self.base_url.is_none() {
            missing.push("BANK_BASE_URL");
        }
        missing
    }

    /// Why nothing can be sent (no base URL, no credentials), if so.
    pub(crate) fn not_configured(&self) -> Option<BankError> {
        if !self.missing.is_empty() {
            return Some(BankError::NotConfigured(format!(
                "bank credentials are not configured ({})",
                self.missing.join(", ")
            )));
        }
        if self.base_url.is_none() {
            return Some(BankError::NotConfigured(
                "the bank's address is not configured (BANK_BASE_URL)".to_owned(),
            ));
        }
        None
    }

    fn base(&self) -> Result<&str, BankError> {
        if let Some(problem) = self.not_configured() {
            return Err(problem);
        }
        self.base_url.as_deref().ok_or_else(|| {
            BankError::NotConfigured("the bank's address is not configured (BANK_BASE_URL)".into())
        })
    }

    fn payments_url(&self, base: &str) -> String {
        match self.version {
            BankApiVersion::V1 => format!("{base}/v1/payments"),
            BankApiVersion::V2 => format!("{base}/v2/payments"),
            BankApiVersion::V3 => format!("{base}/v3/transfers"),
            BankApiVersion::V4 => format!("{base}/v4/payments"),
        }
    }

    /// The OAuth token endpoint (v3, v4).
    fn token_url(&self, base: &str) -> String {
        match self.version {
            BankApiVersion::V4 => format!("{base}/v4/oauth/token"),
            _ => format!("{base}/oauth/token"),
        }
    }

    /// The create body in this version's shape.
    pub(crate) fn create_body(&self, payment: &Payment) -> Value {
        let request = &payment.request;
        let creditor = json!({"name": request.beneficiary.name, "iban": request.beneficiary.iban});
        let debtor = json!({"name": DEBTOR_NAME, "iban": DEBTOR_IBAN});
        match self.version {
            BankApiVersion::V1 => json!({
                "amount_cents": request.amount_minor,
                "currency": request.currency,
                "creditor": creditor,
                "debtor": debtor,
                "reference": payment.reference(),
            }),
            BankApiVersion::V2 => json!({
                "amount": request.amount,
                "currency": request.currency,
                "creditor": creditor,
                "debtor": debtor,
                "reference": payment.reference(),
            }),
            BankApiVersion::V3 => json!({
                "amount": {"value": request.amount, "currency": request.currency},
                "creditor": creditor,
                "debtor": debtor,
                "remittance_information": payment.reference(),
            }),
            BankApiVersion::V4 => json!({
                "instructed_amount": {"amount": request.amount, "currency": request.currency},
                "creditor": creditor,
                "debtor": debtor,
                "remittance_information": payment.reference(),
            }),
        }
    }

    /// Submits a payment (again): the same body and, from v2 on, the same `Idempotency-Key`
    /// every time, so a retry after an ambiguous failure cannot pay twice.
    pub(crate) async fn create(&self, payment: &Payment) -> Result<BankPayment, BankError> {
        let base = self.base()?;
        let url = self.payments_url(base);
        let body = self.create_body(payment);
        let key = payment.idempotency_key.to_string();
        let idempotent = self.version != BankApiVersion::V1;
        let response = self
            .authorized(|http| {
                let request = http.post(&url).json(&body);
                if idempotent {
                    request.header("Idempotency-Key", &key)
                } else {
                    request
                }
            })
            .await?;
        read_payment(response, "create the payment").await
    }

    /// The bank's view of one payment.
    pub(crate) async fn fetch(&self, bank_reference: &str) -> Result<BankPayment, BankError> {
        let base = self.base()?;
        let url = format!("{}/{bank_reference}", self.payments_url(base));
        let response = self.authorized(|http| http.get(&url)).await?;
        read_payment(response, "read the payment").await
    }

    /// Registers this platform's receiver with the bank (`POST {base}/{version}/webhooks`):
    /// the subscription's id.
    pub(crate) async fn register_webhook(
        &self,
        url: &str,
        secret: &str,
    ) -> Result<String, BankError> {
        let base = self.base()?;
        let endpoint = format!("{base}/{}/webhooks", self.version);
        let body = serde_json::json!({"url": url, "secret": secret});
        let response = self
            .authorized(|http| http.post(&endpoint).json(&body))
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(classify(status, response, "register the webhook receiver").await);
        }
        let created: Value = response
            .json()
            .await
            .map_err(|e| BankError::Unavailable(describe(&e)))?;
        Ok(created
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// An authenticated call that changes nothing: a GET of an id that cannot exist. The bank
    /// checks credentials before looking the id up, so 404 means the credentials passed.
    pub(crate) async fn probe(&self) -> Result<(), BankError> {
        let base = self.base()?;
        let url = format!("{}/__readyz", self.payments_url(base));
        let response = self.authorized(|http| http.get(&url)).await?;
        let status = response.status();
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(classify(status, response, "check readiness").await)
    }

    /// A credential-less call, to tell "no credentials" from "no bank" on `/readyz`.
    pub(crate) async fn probe_anonymous(&self) -> Result<StatusCode, BankError> {
        let Some(base) = &self.base_url else {
            return Err(BankError::NotConfigured(
                "the bank's address is not configured (BANK_BASE_URL)".to_owned(),
            ));
        };
        let url = format!("{}/__readyz", self.payments_url(base));
        self.http
            .get(&url)
            .send()
            .await
            .map(|r| r.status())
            .map_err(|e| BankError::Unavailable(describe(&e)))
    }

    /// Sends with the version's credentials; on v3 and v4 a 401 with a cached token (expired, or
    /// revoked by the bank) fetches a new token and tries once more.
    async fn authorized(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, BankError> {
        let send = |bearer: String| {
            let request = build(&self.http).bearer_auth(bearer);
            async move {
                crate::telemetry::send(&self.http, request)
                    .await
                    .map_err(|e| BankError::Unavailable(describe(&e)))
            }
        };
        match self.version {
            BankApiVersion::V1 | BankApiVersion::V2 => {
                let key = self.api_key.clone().unwrap_or_default();
                let response = send(key).await?;
                if response.status() == StatusCode::UNAUTHORIZED {
                    let message = error_message(response).await;
                    return Err(BankError::Unauthorized(format!(
                        "401 for BANK_API_KEY: {message}"
                    )));
                }
                Ok(response)
            }
            BankApiVersion::V3 | BankApiVersion::V4 => {
                let (token, cached) = self.token(false).await?;
                let response = send(token).await?;
                if response.status() != StatusCode::UNAUTHORIZED {
                    return Ok(response);
                }
                if cached {
                    tracing::info!("bank refused the cached access token; fetching a new one");
                    let (token, _) = self.token(true).await?;
                    let response = send(token).await?;
                    if response.status() != StatusCode::UNAUTHORIZED {
                        return Ok(response);
                    }
                    let message = error_message(response).await;
                    return Err(BankError::Unauthorized(format!(
                        "401 with a fresh access token: {message}"
                    )));
                }
                let message = error_message(response).await;
                Err(BankError::Unauthorized(format!(
                    "401 with a fresh access token: {message}"
                )))
            }
        }
    }

    /// An access token (v3, v4): the cached one (`true`) unless `renew`, else a new one from
    /// the token endpoint (client credentials, HTTP Basic).
    async fn token(&self, renew: bool) -> Result<(String, bool), BankError> {
        let mut cache = self.token.lock().await;
        if !renew
            && let Some(cached) = cache.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok((cached.token.clone(), true));
        }
        *cache = None;
        let base = self.base()?;
        let response = self
            .http
            .post(self.token_url(base))
            .basic_auth(
                self.client_id.as_deref().unwrap_or_default(),
                self.client_secret.as_deref(),
            )
            .form(&[("grant_type", "client_credentials")]);
        let response = crate::telemetry::send(&self.http, response)
            .await
            .map_err(|e| {
                BankError::Unavailable(format!("get an access token: {}", describe(&e)))
            })?;
        let status = response.status();
        if matches!(
            status,
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            let message = error_message(response).await;
            return Err(BankError::Unauthorized(format!(
                "the token endpoint refused BANK_CLIENT_ID/BANK_CLIENT_SECRET ({}): {message}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(classify(status, response, "get an access token").await);
        }
        let body: Value = response.json().await.map_err(|e| {
            BankError::Unavailable(format!("get an access token: unreadable answer: {e}"))
        })?;
        let Some(token) = body.get("access_token").and_then(Value::as_str) else {
            return Err(BankError::Unavailable(
                "get an access token: the answer has no access_token".to_owned(),
            ));
        };
        let lifetime = Duration::from_secs(
            body.get("expires_in")
                .and_then(Value::as_u64)
                .unwrap_or(300),
        );
        *cache = Some(CachedToken {
            token: token.to_owned(),
            // Checked: `expires_in` comes from the bank and may be absurd.
            renew_at: {
                let now = Instant::now();
                now.checked_add(lifetime.saturating_sub(TOKEN_MARGIN))
                    .unwrap_or(now)
            },
        });
        tracing::debug!(expires_in = lifetime.as_secs(), "got a bank access token");
        Ok((token.to_owned(), false))
    }
}

async fn read_payment(response: Response, what: &str) -> Result<BankPayment, BankError> {
    let status = response.status();
    if !status.is_success() {
        return Err(classify(status, response, what).await);
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| BankError::Unavailable(format!("{what}: reading the answer: {e}")))?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|body| BankPayment::from_json(&body))
        .ok_or_else(|| {
            BankError::Unavailable(format!(
                "{what}: the bank answered {} with a body that is not a payment: {}",
                status.as_u16(),
                excerpt(&String::from_utf8_lossy(&bytes))
            ))
        })
}

/// A non-success answer, as an error: 401/403 → unauthorized, 408/429/5xx → unavailable
/// (retry), other 4xx → refused for good.
async fn classify(status: StatusCode, response: Response, what: &str) -> BankError {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let message = error_message(response).await;
    let code = status.as_u16();
    match code {
        401 | 403 => BankError::Unauthorized(format!("{code}: {message}")),
        408 | 429 | 500..=599 => BankError::Unavailable(match retry_after {
            Some(after) => format!("{what}: {code}: {message} (Retry-After: {after})"),
            None => format!("{what}: {code}: {message}"),
        }),
        _ => BankError::Refused {
            status: code,
            message: format!("{code}: {message}"),
        },
    }
}

/// The bank's error message, whatever the version's error shape: v1 `{error, message}`, v2
/// `{error: {code, message}}`, v3 problem+json `{title, detail}`, OAuth `{error,
/// error_description}`.
async fn error_message(response: Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return if text.trim().is_empty() {
            "(no body)".to_owned()
        } else {
            excerpt(&text)
        };
    };
    let text_at = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let code = text_at("/error/code")
        .or_else(|| text_at("/error"))
        .or_else(|| text_at("/title"));
    let message = text_at("/error/message")
        .or_else(|| text_at("/message"))
        .or_else(|| text_at("/detail"))
        .or_else(|| text_at("/error_description"));
    match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (None, Some(message)) => message.to_owned(),
        (Some(code), None) => code.to_owned(),
        (None, None) => excerpt(&text),
    }
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    let text = text.trim();
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

/// A transport error in one line, without the URL's query (no secrets are in URLs, but keep
/// it short).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_reason_prefers_the_reviewers_note() {
        let mut payment = BankPayment {
            id: "pay_1".into(),
            status: "rejected".into(),
            review_reason: Some("amount 25000.00 EUR is at or above the review threshold".into()),
            review_note: Some("beneficiary failed sanctions screening".into()),
        };
        assert_eq!(
            payment.rejection_reason(),
            "beneficiary failed sanctions screening"
        );
        payment.review_note = None;
        assert_eq!(
            payment.rejection_reason(),
            "rejected in the bank's manual review (held: amount 25000.00 EUR is at or above the review threshold)"
        );
    }

    #[test]
    fn payments_of_every_version_are_read() {
        let v1 = json!({"id": "pay_1", "status": "PENDING_REVIEW", "amount_cents": 100});
        let v3 =
            json!({"id": "trf_1", "status": "declined", "review": {"reason": "big", "note": "no"}});
        assert_eq!(
            BankPayment::from_json(&v1).unwrap().status,
            "PENDING_REVIEW"
        );
        let v3 = BankPayment::from_json(&v3).unwrap();
        assert_eq!(v3.review_reason.as_deref(), Some("big"));
        assert_eq!(v3.review_note.as_deref(), Some("no"));
        let v4 = json!({"payment_id": "pmt_1", "status": "PDNG", "review": {"reason": "big"}});
        let v4 = BankPayment::from_json(&v4).unwrap();
        assert_eq!((v4.id.as_str(), v4.status.as_str()), ("pmt_1", "PDNG"));
        assert_eq!(BankPayment::from_json(&json!({"id": "x"})), None);
    }
}
