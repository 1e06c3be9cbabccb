//! Payments as the platform keeps them: the incoming request and its validation, the
//! normalised status, and the in-memory store.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// How many payments the platform remembers; past that, the oldest final ones are forgotten.
const MAX_PAYMENTS: usize = 100_000;

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A payment's status on the platform, the same whatever bank API version is spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Not yet accepted by the bank (unreachable, 5xx, 429): the poller resubmits it.
    PendingSubmission,
    /// Received by the bank.
    Pending,
    /// Held by the bank for manual review.
    PendingReview,
    /// Accepted by the bank, waiting for a settlement batch.
    Accepted,
    /// Settled (final).
    Settled,
    /// Rejected by the bank's review (final; `reason` says why).
    Rejected,
    /// Refused by the bank's API (final; `reason` carries the bank's error).
    Failed,
}

impl PaymentStatus {
    /// The JSON name, e.g. `pending_review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingSubmission => "pending_submission",
            Self::Pending => "pending",
            Self::PendingReview => "pending_review",
            Self::Accepted => "accepted",
            Self::Settled => "settled",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    /// Settled, rejected and failed payments do not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Settled | Self::Rejected | Self::Failed)
    }

    /// The normalised status of a raw bank status of any version (v1 `SETTLED`, v2 `settled`,
    /// v3 `completed`, v4's ISO 20022 `ACSC`).
    pub(crate) fn from_bank(raw: &str) -> Option<Self> {
        Some(match raw.to_ascii_lowercase().as_str() {
            // ISO 20022 (v4): received, pending, accepted settlement in process, accepted
            // settlement completed, rejected.
            "received" | "submitted" | "rcvd" => Self::Pending,
            "pending_review" | "in_review" | "pdng" => Self::PendingReview,
            "accepted" | "approved" | "acsp" => Self::Accepted,
            "settled" | "completed" | "acsc" => Self::Settled,
            "rejected" | "declined" | "rjct" => Self::Rejected,
            _ => return None,
        })
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Beneficiary {
    pub(crate) name: String,
    pub(crate) iban: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bic: Option<String>,
}

/// A valid `POST /payments` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewPayment {
    /// Normalised to two decimals: `"25000.00"`.
    pub(crate) amount: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) beneficiary: Beneficiary,
    pub(crate) reference: Option<String>,
}

/// Field → problem, for a 400 answer.
pub(crate) type FieldErrors = BTreeMap<String, String>;

/// Parses and validates a `POST /payments` body.
pub(crate) fn parse_new_payment(body: &Value) -> Result<NewPayment, FieldErrors> {
    let mut errors = FieldErrors::new();
    let Some(object) = body.as_object() else {
        errors.insert(
            "(body)".into(),
            "must be a JSON object with amount, currency, beneficiary and reference".into(),
        );
        return Err(errors);
    };
    for key in object.keys() {
        if !matches!(
            key.as_str(),
            "amount" | "currency" | "beneficiary" | "reference"
        ) {
            errors.insert(
                key.clone(),
                "is not a field of a payment (amount, currency, beneficiary, reference)".into(),
            );
        }
    }
    let amount = match object.get("amount") {
        None | Some(Value::Null) => {
            errors.insert("amount".into(), "is required".into());
            None
        }
        Some(Value::String(text)) => match parse_amount(text) {
            Ok(minor) => Some(minor),
            Err(problem) => {
                errors.insert("amount".into(), problem);
                None
            }
        },
        Some(other) => {
            errors.insert(
                "amount".into(),
                format!(
                    "must be a decimal string such as \"25000.00\", not {}",
                    kind(other)
                ),
            );
            None
        }
    };
    let currency = match object.get("currency") {
        None | Some(Value::Null) => {
            errors.insert("currency".into(), "is required".into());
            None
        }
        Some(Value::String(code))
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            Some(code.clone())
        }
        Some(other) => {
            errors.insert(
                "currency".into(),
                format!(
                    "must be an ISO 4217 code of three capital letters such as \"EUR\", not {}",
                    short(other)
                ),
            );
            None
        }
    };
    let beneficiary = parse_beneficiary(object.get("beneficiary"), &mut errors);
    let reference = match object.get("reference") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if !text.trim().is_empty() && text.chars().count() <= 35 => {
            Some(text.clone())
        }
        Some(Value::String(_)) => {
            errors.insert(
                "reference".into(),
                "must be 1 to 35 characters (the bank's limit)".into(),
            );
            None
        }
        Some(other) => {
            errors.insert(
                "reference".into(),
                format!("must be a string, not {}", kind(other)),
            );
            None
        }
    };
    match (amount, currency, beneficiary) {
        (Some(amount_minor), Some(currency), Some(beneficiary)) if errors.is_empty() => {
            Ok(NewPayment {
                amount: format_minor(amount_minor),
                amount_minor,
                currency,
                beneficiary,
                reference,
            })
        }
        _ => Err(errors),
    }
}

