//! The journal of requests the bank received, bounded so a long-lived mock stays flat.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ApiVersion;
use crate::filter::{CONDITION_KEYS, Condition, all_hold};

/// One request the bank received, with credentials masked.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) at: DateTime<Utc>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) version: Option<ApiVersion>,
    pub(crate) headers: Map<String, Value>,
    pub(crate) body: Value,
    pub(crate) status: Option<u16>,
    pub(crate) fault: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct Journal {
    capacity: usize,
    next_seq: u64,
    entries: VecDeque<Entry>,
}

impl Journal {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            next_seq: 0,
            entries: VecDeque::new(),
        }
    }

    pub(crate) fn push(&mut self, mut entry: Entry) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    pub(crate) fn total(&self) -> u64 {
        self.next_seq
    }

    /// The newest `query.limit` entries that match it, oldest first.
    pub(crate) fn query(&self, query: &Query) -> Vec<Entry> {
        let mut found: Vec<Entry> = self
            .entries
            .iter()
            .rev()
            .filter(|e| query.matches(e))
            .take(query.limit)
            .cloned()
            .collect();
        found.reverse();
        found
    }
}

/// What `GET /__admin/journal` asks for: `path`, `method`, conditions on headers and body
/// fields ([`Condition`]), all of which must hold, and how many of the newest to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    path: Option<String>,
    method: Option<String>,
    conditions: Vec<Condition>,
    limit: usize,
}

/// Entries a journal query returns when it gives no `limit`.
pub(crate) const DEFAULT_LIMIT: usize = 1000;

/// Conditions one query may hold: far more than a scenario needs, few enough that a query
/// string cannot make every entry cost much.
const MAX_CONDITIONS: usize = 32;

impl Default for Query {
    fn default() -> Self {
        Self {
            path: None,
            method: None,
            conditions: Vec::new(),
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Query {
    /// From the query string's pairs; an unknown parameter is an error, so a misspelt
    /// filter does not silently return every entry.
    pub(crate) fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> Result<Self, String> {
        let mut query = Self::default();
        for (key, value) in pairs {
            match key.as_ref() {
                "path" => query.path = Some(value.into_owned()),
                "method" => query.method = Some(value.into_owned()),
                "limit" => {
                    query.limit = value
                        .parse()
                        .map_err(|_| format!("read `limit` = `{value}`: not a whole number"))?;
                }
                key => match Condition::parse(key, &value) {
                    Some(condition) => {
                        if query.conditions.len() == MAX_CONDITIONS {
                            return Err(format!(
                                "read the filters: more than {MAX_CONDITIONS} conditions"
                            ));
                        }
                        query.conditions.push(condition?);
                    }
                    None => {
                        return Err(format!(
                            "unknown journal filter `{key}`: use `path`, `method`, `limit`, {CONDITION_KEYS}"
                        ));
                    }
                },
            }
        }
        Ok(query)
    }

    fn matches(&self, entry: &Entry) -> bool {
        self.path
            .as_deref()
            .is_none_or(|p| glob_match(p, &entry.path))
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(&entry.method))
            && all_hold(&self.conditions, &entry.headers, &entry.body)
    }
}

/// `*` matches any run of characters (slashes included); everything else is literal.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "cookie",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "password", "token", "api_key", "apikey"]
        .iter()
        .any(|s| key.contains(s))
}

/// Keep the scheme and the last 4 characters of long credentials: enough to tell which key
/// came, not enough to reuse it.
pub(crate) fn mask(value: &str) -> String {
    let (scheme, credential) = match value.split_once(' ') {
        Some((scheme, credential)) => (format!("{scheme} "), credential),
        None => (String::new(), value),
    };
    let chars: Vec<char> = credential.chars().collect();
    if chars.len() >= 12 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{scheme}****{tail}")
    } else {
        format!("{scheme}****")
    }
}

pub(crate) fn masked_headers(headers: &wiremock::http::HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .map(|v| {
                if SECRET_HEADERS.contains(&name.as_str()) {
                    mask(&v)
                } else {
                    v
                }
            })
            .collect();
        out.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
    }
    out
}

fn mask_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && !v.is_null() {
                    *v = Value::String(mask(v.as_str().unwrap_or("")));
                } else {
                    mask_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// The body as the journal shows it: JSON when it parses, form fields as an object, text
/// otherwise; secret-looking fields masked.
pub(crate) fn masked_body(content_type: Option<&str>, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    let mut value = if let Ok(v) = serde_json::from_slice::<Value>(body) {
        v
    } else if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
            Ok(pairs) => Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ),
            Err(_) => Value::String(String::from_utf8_lossy(body).into_owned()),
        }
    } else {
        Value::String(String::from_utf8_lossy(body).into_owned())
    };
    mask_json(&mut value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_scheme_and_last_four() {
        assert_eq!(mask("Bearer test-api-key"), "Bearer ****-key");
        assert_eq!(mask("Bearer short"), "Bearer ****");
        assert_eq!(mask("rehearse-secret"), "****cret");
    }

    #[test]
    fn form_bodies_are_shown_as_fields_with_secrets_masked() {
        let body = masked_body(
            Some("application/x-www-form-urlencoded"),
            b"grant_type=client_credentials&client_id=me&client_secret=rehearse-secret",
        );
        assert_eq!(
            body,
            serde_json::json!({"grant_type": "client_credentials", "client_id": "me", "client_secret": "****cret"})
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match("/v2/payments*", "/v2/payments/pay_1"));
        assert!(glob_match("/v*/payments", "/v1/payments"));
        assert!(glob_match("*", "/anything"));
        assert!(!glob_match("/v2/payments", "/v2/payments/x"));
        assert!(!glob_match("/v2/*/x", "/v2/x"));
    }
}
