//! Environment files as written: vars, secrets, timeouts, TLS, clock, approvals, jobs.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

/// An environment file: where to run and with what.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentFile {
    /// Shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Variables every scenario sees (templates allowed: `env('X')`).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub vars: SpannedMap<Value>,
    /// Names of secrets this environment needs; values come from the process environment
    /// or `--env-file`, never from this file.
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
    /// Default timeouts.
    #[serde(default)]
    pub timeouts: Option<TimeoutsDef>,
    /// TLS settings for every request.
    #[serde(default)]
    pub tls: Option<Spanned<TlsDef>>,
    /// Refuse to run unless `--allow-protected` is given (production-like environments).
    #[serde(default)]
    pub protected: bool,
    /// Network-level retries of each request (default 0); a step that passes only after
    /// one is reported as flaky, not as a plain pass.
    #[serde(default)]
    pub retries: u32,
    /// The bank's clock: `real` (default) or `virtual` (the bank mock's simulated time,
    /// driven through its admin API at the var `bank_admin`; enables `advance_clock`).
    #[serde(default)]
    pub clock: Option<Spanned<ClockKind>>,
    /// How `approve` steps are carried out.
    #[serde(default)]
    pub approvals: Option<Spanned<ApprovalsDef>>,
    /// The platform's cron jobs, fired in time order by `advance_clock` on a virtual clock.
    #[serde(default)]
    pub jobs: Vec<Spanned<JobDef>>,
    /// Pre-flight checks of the environment: all run before any business step.
    #[serde(default)]
    pub checks: Vec<Spanned<CheckDef>>,
}

/// Which clock the bank runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Wall-clock time: delayed statuses take as long as they take.
    #[default]
    Real,
    /// Simulated time that `advance_clock` moves (the bank mock's clock).
    Virtual,
}

/// How `approve` steps are carried out.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsDef {
    /// `mock`: the bank mock's back office (var `bank_admin`) decides; `http`: a request
    /// to the bank sandbox's reviewer API; `prompt`: an operator at the terminal decides;
    /// `wait`: someone else decides and a later poll waits for the status.
    pub mode: Spanned<ApprovalMode>,
    /// For `http`: the request (vars `reference`, `decision`, `note` are set).
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// For `http`: what the reviewer API must answer (default: a status below 400).
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// For `prompt`: what the operator must do (templates allowed; vars `reference`,
    /// `decision`, `note`, `amount`).
    #[serde(default)]
    pub instructions: Option<Spanned<String>>,
    /// For `prompt`: how long to wait for the operator's answer (default 15m).
    #[serde(default)]
    pub timeout: Option<Spanned<Dur>>,
}

/// Approval modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Through the bank mock's admin API.
    Mock,
    /// A request template against the bank sandbox's reviewer API.
    Http,
    /// An operator answers at the terminal.
    Prompt,
    /// Someone else approves; the step only records that it is waiting.
    Wait,
}

/// A cron job of the platform under test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobDef {
    /// The job's name.
    pub name: String,
    /// Its 6-field cron expression (`sec min hour day month weekday`).
    pub cron: Spanned<String>,
    /// URL that runs the job now (POST); templates allowed.
    pub trigger: Spanned<String>,
}

/// Default timeouts of an environment.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsDef {
    /// A request's timeout (default `30s`).
    #[serde(default)]
    pub request: Option<Spanned<Dur>>,
    /// A poll's timeout (default `5m`).
    #[serde(default)]
    pub poll: Option<Spanned<Dur>>,
}

/// TLS settings: an extra CA, and a client certificate for mTLS.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsDef {
    /// PEM file of an extra CA to trust (relative to the environment file).
    #[serde(default)]
    pub ca_file: Option<String>,
    /// PEM client certificate (mTLS).
    #[serde(default)]
    pub client_cert: Option<String>,
    /// PEM private key of the client certificate.
    #[serde(default)]
    pub client_key: Option<String>,
}
