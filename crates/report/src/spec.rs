//! `--report KIND=PATH` specs, and writing the chosen reports.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rehearse_runner::RunResult;

/// A report file to write, from `--report junit=PATH` or `--report json=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportSpec {
    /// JUnit XML.
    Junit(PathBuf),
    /// The whole result as JSON.
    Json(PathBuf),
}

/// Why a `--report` spec could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportSpecError {
    /// The part before `=` is not a report kind.
    #[error("unknown report kind `{kind}`; use junit=PATH or json=PATH")]
    UnknownKind {
        /// What was given.
        kind: String,
    },
    /// No `=PATH`, or an empty path.
    #[error("report `{spec}` has no path; use junit=PATH or json=PATH")]
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
        match kind.trim() {
            "junit" if path.as_os_str().is_empty() => Err(missing()),
            "json" if path.as_os_str().is_empty() => Err(missing()),
            "junit" => Ok(Self::Junit(path)),
            "json" => Ok(Self::Json(path)),
            other => Err(ReportSpecError::UnknownKind {
                kind: other.to_owned(),
            }),
        }
    }
}

impl fmt::Display for ReportSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} report `{}`", self.kind(), self.path().display())
    }
}

impl ReportSpec {
    /// `junit` or `json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Junit(_) => "junit",
            Self::Json(_) => "json",
        }
    }

    /// Where it goes.
    pub fn path(&self) -> &Path {
        match self {
            Self::Junit(p) | Self::Json(p) => p,
        }
    }

    /// Writes this report of `result`, creating parent directories.
    pub fn write(&self, result: &RunResult) -> Result<(), WriteReportError> {
        match self {
            Self::Junit(path) => crate::write_junit(result, path),
            Self::Json(path) => crate::write_json(result, path),
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
    let mut first = None;
    for spec in specs {
        if let Err(e) = spec.write(result) {
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
    fn reads_junit_and_json_specs() {
        let specs = parse_report_specs(["junit=out/junit.xml", "json=r.json"]).unwrap();
        assert_eq!(
            specs,
            [
                ReportSpec::Junit("out/junit.xml".into()),
                ReportSpec::Json("r.json".into())
            ]
        );
    }

    #[test]
    fn unknown_kind_says_what_to_use() {
        let err = "xml=out.xml".parse::<ReportSpec>().unwrap_err();
        insta::assert_snapshot!(err, @"unknown report kind `xml`; use junit=PATH or json=PATH");
    }

    #[test]
    fn missing_path_is_an_error() {
        let err = parse_report_specs(["json=r.json", "junit"]).unwrap_err();
        insta::assert_snapshot!(err, @"report `junit` has no path; use junit=PATH or json=PATH");
        let err = "json=".parse::<ReportSpec>().unwrap_err();
        insta::assert_snapshot!(err, @"report `json=` has no path; use junit=PATH or json=PATH");
    }

    #[test]
    fn spec_displays_kind_and_path() {
        insta::assert_snapshot!(ReportSpec::Junit("out/j.xml".into()), @"junit report `out/j.xml`");
    }
}