fn parse_beneficiary(value: Option<&Value>, errors: &mut FieldErrors) -> Option<Beneficiary> {
    let parsed;
    let object = match value {
        None | Some(Value::Null) => {
            errors.insert(
                "beneficiary".into(),
                "is required: an object {name, iban, bic}".into(),
            );
            return None;
        }
        Some(Value::Object(map)) => map,
        // A templated beneficiary may arrive as the JSON text of the object.
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => {
                parsed = map;
                &parsed
            }
            _ => {
                errors.insert(
                    "beneficiary".into(),
                    "must be an object {name, iban, bic} or its JSON text; a plain string does not say where to pay"
                        .into(),
                );
                return None;
            }
        },
        Some(other) => {
            errors.insert(
                "beneficiary".into(),
                format!("must be an object {{name, iban, bic}}, not {}", kind(other)),
            );
            return None;
        }
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim);
    let name = match text("name") {
        Some(name) if !name.is_empty() && name.chars().count() <= 140 => Some(name.to_owned()),
        Some(_) => {
            errors.insert(
                "beneficiary.name".into(),
                "must be 1 to 140 characters".into(),
            );
            None
        }
        None => {
            errors.insert("beneficiary.name".into(), "is required".into());
            None
        }
    };
    let iban = match text("iban") {
        Some(iban) => {
            let iban: String = iban
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_ascii_uppercase();
            if is_iban(&iban) {
                Some(iban)
            } else {
                errors.insert(
                    "beneficiary.iban".into(),
                    "must be an IBAN: country code, 2 check digits, 10 to 30 letters or digits"
                        .into(),
                );
                None
            }
        }
        None => {
            errors.insert("beneficiary.iban".into(), "is required".into());
            None
        }
    };
    let bic = match object.get("bic") {
        None | Some(Value::Null) => None,
        Some(Value::String(bic)) if is_bic(bic) => Some(bic.clone()),
        Some(_) => {
            errors.insert(
                "beneficiary.bic".into(),
                "must be a BIC: 8 or 11 capital letters or digits".into(),
            );
            None
        }
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "name" | "iban" | "bic") {
            errors.insert(
                format!("beneficiary.{key}"),
                "is not a field of a beneficiary (name, iban, bic)".into(),
            );
        }
    }
    Some(Beneficiary {
        name: name?,
        iban: iban?,
        bic,
    })
}

fn is_iban(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    (14..=34).contains(&bytes.len())
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn is_bic(bic: &str) -> bool {
    (bic.len() == 8 || bic.len() == 11)
        && bic
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn short(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        other => kind(other).to_owned(),
    }
}

/// The largest amount the platform books: what the strictest bank version (v1's
/// `amount_cents`) accepts.
const MAX_MINOR: i64 = 99_999_999_999_999;

/// `"25000"`, `"25000.5"`, `"25000.00"` → minor units. Positive, at most two decimals.
pub(crate) fn parse_amount(text: &str) -> Result<i64, String> {
    let problem = || {
        format!(
            "must be a positive decimal string with at most 2 decimals such as \"25000.00\", not \"{text}\""
        )
    };
    let (units, cents) = match text.split_once('.') {
        Some((units, cents)) => (units, cents),
        None => (text, ""),
    };
    if units.is_empty()
        || units.len() > 12
        || !units.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || (text.contains('.') && cents.is_empty())
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(problem());
    }
    let units: i64 = units.parse().map_err(|_| problem())?;
    let cents: i64 = if cents.is_empty() {
        0
    } else {
        format!("{cents:0<2}").parse().map_err(|_| problem())?
    };
    let minor = units * 100 + cents;
    if minor <= 0 {
        return Err(format!("must be more than zero, not \"{text}\""));
    }
    if minor > MAX_MINOR {
        return Err(format!(
            "must be at most {}, not \"{text}\"",
            format_minor(MAX_MINOR)
        ));
    }
    Ok(minor)
}

