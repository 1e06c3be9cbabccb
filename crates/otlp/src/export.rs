//! Sending spans: a bounded queue, batches, a timeout per request and a deadline for the
//! last flush. Export is best effort by design: a collector that is down, slow or refusing
//! costs the run at most [`ExportOptions::flush_deadline`] at its end and a warning, never
//! its exit code, its memory (spans beyond the queue are dropped and counted) or its speed
//! (the runner's events are taken without waiting).

use std::time::Duration;

use rehearse_runner::RunEvent;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::tracer::Tracer;
use crate::wire::{ExportRequest, Resource, ResourceSpans, Scope, ScopeSpans, Span, text};

/// How the exporter batches and waits.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Spans held at most while they wait to be sent; more are dropped (and counted).
    pub queue: usize,
    /// Spans per request at most.
    pub batch: usize,
    /// A batch that is not full is sent after this long.
    pub interval: Duration,
    /// One request's timeout.
    pub timeout: Duration,
    /// How long [`Exporter::finish`] waits for the last spans to be sent.
    pub flush_deadline: Duration,
    /// `service.name` of the resource.
    pub service_name: String,
}

impl Default for ExportOptions {
    fn default() -> Self {
        Self {
            queue: 4096,
            batch: 512,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(5),
            flush_deadline: Duration::from_secs(5),
            service_name: "rehearse".to_owned(),
        }
    }
}

/// An `--otlp` endpoint that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError(pub String);

impl std::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EndpointError {}

/// What an export achieved, for the run's closing lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Where the spans went (`…/v1/traces`, without any user:password).
    pub endpoint: String,
    /// Spans the collector accepted (a 2xx).
    pub exported: usize,
    /// Spans not sent: the queue was full, a request failed, or the last flush ran out
    /// of time.
    pub lost: usize,
    /// The first failure, when there was one.
    pub error: Option<String>,
}

impl ExportSummary {
    /// One warning line when something was lost, e.g. "OTLP export to
    /// http://127.0.0.1:4318/v1/traces: 12 spans not sent (connection refused)".
    pub fn warning(&self) -> Option<String> {
        (self.lost > 0 || self.error.is_some()).then(|| {
            format!(
                "OTLP export to {}: {} of {} spans not sent ({})",
                self.endpoint,
                self.lost,
                self.lost.saturating_add(self.exported),
                self.error.as_deref().unwrap_or("the queue was full")
            )
        })
    }
}

