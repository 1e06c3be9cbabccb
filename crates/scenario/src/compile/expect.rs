//! `expect:` — status, headers, JSONPath matchers, body text, duration and schema.

use std::sync::Arc;

use regex::Regex;
use serde_json_path::JsonPath;

use super::compiler::first_line;
use super::compiler::{Compiler, Ctx};
use crate::error::{Problem, Problems};
use crate::matcher::{JsonType, Matcher, OPERATORS, Op};
use crate::model::ExpectDef;
use crate::node::did_you_mean;
use crate::plan::{Expect, HeaderCheck, JsonCheck, SchemaCheck, StatusMatch, StatusPattern};
use crate::span::Spanned;
use crate::value::{SpannedMap, Value, ValueKind};

impl Compiler<'_> {
    pub(super) fn expect(&mut self, e: &ExpectDef, ctx: &mut Ctx<'_>) -> Expect {
        let status = e.status.as_ref().and_then(|s| status(s, &mut ctx.problems));
        let headers = e
            .headers
            .iter()
            .map(|(k, v)| HeaderCheck {
                name: k.value.to_ascii_lowercase(),
                matcher: self.matcher(v, ctx),
                span: k.span.clone(),
            })
            .collect();
        let json = self.json_checks(&e.json, ctx);
        let body_contains = match &e.body_contains {
            None => Vec::new(),
            Some(v) => match &v.kind {
                ValueKind::String(s) => {
                    vec![self.text(
                        &Spanned {
                            value: s.clone(),
                            span: v.span.clone(),
                        },
                        ctx,
                    )]
                }
                ValueKind::Array(items) => items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        ValueKind::String(s) => Some(self.text(
                            &Spanned {
                                value: s.clone(),
                                span: i.span.clone(),
                            },
                            ctx,
                        )),
                        _ => {
                            ctx.problems.push(
                                Problem::new("`body_contains` takes strings", i.span.as_ref())
                                    .with_help("quote the value"),
                            );
                            None
                        }
                    })
                    .collect(),
                _ => {
                    ctx.problems.push(
                        Problem::new(
                            "`body_contains` takes a string or a list of strings",
                            v.span.as_ref(),
                        )
                        .with_help("write `body_contains: \"text\"`"),
                    );
                    Vec::new()
                }
            },
        };
        let schema = e.schema.as_ref().and_then(|s| self.schema(s, ctx));
        Expect {
            status,
            headers,
            json,
            body_contains,
            duration_lt: e.duration_lt.as_ref().map(|d| d.value.0),
            schema,
        }
    }

    pub(super) fn schema(&mut self, s: &Spanned<String>, ctx: &mut Ctx<'_>) -> Option<SchemaCheck> {
        let json = self.fixture(&s.value, s.span.as_ref(), ctx)?;
        match jsonschema::validator_for(&json) {
            Ok(v) => Some(SchemaCheck {
                fixture: s.value.clone(),
                validator: Arc::new(v),
                span: s.span.clone(),
            }),
            Err(e) => {
                ctx.problems.push(
                    Problem::new(
                        format!("fixture `{}` is not a valid JSON Schema: {e}", s.value),
                        s.span.as_ref(),
                    )
                    .with_help("fix the schema file"),
                );
                None
            }
        }
    }

    pub(super) fn json_checks(
        &mut self,
        map: &SpannedMap<Value>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<JsonCheck> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            let matcher = self.matcher(v, ctx);
            if let Some(path) = json_path(k, &mut ctx.problems) {
                out.push(JsonCheck {
                    path,
                    path_text: k.value.clone(),
                    matcher,
                    span: k.span.clone(),
                });
            }
        }
        out
    }

    /// A regex, compiled once per pattern.
    pub(super) fn regex(&mut self, pattern: &str) -> Result<Regex, regex::Error> {
        if let Some(re) = self.regexes.get(pattern) {
            return Ok(re.clone());
        }
        let re = Regex::new(pattern)?;
        self.regexes.insert(pattern.to_owned(), re.clone());
        Ok(re)
    }

    pub(super) fn matcher(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> Matcher {
        let ValueKind::Object(entries) = &v.kind else {
            return Matcher::eq(self.value(v, ctx));
        };
        let mut ops = Vec::new();
        for (k, arg) in entries {
            let at = k.span.as_ref().or(v.span.as_ref());
            let bad = |message: String, help: String| {
                Err(Problem::new(message, arg.span.as_ref()).with_help(help))
            };
            let op = match (k.value.as_str(), &arg.kind) {
                ("eq", _) => Ok(Op::Eq(self.value(arg, ctx))),
                ("ne", _) => Ok(Op::Ne(self.value(arg, ctx))),
                ("gt", _) => Ok(Op::Gt(self.value(arg, ctx))),
                ("gte", _) => Ok(Op::Gte(self.value(arg, ctx))),
                ("lt", _) => Ok(Op::Lt(self.value(arg, ctx))),
                ("lte", _) => Ok(Op::Lte(self.value(arg, ctx))),
                ("contains", _) => Ok(Op::Contains(self.value(arg, ctx))),
                ("len", _) => Ok(Op::Len(Box::new(self.matcher(arg, ctx)))),
                ("matches", ValueKind::String(s)) => match self.regex(s) {
                    Ok(re) => Ok(Op::Matches(re)),
                    Err(e) => bad(
                        format!("invalid regex: {}", regex_message(&e)),
                        "regexes use Rust syntax; escape `\\` in YAML double quotes or use single quotes".to_owned(),
                    ),
                },
                ("matches", _) => bad("`matches` takes a regex string".to_owned(), "quote the regex".to_owned()),
                ("exists", ValueKind::Bool(b)) => Ok(Op::Exists(*b)),
                ("exists", _) => bad("`exists` takes true or false".to_owned(), "write `exists: true`".to_owned()),
                ("type", _) => match json_type(arg) {
                    Some(t) => Ok(Op::Type(t)),
                    None => bad(
                        format!("unknown type {}", arg.to_json()),
                        format!("use one of {}", JsonType::NAMES.join(", ")),
                    ),
                },
                ("one_of", ValueKind::Array(items)) => {
                    Ok(Op::OneOf(items.iter().map(|i| self.value(i, ctx)).collect()))
                }
                ("one_of", _) => bad("`one_of` takes a list".to_owned(), "write `one_of: [a, b]`".to_owned()),
                (other, _) => Err(Problem::new(format!("unknown matcher `{other}`"), at).with_help(
                    did_you_mean(other, OPERATORS.iter().copied()).unwrap_or_else(|| {
                        format!(
                            "use one of {}; to compare with an object write `eq: {{…}}`",
                            OPERATORS.join(", ")
                        )
                    }),
                )),
            };
            match op {
                Ok(op) => ops.push(op),
                Err(problem) => ctx.problems.push(problem),
            }
        }
        Matcher { ops }
    }
}

