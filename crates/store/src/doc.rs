//! A scenario's steps and their attempts as one JSON document, in `scenarios.steps`
//! (schema 6): one row a scenario instead of one a step and one an attempt, which was most
//! of what recording a run cost (docs/BENCHMARKS.md, "The store").
//!
//! What it keeps is what the `steps` and `attempts` tables kept (and still keep for runs
//! recorded before schema 6): each step's phase, name, location, status, timings and
//! failure; each attempt's method, URL, status code, timings, error and masked excerpts of
//! the bodies. Not headers, not captures. Everything in it comes from a result the runner
//! has already masked.

use std::borrow::Cow;
use std::time::Duration;

use rehearse_runner::{
    Attempt, Failure, RequestRecord, ResponseRecord, ScenarioResult, Status, StepResult,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Step<'a> {
    #[serde(borrow)]
    phase: Cow<'a, str>,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    location: Cow<'a, str>,
    /// As `Status` serialises: the words of `Status::as_str`.
    status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset_ms: Option<u64>,
    duration_ms: u64,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    failure: Option<StepFailure<'a>>,
    #[serde(default, borrow)]
    attempts: Vec<Try<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StepFailure<'a> {
    #[serde(borrow)]
    check: Cow<'a, str>,
    #[serde(borrow)]
    expected: Cow<'a, str>,
    #[serde(borrow)]
    actual: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
struct Try<'a> {
    number: u32,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    offset_ms: Option<u64>,
    duration_ms: u64,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    error: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    request_excerpt: Option<Cow<'a, str>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    response_excerpt: Option<Cow<'a, str>>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The document of `s`'s steps then its cleanup steps.
pub(crate) fn steps_json(s: &ScenarioResult) -> String {
    let all = s
        .steps
        .iter()
        .map(|st| ("steps", st))
        .chain(s.cleanup.iter().map(|st| ("cleanup", st)));
    let doc: Vec<Step<'_>> = all
        .map(|(phase, st)| Step {
            phase: Cow::Borrowed(phase),
            name: Cow::Borrowed(&st.name),
            location: Cow::Borrowed(&st.location),
            status: st.status,
            offset_ms: st.offset.map(millis),
            duration_ms: millis(st.duration),
            failure: st.failure.as_ref().map(|f| StepFailure {
                check: Cow::Borrowed(&f.check),
                expected: Cow::Borrowed(&f.expected),
                actual: Cow::Borrowed(&f.actual),
            }),
            attempts: st
                .attempts
                .iter()
                .map(|a| Try {
                    number: a.number,
                    method: Cow::Borrowed(&a.request.method),
                    url: Cow::Borrowed(&a.request.url),
                    status_code: a.response.as_ref().map(|r| r.status),
                    offset_ms: a.offset.map(millis),
                    duration_ms: millis(a.duration),
                    error: a.error.as_deref().map(Cow::Borrowed),
                    request_excerpt: a.request.body.as_deref().map(Cow::Borrowed),
                    response_excerpt: a.response.as_ref().map(|r| Cow::Borrowed(&*r.body)),
                })
                .collect(),
        })
        .collect();
    // Strings, integers and options only: serialising cannot fail.
    serde_json::to_string(&doc).unwrap_or_else(|_| "[]".to_owned())
}

/// The steps and cleanup steps a document holds; `None` when it is not one.
pub(crate) fn parse_steps(json: &str) -> Option<(Vec<StepResult>, Vec<StepResult>)> {
    let doc: Vec<Step<'_>> = serde_json::from_str(json).ok()?;
    let (mut steps, mut cleanup) = (Vec::new(), Vec::new());
    for st in doc {
        let location = st.location.into_owned();
        let step = StepResult {
            offset: st.offset_ms.map(Duration::from_millis),
            name: st.name.into_owned(),
            status: st.status,
            duration: Duration::from_millis(st.duration_ms),
            attempts: st
                .attempts
                .into_iter()
                .map(|a| Attempt {
                    offset: a.offset_ms.map(Duration::from_millis),
                    number: a.number,
                    request: RequestRecord {
                        method: a.method.into_owned(),
                        url: a.url.into_owned(),
                        headers: Vec::new(),
                        body: a.request_excerpt.map(Cow::into_owned),
                    },
                    response: a.status_code.map(|code| ResponseRecord {
                        status: code,
                        headers: Vec::new(),
                        body: a.response_excerpt.map(Cow::into_owned).unwrap_or_default(),
                    }),
                    duration: Duration::from_millis(a.duration_ms),
                    error: a.error.map(Cow::into_owned),
                    failures: Vec::new(),
                })
                .collect(),
            failure: st.failure.map(|f| Failure {
                check: f.check.into_owned(),
                expected: f.expected.into_owned(),
                actual: f.actual.into_owned(),
                location: Some(location.clone()),
                source_line: None,
            }),
            captures: Vec::new(),
            location,
        };
        if st.phase == "cleanup" {
            cleanup.push(step);
        } else {
            steps.push(step);
        }
    }
    Some((steps, cleanup))
}
