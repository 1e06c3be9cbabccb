//! The Common Test Report Format (<https://ctrf.io>, specification 1.0.0): one JSON
//! document other tools read (GitHub and GitLab summaries, dashboards, chat plugins). A
//! scenario is a test; its file is the suite. Validated against CTRF's own JSON Schema in
//! `tests/ctrf_report.rs`.

use std::io;
use std::path::Path;

use rehearse_runner::{RunResult, ScenarioResult, Status};
use serde_json::{Value, json};

use crate::spec::write_file;

/// The CTRF specification version written.
pub const CTRF_SPEC_VERSION: &str = "1.0.0";

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// CTRF's status of a scenario, and rehearse's own when they differ.
fn status(s: Status) -> (&'static str, Option<&'static str>) {
    match s {
        Status::Passed => ("passed", None),
        Status::Flaky => ("passed", Some("flaky")),
        Status::Failed => ("failed", None),
        Status::Error => ("failed", Some("error")),
        Status::Skipped => ("skipped", None),
        Status::Interrupted => ("other", Some("interrupted")),
    }
}

fn test(s: &ScenarioResult) -> Value {
    let (st, raw) = status(s.status);
    let mut t = json!({
        "name": s.name,
        "status": st,
        "duration": millis(s.duration),
        "suite": [s.path],
        "filePath": s.path,
        "flaky": s.status == Status::Flaky,
        "retries": s.retries,
        "tags": s.tags,
    });
    if let Some(raw) = raw {
        t["rawStatus"] = json!(raw);
    }
    if let Some((step, f)) = s.first_failure() {
        t["message"] = json!(format!("step `{}` failed: {f}", step.name));
        let mut trace = format!("{}: expected {}, got {}", f.check, f.expected, f.actual);
        let loc = f.location.as_deref().unwrap_or(step.location.as_str());
        trace.push_str("\n  at ");
        trace.push_str(loc);
        if let Some(line) = &f.source_line {
            trace.push_str("\n  ");
            trace.push_str(line.trim());
        }
        t["trace"] = json!(trace);
    }
    if let Some(o) = &s.owner {
        t["extra"] = json!({ "owner": o });
    }
    t
}

/// The CTRF document of a run; `shard` is `--shard K/N` when the run was one slice.
pub fn to_ctrf_string(result: &RunResult, shard: Option<&str>) -> String {
    let start = result.started_at.timestamp_millis();
    let stop = start.saturating_add(i64::try_from(millis(result.duration)).unwrap_or(i64::MAX));
    let (mut passed, mut failed, mut skipped, mut other, mut flaky) = (0, 0, 0, 0, 0);
    for s in &result.scenarios {
        match status(s.status).0 {
            "passed" => passed += 1,
            "failed" => failed += 1,
            "skipped" => skipped += 1,
            _ => other += 1,
        }
        if s.status == Status::Flaky {
            flaky += 1;
        }
    }
    let mut environment = json!({ "testEnvironment": result.environment });
    if let Some(shard) = shard {
        environment["shardId"] = json!(shard);
    }
    let mut extra = json!({});
    if let Some(v) = &result.bank_api_version {
        extra["bankApiVersion"] = json!(v);
    }
    if let Some(a) = &result.aborted {
        extra["aborted"] = json!({ "reason": a.reason, "problems": a.problems });
    }
    if extra.as_object().is_some_and(|o| !o.is_empty()) {
        environment["extra"] = extra;
    }
    let mut files: Vec<&str> = result.scenarios.iter().map(|s| s.path.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let suites = files.len();
    let doc = json!({
        "reportFormat": "CTRF",
        "specVersion": CTRF_SPEC_VERSION,
        "runId": result.run_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "generatedBy": format!("rehearse {}", result.rehearse_version),
        "results": {
            "tool": { "name": "rehearse", "version": result.rehearse_version },
            "summary": {
                "tests": result.scenarios.len(),
                "passed": passed,
                "failed": failed,
                "skipped": skipped,
                "pending": 0,
                "other": other,
                "flaky": flaky,
                "suites": suites,
                "start": start,
                "stop": stop,
                "duration": millis(result.duration),
            },
            "tests": result.scenarios.iter().map(test).collect::<Vec<_>>(),
            "environment": environment,
        },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Writes the CTRF document to `path`, creating its parent directories.
pub fn write_ctrf(result: &RunResult, path: &Path, shard: Option<&str>) -> io::Result<()> {
    write_file(path, to_ctrf_string(result, shard).as_bytes())
}
