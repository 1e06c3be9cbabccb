//! Checking a response against `expect`, `fail_if`, and taking captures.

use std::time::Duration;

use rehearse_scenario::{
    BodyCheck, BodyCheckKind, Capture, CaptureFrom, CheckError, CookieCheck, Expect, HeaderCheck,
    JsonCheck, Matcher, PathKey, Span, Templates, Vars, excerpt,
};
use serde_json::Value as Json;
use sha2::Digest as _;

pub(crate) use crate::response::Response;
use crate::result::Failure;

pub(crate) fn failure(
    check: impl Into<String>,
    expected: String,
    actual: String,
    span: Option<&Span>,
) -> Failure {
    Failure {
        check: check.into(),
        expected,
        actual,
        location: span.map(ToString::to_string),
        source_line: span.map(|s| s.line_text().trim().to_owned()),
    }
}

/// Every expectation that does not hold, in the order written.
pub(crate) fn expect(
    e: &Expect,
    resp: &Response,
    duration: Duration,
    t: &Templates,
    vars: &Vars,
) -> Vec<Failure> {
    let mut out = Vec::new();
    match &e.status {
        Some(s) if !s.accepts(resp.status) => out.push(failure(
            "status",
            s.to_string(),
            // One line: the failure's first line is what the recap by owner shows, and an
            // HTML error page would otherwise spread over it (the body is in the record).
            match resp.excerpt(200).split_whitespace().collect::<Vec<_>>() {
                words if words.is_empty() => resp.status.to_string(),
                words => format!("{} {}", resp.status, words.join(" ")),
            },
            s.span.as_ref(),
        )),
        _ => {}
    }
    for h in &e.headers {
        if let Some(f) = header_check(h, resp, t, vars) {
            out.push(f);
        }
    }
    for c in &e.cookies {
        if let Some(f) = cookie_check(c, resp, t, vars) {
            out.push(f);
        }
    }
    if !e.json.is_empty() {
        match resp.json() {
            Ok(json) => {
                for c in &e.json {
                    if let Some(f) = json_check(c, json, t, vars) {
                        out.push(f);
                    }
                }
            }
            Err(why) => {
                let c = &e.json[0];
                out.push(failure(
                    c.path_text.clone(),
                    "a JSON body".to_owned(),
                    why.to_owned(),
                    c.span.as_ref(),
                ));
            }
        }
    }
    for needle in &e.body_contains {
        match t.render_string(needle, vars) {
            Ok(n) if resp.text().contains(&n) => {}
            Ok(n) => out.push(failure(
                "body",
                format!("to contain {n:?}"),
                resp.excerpt(200),
                needle.span.as_ref(),
            )),
            Err(e) => out.push(failure(
                "body",
                "a value".to_owned(),
                e.message,
                needle.span.as_ref(),
            )),
        }
    }
    for b in &e.body {
        if let Some(f) = body_check(b, resp, t, vars) {
            out.push(f);
        }
    }
    if let Some(limit) = e.duration_lt
        && duration >= limit
    {
        out.push(failure(
            "duration",
            format!("under {}", humantime::format_duration(limit)),
            format!("{} ms", duration.as_millis()),
            e.duration_lt_span.as_ref(),
        ));
    }
    if let Some(schema) = &e.schema {
        match resp.json() {
            Ok(json) => {
                let errors: Vec<String> = schema
                    .validator
                    .iter_errors(json)
                    .take(3)
                    .map(|err| {
                        let at = err.instance_path().to_string();
                        format!("{}: {err}", if at.is_empty() { "/" } else { &at })
                    })
                    .collect();
                if !errors.is_empty() {
                    out.push(failure(
                        "schema",
                        format!("a body valid against {}", schema.fixture),
                        errors.join("; "),
                        schema.span.as_ref(),
                    ));
                }
            }
            Err(why) => out.push(failure(
                "schema",
                "a JSON body".to_owned(),
                why.to_owned(),
                schema.span.as_ref(),
            )),
        }
    }
    out
}

