//! The `request:` of a step: method, URL, headers, query, auth and body.

use super::compiler::kind_name;
use super::compiler::{Compiler, Ctx};
use super::templates::url_without_scheme;
use crate::error::{Problem, shorten};
use crate::model::{AuthDef, RequestDef};
use crate::plan::{Auth, Body, Part, PartContent, Request};
use crate::span::{Span, Spanned};
use crate::template::Tpl;
use crate::value::{SpannedMap, Value, ValueKind};

/// The methods RFC 9110 defines (and PATCH, RFC 5789): written in any case, they are sent
/// upper-cased. Any other token is sent exactly as written (methods are case-sensitive).
pub(super) const STANDARD_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The longest method token accepted.
const MAX_METHOD_LEN: usize = 64;

/// True for an RFC 9110 `token` (the syntax of methods and header names).
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The method as sent, or a problem: any token is accepted, except one typo away from a
/// standard method (`GTE`, `POTS`), which is taken for a typo.
fn method(m: &Spanned<String>) -> Result<String, Problem> {
    let written = m.value.as_str();
    let upper = written.to_ascii_uppercase();
    if STANDARD_METHODS.contains(&upper.as_str()) {
        return Ok(upper);
    }
    if written.len() > MAX_METHOD_LEN || !is_token(written) {
        return Err(Problem::new(
            format!("`{written}` is not an HTTP method: a method is a token (letters, digits, and !#$%&'*+-.^_`|~)"),
            m.span.as_ref(),
        )
        .with_help("write a method such as GET, POST or PROPFIND, without spaces"));
    }
    if let Some(near) = STANDARD_METHODS
        .iter()
        .find(|s| strsim::osa_distance(&upper, s) == 1)
    {
        return Err(Problem::new(
            format!("unknown HTTP method `{written}`"),
            m.span.as_ref(),
        )
        .with_help(format!(
            "did you mean `{near}`? (a method one typo away from a standard one is taken for a typo)"
        )));
    }
    Ok(written.to_owned())
}

