//! Conditions on a request as the journal shows it: a header or a field of the body has a
//! value. The journal's `GET /__admin/journal?header.NAME=…&body.FIELD=…` and a fault's
//! `"where"` use the same keys, so a scenario finds — and faults — only its own requests on
//! a bank that others share.
//!
//! A condition sees what the journal shows: header values and body fields named like
//! secrets are masked first, so a filter can never be used to guess a credential.

use std::cell::OnceCell;

use serde_json::{Map, Value};
use wiremock::Request;

use crate::ApiVersion;
use crate::journal::{self, glob_match};

/// How deep a body path may go (`body.a.b.c…`): the bodies of the bank API are shallow.
const MAX_BODY_DEPTH: usize = 16;

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    /// A header, by its lowercase name.
    Header(String),
    /// A field of the JSON (or form) body: object keys, or array indexes given as numbers.
    Body(Vec<String>),
}

/// `header.NAME=VALUE` or `body.PATH=VALUE`: the value is exact unless it has a `*`
/// (any run of characters), as journal paths and fault routes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Condition {
    field: Field,
    value: String,
}

/// The keys a condition may have, for error messages.
pub(crate) const CONDITION_KEYS: &str = "`header.NAME` (e.g. `header.x-rehearse-run`) or `body.FIELD` (e.g. `body.reference`, `body.amount.value`)";

impl Condition {
    /// A condition from its key and value, `None` when the key is not `header.…` or
    /// `body.…`, and an error when it is one of them but malformed.
    pub(crate) fn parse(key: &str, value: &str) -> Option<Result<Self, String>> {
        let field = if let Some(name) = key.strip_prefix("header.") {
            if name.is_empty() {
                return Some(Err(format!(
                    "`{key}` names no header; write e.g. `header.x-rehearse-run`"
                )));
            }
            Field::Header(name.to_ascii_lowercase())
        } else if let Some(path) = key.strip_prefix("body.") {
            let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
            if segments.iter().any(String::is_empty) {
                return Some(Err(format!(
                    "`{key}` has an empty field name; write e.g. `body.reference` or `body.amount.value`"
                )));
            }
            if segments.len() > MAX_BODY_DEPTH {
                return Some(Err(format!(
                    "`{key}` goes {} fields deep; at most {MAX_BODY_DEPTH}",
                    segments.len()
                )));
            }
            Field::Body(segments)
        } else {
            return None;
        };
        Some(Ok(Self {
            field,
            value: value.to_owned(),
        }))
    }

    /// Whether it holds for these (masked) headers and body.
    pub(crate) fn holds(&self, headers: &Map<String, Value>, body: &Value) -> bool {
        let found = match &self.field {
            Field::Header(name) => headers.get(name),
            Field::Body(segments) => segments
                .iter()
                .try_fold(body, |value, segment| match value {
                    Value::Object(map) => map.get(segment),
                    Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                    _ => None,
                }),
        };
        match found {
            Some(Value::String(text)) => glob_match(&self.value, text),
            // A number keeps the digits it came with (`12000`, `120.5`).
            Some(scalar @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                glob_match(&self.value, &scalar.to_string())
            }
            _ => false,
        }
    }
}

/// All of them hold.
pub(crate) fn all_hold(
    conditions: &[Condition],
    headers: &Map<String, Value>,
    body: &Value,
) -> bool {
    conditions.iter().all(|c| c.holds(headers, body))
}

/// A request the bank is answering, as faults see it: its method, path and version, and —
/// only when a fault with conditions asks — its headers and body as the journal shows them.
pub(crate) struct Seen<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) version: Option<ApiVersion>,
    req: Option<&'a Request>,
    view: OnceCell<(Map<String, Value>, Value)>,
}

impl<'a> Seen<'a> {
    pub(crate) fn new(req: &'a Request, version: Option<ApiVersion>) -> Self {
        Self {
            method: req.method.as_str(),
            path: req.url.path(),
            version,
            req: Some(req),
            view: OnceCell::new(),
        }
    }

    /// A request known by its method and path only: no condition holds for it.
    #[cfg(test)]
    pub(crate) fn bare(method: &'a str, path: &'a str, version: Option<ApiVersion>) -> Self {
        Self {
            method,
            path,
            version,
            req: None,
            view: OnceCell::new(),
        }
    }

    pub(crate) fn satisfies(&self, conditions: &[Condition]) -> bool {
        if conditions.is_empty() {
            return true;
        }
        let (headers, body) = self.view.get_or_init(|| match self.req {
            Some(req) => (
                journal::masked_headers(&req.headers),
                journal::masked_body(
                    req.headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok()),
                    &req.body,
                ),
            ),
            None => (Map::new(), Value::Null),
        });
        all_hold(conditions, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn condition(key: &str, value: &str) -> Condition {
        Condition::parse(key, value)
            .expect("a condition key")
            .expect("a valid condition")
    }

    #[test]
    fn body_fields_are_found_by_dotted_paths_and_compared_as_text() {
        let headers = Map::new();
        let body = json!({
            "reference": "rehearse 1a2b",
            "amount": {"value": "120.00", "currency": "EUR"},
            "amount_cents": 12000,
            "items": [{"name": "first"}],
        });
        assert!(condition("body.reference", "rehearse 1a2b").holds(&headers, &body));
        assert!(condition("body.reference", "rehearse *").holds(&headers, &body));
        assert!(!condition("body.reference", "rehearse").holds(&headers, &body));
        assert!(condition("body.amount.value", "120.00").holds(&headers, &body));
        assert!(condition("body.amount_cents", "12000").holds(&headers, &body));
        assert!(condition("body.items.0.name", "first").holds(&headers, &body));
        assert!(!condition("body.items.1.name", "first").holds(&headers, &body));
        assert!(
            !condition("body.amount", "*").holds(&headers, &body),
            "an object is no value"
        );
        assert!(!condition("body.missing", "*").holds(&headers, &body));
        assert!(!condition("body.reference", "x").holds(&headers, &Value::Null));
    }

    #[test]
    fn header_names_are_case_insensitive_and_values_are_the_masked_ones() {
        let mut headers = Map::new();
        headers.insert("x-rehearse-run".into(), json!("r-20250106T090000Z-abc123"));
        headers.insert("authorization".into(), json!("Bearer ****-key"));
        let body = Value::Null;
        assert!(
            condition("header.X-Rehearse-Run", "r-20250106T090000Z-abc123").holds(&headers, &body)
        );
        assert!(!condition("header.x-rehearse-run", "r-other").holds(&headers, &body));
        assert!(condition("header.authorization", "Bearer ****-key").holds(&headers, &body));
        assert!(
            !condition("header.authorization", "Bearer test-api-key").holds(&headers, &body),
            "a filter must not reveal the credential behind the mask"
        );
    }

    #[test]
    fn malformed_keys_are_errors_and_other_keys_are_not_conditions() {
        assert!(Condition::parse("path", "/v2/payments").is_none());
        assert!(Condition::parse("headers.x", "y").is_none());
        let problem = |key: &str| Condition::parse(key, "v").and_then(Result::err);
        insta::assert_snapshot!(problem("header.").unwrap_or_default(), @"`header.` names no header; write e.g. `header.x-rehearse-run`");
        insta::assert_snapshot!(problem("body.amount..value").unwrap_or_default(), @"`body.amount..value` has an empty field name; write e.g. `body.reference` or `body.amount.value`");
        let deep = format!("body.{}", vec!["a"; 17].join("."));
        insta::assert_snapshot!(problem(&deep).unwrap_or_default(), @"`body.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a` goes 17 fields deep; at most 16");
    }
}
