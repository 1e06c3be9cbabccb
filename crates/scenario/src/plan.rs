//! The checked, compiled form of scenarios and environments that the runner executes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_json_path::JsonPath;

use crate::matcher::Matcher;
pub use crate::model::{ApprovalMode, ClockKind};
use crate::span::Span;
use crate::template::{Tpl, TplValue};

/// An environment, checked: where to run and with what.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name (`local`, `staging`) or file stem.
    pub name: String,
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// Shown in reports.
    pub description: Option<String>,
    /// Variables every scenario sees.
    pub vars: Vec<(String, TplValue)>,
    /// Names of the secrets it needs.
    pub secrets: Vec<String>,
    /// Where each secret is declared in the environment file, so that a secret that is
    /// not set can be pointed at.
    pub secret_spans: Vec<(String, Span)>,
    /// Default request timeout.
    pub request_timeout: Duration,
    /// Default poll timeout.
    pub poll_timeout: Duration,
    /// TLS settings.
    pub tls: Tls,
    /// Refused unless `--allow-protected`.
    pub protected: bool,
    /// Network-level retries of each request.
    pub retries: u32,
    /// The bank's clock.
    pub clock: ClockKind,
    /// How `approve` steps are carried out.
    pub approvals: ApprovalMode,
    /// The platform's cron jobs (fired by `advance_clock`).
    pub jobs: Vec<Job>,
    /// Pre-flight checks of the environment.
    pub checks: Vec<Check>,
    /// For `http` approvals: the reviewer API request and its expectation.
    pub approval_request: Option<(Request, Expect)>,
    /// For `prompt` approvals: what the operator must do.
    pub approval_instructions: Option<Tpl>,
    /// For `prompt` approvals: how long to wait for an answer.
    pub approval_timeout: Duration,
    /// The bank sandbox (`bank:`), for `rehearse contract check`.
    pub bank: Option<Bank>,
}

/// The bank sandbox of an environment, compiled (`bank:` in the environment file).
#[derive(Debug, Clone)]
pub struct Bank {
    /// The API root (a template over the environment's vars).
    pub url: Tpl,
    /// The version it speaks, as written (`v2`).
    pub api_version: String,
    /// The team's version folders, resolved against the environment file's folder.
    pub versions: Option<PathBuf>,
    /// Who is told about drift.
    pub owner: Option<String>,
    /// Which secrets hold the credentials.
    pub auth: BankAuth,
    /// Creating test payments is allowed.
    pub writes: bool,
    /// A payment that exists on the sandbox, for read-only checks.
    pub payment_id: Option<String>,
    /// Where `bank:` is written.
    pub span: Option<Span>,
}

/// Which secrets hold the bank credentials (their names; the values are read at run time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BankAuth {
    /// None given.
    #[default]
    None,
    /// `Authorization: Bearer <the secret's value>`.
    ApiKey(String),
    /// OAuth client credentials.
    Client {
        /// The secret holding the client id.
        id: String,
        /// The secret holding the client secret.
        secret: String,
    },
}

/// A pre-flight check, compiled.
#[derive(Debug, Clone)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// Who fixes it.
    pub owner: Option<String>,
    /// What to do when it fails.
    pub hint: Option<String>,
    /// The ticket raised for it (an http or https URL).
    pub ticket: Option<String>,
    /// Where it is written.
    pub span: Span,
    /// What it does.
    pub kind: CheckKind,
}

impl Check {
    /// The kind as a word.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            CheckKind::Request { .. } => "request",
            CheckKind::Heartbeat { .. } => "job_heartbeat",
            CheckKind::Version { .. } => "version",
            CheckKind::SecretPresent(_) => "secret_present",
            CheckKind::Reachable { .. } => "reachable",
        }
    }

    /// What makes two checks the same check (they run once): kind, name and target.
    pub fn identity(&self) -> String {
        let target = match &self.kind {
            CheckKind::Request { request, .. } => {
                format!("{} {}", request.method, request.url.source())
            }
            CheckKind::Heartbeat { url, .. } | CheckKind::Version { url, .. } => {
                url.source().to_owned()
            }
            CheckKind::SecretPresent(name) => name.clone(),
            CheckKind::Reachable { target, .. } => target.source().to_owned(),
        };
        format!("{}|{}|{target}", self.kind_name(), self.name)
    }
}

