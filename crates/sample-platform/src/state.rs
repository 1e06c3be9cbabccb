//! The platform's shared state and its business logic: submitting payments, applying what the
//! bank says, the status poller's run, and the readiness checks.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::bank::{BankClient, BankError, BankPayment};
use crate::config::Config;
use crate::error::Error;
use crate::jobs::{JobRecord, POLLER_JOB, RunReport, Scheduled, Trigger};
use crate::payment::{Payment, PaymentStatus, Store, lock};
use crate::webhooks::{Counters, Event, SeenIds, rank, verify};

/// How long a bank check answers `/readyz` from its cache.
const READINESS_TTL: Duration = Duration::from_secs(2);

/// How many bank calls one poller run makes at once.
const POLL_CONCURRENCY: usize = 4;

/// The state behind the HTTP API: configuration, the bank client, the payments and the jobs.
/// Cheap to clone. Build one with [`AppState::new`] and serve it with [`app`](crate::app);
/// [`start`](crate::start) does both and also schedules the status poller.
#[derive(Clone, Debug)]
pub struct AppState(pub(crate) Arc<Shared>);

impl AppState {
    /// Checks the configuration and builds the bank client. Missing credentials are not an
    /// error: payments then answer 502 and `/readyz` says what is missing.
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let bank = BankClient::new(&config)?;
        let poller = JobRecord::new(POLLER_JOB, config.poll_schedule.clone());
        Ok(Self(Arc::new(Shared {
            bank,
            store: Store::default(),
            poller,
            readiness: Mutex::new(None),
            scheduled: Mutex::new(None),
            webhook_counters: Counters::default(),
            webhook_ids: SeenIds::default(),
            webhook_registration: Mutex::new(None),
            telemetry: crate::telemetry::Telemetry::start(
                config.otlp_endpoint.as_deref(),
                format!("sample-platform-{}", config.bank_api_version),
            ),
            config,
        })))
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.0.config
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BankCheck {
    /// `ok`, `unauthorized` or `unreachable: …`.
    pub(crate) value: String,
    /// A sentence for a human, when not ok.
    pub(crate) detail: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) bank: BankClient,
    pub(crate) store: Store,
    pub(crate) poller: JobRecord,
    readiness: Mutex<Option<(Instant, BankCheck)>>,
    pub(crate) scheduled: Mutex<Option<Scheduled>>,
    pub(crate) webhook_counters: Counters,
    webhook_ids: SeenIds,
    /// How the registration with the bank at start went (`BANK_WEBHOOK_URL`).
    pub(crate) webhook_registration: Mutex<Option<Result<String, String>>>,
    /// Trace context and span export (`OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub(crate) telemetry: crate::telemetry::Telemetry,
}

/// What `POST /webhooks/bank` answers: a status and a body.
pub(crate) struct WebhookAnswer {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl WebhookAnswer {
    fn new(status: u16, body: Value) -> Self {
        Self { status, body }
    }
}

/// Why `POST /payments` could not take a payment in (nothing stored).
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Missing base URL or credentials.
    NotConfigured(String),
    /// The bank refused the platform's credentials.
    Unauthorized(String),
}

/// Applies the bank's view of a payment; `Err` for a status the platform does not know.
fn apply_bank_payment(
    payment: &mut Payment,
    bank: &BankPayment,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let Some(status) = PaymentStatus::from_bank(&bank.status) else {
        return Err(format!(
            "the bank reported status `{}` for {}, which the platform does not know",
            bank.status, bank.id
        ));
    };
    if status == PaymentStatus::Rejected && payment.reason.is_none() {
        payment.reason = Some(bank.rejection_reason());
    }
    payment.set_status(status, Some(bank.status.clone()), now);
    Ok(())
}

/// Applies the outcome of one submission attempt.
fn apply_submission(
    payment: &mut Payment,
    result: &Result<BankPayment, BankError>,
    now: DateTime<Utc>,
) -> Result<(), String> {
    payment.submission_attempts += 1;
    match result {
        Ok(bank) => {
            payment.bank_reference = Some(bank.id.clone());
            payment.last_bank_error = None;
            apply_bank_payment(payment, bank, now).inspect_err(|e| {
                payment.last_bank_error = Some(e.clone());
            })
        }
        Err(BankError::Refused { message, .. }) => {
            payment.reason = Some(format!("the bank refused the payment: {message}"));
            payment.last_bank_error = Some(message.clone());
            payment.set_status(PaymentStatus::Failed, None, now);
            Ok(())
        }
        Err(error) => {
            payment.last_bank_error = Some(error.to_string());
            if payment.history.is_empty() {
                payment.set_status(PaymentStatus::PendingSubmission, None, now);
            }
            Err(error.to_string())
        }
    }
}

