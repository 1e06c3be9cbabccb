//! The bank's status-change webhooks, received beside the poller: `POST /webhooks/bank`.
//!
//! An event is taken only when its signature header (`Bank-Signature: t=UNIX,v1=HEX`, HEX
//! the HMAC-SHA256 of `t.RAW_BODY` keyed with `BANK_WEBHOOK_SECRET`) verifies; then it is
//! ignored when its event id was seen before (a duplicate) or when it is older than what
//! the platform knows of the payment (a `sequence` not above the last one applied, or a
//! status earlier in the lifecycle: out of order), and otherwise applied through the very
//! function the poller uses, so both paths reach the same status. A dropped event is healed
//! by the poller's next run. The timestamp is not checked against the platform's clock:
//! the bank may run on simulated time; replays are caught by the event id.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::payment::{PaymentStatus, lock};

/// The header the bank signs with (every shipped version that sends webhooks uses it).
pub(crate) const SIGNATURE_HEADER: &str = "bank-signature";
/// The largest event body taken in.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Event ids remembered to catch duplicates.
const SEEN_IDS: usize = 10_000;

/// What the receiver did, for `/readyz`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) applied: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) stale: AtomicU64,
    pub(crate) unknown_payment: AtomicU64,
    pub(crate) rejected_signatures: AtomicU64,
    pub(crate) malformed: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn to_json(&self, configured: bool) -> Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        json!({
            "configured": configured,
            "received": n(&self.received),
            "applied": n(&self.applied),
            "duplicates": n(&self.duplicates),
            "stale": n(&self.stale),
            "unknown_payment": n(&self.unknown_payment),
            "rejected_signatures": n(&self.rejected_signatures),
            "malformed": n(&self.malformed),
        })
    }
}

/// Event ids already taken, oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct SeenIds {
    inner: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl SeenIds {
    /// Records `id`; `false` when it was there already.
    pub(crate) fn insert(&self, id: &str) -> bool {
        let mut guard = lock(&self.inner);
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
        while order.len() > SEEN_IDS {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
        true
    }

    /// Forgets `id` (its event could not be applied: a redelivery should be tried).
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.inner).0.remove(id);
    }
}

/// Whether `header` signs `body` with `secret`: some `v1=` of it is the HMAC-SHA256 of
/// `t.body`, compared in constant time.
pub(crate) fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp.filter(|t| t.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
    else {
        return false;
    };
    signatures.iter().any(|hex| {
        let Some(expected) = decode_hex(hex) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 256 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// An event, in the platform's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) id: String,
    /// The bank's reference (`payment_id` in v2, `transfer_id` in v3).
    pub(crate) bank_reference: String,
    /// The raw status.
    pub(crate) status: String,
    pub(crate) sequence: u64,
    pub(crate) reason: Option<String>,
}

impl Event {
    /// Reads an event of any shipped version; `Err` names what is missing.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, String> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        let text = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| value.get(*n).and_then(Value::as_str))
                .map(str::to_owned)
        };
        let id = text(&["id", "event_id"]).ok_or("no event `id`")?;
        let bank_reference =
            text(&["payment_id", "transfer_id"]).ok_or("no `payment_id` (or `transfer_id`)")?;
        let status = text(&["status"]).ok_or("no `status`")?;
        let sequence = value
            .get("sequence")
            .and_then(Value::as_u64)
            .ok_or("no `sequence` (a whole number)")?;
        Ok(Self {
            id,
            bank_reference,
            status,
            sequence,
            reason: text(&["reason"]),
        })
    }
}

/// Where a status stands in the lifecycle: an event below the payment's is out of date.
pub(crate) fn rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::PendingSubmission => 0,
        PaymentStatus::Pending => 1,
        PaymentStatus::PendingReview => 2,
        PaymentStatus::Accepted => 3,
        PaymentStatus::Settled | PaymentStatus::Rejected | PaymentStatus::Failed => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `t=1,v1=HMAC-SHA256("key", "1.x")`, computed with Python's hmac module.
    const SIGNED: &str = "t=1,v1=fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec";

    #[test]
    fn a_signature_verifies_only_for_its_secret_timestamp_and_body() {
        assert!(verify("key", SIGNED, b"x"));
        assert!(!verify("other", SIGNED, b"x"));
        assert!(!verify("key", SIGNED, b"y"));
        assert!(!verify("key", &SIGNED.replace("t=1", "t=2"), b"x"));
        assert!(!verify("key", "v1=fc49", b"x"));
        assert!(!verify("key", "", b"x"));
        assert!(verify("key", &format!("t=1,v1=00,{}", &SIGNED[4..]), b"x"));
    }

    #[test]
    fn a_duplicate_id_is_seen_once() {
        let seen = SeenIds::default();
        assert!(seen.insert("evt_1"));
        assert!(!seen.insert("evt_1"));
        seen.forget("evt_1");
        assert!(seen.insert("evt_1"));
    }

    #[test]
    fn events_of_v2_and_v3_are_read() {
        let v2 = br#"{"id": "evt_1", "payment_id": "pay_1", "status": "accepted", "sequence": 2}"#;
        let v3 = br#"{"id": "evt_2", "transfer_id": "trf_1", "status": "approved", "sequence": 3, "reason": null}"#;
        assert_eq!(
            Event::parse(v2).map(|e| e.bank_reference),
            Ok("pay_1".into())
        );
        assert_eq!(Event::parse(v3).map(|e| e.sequence), Ok(3));
        assert_eq!(
            Event::parse(br#"{"id": "evt_3", "payment_id": "p", "status": "x"}"#),
            Err("no `sequence` (a whole number)".into())
        );
    }
}
