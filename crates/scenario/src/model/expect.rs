//! `expect:` as written.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

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