/// What a pre-flight check does.
#[derive(Debug, Clone)]
pub enum CheckKind {
    /// A request and its expectation.
    Request {
        /// The request.
        request: Box<Request>,
        /// What its response must look like.
        expect: Expect,
    },
    /// A job's last success is younger than `max_age`.
    Heartbeat {
        /// The job's status URL.
        url: Tpl,
        /// Path to the last success time.
        path: JsonPath,
        /// The path as written.
        path_text: String,
        /// Oldest acceptable age.
        max_age: Duration,
    },
    /// The deployed version.
    Version {
        /// URL reporting it.
        url: Tpl,
        /// Path to it.
        path: JsonPath,
        /// The path as written.
        path_text: String,
        /// Expected version; `--expect-version` when `None`.
        equals: Option<Tpl>,
    },
    /// A declared secret is set for the harness.
    SecretPresent(String),
    /// DNS and TCP.
    Reachable {
        /// URL or host:port.
        target: Tpl,
        /// Time allowed.
        timeout: Duration,
    },
}

/// A cron job of the platform under test.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its name.
    pub name: String,
    /// Its 6-field cron expression, checked.
    pub cron: String,
    /// URL that runs it now.
    pub trigger: Tpl,
}

impl Environment {
    /// An environment with defaults and no vars (built in code).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            path: None,
            description: None,
            vars: Vec::new(),
            secrets: Vec::new(),
            secret_spans: Vec::new(),
            request_timeout: Duration::from_secs(30),
            poll_timeout: Duration::from_secs(300),
            tls: Tls::default(),
            protected: false,
            retries: 0,
            clock: ClockKind::Real,
            approvals: ApprovalMode::Mock,
            jobs: Vec::new(),
            checks: Vec::new(),
            approval_request: None,
            approval_instructions: None,
            approval_timeout: Duration::from_secs(15 * 60),
            bank: None,
        }
    }
}

/// TLS settings: files are resolved against the environment file's folder.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra CA (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM), for mTLS.
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM), for mTLS.
    pub client_key: Option<PathBuf>,
}

/// A scenario, checked and compiled.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file, as given (relative paths stay relative); the sort key of `--shard`.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The owning team.
    pub owner: Option<String>,
    /// Runs with no other scenario at the same time.
    pub exclusive: bool,
    /// Why the scenario is left out of runs on this environment (its `needs:` are not
    /// met); such a scenario has no steps.
    pub left_out: Option<String>,
    /// Its own variables, bound in order after the environment's.
    pub vars: Vec<(String, TplValue)>,
    /// Pre-flight checks it needs.
    pub requires: Vec<Check>,
    /// The steps.
    pub steps: Vec<Step>,
    /// The steps that always run.
    pub cleanup: Vec<Step>,
    /// Keep a cookie jar for the scenario (`cookies: false` turns it off).
    pub cookies: bool,
    /// Every variable name its templates read (the environment's, its own vars and
    /// captures alike, in its checks, steps, cleanup and fragments), sorted: what the
    /// scenario may need of an environment. The built-in `local` environment starts its
    /// embedded stack only for a scenario that reads one of the stack's vars.
    pub reads: Vec<String>,
    /// Where the scenario's name is written.
    pub span: Span,
}

/// A step, compiled.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its name, unique in its scenario.
    pub name: String,
    /// Where the step starts.
    pub span: Span,
    /// What it does.
    pub action: Action,
    /// What the response must look like (requests only).
    pub expect: Expect,
    /// What to take from the response.
    pub captures: Vec<Capture>,
    /// How to repeat it.
    pub poll: Option<Poll>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// An HTTP request.
    Request(Request),
    /// A pause.
    Wait(Duration),
    /// Binds variables (the parameters of an included fragment).
    Bind(Vec<(String, TplValue)>),
    /// A bank reviewer's decision.
    Approve(Approval),
    /// Moves the bank's virtual clock forward.
    AdvanceClock(Duration),
}

