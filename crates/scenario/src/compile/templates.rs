//! Templates in scenario values: compiled once, their variables and function calls checked.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::compiler::{Compiler, Ctx};
use super::known::Known;
use crate::error::{Problem, Problems};
use crate::node::did_you_mean;
use crate::plan::Environment;
use crate::span::{Span, Spanned};
use crate::template::{FUNCTIONS, Templates, Tpl, TplValue};
use crate::value::{Value, ValueKind};

impl Compiler<'_> {
    /// What a template gives at validation, when it only reads environment vars whose
    /// values are plain text (no function, no capture, no scenario var of the same name):
    /// `{{ host }}/x` with `host: example.com` gives `example.com/x`.
    pub(super) fn known_text(&self, tpl: &Tpl, ctx: &Ctx<'_>) -> Option<String> {
        if tpl.is_literal() || tpl.source().contains('(') || tpl.source().contains("{%") {
            return None;
        }
        let mut vars = std::collections::HashMap::new();
        for v in tpl.vars() {
            if ctx.known.count(v) != 1 {
                return None;
            }
            let value = self.env_vars.get(v.as_str())?;
            let TplValue::Json(json @ (Json::String(_) | Json::Number(_))) = value else {
                return None;
            };
            vars.insert(v.clone(), json.clone());
        }
        self.templates
            .render_string(tpl, &std::sync::Arc::new(vars))
            .ok()
    }

    pub(super) fn text(&mut self, s: &Spanned<String>, ctx: &mut Ctx<'_>) -> Tpl {
        match self.templates.compile(&s.value, s.span.as_ref()) {
            Ok((tpl, used)) => {
                for name in self.templates.unknown_filters(&s.value) {
                    ctx.problems.push(
                        Problem::new(format!("unknown filter `{name}`"), s.span.as_ref())
                            .with_help(
                            did_you_mean(&name, crate::filters::suggestions()).unwrap_or_else(
                                || {
                                    format!(
                                        "rehearse adds the filters {}; see docs/FORMAT.md, Filters",
                                        crate::FILTERS.join(", ")
                                    )
                                },
                            ),
                        ),
                    );
                }
                self.check_vars(&used, s.span.as_ref(), ctx);
                self.check_calls(&s.value, s.span.as_ref(), ctx);
                tpl
            }
            Err(e) => {
                ctx.problems.push(
                    Problem::new(format!("invalid template: {e}"), s.span.as_ref())
                        .with_help("templates look like {{ name }} or {{ secret('NAME') }}"),
                );
                Tpl::literal(s.value.clone())
            }
        }
    }

    pub(super) fn value(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> TplValue {
        match &v.kind {
            ValueKind::String(s) => {
                let tpl = self.text(
                    &Spanned {
                        value: s.clone(),
                        span: v.span.clone(),
                    },
                    ctx,
                );
                if tpl.is_literal() {
                    TplValue::Json(Json::String(s.clone()))
                } else {
                    TplValue::Str(tpl)
                }
            }
            ValueKind::Array(items) => {
                let items: Vec<TplValue> = items.iter().map(|i| self.value(i, ctx)).collect();
                if items.iter().all(|i| matches!(i, TplValue::Json(_))) {
                    TplValue::Json(v.to_json())
                } else {
                    TplValue::Array(items)
                }
            }
            ValueKind::Object(entries) => {
                let items: Vec<(String, TplValue)> = entries
                    .iter()
                    .map(|(k, i)| (k.value.clone(), self.value(i, ctx)))
                    .collect();
                if items.iter().all(|(_, i)| matches!(i, TplValue::Json(_))) {
                    TplValue::Json(v.to_json())
                } else {
                    TplValue::Object(items)
                }
            }
            _ => TplValue::Json(v.to_json()),
        }
    }

    pub(super) fn check_vars(&self, used: &[String], span: Option<&Span>, ctx: &mut Ctx<'_>) {
        for var in used {
            if !ctx.reads.contains(var) {
                ctx.reads.insert(var.clone());
            }
            if ctx.known.contains(var) {
                continue;
            }
            let help = if ctx.later.contains(var) {
                format!("`{var}` is captured by a later step; move this step after it")
            } else {
                did_you_mean(var, ctx.known.names().chain(FUNCTIONS.iter().copied()))
                    .unwrap_or_else(|| {
                        format!(
                            "define it in `vars:` of the scenario or of environment `{}`, or capture it in an earlier step",
                            self.env.name
                        )
                    })
            };
            ctx.problems.push(
                Problem::new(format!("variable `{var}` is not defined here"), span).with_help(help),
            );
        }
    }

    pub(super) fn check_calls(&mut self, text: &str, span: Option<&Span>, ctx: &mut Ctx<'_>) {
        for (func, arg) in literal_calls(text) {
            match func {
                "secret" if !self.env.secrets.iter().any(|s| s == arg) => {
                    ctx.problems.push(
                        Problem::new(
                            format!(
                                "secret `{arg}` is not declared by environment `{}`",
                                self.env.name
                            ),
                            span,
                        )
                        .with_help({
                            let add = format!("add `{arg}` to `secrets:` of the environment file");
                            match did_you_mean(arg, self.env.secrets.iter().map(String::as_str)) {
                                Some(near) => format!("{near} otherwise {add}"),
                                None => add,
                            }
                        }),
                    );
                }
                "fixture" => {
                    self.fixture(arg, span, ctx);
                }
                _ => {}
            }
        }
    }
}

