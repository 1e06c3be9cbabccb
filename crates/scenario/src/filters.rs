//! The filters rehearse adds to minijinja's (`{{ value | b64encode }}`), and the check,
//! at validation, that every filter a template names exists.
//!
//! Text is filtered as its UTF-8 bytes. `urlencode` and `tojson` replace minijinja's own:
//! its `urlencode` keeps `/` (Jinja's rule, for paths) and its `tojson` escapes `<`, `>`,
//! `&` and `'` for HTML; in an HTTP request both would change the data.

use std::collections::HashSet;
use std::fmt::Write as _;

use base64::Engine as _;
use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};
use sha2::Digest as _;

/// The filters rehearse adds or redefines.
pub const FILTERS: &[&str] = &[
    "urlencode",
    "b64encode",
    "b64decode",
    "sha256",
    "hex",
    "tojson",
    "fromjson",
];

/// minijinja's own filters (3.1, `builtins`), for "did you mean" hints.
const BUILTIN_FILTERS: &[&str] = &[
    "safe",
    "escape",
    "e",
    "lower",
    "upper",
    "title",
    "capitalize",
    "replace",
    "length",
    "count",
    "dictsort",
    "items",
    "reverse",
    "trim",
    "join",
    "split",
    "lines",
    "default",
    "d",
    "round",
    "abs",
    "int",
    "float",
    "attr",
    "first",
    "last",
    "min",
    "max",
    "sort",
    "list",
    "string",
    "bool",
    "batch",
    "slice",
    "sum",
    "indent",
    "select",
    "reject",
    "selectattr",
    "rejectattr",
    "map",
    "groupby",
    "unique",
    "chain",
    "zip",
    "pprint",
    "format",
];

/// The longest input `fromjson` parses (a template value is user input).
const MAX_FROMJSON: usize = 16 * 1024 * 1024;

/// Registers rehearse's filters on a minijinja environment.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("urlencode", urlencode);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("sha256", sha256);
    env.add_filter("hex", hex_filter);
    env.add_filter("tojson", tojson);
    env.add_filter("fromjson", fromjson);
}

/// The bytes a filter works on: text as UTF-8, bytes as they are, numbers and booleans as
/// written.
fn bytes_of(value: &Value, filter: &str) -> Result<Vec<u8>, Error> {
    match value.kind() {
        ValueKind::String | ValueKind::Bytes => Ok(value.as_bytes().unwrap_or_default().to_vec()),
        ValueKind::Number | ValueKind::Bool => Ok(value.to_string().into_bytes()),
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{filter}` takes text or bytes, got {other}"),
        )),
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`): safe in a path segment and in a query value.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn urlencode(value: &Value) -> Result<String, Error> {
    if value.kind() == ValueKind::Map {
        let mut pairs = Vec::new();
        for key in value.try_iter()? {
            let item = value.get_item(&key)?;
            if item.is_none() || item.is_undefined() {
                continue;
            }
            pairs.push(format!(
                "{}={}",
                percent_encode(key.to_string().as_bytes()),
                percent_encode(&bytes_of(&item, "urlencode")?)
            ));
        }
        return Ok(pairs.join("&"));
    }
    Ok(percent_encode(&bytes_of(value, "urlencode")?))
}

fn b64encode(value: &Value) -> Result<String, Error> {
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes_of(value, "b64encode")?))
}

fn b64decode(value: &Value) -> Result<Value, Error> {
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let text = value.as_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`b64decode` takes base64 text, got {}", value.kind()),
        )
    })?;
    let bytes = LENIENT.decode(text.trim()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`b64decode`: the value is not base64 ({e})"),
        )
    })?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => Value::from(s),
        // Not text: bytes, for `hex`, `sha256` or `b64encode`.
        Err(e) => Value::from_bytes(e.into_bytes()),
    })
}

fn sha256(value: &Value) -> Result<String, Error> {
    Ok(hex::encode(sha2::Sha256::digest(bytes_of(
        value, "sha256",
    )?)))
}

fn hex_filter(value: &Value) -> Result<String, Error> {
    Ok(hex::encode(bytes_of(value, "hex")?))
}

fn tojson(value: &Value, indent: Option<usize>) -> Result<Value, Error> {
    let text = match indent {
        None => serde_json::to_string(value),
        Some(n) => {
            let indent = vec![b' '; n.min(16)];
            let mut out = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&indent);
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(value, &mut ser)
                .map(|()| String::from_utf8_lossy(&out).into_owned())
        }
    }
    .map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`tojson`: the value has no JSON form ({e})"),
        )
    })?;
    Ok(Value::from_safe_string(text))
}

fn fromjson(value: &Value) -> Result<Value, Error> {
    let text = value.as_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`fromjson` takes JSON text, got {}", value.kind()),
        )
    })?;
    if text.len() > MAX_FROMJSON {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`fromjson`: the text is longer than {MAX_FROMJSON} bytes"),
        ));
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`fromjson`: the value is not JSON ({e})"),
        )
    })?;
    Ok(crate::template::to_jinja(&json))
}