pub(crate) fn format_minor(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

/// One status change of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HistoryEntry {
    pub(crate) status: PaymentStatus,
    pub(crate) bank_status: Option<String>,
    pub(crate) at: String,
}

/// A payment as the platform stores it.
#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub(crate) id: String,
    pub(crate) seq: u64,
    pub(crate) request: NewPayment,
    /// Sent as the bank's `Idempotency-Key` (v2, v3) on the first submission and every retry.
    pub(crate) idempotency_key: Uuid,
    pub(crate) status: PaymentStatus,
    pub(crate) bank_reference: Option<String>,
    pub(crate) bank_status: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) submission_attempts: u32,
    pub(crate) last_bank_error: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) history: Vec<HistoryEntry>,
    /// What the bank's webhooks did to it.
    pub(crate) webhooks: WebhookTrail,
}

/// Per payment: the webhook events applied, ignored as duplicates and ignored as stale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct WebhookTrail {
    pub(crate) applied: u32,
    pub(crate) duplicates: u32,
    pub(crate) stale: u32,
    /// The highest `sequence` applied.
    pub(crate) last_sequence: Option<u64>,
}

impl Payment {
    pub(crate) fn new(request: NewPayment, now: DateTime<Utc>) -> Self {
        let uuid = Uuid::new_v4();
        let mut id = uuid.simple().to_string();
        id.truncate(24);
        Self {
            id: format!("pmt_{id}"),
            seq: 0,
            request,
            idempotency_key: Uuid::new_v4(),
            status: PaymentStatus::PendingSubmission,
            bank_reference: None,
            bank_status: None,
            reason: None,
            submission_attempts: 0,
            last_bank_error: None,
            created_at: now,
            updated_at: now,
            history: Vec::new(),
            webhooks: WebhookTrail::default(),
        }
    }

    /// The reference sent to the bank: the caller's, or the platform's id.
    pub(crate) fn reference(&self) -> &str {
        self.request.reference.as_deref().unwrap_or(&self.id)
    }

    /// Moves to `status` (recording it in the history when the status or the bank's raw status
    /// changed).
    pub(crate) fn set_status(
        &mut self,
        status: PaymentStatus,
        bank_status: Option<String>,
        now: DateTime<Utc>,
    ) {
        let changed = self.history.is_empty()
            || self.status != status
            || (bank_status.is_some() && bank_status != self.bank_status);
        self.status = status;
        if bank_status.is_some() {
            self.bank_status.clone_from(&bank_status);
        }
        if changed {
            self.updated_at = now;
            self.history.push(HistoryEntry {
                status,
                bank_status,
                at: timestamp(now),
            });
        }
    }

    /// The JSON the API answers.
    pub(crate) fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("id".into(), self.id.clone().into());
        map.insert("status".into(), self.status.as_str().into());
        map.insert("amount".into(), self.request.amount.clone().into());
        map.insert("currency".into(), self.request.currency.clone().into());
        map.insert(
            "beneficiary".into(),
            serde_json::to_value(&self.request.beneficiary).unwrap_or(Value::Null),
        );
        map.insert("reference".into(), self.reference().into());
        map.insert("bank_reference".into(), json!(self.bank_reference));
        map.insert("bank_status".into(), json!(self.bank_status));
        map.insert("reason".into(), json!(self.reason));
        map.insert(
            "submission_attempts".into(),
            self.submission_attempts.into(),
        );
        map.insert("last_bank_error".into(), json!(self.last_bank_error));
        map.insert("created_at".into(), timestamp(self.created_at).into());
        map.insert("updated_at".into(), timestamp(self.updated_at).into());
        map.insert(
            "history".into(),
            serde_json::to_value(&self.history).unwrap_or(Value::Null),
        );
        map.insert(
            "webhooks".into(),
            serde_json::to_value(&self.webhooks).unwrap_or(Value::Null),
        );
        Value::Object(map)
    }
}

/// What a caller's `Idempotency-Key` on `POST /payments` is bound to.
#[derive(Debug, Clone)]
pub(crate) struct ClientKey {
    pub(crate) body: Value,
    /// `None` while the first request with this key is still being processed.
    pub(crate) payment_id: Option<String>,
}

