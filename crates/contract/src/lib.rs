//! Bank API versions as data. A version is a folder `vN/`: a `manifest.json` (routes, auth,
//! statuses, where the payment's fields are), JSON Schemas of requests and responses,
//! response templates and examples. The bank mock serves them; the contract tools compare
//! them with the bank that really exists.
//!
//! Versions come from two places: built in (`fixtures/bank-api/v1`–`v4`, compiled into the
//! binary; v4 was made from `fixtures/openapi/bank-v4.yaml` by [`import`]) and a team's own
//! folders read at run time ([`Catalog::with_dir`]), which replace a built-in version of the
//! same name. A folder is checked whole before it is used: a
//! broken one is a [`FolderError`] naming the file, the field and the fix.
//!
//! The contract tools classify drift ([`Drift`]): a bank's answer against its version's
//! schema ([`instance_drifts`], for `rehearse contract check`) and one version against
//! another ([`diff_folders`], [`changelog`], for `rehearse contract diff`).
//!
//! ```
//! use rehearse_contract::{ApiVersion, Catalog};
//!
//! let catalog = Catalog::builtin();
//! assert_eq!(catalog.names(), ["v1", "v2", "v3", "v4"]);
//! let v3 = catalog.get(ApiVersion::V3).expect("built in");
//! assert_eq!(v3.manifest.id_prefix, "trf_");
//!
//! let v2 = catalog.get(ApiVersion::V2).expect("built in");
//! let drifts = rehearse_contract::diff_folders(v2, v3);
//! assert!(drifts.iter().any(|d| d.kind == rehearse_contract::DriftKind::AuthChanged));
//! ```

mod catalog;
mod changelog;
mod diff;
mod drift;
mod error;
mod folder;
pub mod import;
mod infer;
mod instance;
mod manifest;
mod record;
mod schema;
mod version;

pub use catalog::{Catalog, read_dir};
pub use changelog::changelog;
pub use diff::{Direction, diff_folders, schema_drifts};
pub use drift::{Drift, DriftKind};
pub use error::FolderError;
pub use folder::{MAX_FILE_BYTES, MAX_FILES, Origin, VersionFolder, fixture};
pub use infer::{DIALECT, ENUM_MAX, MAX_DEPTH, MAX_ITEMS, MAX_KEYS, SchemaBuilder};
pub use instance::instance_drifts;
pub use manifest::{
    AmountFormat, Auth, CANONICAL_STATUSES, Field, Idempotency, Manifest, Operation,
    PaymentRequest, REQUIRED_TEMPLATES, RouteSpec, Webhooks,
};
pub use record::{
    BuildOptions, Built, Exchange, MAX_OBSERVED_BODY, MAX_ROUTES, REDACTED, RecordError, Recording,
};
pub use version::ApiVersion;
