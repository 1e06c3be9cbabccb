//! The scenario and environment files as written, before validation.
//!
//! These types mirror the YAML one to one (and generate the JSON Schema); [`crate::compile`]
//! turns them into a checked [`crate::Plan`].

use schemars::JsonSchema;
use serde::Deserialize;

use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

/// A scenario file: one business flow.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the flow proves, in a sentence.
    pub name: Spanned<String>,
    /// Longer description, shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags for `--tag` filters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The team that owns the flow; failures are grouped by owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// What the flow needs of an environment; where it is not there (a real clock, no
    /// bank mock back office) the flow is left out of the run with a note, not an error.
    #[serde(default)]
    pub needs: Option<NeedsDef>,
    /// Run this scenario alone, with no other scenario of the run at the same time (it
    /// injects faults or moves shared state that would disturb others).
    #[serde(default)]
    pub exclusive: bool,
    /// Pre-flight checks this flow needs; all run (once each) before any step of the run.
    #[serde(default)]
    pub requires: Vec<Spanned<CheckDef>>,
    /// Variables of this scenario (templates allowed); the environment's vars come first.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub vars: SpannedMap<Value>,
    /// The steps, run in order; the first failure stops the flow.
    pub steps: Spanned<Vec<Spanned<StepDef>>>,
    /// Steps that always run after `steps`, also after a failure or Ctrl-C.
    #[serde(default)]
    pub cleanup: Vec<Spanned<StepDef>>,
    /// Keep a cookie jar for the scenario (default true): cookies a response sets are sent
    /// with later requests that match their domain and path. `false` turns the jar off.
    #[serde(default)]
    pub cookies: Option<bool>,
}

/// What a scenario needs of an environment.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedsDef {
    /// `virtual`: the bank's virtual clock (the flow uses `advance_clock`).
    #[serde(default)]
    pub clock: Option<ClockKind>,
    /// Variables the environment must define, e.g. `bank_admin` (the bank mock's back
    /// office, for fault injection and the journal).
    #[serde(default)]
    pub vars: Vec<String>,
}

/// A fragment file, included by scenarios with `include:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragmentFile {
    /// Parameters the fragment takes, with optional defaults (`null` means required).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub params: SpannedMap<Value>,
    /// The steps of the fragment.
    pub steps: Spanned<Vec<Spanned<StepDef>>>,
}

/// One step. Exactly one of `request`, `wait`, `include`, `approve` or `advance_clock`
/// says what it does.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Name shown in reports; unique within the scenario. Defaults to the action.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// An HTTP request.
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// Pause for a duration (`500ms`, `2s`).
    #[serde(default)]
    pub wait: Option<Spanned<Dur>>,
    /// Run the steps of a fragment file.
    #[serde(default)]
    #[schemars(with = "Option<IncludeSchema>")]
    pub include: Option<Spanned<IncludeDef>>,
    /// A bank reviewer's decision, carried out by the environment's approval mode.
    #[serde(default)]
    pub approve: Option<Spanned<ApproveDef>>,
    /// Move the bank's virtual clock forward (`4h`), firing the platform's cron jobs due
    /// in that span in time order. Only where the environment's clock is `virtual`.
    #[serde(default)]
    pub advance_clock: Option<Spanned<Dur>>,
    /// What the response must look like.
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// Values to take from the response, by variable name.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, CaptureSchema>")]
    pub capture: SpannedMap<Value>,
    /// Repeat the request until `expect` holds.
    #[serde(default)]
    pub poll: Option<Spanned<PollDef>>,
}

