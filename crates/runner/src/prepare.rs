//! Turning a compiled request and the scenario's variables into what is sent: method,
//! URL with its query, headers (with `Authorization` from `auth`), and a body that is
//! either bytes built once or files streamed from disk (`body: { file }`, multipart).

use std::fmt::Write as _;
use std::path::PathBuf;

use base64::Engine as _;
use bytes::Bytes;
use rehearse_scenario::{
    Auth, Body, FixtureFile, PartContent, RenderError, Request, Templates, Tpl, Vars,
};

/// A request ready to send, as many times as needed (a network-level retry sends it
/// again unchanged; a poll prepares it again for each attempt).
pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Payload>,
    /// What `auth` put on the wire that must be masked: the base64 of `user:password`,
    /// the bearer token.
    pub(crate) credentials: Vec<String>,
}

/// A request body.
pub(crate) enum Payload {
    /// Bytes built in memory (`json`, `body` text, `form`): shared, never copied.
    Bytes(Bytes),
    /// Pieces of bytes and files (`body: { file }`, `multipart`), streamed when sent.
    Stream {
        pieces: Vec<Piece>,
        /// The total length, sent as `Content-Length`.
        len: u64,
        /// What a record shows instead of the bytes.
        summary: String,
    },
}

/// A piece of a streamed body.
#[derive(Clone)]
pub(crate) enum Piece {
    Bytes(Bytes),
    File { path: PathBuf, len: u64 },
}

impl Payload {
    /// What the body looks like in a record: its text when it is text, else a summary
    /// such as `<2,048 bytes image/png>`, never the raw bytes.
    pub(crate) fn shown(&self, content_type: Option<&str>) -> std::borrow::Cow<'_, str> {
        match self {
            Payload::Bytes(b) => match std::str::from_utf8(b) {
                Ok(text) => text.into(),
                Err(_) => summary(
                    b.len() as u64,
                    content_type.unwrap_or("application/octet-stream"),
                )
                .into(),
            },
            Payload::Stream { summary, .. } => summary.as_str().into(),
        }
    }

    /// The body's text when it is held in memory and is text (to look for secrets and
    /// for echoed values); streamed files are fixtures and are not searched.
    pub(crate) fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Payload::Bytes(b) => Some(String::from_utf8_lossy(b)),
            Payload::Stream { pieces, .. } => {
                let mut out = String::new();
                for p in pieces {
                    if let Piece::Bytes(b) = p {
                        out.push_str(&String::from_utf8_lossy(b));
                    }
                }
                Some(out.into())
            }
        }
    }
}

/// `<2,048 bytes image/png>`.
pub(crate) fn summary(len: u64, content_type: &str) -> String {
    let digits = len.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or(content_type)
        .trim();
    format!("<{grouped} bytes {essence}>")
}

fn error(message: String, tpl: Option<&Tpl>) -> RenderError {
    RenderError {
        message,
        span: tpl.and_then(|t| t.span.clone()),
        missing: Vec::new(),
    }
}

