//! Reports of a run, each a consumer of the runner's [`RunEvent`]s or of its final
//! [`RunResult`]:
//!
//! - [`ConsoleReporter`]: a block per scenario (a header, a line per step, what was
//!   expected and what came on failure) and a summary line; a live spinner for running
//!   scenarios and polls on a terminal; honours `NO_COLOR` and [`ColorChoice`].
//! - [`write_junit`]: JUnit XML, a testsuite per scenario file, a testcase per scenario.
//! - [`write_json`]: the whole result, every attempt of every step.
//! - [`write_html`]: one self-contained page (no URL fetched) with the verdict, failures
//!   by owner with their hints, and a timeline per scenario whose steps and attempts
//!   open on click; filters by tag and status.
//! - [`write_markdown`]: a short summary for `$GITHUB_STEP_SUMMARY` and chat, linking
//!   to the HTML report when [`ReportOptions::report_url`] is set.
//! - [`write_ctrf`]: the Common Test Report Format (<https://ctrf.io>) for tools that read
//!   it; a scenario is a test, its file the suite.
//! - [`merge`] / [`merge_dirs`]: the JSON results of shards joined into one run.
//! - [`to_board_html`]: a countdown step's readiness board (a row per owner, go/no-go).
//!
//! The CLI picks files with repeatable `--report KIND=PATH` (`junit`, `json`, `html`,
//! `markdown`, `ctrf`), read into [`ReportSpec`]s. Reporters print only what the events carry;
//! the runner masks secrets before it sends them.
//!
//! ```
//! use std::time::Duration;
//!
//! use rehearse_report::{ColorChoice, ConsoleOptions, ConsoleReporter, ReportSpec, Reporter};
//! use rehearse_runner::{RunEvent, RunResult};
//!
//! let result = RunResult {
//!     run_id: "r-1".into(),
//!     environment: "local".into(),
//!     started_at: chrono::Utc::now(),
//!     duration: Duration::from_millis(1_230),
//!     scenarios: vec![],
//!     interrupted: false,
//!     preflight: vec![],
//!     rehearse_version: "0.1.0".into(),
//!     bank_api_version: None,
//!     aborted: None,
//! };
//! let options = ConsoleOptions::new().color(ColorChoice::Never);
//! let mut console = ConsoleReporter::new(Box::new(std::io::stdout()), options);
//! console.report(&RunEvent::RunFinished { result: std::sync::Arc::new(result.clone()) })?;
//! // prints: 0 passed, 0 failed, 0 skipped in 1.23s · run r-1 · environment local
//!
//! let spec: ReportSpec = "junit=out/junit.xml".parse()?;
//! assert_eq!(spec, ReportSpec::Junit("out/junit.xml".into()));
//! let xml = rehearse_report::to_junit_string(&result)?;
//! assert!(xml.contains(r#"<testsuites name="rehearse""#));
//! let html = rehearse_report::to_html_string(&result);
//! assert!(html.contains(r#"<span class="verdict-word">passed</span>"#));
//! let md = rehearse_report::to_markdown_string(&result, Some("https://ci.example/r.html"));
//! assert!(md.starts_with("## ✅ rehearse: passed"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod board;
mod console;
mod ctrf;
mod html;
mod json;
mod junit;
mod markdown;
mod merge;
mod options;
mod owners;
mod render;
mod reporter;
mod spec;
mod style;
mod trend;
mod verdict;

pub use board::{Board, BoardRow, BoardVerdict, to_board_html, write_board_html};
pub use console::ConsoleReporter;
pub use ctrf::{CTRF_SPEC_VERSION, to_ctrf_string, write_ctrf};
pub use html::{
    to_html_string, to_html_string_opts, to_html_string_with, write_html, write_html_with,
};
pub use json::{to_json_string, write_json};
pub use junit::{to_junit_string, write_junit};
pub use markdown::{
    to_markdown_string, to_markdown_string_opts, to_markdown_string_with, write_markdown,
    write_markdown_with,
};
pub use merge::{MERGED_FILES, merge, merge_dirs, merge_dirs_with, read_json, write_merged};
pub use options::{ColorChoice, ConsoleOptions, Verbosity};
pub use owners::{OwnerClock, OwnerClocks, VerifiedFixed};
pub use reporter::Reporter;
pub use spec::{
    ReportOptions, ReportSpec, ReportSpecError, WriteReportError, parse_report_specs,
    write_reports, write_reports_with,
};
pub use trend::{ScenarioTrend, TrendLabel, Trends};

#[doc(no_inline)]
pub use rehearse_runner::{RunEvent, RunResult};
