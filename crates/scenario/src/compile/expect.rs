//! `expect:` — status, headers, JSONPath matchers, body text and bytes, cookies, duration
//! and schema.

use std::sync::Arc;

use regex::Regex;
use serde_json_path::JsonPath;

use super::compiler::first_line;
use super::compiler::{Compiler, Ctx};
use crate::error::{Problem, Problems, shorten};
use crate::matcher::{JsonType, Matcher, OPERATORS, Op};
use crate::model::ExpectDef;
use crate::node::did_you_mean;
use crate::plan::{
    BodyCheck, BodyCheckKind, CookieAttr, CookieCheck, Expect, HeaderCheck, JsonCheck, PathKey,
    SchemaCheck, StatusMatch, StatusOp, StatusPattern,
};
use crate::span::Spanned;
use crate::value::{SpannedMap, Value, ValueKind};

impl Compiler<'_> {
    pub(super) fn expect(&mut self, e: &ExpectDef, ctx: &mut Ctx<'_>) -> Expect {
        let status = e.status.as_ref().and_then(|s| status(s, &mut ctx.problems));
        let headers = e
            .headers
            .iter()
            .map(|(k, v)| {
                let (name, index) = header_key(&k.value);
                // Header values are text: a number or boolean literal is its text.
                let matcher = match &v.kind {
                    ValueKind::Number(_) | ValueKind::Bool(_) => {
                        Matcher::eq(crate::template::TplValue::Json(serde_json::Value::String(
                            v.to_json().to_string(),
                        )))
                    }
                    _ => self.matcher(v, ctx),
                };
                HeaderCheck {
                    name,
                    index,
                    matcher,
                    span: k.span.clone(),
                }
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
        let body = e
            .body
            .as_ref()
            .map(|b| self.body_checks(b, ctx))
            .unwrap_or_default();
        let cookies = self.cookie_checks(&e.cookies, ctx);
        Expect {
            status,
            headers,
            json,
            body_contains,
            body,
            cookies,
            duration_lt: e.duration_lt.as_ref().map(|d| d.value.0),
            duration_lt_span: e.duration_lt.as_ref().and_then(|d| d.span.clone()),
            schema,
        }
    }

    pub(super) fn schema(&mut self, s: &Spanned<String>, ctx: &mut Ctx<'_>) -> Option<SchemaCheck> {
        if let Some(v) = self.schemas.get(&s.value) {
            return Some(SchemaCheck {
                fixture: s.value.clone(),
                validator: Arc::clone(v),
                span: s.span.clone(),
            });
        }
        let json = self.fixture(&s.value, s.span.as_ref(), ctx)?;
        match jsonschema::validator_for(&json) {
            Ok(v) => {
                let v = Arc::new(v);
                self.schemas.insert(s.value.clone(), Arc::clone(&v));
                Some(SchemaCheck {
                    fixture: s.value.clone(),
                    validator: v,
                    span: s.span.clone(),
                })
            }
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
        // Exact capacities here and below: a plan holds thousands of these (issue #10).
        let mut out = Vec::with_capacity(map.0.len());
        for (k, v) in map.iter() {
            let matcher = self.matcher(v, ctx);
            if let Some(path) = self.path_key(k, ctx) {
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

    /// A JSONPath as written: parsed now, or, with templates, rendered when checked. A
    /// templated path whose variables all have literal values here is rendered and
    /// parsed now too, so that `validate` catches what it can.
    pub(super) fn path_key(&mut self, k: &Spanned<String>, ctx: &mut Ctx<'_>) -> Option<PathKey> {
        if !k.value.contains("{{") && !k.value.contains("{%") {
            // Suites repeat their paths (`$.id`, `$.status`): each is parsed once.
            if let Some(p) = self.json_paths.get(&k.value) {
                return Some(PathKey::Fixed(p.clone()));
            }
            let p = json_path(k, &mut ctx.problems)?;
            self.json_paths.insert(k.value.clone(), p.clone());
            return Some(PathKey::Fixed(p));
        }
        let before = ctx.problems.0.len();
        let tpl = self.text(k, ctx);
        if ctx.problems.0.len() > before {
            return None;
        }
        if !tpl.vars().is_empty() && tpl.vars().iter().all(|v| ctx.literals.contains_key(v)) {
            let vars: crate::template::Vars = std::sync::Arc::new(
                tpl.vars()
                    .iter()
                    .filter_map(|v| Some((v.clone(), ctx.literals.get(v)?.clone())))
                    .collect(),
            );
            if let Ok(rendered) = self.templates.render_string(&tpl, &vars) {
                let probe = Spanned {
                    value: rendered.clone(),
                    span: k.span.clone(),
                };
                let mut found = Problems::default();
                if json_path(&probe, &mut found).is_none() {
                    for p in found.0 {
                        ctx.problems.push(
                            Problem::new(
                                format!("`{}` renders to {}", k.value, p.message),
                                k.span.as_ref(),
                            )
                            .with_help_opt(p.help.clone()),
                        );
                    }
                    return None;
                }
            }
        }
        Some(PathKey::Template(tpl))
    }

    fn body_checks(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> Vec<BodyCheck> {
        let entries = match &v.kind {
            ValueKind::String(_) => {
                return vec![BodyCheck {
                    kind: BodyCheckKind::Text(Matcher::eq(self.value(v, ctx))),
                    span: v.span.clone(),
                }];
            }
            ValueKind::Object(entries) => entries,
            _ => {
                ctx.problems.push(
                    Problem::new(
                        "`body` takes a string (the exact text) or a mapping of checks",
                        v.span.as_ref(),
                    )
                    .with_help(
                        "write `body: \"text\"` or `body: { contains: \"text\", bytes_len: 12 }`",
                    ),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (k, arg) in entries {
            let span = k.span.clone().or_else(|| v.span.clone());
            let kind = match k.value.as_str() {
                key if BODY_TEXT_OPS.contains(&key) => match self.op(k, arg, v, ctx) {
                    Ok(op) => BodyCheckKind::Text(Matcher { ops: vec![op] }),
                    Err(p) => {
                        ctx.problems.push(p);
                        continue;
                    }
                },
                "bytes_len" => BodyCheckKind::BytesLen(self.matcher(arg, ctx)),
                "sha256" => match &arg.kind {
                    ValueKind::String(h)
                        if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) =>
                    {
                        BodyCheckKind::Sha256(h.to_ascii_lowercase())
                    }
                    _ => {
                        ctx.problems.push(
                            Problem::new(
                                "`sha256` takes the digest as 64 hex digits",
                                arg.span.as_ref(),
                            )
                            .with_help("e.g. the output of `sha256sum FILE`, quoted"),
                        );
                        continue;
                    }
                },
                key @ ("base64" | "hex") => {
                    let decoded = match &arg.kind {
                        ValueKind::String(text) => decode_bytes(key, text),
                        _ => Err(format!("`{key}` takes a string")),
                    };
                    match decoded {
                        Ok(expected) => BodyCheckKind::Bytes {
                            expected,
                            written_as: if key == "hex" { "hex" } else { "base64" },
                        },
                        Err(why) => {
                            ctx.problems.push(
                                Problem::new(why, arg.span.as_ref())
                                    .with_help(format!("write the whole body as {key}, quoted")),
                            );
                            continue;
                        }
                    }
                }
                other => {
                    ctx.problems.push(
                        Problem::new(format!("unknown body check `{other}`"), k.span.as_ref())
                            .with_help(
                                did_you_mean(other, BODY_KEYS.iter().copied()).unwrap_or_else(
                                    || format!("`body` takes {}", BODY_KEYS.join(", ")),
                                ),
                            ),
                    );
                    continue;
                }
            };
            out.push(BodyCheck { kind, span });
        }
        out
    }

    fn cookie_checks(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<CookieCheck> {
        let mut out = Vec::new();
        for (name, v) in map.iter() {
            let ValueKind::Object(entries) = &v.kind else {
                out.push(CookieCheck {
                    name: name.value.clone(),
                    attribute: CookieAttr::Value,
                    matcher: self.matcher(v, ctx),
                    span: name.span.clone(),
                });
                continue;
            };
            for (k, arg) in entries {
                let (attribute, matcher) = if k.value == "exists" {
                    match &arg.kind {
                        ValueKind::Bool(b) => (
                            CookieAttr::Value,
                            Matcher {
                                ops: vec![Op::Exists(*b)],
                            },
                        ),
                        _ => {
                            ctx.problems.push(
                                Problem::new("`exists` takes true or false", arg.span.as_ref())
                                    .with_help("write `exists: true`"),
                            );
                            continue;
                        }
                    }
                } else if let Some(attr) = CookieAttr::parse(&k.value) {
                    (attr, self.matcher(arg, ctx))
                } else {
                    let keys = CookieAttr::KEYS.iter().copied().chain(["exists"]);
                    ctx.problems.push(
                        Problem::new(
                            format!("unknown cookie attribute `{}`", k.value),
                            k.span.as_ref(),
                        )
                        .with_help(
                            did_you_mean(&k.value, keys).unwrap_or_else(|| {
                                format!("a cookie takes {}, exists", CookieAttr::KEYS.join(", "))
                            }),
                        ),
                    );
                    continue;
                };
                out.push(CookieCheck {
                    name: name.value.clone(),
                    attribute,
                    matcher,
                    span: k.span.clone().or_else(|| name.span.clone()),
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
        let mut ops = Vec::with_capacity(entries.len());
        for (k, arg) in entries {
            match self.op(k, arg, v, ctx) {
                Ok(op) => ops.push(op),
                Err(problem) => ctx.problems.push(problem),
            }
        }
        Matcher { ops }
    }

    /// One operator of a matcher mapping `v`: `k: arg`.
    fn op(
        &mut self,
        k: &Spanned<String>,
        arg: &Value,
        v: &Value,
        ctx: &mut Ctx<'_>,
    ) -> Result<Op, Problem> {
        let at = k.span.as_ref().or(v.span.as_ref());
        let bad = |message: String, help: String| {
            Err(Problem::new(message, arg.span.as_ref()).with_help(help))
        };
        match (k.value.as_str(), &arg.kind) {
            ("eq", _) => Ok(Op::Eq(self.value(arg, ctx))),
            ("ne", _) => Ok(Op::Ne(self.value(arg, ctx))),
            ("gt", _) => Ok(Op::Gt(self.value(arg, ctx))),
            ("gte", _) => Ok(Op::Gte(self.value(arg, ctx))),
            ("lt", _) => Ok(Op::Lt(self.value(arg, ctx))),
            ("lte", _) => Ok(Op::Lte(self.value(arg, ctx))),
            ("contains", _) => Ok(Op::Contains(self.value(arg, ctx))),
            ("starts_with", ValueKind::String(_)) => Ok(Op::StartsWith(self.value(arg, ctx))),
            ("ends_with", ValueKind::String(_)) => Ok(Op::EndsWith(self.value(arg, ctx))),
            (op @ ("starts_with" | "ends_with"), _) => bad(
                format!("`{op}` takes a string"),
                "quote the value".to_owned(),
            ),
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
        }
    }
}

/// The text matchers `expect.body` takes.
const BODY_TEXT_OPS: &[&str] = &[
    "eq",
    "ne",
    "matches",
    "contains",
    "starts_with",
    "ends_with",
    "len",
];

/// Every key of `expect.body`.
const BODY_KEYS: &[&str] = &[
    "eq",
    "ne",
    "matches",
    "contains",
    "starts_with",
    "ends_with",
    "len",
    "sha256",
    "bytes_len",
    "base64",
    "hex",
];

/// The bytes a `base64:` or `hex:` literal stands for (whitespace ignored).
fn decode_bytes(key: &str, text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if key == "hex" {
        hex::decode(&compact).map_err(|e| format!("invalid hex: {e}"))
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|e| format!("invalid base64: {e}"))
    }
}

/// `x-tag[1]` → (`x-tag`, 1); a header name never holds `[`.
fn header_key(key: &str) -> (String, Option<i64>) {
    if let Some(open) = key.rfind('[')
        && let Some(inner) = key[open + 1..].strip_suffix(']')
        && let Ok(i) = inner.trim().parse::<i64>()
    {
        return (key[..open].trim().to_ascii_lowercase(), Some(i));
    }
    (key.to_ascii_lowercase(), None)
}

pub(super) fn status(v: &Value, problems: &mut Problems) -> Option<StatusMatch> {
    let mut patterns = Vec::new();
    let mut ops = Vec::new();
    match &v.kind {
        ValueKind::Array(items) => {
            patterns.extend(items.iter().filter_map(|i| status_one(i, problems)));
        }
        ValueKind::Object(entries) => {
            for (k, arg) in entries {
                let code = |problems: &mut Problems| match status_one(arg, problems) {
                    Some(StatusPattern::Code(c)) => Some(c),
                    Some(StatusPattern::Class(_)) => {
                        problems.push(
                            Problem::new(
                                format!("`{}` compares with a code, not a class", k.value),
                                arg.span.as_ref(),
                            )
                            .with_help("write e.g. `gte: 200, lt: 300`, or `eq: 2xx`"),
                        );
                        None
                    }
                    None => None,
                };
                match k.value.as_str() {
                    "eq" => patterns.extend(status_one(arg, problems)),
                    "one_of" => match &arg.kind {
                        ValueKind::Array(items) => {
                            patterns.extend(items.iter().filter_map(|i| status_one(i, problems)));
                        }
                        _ => problems.push(
                            Problem::new("`one_of` takes a list", arg.span.as_ref())
                                .with_help("write `one_of: [200, 201]`"),
                        ),
                    },
                    "ne" => ops.extend(status_one(arg, problems).map(StatusOp::Ne)),
                    "gt" => ops.extend(code(problems).map(StatusOp::Gt)),
                    "gte" => ops.extend(code(problems).map(StatusOp::Gte)),
                    "lt" => ops.extend(code(problems).map(StatusOp::Lt)),
                    "lte" => ops.extend(code(problems).map(StatusOp::Lte)),
                    other => problems.push(
                        Problem::new(format!("unknown status matcher `{other}`"), k.span.as_ref())
                            .with_help(
                                did_you_mean(other, STATUS_OPS.iter().copied()).unwrap_or_else(
                                    || format!("`status` takes {}", STATUS_OPS.join(", ")),
                                ),
                            ),
                    ),
                }
            }
        }
        _ => patterns.extend(status_one(v, problems)),
    }
    (!patterns.is_empty() || !ops.is_empty()).then(|| StatusMatch {
        patterns,
        ops,
        span: v.span.clone(),
    })
}

const STATUS_OPS: &[&str] = &["eq", "ne", "gt", "gte", "lt", "lte", "one_of"];

/// A code (`200`) or a class (`2xx`).
fn status_one(v: &Value, problems: &mut Problems) -> Option<StatusPattern> {
    let bad = |problems: &mut Problems| {
        problems.push(
            Problem::new(format!("invalid status `{}`", v.to_json()), v.span.as_ref()).with_help(
                "write a code (200), a class (2xx), a list ([200, 201]) or comparisons ({ gte: 200, lt: 300 })",
            ),
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
            if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && s[1..].eq_ignore_ascii_case("xx") {
                Some(StatusPattern::Class(u16::from(b[0] - b'0')))
            } else if let Ok(c @ 100..=599) = s.parse::<u16>() {
                Some(StatusPattern::Code(c))
            } else {
                bad(problems)
            }
        }
        _ => bad(problems),
    }
}

pub(super) fn json_path(k: &Spanned<String>, problems: &mut Problems) -> Option<JsonPath> {
    if let Err(why) = crate::bounds::check_json_path(&k.value) {
        problems.push(
            Problem::new(
                format!("invalid JSONPath `{}`: {why}", shorten(&k.value)),
                k.span.as_ref(),
            )
            .with_help("split the check into simpler paths, or check the value with a matcher"),
        );
        return None;
    }
    match JsonPath::parse(&k.value) {
        Ok(p) => Some(p),
        Err(e) => {
            let hint = if let Some(fixed) = bracket_odd_names(&k.value)
                && JsonPath::parse(&fixed).is_ok()
            {
                format!(
                    "in RFC 9535 a name after `.` is letters, digits and `_` only; \
                     bracket any other: did you mean `{fixed}`?"
                )
            } else if k.value.starts_with('$') {
                "JSONPath follows RFC 9535: `$.status`, `$.items[0].id`, `$['odd key']`".to_owned()
            } else {
                format!("a JSONPath starts with `$`: did you mean `$.{}`?", k.value)
            };
            problems.push(
                Problem::new(
                    format!(
                        "invalid JSONPath `{}`: {}",
                        shorten(&k.value),
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

/// `$.headers.Content-Type` as `$.headers['Content-Type']`: every dotted name that RFC
/// 9535's shorthand refuses (a `-`, a space…) bracketed; `None` when there is none.
fn bracket_odd_names(path: &str) -> Option<String> {
    if !path.starts_with('$') || path.contains(['[', '\'', '"']) {
        return None;
    }
    let mut out = String::from("$");
    let mut changed = false;
    for (i, name) in path[1..].split('.').enumerate() {
        if i == 0 {
            out.push_str(name); // before the first `.`: nothing, or a bad path
            continue;
        }
        let plain = name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '*');
        if plain {
            out.push('.');
            out.push_str(name);
        } else {
            changed = true;
            if out.ends_with('.') {
                out.push('.'); // `..name`: descendants
            }
            out.push_str(&format!("['{name}']"));
        }
    }
    changed.then_some(out)
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

#[cfg(test)]
mod tests {
    use super::bracket_odd_names;

    #[test]
    fn a_dotted_name_with_a_dash_is_suggested_in_brackets() {
        assert_eq!(
            bracket_odd_names("$.headers.Content-Type").as_deref(),
            Some("$.headers['Content-Type']")
        );
        assert_eq!(
            bracket_odd_names("$..X-Tag").as_deref(),
            Some("$..['X-Tag']")
        );
        assert_eq!(bracket_odd_names("$.items[0].id"), None);
        assert_eq!(bracket_odd_names("$.a.b_c.*"), None);
    }
}
