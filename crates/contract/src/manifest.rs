//! `manifest.json`: what a version folder says about its API. One serde type per part,
//! unknown fields refused, so a misspelt key is an error naming it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a version authenticates its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// `Authorization: Bearer <API key>`.
    ApiKey,
    /// `Bearer <token>` from `POST /oauth/token` (client credentials, form or Basic).
    OauthClientCredentials,
}

/// Whether creating a payment needs an `Idempotency-Key` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Idempotency {
    /// No key.
    None,
    /// The header is required; a replay returns the first answer.
    Required,
}

/// What a route does, in the mock's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Create a payment.
    CreatePayment,
    /// One payment by id.
    GetPayment,
    /// A page of payments.
    ListPayments,
    /// An OAuth access token.
    IssueToken,
}

/// How an amount is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountFormat {
    /// An integer of minor units (cents).
    MinorUnits,
    /// A decimal string, `"25000.00"`.
    DecimalString,
}

/// Where a field of the payment request is (a JSON pointer) and how it is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// JSON pointer into the request body, `/amount/value`.
    pub pointer: String,
    /// For the amount: its format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AmountFormat>,
}

/// The fields of a payment request the engine reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// The amount (with `format`).
    pub amount: Field,
    /// The ISO 4217 currency.
    pub currency: Field,
    /// Who is paid.
    pub creditor: Field,
    /// Who pays.
    pub debtor: Field,
    /// The payer's reference.
    pub reference: Field,
}

/// One route of the API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// `GET`, `POST`…
    pub method: String,
    /// `/v3/transfers/{id}`: literal segments and at most one `{param}` per segment.
    pub path: String,
    /// What it does.
    pub operation: Operation,
    /// JSON Schema of the request body (a file of the folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_schema: Option<String>,
    /// Response schema (a file of the folder) by status code.
    pub responses: BTreeMap<String, String>,
    /// Headers this route refuses to go without (400 naming the header), besides the
    /// version's `required_headers` and `Idempotency-Key` (see `idempotency`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_headers: Vec<String>,
}

/// A version folder's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The folder's name, `v3`.
    pub version: String,
    /// One line for people.
    pub title: String,
    /// How clients authenticate.
    pub auth: Auth,
    /// Prefix of payment ids, `trf_`.
    pub id_prefix: String,
    /// Whether creates need an `Idempotency-Key`.
    pub idempotency: Idempotency,
    /// `Content-Type` of error bodies.
    pub error_content_type: String,
    /// The wire spelling of each canonical status (`received`, `pending_review`,
    /// `accepted`, `rejected`, `settled`).
    pub statuses: BTreeMap<String, String>,
    /// Where the engine finds the request's fields.
    pub payment_request: PaymentRequest,
    /// Response templates (files of the folder) by name: `payment` and `error` at least.
    pub templates: BTreeMap<String, String>,
    /// The routes.
    pub routes: Vec<RouteSpec>,
    /// Headers every route but the token endpoint refuses to go without (400 with the
    /// version's error body naming the header): `["X-Request-Id"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_headers: Vec<String>,
    /// Status-change webhooks, when the version sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Webhooks>,
}

impl Manifest {
    /// The headers `route` requires: the version's, the route's, and `Idempotency-Key` on a
    /// create when the version says so. Names as written, without duplicates (any case).
    pub fn required_headers_of(&self, route: &RouteSpec) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |name: &str| {
            if !out.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                out.push(name.to_owned());
            }
        };
        if route.operation != Operation::IssueToken {
            self.required_headers.iter().for_each(|h| push(h));
        }
        route.required_headers.iter().for_each(|h| push(h));
        if route.operation == Operation::CreatePayment && self.idempotency == Idempotency::Required
        {
            push("Idempotency-Key");
        }
        out
    }
}

/// How a version sends status-change webhooks: where a platform registers, what an event
/// looks like, and which header carries the signature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// The registration route, `/v2/webhooks`: `POST` registers `{"url", "secret"}`, `GET`
    /// lists, `DELETE {registration}/{id}` removes. Authenticated like the version's API.
    pub registration: String,
    /// The event body template (a file of the folder), rendered with `id`, `type`,
    /// `payment_id`, `status` (the wire spelling), `sequence`, `occurred_at`, `reference`
    /// and `reason`.
    pub event_template: String,
    /// JSON Schema of an event body (a file of the folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_schema: Option<String>,
    /// The header with `t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "t.body"))`.
    pub signature_header: String,
}

/// The canonical statuses a manifest must spell.
pub const CANONICAL_STATUSES: [&str; 5] = [
    "received",
    "pending_review",
    "accepted",
    "rejected",
    "settled",
];

/// The templates every version needs.
pub const REQUIRED_TEMPLATES: [&str; 2] = ["payment", "error"];