/// The first `fail_if` that holds: a terminal state.
pub(crate) fn fail_if(
    checks: &[JsonCheck],
    resp: &Response,
    t: &Templates,
    vars: &Vars,
) -> Option<Failure> {
    let json = resp.json().ok()?;
    checks.iter().find_map(|c| {
        let actual = match query(&c.path, json, t, vars) {
            Ok(a) => a,
            Err(why) => {
                return Some(failure(
                    format!("fail_if {}", c.path_text),
                    "a valid JSONPath".to_owned(),
                    why,
                    c.span.as_ref(),
                ));
            }
        };
        c.matcher.check(actual.as_ref(), t, vars).is_ok().then(|| {
            failure(
                format!("fail_if {}", c.path_text),
                "not to reach this terminal state".to_owned(),
                actual.map_or_else(|| "nothing".to_owned(), |a| excerpt(&a.to_string(), 200)),
                c.span.as_ref(),
            )
        })
    })
}

fn json_check(c: &JsonCheck, json: &Json, t: &Templates, vars: &Vars) -> Option<Failure> {
    let actual = match query(&c.path, json, t, vars) {
        Ok(a) => a,
        Err(why) => {
            return Some(failure(
                c.path_text.clone(),
                "a valid JSONPath".to_owned(),
                why,
                c.span.as_ref(),
            ));
        }
    };
    run_matcher(&c.matcher, actual.as_ref(), t, vars)
        .map(|(expected, actual)| failure(c.path_text.clone(), expected, actual, c.span.as_ref()))
}

/// A header is its value when sent once, the list of its values when sent several times;
/// `name[i]` is one of them.
fn header_check(h: &HeaderCheck, resp: &Response, t: &Templates, vars: &Vars) -> Option<Failure> {
    let values: Vec<Json> = resp
        .header_values(&h.name)
        .into_iter()
        .map(|v| Json::String(v.to_owned()))
        .collect();
    let (check, result) = match h.index {
        Some(i) => {
            let at = usize::try_from(i).ok().or_else(|| {
                values
                    .len()
                    .checked_sub(usize::try_from(i.unsigned_abs()).ok()?)
            });
            let actual = at.and_then(|i| values.get(i));
            (
                format!("header {}[{i}]", h.name),
                run_matcher(&h.matcher, actual, t, vars),
            )
        }
        None => {
            let result = match values.as_slice() {
                [] => run_matcher(&h.matcher, None, t, vars),
                [one] => run_matcher(&h.matcher, Some(one), t, vars),
                many => match h.matcher.check_each(many, t, vars) {
                    Ok(()) => None,
                    Err(CheckError::Mismatch(m)) => Some((m.expected, m.actual)),
                    Err(CheckError::Render(e)) => {
                        Some(("a value to compare with".to_owned(), e.message))
                    }
                },
            };
            (format!("header {}", h.name), result)
        }
    };
    result.map(|(expected, actual)| failure(check, expected, actual, h.span.as_ref()))
}

fn cookie_check(c: &CookieCheck, resp: &Response, t: &Templates, vars: &Vars) -> Option<Failure> {
    let cookie = resp.cookie(&c.name);
    let actual = cookie.as_ref().and_then(|k| k.get(c.attribute));
    let check = match c.attribute {
        rehearse_scenario::CookieAttr::Value => format!("cookie {}", c.name),
        attr => format!("cookie {} {}", c.name, attr.key()),
    };
    run_matcher(&c.matcher, actual.as_ref(), t, vars).map(|(expected, actual)| {
        let actual = if cookie.is_none() {
            format!("no Set-Cookie for `{}` in the response", c.name)
        } else {
            actual
        };
        failure(check, expected, actual, c.span.as_ref())
    })
}

