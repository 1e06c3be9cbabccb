//! Sending a prepared request and reading its response, within a timeout: redirects
//! followed hop by hop (so that each hop's cookies are stored and sent), the body read
//! within a cap and decoded per `Content-Encoding`.

use std::time::{Duration, Instant};

use crate::cookies::{Jar, cookie_header};
use crate::decode::{ACCEPT_ENCODING, MAX_BODY, decode, over_limit};
use crate::prepare::{Payload, Prepared};
use crate::response::Response;

/// The tracing headers every request carries.
const TRACEPARENT: &str = "traceparent";
const RUN_HEADER: &str = "x-rehearse-run";

/// Redirects followed at most, as browsers and Hurl do.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// What a request carries besides its prepared bytes.
#[derive(Debug, Default)]
pub(crate) struct Session<'a> {
    /// Follow 3xx redirects.
    pub(crate) follow: bool,
    /// The scenario's cookie jar (none: cookies are neither stored nor sent).
    pub(crate) jar: Option<&'a mut Jar>,
    /// `request.cookies`, rendered: sent with this request only.
    pub(crate) cookies: Vec<(String, String)>,
    /// The lean HTTP/1.1 path for plain `http://` (none: reqwest sends every request).
    pub(crate) wire: Option<&'a crate::wire::Wire>,
}

/// Sends a prepared request with the run's tracing headers, follows no redirect, keeps no
/// cookie, and reads the whole body, within `timeout`.
pub(crate) async fn send(
    client: &reqwest::Client,
    p: &Prepared,
    timeout: Duration,
    trace_id: &str,
    run_id: &str,
) -> Exchange {
    let span_id = crate::trace::span_id();
    exchange(
        client,
        p,
        Session::default(),
        timeout,
        (trace_id, &span_id),
        run_id,
    )
    .await
}