/// Every name used as a filter in a template's text: `| name` inside `{{ }}` and `{% %}`,
/// and `{% filter name %}`, string literals skipped.
pub(crate) fn filter_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let open = &bytes[i..i + 2];
        if open != b"{{" && open != b"{%" {
            i += 1;
            continue;
        }
        let close: &[u8] = if open == b"{{" { b"}}" } else { b"%}" };
        let start = i + 2;
        let mut j = start;
        let mut quote = None;
        let mut expr = String::new();
        while j < bytes.len() {
            let b = bytes[j];
            match quote {
                Some(q) => {
                    if b == b'\\' {
                        j += 1;
                    } else if b == q {
                        quote = None;
                    }
                    expr.push(' ');
                }
                None if b == b'\'' || b == b'"' => {
                    quote = Some(b);
                    expr.push(' ');
                }
                None if bytes[j..].starts_with(close) => break,
                None => expr.push(char::from(b)),
            }
            j += 1;
        }
        collect_filters(&expr, open == b"{%", &mut names);
        i = j + 2;
    }
    names
}

/// Identifiers after `|` in an expression whose strings are blanked out.
fn collect_filters(expr: &str, block: bool, names: &mut Vec<String>) {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    if block {
        let trimmed = expr.trim_start_matches('-').trim_start();
        if let Some(rest) = trimmed.strip_prefix("filter ") {
            let name = ident(rest);
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    let mut parts = expr.split('|');
    parts.next();
    for part in parts {
        let name = ident(part);
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
}

/// Which filter names exist in `env`, asked of minijinja itself (so its own filters and
/// ours are known without a list to keep in step).
#[derive(Debug, Default)]
pub(crate) struct Known {
    yes: HashSet<String>,
    no: HashSet<String>,
}

impl Known {
    pub(crate) fn exists(&mut self, env: &Environment<'static>, name: &str) -> bool {
        if self.yes.contains(name) {
            return true;
        }
        if self.no.contains(name) {
            return false;
        }
        let unknown = env
            .compile_expression(&format!("none | {name}"))
            .and_then(|e| e.eval(()))
            .is_err_and(|e| e.kind() == ErrorKind::UnknownFilter);
        if unknown {
            self.no.insert(name.to_owned());
        } else {
            self.yes.insert(name.to_owned());
        }
        !unknown
    }
}

/// The filter names a "did you mean" may suggest.
pub(crate) fn suggestions() -> impl Iterator<Item = &'static str> {
    FILTERS.iter().chain(BUILTIN_FILTERS).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(expr: &str) -> String {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        register(&mut env);
        env.render_str(expr, ()).unwrap()
    }

    #[test]
    fn each_filter_does_what_the_format_reference_says() {
        assert_eq!(
            render("{{ 'a b/c?d=é&e~' | urlencode }}"),
            "a%20b%2Fc%3Fd%3D%C3%A9%26e~"
        );
        assert_eq!(
            render("{{ {'q': 'a b', 'n': 1} | urlencode }}"),
            "q=a%20b&n=1"
        );
        assert_eq!(
            render("{{ 'alice:s3cr3t' | b64encode }}"),
            "YWxpY2U6czNjcjN0"
        );
        assert_eq!(
            render("{{ 'YWxpY2U6czNjcjN0' | b64decode }}"),
            "alice:s3cr3t"
        );
        assert_eq!(render("{{ 'YQ' | b64decode }}"), "a", "padding is optional");
        assert_eq!(
            render("{{ '/w==' | b64decode | hex }}"),
            "ff",
            "bytes chain into hex"
        );
        assert_eq!(
            render("{{ 'abc' | sha256 }}"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(render("{{ 'hi' | hex }}"), "6869");
        assert_eq!(
            render("{{ {'a': '<b>', 'n': [1, 2]} | tojson }}"),
            r#"{"a":"<b>","n":[1,2]}"#
        );
        assert_eq!(render("{{ ('{\"id\": 7}' | fromjson).id }}"), "7");
        assert_eq!(
            render("{{ ('{\"n\": 10000000000000000365, \"d\": [1, 2]}' | fromjson).n }}"),
            "10000000000000000365",
            "a big integer keeps its digits"
        );
    }

    #[test]
    fn bad_input_is_an_error_that_says_what_was_expected() {
        let mut env = Environment::new();
        register(&mut env);
        let err = env.render_str("{{ '%%%' | b64decode }}", ()).unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
        let err = env.render_str("{{ 'nope' | fromjson }}", ()).unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
    }

    #[test]
    fn filter_names_are_found_outside_strings_only() {
        assert_eq!(
            filter_names(
                "a {{ x | b64encode | upper }} '{{ \"|nope\" | sha256 }}' {% filter lower %}"
            ),
            vec!["b64encode", "upper", "sha256", "lower"]
        );
        assert!(filter_names("no | template here").is_empty());
    }
}