/// An HTTP request.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    /// HTTP method, any RFC 9110 token (`GET`, `PURGE`, `PROPFIND`); `GET` when left out.
    /// The standard methods are upper-cased (`get` sends `GET`); others are sent as written.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// Absolute URL (templates allowed).
    pub url: Spanned<String>,
    /// Request headers: name (templates allowed) → value, or a list of values sent as one
    /// header line each (templates allowed).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, ScalarOrList>")]
    pub headers: SpannedMap<Value>,
    /// Query parameters: name → value, or a list of values (`tag: [a, b]` sends
    /// `tag=a&tag=b`); templates allowed.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, ScalarOrList>")]
    pub query: SpannedMap<Value>,
    /// Credentials that make the `Authorization` header: `{ basic: { user, password } }` or
    /// `{ bearer: TOKEN }` (templates allowed).
    #[serde(default)]
    pub auth: Option<Spanned<AuthDef>>,
    /// A JSON body; types are kept (`"{{ n }}"` with a number stays a number).
    #[serde(default)]
    pub json: Option<Value>,
    /// A raw text body (templates allowed), or `{ file: path }`: the bytes of a file under
    /// `fixtures/`, sent as they are.
    #[serde(default)]
    #[schemars(with = "Option<RequestBodySchema>")]
    pub body: Option<Value>,
    /// A form-encoded body.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, ScalarOrList>>")]
    pub form: Option<SpannedMap<Value>>,
    /// A `multipart/form-data` body: field name → text (templates allowed), a file
    /// `{ file, filename, content_type }` under `fixtures/`, or a list of them.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, MultipartSchema>>")]
    pub multipart: Option<SpannedMap<Value>>,
    /// Time allowed for the whole request; the environment's default otherwise.
    #[serde(default)]
    pub timeout: Option<Spanned<Dur>>,
    /// Follow 3xx redirects (default: no, so they can be asserted).
    #[serde(default)]
    pub follow_redirects: Option<bool>,
    /// Network-level retries (no response: connection refused or reset, timeout); a step
    /// that passes only after one is reported as flaky. Default: the environment's.
    #[serde(default)]
    pub retries: Option<u32>,
    /// Cookies sent with this request only, name → value (templates allowed); they are
    /// not stored in the scenario's jar.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, String>")]
    pub cookies: SpannedMap<Value>,
}

/// `auth:` of a request: exactly one of `basic` and `bearer`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthDef {
    /// HTTP Basic authentication (RFC 7617): `Authorization: Basic base64(user:password)`.
    #[serde(default)]
    pub basic: Option<Spanned<BasicAuthDef>>,
    /// A bearer token (RFC 6750): `Authorization: Bearer TOKEN`.
    #[serde(default)]
    pub bearer: Option<Spanned<String>>,
}

/// `auth: { basic: { user, password } }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthDef {
    /// The user name (templates allowed).
    pub user: Spanned<String>,
    /// The password (templates allowed; usually `{{ secret('NAME') }}`).
    pub password: Spanned<String>,
}

/// What a response must look like.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectDef {
    /// A code (`200`), a class (`2xx`), a list of them, or comparisons
    /// (`{ gte: 200, lt: 300, ne: 204 }`).
    #[serde(default)]
    #[schemars(with = "Option<StatusSchema>")]
    pub status: Option<Value>,
    /// Header name → matcher (names are case-insensitive); `name[i]` checks the i-th value
    /// of a header sent several times.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, MatcherSchema>")]
    pub headers: SpannedMap<Value>,
    /// RFC 9535 JSONPath → matcher. A literal means equality.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, MatcherSchema>")]
    pub json: SpannedMap<Value>,
    /// Text the body must contain (one or a list).
    #[serde(default)]
    #[schemars(with = "Option<OneOrMany>")]
    pub body_contains: Option<Value>,
    /// The body: a string is its exact decoded text; a mapping takes text matchers and
    /// `sha256`, `bytes_len`, `base64`, `hex`.
    #[serde(default)]
    #[schemars(with = "Option<BodySchema>")]
    pub body: Option<Value>,
    /// Cookies the response sets, by name: a literal is the value; a mapping checks the
    /// value and attributes (`value path domain expires max_age secure http_only same_site
    /// exists`).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, CookieSchema>")]
    pub cookies: SpannedMap<Value>,
    /// The response must arrive within this duration.
    #[serde(default)]
    pub duration_lt: Option<Spanned<Dur>>,
    /// A JSON Schema fixture (path under `fixtures/`) the body must satisfy.
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
}

/// How to repeat a request until its `expect` holds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollDef {
    /// Time between attempts (default `1s`).
    #[serde(default)]
    pub every: Option<Spanned<Dur>>,
    /// Give up after this long (default: the environment's poll timeout).
    #[serde(default)]
    pub timeout: Option<Spanned<Dur>>,
    /// Multiply the interval by this after each attempt (default 1).
    #[serde(default)]
    pub backoff: Option<Spanned<f64>>,
    /// Upper bound of the interval when backing off.
    #[serde(default)]
    pub max_every: Option<Spanned<Dur>>,
    /// JSONPath → matcher; when any holds the poll fails at once (a terminal state).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, MatcherSchema>")]
    pub fail_if: SpannedMap<Value>,
}

