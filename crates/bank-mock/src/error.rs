//! Errors of the bank mock.

use std::net::SocketAddr;

/// What kept the bank mock from doing its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listening socket could not be opened.
    #[error(
        "bind the bank mock to {addr}: {source} (is the port already in use? try another --port)"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A contract fixture is broken (a bug in `fixtures/bank-api/`).
    #[error("load bank API fixture `{path}`: {reason}")]
    Fixture {
        /// Path under `fixtures/bank-api/`.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A version folder given at run time (`--versions DIR`) cannot be served.
    #[error("bank API versions: {0}")]
    Folder(#[from] rehearse_contract::FolderError),
    /// A version was asked for that no folder provides.
    #[error("{0}")]
    UnknownVersion(String),
    /// An option has a value the mock cannot use.
    #[error("configure the bank mock: {0}")]
    Config(String),
    /// The simulator refused its configuration.
    #[error(transparent)]
    Sim(#[from] rehearse_status_sim::Error),
    /// Writing the startup banner failed.
    #[error("write to the output: {0}")]
    Io(#[from] std::io::Error),
}