pub(super) fn status(v: &Value, problems: &mut Problems) -> Option<StatusMatch> {
    let one = |v: &Value, problems: &mut Problems| -> Option<StatusPattern> {
        let bad = |problems: &mut Problems| {
            problems.push(
                Problem::new(format!("invalid status `{}`", v.to_json()), v.span.as_ref())
                    .with_help("write a code (200), a class (2xx) or a list: [200, 201]"),
            );
            None
        };
        match &v.kind {
            ValueKind::Number(n) => match n.as_u64() {
                Some(c @ 100..=599) => u16::try_from(c).ok().map(StatusPattern::Code),
                _ => bad(problems),
            },
            ValueKind::String(s) => {
                let b = s.as_bytes();
                if b.len() == 3
                    && (b'1'..=b'5').contains(&b[0])
                    && s[1..].eq_ignore_ascii_case("xx")
                {
                    Some(StatusPattern::Class(u16::from(b[0] - b'0')))
                } else if let Ok(c @ 100..=599) = s.parse::<u16>() {
                    Some(StatusPattern::Code(c))
                } else {
                    bad(problems)
                }
            }
            _ => bad(problems),
        }
    };
    let patterns: Vec<StatusPattern> = match &v.kind {
        ValueKind::Array(items) => items.iter().filter_map(|i| one(i, problems)).collect(),
        _ => one(v, problems).into_iter().collect(),
    };
    (!patterns.is_empty()).then(|| StatusMatch {
        patterns,
        span: v.span.clone(),
    })
}

pub(super) fn json_path(k: &Spanned<String>, problems: &mut Problems) -> Option<JsonPath> {
    match JsonPath::parse(&k.value) {
        Ok(p) => Some(p),
        Err(e) => {
            let hint = if k.value.starts_with('$') {
                "JSONPath follows RFC 9535: `$.status`, `$.items[0].id`, `$['odd key']`".to_owned()
            } else {
                format!("a JSONPath starts with `$`: did you mean `$.{}`?", k.value)
            };
            problems.push(
                Problem::new(
                    format!(
                        "invalid JSONPath `{}`: {}",
                        k.value,
                        first_line(&e.to_string())
                    ),
                    k.span.as_ref(),
                )
                .with_help(hint),
            );
            None
        }
    }
}

/// The JSON type a `type:` matcher names.
pub(super) fn json_type(v: &Value) -> Option<JsonType> {
    match &v.kind {
        ValueKind::String(s) => JsonType::parse(s),
        _ => None,
    }
}

/// The regex crate puts the useful part (`error: unclosed group`) on its last line.
pub(super) fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(text.clone(), |l| {
            l.trim().trim_start_matches("error: ").to_owned()
        })
}
