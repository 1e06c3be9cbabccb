//! Checking a response against `expect`, `fail_if`, and taking captures.

use std::sync::OnceLock;
use std::time::Duration;

use rehearse_scenario::{
    Capture, CaptureFrom, CheckError, Expect, JsonCheck, Matcher, Span, Templates, Vars, excerpt,
};
use serde_json::Value as Json;

use crate::result::Failure;

/// A response, its body read.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) text: String,
    json: OnceLock<Result<Json, String>>,
}

impl Response {
    pub(crate) fn new(status: u16, headers: Vec<(String, String)>, text: String) -> Self {
        Self {
            status,
            headers,
            text,
            json: OnceLock::new(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, parsed once.
    fn json(&self) -> Result<&Json, &str> {
        self.json
            .get_or_init(|| {
                serde_json::from_str(&self.text).map_err(|e| {
                    format!(
                        "a body that is not JSON ({e}): {}",
                        excerpt(&self.text, 120)
                    )
                })
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
            format!("{} {}", resp.status, excerpt(&resp.text, 200)),
            s.span.as_ref(),
        )),
        _ => {}
    }
    for h in &e.headers {
        let actual = resp.header(&h.name).map(|v| Json::String(v.to_owned()));
        if let Some(f) = run_matcher(&h.matcher, actual.as_ref(), t, vars) {
            out.push(failure(
                format!("header {}", h.name),
                f.0,
                f.1,
                h.span.as_ref(),
            ));
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
            Ok(n) if resp.text.contains(&n) => {}
            Ok(n) => out.push(failure(
                "body",
                format!("to contain {n:?}"),
                excerpt(&resp.text, 200),
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
    if let Some(limit) = e.duration_lt
        && duration >= limit
    {
        out.push(failure(
            "duration",
            format!("under {}", humantime::format_duration(limit)),
            format!("{} ms", duration.as_millis()),
            None,
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
        let actual = query(&c.path, json);
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
    let actual = query(&c.path, json);
    run_matcher(&c.matcher, actual.as_ref(), t, vars)
        .map(|(expected, actual)| failure(c.path_text.clone(), expected, actual, c.span.as_ref()))
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

/// The value at a JSONPath: nothing, the one node, or a list of all nodes.
fn query(path: &serde_json_path::JsonPath, json: &Json) -> Option<Json> {
    let nodes = path.query(json).all();
    match nodes.len() {
        0 => None,
        1 => Some(nodes[0].clone()),
        _ => Some(Json::Array(nodes.into_iter().cloned().collect())),
    }
}

/// Takes a capture from a response.
pub(crate) fn capture(c: &Capture, resp: &Response) -> Result<Json, Failure> {
    let missing = |what: String| {
        Err(failure(
            format!("capture `{}`", c.var),
            what,
            format!("nothing; body: {}", excerpt(&resp.text, 200)),
            c.span.as_ref(),
        ))
    };
    match &c.from {
        CaptureFrom::Json(path, text) => match resp.json() {
            Ok(json) => match query(path, json) {
                Some(v) => Ok(v),
                None => missing(format!("a value at {text}")),
            },
            Err(why) => Err(failure(
                format!("capture `{}`", c.var),
                "a JSON body".to_owned(),
                why.to_owned(),
                c.span.as_ref(),
            )),
        },
        CaptureFrom::Header(name) => match resp.header(name) {
            Some(v) => Ok(Json::String(v.to_owned())),
            None => missing(format!("a header {name}")),
        },
        CaptureFrom::Regex(re, group) => {
            match re.captures(&resp.text).and_then(|c| c.get(*group)) {
                Some(m) => Ok(Json::String(m.as_str().to_owned())),
                None => missing(format!("a match of /{}/", re.as_str())),
            }
        }
        CaptureFrom::Body => Ok(resp
            .json()
            .cloned()
            .unwrap_or_else(|_| Json::String(resp.text.clone()))),
    }
}
