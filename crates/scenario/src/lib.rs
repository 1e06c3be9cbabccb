//! The scenario and environment model of rehearse: YAML loading with source positions,
//! validation of everything before the first request, and templating.
//!
//! This crate does no network IO and reads no clock: it reads files, checks them and
//! compiles them into a [`Scenario`] plan that `rehearse-runner` executes. Every problem
//! carries a [`Span`] (`file:line:col`) and renders with miette.
//!
//! ```
//! use std::sync::Arc;
//! use rehearse_scenario::{Compiler, Environment, Resolve, Templates};
//!
//! #[derive(Debug)]
//! struct NoWorld;
//! impl Resolve for NoWorld {
//!     fn secret(&self, _: &str) -> Option<String> { None }
//!     fn env(&self, _: &str) -> Option<String> { None }
//!     fn now(&self) -> String { "2026-01-01T00:00:00Z".into() }
//!     fn uuid(&self) -> String { "u".into() }
//! }
//!
//! let dir = tempfile::tempdir().unwrap();
//! let file = dir.path().join("health.yaml");
//! std::fs::write(&file, "name: health\nsteps:\n  - request: { url: 'http://localhost:1/healthz' }\n    expect: { status: 200 }\n").unwrap();
//! let env = Environment::new("local");
//! let mut templates = Templates::new(Arc::new(NoWorld));
//! let scenario = Compiler::new(&env, dir.path(), &mut templates).compile_file(&file).unwrap();
//! assert_eq!(scenario.steps[0].name, "GET http://localhost:1/healthz");
//! ```

mod bounds;
mod compile;
mod decimal;
mod duration;
mod error;
mod files;
mod filters;
mod matcher;
mod model;
mod node;
mod plan;
mod schema;
mod span;
mod template;
mod value;

pub use bounds::{
    MAX_INCLUDE_DEPTH, MAX_JSONPATH_BYTES, MAX_JSONPATH_NESTING, MAX_PROBLEMS_PER_FILE, MAX_STEPS,
    MAX_TEMPLATE_LINE, MAX_TEMPLATE_NESTING, MAX_TEMPLATE_TERMS, parse_json_path,
};
pub use compile::{
    Compiler, Heading, OWNERS_FILE, discover, load_environment, load_owners, parse_cron,
    read_heading, read_source, unknown_owner,
};
pub use duration::{Dur, MAX_DURATION};
pub use error::{Problem, Problems, render_problem};
pub use files::{FileError, MAX_FILE_BYTES, fixture_len, fixture_path, read_capped};
pub use filters::FILTERS;
pub use matcher::{CheckError, JsonType, Matcher, Mismatch, OPERATORS, Op, excerpt, json_eq};
pub use model::{EnvironmentFile, FragmentFile, OwnersFile, ScenarioFile};
pub use node::{TreeStore, did_you_mean, set_tree_store};
pub use plan::{
    Action, Approval, ApprovalMode, Auth, Bank, BankAuth, Body, BodyCheck, BodyCheckKind, Capture,
    CaptureFrom, Check, CheckKind, ClockKind, CookieAttr, CookieCheck, Decision, Environment,
    Expect, FixtureFile, HeaderCheck, Job, JsonCheck, Part, PartContent, PathKey, Poll, Request,
    Scenario, SchemaCheck, StatusMatch, StatusOp, StatusPattern, Step, Tls,
};
pub use schema::{environment_schema, owners_schema, scenario_schema};
pub use span::{SourceFile, Span, Spanned};
pub use template::{FUNCTIONS, RenderError, Resolve, Templates, Tpl, TplValue, Vars};
pub use value::{SpannedMap, Value, ValueKind};