/// A reviewer's decision to carry out.
#[derive(Debug, Clone)]
pub struct Approval {
    /// The bank's id of the payment.
    pub reference: Tpl,
    /// Approve or reject.
    pub decision: Decision,
    /// The reviewer's note.
    pub note: Option<Tpl>,
    /// The amount, for an operator's prompt.
    pub amount: Option<Tpl>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve.
    Approve,
    /// Reject.
    Reject,
}

impl Decision {
    /// `approve` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }
}

/// An HTTP request, compiled.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method token as sent (standard methods upper-cased).
    pub method: String,
    /// URL template.
    pub url: Tpl,
    /// Headers, in order; a name written with a list of values appears once per value.
    pub headers: Vec<(Tpl, Tpl)>,
    /// Query parameters, in order; a list of values gives one pair per value.
    pub query: Vec<(String, Tpl)>,
    /// Credentials for the `Authorization` header.
    pub auth: Option<Box<Auth>>,
    /// The body.
    pub body: Body,
    /// Overrides the environment's request timeout.
    pub timeout: Option<Duration>,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Network-level retries; the environment's when `None`.
    pub retries: Option<u32>,
    /// Cookies sent with this request only (not stored in the jar).
    pub cookies: Vec<(String, Tpl)>,
}

/// Credentials that make a request's `Authorization` header.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `Basic base64(user:password)`.
    Basic {
        /// The user name.
        user: Tpl,
        /// The password.
        password: Tpl,
    },
    /// `Bearer TOKEN`.
    Bearer(Tpl),
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// JSON (types kept).
    Json(TplValue),
    /// Text.
    Text(Tpl),
    /// The bytes of a fixture file, read when the request is sent.
    File(FixtureFile),
    /// Form-encoded.
    Form(Vec<(String, Tpl)>),
    /// `multipart/form-data`, parts in order.
    Multipart(Vec<Part>),
}

/// A file under the suite's `fixtures/`, checked to exist at validation.
#[derive(Debug, Clone)]
pub struct FixtureFile {
    /// The path as written, relative to `fixtures/`.
    pub rel: String,
    /// The real path read at run time.
    pub path: PathBuf,
    /// The fixtures folder (absolute): at run time the file is checked again to be a
    /// regular file inside it (`fixture_len`).
    pub dir: PathBuf,
}

/// A part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    /// The field name.
    pub name: String,
    /// What the part holds.
    pub content: PartContent,
}

/// What a multipart part holds.
#[derive(Debug, Clone)]
pub enum PartContent {
    /// A text field.
    Text(Tpl),
    /// A file.
    File {
        /// The file read at run time.
        file: FixtureFile,
        /// The file name sent in `Content-Disposition`.
        filename: String,
        /// The part's `Content-Type`.
        content_type: String,
    },
}

/// What a response must look like.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Accepted status codes. Steps and approval requests that say nothing accept any
    /// status below 400; a pre-flight check checks only what it says.
    pub status: Option<StatusMatch>,
    /// Header checks.
    pub headers: Vec<HeaderCheck>,
    /// JSONPath checks.
    pub json: Vec<JsonCheck>,
    /// Texts the body must contain.
    pub body_contains: Vec<Tpl>,
    /// Checks of the body: its text, its bytes, their length and digest.
    pub body: Vec<BodyCheck>,
    /// Checks of the cookies the response sets (`Set-Cookie`).
    pub cookies: Vec<CookieCheck>,
    /// Upper bound of the response time.
    pub duration_lt: Option<Duration>,
    /// Where `duration_lt` is written.
    pub duration_lt_span: Option<Span>,
    /// A JSON Schema the body must satisfy.
    pub schema: Option<SchemaCheck>,
}

/// Accepted status codes: one of `patterns` (any, when empty), and every one of `ops`.
#[derive(Debug, Clone)]
pub struct StatusMatch {
    /// The codes or classes, one of which must match (no constraint when empty).
    pub patterns: Vec<StatusPattern>,
    /// Comparisons that must all hold (`ne: 204`, `gte: 200`, `lt: 300`).
    pub ops: Vec<StatusOp>,
    /// Where written.
    pub span: Option<Span>,
}