/// True for an RFC 9110 token (a header name).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub(crate) fn prepare(t: &Templates, req: &Request, vars: &Vars) -> Result<Prepared, RenderError> {
    let mut url = t.render_string(&req.url, vars)?;
    if !req.query.is_empty() {
        let pairs: Vec<(&str, String)> = req
            .query
            .iter()
            .map(|(k, v)| Ok((k.as_str(), t.render_string(v, vars)?)))
            .collect::<Result<_, RenderError>>()?;
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&qs);
    }
    let mut headers = Vec::with_capacity(req.headers.len() + 2);
    for (name, value) in &req.headers {
        let k = t.render_string(name, vars)?;
        if !is_token(&k) {
            return Err(error(
                format!(
                    "header name `{k}` (from `{}`) is not a valid name: letters, digits and !#$%&'*+-.^_`|~ only",
                    name.source()
                ),
                Some(name),
            ));
        }
        let v = t.render_string(value, vars)?;
        if v.contains(['\r', '\n', '\0']) {
            return Err(error(
                format!("the value of header `{k}` holds a line break or NUL once rendered"),
                Some(value),
            ));
        }
        headers.push((k, v));
    }
    let has =
        |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut credentials = Vec::new();
    if let Some(auth) = &req.auth {
        if has(&headers, "authorization") {
            return Err(error(
                "the request has `auth` and an `Authorization` header; keep one".to_owned(),
                req.headers
                    .iter()
                    .map(|(k, _)| k)
                    .find(|k| k.source().eq_ignore_ascii_case("authorization"))
                    .or(req.headers.first().map(|(k, _)| k)),
            ));
        }
        let value = match auth.as_ref() {
            Auth::Basic { user, password } => {
                let u = t.render_string(user, vars)?;
                let p = t.render_string(password, vars)?;
                if u.contains(':') {
                    return Err(error(
                        "a Basic auth user name cannot hold `:` (RFC 7617)".to_owned(),
                        Some(user),
                    ));
                }
                let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                credentials.push(encoded.clone());
                format!("Basic {encoded}")
            }
            Auth::Bearer(token) => {
                let tok = t.render_string(token, vars)?;
                credentials.push(tok.clone());
                format!("Bearer {tok}")
            }
        };
        if value.contains(['\r', '\n', '\0']) {
            return Err(error(
                "the credentials of `auth` hold a line break once rendered".to_owned(),
                None,
            ));
        }
        headers.push(("authorization".to_owned(), value));
    }
    let body = match &req.body {
        Body::None => None,
        Body::Json(v) => {
            let json = t.render_value(v, vars)?;
            if !has(&headers, "content-type") {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
            }
            Some(Payload::Bytes(
                serde_json::to_vec(&json).unwrap_or_default().into(),
            ))
        }
        Body::Text(tpl) => Some(Payload::Bytes(
            t.render_string(tpl, vars)?.into_bytes().into(),
        )),
        Body::File(file) => {
            let len = file_len(file)?;
            let ct = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .map_or("application/octet-stream", |(_, v)| v.as_str());
            Some(Payload::Stream {
                summary: summary(len, ct),
                pieces: vec![Piece::File {
                    path: file.path.clone(),
                    len,
                }],
                len,
            })
        }
        Body::Form(fields) => {
            let pairs: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| Ok((k.as_str(), t.render_string(v, vars)?)))
                .collect::<Result<_, RenderError>>()?;
            if !has(&headers, "content-type") {
                headers.push((
                    "content-type".to_owned(),
                    "application/x-www-form-urlencoded".to_owned(),
                ));
            }
            Some(Payload::Bytes(
                serde_urlencoded::to_string(&pairs)
                    .unwrap_or_default()
                    .into_bytes()
                    .into(),
            ))
        }
        Body::Multipart(parts) => {
            if has(&headers, "content-type") {
                return Err(error(
                    "`multipart` sets the Content-Type header (with its boundary); remove the header".to_owned(),
                    None,
                ));
            }
            let boundary = format!("rehearse-{}", uuid::Uuid::new_v4().simple());
            let mut pieces = Vec::with_capacity(parts.len() * 2 + 1);
            let mut len = 0u64;
            let mut shown = Vec::with_capacity(parts.len());
            let push = |pieces: &mut Vec<Piece>, b: Bytes, len: &mut u64| {
                *len += b.len() as u64;
                pieces.push(Piece::Bytes(b));
            };
            for part in parts {
                let name = disposition_escape(&part.name);
                match &part.content {
                    PartContent::Text(tpl) => {
                        let text = t.render_string(tpl, vars)?;
                        let head = format!(
                            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                        );
                        shown.push(format!("{}={:?}", part.name, text));
                        let mut b = head.into_bytes();
                        b.extend_from_slice(text.as_bytes());
                        b.extend_from_slice(b"\r\n");
                        push(&mut pieces, b.into(), &mut len);
                    }
                    PartContent::File {
                        file,
                        filename,
                        content_type,
                    } => {
                        let flen = file_len(file)?;
                        let head = format!(
                            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                            disposition_escape(filename)
                        );
                        shown.push(format!(
                            "{}=@{filename} {}",
                            part.name,
                            summary(flen, content_type)
                        ));
                        push(&mut pieces, head.into_bytes().into(), &mut len);
                        len += flen;
                        pieces.push(Piece::File {
                            path: file.path.clone(),
                            len: flen,
                        });
                        push(&mut pieces, Bytes::from_static(b"\r\n"), &mut len);
                    }
                }
            }
            push(
                &mut pieces,
                format!("--{boundary}--\r\n").into_bytes().into(),
                &mut len,
            );
            headers.push((
                "content-type".to_owned(),
                format!("multipart/form-data; boundary={boundary}"),
            ));
            let mut s = summary(len, "multipart/form-data");
            if !shown.is_empty() {
                s.pop();
                let _ = write!(s, ": {}>", shown.join(", "));
            }
            Some(Payload::Stream {
                pieces,
                len,
                summary: s,
            })
        }
    };
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| error(format!("`{}` is not an HTTP method", req.method), None))?;
    Ok(Prepared {
        method,
        url,
        headers,
        body,
        credentials,
    })
}

/// The size of a fixture file now (it is read when the request is sent), checked again to
/// be a regular file inside the fixtures folder.
fn file_len(file: &FixtureFile) -> Result<u64, RenderError> {
    rehearse_scenario::fixture_len(file).map_err(|e| {
        error(
            format!(
                "failed to read fixture `{}` ({}): {e}",
                file.rel,
                file.path.display()
            ),
            None,
        )
    })
}

/// A name in `Content-Disposition`, as the HTML standard encodes it: `"` → `%22`, CR →
/// `%0D`, LF → `%0A`.
fn disposition_escape(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The body as reqwest sends it: bytes are shared (no copy), files are read in chunks
/// as the connection takes them, so a 512 MiB upload never sits in memory.
pub(crate) fn reqwest_body(p: &Payload) -> reqwest::Body {
    match p {
        Payload::Bytes(b) => reqwest::Body::from(b.clone()),
        Payload::Stream { pieces, .. } => {
            use futures::StreamExt as _;
            let pieces = pieces.clone();
            let stream = futures::stream::iter(pieces)
                .then(|piece| async move {
                    match piece {
                        Piece::Bytes(b) => {
                            futures::stream::once(async move { Ok::<Bytes, std::io::Error>(b) })
                                .boxed()
                        }
                        Piece::File { path, len } => match tokio::fs::File::open(&path).await {
                            Ok(f) => {
                                use tokio::io::AsyncReadExt as _;
                                tokio_util::io::ReaderStream::with_capacity(f.take(len), 64 * 1024)
                                    .boxed()
                            }
                            Err(e) => futures::stream::once(async move {
                                Err(std::io::Error::new(
                                    e.kind(),
                                    format!("failed to open {}: {e}", path.display()),
                                ))
                            })
                            .boxed(),
                        },
                    }
                })
                .flatten();
            reqwest::Body::wrap_stream(stream)
        }
    }
}
