//! Errors of the simulator.

/// What went wrong in the simulated bank.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// A cron expression did not parse.
    #[error(
        "parse cron expression `{expr}`: {reason} (expected 6 fields: sec min hour day month weekday)"
    )]
    InvalidCron {
        /// The expression as given.
        expr: String,
        /// What croner said.
        reason: String,
    },
    /// No payment has this id.
    #[error("find payment `{0}`: no such payment")]
    UnknownPayment(String),
    /// The payment is not waiting for a reviewer.
    #[error("decide on payment `{id}`: it is `{status}`, not `pending_review`")]
    NotPendingReview {
        /// The payment id.
        id: String,
        /// Its current status.
        status: crate::PaymentStatus,
    },
}
