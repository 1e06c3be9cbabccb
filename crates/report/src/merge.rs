//! Joining the JSON results of a sharded run (`--shard K/N` on N machines) into one, as
//! if it had been a single run: `rehearse report merge OUT_DIR IN_DIRS…`.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rehearse_runner::{Aborted, CheckResult, RunResult, Status};

use crate::spec::{ReportOptions, ReportSpec};

/// The reason that outranks the others when shards aborted for different reasons.
const INVALID_INPUT: &str = "invalid_input";

/// The files [`merge_dirs`] writes into its output folder.
pub const MERGED_FILES: [&str; 4] = ["junit.xml", "run.json", "report.html", "report.md"];

/// Joins the results of shards into one result, as if it had been one run:
///
/// - scenarios of every shard, sorted by path (shards keep their own order within a
///   path), so counts and failures add up;
/// - `started_at` is the earliest start, `duration` runs to the latest end;
/// - pre-flight checks are kept once per name: a failure on any shard wins, and the
///   scenarios requiring it are joined;
/// - interrupted if any shard was; aborted if any was, with every problem once (an
///   `invalid_input` reason outranks `environment_not_ready`);
/// - run ids, environments and versions that differ are joined with `, `.
///
/// No result gives an empty run that started at the Unix epoch.
pub fn merge(results: Vec<RunResult>) -> RunResult {
    let mut ordered = results;
    ordered.sort_by_key(|r| r.started_at);
    let started_at = ordered
        .first()
        .map_or(DateTime::<Utc>::UNIX_EPOCH, |r| r.started_at);
    let ended_at = ordered
        .iter()
        .map(|r| r.started_at + chrono::Duration::from_std(r.duration).unwrap_or_default())
        .max()
        .unwrap_or(started_at);
    let duration = (ended_at - started_at).to_std().unwrap_or_default();

    let run_id = joined(ordered.iter().map(|r| r.run_id.as_str()));
    let environment = joined(ordered.iter().map(|r| r.environment.as_str()));
    let rehearse_version = joined(ordered.iter().map(|r| r.rehearse_version.as_str()));
    let bank_api_version = Some(joined(
        ordered.iter().filter_map(|r| r.bank_api_version.as_deref()),
    ))
    .filter(|v| !v.is_empty());
    let interrupted = ordered.iter().any(|r| r.interrupted);

    let mut aborted: Option<Aborted> = None;
    let mut preflight: Vec<CheckResult> = Vec::new();
    let mut scenarios = Vec::new();
    for r in ordered {
        if let Some(a) = r.aborted {
            let merged = aborted.get_or_insert_with(|| Aborted {
                reason: a.reason.clone(),
                problems: Vec::new(),
            });
            if a.reason == INVALID_INPUT {
                merged.reason = a.reason;
            }
            for p in a.problems {
                if !merged.problems.contains(&p) {
                    merged.problems.push(p);
                }
            }
        }
        for check in r.preflight {
            merge_check(&mut preflight, check);
        }
        scenarios.extend(r.scenarios);
    }
    scenarios.sort_by(|a, b| a.path.cmp(&b.path));

    RunResult {
        run_id,
        environment,
        started_at,
        duration,
        scenarios,
        interrupted,
        preflight,
        rehearse_version,
        bank_api_version,
        aborted,
    }
}

/// Adds `check` to `checks`, or joins it with the check of the same name: the failed
/// one wins (its status, evidence and time), and `required_by` is the union.
fn merge_check(checks: &mut Vec<CheckResult>, check: CheckResult) {
    let Some(kept) = checks.iter_mut().find(|c| c.name == check.name) else {
        checks.push(check);
        return;
    };
    let mut required_by = std::mem::take(&mut kept.required_by);
    for s in &check.required_by {
        if !required_by.contains(s) {
            required_by.push(s.clone());
        }
    }
    if kept.status == Status::Passed && check.status != Status::Passed {
        *kept = check;
    }
    kept.required_by = required_by;
}

/// The distinct values, in order, joined with `, `.
fn joined<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for v in values.filter(|v| !v.is_empty()) {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join(", ")
}

/// Reads a JSON report written by `--report json=PATH`.
pub fn read_json(path: &Path) -> io::Result<RunResult> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a rehearse JSON report: {e}", path.display()),
        )
    })
}

/// Reads every `*.json` report directly inside each of `in_dirs` (a file given instead
/// of a folder is read as it is), merges them with [`merge`], and writes `junit.xml`,
/// `run.json`, `report.html` and `report.md` into `out_dir`. Returns the merged result.
///
/// Fails when an input cannot be read, a `*.json` file is not a JSON report, or no
/// report was found at all.
pub fn merge_dirs<I>(out_dir: &Path, in_dirs: I) -> io::Result<RunResult>
where
    I: IntoIterator,
    I::Item: AsRef<Path>,
{
    merge_dirs_with(out_dir, in_dirs, &ReportOptions::new())
}

/// [`merge_dirs`] with report options: the Markdown summary links to
/// [`ReportOptions::report_url`].
pub fn merge_dirs_with<I>(
    out_dir: &Path,
    in_dirs: I,
    options: &ReportOptions,
) -> io::Result<RunResult>
where
    I: IntoIterator,
    I::Item: AsRef<Path>,
{
    let mut files: Vec<PathBuf> = Vec::new();
    let mut searched = Vec::new();
    for dir in in_dirs {
        let dir = dir.as_ref();
        searched.push(dir.display().to_string());
        if dir.is_file() {
            files.push(dir.to_path_buf());
            continue;
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("read {}: {e}", dir.display())))?;
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.is_file() && path.extension().is_some_and(|x| x == "json") {
                found.push(path);
            }
        }
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no *.json report in {}; write one per shard with --report json=PATH",
                if searched.is_empty() {
                    "the input folders (none given)".to_owned()
                } else {
                    searched.join(", ")
                }
            ),
        ));
    }
    let results = files
        .iter()
        .map(|f| read_json(f))
        .collect::<io::Result<Vec<_>>>()?;
    let merged = merge(results);
    write_merged(out_dir, &merged, options)?;
    Ok(merged)
}

/// Writes one run's reports into `out_dir` as a merge does (junit.xml, run.json,
/// report.html, report.md): for shards joined from JSON reports, or read back from the
/// store (`rehearse report merge --run RUN_ID`).
pub fn write_merged(out_dir: &Path, merged: &RunResult, options: &ReportOptions) -> io::Result<()> {
    let [junit, json, html, markdown] = MERGED_FILES.map(|name| out_dir.join(name));
    let specs = [
        ReportSpec::Junit(junit),
        ReportSpec::Json(json),
        ReportSpec::Html(html),
        ReportSpec::Markdown(markdown),
    ];
    for spec in &specs {
        spec.write_with(merged, options)
            .map_err(|e| io::Error::new(e.source.kind(), e.to_string()))?;
    }
    Ok(())
}
