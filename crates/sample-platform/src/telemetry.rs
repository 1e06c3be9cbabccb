//! Tracing across services, the way a platform in production does it: the W3C
//! `traceparent` of an incoming request is the parent of the platform's server span, the
//! calls to the bank made while serving it carry the trace on (a client span each, whose id
//! is the `traceparent` they send), and with an OTLP endpoint
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, the standard variable) the spans are sent there over
//! OTLP/HTTP as JSON, in batches, from a bounded queue.
//!
//! Written by hand rather than with opentelemetry-otlp + tracing-opentelemetry: those
//! install one global tracer provider per process, and the embedded stack runs four
//! platforms and the bank mock in the `rehearse` process itself, each its own service (see
//! docs/DESIGN-NOTES.md, [#12] OTLP). Nothing secret is recorded: no header, no body, no
//! query string; the path and the status only.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// Spans held at most while they wait; more are dropped.
const QUEUE: usize = 2048;
/// Spans per request at most.
const BATCH: usize = 256;
/// A batch that is not full leaves after this long.
const INTERVAL: Duration = Duration::from_millis(500);
/// One export request's timeout.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for the last spans.
const FLUSH: Duration = Duration::from_secs(3);

/// The trace a request is served in: its trace id and the span the platform's outgoing
/// calls are children of.
#[derive(Debug, Clone)]
pub(crate) struct TraceContext {
    trace_id: String,
    span_id: String,
    /// Where finished spans go (none: the context is only passed on).
    sink: Option<mpsc::Sender<Value>>,
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// The platform's exporter, when it has an endpoint.
#[derive(Debug, Default)]
pub(crate) struct Telemetry {
    sink: Mutex<Option<mpsc::Sender<Value>>>,
    sender: Mutex<Option<JoinHandle<()>>>,
}

impl Telemetry {
    /// Starts sending to `endpoint` (an OTLP/HTTP base URL, or one ending in `/v1/traces`)
    /// as service `service`; none: records nothing, still passes the context on.
    pub(crate) fn start(endpoint: Option<&str>, service: String) -> Self {
        let Some(url) = endpoint.and_then(traces_url) else {
            if let Some(e) = endpoint {
                tracing::warn!("OTLP: `{e}` is not an http(s) URL; no span is sent");
            }
            return Self::default();
        };
        if tokio::runtime::Handle::try_current().is_err() {
            tracing::warn!("OTLP: no tokio runtime to send spans from; no span is sent");
            return Self::default();
        }
        let (sink, spans) = mpsc::channel(QUEUE);
        let sender = tokio::spawn(send_batches(url, spans, service));
        Self {
            sink: Mutex::new(Some(sink)),
            sender: Mutex::new(Some(sender)),
        }
    }

    fn sink(&self) -> Option<mpsc::Sender<Value>> {
        self.sink.lock().ok().and_then(|s| s.clone())
    }

    /// Sends what is queued, waiting at most a few seconds.
    pub(crate) async fn flush(&self) {
        drop(self.sink.lock().ok().and_then(|mut s| s.take()));
        let sender = self.sender.lock().ok().and_then(|mut s| s.take());
        if let Some(mut sender) = sender
            && tokio::time::timeout(FLUSH, &mut sender).await.is_err()
        {
            sender.abort();
            tracing::warn!("OTLP: the collector did not take the last spans in time");
        }
    }
}

fn traces_url(endpoint: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(endpoint.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    if !url.path().ends_with("/v1/traces") {
        let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Some(url)
}

/// A new id of `bytes` random bytes, as lowercase hex (16 for a span, 32 for a trace).
fn new_id(hex_digits: usize) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let id = &id[..hex_digits.min(32)];
    if id.bytes().all(|b| b == b'0') {
        format!("{}1", &id[1..])
    } else {
        id.to_owned()
    }
}

/// `00-<trace>-<parent>-<flags>` with non-zero lowercase hex ids, else none (a malformed
/// header starts a new trace, as the W3C spec says).
fn parse_traceparent(value: &str) -> Option<(String, String)> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && s.bytes().any(|b| b != b'0')
    };
    (version.len() == 2 && version != "ff" && hex(trace, 32) && hex(parent, 16) && flags.len() == 2)
        .then(|| (trace.to_owned(), parent.to_owned()))
}

fn nanos(t: SystemTime) -> String {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
        .to_string()
}

fn attr(key: &str, value: impl Into<String>) -> Value {
    json!({"key": key, "value": {"stringValue": value.into()}})
}

fn int_attr(key: &str, value: u16) -> Value {
    json!({"key": key, "value": {"intValue": value.to_string()}})
}

