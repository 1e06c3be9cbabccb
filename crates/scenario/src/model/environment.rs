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
    /// The bank sandbox this environment's platform talks to, and the API version it
    /// speaks: what `rehearse contract check` probes for drift.
    #[serde(default)]
    pub bank: Option<Spanned<BankDef>>,
}

/// The bank sandbox of an environment (`rehearse contract check`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankDef {
    /// The sandbox's API root, where the version's routes are (`/v2/payments`…); templates
    /// allowed (`"{{ bank }}"`).
    pub url: Spanned<String>,
    /// The version it speaks (`v2`): the folder whose routes and schemas are checked.
    pub api_version: Spanned<String>,
    /// The team's version folders (a folder holding `v4/`… or one version folder),
    /// relative to this file; they replace built-in versions of the same name. Default:
    /// the built-in versions only.
    #[serde(default)]
    pub versions: Option<Spanned<String>>,
    /// Who is told about drift (a team, a person): the owner of failures in reports.
    #[serde(default)]
    pub owner: Option<String>,
    /// The names of the secrets (listed in `secrets:`) that hold the credentials:
    /// `{ api_key: BANK_API_KEY }`, or `{ client_id: …, client_secret: … }` for OAuth
    /// client credentials.
    #[serde(default)]
    pub auth: Option<Spanned<BankAuthDef>>,
    /// What the check may do on the sandbox.
    #[serde(default)]
    pub contract: Option<ContractDef>,
}

/// The names of the secrets holding the bank credentials.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BankAuthDef {
    /// The secret holding the API key (`Authorization: Bearer <key>`).
    #[serde(default)]
    pub api_key: Option<Spanned<String>>,
    /// The secret holding the OAuth client id.
    #[serde(default)]
    pub client_id: Option<Spanned<String>>,
    /// The secret holding the OAuth client secret.
    #[serde(default)]
    pub client_secret: Option<Spanned<String>>,
}

/// What `rehearse contract check` may do on the sandbox.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractDef {
    /// Creating test payments is allowed (default `false`: only reads). Each example
    /// request of the version is then sent; the payments created are listed at the end.
    #[serde(default)]
    pub writes: bool,
    /// The id of a payment that exists on the sandbox, for reading a payment without
    /// creating one (read-only checks).
    #[serde(default)]
    pub payment_id: Option<String>,
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
