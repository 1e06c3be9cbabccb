//! The recording proxy: forwards method, path, query, headers (minus hop-by-hop ones) and
//! body to the upstream bank, answers with the upstream's status, headers and body
//! unchanged, and folds the exchange into the recording. Bodies are capped both ways, every
//! upstream request has a timeout, and the recorder's own routes live under `/__record`.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rehearse_contract::{Exchange, Recording};
use serde_json::json;

use crate::record::args::RecordArgs;
use crate::record::save::Target;

/// The largest request or answer body forwarded (bigger ones get 413 / 502).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// How a recording went wrong, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFailureKind {
    /// The upstream does not answer, or nothing was recorded (exit 2).
    NotReady,
    /// The flags, the `--out` folder, or what the traffic leaves unsaid (exit 3).
    Invalid,
    /// IO or a bug (exit 4).
    Internal,
}

/// Why `rehearse mock-bank record` stopped without writing a folder.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RecordFailure {
    /// What kind of failure.
    pub kind: RecordFailureKind,
    /// What happened and what to do.
    pub message: String,
}

impl RecordFailure {
    pub(crate) fn new(kind: RecordFailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

struct Shared {
    upstream: String,
    shown_upstream: String,
    client: reqwest::Client,
    recording: Mutex<Recording>,
    target: Target,
    saving: tokio::sync::Mutex<()>,
}

/// Forward to `--upstream` and record until `stop` completes, then write the folder.
/// Prints the banner (a line `… is listening on URL`) and each save's summary to `out`.
pub async fn record_until(
    args: RecordArgs,
    out: &mut dyn Write,
    stop: impl Future<Output = ()>,
) -> Result<(), RecordFailure> {
    let target = Target::prepare(&args)?;
    let url = reqwest::Url::parse(args.upstream.trim()).map_err(|e| {
        RecordFailure::new(
            RecordFailureKind::Invalid,
            format!(
                "--upstream `{}` is not a URL: {e} (e.g. https://sandbox.bank.example)",
                args.upstream
            ),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RecordFailure::new(
            RecordFailureKind::Invalid,
            format!(
                "--upstream must be an http:// or https:// URL, not {}://",
                url.scheme()
            ),
        ));
    }
    let shown_upstream = {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.as_str().trim_end_matches('/').to_owned()
    };
    let client = reqwest::Client::builder()
        .timeout(args.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            RecordFailure::new(
                RecordFailureKind::Internal,
                format!("make the HTTP client: {e}"),
            )
        })?;
    // Is anybody there? Any answer will do; no answer is "not ready" (exit 2).
    if let Err(e) = client
        .get(url.as_str())
        .timeout(args.timeout.min(std::time::Duration::from_secs(10)))
        .send()
        .await
    {
        return Err(RecordFailure::new(
            RecordFailureKind::NotReady,
            format!(
                "the upstream {shown_upstream} does not answer: {} (is the bank's sandbox up, and the URL right?)",
                describe(&e)
            ),
        ));
    }
    let addr = SocketAddr::new(args.host, args.port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        RecordFailure::new(
            RecordFailureKind::Internal,
            format!(
                "bind the recorder to {addr}: {e} (is the port already in use? try another --port)"
            ),
        )
    })?;
    let local = listener.local_addr().map_err(|e| {
        RecordFailure::new(
            RecordFailureKind::Internal,
            format!("read the bound address: {e}"),
        )
    })?;
    let base = format!("http://{local}");
    let shared = Arc::new(Shared {
        upstream: url.as_str().trim_end_matches('/').to_owned(),
        shown_upstream,
        client,
        recording: Mutex::new(Recording::new(target.from.as_ref())),
        target,
        saving: tokio::sync::Mutex::new(()),
    });
    banner(&shared, &base, out).map_err(io_failure)?;
    let app = Router::new()
        .route("/__record", get(status))
        .route("/__record/save", post(save_now))
        .fallback(forward)
        .with_state(Arc::clone(&shared));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    stop.await;
    writeln!(out, "stopping: writing the recorded folder").map_err(io_failure)?;
    let result = save(&shared).await;
    server.abort();
    match result {
        Ok(lines) => {
            for line in lines {
                writeln!(out, "{line}").map_err(io_failure)?;
            }
            out.flush().map_err(io_failure)
        }
        Err(e) => Err(e),
    }
}

fn io_failure(e: std::io::Error) -> RecordFailure {
    RecordFailure::new(
        RecordFailureKind::Internal,
        format!("write to the output: {e}"),
    )
}

fn banner(shared: &Shared, base: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let target = &shared.target;
    writeln!(out, "rehearse bank recorder is listening on {base}")?;
    writeln!(
        out,
        "  base URL:   {base}  (point the platform's bank URL here)"
    )?;
    writeln!(out, "  upstream:   {}", shared.shown_upstream)?;
    let from = match &target.from {
        Some(f) => format!(", starting from {} ({})", f.version, f.describe_origin()),
        None => String::new(),
    };
    writeln!(
        out,
        "  recording:  every route and answer, into {} (version {}){from}",
        target.out.display(),
        target.version
    )?;
    writeln!(
        out,
        "  save:       POST {base}/__record/save (any time), or Ctrl-C / SIGTERM (saves and stops)"
    )?;
    writeln!(out, "Press Ctrl-C to save and stop.")?;
    out.flush()
}

/// Builds and writes the folder; the summary's lines.
async fn save(shared: &Shared) -> Result<Vec<String>, RecordFailure> {
    let _one_at_a_time = shared.saving.lock().await;
    let recording = shared
        .recording
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let source = format!(
        "{} on {}",
        shared.shown_upstream,
        chrono::Utc::now().format("%Y-%m-%d")
    );
    shared.target.save(&recording, &source)
}

async fn save_now(State(shared): State<Arc<Shared>>) -> Response {
    match save(&shared).await {
        Ok(lines) => {
            let mut stdout = std::io::stdout().lock();
            for line in &lines {
                let _ = writeln!(stdout, "{line}");
            }
            let _ = stdout.flush();
            (
                StatusCode::OK,
                axum::Json(
                    json!({"written": shared.target.out.display().to_string(), "summary": lines}),
                ),
            )
                .into_response()
        }
        Err(e) => {
            let status = match e.kind {
                RecordFailureKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            eprintln!("error: save the recording: {}", e.message);
            (status, axum::Json(json!({"error": e.message}))).into_response()
        }
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Response {
    let (exchanges, routes) = {
        let r = shared
            .recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (r.exchanges(), r.routes())
    };
    axum::Json(json!({
        "upstream": shared.shown_upstream,
        "out": shared.target.out.display().to_string(),
        "version": shared.target.version.to_string(),
        "exchanges": exchanges,
        "routes": routes,
    }))
    .into_response()
}

/// Hop-by-hop headers (RFC 9110 7.6.1) and those the client library sets itself. The
/// request also loses `accept-encoding`, so the upstream answers bodies the recorder can
/// read.
fn dropped_request_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "accept-encoding"
    )
}

fn dropped_response_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

/// Headers named in `Connection:` are hop-by-hop too.
fn listed_in_connection(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

fn problem(status: StatusCode, message: String) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("recorder: request bodies are forwarded up to {MAX_BODY} bytes"),
            );
        }
    };
    let url = match parts.uri.query() {
        Some(q) => format!("{}{path}?{q}", shared.upstream),
        None => format!("{}{path}", shared.upstream),
    };
    let listed = listed_in_connection(&parts.headers);
    let mut upstream = shared.client.request(parts.method.clone(), &url);
    for (name, value) in &parts.headers {
        if !dropped_request_header(name) && !listed.iter().any(|l| l == name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let mut answer = match upstream.body(body.clone()).send().await {
        Ok(a) => a,
        Err(e) => {
            let status = if e.is_timeout() {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            return problem(
                status,
                format!(
                    "recorder: the upstream did not answer {} {path}: {}",
                    parts.method,
                    describe(&e)
                ),
            );
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len().saturating_add(chunk.len()) > MAX_BODY {
                    return problem(
                        StatusCode::BAD_GATEWAY,
                        format!(
                            "recorder: the upstream's answer to {} {path} is larger than {MAX_BODY} bytes",
                            parts.method
                        ),
                    );
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return problem(
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "recorder: reading the upstream's answer to {} {path}: {}",
                        parts.method,
                        describe(&e)
                    ),
                );
            }
        }
    }
    let mut exchange = Exchange {
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        request_headers: pairs(&parts.headers),
        request_body: body.to_vec(),
        status: status.as_u16(),
        response_headers: pairs(&headers),
        response_body: bytes,
    };
    if !crate::engine::is_admin(&path) && !path.starts_with("/__record") {
        shared
            .recording
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(&exchange);
    }
    let mut reply = Response::builder().status(status);
    for (name, value) in &headers {
        if !dropped_response_header(name) {
            reply = reply.header(name, value);
        }
    }
    reply
        .body(Body::from(std::mem::take(&mut exchange.response_body)))
        .unwrap_or_else(|e| problem(StatusCode::BAD_GATEWAY, format!("recorder: {e}")))
}