impl StatusMatch {
    /// What a step accepts when it says nothing: any status below 400.
    pub fn below_400() -> Self {
        Self {
            patterns: vec![
                StatusPattern::Class(1),
                StatusPattern::Class(2),
                StatusPattern::Class(3),
            ],
            ops: Vec::new(),
            span: None,
        }
    }

    /// True when `code` is accepted.
    pub fn accepts(&self, code: u16) -> bool {
        (self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(code)))
            && self.ops.iter().all(|op| match *op {
                StatusOp::Ne(p) => !p.matches(code),
                StatusOp::Gt(c) => code > c,
                StatusOp::Gte(c) => code >= c,
                StatusOp::Lt(c) => code < c,
                StatusOp::Lte(c) => code <= c,
            })
    }
}

impl std::fmt::Display for StatusMatch {
    /// In plain words: `200 or 201`, `2xx and not 204`, `at least 200 and below 300`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if !self.patterns.is_empty() {
            let any: Vec<String> = self.patterns.iter().map(ToString::to_string).collect();
            parts.push(any.join(" or "));
        }
        parts.extend(self.ops.iter().map(|op| match op {
            StatusOp::Ne(p) => format!("not {p}"),
            StatusOp::Gt(c) => format!("above {c}"),
            StatusOp::Gte(c) => format!("at least {c}"),
            StatusOp::Lt(c) => format!("below {c}"),
            StatusOp::Lte(c) => format!("at most {c}"),
        }));
        f.write_str(&parts.join(" and "))
    }
}

/// A status code or class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    /// An exact code.
    Code(u16),
    /// A class: `2` for `2xx`.
    Class(u16),
}

impl StatusPattern {
    /// True when `code` is this code or in this class.
    pub fn matches(self, code: u16) -> bool {
        match self {
            Self::Code(c) => c == code,
            Self::Class(c) => code / 100 == c,
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// A comparison of the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOp {
    /// Not this code or class.
    Ne(StatusPattern),
    /// Above.
    Gt(u16),
    /// At least.
    Gte(u16),
    /// Below.
    Lt(u16),
    /// At most.
    Lte(u16),
}

/// A header check.
#[derive(Debug, Clone)]
pub struct HeaderCheck {
    /// Lower-case header name.
    pub name: String,
    /// `name[i]`: the i-th value of a header sent several times (from 0; negative counts
    /// from the end).
    pub index: Option<i64>,
    /// The matcher.
    pub matcher: Matcher,
    /// Where written.
    pub span: Option<Span>,
}

/// A JSONPath, compiled, or a template rendered into one at run time.
#[derive(Debug, Clone)]
pub enum PathKey {
    /// A path with no template.
    Fixed(JsonPath),
    /// `$.errors[{{ index }}].id`: rendered, then parsed, when checked.
    Template(Tpl),
}

/// A JSONPath check.
#[derive(Debug, Clone)]
pub struct JsonCheck {
    /// The path.
    pub path: PathKey,
    /// The path as written.
    pub path_text: String,
    /// The matcher.
    pub matcher: Matcher,
    /// Where written.
    pub span: Option<Span>,
}

/// A JSON Schema check.
#[derive(Debug, Clone)]
pub struct SchemaCheck {
    /// The fixture path.
    pub fixture: String,
    /// The compiled validator.
    pub validator: Arc<jsonschema::Validator>,
    /// Where written.
    pub span: Option<Span>,
}

/// A check of the body.
#[derive(Debug, Clone)]
pub struct BodyCheck {
    /// What is checked.
    pub kind: BodyCheckKind,
    /// Where written.
    pub span: Option<Span>,
}

/// What a body check looks at.
#[derive(Debug, Clone)]
pub enum BodyCheckKind {
    /// The decoded text (invalid UTF-8 replaced by U+FFFD) against a matcher.
    Text(Matcher),
    /// The SHA-256 of the bytes, lower-case hex.
    Sha256(String),
    /// The number of bytes against a matcher.
    BytesLen(Matcher),
    /// The bytes equal these (written as `base64` or `hex`).
    Bytes {
        /// The expected bytes.
        expected: Vec<u8>,
        /// `base64` or `hex`: how they were written.
        written_as: &'static str,
    },
}

/// A check of a cookie the response sets.
#[derive(Debug, Clone)]
pub struct CookieCheck {
    /// The cookie's name (case-sensitive).
    pub name: String,
    /// The part checked.
    pub attribute: CookieAttr,
    /// The matcher.
    pub matcher: Matcher,
    /// Where written.
    pub span: Option<Span>,
}

/// A part of a `Set-Cookie`: its value or one of its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieAttr {
    /// The value.
    Value,
    /// `Path`.
    Path,
    /// `Domain`.
    Domain,
    /// `Expires`, as sent.
    Expires,
    /// `Max-Age`, a number.
    MaxAge,
    /// `Secure`, true or false.
    Secure,
    /// `HttpOnly`, true or false.
    HttpOnly,
    /// `SameSite`, as sent.
    SameSite,
}

impl CookieAttr {
    /// The keys that name the parts, as written in scenarios.
    pub const KEYS: &'static [&'static str] = &[
        "value",
        "path",
        "domain",
        "expires",
        "max_age",
        "secure",
        "http_only",
        "same_site",
    ];

