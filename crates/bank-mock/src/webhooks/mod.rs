//! Status-change webhooks: subscriptions (registered through a version's registration
//! route, or configured), events rendered from the version's template, HMAC-SHA256
//! signatures, deliveries and retries on the bank clock, webhook faults, and the delivery
//! journal of `GET /__admin/webhooks`.

mod dispatch;
mod registration;
mod signature;

pub(crate) use dispatch::{Webhooks, run};
pub(crate) use registration::handle as registration;
pub use signature::{SIGNATURE_SCHEME, sign};
