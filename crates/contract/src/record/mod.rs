//! Recording a version from traffic (`rehearse mock-bank record`): exchanges go in
//! ([`Recording::observe`]), a checked version folder comes out ([`Recording::build`]). No
//! IO here: the proxy in `rehearse-bank-mock` forwards the traffic and writes the folder.

mod build;
mod exchange;
mod facts;
mod recording;
mod redact;
mod routes;
mod templates;

pub use build::{BuildOptions, Built, RecordError};
pub use exchange::Exchange;
pub use recording::{MAX_OBSERVED_BODY, MAX_ROUTES, Recording};
pub use redact::REDACTED;
