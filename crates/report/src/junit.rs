//! The JUnit XML report: a testsuite per scenario file, a testcase per scenario.

use std::io;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use rehearse_runner::{Aborted, CheckResult, RunResult, ScenarioResult, Status, StepResult};

use crate::render;
use crate::spec::write_file;
use crate::style::Painter;

/// The report's name and the suite of an aborted run.
const NAME: &str = "rehearse";

/// The JUnit XML of a run.
pub fn to_junit_string(result: &RunResult) -> io::Result<String> {
    build(result).to_string().map_err(io::Error::other)
}

/// Writes the JUnit XML of a run to `path`, creating its parent directories.
pub fn write_junit(result: &RunResult, path: &Path) -> io::Result<()> {
    write_file(path, to_junit_string(result)?.as_bytes())
}

fn build(result: &RunResult) -> Report {
    let mut report = Report::new(NAME);
    report
        .set_timestamp(result.started_at)
        .set_time(result.duration);
    let mut suites: Vec<(String, TestSuite, Duration)> = Vec::new();
    if let Some(aborted) = &result.aborted {
        let mut suite = suite(NAME, result);
        suite.add_test_case(aborted_case(aborted));
        suites.push((String::new(), suite, result.duration));
    }
    if !result.preflight.is_empty() {
        // One testcase per pre-flight check: a CI's test view then shows who must fix what.
        let mut suite = suite("pre-flight", result);
        let mut time = Duration::ZERO;
        for c in &result.preflight {
            time += c.duration;
            suite.add_test_case(check_case(c));
        }
        suites.push(("\0pre-flight".to_owned(), suite, time));
    }
    for s in &result.scenarios {
        let at = match suites.iter().position(|(path, ..)| *path == s.path) {
            Some(at) => at,
            None => {
                suites.push((s.path.clone(), suite(&s.path, result), Duration::ZERO));
                suites.len() - 1
            }
        };
        let (_, suite, time) = &mut suites[at];
        *time += s.duration;
        suite.add_test_case(case(s));
    }
    report.add_test_suites(suites.into_iter().map(|(_, mut suite, time)| {
        suite.set_time(time);
        suite
    }));
    report
}

fn suite(name: &str, result: &RunResult) -> TestSuite {
    let mut suite = TestSuite::new(name);
    suite
        .set_timestamp(result.started_at)
        .add_property(Property::new("run_id", result.run_id.as_str()))
        .add_property(Property::new("environment", result.environment.as_str()));
    suite
}

fn check_case(c: &CheckResult) -> TestCase {
    let status = if c.status == Status::Passed {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        let owner = c.owner.as_deref().unwrap_or("no owner set");
        status
            .set_message(format!("not ready ({owner}): {}", c.name))
            .set_type("environment_not_ready");
        let mut text = format!("{}\nowner: {owner}", c.evidence);
        if let Some(h) = &c.hint {
            text.push_str(&format!("\nhint: {h}"));
        }
        if let Some(l) = &c.location {
            text.push_str(&format!("\nat {l}"));
        }
        status.set_description(text);
        status
    };
    let mut case = TestCase::new(c.name.as_str(), status);
    case.set_classname(format!("pre-flight.{}", c.kind))
        .set_time(c.duration);
    if let Some(o) = &c.owner {
        case.add_property(Property::new("owner", o.as_str()));
    }
    case
}

fn aborted_case(aborted: &Aborted) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    let plural = if aborted.problems.len() == 1 { "" } else { "s" };
    status
        .set_message(format!(
            "run aborted: {} ({} problem{plural})",
            aborted.reason.replace('_', " "),
            aborted.problems.len()
        ))
        .set_type(aborted.reason.as_str())
        .set_description(aborted.problems.join("\n"));
    let mut case = TestCase::new(aborted.reason.as_str(), status);
    case.set_classname(NAME);
    case
}

fn case(s: &ScenarioResult) -> TestCase {
    let status = match s.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Flaky => {
            // Passed only after a retry (network-level, or --retry-failed): JUnit's flaky
            // runs, one per failed run.
            let runs = s.retries.max(1);
            let flaky_runs = (0..runs)
                .map(|_| {
                    let mut rerun =
                        quick_junit::TestRerun::new(quick_junit::NonSuccessKind::Failure);
                    rerun.set_message(if s.retries > 0 {
                        "flaky: failed, then passed when --retry-failed ran it again"
                    } else {
                        "flaky: passed only after a network-level retry"
                    });
                    rerun
                })
                .collect();
            TestCaseStatus::Success { flaky_runs }
        }
        Status::Failed | Status::Error => failed(s),
        Status::Skipped | Status::Interrupted => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(if s.status == Status::Skipped {
                "not run"
            } else {
                "interrupted"
            });
            status
        }
    };
    let mut case = TestCase::new(s.name.as_str(), status);
    case.set_classname(s.path.as_str()).set_time(s.duration);
    let steps = steps_summary(s);
    if !steps.is_empty() {
        case.set_system_out(steps);
    }
    if let Some(owner) = &s.owner {
        case.add_property(Property::new("owner", owner.as_str()));
    }
    if !s.tags.is_empty() {
        case.add_property(Property::new("tags", s.tags.join(",")));
    }
    case
}

/// A `failure` (or `error`) naming the step, what was expected and what came; its text
/// holds the location, the source line and an excerpt of the last response.
fn failed(s: &ScenarioResult) -> TestCaseStatus {
    let kind = if s.status == Status::Error {
        NonSuccessKind::Error
    } else {
        NonSuccessKind::Failure
    };
    let mut status = TestCaseStatus::non_success(kind);
    let step = s
        .steps
        .iter()
        .chain(&s.cleanup)
        .find(|st| matches!(st.status, Status::Failed | Status::Error));
    let Some(step) = step else {
        status.set_message(format!("scenario {}", s.status.as_str()));
        return status;
    };
    let after = render::attempts_note(step)
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let verb = if step.status == Status::Error {
        "could not be carried out"
    } else {
        "failed"
    };
    let mut text = format!("step `{}` ({}){after}\n", step.name, step.location);
    text.push_str(&render::failure_block(step, Painter { color: false }).join("\n"));
    status
        .set_message(format!(
            "step `{}` {verb}{after}: {}",
            step.name,
            render::headline(step)
        ))
        .set_type(if step.status == Status::Error {
            "error"
        } else {
            "assertion"
        })
        .set_description(text);
    status
}

/// A line per step, like the console's.
fn steps_summary(s: &ScenarioResult) -> String {
    let line = |st: &StepResult, prefix: &str| {
        let mut l = format!("{} {prefix}{}", st.status.as_str(), st.name);
        if st.status != Status::Skipped {
            l.push_str(&format!(" {}", render::duration(st.duration)));
        }
        if let Some(n) = render::attempts_note(st) {
            l.push_str(&format!(" {n}"));
        }
        l
    };
    let mut lines: Vec<String> = s.steps.iter().map(|st| line(st, "")).collect();
    lines.extend(s.cleanup.iter().map(|st| line(st, "cleanup: ")));
    lines.join("\n")
}
