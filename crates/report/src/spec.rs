//! `--report KIND=PATH` specs, and writing the chosen reports.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rehearse_runner::RunResult;

/// A report file to write, from `--report KIND=PATH` (`junit`, `json`, `html`,
/// `markdown`, `ctrf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSpec {
    /// JUnit XML.
    Junit(PathBuf),
    /// The whole result as JSON.
    Json(PathBuf),
    /// One self-contained HTML page.
    Html(PathBuf),
    /// A short Markdown summary (for `$GITHUB_STEP_SUMMARY`, chat).
    Markdown(PathBuf),
    /// Common Test Report Format JSON (<https://ctrf.io>).
    Ctrf(PathBuf),
}

/// What every report of a run may use besides the result itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// Where the HTML report will be published (`--report-url`): the Markdown summary
    /// links to it.
    pub report_url: Option<String>,
    /// The scenarios' history from the store (strips, new failure / fixed labels), when
    /// there is a store.
    pub trends: Option<crate::Trends>,
    /// `--shard K/N` of the run, when it was one slice (CTRF's `shardId`).
    pub shard: Option<String>,
    /// The owners' clocks (from `owners.yaml`), when the suite has an owners file: each
    /// owner with failures is shown with their local time and working hours.
    pub owner_clocks: Option<crate::OwnerClocks>,
    /// The pre-flight checks that failed in the previous run of the environment and pass
    /// now (from the store).
    pub verified_fixed: Vec<crate::VerifiedFixed>,
}

impl ReportOptions {
    /// No option set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets where the HTML report will be published.
    #[must_use]
    pub fn report_url(mut self, url: impl Into<String>) -> Self {
        self.report_url = Some(url.into());
        self
    }
}

/// The kinds a `--report` spec accepts, for messages.
const KINDS: &str = "junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH";

/// Why a `--report` spec could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportSpecError {
    /// The part before `=` is not a report kind.
    #[error("unknown report kind `{kind}`; use {KINDS}")]
    UnknownKind {
        /// What was given.
        kind: String,
    },
    /// No `=PATH`, or an empty path.
    #[error("report `{spec}` has no path; use {KINDS}")]
    MissingPath {
        /// The whole spec.
        spec: String,
    },
}

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("write {spec}: {source}")]
pub struct WriteReportError {
    /// Which report.
    pub spec: ReportSpec,
    /// The IO error.
    pub source: io::Error,
}

impl FromStr for ReportSpec {
    type Err = ReportSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let (kind, path) = spec.split_once('=').unwrap_or((spec, ""));
        let path = PathBuf::from(path);
        let missing = || ReportSpecError::MissingPath {
            spec: spec.to_owned(),
        };
        let make: fn(PathBuf) -> Self = match kind.trim() {
            "junit" => Self::Junit,
            "json" => Self::Json,
            "html" => Self::Html,
            "markdown" | "md" => Self::Markdown,
            "ctrf" => Self::Ctrf,
            other => {
                return Err(ReportSpecError::UnknownKind {
                    kind: other.to_owned(),
                });
            }
        };
        if path.as_os_str().is_empty() {
            return Err(missing());
        }
        Ok(make(path))
    }
}

impl fmt::Display for ReportSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} report `{}`", self.kind(), self.path().display())
    }
}

impl ReportSpec {
    /// `junit`, `json`, `html` or `markdown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Junit(_) => "junit",
            Self::Json(_) => "json",
            Self::Html(_) => "html",
            Self::Markdown(_) => "markdown",
            Self::Ctrf(_) => "ctrf",
        }
    }

    /// Where it goes.
    pub fn path(&self) -> &Path {
        match self {
            Self::Junit(p) | Self::Json(p) | Self::Html(p) | Self::Markdown(p) | Self::Ctrf(p) => p,
        }
    }

    /// Writes this report of `result`, creating parent directories.
    pub fn write(&self, result: &RunResult) -> Result<(), WriteReportError> {
        self.write_with(result, &ReportOptions::default())
    }

    /// Writes this report of `result` with `options`, creating parent directories.
    pub fn write_with(
        &self,
        result: &RunResult,
        options: &ReportOptions,
    ) -> Result<(), WriteReportError> {
        match self {
            Self::Junit(path) => crate::write_junit(result, path),
            Self::Json(path) => crate::write_json(result, path),
            Self::Html(path) => write_file(
                path,
                crate::html::to_html_string_opts(result, options).as_bytes(),
            ),
            Self::Markdown(path) => write_file(
                path,
                crate::markdown::to_markdown_string_opts(result, options).as_bytes(),
            ),
            Self::Ctrf(path) => crate::write_ctrf(result, path, options.shard.as_deref()),
        }
        .map_err(|source| WriteReportError {
            spec: self.clone(),
            source,
        })
    }
}

/// Reads every `--report` value, stopping at the first bad one.
pub fn parse_report_specs<I, S>(specs: I) -> Result<Vec<ReportSpec>, ReportSpecError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    specs.into_iter().map(|s| s.as_ref().parse()).collect()
}

/// Writes every report; tries them all and returns the first error.
pub fn write_reports(result: &RunResult, specs: &[ReportSpec]) -> Result<(), WriteReportError> {
    write_reports_with(result, specs, &ReportOptions::default())
}

/// Writes every report with `options` (e.g. `--report-url`); tries them all and returns
/// the first error.
pub fn write_reports_with(
    result: &RunResult,
    specs: &[ReportSpec],
    options: &ReportOptions,
) -> Result<(), WriteReportError> {
    let mut first = None;
    for spec in specs {
        if let Err(e) = spec.write_with(result, options) {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// Writes `bytes` to `path`, creating its parent directories.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_spec() {
        let specs = parse_report_specs([
            "junit=out/junit.xml",
            "json=r.json",
            "html=out/report.html",
            "markdown=summary.md",
            "md=s.md",
        ])
        .unwrap();
        assert_eq!(
            specs,
            [
                ReportSpec::Junit("out/junit.xml".into()),
                ReportSpec::Json("r.json".into()),
                ReportSpec::Html("out/report.html".into()),
                ReportSpec::Markdown("summary.md".into()),
                ReportSpec::Markdown("s.md".into()),
            ]
        );
    }

    #[test]
    fn unknown_kind_says_what_to_use() {
        let err = "xml=out.xml".parse::<ReportSpec>().unwrap_err();
        insta::assert_snapshot!(err, @"unknown report kind `xml`; use junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH");
    }

    #[test]
    fn missing_path_is_an_error() {
        let err = parse_report_specs(["json=r.json", "junit"]).unwrap_err();
        insta::assert_snapshot!(err, @"report `junit` has no path; use junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH");
        let err = "json=".parse::<ReportSpec>().unwrap_err();
        insta::assert_snapshot!(err, @"report `json=` has no path; use junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH");
    }

    #[test]
    fn spec_displays_kind_and_path() {
        insta::assert_snapshot!(ReportSpec::Junit("out/j.xml".into()), @"junit report `out/j.xml`");
    }
}
