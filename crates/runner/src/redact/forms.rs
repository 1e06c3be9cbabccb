//! The forms a secret takes on its way to output: as written, JSON-escaped (serde's way,
//! with `\u` escapes as Python and Go write them, with `\/`, and nested up to three times:
//! an echo of a JSON body inside a JSON response inside a report), HTML-escaped,
//! percent-encoded (RFC 3986 and forms, upper and lower hex, and the WHATWG URL parser's
//! own sets for paths, queries and user info), base64 (standard and URL-safe, padded or
//! not, and at the three alignments it can take inside a longer base64 text such as the
//! Basic auth of `user:secret`) and hex.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// How many times a JSON escape is applied to itself at most.
const JSON_DEPTH: usize = 3;

/// Every form of `value` that output may hold, `value` itself first; no repeats, none
/// shorter than `min` bytes. The first `.1` are text (escapes and encodings that keep the
/// letters): those whose head is masked before a cut mark.
pub(super) fn forms(value: &str, min: usize) -> (Vec<String>, usize) {
    let mut out: Vec<String> = Vec::new();
    let push = |out: &mut Vec<String>, f: String| {
        if f.len() >= min && !out.contains(&f) {
            out.push(f);
        }
    };
    let json = json_family(value);
    push(&mut out, value.to_owned());
    for f in &json {
        push(&mut out, f.clone());
    }
    // Text dropped into an HTML page, as written or as JSON (an error page that shows the
    // request it got).
    for f in std::iter::once(value).chain(json.iter().take(3).map(String::as_str)) {
        push(&mut out, html(f, "&quot;", "&#39;"));
        push(&mut out, html(f, "&#34;", "&#x27;"));
    }
    for f in std::iter::once(value).chain(json.first().map(String::as_str)) {
        for upper in [true, false] {
            push(&mut out, percent(f, false, upper));
            push(&mut out, percent(f, true, upper));
        }
    }
    for f in whatwg(value) {
        push(&mut out, f);
    }
    let text = out.len();
    for f in base64_forms(value.as_bytes()) {
        push(&mut out, f);
    }
    push(&mut out, hex::encode(value));
    push(&mut out, hex::encode_upper(value));
    (out, text)
}

/// The JSON escapes of `value` and of themselves, to [`JSON_DEPTH`] levels: serde's
/// (`\"`, `\\`, control characters), `\u` for every non-ASCII character (Python's
/// `json.dumps`), that and `<`, `>`, `&` as `\u003c`… (Go's `encoding/json`), and `/` as
/// `\/` (PHP). The plain serde escape comes first.
fn json_family(value: &str) -> Vec<String> {
    let escapes: [fn(&str) -> String; 4] = [json, json_ascii, json_go, json_slash];
    let mut out: Vec<String> = Vec::new();
    let mut level = vec![value.to_owned()];
    for _ in 0..JSON_DEPTH {
        let mut next = Vec::new();
        for text in &level {
            for escape in escapes {
                let f = escape(text);
                if f != value && !out.contains(&f) && !next.contains(&f) {
                    next.push(f);
                }
            }
        }
        out.extend(next.iter().cloned());
        level = next;
    }
    out
}

/// serde_json's escape of a string, without the quotes.
fn json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .to_owned()
}

/// [`json`], then every non-ASCII character as `\uXXXX` (UTF-16, as JSON says).
fn json_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in json(s).chars() {
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

/// [`json_ascii`] with `<`, `>` and `&` escaped too, as Go does.
fn json_go(s: &str) -> String {
    json_ascii(s)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// [`json`] with `/` as `\/`.
fn json_slash(s: &str) -> String {
    json(s).replace('/', "\\/")
}

fn html(s: &str, quot: &str, apos: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', quot)
        .replace('\'', apos)
}

/// RFC 3986 percent-encoding: every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`; `form`: a
/// space as `+` and `*` kept (the HTML form rule, as `serde_urlencoded` writes it).
fn percent(s: &str, form: bool, upper: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => out.push(b as char),
            b'~' if !form => out.push('~'),
            b'*' if form => out.push('*'),
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// What the URL parser makes of `value` written raw in a path (where `\` becomes `/`), a
/// query or the user info: each encodes only some bytes.
fn whatwg(value: &str) -> Vec<String> {
    let Ok(base) = reqwest::Url::parse("http://h/") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut u = base.clone();
    u.set_path(value);
    out.push(u.path().trim_start_matches('/').to_owned());
    let mut u = base.clone();
    u.set_query(Some(value));
    out.push(u.query().unwrap_or_default().to_owned());
    let mut u = base;
    if u.set_password(Some(value)).is_ok() {
        out.push(u.password().unwrap_or_default().to_owned());
    }
    out
}

/// The base64 of `bytes` in both alphabets: whole (padded and not), and the part that
/// stays the same wherever it sits in a longer text, at each of the three alignments
/// (`Basic base64(user:secret)` holds one of them).
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        let bare = engine.encode(bytes);
        let pad = "=".repeat((4 - bare.len() % 4) % 4);
        out.push(format!("{bare}{pad}"));
        out.push(bare);
        for shift in 0..3usize {
            let mut shifted = vec![0u8; shift];
            shifted.extend_from_slice(bytes);
            let text = engine.encode(&shifted);
            // The first characters hold bits of the bytes before; the last, when the
            // bytes do not fill a group, bits of the bytes after.
            let skip = [0, 2, 3][shift];
            let end = if shifted.len() % 3 == 0 {
                text.len()
            } else {
                text.len() - 1
            };
            if let Some(stable) = text.get(skip..end) {
                out.push(stable.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn the_json_family_holds_nested_and_unicode_escapes() {
        let f = json_family("pä\"ss<");
        for want in [
            r#"pä\"ss<"#,
            r#"pä\\\"ss<"#,
            r#"pä\\\\\\\"ss<"#,
            r#"p\u00e4\"ss<"#,
            r#"p\\u00e4\\\"ss<"#,
            r#"p\u00e4\"ss\u003c"#,
        ] {
            assert!(f.iter().any(|x| x == want), "{want} not in {f:?}");
        }
    }

    #[test]
    fn base64_inside_a_longer_text_is_found_at_every_alignment() {
        let secret = "pa\"ss word&CANARY";
        let (all, _) = forms(secret, 4);
        for prefix in ["", "a:", "alice:", "bob:"] {
            let text = STANDARD.encode(format!("{prefix}{secret}"));
            // A stable part longer than the secret itself: all but a few characters.
            assert!(
                all.iter()
                    .any(|f| f.len() > secret.len() && text.contains(f.as_str())),
                "{prefix}: {text}"
            );
        }
    }

    #[test]
    fn url_parser_forms_follow_its_sets() {
        let f = whatwg(r"a\b <c>+%41'&");
        assert_eq!(f[0], "a/b%20%3Cc%3E+%41'&");
        assert_eq!(f[1], "a\\b%20%3Cc%3E+%41%27&");
    }
}
