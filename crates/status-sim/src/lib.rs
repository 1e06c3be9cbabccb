//! Simulated bank time for rehearse: a controllable clock, cron jobs on it, and the bank's
//! delayed processes (manual review, settlement batches) driven by it.
//!
//! A flow that spans hours of bank time — a large payment held for review, approved, then
//! settled at the next hourly batch — runs in microseconds and the same way every time,
//! because nothing here reads the wall clock or sleeps: time moves only when you
//! [`advance`](VirtualClock::advance) or [`set`](VirtualClock::set) it.
//!
//! ```
//! use std::{sync::Arc, time::Duration};
//! use rehearse_status_sim::{Decision, NewPayment, PaymentStatus, SimConfig, Simulator, VirtualClock};
//!
//! let clock = Arc::new(VirtualClock::default()); // Monday 2025-01-06 09:00 UTC
//! let bank = Simulator::new(clock.clone(), SimConfig::default())?;
//! let p = bank.submit(NewPayment {
//!     id: "pay_1".into(),
//!     amount_minor: 2_500_000, // 25,000.00: at or above the 10,000.00 threshold
//!     currency: "USD".into(),
//!     details: serde_json::Value::Null,
//! });
//! assert_eq!(p.status, PaymentStatus::PendingReview);
//!
//! clock.advance(Duration::from_secs(4 * 3600)); // nobody looks at it for 4 hours
//! bank.decide("pay_1", Decision::Approve, Some("checked".into()))?;
//! assert_eq!(bank.get("pay_1").map(|p| p.status), Some(PaymentStatus::Accepted));
//!
//! clock.advance(Duration::from_secs(3600)); // crosses the 14:00 settlement batch
//! assert_eq!(bank.get("pay_1").map(|p| p.status), Some(PaymentStatus::Settled));
//! # Ok::<(), rehearse_status_sim::Error>(())
//! ```
//!
//! Why not tokio-cron-scheduler or `tokio::time::pause`? The former reads the wall clock; the
//! latter also fires real HTTP client timeouts instantly. Both are fine for real schedules;
//! simulated schedules use the same 6-field cron expressions, evaluated here by croner.

mod bank;
mod clock;
mod error;
mod sync;

pub use bank::{
    AutoDecide, DecidedBy, Decision, NewPayment, Observer, Payment, PaymentStatus, Review,
    SimConfig, Simulator, StatusChange,
};
pub use clock::{Advance, Clock, JobId, SystemClock, Tick, VirtualClock, parse_cron};
pub use error::Error;
