//! The evolving bank API, mocked: one stateful engine on [wiremock] serving the bank's API
//! versions (`v1`–`v4`, described as data in `fixtures/bank-api/vN/`), its manual
//! review queue and settlement batches on simulated time ([`rehearse_status_sim`]), and a
//! back-office admin API to drive it all from a scenario.
//!
//! ```
//! use rehearse_bank_mock::{ApiVersion, BankMock};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), rehearse_bank_mock::Error> {
//! let bank = BankMock::builder()
//!     .versions([ApiVersion::V1, ApiVersion::V2, ApiVersion::V3])
//!     .api_key("test-api-key")
//!     .review_threshold("10000.00")
//!     .start()
//!     .await?;
//! println!("bank at {}, back office at {}", bank.base_url(), bank.admin_url());
//! bank.clock().advance(std::time::Duration::from_secs(4 * 3600)); // runs 4 settlement batches
//! bank.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The versions
//!
//! | | v1 | v2 | v3 | v4 |
//! |---|---|---|---|---|
//! | create | `POST /v1/payments` | `POST /v2/payments` | `POST /v3/transfers` | `POST /v4/payments` |
//! | status | `GET /v1/payments/{id}` | `GET /v2/payments/{id}` | `GET /v3/transfers/{id}`, list `GET /v3/transfers?limit=&cursor=` | `GET /v4/payments/{paymentId}`, list `GET /v4/payments?limit=&cursor=` |
//! | amount | `amount_cents` (integer) | `amount` (decimal string) + `currency` | `amount: {value, currency}` | `instructed_amount: {amount, currency}` |
//! | statuses | `RECEIVED` `PENDING_REVIEW` `ACCEPTED` `REJECTED` `SETTLED` | the same, lowercase | `submitted` `in_review` `approved` `declined` `completed` | ISO 20022: `RCVD` `PDNG` `ACSP` `RJCT` `ACSC` |
//! | auth | `Authorization: Bearer <API key>` | the same | `Bearer <token>` from `POST /oauth/token` (client credentials, form or Basic) | the same, from `POST /v4/oauth/token` |
//! | extras | | `Idempotency-Key` required; `review` object; `status_history` | `Idempotency-Key` required; `remittance_information`; errors are `application/problem+json` | like v3; the id is `payment_id` (`pmt_…`); made from `fixtures/openapi/bank-v4.yaml` by `rehearse contract import` |
//!
//! Every version: missing or wrong credentials → 401 with the version's error body; a body
//! that breaks the version's schema → 422 listing the fields; an unknown id → 404. From v2
//! on a replayed `Idempotency-Key` with the same body returns the first response (header
//! `idempotent-replayed: true`); with another body, 409. Payments at or above the review
//! threshold wait for review; accepted payments settle at the next batch (hourly by default).
//!
//! # Back-office admin API (`{base}/__admin`)
//!
//! The payment id is the bank reference the create call returned (`pay_…`, `trf_…`). Errors
//! are `{"error": "<message>"}` with 400 (bad body), 404 (unknown id) or 409 (wrong state).
//!
//! - `GET /__admin` → `{"versions", "review_threshold", "settlement_cron", "now", "payments",
//!   "requests_served", "mock_recycles"}`.
//! - `GET /__admin/reviews` → `{"reviews": [{"payment_id", "version", "amount": "25000.00",
//!   "currency", "reason", "submitted_at", "auto_decide_at"}]}` (oldest first).
//! - `POST /__admin/reviews/{payment_id}/decision` with `{"decision": "approve"|"reject",
//!   "note": "…"}` → `{"payment_id", "decision", "status": "accepted"|"rejected",
//!   "decided_at", "next_settlement"}`.
//! - `GET /__admin/payments/{payment_id}` → the bank's view: `{"id", "seq", "amount_minor",
//!   "currency", "status", "history": [{"status", "at"}], "review", "details"}`.
//! - `GET /__admin/clock` → `{"now", "start", "next_settlement"}`.
//! - `POST /__admin/clock/advance` with `{"by": "4h"}` (humantime: `90s`, `30m`, `1day`) and
//!   `POST /__admin/clock/set` with `{"to": "2025-01-06T15:00:00Z"}` → `{"from", "now",
//!   "ticks": [{"job": "settlement batch", "at"}], "next_settlement"}`. Setting backwards runs
//!   nothing.
//! - `POST /__admin/faults` with `{"kind": "latency"|"error"|"rate_limit"|"reset"|"malformed",
//!   "route": "/v2/payments*", "version": "v2", "method": "POST", "count": 2, "delay": "2s",
//!   "status": 503, "retry_after": "30s", "ttl": "2m", "where": {"body.reference": "…"}}` →
//!   201 with the armed fault, its `"id"`, its `"ttl"` and `"expires_in"`. All fields but
//!   `kind` are optional: `route` is a glob (`*` matches anything), absent scope means every
//!   bank route, absent `count` means until deleted or expired; `where` takes the journal's
//!   conditions below (`body.FIELD`, `header.NAME`), so a scenario on a shared bank fails only
//!   its own payment. `ttl` (default `5m`, at most 7 days) is wall-clock time: the fault
//!   disarms itself then, whatever the bank's clock does, so a run killed before its cleanup
//!   leaves no fault behind. `latency` needs `delay` and
//!   stacks on other faults; `error` answers `status` (default 500) with the version's error
//!   body; `rate_limit` answers 429 with `Retry-After` in seconds (default 1); `reset` closes
//!   the connection without an answer; `malformed` processes the request and then sends half
//!   of the JSON body. `error`, `rate_limit` and `reset` do not process the request.
//!   `GET /__admin/faults` → `{"faults": [...]}` (the live ones, `expires_in` as of now);
//!   `DELETE /__admin/faults` (all) and `DELETE /__admin/faults/{id}` → 204 (404 when it is
//!   spent or expired).
//! - `GET /__admin/journal?path=/v2/payments*&method=POST&body.reference=INV-1&limit=100` →
//!   `{"total", "entries": [{"seq", "at" (bank time), "method", "path", "query", "version",
//!   "headers", "body", "status", "fault"}]}`: the newest `limit` (default 1,000) entries that
//!   match every filter, oldest first; `total` counts every request ever journaled.
//!   Filters: `path` (exact unless it has a `*`), `method`, and any number of conditions
//!   `header.NAME=VALUE` (e.g. `header.x-rehearse-run=r-…`; the name in any case) and
//!   `body.FIELD=VALUE` (a dotted path into the JSON or form body: `body.reference`,
//!   `body.amount.value`, `body.items.0.name`), whose value is exact unless it has a `*`;
//!   numbers and booleans compare by their JSON text (`body.amount_cents=12000`). An unknown
//!   parameter is a 400, so a misspelt filter never returns everything. Credentials are
//!   masked (`Bearer ****-key`: scheme and last 4 characters), as are body fields named like
//!   secrets, and filters see only the masked values. The journal keeps the last 5,000
//!   requests by default; admin calls are not in it. A scenario finds its own entries on a
//!   shared, long-lived bank by a value only it sent (its payment's reference), not by an
//!   amount that every run sends.
//! - Webhook faults, on the same `POST /__admin/faults` with the same `count`, `ttl`,
//!   `version` and `where` (but no `route`, `method` or `status`; `where` sees the event:
//!   `body.payment_id`, `body.reference`, `body.status`, `body.sequence`, `body.type`):
//!   `webhook_duplicate` (delivered twice, same event id), `webhook_out_of_order` (held, and
//!   delivered right after the payment's next event), `webhook_delayed` (`delay` of bank time
//!   late; `delay` required), `webhook_dropped` (never delivered) and `webhook_bad_signature`
//!   (the first attempt signed with a wrong secret).
//! - `GET /__admin/webhooks?payment_id=&event_id=&limit=` → `{"subscriptions": [{"id",
//!   "version", "url", "created_at", "origin": "api"|"config"}], "total", "pending", "held",
//!   "deliveries": [{"seq", "event_id", "subscription", "url", "payment_id", "status",
//!   "sequence", "attempt", "at" (bank time), "status_code" (null: no answer, or not sent),
//!   "outcome": "delivered"|"failed"|"given_up"|"dropped", "error", "next_attempt_at",
//!   "fault"}]}`: the newest `limit` (default 1,000) attempts, oldest first.
//! - `POST /__admin/reset` → 204: forgets payments, keys, tokens, faults, the journal and
//!   webhook deliveries (not webhook subscriptions), and puts the clock back to its start.
//!
//! # Webhooks
//!
//! A version whose manifest has a `webhooks` section (v2, v3) sends one event per status
//! change of a payment to every subscription of that version. A platform subscribes with
//! `POST {registration}` (`/v2/webhooks`) and `{"url", "secret"}`, authenticated like the
//! version → 201 `{"id": "wh_1", "url", "created_at"}`; `GET {registration}` lists, `DELETE
//! {registration}/{id}` removes; [`BankMockBuilder::webhook`], [`RunningBank::add_webhook`]
//! and `rehearse mock-bank --webhook-url URL --webhook-secret-env NAME` subscribe from the
//! outside. The body is the version's event template rendered with `id` (`evt_…`), `type`,
//! `payment_id`, `status` (wire spelling), `sequence` (1, 2, … per payment), `occurred_at`
//! (bank time), `reference` and `reason`; the signature header (`Bank-Signature`) is
//! `t=UNIX,v1=HEX`, HEX the HMAC-SHA256 of `UNIX.BODY` keyed with the secret ([`sign`]).
//! A non-2xx answer or no answer within 5 s is retried 10 s, 1 min, 5 min and 30 min later
//! **in bank time**, then given up. Deliveries and retries are due on the bank clock: on a
//! manual clock they go out when it reaches them, and the admin API's `clock/advance`,
//! `clock/set` and review decisions answer only after the due ones were sent (at most
//! 10 s); [`RunningBank::deliver_webhooks`] does the same in-process.
//!
//! # Recording a version (`rehearse mock-bank record`)
//!
//! [`record_until`] runs a recording proxy in front of a real bank: it forwards every
//! request unchanged and, when saved (`POST /__record/save`) or stopped, writes the version
//! folder the traffic makes (`rehearse_contract::Recording`), which `--versions` serves.
//!
//! # Long-lived use
//!
//! wiremock 0.6.5 keeps a clone of every request a mounted mock matches (even with request
//! recording disabled), so a busy mock grows without bound. Here each server's mocks are
//! re-registered every `recycle_after` requests (default 250) without refusing or cutting a
//! request: see the notes on the recycler in `server.rs`. The journal, the payments (10,000, oldest
//! forgotten first) and the idempotency keys are bounded too. Several wiremock servers (one per core) accept
//! from duplicates of one listening socket, so both cores serve.

mod admin;
mod cli;
mod contract;
mod engine;
mod error;
mod faults;
mod filter;
mod ids;
mod journal;
mod money;
mod payment_view;
mod record;
mod server;
mod template;
mod webhooks;

pub use cli::{AutoDecideArg, MockBankArgs, serve_until, serve_until_ctrl_c, write_banner};
pub use contract::{ApiVersion, Catalog, fixture};
pub use error::Error;
pub use record::{MockBankCommand, RecordArgs, RecordFailure, RecordFailureKind, record_until};
pub use rehearse_contract::{Auth, FolderError, Origin, VersionFolder};
pub use rehearse_status_sim::{AutoDecide, Decision, Payment, PaymentStatus, VirtualClock};
pub use server::{
    BankMock, BankMockBuilder, ClockMode, Credentials, DEFAULT_API_KEY, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_REVIEW_THRESHOLD, DEFAULT_SEED, RunningBank,
};
pub use webhooks::{SIGNATURE_SCHEME, sign};