/// The in-memory store.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    payments: HashMap<String, Payment>,
    client_keys: HashMap<String, ClientKey>,
}

/// What a caller's `Idempotency-Key` says about a new request.
#[derive(Debug)]
pub(crate) enum KeyClaim {
    /// First use: go ahead (and [`Store::release_key`] or [`Store::insert`] afterwards).
    New,
    /// Same key, same body, already answered: this payment.
    Replay(Box<Payment>),
    /// Same key, same body, still being processed.
    InProgress,
    /// Same key, another body.
    Conflict,
}

impl Store {
    pub(crate) fn claim_key(&self, key: &str, body: &Value) -> KeyClaim {
        let mut inner = lock(&self.inner);
        match inner.client_keys.get(key) {
            None => {
                inner.client_keys.insert(
                    key.to_owned(),
                    ClientKey {
                        body: body.clone(),
                        payment_id: None,
                    },
                );
                KeyClaim::New
            }
            Some(claim) if claim.body != *body => KeyClaim::Conflict,
            Some(ClientKey {
                payment_id: None, ..
            }) => KeyClaim::InProgress,
            Some(ClientKey {
                payment_id: Some(id),
                ..
            }) => match inner.payments.get(id) {
                Some(payment) => KeyClaim::Replay(Box::new(payment.clone())),
                // Deleted since: the key may be used again.
                None => {
                    inner.client_keys.insert(
                        key.to_owned(),
                        ClientKey {
                            body: body.clone(),
                            payment_id: None,
                        },
                    );
                    KeyClaim::New
                }
            },
        }
    }

    /// The request with this key was not stored (e.g. 502): the key is free again.
    pub(crate) fn release_key(&self, key: &str) {
        lock(&self.inner).client_keys.remove(key);
    }

    /// Stores a new payment (numbering it), binding the caller's key to it.
    pub(crate) fn insert(&self, mut payment: Payment, client_key: Option<&str>) -> Payment {
        let mut inner = lock(&self.inner);
        inner.next_seq += 1;
        payment.seq = inner.next_seq;
        if let Some(key) = client_key
            && let Some(claim) = inner.client_keys.get_mut(key)
        {
            claim.payment_id = Some(payment.id.clone());
        }
        inner.payments.insert(payment.id.clone(), payment.clone());
        if inner.payments.len() > MAX_PAYMENTS {
            let oldest = inner
                .payments
                .values()
                .filter(|p| p.status.is_final())
                .min_by_key(|p| p.seq)
                .map(|p| p.id.clone());
            if let Some(id) = oldest {
                inner.payments.remove(&id);
                inner
                    .client_keys
                    .retain(|_, k| k.payment_id.as_deref() != Some(id.as_str()));
            }
        }
        payment
    }

