//! The store of runs: every run of `rehearse run` leaves a record (the run, its scenarios,
//! steps, attempts and pre-flight checks), in an embedded SQLite file by default
//! (`.rehearse/rehearse.db` under the suite's root, WAL mode) or a PostgreSQL database
//! shared by CI runners. One schema for both, versioned by embedded migrations
//! (`migrations/`, table `schema_version`).
//!
//! The store is a consumer of a run like the reports are: the CLI hands it the
//! [`RunResult`](rehearse_runner::RunResult) (already masked by the runner) once the run
//! ends, and reads [`History`] back for `rehearse history` and the reports' trends. The
//! runner knows nothing of it.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use rehearse_store::{Store, StoreUrl};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let url: StoreUrl = dir.path().join("r.db").display().to_string().parse().unwrap();
//! let store = Store::open(&url).await.unwrap();
//! assert_eq!(store.schema_version().await.unwrap(), rehearse_store::SCHEMA_VERSION);
//! let history = store.history("staging", 20).await.unwrap();
//! assert!(history.runs.is_empty());
//! # });
//! ```

mod backend;
mod doc;
mod error;
mod history;
mod ledger;
mod load;
mod resume;
mod store;
mod url;

pub use error::StoreError;
pub use history::{
    Breakage, Change, Entry, FixedCheck, History, Outcome, RunInfo, ScenarioHistory, Trend,
};
pub use ledger::{Created, LedgerEntry, RUNNING, RunStart};
pub use load::StoredRun;
pub use resume::{Resumable, ResumableScenario};
pub use store::{RunMeta, SCHEMA_VERSION, SHARD_STRIDE, ShardOf, Store, deployed_version};
pub use url::{StoreUrl, StoreUrlError};
