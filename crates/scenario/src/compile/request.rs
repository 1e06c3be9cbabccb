//! The `request:` of a step: method, URL, headers, query and body.

use super::compiler::{Compiler, Ctx};
use super::compiler::{METHODS, kind_name};
use super::templates::url_without_scheme;
use crate::error::Problem;
use crate::model::RequestDef;
use crate::node::did_you_mean;
use crate::plan::{Body, Request};
use crate::span::{Span, Spanned};
use crate::template::Tpl;
use crate::value::{SpannedMap, Value, ValueKind};

impl Compiler<'_> {
    pub(super) fn request(
        &mut self,
        r: &RequestDef,
        span: Option<&Span>,
        ctx: &mut Ctx<'_>,
    ) -> Request {
        let method = match &r.method {
            Some(m) => {
                let upper = m.value.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    ctx.problems.push(
                        Problem::new(
                            format!("unknown HTTP method `{}`", m.value),
                            m.span.as_ref(),
                        )
                        .with_help_opt(did_you_mean(&upper, METHODS.iter().copied()))
                        .with_help_opt(Some(format!("use one of {}", METHODS.join(", ")))),
                    );
                }
                upper
            }
            None => "GET".to_owned(),
        };
        let url = self.text(&r.url, ctx);
        if url.is_literal()
            && !(url.source.starts_with("http://") || url.source.starts_with("https://"))
        {
            ctx.problems.push(
                Problem::new(
                    format!("`{}` is not an absolute http(s) URL", url.source),
                    r.url.span.as_ref(),
                )
                .with_help(
                    "write the full URL, usually from a variable: \"{{ platform }}/payments\"",
                ),
            );
        } else if let Some(text) = self.known_text(&url, ctx)
            && !(text.starts_with("http://") || text.starts_with("https://"))
        {
            ctx.problems
                .push(url_without_scheme(&text, &url, r.url.span.as_ref()));
        }
        let headers = self.string_map(&r.headers, ctx);
        let query = self.string_map(&r.query, ctx);
        let bodies = [r.json.is_some(), r.body.is_some(), r.form.is_some()];
        if bodies.iter().filter(|b| **b).count() > 1 {
            ctx.problems.push(
                Problem::new("a request has one body: `json`, `body` or `form`", span)
                    .with_help("keep only one of them"),
            );
        }
        let body = if let Some(j) = &r.json {
            Body::Json(self.value(j, ctx))
        } else if let Some(b) = &r.body {
            Body::Text(self.text(b, ctx))
        } else if let Some(f) = &r.form {
            Body::Form(self.string_map(f, ctx))
        } else {
            Body::None
        };
        Request {
            method,
            url,
            headers,
            query,
            body,
            timeout: r.timeout.as_ref().map(|t| t.value.0),
            follow_redirects: r.follow_redirects.unwrap_or(false),
            retries: r.retries,
            cookies: self.string_map(&r.cookies, ctx),
        }
    }

    pub(super) fn string_map(
        &mut self,
        map: &SpannedMap<Value>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<(String, Tpl)> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            let text = match &v.kind {
                ValueKind::String(s) => s.clone(),
                ValueKind::Number(n) => n.to_string(),
                ValueKind::Bool(b) => b.to_string(),
                _ => {
                    ctx.problems.push(
                        Problem::new(
                            format!(
                                "`{}` must be a string, found {}",
                                k.value,
                                kind_name(&v.kind)
                            ),
                            v.span.as_ref().or(k.span.as_ref()),
                        )
                        .with_help("quote the value"),
                    );
                    continue;
                }
            };
            let t = self.text(
                &Spanned {
                    value: text,
                    span: v.span.clone(),
                },
                ctx,
            );
            out.push((k.value.clone(), t));
        }
        out
    }
}