    pub(crate) fn get(&self, id: &str) -> Option<Payment> {
        lock(&self.inner).payments.get(id).cloned()
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Payment> {
        let mut inner = lock(&self.inner);
        let removed = inner.payments.remove(id);
        if removed.is_some() {
            inner
                .client_keys
                .retain(|_, k| k.payment_id.as_deref() != Some(id));
        }
        removed
    }

    /// Every payment, oldest first.
    pub(crate) fn list(&self) -> Vec<Payment> {
        let mut all: Vec<Payment> = lock(&self.inner).payments.values().cloned().collect();
        all.sort_by_key(|p| p.seq);
        all
    }

    /// Payments matching `filter`, oldest first.
    pub(crate) fn select(&self, filter: impl Fn(&Payment) -> bool) -> Vec<Payment> {
        let mut found: Vec<Payment> = lock(&self.inner)
            .payments
            .values()
            .filter(|p| filter(p))
            .cloned()
            .collect();
        found.sort_by_key(|p| p.seq);
        found
    }

    /// Changes a stored payment; `false` when it is gone (deleted meanwhile).
    pub(crate) fn update(&self, id: &str, change: impl FnOnce(&mut Payment)) -> bool {
        match lock(&self.inner).payments.get_mut(id) {
            Some(payment) => {
                change(payment);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(amount: Value) -> Value {
        json!({
            "amount": amount,
            "currency": "EUR",
            "beneficiary": {"name": "ACME Supplies Ltd", "iban": "GB33 BUKB 2020 1555 5555 55", "bic": "BUKBGB22"},
            "reference": "INV-1",
        })
    }

    #[test]
    fn amounts_are_decimal_strings_normalised_to_two_decimals() {
        assert_eq!(parse_amount("25000.00"), Ok(2_500_000));
        assert_eq!(parse_amount("25000"), Ok(2_500_000));
        assert_eq!(parse_amount("0.5"), Ok(50));
        assert_eq!(format_minor(2_500_005), "25000.05");
        for bad in ["", "1.", ".5", "1.234", "-1", "1e3", "1,00", "0", "0.00"] {
            assert!(parse_amount(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_valid_body_is_normalised() {
        let payment = parse_new_payment(&body(json!("120.5"))).unwrap();
        assert_eq!(payment.amount, "120.50");
        assert_eq!(payment.amount_minor, 12_050);
        assert_eq!(payment.beneficiary.iban, "GB33BUKB20201555555555");
        assert_eq!(payment.reference.as_deref(), Some("INV-1"));
    }

    #[test]
    fn a_beneficiary_may_be_the_json_text_of_the_object() {
        let mut request = body(json!("1.00"));
        request["beneficiary"] = json!(r#"{"name": "ACME", "iban": "GB33BUKB20201555555555"}"#);
        let payment = parse_new_payment(&request).unwrap();
        assert_eq!(payment.beneficiary.name, "ACME");
        assert_eq!(payment.beneficiary.bic, None);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let errors = parse_new_payment(&json!({
            "amount": 25000,
            "currency": "eur",
            "beneficiary": {"name": "", "iban": "nope", "bic": "x", "extra": 1},
            "reference": "x".repeat(36),
            "memo": "?",
        }))
        .unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "amount",
                "beneficiary.bic",
                "beneficiary.extra",
                "beneficiary.iban",
                "beneficiary.name",
                "currency",
                "memo",
                "reference"
            ]
        );
        assert_eq!(
            errors["amount"],
            "must be a decimal string such as \"25000.00\", not a number"
        );
        let missing = parse_new_payment(&json!({})).unwrap_err();
        assert_eq!(missing["amount"], "is required");
        assert_eq!(
            missing["beneficiary"],
            "is required: an object {name, iban, bic}"
        );
    }

    #[test]
    fn bank_statuses_of_every_version_are_normalised() {
        let cases = [
            ("RECEIVED", PaymentStatus::Pending),
            ("PENDING_REVIEW", PaymentStatus::PendingReview),
            ("ACCEPTED", PaymentStatus::Accepted),
            ("REJECTED", PaymentStatus::Rejected),
            ("SETTLED", PaymentStatus::Settled),
            ("received", PaymentStatus::Pending),
            ("settled", PaymentStatus::Settled),
            ("submitted", PaymentStatus::Pending),
            ("in_review", PaymentStatus::PendingReview),
            ("approved", PaymentStatus::Accepted),
            ("declined", PaymentStatus::Rejected),
            ("completed", PaymentStatus::Settled),
            ("RCVD", PaymentStatus::Pending),
            ("PDNG", PaymentStatus::PendingReview),
            ("ACSP", PaymentStatus::Accepted),
            ("RJCT", PaymentStatus::Rejected),
            ("ACSC", PaymentStatus::Settled),
        ];
        for (raw, status) in cases {
            assert_eq!(PaymentStatus::from_bank(raw), Some(status), "{raw}");
        }
        assert_eq!(PaymentStatus::from_bank("on_hold"), None);
    }

    #[test]
    fn a_client_key_replays_the_same_payment_and_refuses_another_body() {
        let store = Store::default();
        let request = body(json!("1.00"));
        assert!(matches!(store.claim_key("k", &request), KeyClaim::New));
        assert!(matches!(
            store.claim_key("k", &request),
            KeyClaim::InProgress
        ));
        let payment = Payment::new(parse_new_payment(&request).unwrap(), Utc::now());
        let stored = store.insert(payment, Some("k"));
        match store.claim_key("k", &request) {
            KeyClaim::Replay(p) => assert_eq!(p.id, stored.id),
            other => panic!("expected a replay, got {other:?}"),
        }
        assert!(matches!(
            store.claim_key("k", &body(json!("2.00"))),
            KeyClaim::Conflict
        ));
    }
}
