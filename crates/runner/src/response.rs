//! A response as rehearse checks it: status, headers in the order sent (repeats kept),
//! and the decoded body as bytes, read as text or JSON on demand.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use rehearse_scenario::excerpt;
use serde_json::Value as Json;

use crate::cookies::SetCookie;

/// A response, its body read and decoded.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Every header line, in the order sent (a header sent twice is here twice).
    pub(crate) headers: Vec<(String, String)>,
    body: Body,
    json: OnceLock<Result<Json, String>>,
    /// The values of the cookies set by this exchange, redirects included (they are
    /// masked when the request carried a secret).
    pub(crate) set_cookie_values: Vec<String>,
}

/// The body: text when it is valid UTF-8 (kept as it came, no copy), bytes otherwise
/// (text then made on first use, invalid sequences replaced by U+FFFD).
#[derive(Debug)]
enum Body {
    Text(String),
    Bytes(Bytes, OnceLock<String>),
}

impl Response {
    pub(crate) fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        let body = match String::from_utf8(body) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Bytes(Bytes::from(e.into_bytes()), OnceLock::new()),
        };
        Self {
            status,
            headers,
            body,
            json: OnceLock::new(),
            set_cookie_values: Vec::new(),
        }
    }

    /// The decoded body.
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.body {
            Body::Text(t) => t.as_bytes(),
            Body::Bytes(b, _) => b,
        }
    }

    /// The decoded body as text (exact when it is UTF-8).
    pub(crate) fn text(&self) -> &str {
        match &self.body {
            Body::Text(t) => t,
            Body::Bytes(b, lossy) => lossy.get_or_init(|| String::from_utf8_lossy(b).into_owned()),
        }
    }

    /// The first value of a header.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in the order sent.
    pub(crate) fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last `Set-Cookie` of this response for a cookie name.
    pub(crate) fn cookie(&self, name: &str) -> Option<SetCookie> {
        self.header_values("set-cookie")
            .into_iter()
            .rev()
            .filter_map(SetCookie::parse)
            .find(|c| c.name == name)
    }

    /// The media type of `Content-Type`, lower case, without parameters.
    pub(crate) fn media_type(&self) -> Option<String> {
        let ct = self.header("content-type")?;
        let t = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        (!t.is_empty()).then_some(t)
    }

    /// True when the body is not text: a media type that is not textual, or bytes that are
    /// not UTF-8 (or hold NUL) where the type does not say.
    pub(crate) fn is_binary(&self) -> bool {
        let textual = self.media_type().map(|t| {
            t.starts_with("text/")
                || t.ends_with("+json")
                || t.ends_with("+xml")
                || [
                    "application/json",
                    "application/xml",
                    "application/javascript",
                    "application/x-www-form-urlencoded",
                    "application/yaml",
                    "application/x-yaml",
                    "application/graphql",
                    "application/problem+json",
                ]
                .contains(&t.as_str())
        });
        match (textual, &self.body) {
            (Some(true), _) => false,
            (_, Body::Bytes(..)) => true,
            (_, Body::Text(t)) => t.contains('\0'),
        }
    }

    /// What a report shows of the body: an excerpt of its text, or for a binary body its
    /// size and type (`<2,048 bytes image/png>`): bytes are never dumped.
    pub(crate) fn excerpt(&self, max: usize) -> String {
        if self.is_binary() {
            self.binary_summary()
        } else {
            excerpt(self.text(), max)
        }
    }

    /// `<2,048 bytes image/png>`.
    pub(crate) fn binary_summary(&self) -> String {
        let n = thousands(self.bytes().len());
        match self.media_type() {
            Some(t) => format!("<{n} bytes {t}>"),
            None => format!("<{n} bytes>"),
        }
    }

    /// The body as JSON, parsed once.
    pub(crate) fn json(&self) -> Result<&Json, &str> {
        self.json
            .get_or_init(|| {
                serde_json::from_slice(self.bytes())
                    .map_err(|e| format!("a body that is not JSON ({e}): {}", self.excerpt(120)))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// `Retry-After` on a 429 or 503, in seconds or as an HTTP date.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        if self.status != 429 && self.status != 503 {
            return None;
        }
        let v = self.header("retry-after")?.trim();
        if let Ok(secs) = v.parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .ok()
    }
}

/// `2048` → `2,048`.
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(ct: &str, body: &[u8]) -> Response {
        Response::new(200, vec![("content-type".into(), ct.into())], body.to_vec())
    }

    #[test]
    fn a_binary_body_is_summarised_never_dumped() {
        let png = [
            &[0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
            &[0u8; 2040],
        ]
        .concat();
        let r = with_type("image/png", &png);
        assert!(r.is_binary());
        assert_eq!(r.excerpt(200), "<2,048 bytes image/png>");
        let r = Response::new(200, Vec::new(), vec![0xff, 0xfe, 0x00]);
        assert_eq!(r.excerpt(200), "<3 bytes>");
    }

    #[test]
    fn text_is_exact_when_utf8_and_lossy_otherwise() {
        let r = with_type("text/plain; charset=utf-8", b"a\r\nb");
        assert_eq!(r.text(), "a\r\nb");
        assert!(!r.is_binary());
        let r = with_type("text/plain", b"caf\xe9");
        assert_eq!(r.text(), "caf\u{fffd}");
        assert!(!r.is_binary(), "a text type is text even when not UTF-8");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2048), "2,048");
        assert_eq!(thousands(536_870_912), "536,870,912");
    }
}
