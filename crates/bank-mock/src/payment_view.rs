//! A payment in the shape of an API version: as a value (for lists) and as the bytes of a
//! response body, kept per payment and version until the payment changes, so a GET of an
//! unchanged payment does not render it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rehearse_status_sim::Payment;
use serde_json::{Value, json};

use crate::ApiVersion;
use crate::contract::Contract;
use crate::engine::{Engine, lock, ts, ts_value};
use crate::money::format_minor;
use crate::template::{Scope, render, render_bytes};

/// A payment's body in one version, and the revision of the payment it shows.
type Bodies = HashMap<(ApiVersion, String), (usize, Arc<[u8]>)>;

/// Rendered payment bodies by version and payment id.
#[derive(Debug)]
pub(crate) struct Rendered {
    bodies: Mutex<Bodies>,
    capacity: usize,
}

impl Rendered {
    /// Room for the bodies of `payments` payments in every version (it is emptied when
    /// full: the bank forgets its oldest payments, whose bodies would otherwise stay).
    pub(crate) fn new(payments: usize) -> Self {
        Self {
            bodies: Mutex::new(HashMap::new()),
            capacity: payments.max(1).saturating_mul(2),
        }
    }

    pub(crate) fn clear(&self) {
        lock(&self.bodies).clear();
    }
}

/// A payment's revision: every change the bank makes to a payment (a status, with the
/// review's decision) adds to its history, and nothing else of it changes after it is
/// booked.
fn revision(payment: &Payment) -> usize {
    payment.history.len()
}

impl Engine {
    /// The payment in this version's shape.
    pub(crate) fn render_payment(&self, contract: &Contract, payment: &Payment) -> Value {
        let Some(tpl) = contract.template("payment") else {
            return Value::Null;
        };
        render(tpl, &PaymentVars::new(contract, payment))
    }

    /// The payment in this version's shape, as the body of a response.
    pub(crate) fn payment_bytes(&self, contract: &Contract, payment: &Payment) -> Arc<[u8]> {
        let Some(tpl) = contract.template("payment") else {
            return Arc::from(&b"null"[..]);
        };
        let key = (contract.version, payment.id.clone());
        if let Some((rev, body)) = lock(&self.rendered.bodies).get(&key)
            && *rev == revision(payment)
        {
            return Arc::clone(body);
        }
        let body: Arc<[u8]> = render_bytes(tpl, &PaymentVars::new(contract, payment)).into();
        let mut bodies = lock(&self.rendered.bodies);
        if bodies.len() >= self.rendered.capacity {
            bodies.clear();
        }
        bodies.insert(key, (revision(payment), Arc::clone(&body)));
        body
    }
}

/// What a version's payment template reads, looked up by name without building a JSON
/// object of them (no key strings, no hashing, the payment's details borrowed).
struct PaymentVars<'p> {
    id: Value,
    status: Value,
    amount_minor: Value,
    amount_decimal: Value,
    currency: Value,
    creditor: Option<&'p Value>,
    debtor: Option<&'p Value>,
    reference: Option<&'p Value>,
    created_at: Value,
    updated_at: Value,
    review_required: Value,
    review_reason: Value,
    review_decision: Value,
    review_note: Value,
    review_decided_at: Value,
    status_history: Value,
}

static NULL: Value = Value::Null;

impl<'p> PaymentVars<'p> {
    fn new(contract: &Contract, payment: &'p Payment) -> Self {
        let review = payment.review.as_ref();
        Self {
            id: payment.id.clone().into(),
            status: contract.status(payment.status.as_str()).into(),
            amount_minor: payment.amount_minor.into(),
            amount_decimal: format_minor(payment.amount_minor).into(),
            currency: payment.currency.clone().into(),
            creditor: payment.details.get("creditor"),
            debtor: payment.details.get("debtor"),
            reference: payment.details.get("reference"),
            created_at: ts_value(payment.created_at()),
            updated_at: ts_value(payment.updated_at()),
            review_required: review.is_some().into(),
            review_reason: review.map_or(Value::Null, |r| r.reason.clone().into()),
            review_decision: review.and_then(|r| r.decision).map_or(Value::Null, |d| {
                serde_json::to_value(d).unwrap_or(Value::Null)
            }),
            review_note: review
                .and_then(|r| r.note.clone())
                .map_or(Value::Null, Value::from),
            review_decided_at: ts_value(review.and_then(|r| r.decided_at)),
            status_history: Value::Array(
                payment
                    .history
                    .iter()
                    .map(|c| json!({"status": contract.status(c.status.as_str()), "at": ts(c.at)}))
                    .collect(),
            ),
        }
    }
}

impl Scope for PaymentVars<'_> {
    fn var(&self, name: &str) -> Option<&Value> {
        Some(match name {
            "id" => &self.id,
            "status" => &self.status,
            "amount_minor" => &self.amount_minor,
            "amount_decimal" => &self.amount_decimal,
            "currency" => &self.currency,
            "creditor" => self.creditor.unwrap_or(&NULL),
            "debtor" => self.debtor.unwrap_or(&NULL),
            "reference" => self.reference.unwrap_or(&NULL),
            "created_at" => &self.created_at,
            "updated_at" => &self.updated_at,
            "review_required" => &self.review_required,
            "review_reason" => &self.review_reason,
            "review_decision" => &self.review_decision,
            "review_note" => &self.review_note,
            "review_decided_at" => &self.review_decided_at,
            "status_history" => &self.status_history,
            _ => return None,
        })
    }
}
