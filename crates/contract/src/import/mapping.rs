//! The mapping file: what an OpenAPI document cannot say about a bank API (which operation
//! creates a payment, which field is the amount, which wire value is which status). YAML,
//! unknown keys refused.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::manifest::{AmountFormat, Auth, Idempotency};

/// A mapping file (`docs/FORMAT.md`, "Importing OpenAPI").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Mapping {
    /// The manifest's title (default: the document's `info.title` and `info.version`).
    #[serde(default)]
    pub(crate) title: Option<String>,
    /// The engine's operations → an `operationId` or `METHOD /path`.
    #[serde(default)]
    pub(crate) operations: Operations,
    /// Where the payment request's fields are.
    #[serde(default)]
    pub(crate) payment_request: RequestFields,
    /// Canonical status → wire value.
    #[serde(default)]
    pub(crate) statuses: BTreeMap<String, String>,
    /// How clients authenticate (default: from the document's `securitySchemes`).
    #[serde(default)]
    pub(crate) auth: Option<Auth>,
    /// Payment id prefix (default: from the `pattern` of the payment's id).
    #[serde(default)]
    pub(crate) id_prefix: Option<String>,
    /// Whether creates need an `Idempotency-Key` (default: from the create operation's
    /// header parameters).
    #[serde(default)]
    pub(crate) idempotency: Option<Idempotency>,
    /// `Content-Type` of error bodies (default: the error response's media type).
    #[serde(default)]
    pub(crate) error_content_type: Option<String>,
    /// Per template (`payment`, `error`, `list`, `token`, `oauth_error`, `event`): a JSON
    /// pointer into the body → what the engine puts there.
    #[serde(default)]
    pub(crate) templates: BTreeMap<String, BTreeMap<String, Slot>>,
    /// The status-change webhooks: which of the document's `webhooks:` is the event, and
    /// what OpenAPI does not say about them (where a platform registers).
    #[serde(default)]
    pub(crate) webhooks: Option<WebhooksMapping>,
}

/// What the manifest's `webhooks` section needs beyond the document's `webhooks:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhooksMapping {
    /// The name of the document's webhook that is the status-change event
    /// (`paymentStatusChanged`).
    #[serde(default)]
    pub(crate) event: Option<String>,
    /// The registration route, `/v4/webhooks` (OpenAPI describes what the bank sends, not
    /// how a platform subscribes).
    #[serde(default)]
    pub(crate) registration: Option<String>,
    /// The header carrying the signature (default: the one required header parameter of
    /// the webhook's operation).
    #[serde(default)]
    pub(crate) signature_header: Option<String>,
}

/// The four operations the engine knows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Operations {
    #[serde(default)]
    pub(crate) create_payment: Option<String>,
    #[serde(default)]
    pub(crate) get_payment: Option<String>,
    #[serde(default)]
    pub(crate) list_payments: Option<String>,
    #[serde(default)]
    pub(crate) issue_token: Option<String>,
}

/// A field of the payment request: a JSON pointer, or one with the amount's format.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum FieldRef {
    Pointer(String),
    Full {
        pointer: String,
        #[serde(default)]
        format: Option<AmountFormat>,
    },
}

impl FieldRef {
    pub(crate) fn pointer(&self) -> &str {
        match self {
            Self::Pointer(p) | Self::Full { pointer: p, .. } => p,
        }
    }

    pub(crate) fn format(&self) -> Option<AmountFormat> {
        match self {
            Self::Pointer(_) => None,
            Self::Full { format, .. } => *format,
        }
    }
}

/// The payment request's fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestFields {
    #[serde(default)]
    pub(crate) amount: Option<FieldRef>,
    #[serde(default)]
    pub(crate) currency: Option<FieldRef>,
    #[serde(default)]
    pub(crate) creditor: Option<FieldRef>,
    #[serde(default)]
    pub(crate) debtor: Option<FieldRef>,
    #[serde(default)]
    pub(crate) reference: Option<FieldRef>,
}

/// What goes at one place of a response template.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Slot {
    /// `status_history` (a placeholder the engine fills), or a text with placeholders in
    /// it, `https://bank.example/problems/{{code}}`.
    Text(String),
    /// `{const: "payments"}`: this value, as written; `{omit: true}`: left out.
    Literal(LiteralSlot),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LiteralSlot {
    #[serde(default, rename = "const")]
    pub(crate) value: Option<Value>,
    #[serde(default)]
    pub(crate) omit: bool,
}

impl Mapping {
    /// Parses a mapping file's text (`name` is how errors name it).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }
}
