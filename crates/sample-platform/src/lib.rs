//! A small reference FinTech platform: the system under test of `rehearse`. It takes payments
//! over HTTP, submits them to the bank's API (v1, v2, v3 or v4, over HTTP with reqwest, like any
//! real platform: it imports no `rehearse` crate), keeps them in memory, and learns their final
//! status with a cron job, the **status poller**, that asks the bank about every payment still
//! open. Written the way a real service is, including the ways it can be misconfigured: a
//! missing credential does not stop it from starting; `/readyz` says what is wrong.
//!
//! # Running it
//!
//! ```text
//! BANK_BASE_URL=http://127.0.0.1:8081 BANK_API_KEY=test-api-key PORT=8080 sample-platform
//! ```
//!
//! In-process (what the embedded local stack does):
//!
//! ```no_run
//! # async fn demo() -> Result<(), rehearse_sample_platform::Error> {
//! use rehearse_sample_platform::{BankApiVersion, Config, start};
//!
//! let platform = start(Config {
//!     bank_base_url: Some("http://127.0.0.1:8081".into()),
//!     bank_api_key: Some("test-api-key".into()),
//!     bank_api_version: BankApiVersion::V2,
//!     ..Config::default()
//! })
//! .await?;
//! println!("platform at {}", platform.base_url());
//! platform.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Configuration (environment variables, [`Config::from_env`])
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BANK_BASE_URL` | the bank's API root | none (payments answer 502) |
//! | `BANK_API_KEY` | API key, bank API v1 and v2 | none |
//! | `BANK_CLIENT_ID`, `BANK_CLIENT_SECRET` | OAuth client credentials, bank API v3 | none |
//! | `BANK_API_VERSION` | `v1`, `v2` or `v3` | `v2` |
//! | `POLL_SCHEDULE` | the poller's 6-field cron (seconds first) | `0 */5 * * * *` |
//! | `PORT` | TCP port; 0 picks a free one | 0 |
//! | `DISABLE_POLLER` | do not schedule the poller (`true`/`false`) | false |
//! | `PLATFORM_VERSION`, `PLATFORM_COMMIT` | shown by `/version` | crate version, none |
//! | `BIND_ADDRESS` | address to bind | 127.0.0.1 |
//! | `BANK_TIMEOUT` | timeout of one bank call (`10s`, `500ms`) | 10s |
//! | `BANK_WEBHOOK_SECRET` | the secret the bank signs its webhooks with | none (webhooks refused, 401) |
//! | `BANK_WEBHOOK_URL` | this platform's public URL of `POST /webhooks/bank`: registered with the bank at start | none (not registered) |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | OTLP/HTTP base URL (`/v1/traces` is appended; `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is taken as it is): a server span per request, a client span per bank call, as OTLP/JSON. The `traceparent` of a request is passed on to the bank calls it makes, with or without it | none (no span sent) |
//!
//! Malformed values (a bad cron, an unknown version) are an error at start-up.
//!
//! # The API
//!
//! - `POST /payments` with `{"amount": "25000.00", "currency": "EUR", "beneficiary": {"name",
//!   "iban", "bic"}, "reference": "INV-1"}` (the beneficiary may also be the JSON text of that
//!   object; `reference` is optional, at most 35 characters) → **201** with the payment:
//!   `{"id": "pmt_…", "status", "amount", "currency", "beneficiary", "reference",
//!   "bank_reference": "pay_…"|null, "bank_status": "<the bank's raw status>"|null, "reason":
//!   null|"…", "submission_attempts", "last_bank_error", "created_at", "updated_at", "history":
//!   [{"status", "bank_status", "at"}]}`. Invalid body → 400 `{"error", "fields": {"amount":
//!   "…"}}`. Missing credentials or base URL → 502 `{"error": "bank credentials are not
//!   configured (BANK_API_KEY)", "missing": [...], "hint"}`, nothing stored; the bank refusing
//!   the credentials (401) → 502 naming it. An `Idempotency-Key` header replays the payment
//!   created with that key (same body) or answers 409 (another body).
//! - `GET /payments/{id}` (404 `{"error"}` when unknown), `DELETE /payments/{id}` (204, 404),
//!   `GET /payments` → `{"payments": [...]}` oldest first.
//! - `GET /healthz` → `{"status": "ok"}`.
//! - `GET /readyz` → 200 or 503 with `{"status": "ready"|"not_ready", "checks":
//!   {"bank_credentials": "ok"|"missing", "bank_reachable": "ok"|"unauthorized"|"unreachable:
//!   …", "status_poller": "ok"|"disabled"|"not_registered"}, "details": {"<check>": "what is
//!   wrong and what to set"}}`. The bank check is an authenticated GET of an id that cannot
//!   exist (404 = credentials accepted; v3 first gets a token) and is cached for 2 s.
//!   `/readyz` also carries `"webhooks": {"configured", "received", "applied", "duplicates",
//!   "stale", "unknown_payment", "rejected_signatures", "malformed"}` (counters since start;
//!   they never make it not ready).
//! - `POST /webhooks/bank`: the bank's status-change events (see `webhooks.rs`). 401 for a
//!   bad or missing `Bank-Signature` (counted, and logged as a warning), 400 for a body that
//!   is no event, 202 for a payment the platform does not know, else 200 `{"outcome":
//!   "applied"|"duplicate"|"stale", "payment"}`. A payment's JSON shows `"webhooks":
//!   {"applied", "duplicates", "stale", "last_sequence"}`.
//! - `GET /version` → `{"version", "commit", "bank_api_version"}`.
//! - `GET /internal/jobs` → `{"jobs": [job]}`; `GET /internal/jobs/bank-status-poller` → `{"name",
//!   "schedule", "registered", "running", "last_run", "last_run_finished", "last_outcome",
//!   "last_success", "next_run", "last_error", "runs", "recent_runs": [{"trigger", "started_at",
//!   "finished_at", "outcome", "error", "summary"}]}` (RFC 3339 times of the platform's own
//!   clock; `last_error` is the error of the last run, null once a run succeeds).
//!   `POST /internal/jobs/bank-status-poller/run` runs it now and answers the job when the run
//!   finished (a scheduled run in progress is waited for: one run at a time); 409 when the job
//!   is not registered (`DISABLE_POLLER`), 404 for an unknown job.
//!
//! # Statuses
//!
//! The platform's statuses are the same whatever the bank's version: `pending_submission` (the
//! bank was unreachable, answered 5xx or 429: the payment is kept and the poller resubmits it
//! on its next run with the same `Idempotency-Key`), `pending`, `pending_review`, `accepted`,
//! then the final `settled`, `rejected` (with `reason`) or `failed` (the bank refused the
//! request with another 4xx; `reason` carries its error).
//!
//! # The status poller
//!
//! A tokio-cron-scheduler job named [`POLLER_JOB`] on `POLL_SCHEDULE`. Each run (a) resubmits
//! `pending_submission` payments and (b) asks the bank about every `pending`,
//! `pending_review` and `accepted` payment and records what changed. A bank error for a payment
//! becomes the run's `last_error` and the payment is tried again on the next run. A scheduled
//! tick that finds a run in progress is skipped.

mod bank;
mod config;
mod error;
mod http;
mod jobs;
mod payment;
mod server;
mod state;
mod telemetry;
mod webhooks;

pub use config::{
    BankApiVersion, Config, ConfigError, DEFAULT_BANK_TIMEOUT, DEFAULT_POLL_SCHEDULE,
};
pub use error::Error;
pub use http::app;
pub use jobs::POLLER_JOB;
pub use payment::PaymentStatus;
pub use server::{RunningPlatform, shutdown_signal, start};
pub use state::AppState;
