//! `request:` as written: method, URL, headers, query, auth, bodies.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

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