impl Shared {
    /// `POST /payments` after validation: submits to the bank and stores the payment. The
    /// caller's `Idempotency-Key` (if any) was claimed before and is bound to the payment here.
    pub(crate) async fn create_payment(
        &self,
        request: crate::payment::NewPayment,
        client_key: Option<&str>,
    ) -> Result<Payment, Refusal> {
        if let Some(BankError::NotConfigured(message)) = self.bank.not_configured() {
            return Err(Refusal::NotConfigured(message));
        }
        let mut payment = Payment::new(request, Utc::now());
        let result = self.bank.create(&payment).await;
        match &result {
            Err(BankError::Unauthorized(message)) => {
                tracing::warn!(payment = %payment.id, "bank refused the platform's credentials: {message}");
                return Err(Refusal::Unauthorized(message.clone()));
            }
            Err(BankError::NotConfigured(message)) => {
                return Err(Refusal::NotConfigured(message.clone()));
            }
            _ => {}
        }
        if let Err(problem) = apply_submission(&mut payment, &result, Utc::now()) {
            tracing::warn!(payment = %payment.id, "payment kept for resubmission: {problem}");
        }
        let payment = self.store.insert(payment, client_key);
        tracing::info!(
            payment = %payment.id,
            status = %payment.status,
            bank_reference = payment.bank_reference.as_deref().unwrap_or("-"),
            amount = %payment.request.amount,
            currency = %payment.request.currency,
            "payment created"
        );
        Ok(payment)
    }

    /// `POST /webhooks/bank`: verify, ignore duplicates and stale events, apply the rest the
    /// way the poller does (see `webhooks.rs`).
    pub(crate) fn receive_webhook(&self, signature: Option<&str>, body: &[u8]) -> WebhookAnswer {
        let counters = &self.webhook_counters;
        let Some(secret) = self.config.bank_webhook_secret.as_deref() else {
            Counters::bump(&counters.rejected_signatures);
            tracing::warn!(
                "refused a bank webhook: BANK_WEBHOOK_SECRET is not set, so no signature can be checked"
            );
            return WebhookAnswer::new(
                401,
                json!({"error": "webhooks are not configured on this platform: set BANK_WEBHOOK_SECRET"}),
            );
        };
        if !signature.is_some_and(|header| verify(secret, header, body)) {
            Counters::bump(&counters.rejected_signatures);
            let why = if signature.is_some() { "a bad" } else { "no" };
            tracing::warn!("refused a bank webhook with {why} Bank-Signature header");
            return WebhookAnswer::new(
                401,
                json!({"error": format!("refused: {why} signature (Bank-Signature: t=…,v1=HMAC-SHA256 of \"t.body\")")}),
            );
        }
        Counters::bump(&counters.received);
        let event = match Event::parse(body) {
            Ok(event) => event,
            Err(problem) => {
                Counters::bump(&counters.malformed);
                tracing::warn!("refused a bank webhook: {problem}");
                return WebhookAnswer::new(400, json!({"error": problem}));
            }
        };
        let Some(status) = PaymentStatus::from_bank(&event.status) else {
            Counters::bump(&counters.malformed);
            return WebhookAnswer::new(
                400,
                json!({"error": format!("status `{}` is not one the platform knows", event.status)}),
            );
        };
        let fresh = self.webhook_ids.insert(&event.id);
        let Some(payment) = self
            .store
            .select(|p| p.bank_reference.as_deref() == Some(event.bank_reference.as_str()))
            .into_iter()
            .next()
        else {
            // Not one of ours (another platform's, or not stored yet): nothing to do, and a
            // redelivery should be looked at again.
            self.webhook_ids.forget(&event.id);
            Counters::bump(&counters.unknown_payment);
            return WebhookAnswer::new(202, json!({"outcome": "unknown_payment"}));
        };
        let mut outcome = "applied";
        let mut moved = None;
        self.store.update(&payment.id, |stored| {
            if !fresh {
                stored.webhooks.duplicates += 1;
                outcome = "duplicate";
                return;
            }
            let older_sequence = stored
                .webhooks
                .last_sequence
                .is_some_and(|last| event.sequence <= last);
            let earlier = rank(status) < rank(stored.status)
                || (stored.status.is_final() && status != stored.status);
            if older_sequence || earlier {
                stored.webhooks.stale += 1;
                outcome = "stale";
                return;
            }
            let before = stored.status;
            let bank = BankPayment {
                id: event.bank_reference.clone(),
                status: event.status.clone(),
                review_reason: None,
                review_note: event.reason.clone(),
            };
            match apply_bank_payment(stored, &bank, Utc::now()) {
                Ok(()) => {
                    stored.webhooks.applied += 1;
                    stored.webhooks.last_sequence = Some(event.sequence);
                    if stored.status != before {
                        moved = Some((before, stored.status));
                    }
                }
                Err(_) => outcome = "unknown_status",
            }
        });
        match outcome {
            "duplicate" => Counters::bump(&counters.duplicates),
            "stale" => Counters::bump(&counters.stale),
            "applied" => Counters::bump(&counters.applied),
            _ => {}
        }
        if let Some((from, to)) = moved {
            tracing::info!(payment = %payment.id, bank_reference = %event.bank_reference, %from, %to, via = "webhook", event = %event.id, "payment status changed");
        } else {
            tracing::debug!(payment = %payment.id, event = %event.id, outcome, "bank webhook taken");
        }
        WebhookAnswer::new(200, json!({"outcome": outcome, "payment": payment.id}))
    }