    /// The part a key names.
    pub fn parse(key: &str) -> Option<Self> {
        Some(match key {
            "value" => Self::Value,
            "path" => Self::Path,
            "domain" => Self::Domain,
            "expires" => Self::Expires,
            "max_age" => Self::MaxAge,
            "secure" => Self::Secure,
            "http_only" => Self::HttpOnly,
            "same_site" => Self::SameSite,
            _ => return None,
        })
    }

    /// The key, as written in scenarios.
    pub fn key(self) -> &'static str {
        match self {
            Self::Value => "value",
            Self::Path => "path",
            Self::Domain => "domain",
            Self::Expires => "expires",
            Self::MaxAge => "max_age",
            Self::Secure => "secure",
            Self::HttpOnly => "http_only",
            Self::SameSite => "same_site",
        }
    }
}

/// A value to capture into a variable.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The variable.
    pub var: String,
    /// Where to take it from.
    pub from: CaptureFrom,
    /// A regex over the text of what `from` gave, and the group to keep.
    pub regex: Option<(Regex, usize)>,
    /// Mask the value in all output. Unset: masked when the request carried a secret
    /// (a token obtained with an API key is itself a secret).
    pub secret: Option<bool>,
    /// Where written.
    pub span: Option<Span>,
}

/// Where a capture takes its value.
#[derive(Debug, Clone)]
pub enum CaptureFrom {
    /// A JSONPath into the body (the path as written is kept for messages).
    Json(PathKey, String),
    /// A response header (lower-case name): its value, or the list of its values when it
    /// was sent several times.
    Header(String),
    /// A cookie the response sets: its value or an attribute.
    Cookie(String, CookieAttr),
    /// The whole body (JSON if it parses, else text).
    Body,
}

/// How to repeat a request.
#[derive(Debug, Clone)]
pub struct Poll {
    /// First interval.
    pub every: Duration,
    /// Give up after.
    pub timeout: Duration,
    /// Interval factor after each attempt.
    pub backoff: f64,
    /// Interval bound.
    pub max_every: Option<Duration>,
    /// Terminal states: when one holds, the poll fails at once.
    pub fail_if: Vec<JsonCheck>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_comparisons_read_in_plain_words_and_all_hold() {
        let m = StatusMatch {
            patterns: vec![StatusPattern::Class(2)],
            ops: vec![StatusOp::Ne(StatusPattern::Code(204)), StatusOp::Lt(300)],
            span: None,
        };
        assert_eq!(m.to_string(), "2xx and not 204 and below 300");
        assert!(m.accepts(200));
        assert!(!m.accepts(204));
        assert!(!m.accepts(302));
        let range = StatusMatch {
            patterns: Vec::new(),
            ops: vec![StatusOp::Gte(200), StatusOp::Lte(299), StatusOp::Gt(100)],
            span: None,
        };
        assert_eq!(
            range.to_string(),
            "at least 200 and at most 299 and above 100"
        );
        assert!(range.accepts(299) && !range.accepts(300) && !range.accepts(199));
    }
}
