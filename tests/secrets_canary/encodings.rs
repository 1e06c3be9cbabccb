//! The encodings of a canary that the matrix looks for, and the escapes the echo target
//! answers with.

use base64::Engine as _;

/// The encodings of a value that output must not hold, by name.
pub fn encodings(value: &str) -> Vec<(&'static str, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_url = base64::engine::general_purpose::URL_SAFE;
    let json1 = json_escape(value);
    let mut path_url = reqwest::Url::parse("http://h/").unwrap();
    path_url.set_path(value);
    let mut query_url = reqwest::Url::parse("http://h/").unwrap();
    query_url.set_query(Some(value));
    let all = vec![
        ("raw", value.to_owned()),
        ("first 8 characters", value.chars().take(8).collect()),
        ("JSON-escaped", json1.clone()),
        ("JSON-escaped twice", json_escape(&json1)),
        ("\\u-escaped", ascii_json(&json1)),
        ("\\u-escaped twice", json_escape(&ascii_json(&json1))),
        ("JSON-escaped, first 8", json1.chars().take(8).collect()),
        ("HTML-escaped", html_escape(value)),
        ("HTML-escaped JSON", html_escape(&json1)),
        ("percent-encoded", percent(value, false, true)),
        ("percent-encoded lower", percent(value, false, false)),
        ("form-encoded", percent(value, true, true)),
        ("form-encoded lower", percent(value, true, false)),
        (
            "in a URL path",
            path_url.path().trim_start_matches('/').to_owned(),
        ),
        ("in a URL query", query_url.query().unwrap_or("").to_owned()),
        ("base64", b64.encode(value)),
        (
            "base64 unpadded",
            b64.encode(value).trim_end_matches('=').to_owned(),
        ),
        ("base64 URL-safe", b64_url.encode(value)),
        ("base64 of alice:", b64.encode(format!("alice:{value}"))),
        ("hex", hex::encode(value)),
        ("hex upper", hex::encode_upper(value)),
    ];
    let mut seen = Vec::new();
    all.into_iter()
        .filter(|(_, f)| {
            let fresh = !f.is_empty() && !seen.contains(f);
            seen.push(f.clone());
            fresh
        })
        .collect()
}

pub fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// JSON text with every non-ASCII letter as `\uXXXX` (surrogate pairs past U+FFFF).
pub fn ascii_json(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// RFC 3986 percent-encoding (unreserved bytes kept); `form`: space as `+`.
fn percent(s: &str, form: bool, upper: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char);
            }
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}
