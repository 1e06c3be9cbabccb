//! Sending one probe to the bank sandbox: its timeout, the body read within a cap, and the
//! records a report shows, masked.

use std::time::{Duration, Instant};

use rehearse_runner::{Redactor, RequestRecord, ResponseRecord};
use serde_json::Value;

/// The most of a body that is read.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// The most of a body a record keeps.
const EXCERPT: usize = 2_048;

/// A request to send.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) method: reqwest::Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

/// What came back (or why nothing did).
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) status: Option<u16>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    pub(crate) error: Option<String>,
    pub(crate) duration: Duration,
}

/// Sends requests with the environment's client.
pub(crate) struct Sender<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) timeout: Duration,
    pub(crate) redactor: &'a Redactor,
    pub(crate) run_id: &'a str,
}

impl Sender<'_> {
    pub(crate) async fn send(&self, out: &Outgoing) -> Exchange {
        let started = Instant::now();
        let mut req = self
            .client
            .request(out.method.clone(), &out.url)
            .timeout(self.timeout)
            .header("x-rehearse-run", self.run_id);
        for (k, v) in &out.headers {
            req = req.header(k, v);
        }
        req = match &out.body {
            Some(Body::Json(v)) => req.json(v),
            Some(Body::Form(pairs)) => req.form(pairs),
            None => req,
        };
        // The outer guard: a server that trickles its body forever still ends.
        let guard = self.timeout.saturating_add(Duration::from_millis(250));
        let result = tokio::time::timeout(guard, async {
            let mut resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect::<Vec<_>>();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                let room = MAX_BODY.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_BODY {
                    break;
                }
            }
            Ok::<_, reqwest::Error>((status, headers, body))
        })
        .await;
        let duration = started.elapsed();
        match result {
            Ok(Ok((status, headers, body))) => Exchange {
                status: Some(status),
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                error: None,
                duration,
            },
            Ok(Err(e)) => Exchange {
                status: None,
                headers: Vec::new(),
                body: String::new(),
                error: Some(self.redactor.mask(&transport_error(&e, &out.url))),
                duration,
            },
            Err(_) => Exchange {
                status: None,
                headers: Vec::new(),
                body: String::new(),
                error: Some(format!(
                    "no answer within {}",
                    humantime::format_duration(self.timeout)
                )),
                duration,
            },
        }
    }
}

/// The request as a report shows it, masked.
pub(crate) fn request_record(out: &Outgoing, redactor: &Redactor) -> RequestRecord {
    RequestRecord {
        method: out.method.to_string(),
        url: redactor.mask(&out.url),
        headers: out
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), redactor.mask(v)))
            .collect(),
        body: out.body.as_ref().map(|b| {
            let text = match b {
                Body::Json(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
                Body::Form(pairs) => pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&"),
            };
            cut(&redactor.mask(&text))
        }),
    }
}

/// The answer as a report shows it, masked.
pub(crate) fn response_record(ex: &Exchange, redactor: &Redactor) -> Option<ResponseRecord> {
    ex.status.map(|status| ResponseRecord {
        status,
        headers: ex
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), redactor.mask(v)))
            .collect(),
        body: cut(&redactor.mask(&ex.body)),
    })
}

fn cut(text: &str) -> String {
    if text.chars().count() > EXCERPT {
        format!("{}…", text.chars().take(EXCERPT).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// A transport failure in plain words.
fn transport_error(e: &reqwest::Error, url: &str) -> String {
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_else(|| url.to_owned());
    if e.is_connect() {
        format!("connection to {host} failed (is the bank sandbox up, and is `bank.url` right?)")
    } else if e.is_timeout() {
        format!("{host} did not answer in time")
    } else if e.is_builder() {
        format!("`{url}` is not a URL rehearse can send to")
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}
