//! Sending a prepared request and reading its response, within a timeout.

use std::time::{Duration, Instant};

use crate::check::Response;
use crate::prepare::Prepared;

/// Sends a prepared request with the run's tracing headers and reads the whole body,
/// within `timeout`.
pub(crate) async fn send(
    client: &reqwest::Client,
    p: &Prepared,
    timeout: Duration,
    trace_id: &str,
    run_id: &str,
) -> Exchange {
    let span_id = crate::trace::span_id();
    let mut builder = client
        .request(p.method.clone(), &p.url)
        .timeout(timeout)
        .header("traceparent", format!("00-{trace_id}-{span_id}-01"))
        .header("x-rehearse-run", run_id);
    for (k, v) in &p.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(body) = &p.body {
        builder = builder.body(body.clone());
    }
    let started = Instant::now();
    let outcome = async {
        let resp = builder
            .send()
            .await
            .map_err(|e| crate::neterr::describe(&e, timeout))?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| crate::neterr::describe(&e, timeout))?;
        Ok(Response::new(
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    };
    // reqwest's timeout covers the whole exchange; this outer one is a safety net so a
    // step never outlives its timeout by more than a moment.
    let outcome = match tokio::time::timeout(timeout + Duration::from_millis(250), outcome).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no response within {}",
            humantime::format_duration(timeout)
        )),
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
    }
}

pub(crate) struct Exchange {
    pub(crate) outcome: Result<Response, String>,
    pub(crate) duration: Duration,
}
