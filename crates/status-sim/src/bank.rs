//! The bank's delayed processes on virtual time: the review queue, settlement batches and the
//! status history of every payment.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::sync::lock;
use crate::{Error, JobId, VirtualClock};

/// The bank's canonical payment statuses. Each API version spells them its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Taken in, not yet checked.
    Received,
    /// At or above the review threshold: waits for a reviewer.
    PendingReview,
    /// Cleared for the next settlement batch.
    Accepted,
    /// Refused by a reviewer or the policy. Final.
    Rejected,
    /// Paid out in a settlement batch. Final.
    Settled,
}

impl PaymentStatus {
    /// The snake_case name (`pending_review`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::PendingReview => "pending_review",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Settled => "settled",
        }
    }

    /// Whether nothing more will happen to the payment.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Settled)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reviewer's (or the policy's) decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Let the payment through to settlement.
    Approve,
    /// Refuse it.
    Reject,
}

/// Who decided a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// A person, through the back-office API.
    Reviewer,
    /// The unattended auto-decide policy.
    Policy,
}

/// What happens to a payment in review when nobody looks at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoDecide {
    /// It waits for a reviewer forever.
    #[default]
    Never,
    /// It is approved after this much bank time.
    Approve {
        /// Delay from submission.
        after: Duration,
    },
    /// It is rejected after this much bank time.
    Reject {
        /// Delay from submission.
        after: Duration,
    },
}

/// One entry of a payment's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The status entered.
    pub status: PaymentStatus,
    /// When, in bank time.
    pub at: DateTime<Utc>,
}

/// A payment's manual review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// Why it was held.
    pub reason: String,
    /// When it entered the queue.
    pub submitted_at: DateTime<Utc>,
    /// The decision, once made.
    pub decision: Option<Decision>,
    /// Who made it.
    pub decided_by: Option<DecidedBy>,
    /// The reviewer's note.
    pub note: Option<String>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// When the auto-decide policy will decide, if it will.
    pub auto_decide_at: Option<DateTime<Utc>>,
}

/// A payment as the simulated bank sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    /// The bank's reference.
    pub id: String,
    /// Creation order, starting at 1.
    pub seq: u64,
    /// Amount in minor units (cents).
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Current status.
    pub status: PaymentStatus,
    /// Every status entered, oldest first, with bank time.
    pub history: Vec<StatusChange>,
    /// The manual review, for payments at or above the threshold.
    pub review: Option<Review>,
    /// Opaque data the caller keeps with the payment (the API layer's fields).
    pub details: serde_json::Value,
}

impl Payment {
    /// When the payment was received.
    pub fn created_at(&self) -> Option<DateTime<Utc>> {
        self.history.first().map(|c| c.at)
    }

    /// When the status last changed.
    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.history.last().map(|c| c.at)
    }

    /// When it entered `status`, if it did.
    pub fn entered(&self, status: PaymentStatus) -> Option<DateTime<Utc>> {
        self.history
            .iter()
            .find(|c| c.status == status)
            .map(|c| c.at)
    }

    fn change(&mut self, status: PaymentStatus, at: DateTime<Utc>) {
        self.status = status;
        self.history.push(StatusChange { status, at });
    }
}

/// A payment handed to the bank.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The reference to give it (unique).
    pub id: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Opaque data kept with it.
    pub details: serde_json::Value,
}

/// How the simulated bank behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Payments at or above this amount (minor units) wait for review. Default 1,000,000
    /// (10,000.00).
    pub review_threshold_minor: i64,
    /// Unattended decisions. Default: never.
    pub auto_decide: AutoDecide,
    /// When settlement batches run (6-field cron). Default `0 0 * * * *`: every hour on the
    /// hour.
    pub settlement_cron: String,
    /// How many payments the bank remembers; beyond it the oldest are forgotten, so a
    /// long-lived mock stays flat in memory. Default 100,000.
    pub max_payments: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            review_threshold_minor: 1_000_000,
            auto_decide: AutoDecide::Never,
            settlement_cron: "0 0 * * * *".to_owned(),
            max_payments: 100_000,
        }
    }
}

#[derive(Debug, Default)]
struct Ledger {
    generation: u64,
    next_seq: u64,
    payments: HashMap<String, Payment>,
    order: BTreeMap<u64, String>,
}