/// `secret('X')`, `fixture("a/b.json")`, `env('Y')` calls with a literal argument: the
/// function's name after a non-word character, `(`, spaces, a quote, the argument (no
/// quote in it) and a quote. Scanned by hand: building the equivalent regex cost ~0.8 M
/// instructions, an eighth of a 1-step run.
pub(super) fn literal_calls(text: &str) -> Vec<(&str, &str)> {
    const NAMES: [&str; 3] = ["secret", "fixture", "env"];
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = text[at..].find('(') {
        let paren = at + found;
        at = paren + 1;
        let Some(name) = NAMES.iter().find(|n| text[..paren].ends_with(*n)) else {
            continue;
        };
        let start = paren - name.len();
        if text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = text[at..].trim_start();
        let open = text.len() - rest.len();
        if !matches!(bytes.get(open), Some(b'\'' | b'"')) {
            continue;
        }
        let arg_start = open + 1;
        let Some(len) = text[arg_start..].find(['\'', '"']) else {
            continue;
        };
        if len == 0 {
            continue;
        }
        out.push((*name, &text[arg_start..arg_start + len]));
        at = arg_start + len + 1;
    }
    out
}

pub(super) fn compile_value(
    v: &Value,
    templates: &mut Templates,
    known: &mut Known,
    env: &Environment,
    problems: &mut Problems,
) -> TplValue {
    // The names move in and out of the context: a copy per var made 50,000 environment
    // vars quadratic.
    let mut ctx = Ctx::new(std::mem::take(known), Path::new(""));
    ctx.include_stack.clear();
    ctx.real_stack.clear();
    let mut c = Compiler::new(env, PathBuf::new(), templates);
    let out = c.value(v, &mut ctx);
    *known = std::mem::take(&mut ctx.known);
    // Environment vars may use any function; fixtures are checked against the suite's
    // folder by scenarios, so only variables, filters and secrets matter here.
    for p in ctx.problems.0 {
        if p.message.starts_with("variable ")
            || p.message.starts_with("unknown filter ")
            || p.message.starts_with("secret ")
        {
            problems.push(p);
        }
    }
    out
}

/// A URL whose variables are known at validation and give no scheme.
pub(super) fn url_without_scheme(text: &str, tpl: &Tpl, span: Option<&Span>) -> Problem {
    let first = tpl
        .source()
        .trim_start()
        .strip_prefix("{{")
        .and_then(|r| r.split("}}").next())
        .map(str::trim)
        .filter(|v| tpl.vars().iter().any(|k| k == v));
    let help = match first {
        Some(var) => format!(
            "give `{var}` its scheme in the environment: `{var}: https://{}`",
            text.split('/').next().unwrap_or(text)
        ),
        None => "the URL must start with http:// or https://".to_owned(),
    };
    Problem::new(
        format!(
            "`{}` gives `{text}`, which is not an absolute http(s) URL",
            tpl.source()
        ),
        span,
    )
    .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::literal_calls;

    /// The scanner finds what the regex it replaced found, on every case below.
    #[test]
    fn literal_calls_match_the_regex_they_replaced() {
        let re = regex::Regex::new(r#"\b(secret|fixture|env)\(\s*['"]([^'"]+)['"]"#).unwrap();
        let cases = [
            "{{ secret('TOKEN') }}",
            "Bearer {{ secret(\"A\") }} and {{ env('HOME') }}",
            "{{ fixture( 'beneficiaries/acme.json' ) }}",
            "{{ mysecret('X') }} {{ secret_x('Y') }} {{ _env('Z') }}",
            "{{ xsecret(secret('a')) }}",
            "{{ secret('') }} {{ secret('unclosed }}",
            "{{ secret(name) }} {{ env('a\"b') }}",
            "{{ fixture('a'\"b\") }}",
            "é env('ü') ¿secret('ß')",
            "secret(\t\n'x')",
            "(((( env( ( 'y')",
            "",
        ];
        for text in cases {
            let want: Vec<(&str, &str)> = re
                .captures_iter(text)
                .map(|c| (c.get(1).unwrap().as_str(), c.get(2).unwrap().as_str()))
                .collect();
            assert_eq!(literal_calls(text), want, "in {text:?}");
        }
    }
}
