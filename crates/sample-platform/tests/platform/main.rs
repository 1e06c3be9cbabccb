//! The sample platform against the bank mock, over real HTTP on loopback: readiness, payments,
//! the status poller, every bank API version, and the binary.

mod binary;
mod common;
mod payments;
mod poller;
mod readiness;
mod versions;
mod webhooks;