fn body_check(b: &BodyCheck, resp: &Response, t: &Templates, vars: &Vars) -> Option<Failure> {
    let (check, expected, actual) = match &b.kind {
        BodyCheckKind::Text(m) => match m.check_text(resp.text(), t, vars) {
            Ok(()) => return None,
            Err(CheckError::Mismatch(mm)) => (
                "body",
                mm.expected,
                if resp.is_binary() {
                    resp.binary_summary()
                } else {
                    mm.actual
                },
            ),
            Err(CheckError::Render(e)) => ("body", "a value to compare with".to_owned(), e.message),
        },
        BodyCheckKind::Sha256(want) => {
            let got = hex::encode(sha2::Sha256::digest(resp.bytes()));
            if &got == want {
                return None;
            }
            (
                "body sha256",
                want.clone(),
                format!("{got} ({})", describe_bytes(resp)),
            )
        }
        BodyCheckKind::BytesLen(m) => {
            let n = resp.bytes().len();
            match run_matcher(m, Some(&Json::from(n)), t, vars) {
                None => return None,
                Some((expected, _)) => (
                    "body bytes_len",
                    expected,
                    format!("{n} ({})", describe_bytes(resp)),
                ),
            }
        }
        BodyCheckKind::Bytes {
            expected,
            written_as,
        } => {
            let got = resp.bytes();
            if got == expected.as_slice() {
                return None;
            }
            let at = got
                .iter()
                .zip(expected)
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| got.len().min(expected.len()));
            (
                "body",
                format!(
                    "the {} bytes given as {written_as}",
                    crate::response::thousands(expected.len())
                ),
                format!(
                    "{} that differ from byte {} on",
                    describe_bytes(resp),
                    crate::response::thousands(at)
                ),
            )
        }
    };
    Some(failure(check, expected, actual, b.span.as_ref()))
}

/// `2,048 bytes of image/png`, or an excerpt's worth of text.
fn describe_bytes(resp: &Response) -> String {
    let n = crate::response::thousands(resp.bytes().len());
    match resp.media_type() {
        Some(t) => format!("{n} bytes of {t}"),
        None => format!("{n} bytes"),
    }
}

fn run_matcher(
    m: &Matcher,
    actual: Option<&Json>,
    t: &Templates,
    vars: &Vars,
) -> Option<(String, String)> {
    match m.check(actual, t, vars) {
        Ok(()) => None,
        Err(CheckError::Mismatch(mm)) => Some((mm.expected, mm.actual)),
        Err(CheckError::Render(e)) => Some(("a value to compare with".to_owned(), e.message)),
    }
}

/// The value at a JSONPath: nothing, the one node, or a list of all nodes. A templated
/// path is rendered first; `Err` says why it is not a JSONPath then.
fn query(path: &PathKey, json: &Json, t: &Templates, vars: &Vars) -> Result<Option<Json>, String> {
    let rendered;
    let path = match path {
        PathKey::Fixed(p) => p,
        PathKey::Template(tpl) => {
            let text = t.render_string(tpl, vars).map_err(|e| e.message)?;
            // Bounded like a written path: the rendered text may come from a response.
            rendered = rehearse_scenario::parse_json_path(&text).map_err(|e| {
                format!(
                    "`{}` renders to `{text}`, which is not a JSONPath: {}",
                    tpl.source(),
                    e.lines().next().unwrap_or_default()
                )
            })?;
            &rendered
        }
    };
    let nodes = path.query(json).all();
    Ok(match nodes.len() {
        0 => None,
        1 => Some(nodes[0].clone()),
        _ => Some(Json::Array(nodes.into_iter().cloned().collect())),
    })
}