/// Sends a prepared request as [`send`] does, with a session's redirects and cookies.
/// `trace` is the `traceparent`'s trace id and parent (span) id: one span id per attempt,
/// the same on each of its redirect hops, so that the attempt's span (`--otlp`) is the
/// parent of whatever the system under test records for any hop.
pub(crate) async fn exchange(
    client: &reqwest::Client,
    p: &Prepared,
    session: Session<'_>,
    timeout: Duration,
    trace: (&str, &str),
    run_id: &str,
) -> Exchange {
    let started = Instant::now();
    let mut sent_cookie = None;
    let outcome = hops(
        client,
        p,
        session,
        timeout,
        started,
        trace,
        run_id,
        &mut sent_cookie,
    );
    // reqwest's timeout covers each hop; this outer one is a safety net so a step never
    // outlives its timeout by more than a moment.
    let guard = timeout.saturating_add(Duration::from_millis(250));
    let outcome = match tokio::time::timeout(guard, outcome).await {
        Ok(r) => r,
        Err(_) => Err(no_response(timeout)),
    };
    let outcome = outcome.map_err(|e| {
        if e.contains("timed out") || e.contains("operation timed out") {
            format!(
                "no response within {} ({e})",
                humantime::format_duration(timeout)
            )
        } else {
            e
        }
    });
    Exchange {
        outcome,
        duration: started.elapsed(),
        cookie: sent_cookie,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one exchange, passed once"
)]
async fn hops(
    client: &reqwest::Client,
    p: &Prepared,
    mut session: Session<'_>,
    timeout: Duration,
    started: Instant,
    (trace_id, span_id): (&str, &str),
    run_id: &str,
    sent_cookie: &mut Option<String>,
) -> Result<Response, String> {
    let mut method = p.method.clone();
    let mut url =
        reqwest::Url::parse(&p.url).map_err(|e| format!("invalid URL `{}`: {e}", p.url))?;
    let origin = url.origin();
    // Borrowed until a redirect drops some of them (most requests are sent once).
    let mut headers: std::borrow::Cow<'_, [(String, String)]> = p.headers.as_slice().into();
    let mut body = p.body.as_ref();
    let mut set_cookie_values = Vec::new();
    let mut redirects = 0usize;
    let traceparent = format!("00-{trace_id}-{span_id}-01");
    loop {
        let left = timeout
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        let own_cookie = headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .map(|(_, v)| v.as_str());
        let same_origin = url.origin() == origin;
        let from_jar = session
            .jar
            .as_ref()
            .map(|j| j.for_url(&url))
            .unwrap_or_default();
        let request_cookies: &[(String, String)] = if same_origin { &session.cookies } else { &[] };
        let cookie = cookie_header(own_cookie, request_cookies, &from_jar);
        if redirects == 0 {
            sent_cookie.clone_from(&cookie);
        }
        let stream_len = match body {
            Some(Payload::Stream { len, .. }) => Some(len.to_string()),
            _ => None,
        };
        // This hop's headers, in the order they are given to the client.
        let mut list: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + 5);
        list.push((TRACEPARENT, &traceparent));
        list.push((RUN_HEADER, run_id));
        let mut asks_encoding = false;
        for (k, v) in headers.iter() {
            if k.eq_ignore_ascii_case("cookie") {
                continue;
            }
            asks_encoding |= k.eq_ignore_ascii_case("accept-encoding");
            list.push((k, v));
        }
        if !asks_encoding {
            list.push(("accept-encoding", ACCEPT_ENCODING));
        }
        if let Some(c) = &cookie {
            list.push(("cookie", c));
        }
        if let Some(len) = &stream_len {
            list.push(("content-length", len));
        }
        let in_memory = match body {
            None => Some(None),
            Some(Payload::Bytes(b)) => Some(Some(b)),
            Some(Payload::Stream { .. }) => None,
        };
        let lean = session
            .wire
            .zip(in_memory)
            .filter(|_| crate::wire::eligible(&url, method.as_str(), &list));
        let (status, resp_headers, pending) = if let Some((wire, bytes)) = lean {
            let reply =
                tokio::time::timeout(left, wire.exchange(method.as_str(), &url, &list, bytes))
                    .await
                    .map_err(|_| no_response(timeout))?
                    .map_err(|e| crate::neterr::describe_wire(&e, &url, timeout))?;
            (reply.status, reply.headers, Pending::Read(reply.body))
        } else {
            let mut builder = client.request(method.clone(), url.clone()).timeout(left);
            for (k, v) in &list {
                builder = builder.header(*k, *v);
            }
            if let Some(b) = body {
                builder = builder.body(crate::prepare::reqwest_body(b));
            }
            let resp = builder
                .send()
                .await
                .map_err(|e| crate::neterr::describe(&e, timeout))?;
            let status = resp.status().as_u16();
            let resp_headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            (status, resp_headers, Pending::Reqwest(resp))
        };
        let set_cookies: Vec<&str> = resp_headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .map(|(_, v)| v.as_str())
            .collect();
        set_cookie_values.extend(
            set_cookies
                .iter()
                .filter_map(|l| crate::cookies::SetCookie::parse(l))
                .map(|c| c.value),
        );
        if let Some(jar) = session.jar.as_deref_mut() {
            jar.store(set_cookies, &url);
        }
        let location = resp_headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.clone());
        if session.follow
            && matches!(status, 301 | 302 | 303 | 307 | 308)
            && let Some(location) = location
        {
            if redirects == MAX_REDIRECTS {
                return Err(format!(
                    "more than {MAX_REDIRECTS} redirects (the last: {status} to {location}); a redirect loop?"
                ));
            }
            let next = url
                .join(&location)
                .map_err(|e| format!("a redirect to an invalid URL `{location}`: {e}"))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(format!("a redirect to `{next}`, which is not http(s)"));
            }
            // The hop's body is read (and dropped) so its connection can be reused.
            let _ = pending.read(timeout).await;
            redirects += 1;
            // 301, 302 and 303 go on as GET without a body (HEAD stays HEAD), as browsers
            // and Hurl do; 307 and 308 repeat the request as it was.
            if matches!(status, 301..=303) && method != reqwest::Method::HEAD {
                method = reqwest::Method::GET;
                body = None;
                headers.to_mut().retain(|(k, _)| {
                    !["content-type", "content-length", "content-encoding"]
                        .iter()
                        .any(|h| k.eq_ignore_ascii_case(h))
                });
            }
            if next.origin() != origin {
                // Credentials do not follow a redirect to another origin.
                headers.to_mut().retain(|(k, _)| {
                    !["authorization", "cookie", "proxy-authorization"]
                        .iter()
                        .any(|h| k.eq_ignore_ascii_case(h))
                });
            }
            url = next;
            continue;
        }
        let encoding = resp_headers
            .iter()
            .filter(|(k, _)| k == "content-encoding")
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let raw = pending.read(timeout).await?;
        let decoded = decode(raw, &encoding, MAX_BODY)?;
        let mut response = Response::new(status, resp_headers, decoded);
        response.set_cookie_values = set_cookie_values;
        return Ok(response);
    }
}

/// A step's request that ran out of time (as reqwest's timeout is worded, `neterr.rs`).
fn no_response(timeout: Duration) -> String {
    format!("no response within {}", humantime::format_duration(timeout))
}

/// A hop's body: read already (the lean path), or still to read from reqwest.
enum Pending {
    Read(Vec<u8>),
    Reqwest(reqwest::Response),
}

impl Pending {
    async fn read(self, timeout: Duration) -> Result<Vec<u8>, String> {
        match self {
            Self::Read(b) => Ok(b),
            Self::Reqwest(resp) => read_body(resp, timeout).await,
        }
    }
}

/// The whole body, as sent (before decoding), at most [`MAX_BODY`] bytes.
async fn read_body(mut resp: reqwest::Response, timeout: Duration) -> Result<Vec<u8>, String> {
    let announced = resp
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0);
    if announced > MAX_BODY {
        return Err(over_limit(Some(announced)));
    }
    let mut body = Vec::with_capacity(announced);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| crate::neterr::describe(&e, timeout))?
    {
        if body.len().saturating_add(chunk.len()) > MAX_BODY {
            return Err(over_limit(None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) struct Exchange {
    pub(crate) outcome: Result<Response, String>,
    pub(crate) duration: Duration,
    /// The `Cookie` header of the first hop, when one was sent (for the record).
    pub(crate) cookie: Option<String>,
}
