//! `capture:` — values taken from a response into variables.

use regex::Regex;

use super::compiler::is_identifier;
use super::compiler::{Compiler, Ctx};
use super::expect::{json_path, regex_message};
use crate::error::{Problem, Problems};
use crate::node::did_you_mean;
use crate::plan::{Capture, CaptureFrom};
use crate::span::Spanned;
use crate::value::{SpannedMap, Value, ValueKind};

impl Compiler<'_> {
    pub(super) fn captures(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<Capture> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            if !is_identifier(&k.value) {
                ctx.problems.push(
                    Problem::new(
                        format!("`{}` is not a valid variable name", k.value),
                        k.span.as_ref(),
                    )
                    .with_help("use letters, digits and `_`, starting with a letter: payment_id"),
                );
            }
            if let Some(from) = capture_from(v, &mut ctx.problems) {
                let secret = match &v.kind {
                    ValueKind::Object(entries) => entries
                        .iter()
                        .find(|(k, _)| k.value == "secret")
                        .and_then(|(_, b)| b.to_json().as_bool()),
                    _ => None,
                };
                out.push(Capture {
                    var: k.value.clone(),
                    from,
                    secret,
                    span: k.span.clone(),
                });
            }
            ctx.known.push(k.value.clone());
        }
        out
    }
}

pub(super) fn capture_from(v: &Value, problems: &mut Problems) -> Option<CaptureFrom> {
    match &v.kind {
        ValueKind::String(s) => json_path(
            &Spanned {
                value: s.clone(),
                span: v.span.clone(),
            },
            problems,
        )
        .map(|p| CaptureFrom::Json(p, s.clone())),
        ValueKind::Object(entries) => {
            let get = |key: &str| entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v);
            for (k, _) in entries {
                if !["json", "header", "regex", "group", "body", "secret"]
                    .contains(&k.value.as_str())
                {
                    problems.push(
                        Problem::new(format!("unknown capture key `{}`", k.value), k.span.as_ref())
                            .with_help(did_you_mean(&k.value, ["json", "header", "regex", "group", "body", "secret"]).unwrap_or_else(|| "a capture takes `json`, `header`, `regex` (with `group`) or `body: true`".to_owned())),
                    );
                    return None;
                }
            }
            let str_of = |v: &Value| match &v.kind {
                ValueKind::String(s) => Some(Spanned {
                    value: s.clone(),
                    span: v.span.clone(),
                }),
                _ => None,
            };
            if let Some(p) = get("json").and_then(str_of) {
                json_path(&p, problems).map(|j| CaptureFrom::Json(j, p.value))
            } else if let Some(h) = get("header").and_then(str_of) {
                Some(CaptureFrom::Header(h.value.to_ascii_lowercase()))
            } else if let Some(r) = get("regex").and_then(str_of) {
                let group = get("group").and_then(|g| g.to_json().as_u64()).unwrap_or(1);
                match Regex::new(&r.value) {
                    Ok(re) if usize::try_from(group).is_ok_and(|g| g < re.captures_len()) => {
                        Some(CaptureFrom::Regex(re, usize::try_from(group).unwrap_or(1)))
                    }
                    Ok(re) => {
                        problems.push(
                            Problem::new(
                                format!(
                                    "the regex has {} group(s), group {group} was asked for",
                                    re.captures_len() - 1
                                ),
                                r.span.as_ref(),
                            )
                            .with_help("put the part to capture in parentheses: `id=(\\d+)`"),
                        );
                        None
                    }
                    Err(e) => {
                        problems.push(
                            Problem::new(
                                format!("invalid regex: {}", regex_message(&e)),
                                r.span.as_ref(),
                            )
                            .with_help("regexes use Rust syntax"),
                        );
                        None
                    }
                }
            } else if matches!(get("body").map(|b| &b.kind), Some(ValueKind::Bool(true))) {
                Some(CaptureFrom::Body)
            } else {
                problems.push(
                    Problem::new(
                        "a capture needs `json`, `header`, `regex` or `body: true`",
                        v.span.as_ref(),
                    )
                    .with_help("e.g. `payment_id: $.id` or `location: { header: Location }`"),
                );
                None
            }
        }
        _ => {
            problems.push(
                Problem::new("a capture is a JSONPath or a mapping", v.span.as_ref())
                    .with_help("e.g. `payment_id: $.id`"),
            );
            None
        }
    }
}
