//! Types that exist only to give the JSON Schema its shapes (`#[schemars(with = …)]`):
//! what a key accepts when serde reads it through a `Value`.

use schemars::JsonSchema;

use super::*;
use crate::value::Value;

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
