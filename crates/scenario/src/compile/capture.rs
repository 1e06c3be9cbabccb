//! `capture:` — values taken from a response into variables.
//!
//! A capture names one source (`json`, `header`, `cookie` with an optional `attribute`, or
//! `body: true`) and may add a `regex` (with `group`) over the text of what the source
//! gave; `regex` alone reads the body. Any other combination is rejected here, with the
//! key that does not fit.

use super::compiler::is_identifier;
use super::compiler::{Compiler, Ctx};
use super::expect::regex_message;
use crate::error::Problem;
use crate::node::did_you_mean;
use crate::plan::{Capture, CaptureFrom, CookieAttr};
use crate::span::Spanned;
use crate::value::{SpannedMap, Value, ValueKind};

/// Every key of a capture mapping.
const KEYS: &[&str] = &[
    "json",
    "header",
    "cookie",
    "attribute",
    "body",
    "regex",
    "group",
    "secret",
];

/// The keys that name where the value comes from; a capture has one.
const SOURCES: &[&str] = &["json", "header", "cookie", "body"];

impl Compiler<'_> {
    pub(super) fn captures(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<Capture> {
        let mut out = Vec::with_capacity(map.0.len());
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
            if let Some(mut c) = self.capture(v, ctx) {
                c.var = k.value.clone();
                c.span = k.span.clone();
                out.push(c);
            }
            ctx.known.push(k.value.clone());
            ctx.literals.remove(&k.value);
        }
        out
    }

    /// One capture, its `var` and `span` left for the caller.
    fn capture(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> Option<Capture> {
        let entries = match &v.kind {
            ValueKind::String(s) => {
                let path = self.path_key(
                    &Spanned {
                        value: s.clone(),
                        span: v.span.clone(),
                    },
                    ctx,
                )?;
                return Some(Capture {
                    var: String::new(),
                    from: CaptureFrom::Json(path, s.clone()),
                    regex: None,
                    secret: None,
                    span: None,
                });
            }
            ValueKind::Object(entries) => entries,
            _ => {
                ctx.problems.push(
                    Problem::new("a capture is a JSONPath or a mapping", v.span.as_ref())
                        .with_help("e.g. `payment_id: $.id` or `sid: { cookie: session }`"),
                );
                return None;
            }
        };
        let get = |key: &str| entries.iter().find(|(k, _)| k.value == key);
        let mut ok = true;
        for (k, _) in entries {
            if !KEYS.contains(&k.value.as_str()) {
                ctx.problems.push(
                    Problem::new(format!("unknown capture key `{}`", k.value), k.span.as_ref())
                        .with_help(did_you_mean(&k.value, KEYS.iter().copied()).unwrap_or_else(
                            || {
                                "a capture takes one of `json`, `header`, `cookie` (with `attribute`) or `body: true`, and may add `regex` (with `group`) and `secret`".to_owned()
                            },
                        )),
                );
                ok = false;
            }
        }
        let sources: Vec<&(Spanned<String>, Value)> = entries
            .iter()
            .filter(|(k, _)| SOURCES.contains(&k.value.as_str()))
            .collect();
        if sources.len() > 1 {
            let names: Vec<String> = sources
                .iter()
                .map(|(k, _)| format!("`{}`", k.value))
                .collect();
            ctx.problems.push(
                Problem::new(
                    format!(
                        "a capture takes its value from one place, not {}",
                        names.join(" and ")
                    ),
                    sources[1].0.span.as_ref(),
                )
                .with_help("split it into two captures, one per variable"),
            );
            ok = false;
        }
        let string = |key: &str, ctx: &mut Ctx<'_>| -> Option<Spanned<String>> {
            let (k, v) = get(key)?;
            match &v.kind {
                ValueKind::String(s) => Some(Spanned {
                    value: s.clone(),
                    span: v.span.clone(),
                }),
                _ => {
                    ctx.problems.push(
                        Problem::new(
                            format!("`{key}` takes a string"),
                            v.span.as_ref().or(k.span.as_ref()),
                        )
                        .with_help("quote the value"),
                    );
                    None
                }
            }
        };
        if let Some((k, _)) = get("attribute")
            && get("cookie").is_none()
        {
            ctx.problems.push(
                Problem::new("`attribute` goes with `cookie`", k.span.as_ref())
                    .with_help("write `{ cookie: NAME, attribute: max_age }`"),
            );
            ok = false;
        }
        if let Some((k, _)) = get("group")
            && get("regex").is_none()
        {
            ctx.problems.push(
                Problem::new("`group` goes with `regex`", k.span.as_ref())
                    .with_help("add `regex: \"id=(\\\\d+)\"`, or remove `group`"),
            );
            ok = false;
        }
        let secret = match get("secret") {
            None => None,
            Some((_, b)) => match &b.kind {
                ValueKind::Bool(b) => Some(*b),
                _ => {
                    ctx.problems.push(
                        Problem::new("`secret` takes true or false", b.span.as_ref())
                            .with_help("write `secret: true`"),
                    );
                    ok = false;
                    None
                }
            },
        };
        let from = if get("json").is_some() {
            string("json", ctx).and_then(|p| {
                self.path_key(&p, ctx)
                    .map(|j| CaptureFrom::Json(j, p.value))
            })
        } else if get("header").is_some() {
            string("header", ctx).map(|h| CaptureFrom::Header(h.value.to_ascii_lowercase()))
        } else if get("cookie").is_some() {
            let name = string("cookie", ctx);
            let attribute = match get("attribute") {
                None => Some(CookieAttr::Value),
                Some(_) => string("attribute", ctx).and_then(|a| {
                    let parsed = CookieAttr::parse(&a.value);
                    if parsed.is_none() {
                        ctx.problems.push(
                            Problem::new(
                                format!("unknown cookie attribute `{}`", a.value),
                                a.span.as_ref(),
                            )
                            .with_help(
                                did_you_mean(&a.value, CookieAttr::KEYS.iter().copied())
                                    .unwrap_or_else(|| {
                                        format!("use one of {}", CookieAttr::KEYS.join(", "))
                                    }),
                            ),
                        );
                    }
                    parsed
                }),
            };
            name.zip(attribute)
                .map(|(n, a)| CaptureFrom::Cookie(n.value, a))
        } else if let Some((_, b)) = get("body") {
            if matches!(b.kind, ValueKind::Bool(true)) {
                Some(CaptureFrom::Body)
            } else {
                ctx.problems.push(
                    Problem::new("`body` takes `true`", b.span.as_ref())
                        .with_help("write `body: true` to capture the whole body"),
                );
                None
            }
        } else if get("regex").is_some() {
            Some(CaptureFrom::Body)
        } else {
            ctx.problems.push(
                Problem::new(
                    "a capture needs `json`, `header`, `cookie`, `regex` or `body: true`",
                    v.span.as_ref(),
                )
                .with_help("e.g. `payment_id: $.id` or `location: { header: Location }`"),
            );
            None
        };
        let regex = match string("regex", ctx) {
            None if get("regex").is_some() => {
                ok = false;
                None
            }
            None => None,
            Some(r) => self.capture_regex(&r, get("group").map(|(_, g)| g), ctx),
        };
        if get("regex").is_some() && regex.is_none() {
            ok = false;
        }
        let from = from?;
        ok.then_some(Capture {
            var: String::new(),
            from,
            regex,
            secret,
            span: None,
        })
    }

    fn capture_regex(
        &mut self,
        r: &Spanned<String>,
        group: Option<&Value>,
        ctx: &mut Ctx<'_>,
    ) -> Option<(regex::Regex, usize)> {
        let group = match group {
            None => 1,
            Some(g) => match g.to_json().as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) => n,
                None => {
                    ctx.problems.push(
                        Problem::new("`group` takes a whole number", g.span.as_ref())
                            .with_help("0 is the whole match, 1 the first group (the default)"),
                    );
                    return None;
                }
            },
        };
        match self.regex(&r.value) {
            Ok(re) if group < re.captures_len() => Some((re, group)),
            Ok(re) => {
                ctx.problems.push(
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
                ctx.problems.push(
                    Problem::new(
                        format!("invalid regex: {}", regex_message(&e)),
                        r.span.as_ref(),
                    )
                    .with_help("regexes use Rust syntax"),
                );
                None
            }
        }
    }
}
