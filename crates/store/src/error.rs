//! What can go wrong with a store.

/// The store could not do its job. Messages name the store with its password masked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A PostgreSQL server that does not answer (down, wrong host or port, refused).
    #[error("the store {url} does not answer: {reason}")]
    Unreachable {
        /// The store, masked.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// The database could not be opened or migrated (a file that cannot be created, a
    /// wrong password, a database that is not a store).
    #[error("failed to open the store {url}: {reason}")]
    Open {
        /// The store, masked.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// The database was written by a newer rehearse.
    #[error("the store {url} has schema version {found}, newer than this rehearse knows ({known})")]
    TooNew {
        /// The store, masked.
        url: String,
        /// Its version.
        found: i64,
        /// The newest this binary knows.
        known: i64,
    },
    /// A read or a write failed once the store was open.
    #[error("the store {url} failed: {reason}")]
    Query {
        /// The store, masked.
        url: String,
        /// What the driver said.
        reason: String,
    },
}

impl StoreError {
    /// What to do about it, for a `hint:` line.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Unreachable { .. } => {
                "is PostgreSQL running and reachable from here? or pass --no-store to run without history"
            }
            Self::Open { .. } => {
                "check the path or URL and its permissions (--store, REHEARSE_STORE), or pass --no-store"
            }
            Self::TooNew { .. } => {
                "a newer rehearse wrote this store: upgrade rehearse, or use another --store"
            }
            Self::Query { .. } => "the run's reports are written all the same; or pass --no-store",
        }
    }
}
