//! Credentials stay out of a recorded folder: every credential an exchange carried (the
//! `Authorization` and `Cookie` headers, Basic auth's secret, form and JSON fields named like
//! secrets, tokens the bank answered) is remembered, every value written is scrubbed of
//! them and of fields named like secrets, and a folder whose text still holds one is not
//! written at all.

use std::collections::BTreeSet;

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use serde_json::Value;

use crate::infer::is_secret_key;
use crate::record::exchange::Exchange;

/// What a removed value is replaced with.
pub const REDACTED: &str = "REDACTED";
/// Credentials shorter than this are not searched for (they would match ordinary text).
const MIN_SECRET_LEN: usize = 6;
/// The most credentials remembered (a recorder in front of a busy platform sees a token
/// per hour, not per request).
const MAX_SECRETS: usize = 10_000;

/// Credentials seen in the traffic.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets {
    values: BTreeSet<String>,
}

impl Secrets {
    fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.len() >= MIN_SECRET_LEN && self.values.len() < MAX_SECRETS {
            self.values.insert(value.to_owned());
        }
    }

    /// Remembers the credentials of one exchange.
    pub(crate) fn collect(&mut self, exchange: &Exchange) {
        for (name, value) in &exchange.request_headers {
            let name = name.to_ascii_lowercase();
            if name == "authorization" || name == "proxy-authorization" {
                self.add(value);
                if let Some((scheme, credential)) = value.trim().split_once(' ') {
                    self.add(credential);
                    if scheme.eq_ignore_ascii_case("basic")
                        && let Ok(decoded) =
                            base64::engine::general_purpose::STANDARD.decode(credential.trim())
                        && let Ok(text) = String::from_utf8(decoded)
                    {
                        self.add(&text);
                        if let Some((_, secret)) = text.split_once(':') {
                            self.add(secret);
                        }
                    }
                }
            } else if name == "cookie" {
                self.add(value);
                for pair in value.split(';') {
                    if let Some((_, v)) = pair.split_once('=') {
                        self.add(v);
                    }
                }
            } else if is_secret_key(&name) {
                self.add(value);
            }
        }
        for (name, value) in &exchange.response_headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let first = value.split(';').next().unwrap_or_default();
                if let Some((_, v)) = first.split_once('=') {
                    self.add(v);
                }
            }
        }
        if let Ok(pairs) =
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&exchange.request_body)
        {
            for (k, v) in pairs {
                if is_secret_key(&k) {
                    self.add(&v);
                }
            }
        }
        for body in [&exchange.request_body, &exchange.response_body] {
            if body.len() <= crate::record::recording::MAX_OBSERVED_BODY
                && let Ok(value) = serde_json::from_slice::<Value>(body)
            {
                self.collect_json(&value, 0);
            }
        }
    }

    fn collect_json(&mut self, value: &Value, depth: usize) {
        if depth > crate::infer::MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) if is_secret_key(k) => self.add(s),
                        _ => self.collect_json(v, depth + 1),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.collect_json(v, depth + 1)),
            _ => {}
        }
    }

    /// A matcher of every credential seen (none when there are none).
    pub(crate) fn matcher(&self) -> Option<AhoCorasick> {
        if self.values.is_empty() {
            return None;
        }
        AhoCorasick::new(&self.values).ok()
    }
}

/// `value` with every field named like a secret replaced by [`REDACTED`] (when
/// `by_key`) and every credential inside a string replaced too.
pub(crate) fn scrub(value: &Value, matcher: Option<&AhoCorasick>, by_key: bool) -> Value {
    scrub_in(value, matcher, by_key, 0)
}

fn scrub_in(value: &Value, matcher: Option<&AhoCorasick>, by_key: bool, depth: usize) -> Value {
    if depth > crate::infer::MAX_DEPTH + 8 {
        return Value::Null;
    }
    match value {
        Value::String(s) => Value::String(scrub_text(s, matcher)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| scrub_in(v, matcher, by_key, depth + 1))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = scrub_text(k, matcher);
                    let v = match v {
                        Value::String(s) if by_key && is_secret_key(k) && !s.starts_with("{{") => {
                            Value::String(REDACTED.to_owned())
                        }
                        other => scrub_in(other, matcher, by_key, depth + 1),
                    };
                    (key, v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(crate) fn scrub_text(s: &str, matcher: Option<&AhoCorasick>) -> String {
    match matcher {
        Some(m) if m.is_match(s) => m.replace_all(s, &vec![REDACTED; m.patterns_len()]),
        _ => s.to_owned(),
    }
}

/// The first credential found in `text`, for the refusal to write it.
pub(crate) fn leaks(text: &str, matcher: Option<&AhoCorasick>) -> bool {
    matcher.is_some_and(|m| m.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credentials_from_headers_forms_and_bodies_are_scrubbed() {
        let basic = base64::engine::general_purpose::STANDARD.encode("client-1:super-secret-1");
        let exchange = Exchange {
            method: "POST".into(),
            path: "/oauth/token".into(),
            request_headers: vec![
                ("Authorization".into(), format!("Basic {basic}")),
                ("Cookie".into(), "session=cookie-value-9; x=1".into()),
            ],
            request_body: b"grant_type=client_credentials&client_secret=form-secret-2".to_vec(),
            status: 200,
            response_headers: vec![],
            response_body: br#"{"access_token": "tok_abcdef123456", "expires_in": 60}"#.to_vec(),
        };
        let mut secrets = Secrets::default();
        secrets.collect(&exchange);
        let m = secrets.matcher();
        let written = json!({
            "note": "called with super-secret-1 and tok_abcdef123456",
            "nested": [{"password": "hunter22", "name": "ok"}],
            "cookie-value-9": basic,
            "other": "form-secret-2",
        });
        let out = scrub(&written, m.as_ref(), true).to_string();
        for secret in [
            "super-secret-1",
            "tok_abcdef123456",
            "hunter22",
            "cookie-value-9",
            "form-secret-2",
            basic.as_str(),
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("\"name\":\"ok\""), "{out}");
        assert!(leaks("… tok_abcdef123456 …", m.as_ref()));
        assert!(!leaks("nothing here", m.as_ref()));
    }
}