    /// Registers `BANK_WEBHOOK_URL` with the bank, when it and the secret are set.
    pub(crate) async fn register_webhook(&self) {
        let (Some(url), Some(secret)) = (
            self.config.bank_webhook_url.as_deref(),
            self.config.bank_webhook_secret.as_deref(),
        ) else {
            return;
        };
        let result = self.bank.register_webhook(url, secret).await;
        match &result {
            Ok(id) => {
                tracing::info!(%url, subscription = %id, "registered the webhook receiver with the bank")
            }
            Err(e) => {
                tracing::warn!(%url, "could not register the webhook receiver with the bank: {e}")
            }
        }
        *lock(&self.webhook_registration) = Some(result.map_err(|e| e.to_string()));
    }

    /// Runs the status poller now (see [`JobRecord::run`] for concurrent runs).
    pub(crate) async fn run_poller(&self, trigger: Trigger) -> bool {
        self.poller.run(trigger, self.poll()).await
    }

    /// One poller run: (a) resubmits payments the bank has not taken yet, (b) asks the bank
    /// about every payment that is not final and records what changed.
    async fn poll(&self) -> RunReport {
        if let Some(problem) = self.bank.not_configured() {
            return RunReport {
                summary: json!({"resubmitted": 0, "checked": 0, "changed": 0, "errors": 1}),
                error: Some(problem.to_string()),
            };
        }
        let mut errors: Vec<String> = Vec::new();
        let waiting = self
            .store
            .select(|p| p.status == PaymentStatus::PendingSubmission);
        let resubmitted = waiting.len();
        let mut submitted = HashSet::new();
        let mut attempts = futures::stream::iter(waiting)
            .map(|payment| async move {
                let result = self.bank.create(&payment).await;
                (payment, result)
            })
            .buffer_unordered(POLL_CONCURRENCY);
        while let Some((payment, result)) = attempts.next().await {
            let mut outcome = Ok(());
            let present = self.store.update(&payment.id, |stored| {
                outcome = apply_submission(stored, &result, Utc::now());
            });
            if !present {
                continue;
            }
            match outcome {
                Ok(()) => {
                    tracing::info!(payment = %payment.id, "payment resubmitted");
                    submitted.insert(payment.id.clone());
                }
                Err(problem) => errors.push(format!("resubmit payment {}: {problem}", payment.id)),
            }
        }
        drop(attempts);

        let open = self.store.select(|p| {
            matches!(
                p.status,
                PaymentStatus::Pending | PaymentStatus::PendingReview | PaymentStatus::Accepted
            ) && p.bank_reference.is_some()
                && !submitted.contains(&p.id)
        });
        let checked = open.len();
        let mut changed = 0usize;
        let mut lookups = futures::stream::iter(open)
            .map(|payment| async move {
                let reference = payment.bank_reference.clone().unwrap_or_default();
                let result = self.bank.fetch(&reference).await;
                (payment, reference, result)
            })
            .buffer_unordered(POLL_CONCURRENCY);
        while let Some((payment, reference, result)) = lookups.next().await {
            match result {
                Ok(bank) => {
                    let mut outcome = Ok(());
                    let mut moved = None;
                    self.store.update(&payment.id, |stored| {
                        let before = stored.status;
                        outcome = apply_bank_payment(stored, &bank, Utc::now());
                        match &outcome {
                            Ok(()) => stored.last_bank_error = None,
                            Err(problem) => stored.last_bank_error = Some(problem.clone()),
                        }
                        if stored.status != before {
                            moved = Some((before, stored.status));
                        }
                    });
                    if let Some((from, to)) = moved {
                        changed += 1;
                        tracing::info!(payment = %payment.id, bank_reference = %reference, %from, %to, "payment status changed");
                    }
                    if let Err(problem) = outcome {
                        errors.push(format!("check payment {}: {problem}", payment.id));
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    self.store.update(&payment.id, |stored| {
                        stored.last_bank_error = Some(message.clone());
                    });
                    errors.push(format!(
                        "check payment {} (bank {reference}): {message}",
                        payment.id
                    ));
                }
            }
        }
        drop(lookups);

        let summary = json!({
            "resubmitted": resubmitted,
            "submitted": submitted.len(),
            "checked": checked,
            "changed": changed,
            "errors": errors.len(),
        });
        let error = match errors.len() {
            0 => None,
            1 => errors.pop(),
            n => Some(format!("{} (and {} more)", errors[0], n - 1)),
        };
        RunReport { summary, error }
    }

    /// The bank part of `/readyz`, cached for [`READINESS_TTL`].
    pub(crate) async fn bank_check(&self) -> BankCheck {
        if let Some((at, check)) = lock(&self.readiness).as_ref()
            && at.elapsed() < READINESS_TTL
        {
            return check.clone();
        }
        let check = self.check_bank().await;
        *lock(&self.readiness) = Some((Instant::now(), check.clone()));
        check
    }

    async fn check_bank(&self) -> BankCheck {
        let unreachable = |message: String| BankCheck {
            value: format!("unreachable: {message}"),
            detail: Some(format!("the platform cannot reach the bank: {message}")),
        };
        let unauthorized = |detail: String| BankCheck {
            value: "unauthorized".to_owned(),
            detail: Some(detail),
        };
        if !self.bank.missing_credentials().is_empty() {
            // No authenticated call is possible; still tell "no bank" from "bank says no".
            return match self.bank.probe_anonymous().await {
                Ok(status) if status.as_u16() == 401 || status.as_u16() == 403 => {
                    unauthorized(format!(
                        "the bank answers but refuses a call without credentials (set {})",
                        self.bank.missing_credentials().join(", ")
                    ))
                }
                Ok(_) => BankCheck {
                    value: "ok".to_owned(),
                    detail: None,
                },
                Err(BankError::NotConfigured(message) | BankError::Unavailable(message)) => {
                    unreachable(message)
                }
                Err(error) => unreachable(error.to_string()),
            };
        }
        match self.bank.probe().await {
            Ok(()) => BankCheck {
                value: "ok".to_owned(),
                detail: None,
            },
            Err(BankError::Unauthorized(message)) => unauthorized(format!(
                "the bank refused the platform's credentials: {message}"
            )),
            Err(BankError::Unavailable(message) | BankError::NotConfigured(message)) => {
                unreachable(message)
            }
            Err(BankError::Refused { message, .. }) => {
                unreachable(format!("unexpected answer to a readiness probe: {message}"))
            }
        }
    }

    /// `GET /readyz`: `(ready, body)`.
    pub(crate) async fn readiness(&self) -> (bool, Value) {
        let mut details = BTreeMap::new();
        let missing = self.bank.missing_credentials();
        let credentials = if missing.is_empty() {
            "ok"
        } else {
            details.insert(
                "bank_credentials",
                format!(
                    "set {} (bank API {} authenticates with {})",
                    missing.join(" and "),
                    self.bank.version(),
                    if self.bank.version().uses_oauth() {
                        "OAuth client credentials"
                    } else {
                        "an API key"
                    }
                ),
            );
            "missing"
        };
        let bank = self.bank_check().await;
        if let Some(detail) = &bank.detail {
            details.insert("bank_reachable", detail.clone());
        }
        let poller = if self.config.disable_poller {
            details.insert(
                "status_poller",
                "DISABLE_POLLER is set: nothing picks up delayed bank statuses".to_owned(),
            );
            "disabled"
        } else if self.poller.is_registered() {
            "ok"
        } else {
            details.insert(
                "status_poller",
                "the status poller is not registered with a running scheduler".to_owned(),
            );
            "not_registered"
        };
        let ready = credentials == "ok" && bank.value == "ok" && poller == "ok";
        let body = json!({
            "status": if ready { "ready" } else { "not_ready" },
            "checks": {
                "bank_credentials": credentials,
                "bank_reachable": bank.value,
                "status_poller": poller,
            },
            "details": details,
            "webhooks": self.webhook_counters.to_json(self.config.bank_webhook_secret.is_some()),
        });
        (ready, body)
    }

    /// A job's JSON by name.
    pub(crate) async fn job_json(&self, name: &str) -> Option<Value> {
        if name != self.poller.name() {
            return None;
        }
        let scheduled = lock(&self.scheduled).clone();
        let next = match scheduled {
            Some(scheduled) => scheduled.next_poll().await,
            None => None,
        };
        Some(self.poller.to_json(next))
    }
}