/// Takes a capture from a response.
pub(crate) fn capture(
    c: &Capture,
    resp: &Response,
    t: &Templates,
    vars: &Vars,
) -> Result<Json, Failure> {
    let fail = |expected: String, actual: String| {
        Err(failure(
            format!("capture `{}`", c.var),
            expected,
            actual,
            c.span.as_ref(),
        ))
    };
    let missing = |what: String| fail(what, format!("nothing; body: {}", resp.excerpt(200)));
    let value = match &c.from {
        CaptureFrom::Json(path, text) => match resp.json() {
            Ok(json) => match query(path, json, t, vars) {
                Ok(Some(v)) => v,
                Ok(None) => return missing(format!("a value at {text}")),
                Err(why) => return fail("a valid JSONPath".to_owned(), why),
            },
            Err(why) => return fail("a JSON body".to_owned(), why.to_owned()),
        },
        CaptureFrom::Header(name) => {
            let values = resp.header_values(name);
            match (&c.regex, values.as_slice()) {
                (_, []) => return missing(format!("a header {name}")),
                // With a regex: the first value it matches.
                (Some((re, group)), many) => {
                    return match many
                        .iter()
                        .find_map(|v| re.captures(v).and_then(|m| m.get(*group)))
                    {
                        Some(m) => Ok(Json::String(m.as_str().to_owned())),
                        None => fail(
                            format!("a match of /{}/ in header {name}", re.as_str()),
                            excerpt(&many.join(", "), 200),
                        ),
                    };
                }
                (None, [one]) => Json::String((*one).to_owned()),
                (None, many) => {
                    Json::Array(many.iter().map(|v| Json::String((*v).to_owned())).collect())
                }
            }
        }
        CaptureFrom::Cookie(name, attr) => match resp.cookie(name) {
            None => {
                return fail(
                    format!("a Set-Cookie for `{name}`"),
                    "no such cookie in the response".to_owned(),
                );
            }
            Some(cookie) => match cookie.get(*attr) {
                Some(v) => v,
                None => {
                    return fail(
                        format!("cookie `{name}` with {}", attr.key()),
                        "a Set-Cookie without it".to_owned(),
                    );
                }
            },
        },
        CaptureFrom::Body if c.regex.is_some() => Json::String(String::new()),
        // A variable is text or JSON: the lossy text of bytes would change the data,
        // and reports would show it raw.
        CaptureFrom::Body if resp.is_binary() => {
            return fail(
                "a text or JSON body (check bytes with expect.body: sha256, base64, hex)"
                    .to_owned(),
                resp.binary_summary(),
            );
        }
        CaptureFrom::Body => resp
            .json()
            .cloned()
            .unwrap_or_else(|_| Json::String(resp.text().to_owned())),
    };
    let Some((re, group)) = &c.regex else {
        return Ok(value);
    };
    let owned;
    let text: &str = match (&c.from, &value) {
        (CaptureFrom::Body, _) => resp.text(),
        (_, Json::String(s)) => s,
        (_, other) => {
            owned = other.to_string();
            &owned
        }
    };
    match re.captures(text).and_then(|m| m.get(*group)) {
        Some(m) => Ok(Json::String(m.as_str().to_owned())),
        None => missing(format!("a match of /{}/", re.as_str())),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use rehearse_scenario::{Expect, StatusMatch, Templates, Vars};

    use super::{Response, expect};
    use crate::world::World;

    /// Regression: a status failure with an HTML error page put a multi-line excerpt into
    /// the failure's first line, which is what the recap by owner shows.
    #[test]
    fn a_status_failure_reads_on_one_line_whatever_the_body() {
        let page = "<html>\n  <head><title>405 Method Not Allowed</title></head>\r\n</html>\n";
        let resp = Response::new(
            405,
            vec![("content-type".into(), "text/html".into())],
            page.as_bytes().to_vec(),
        );
        let e = Expect {
            status: Some(StatusMatch::below_400()),
            ..Expect::default()
        };
        let t = Templates::new(Arc::new(World::new(Default::default(), &[])));
        let failures = expect(&e, &resp, Duration::ZERO, &t, &Vars::default());
        assert_eq!(
            failures[0].actual,
            "405 <html> <head><title>405 Method Not Allowed</title></head> </html>"
        );
    }
}