/// Middleware: serves the request inside its trace, and records the server span.
pub(crate) async fn trace_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let incoming = request
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_traceparent);
    let sink = state.0.telemetry.sink();
    let Some(sink) = sink else {
        // No exporter: pass the caller's context on unchanged.
        return match incoming {
            Some((trace_id, span_id)) => {
                let context = TraceContext {
                    trace_id,
                    span_id,
                    sink: None,
                };
                CURRENT.scope(context, next.run(request)).await
            }
            None => next.run(request).await,
        };
    };
    let (trace_id, parent) = incoming.unwrap_or_else(|| (new_id(32), String::new()));
    let span_id = new_id(16);
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let context = TraceContext {
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
        sink: Some(sink.clone()),
    };
    let start = SystemTime::now();
    let response = CURRENT.scope(context, next.run(request)).await;
    let status = response.status().as_u16();
    let mut attributes = vec![
        attr("http.request.method", method.as_str()),
        attr("url.path", path),
        int_attr("http.response.status_code", status),
    ];
    if let Some(route) = &route {
        attributes.push(attr("http.route", route.as_str()));
    }
    let name = match &route {
        Some(r) => format!("{method} {r}"),
        None => method,
    };
    let mut span = json!({
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 2,
        "startTimeUnixNano": nanos(start),
        "endTimeUnixNano": nanos(SystemTime::now()),
        "attributes": attributes,
        "status": {"code": if status >= 500 { 2 } else { 0 }},
    });
    if !parent.is_empty() {
        span["parentSpanId"] = Value::String(parent);
    }
    let _ = sink.try_send(span);
    response
}

/// Sends a request to the bank in the current trace (if the request being served has one):
/// a client span whose id is the `traceparent` sent.
pub(crate) async fn send(
    client: &reqwest::Client,
    request: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let mut request = request.build()?;
    let Ok(context) = CURRENT.try_with(Clone::clone) else {
        return client.execute(request).await;
    };
    let span_id = match &context.sink {
        Some(_) => new_id(16),
        None => context.span_id.clone(),
    };
    if let Ok(value) = format!("00-{}-{span_id}-01", context.trace_id).parse() {
        request.headers_mut().insert("traceparent", value);
    }
    let method = request.method().to_string();
    let mut url = request.url().clone();
    url.set_query(None);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let start = SystemTime::now();
    let response = client.execute(request).await;
    if let Some(sink) = &context.sink {
        let mut attributes = vec![
            attr("http.request.method", method.as_str()),
            attr("url.full", url.as_str()),
            attr("server.address", url.host_str().unwrap_or_default()),
        ];
        let code = match &response {
            Ok(r) => {
                attributes.push(int_attr("http.response.status_code", r.status().as_u16()));
                if r.status().is_server_error() { 2 } else { 0 }
            }
            Err(_) => {
                attributes.push(attr("error.type", "transport"));
                2
            }
        };
        let _ = sink.try_send(json!({
            "traceId": context.trace_id,
            "spanId": span_id,
            "parentSpanId": context.span_id,
            "name": method,
            "kind": 3,
            "startTimeUnixNano": nanos(start),
            "endTimeUnixNano": nanos(SystemTime::now()),
            "attributes": attributes,
            "status": {"code": code},
        }));
    }
    response
}

async fn send_batches(url: reqwest::Url, mut spans: mpsc::Receiver<Value>, service: String) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("OTLP: failed to build the client: {e}");
            return;
        }
    };
    let mut batch = Vec::new();
    let mut tick = tokio::time::interval(INTERVAL);
    let mut open = true;
    let mut warned = false;
    while open || !batch.is_empty() {
        if open && batch.len() < BATCH {
            tokio::select! {
                span = spans.recv() => match span {
                    Some(span) => { batch.push(span); continue; }
                    None => open = false,
                },
                _ = tick.tick() => {}
            }
        }
        if batch.is_empty() {
            continue;
        }
        let body = json!({"resourceSpans": [{
            "resource": {"attributes": [
                attr("service.name", service.as_str()),
                attr("service.version", env!("CARGO_PKG_VERSION")),
            ]},
            "scopeSpans": [{"scope": {"name": "sample-platform"}, "spans": std::mem::take(&mut batch)}],
        }]});
        let outcome = client.post(url.clone()).json(&body).send().await;
        let failed = match outcome {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("the collector answered {}", r.status())),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failed
            && !warned
        {
            warned = true;
            tracing::warn!("OTLP: spans not sent to {url}: {why}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_only_when_well_formed() {
        assert_eq!(
            parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            Some((
                "0af7651916cd43dd8448eb211c80319c".to_owned(),
                "b7ad6b7169203331".to_owned()
            ))
        );
        assert_eq!(
            parse_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"),
            None
        );
        assert_eq!(
            parse_traceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"),
            None
        );
        assert_eq!(parse_traceparent("garbage"), None);
    }

    #[test]
    fn ids_are_hex_of_the_right_length() {
        assert_eq!(new_id(16).len(), 16);
        assert_eq!(new_id(32).len(), 32);
        assert!(new_id(16).bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
