//! The scenario and environment files as written, before validation.
//!
//! These types mirror the YAML one to one (and generate the JSON Schema); [`crate::compile`]
//! turns them into a checked [`crate::Plan`].
//!
//! One file per construct; every type is re-exported here, so `crate::model::X` names it.

mod check;
mod environment;
mod expect;
mod owners;
mod request;
mod scenario;
mod shapes;
mod step;

pub use check::*;
pub use environment::*;
pub use expect::*;
pub use owners::*;
pub use request::*;
pub use scenario::*;
pub(crate) use shapes::*;
pub use step::*;