/// `include: path` or `include: {file, with}`.
#[derive(Debug, JsonSchema)]
pub struct IncludeDef {
    /// Path of the fragment, relative to the including file.
    pub file: String,
    /// Parameters (templates allowed).
    #[schemars(rename = "with", with = "std::collections::BTreeMap<String, Value>")]
    pub params: SpannedMap<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncludeFull {
    file: String,
    #[serde(default, rename = "with")]
    params: SpannedMap<Value>,
}

impl<'de> Deserialize<'de> for IncludeDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IncludeDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a fragment path or `{file, with}`")
            }
            fn visit_str<E>(self, v: &str) -> Result<IncludeDef, E> {
                Ok(IncludeDef {
                    file: v.to_owned(),
                    params: SpannedMap::default(),
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<IncludeDef, A::Error> {
                let full =
                    IncludeFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(IncludeDef {
                    file: full.file,
                    params: full.params,
                })
            }
        }
        d.deserialize_any(V)
    }
}

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

/// A pre-flight check: is this part of the environment ready, and if not, who fixes what.
/// Exactly one of `request`, `job_heartbeat`, `version`, `secret_present`, `reachable`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// What is checked, as a sentence: "platform has bank credentials".
    pub name: Spanned<String>,
    /// Who fixes it when it fails (a team or a person).
    #[serde(default)]
    pub owner: Option<String>,
    /// What to do when it fails.
    #[serde(default)]
    pub hint: Option<String>,
    /// Any HTTP check: a request and what its response must look like.
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// With `request`: what the response must look like (default: nothing is checked but
    /// that a response came; a pre-flight check tests only what it says).
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// A job's last successful run is recent enough.
    #[serde(default)]
    pub job_heartbeat: Option<Spanned<HeartbeatDef>>,
    /// The deployed version is the expected one.
    #[serde(default)]
    pub version: Option<Spanned<VersionDef>>,
    /// A secret the environment needs is set for the harness.
    #[serde(default)]
    pub secret_present: Option<Spanned<String>>,
    /// DNS resolves and a TCP connection opens (a URL or host:port).
    #[serde(default)]
    pub reachable: Option<Spanned<ReachableDef>>,
}

/// `job_heartbeat:` — the sample platform's `/internal/jobs/{name}` works out of the box.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatDef {
    /// URL of the job's status (templates allowed).
    pub url: Spanned<String>,
    /// JSONPath to the time of the last successful run (default `$.last_success`).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The last success must be younger than this.
    pub max_age: Spanned<Dur>,
}

/// `version:` — the deployed version.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDef {
    /// URL that reports the version (templates allowed).
    pub url: Spanned<String>,
    /// JSONPath to the version (default `$.version`).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The expected version (templates allowed); `--expect-version` when left out.
    #[serde(default)]
    pub equals: Option<Spanned<String>>,
}

/// `reachable:` — a URL or `host:port`, or the mapping form with a timeout.
#[derive(Debug, JsonSchema)]
pub struct ReachableDef {
    /// `https://host[:port]/…` or `host:port` (templates allowed).
    pub target: Spanned<String>,
    /// Time allowed for DNS and the TCP connection (default 5s).
    pub timeout: Option<Spanned<Dur>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReachableFull {
    target: Spanned<String>,
    #[serde(default)]
    timeout: Option<Spanned<Dur>>,
}

impl<'de> Deserialize<'de> for ReachableDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ReachableDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a URL, host:port, or `{target, timeout}`")
            }
            fn visit_str<E>(self, v: &str) -> Result<ReachableDef, E> {
                Ok(ReachableDef {
                    target: Spanned::new(v.to_owned()),
                    timeout: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ReachableDef, A::Error> {
                let full =
                    ReachableFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ReachableDef {
                    target: full.target,
                    timeout: full.timeout,
                })
            }
        }
        d.deserialize_any(V)
    }
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

/// `approve:` — a bank reviewer's decision on a payment held for review.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveDef {
    /// The bank's id of the payment (templates allowed).
    pub reference: Spanned<String>,
    /// `approve` (default) or `reject`.
    #[serde(default)]
    pub decision: Option<Spanned<DecisionDef>>,
    /// The reviewer's note (the rejection reason the platform should show).
    #[serde(default)]
    pub note: Option<Spanned<String>>,
    /// The amount, shown to an operator in `prompt` mode (templates allowed).
    #[serde(default)]
    pub amount: Option<Spanned<String>>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionDef {
    /// Approve the payment.
    Approve,
    /// Reject it.
    Reject,
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

/// Schema only: a status expectation.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum StatusSchema {
    Code(u16),
    Class(String),
    List(Vec<StatusOne>),
    Ops(Box<StatusOps>),
}

