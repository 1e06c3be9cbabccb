//! rehearse's run events as OpenTelemetry traces (`rehearse run --otlp ENDPOINT`), sent over
//! OTLP/HTTP with the JSON encoding.
//!
//! One trace per scenario, with the trace id its requests' `traceparent` carries; a span per
//! scenario, per step and per attempt, the attempt's span id being the `traceparent`'s
//! parent id, so the spans the system under test records for a request join the scenario's
//! trace as children of its attempt. Attributes follow OpenTelemetry's `test.*`, `http.*` and
//! `url.*` conventions; every value comes from the runner's masked records.
//!
//! Like a reporter, the [`Exporter`] consumes events; unlike one, it is best effort: a
//! bounded queue, batches, a timeout per request and a deadline for the last flush, and
//! what it could not send is an [`ExportSummary::warning`], not an error.
//!
//! ```no_run
//! # async fn demo(events: Vec<rehearse_runner::RunEvent>) {
//! use rehearse_otlp::{ExportOptions, Exporter};
//!
//! let mut exporter = Exporter::start("http://127.0.0.1:4318", ExportOptions::default()).unwrap();
//! for event in &events {
//!     exporter.handle(event);
//! }
//! if let Some(warning) = exporter.finish().await.warning() {
//!     eprintln!("warning: {warning}");
//! }
//! # }
//! ```

mod export;
mod tracer;
mod wire;

pub use export::{EndpointError, ExportOptions, ExportSummary, Exporter, traces_url};