/// Told of every status change, with the payment as it is right after it (its last
/// history entry is the change). Runs under the bank's lock: it must be quick and must not
/// call back into the [`Simulator`] (queue the work instead).
pub type Observer = Arc<dyn Fn(&Payment) + Send + Sync>;

struct Inner {
    clock: Arc<VirtualClock>,
    config: SimConfig,
    ledger: Mutex<Ledger>,
    settlement_job: Mutex<Option<JobId>>,
    observer: Mutex<Option<Observer>>,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("clock", &self.clock)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn notify(&self, payment: &Payment) {
        let observer = lock(&self.observer).clone();
        if let Some(observer) = observer {
            observer(payment);
        }
    }
}

/// The simulated bank back office on a [`VirtualClock`]. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

impl Simulator {
    /// Start the back office on `clock`: registers the settlement batch job.
    pub fn new(clock: Arc<VirtualClock>, config: SimConfig) -> Result<Self, Error> {
        let inner = Arc::new(Inner {
            clock: Arc::clone(&clock),
            config,
            ledger: Mutex::new(Ledger::default()),
            settlement_job: Mutex::new(None),
            observer: Mutex::new(None),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        let job = clock.schedule_cron(
            "settlement batch",
            &inner.config.settlement_cron,
            move |tick| {
                if let Some(inner) = weak.upgrade() {
                    settle(&inner, tick);
                }
            },
        )?;
        *lock(&inner.settlement_job) = Some(job);
        Ok(Self { inner })
    }

    /// Be told of every status change from now on (replaces an earlier observer): how the
    /// bank mock sends its webhooks.
    pub fn observe(&self, observer: impl Fn(&Payment) + Send + Sync + 'static) {
        *lock(&self.inner.observer) = Some(Arc::new(observer));
    }

    /// The clock the bank runs on.
    pub fn clock(&self) -> &Arc<VirtualClock> {
        &self.inner.clock
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    /// When the next settlement batch runs.
    pub fn next_settlement(&self) -> Option<DateTime<Utc>> {
        let job = *lock(&self.inner.settlement_job);
        job.and_then(|id| self.inner.clock.next_run(id))
    }

    /// Take in a payment: it is received, then held for review (at or above the threshold) or
    /// accepted for the next batch.
    pub fn submit(&self, new: NewPayment) -> Payment {
        let now = self.inner.clock.now();
        let config = &self.inner.config;
        let mut ledger = lock(&self.inner.ledger);
        ledger.next_seq += 1;
        let seq = ledger.next_seq;
        let mut changes = Vec::with_capacity(2);
        let mut payment = Payment {
            id: new.id,
            seq,
            amount_minor: new.amount_minor,
            currency: new.currency,
            status: PaymentStatus::Received,
            history: vec![StatusChange {
                status: PaymentStatus::Received,
                at: now,
            }],
            review: None,
            details: new.details,
        };
        changes.push(payment.clone());
        if payment.amount_minor >= config.review_threshold_minor {
            let auto_at = match config.auto_decide {
                AutoDecide::Never => None,
                AutoDecide::Approve { after } | AutoDecide::Reject { after } => {
                    now.checked_add_signed(TimeDelta::from_std(after).unwrap_or(TimeDelta::MAX))
                }
            };
            payment.review = Some(Review {
                reason: format!(
                    "amount {} {} is at or above the review threshold {}",
                    format_minor(payment.amount_minor),
                    payment.currency,
                    format_minor(config.review_threshold_minor)
                ),
                submitted_at: now,
                decision: None,
                decided_by: None,
                note: None,
                decided_at: None,
                auto_decide_at: auto_at,
            });
            payment.change(PaymentStatus::PendingReview, now);
            if let Some(at) = auto_at {
                let decision = match config.auto_decide {
                    AutoDecide::Reject { .. } => Decision::Reject,
                    _ => Decision::Approve,
                };
                let weak = Arc::downgrade(&self.inner);
                let id = payment.id.clone();
                let generation = ledger.generation;
                self.inner
                    .clock
                    .schedule_at("review auto-decide", at, move |tick| {
                        if let Some(inner) = weak.upgrade() {
                            let mut ledger = lock(&inner.ledger);
                            if ledger.generation == generation {
                                let _ = decide_locked(
                                    &inner,
                                    &mut ledger,
                                    &id,
                                    decision,
                                    Some("decided by the auto-decide policy".to_owned()),
                                    DecidedBy::Policy,
                                    tick,
                                );
                            }
                        }
                    });
            }
        } else {
            payment.change(PaymentStatus::Accepted, now);
        }
        changes.push(payment.clone());
        ledger.order.insert(seq, payment.id.clone());
        ledger.payments.insert(payment.id.clone(), payment.clone());
        while ledger.payments.len() > config.max_payments.max(1) {
            let Some((_, oldest)) = ledger.order.pop_first() else {
                break;
            };
            ledger.payments.remove(&oldest);
        }
        for change in &changes {
            self.inner.notify(change);
        }
        payment
    }

    /// A payment by id.
    pub fn get(&self, id: &str) -> Option<Payment> {
        lock(&self.inner.ledger).payments.get(id).cloned()
    }

    /// Update a payment's opaque details.
    pub fn set_details(&self, id: &str, details: serde_json::Value) -> Result<(), Error> {
        let mut ledger = lock(&self.inner.ledger);
        let payment = ledger
            .payments
            .get_mut(id)
            .ok_or_else(|| Error::UnknownPayment(id.to_owned()))?;
        payment.details = details;
        Ok(())
    }

    /// Up to `limit` payments in creation order, starting after `after_seq`.
    pub fn list(&self, after_seq: u64, limit: usize) -> Vec<Payment> {
        let ledger = lock(&self.inner.ledger);
        ledger
            .order
            .range(after_seq.saturating_add(1)..)
            .take(limit)
            .filter_map(|(_, id)| ledger.payments.get(id).cloned())
            .collect()
    }

    /// Payments waiting for a reviewer, oldest first.
    pub fn review_queue(&self) -> Vec<Payment> {
        let ledger = lock(&self.inner.ledger);
        ledger
            .order
            .values()
            .filter_map(|id| ledger.payments.get(id))
            .filter(|p| p.status == PaymentStatus::PendingReview)
            .cloned()
            .collect()
    }

    /// A reviewer's decision: approve (accepted, settles at the next batch) or reject.
    pub fn decide(
        &self,
        id: &str,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Payment, Error> {
        let now = self.inner.clock.now();
        let mut ledger = lock(&self.inner.ledger);
        decide_locked(
            &self.inner,
            &mut ledger,
            id,
            decision,
            note,
            DecidedBy::Reviewer,
            now,
        )
    }

    /// Forget every payment. Pending auto-decisions of forgotten payments never fire.
    pub fn reset(&self) {
        let mut ledger = lock(&self.inner.ledger);
        let generation = ledger.generation + 1;
        *ledger = Ledger {
            generation,
            ..Ledger::default()
        };
    }

    /// How many payments the bank remembers.
    pub fn len(&self) -> usize {
        lock(&self.inner.ledger).payments.len()
    }

    /// Whether the bank remembers no payment.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn decide_locked(
    inner: &Inner,
    ledger: &mut Ledger,
    id: &str,
    decision: Decision,
    note: Option<String>,
    by: DecidedBy,
    now: DateTime<Utc>,
) -> Result<Payment, Error> {
    let payment = ledger
        .payments
        .get_mut(id)
        .ok_or_else(|| Error::UnknownPayment(id.to_owned()))?;
    if payment.status != PaymentStatus::PendingReview {
        return Err(Error::NotPendingReview {
            id: id.to_owned(),
            status: payment.status,
        });
    }
    if let Some(review) = &mut payment.review {
        review.decision = Some(decision);
        review.decided_by = Some(by);
        review.note = note;
        review.decided_at = Some(now);
        review.auto_decide_at = None;
    }
    let status = match decision {
        Decision::Approve => PaymentStatus::Accepted,
        Decision::Reject => PaymentStatus::Rejected,
    };
    payment.change(status, now);
    inner.notify(payment);
    Ok(payment.clone())
}

fn settle(inner: &Inner, tick: DateTime<Utc>) {
    let mut ledger = lock(&inner.ledger);
    for payment in ledger.payments.values_mut() {
        // Accepted strictly before the batch: an acceptance at the batch instant waits for the
        // next one, whatever order same-instant jobs run in.
        let accepted_before = payment
            .updated_at()
            .is_some_and(|accepted_at| accepted_at < tick);
        if payment.status == PaymentStatus::Accepted && accepted_before {
            payment.change(PaymentStatus::Settled, tick);
            inner.notify(payment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sim(config: SimConfig) -> Simulator {
        let clock = Arc::new(VirtualClock::default());
        match Simulator::new(clock, config) {
            Ok(sim) => sim,
            Err(e) => panic!("{e}"),
        }
    }

    fn pay(sim: &Simulator, id: &str, minor: i64) -> Payment {
        sim.submit(NewPayment {
            id: id.to_owned(),
            amount_minor: minor,
            currency: "USD".to_owned(),
            details: serde_json::Value::Null,
        })
    }

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    fn statuses(p: &Payment) -> Vec<(String, String)> {
        p.history
            .iter()
            .map(|c| (c.status.to_string(), c.at.format("%H:%M").to_string()))
            .collect()
    }

    #[test]
    fn the_observer_sees_every_status_change_in_order_with_bank_time() {
        let sim = sim(SimConfig::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        sim.observe(move |p| {
            let last = p.history.last().map(|c| (c.status.to_string(), c.at));
            lock(&s).push((p.id.clone(), p.history.len(), last));
        });
        pay(&sim, "big", 2_000_000);
        let _ = sim.decide("big", Decision::Approve, None);
        sim.clock().advance(Duration::from_secs(3600));
        let seen: Vec<(String, usize, String)> = lock(&seen)
            .iter()
            .map(|(id, n, last)| {
                (
                    id.clone(),
                    *n,
                    last.as_ref().map(|(s, _)| s.clone()).unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("big".to_owned(), 1, "received".to_owned()),
                ("big".to_owned(), 2, "pending_review".to_owned()),
                ("big".to_owned(), 3, "accepted".to_owned()),
                ("big".to_owned(), 4, "settled".to_owned()),
            ]
        );
    }

    #[test]
    fn small_payment_is_accepted_at_once_and_settles_at_the_next_batch() {
        let sim = sim(SimConfig::default());
        let p = pay(&sim, "p1", 999_999);
        assert_eq!(p.status, PaymentStatus::Accepted);
        sim.clock().advance(Duration::from_secs(59 * 60));
        assert_eq!(
            sim.get("p1").map(|p| p.status),
            Some(PaymentStatus::Accepted)
        );
        sim.clock().advance(Duration::from_secs(60));
        let p = sim.get("p1");
        assert_eq!(
            p.as_ref().map(statuses),
            Some(vec![
                ("received".into(), "09:00".into()),
                ("accepted".into(), "09:00".into()),
                ("settled".into(), "10:00".into())
            ])
        );
    }

    #[test]
    fn payment_at_the_threshold_waits_for_review_and_settles_after_approval() {
        let sim = sim(SimConfig::default());
        let p = pay(&sim, "big", 1_000_000);
        assert_eq!(p.status, PaymentStatus::PendingReview);
        assert_eq!(sim.review_queue().len(), 1);

        sim.clock().advance(Duration::from_secs(3 * 3600));
        assert_eq!(
            sim.get("big").map(|p| p.status),
            Some(PaymentStatus::PendingReview),
            "batches never settle a payment in review"
        );
        let decided = sim.decide("big", Decision::Approve, Some("ok".into()));
        assert_eq!(decided.map(|p| p.status), Ok(PaymentStatus::Accepted));
        assert!(sim.review_queue().is_empty());
        sim.clock().advance(Duration::from_secs(3600));
        let p = sim.get("big");
        assert_eq!(p.as_ref().map(|p| p.status), Some(PaymentStatus::Settled));
        assert_eq!(
            p.as_ref().and_then(|p| p.entered(PaymentStatus::Settled)),
            Some(t(13, 0))
        );
        let review = p.and_then(|p| p.review);
        assert_eq!(review.as_ref().and_then(|r| r.decided_at), Some(t(12, 0)));
        assert_eq!(review.and_then(|r| r.decided_by), Some(DecidedBy::Reviewer));
    }

    #[test]
    fn deciding_twice_or_on_an_unknown_payment_says_why() {
        let sim = sim(SimConfig::default());
        pay(&sim, "small", 100);
        let err = sim.decide("small", Decision::Approve, None);
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("decide on payment `small`: it is `accepted`, not `pending_review`".to_owned())
        );
        let err = sim.decide("nope", Decision::Approve, None);
        assert_eq!(err, Err(Error::UnknownPayment("nope".into())));
    }

    #[test]
    fn auto_decide_rejects_after_the_delay_and_nothing_settles() {
        let sim = sim(SimConfig {
            auto_decide: AutoDecide::Reject {
                after: Duration::from_secs(30 * 60),
            },
            ..SimConfig::default()
        });
        let p = pay(&sim, "big", 5_000_000);
        assert_eq!(
            p.review.as_ref().and_then(|r| r.auto_decide_at),
            Some(t(9, 30))
        );
        sim.clock().advance(Duration::from_secs(2 * 3600));
        let p = sim.get("big");
        assert_eq!(
            p.as_ref().map(statuses),
            Some(vec![
                ("received".into(), "09:00".into()),
                ("pending_review".into(), "09:00".into()),
                ("rejected".into(), "09:30".into())
            ])
        );
        assert_eq!(
            p.and_then(|p| p.review).and_then(|r| r.decided_by),
            Some(DecidedBy::Policy)
        );
    }

    #[test]
    fn approval_at_a_batch_instant_waits_for_the_following_batch() {
        let sim = sim(SimConfig {
            auto_decide: AutoDecide::Approve {
                after: Duration::from_secs(3600),
            },
            ..SimConfig::default()
        });
        pay(&sim, "big", 5_000_000);
        sim.clock().advance(Duration::from_secs(3600));
        assert_eq!(
            sim.get("big").map(|p| p.status),
            Some(PaymentStatus::Accepted)
        );
        sim.clock().advance(Duration::from_secs(3600));
        assert_eq!(
            sim.get("big").map(|p| p.status),
            Some(PaymentStatus::Settled)
        );
    }

    #[test]
    fn reset_forgets_payments_and_cancels_their_auto_decisions() {
        let sim = sim(SimConfig {
            auto_decide: AutoDecide::Approve {
                after: Duration::from_secs(60),
            },
            ..SimConfig::default()
        });
        pay(&sim, "big", 5_000_000);
        sim.reset();
        assert!(sim.is_empty());
        sim.clock().advance(Duration::from_secs(30));
        pay(&sim, "big", 5_000_000);
        // The old timer fires at 09:01:00 but belongs to the previous generation; the new
        // payment's own timer is due at 09:01:30.
        sim.clock().advance(Duration::from_secs(45));
        let p = sim.get("big");
        assert_eq!(
            p.as_ref().map(|p| p.status),
            Some(PaymentStatus::PendingReview)
        );
        assert_eq!(p.map(|p| p.seq), Some(1));
        sim.clock().advance(Duration::from_secs(15));
        assert_eq!(
            sim.get("big").map(|p| p.status),
            Some(PaymentStatus::Accepted)
        );
    }

    #[test]
    fn the_oldest_payments_are_forgotten_beyond_the_cap() {
        let sim = sim(SimConfig {
            max_payments: 3,
            ..SimConfig::default()
        });
        for i in 0..5 {
            pay(&sim, &format!("p{i}"), 100);
        }
        assert_eq!(sim.len(), 3);
        assert!(sim.get("p1").is_none());
        let ids: Vec<_> = sim.list(0, 10).into_iter().map(|p| p.id).collect();
        assert_eq!(ids, vec!["p2", "p3", "p4"]);
        let ids: Vec<_> = sim.list(3, 1).into_iter().map(|p| p.id).collect();
        assert_eq!(ids, vec!["p3"]);
    }

    #[test]
    fn settlement_cron_is_configurable_and_validated() {
        let clock = Arc::new(VirtualClock::default());
        let err = Simulator::new(
            Arc::clone(&clock),
            SimConfig {
                settlement_cron: "every hour".into(),
                ..SimConfig::default()
            },
        );
        assert!(matches!(err, Err(Error::InvalidCron { .. })));
        let Ok(sim) = Simulator::new(
            clock,
            SimConfig {
                settlement_cron: "0 30 17 * * MON-FRI".into(),
                ..SimConfig::default()
            },
        ) else {
            panic!("valid cron")
        };
        assert_eq!(sim.next_settlement(), Some(t(17, 30)));
    }
}
