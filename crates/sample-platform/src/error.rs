//! Why the platform could not start.

use std::net::SocketAddr;

use crate::ConfigError;

/// The platform could not start. (A missing bank credential is not one of these: the platform
/// starts and reports it on `/readyz`.)
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is malformed.
    #[error("accept the configuration: {0}")]
    Config(#[from] ConfigError),
    /// The listening socket could not be bound.
    #[error("bind {address}: {source}")]
    Bind {
        /// The address tried.
        address: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The HTTP client for the bank could not be built.
    #[error("build the bank HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The job scheduler could not be created, given the job or started.
    #[error("start the job scheduler: {0}")]
    Scheduler(String),
}
