//! `rehearse run --otlp ENDPOINT`: the run's events as OpenTelemetry traces
//! (`rehearse-otlp`), and the endpoint handed to the embedded stack's services so that
//! their spans join the same traces.

use std::sync::OnceLock;

use rehearse_otlp::{ExportOptions, Exporter};

/// The `--otlp` endpoint of this process's run, for the embedded stack's platforms.
static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The endpoint the embedded stack's services send their spans to (none: no `--otlp`).
pub(crate) fn endpoint() -> Option<String> {
    ENDPOINT.get().cloned()
}

/// Starts the exporter for `--otlp` (none without it), before the embedded stack starts.
/// An endpoint that is no http(s) URL is invalid input: printed, `Err(exit code)`.
pub(crate) fn start(endpoint: Option<&str>) -> Result<Option<Exporter>, u8> {
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    match Exporter::start(endpoint, ExportOptions::default()) {
        Ok(exporter) => {
            let _ = ENDPOINT.set(endpoint.trim().to_owned());
            Ok(Some(exporter))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(crate::exit::INVALID_INPUT)
        }
    }
}

/// Sends what is left; a collector that lost spans is a warning, never an exit code.
pub(crate) async fn finish(exporter: Option<Exporter>, quiet: bool) {
    let Some(exporter) = exporter else {
        return;
    };
    let summary = exporter.finish().await;
    match summary.warning() {
        Some(w) => eprintln!("warning: {w}"),
        None if !quiet => eprintln!(
            "OTLP: {} spans sent to {}",
            summary.exported, summary.endpoint
        ),
        None => {}
    }
}