/// Schema only: status comparisons.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct StatusOps {
    eq: Option<StatusOne>,
    ne: Option<StatusOne>,
    gt: Option<u16>,
    gte: Option<u16>,
    lt: Option<u16>,
    lte: Option<u16>,
    one_of: Option<Vec<StatusOne>>,
}

/// Schema only: `expect.body`.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum BodySchema {
    /// The exact text.
    Text(String),
    /// Matchers and byte checks.
    Ops(Box<BodyOps>),
}

/// Schema only.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct BodyOps {
    eq: Option<String>,
    ne: Option<String>,
    matches: Option<String>,
    contains: Option<String>,
    starts_with: Option<String>,
    ends_with: Option<String>,
    len: Option<Box<MatcherSchema>>,
    /// SHA-256 of the bytes, hex.
    sha256: Option<String>,
    /// Number of bytes: a number or a matcher.
    bytes_len: Option<Box<MatcherSchema>>,
    /// The bytes, base64.
    base64: Option<String>,
    /// The bytes, hex.
    hex: Option<String>,
}

/// Schema only: a cookie expectation.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum CookieSchema {
    /// The value.
    Value(String),
    /// Value and attributes.
    Attributes(Box<CookieOps>),
}

/// Schema only.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct CookieOps {
    value: Option<Box<MatcherSchema>>,
    path: Option<Box<MatcherSchema>>,
    domain: Option<Box<MatcherSchema>>,
    expires: Option<Box<MatcherSchema>>,
    max_age: Option<Box<MatcherSchema>>,
    secure: Option<bool>,
    http_only: Option<bool>,
    same_site: Option<Box<MatcherSchema>>,
    exists: Option<bool>,
}

/// Schema only.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum StatusOne {
    Code(u16),
    Class(String),
}

/// Schema only: a string or a list of strings.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Schema only: a scalar or a list of scalars (query parameters, headers, form fields).
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum ScalarOrList {
    One(Scalar),
    Many(Vec<Scalar>),
}

/// Schema only: a string, number or boolean.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum Scalar {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// Schema only: a text body or a fixture file.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum RequestBodySchema {
    /// Text (templates allowed).
    Text(String),
    /// The bytes of a file under `fixtures/`.
    File(FileBodySchema),
}

/// Schema only: `body: { file: path }`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct FileBodySchema {
    /// Path under `fixtures/`.
    file: String,
}

/// Schema only: a multipart field: text, a file, or a list of them.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum MultipartSchema {
    One(MultipartPartSchema),
    Many(Vec<MultipartPartSchema>),
}

/// Schema only: one multipart part.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum MultipartPartSchema {
    /// A text field (templates allowed).
    Text(Scalar),
    /// A file under `fixtures/`.
    File(MultipartFileSchema),
}

/// Schema only: a multipart file part.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct MultipartFileSchema {
    /// Path under `fixtures/`.
    file: String,
    /// The file name sent (default: the file's own name).
    filename: Option<String>,
    /// The part's `Content-Type` (default: from the file's extension, else
    /// `application/octet-stream`).
    content_type: Option<String>,
}

/// Schema only: a literal (equality) or a mapping of operators.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum MatcherSchema {
    Ops(Box<MatcherOps>),
    Literal(Value),
}

/// Schema only: matcher operators.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct MatcherOps {
    eq: Option<Value>,
    ne: Option<Value>,
    gt: Option<Value>,
    gte: Option<Value>,
    lt: Option<Value>,
    lte: Option<Value>,
    matches: Option<String>,
    contains: Option<Value>,
    exists: Option<bool>,
    #[schemars(rename = "type")]
    type_: Option<String>,
    one_of: Option<Vec<Value>>,
    len: Option<Value>,
    starts_with: Option<String>,
    ends_with: Option<String>,
}

/// Schema only: a capture.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum CaptureSchema {
    /// A JSONPath.
    Path(String),
    /// One of the forms.
    Full(CaptureOps),
}

/// Schema only.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) struct CaptureOps {
    json: Option<String>,
    header: Option<String>,
    regex: Option<String>,
    group: Option<u32>,
    body: Option<bool>,
    /// A cookie the response sets, by name.
    cookie: Option<String>,
    /// With `cookie`: the attribute to take instead of the value.
    attribute: Option<String>,
    /// Mask the value in all output (default: when the request carried a secret).
    secret: Option<bool>,
}

/// Schema only: `include: path` or `include: {file, with}`.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[expect(dead_code, reason = "exists for the JSON Schema only")]
pub(crate) enum IncludeSchema {
    /// The fragment's path, relative to the including file.
    Path(String),
    /// The path and parameters.
    Full(IncludeDef),
}