/// The text of a scalar as written: strings as they are, numbers with their digits,
/// booleans as `true`/`false`.
fn scalar_text(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::String(s) => Some(s.clone()),
        ValueKind::Number(n) => Some(n.to_string()),
        ValueKind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Compiler<'_> {
    pub(super) fn request(
        &mut self,
        r: &RequestDef,
        span: Option<&Span>,
        ctx: &mut Ctx<'_>,
    ) -> Request {
        let method = match &r.method {
            Some(m) => method(m).unwrap_or_else(|p| {
                ctx.problems.push(p);
                m.value.clone()
            }),
            None => "GET".to_owned(),
        };
        let url = self.text(&r.url, ctx);
        // A template that failed to compile is a literal now, and already a problem.
        let failed_template = url.source().contains("{{") || url.source().contains("{%");
        if url.is_literal()
            && !failed_template
            && !(url.source().starts_with("http://") || url.source().starts_with("https://"))
        {
            ctx.problems.push(
                Problem::new(
                    format!("`{}` is not an absolute http(s) URL", shorten(url.source())),
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
        let headers = self.headers(&r.headers, ctx);
        let query = self.string_map(&r.query, ctx);
        let auth = r.auth.as_ref().and_then(|a| self.auth(a, ctx));
        if let Some(a) = &r.auth
            && let Some((name, _)) = headers
                .iter()
                .find(|(k, _)| k.is_literal() && k.source().eq_ignore_ascii_case("authorization"))
        {
            ctx.problems.push(
                Problem::new(
                    "a request has `auth` and an `Authorization` header",
                    name.span.as_ref().or(a.span.as_ref()),
                )
                .with_help("keep one: `auth` makes the Authorization header"),
            );
        }
        if r.multipart.is_some()
            && let Some((name, _)) = headers
                .iter()
                .find(|(k, _)| k.is_literal() && k.source().eq_ignore_ascii_case("content-type"))
        {
            ctx.problems.push(
                Problem::new(
                    "a request has `multipart` and a `Content-Type` header",
                    name.span.as_ref().or(span),
                )
                .with_help(
                    "remove the header: `multipart` sets the Content-Type with its boundary",
                ),
            );
        }
        let bodies = [
            r.json.is_some(),
            r.body.is_some(),
            r.form.is_some(),
            r.multipart.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            ctx.problems.push(
                Problem::new(
                    "a request has one body: `json`, `body`, `form` or `multipart`",
                    span,
                )
                .with_help("keep only one of them"),
            );
        }
        let body = if let Some(j) = &r.json {
            Body::Json(self.value(j, ctx))
        } else if let Some(b) = &r.body {
            self.body(b, ctx)
        } else if let Some(f) = &r.form {
            Body::Form(self.string_map(f, ctx))
        } else if let Some(m) = &r.multipart {
            Body::Multipart(self.multipart(m, ctx))
        } else {
            Body::None
        };
        if let Some(t) = r.timeout.as_ref().filter(|t| t.value.0.is_zero()) {
            // A zero timeout fails every request before it is sent.
            ctx.problems.push(
                Problem::new("a request timeout of 0 can never be met", t.span.as_ref())
                    .with_help("write a positive duration such as `10s`, or leave `timeout` out for the environment's"),
            );
        }
        Request {
            method,
            url,
            headers,
            query,
            auth,
            body,
            timeout: r.timeout.as_ref().map(|t| t.value.0),
            follow_redirects: r.follow_redirects.unwrap_or(false),
            retries: r.retries,
            cookies: self.string_map(&r.cookies, ctx),
        }
    }

    /// The values of a mapping entry: a scalar, or a list of scalars (one each).
    fn scalars<'v>(
        &mut self,
        k: &Spanned<String>,
        v: &'v Value,
        ctx: &mut Ctx<'_>,
    ) -> Vec<(String, Option<&'v Span>)> {
        let one = |v: &'v Value| scalar_text(v).map(|t| (t, v.span.as_ref()));
        let items: Vec<&Value> = match &v.kind {
            ValueKind::Array(items) => items.iter().collect(),
            _ => vec![v],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match one(item) {
                Some(t) => out.push(t),
                None => ctx.problems.push(
                    Problem::new(
                        format!(
                            "`{}` must be a string, a number, a boolean or a list of them, found {}",
                            k.value,
                            kind_name(&item.kind)
                        ),
                        item.span.as_ref().or(k.span.as_ref()),
                    )
                    .with_help("quote the value, or write a list of values to send it several times"),
                ),
            }
        }
        out
    }

    /// Query parameters and form fields: name → value or list of values, in order.
    pub(super) fn string_map(
        &mut self,
        map: &SpannedMap<Value>,
        ctx: &mut Ctx<'_>,
    ) -> Vec<(String, Tpl)> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            for (text, span) in self.scalars(k, v, ctx) {
                let t = self.text(
                    &Spanned {
                        value: text,
                        span: span.cloned(),
                    },
                    ctx,
                );
                out.push((k.value.clone(), t));
            }
        }
        out
    }

    /// Headers: the name may be a template; a list of values gives one header line each.
    fn headers(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<(Tpl, Tpl)> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            let name = self.text(k, ctx);
            if name.is_literal() && !is_token(&k.value) {
                ctx.problems.push(
                    Problem::new(
                        format!("`{}` is not a valid header name", k.value),
                        k.span.as_ref(),
                    )
                    .with_help("a header name is a token: letters, digits and !#$%&'*+-.^_`|~, no spaces or colons"),
                );
            }
            for (text, span) in self.scalars(k, v, ctx) {
                if text.contains(['\r', '\n']) {
                    ctx.problems.push(
                        Problem::new(
                            format!("the value of header `{}` holds a line break", k.value),
                            span.or(k.span.as_ref()),
                        )
                        .with_help(
                            "write the value on one line; a list sends the header several times",
                        ),
                    );
                }
                let value = self.text(
                    &Spanned {
                        value: text,
                        span: span.cloned(),
                    },
                    ctx,
                );
                out.push((name.clone(), value));
            }
        }
        out
    }

    fn auth(&mut self, a: &Spanned<AuthDef>, ctx: &mut Ctx<'_>) -> Option<Box<Auth>> {
        match (&a.value.basic, &a.value.bearer) {
            (Some(b), None) => Some(Box::new(Auth::Basic {
                user: self.text(&b.value.user, ctx),
                password: self.text(&b.value.password, ctx),
            })),
            (None, Some(t)) => Some(Box::new(Auth::Bearer(self.text(t, ctx)))),
            (Some(_), Some(_)) | (None, None) => {
                ctx.problems.push(
                    Problem::new(
                        "`auth` takes exactly one of `basic` and `bearer`",
                        a.span.as_ref(),
                    )
                    .with_help(
                        "write `auth: { basic: { user: alice, password: \"{{ secret('PASSWORD') }}\" } }` or `auth: { bearer: \"{{ secret('TOKEN') }}\" }`",
                    ),
                );
                None
            }
        }
    }

    /// `body:` text, or `{ file: path }`.
    fn body(&mut self, b: &Value, ctx: &mut Ctx<'_>) -> Body {
        match &b.kind {
            ValueKind::String(s) => Body::Text(self.text(
                &Spanned {
                    value: s.clone(),
                    span: b.span.clone(),
                },
                ctx,
            )),
            ValueKind::Object(entries) => {
                let mut file = None;
                for (k, v) in entries {
                    match (k.value.as_str(), &v.kind) {
                        ("file", ValueKind::String(rel)) => {
                            file = self.fixture_file(rel, v.span.as_ref(), ctx);
                        }
                        _ => {
                            ctx.problems.push(
                                Problem::new(
                                    format!("unknown key `{}` in a file body", k.value),
                                    k.span.as_ref(),
                                )
                                .with_help("a file body is `body: { file: path/under/fixtures }`"),
                            );
                        }
                    }
                }
                if entries.is_empty() {
                    ctx.problems.push(
                        Problem::new("a file body needs `file`", b.span.as_ref())
                            .with_help("write `body: { file: path/under/fixtures }`"),
                    );
                }
                file.map_or(Body::None, Body::File)
            }
            other => {
                ctx.problems.push(
                    Problem::new(
                        format!(
                            "`body` must be text or `{{ file: path }}`, found {}",
                            kind_name(other)
                        ),
                        b.span.as_ref(),
                    )
                    .with_help("quote the text, or use `json:` for a JSON body"),
                );
                Body::None
            }
        }
    }

    /// `multipart:` field name → text, a file mapping, or a list of them.
    fn multipart(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<Part> {
        let mut parts = Vec::new();
        for (k, v) in map.iter() {
            let items: Vec<&Value> = match &v.kind {
                ValueKind::Array(items) => items.iter().collect(),
                _ => vec![v],
            };
            for item in items {
                if let Some(content) = self.part(k, item, ctx) {
                    parts.push(Part {
                        name: k.value.clone(),
                        content,
                    });
                }
            }
        }
        parts
    }

    fn part(&mut self, k: &Spanned<String>, v: &Value, ctx: &mut Ctx<'_>) -> Option<PartContent> {
        if let Some(text) = scalar_text(v) {
            return Some(PartContent::Text(self.text(
                &Spanned {
                    value: text,
                    span: v.span.clone(),
                },
                ctx,
            )));
        }
        let ValueKind::Object(entries) = &v.kind else {
            ctx.problems.push(
                Problem::new(
                    format!(
                        "multipart field `{}` must be text or a file `{{ file, filename, content_type }}`, found {}",
                        k.value,
                        kind_name(&v.kind)
                    ),
                    v.span.as_ref().or(k.span.as_ref()),
                )
                .with_help("quote the text, or write `{ file: path/under/fixtures }`"),
            );
            return None;
        };
        let (mut file, mut filename, mut content_type) = (None, None, None);
        let mut file_written = false;
        for (key, val) in entries {
            let text = match &val.kind {
                ValueKind::String(s) => s.clone(),
                other => {
                    ctx.problems.push(
                        Problem::new(
                            format!(
                                "`{}` must be a string, found {}",
                                key.value,
                                kind_name(other)
                            ),
                            val.span.as_ref().or(key.span.as_ref()),
                        )
                        .with_help("quote the value"),
                    );
                    continue;
                }
            };
            match key.value.as_str() {
                "file" => {
                    file_written = true;
                    file = self.fixture_file(&text, val.span.as_ref(), ctx);
                }
                "filename" => filename = Some(text),
                "content_type" => content_type = Some(text),
                other => ctx.problems.push(
                    Problem::new(
                        format!("unknown key `{other}` in multipart file `{}`", k.value),
                        key.span.as_ref(),
                    )
                    .with_help(
                        crate::node::did_you_mean(other, ["file", "filename", "content_type"])
                            .unwrap_or_else(|| {
                                "a file part takes `file`, `filename`, `content_type`".to_owned()
                            }),
                    ),
                ),
            }
        }
        if !file_written {
            ctx.problems.push(
                Problem::new(
                    format!("multipart file `{}` needs `file`", k.value),
                    v.span.as_ref().or(k.span.as_ref()),
                )
                .with_help("write `{ file: path/under/fixtures }`"),
            );
        }
        for (what, text) in [("filename", &filename), ("content_type", &content_type)] {
            if text
                .as_deref()
                .is_some_and(|t| t.contains(['\r', '\n', '"']))
            {
                ctx.problems.push(
                    Problem::new(
                        format!(
                            "the `{what}` of multipart file `{}` holds a quote or a line break",
                            k.value
                        ),
                        v.span.as_ref(),
                    )
                    .with_help("write it on one line, without `\"`"),
                );
            }
        }
        let file = file?;
        let filename = filename.unwrap_or_else(|| {
            std::path::Path::new(&file.rel)
                .file_name()
                .map_or_else(|| file.rel.clone(), |n| n.to_string_lossy().into_owned())
        });
        let content_type = content_type.unwrap_or_else(|| content_type_of(&filename).to_owned());
        Some(PartContent::File {
            file,
            filename,
            content_type,
        })
    }
}

/// The `Content-Type` of a multipart file from its extension, as Hurl guesses it.
pub(crate) fn content_type_of(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}