/// The traces endpoint of `endpoint`: a base URL (`http://host:4318`, as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is) gets `/v1/traces` appended; one that already ends with
/// it is kept.
pub fn traces_url(endpoint: &str) -> Result<reqwest::Url, EndpointError> {
    let bad = |why: &str| {
        EndpointError(format!(
            "invalid --otlp endpoint `{endpoint}`: {why}; expected an OTLP/HTTP base URL such as http://127.0.0.1:4318"
        ))
    };
    let mut url = reqwest::Url::parse(endpoint.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(bad("not an http(s) URL"));
    }
    if !url.path().ends_with("/v1/traces") {
        let path = format!("{}/v1/traces", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
}

/// The URL without user:password, for messages.
fn shown(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// Takes run events, turns them into spans and sends them in the background.
#[derive(Debug)]
pub struct Exporter {
    tracer: Tracer,
    queue: mpsc::Sender<Span>,
    /// Spans dropped because the queue was full.
    dropped: usize,
    sender: JoinHandle<(usize, usize, Option<String>)>,
    flush_deadline: Duration,
    endpoint: String,
}

impl Exporter {
    /// Starts the background sender (on the current tokio runtime) for `endpoint`, an OTLP/HTTP
    /// base URL.
    pub fn start(endpoint: &str, options: ExportOptions) -> Result<Self, EndpointError> {
        let url = traces_url(endpoint)?;
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .build()
            .map_err(|e| EndpointError(format!("failed to build the OTLP client: {e}")))?;
        let (queue, spans) = mpsc::channel(options.queue.max(1));
        let shown = shown(&url);
        let sender = tokio::spawn(send_batches(client, url, spans, options.clone()));
        Ok(Self {
            tracer: Tracer::default(),
            queue,
            dropped: 0,
            sender,
            flush_deadline: options.flush_deadline,
            endpoint: shown,
        })
    }

    /// Takes one event; never waits.
    pub fn handle(&mut self, event: &RunEvent) {
        for span in self.tracer.spans(event) {
            if self.queue.try_send(span).is_err() {
                self.dropped = self.dropped.saturating_add(1);
            }
        }
    }

    /// Sends what is left, waiting at most the flush deadline, and says what was sent.
    pub async fn finish(self) -> ExportSummary {
        let Self {
            queue,
            dropped,
            mut sender,
            flush_deadline,
            endpoint,
            ..
        } = self;
        drop(queue);
        let (exported, lost, error) = match tokio::time::timeout(flush_deadline, &mut sender).await
        {
            Ok(Ok(counts)) => counts,
            Ok(Err(e)) => (0, 0, Some(format!("the sender failed: {e}"))),
            Err(_) => {
                sender.abort();
                (
                    0,
                    0,
                    Some(format!(
                        "the collector did not take the last spans within {}s",
                        flush_deadline.as_secs()
                    )),
                )
            }
        };
        let lost = lost.saturating_add(dropped);
        // Spans still queued when the deadline cut the sender are lost too, but uncounted:
        // say so with at least one.
        let lost = if error.is_some() && lost == 0 {
            1
        } else {
            lost
        };
        ExportSummary {
            endpoint,
            exported,
            lost,
            error,
        }
    }
}

/// The background sender: batches of at most `batch` spans, sent when full, every
/// `interval`, and when the queue closes. Returns (exported, lost, first error).
async fn send_batches(
    client: reqwest::Client,
    url: reqwest::Url,
    mut spans: mpsc::Receiver<Span>,
    options: ExportOptions,
) -> (usize, usize, Option<String>) {
    let resource = || Resource {
        attributes: vec![
            text("service.name", options.service_name.as_str()),
            text("service.version", env!("CARGO_PKG_VERSION")),
            text("telemetry.sdk.name", "rehearse"),
            text("telemetry.sdk.language", "rust"),
        ],
    };
    let batch_size = options.batch.max(1);
    let mut batch: Vec<Span> = Vec::with_capacity(batch_size.min(1024));
    let (mut exported, mut lost, mut first_error) = (0usize, 0usize, None::<String>);
    let mut tick = tokio::time::interval(options.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = true;
    while open || !batch.is_empty() {
        let full = batch.len() >= batch_size;
        if open && !full {
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
        let body = ExportRequest {
            resource_spans: [ResourceSpans {
                resource: resource(),
                scope_spans: [ScopeSpans {
                    scope: Scope {
                        name: "rehearse",
                        version: env!("CARGO_PKG_VERSION"),
                    },
                    spans: &batch,
                }],
            }],
        };
        let outcome = match serde_json::to_vec(&body) {
            Ok(bytes) => client
                .post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes)
                .send()
                .await
                .map_err(|e| describe(&e))
                .and_then(|r| {
                    if r.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("the collector answered {}", r.status()))
                    }
                }),
            Err(e) => Err(format!("failed to encode the spans: {e}")),
        };
        match outcome {
            Ok(()) => exported = exported.saturating_add(batch.len()),
            Err(e) => {
                lost = lost.saturating_add(batch.len());
                first_error.get_or_insert(e);
            }
        }
        batch.clear();
    }
    (exported, lost, first_error)
}

/// A reqwest error as a short phrase, without the URL (it is said once, in the warning).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    match deepest {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_the_traces_path() {
        let url = |e| traces_url(e).map(|u| u.to_string());
        assert_eq!(
            url("http://127.0.0.1:4318").unwrap(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("http://c:4318/otlp/").unwrap(),
            "http://c:4318/otlp/v1/traces"
        );
        assert_eq!(url("https://c/v1/traces").unwrap(), "https://c/v1/traces");
        assert!(url("127.0.0.1:4318").is_err());
        assert!(url("ftp://c").is_err());
    }

    #[test]
    fn messages_never_show_a_password_of_the_endpoint() {
        let u = traces_url("http://user:hunter2-canary@c:4318").unwrap();
        assert_eq!(shown(&u), "http://c:4318/v1/traces");
    }

    #[tokio::test]
    async fn a_collector_that_is_down_is_a_warning_within_the_deadline() {
        // A port nothing listens on: bind, take the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut exporter = Exporter::start(
            &format!("http://127.0.0.1:{port}"),
            ExportOptions {
                interval: Duration::from_millis(10),
                ..ExportOptions::default()
            },
        )
        .unwrap();
        exporter.handle(&RunEvent::ScenarioStarted {
            scenario: 0,
            path: "a.yaml".into(),
            name: "a".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            started_at: std::time::SystemTime::now(),
        });
        exporter.handle(&RunEvent::ScenarioFinished {
            scenario: 0,
            result: rehearse_runner::ScenarioResult {
                path: "a.yaml".into(),
                name: "a".into(),
                tags: Vec::new(),
                owner: None,
                status: rehearse_runner::Status::Passed,
                duration: Duration::ZERO,
                steps: Vec::new(),
                cleanup: Vec::new(),
                retries: 0,
            },
        });
        let summary = exporter.finish().await;
        assert_eq!(summary.exported, 0);
        assert_eq!(summary.lost, 1);
        let warning = summary.warning().unwrap();
        assert!(warning.contains("could not connect"), "{warning}");
    }
}
