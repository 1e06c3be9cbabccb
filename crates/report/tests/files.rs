//! JUnit XML and JSON reports, and writing them from `--report` specs.

mod common;

use common::{aborted, failing, passing};
use quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use rehearse_report::{
    ReportSpec, parse_report_specs, to_json_string, to_junit_string, write_json, write_junit,
    write_reports,
};
use rehearse_runner::{RunResult, Status};

fn parse(xml: &str) -> Report {
    Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("invalid JUnit XML: {e}\n{xml}"))
}

fn non_success(status: &TestCaseStatus) -> (NonSuccessKind, String, String) {
    match status {
        TestCaseStatus::NonSuccess {
            kind,
            message,
            description,
            ..
        } => (
            *kind,
            message
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
            description
                .as_ref()
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
        ),
        other => panic!("expected a failure or error, got {other:?}"),
    }
}

#[test]
fn junit_snapshot_of_a_failing_run() {
    insta::assert_snapshot!(to_junit_string(&failing()).unwrap());
}

#[test]
fn junit_has_a_suite_per_file_and_a_case_per_scenario() {
    let report = parse(&to_junit_string(&failing()).unwrap());
    let suites: Vec<(&str, usize)> = report
        .test_suites
        .iter()
        .map(|s| (s.name.as_str(), s.test_cases.len()))
        .collect();
    assert_eq!(
        suites,
        [
            ("scenarios/payments.yaml", 2),
            ("scenarios/refunds.yaml", 1),
            ("scenarios/statements.yaml", 1)
        ]
    );
    assert_eq!(
        (report.tests, report.failures, report.errors, report.skipped),
        (4, 1, 1, 1)
    );
    let case = &report.test_suites[0].test_cases[0];
    assert_eq!(case.name.as_str(), "Large payment is settled");
    assert_eq!(
        case.classname.as_ref().map(|c| c.as_str()),
        Some("scenarios/payments.yaml")
    );
    assert_eq!(case.time, Some(std::time::Duration::from_millis(1_520)));
}

#[test]
fn junit_failure_names_step_expectation_location_and_last_response() {
    let report = parse(&to_junit_string(&failing()).unwrap());
    let (kind, message, text) = non_success(&report.test_suites[0].test_cases[0].status);
    assert_eq!(kind, NonSuccessKind::Failure);
    assert_eq!(
        message,
        r#"step `poller picks up the final status` failed after 3 attempts: $.status: expected settled, got "pending_review""#
    );
    assert!(text.contains("--> scenarios/payments.yaml:24:34"), "{text}");
    assert!(
        text.contains(r#"expect: { status: 200, json: { "$.status": settled } }"#),
        "{text}"
    );
    assert!(text.contains("last response: 200"), "{text}");
    assert!(text.contains(r#""status": "pending_review""#), "{text}");
}

#[test]
fn junit_error_and_skipped_statuses() {
    let report = parse(&to_junit_string(&failing()).unwrap());
    let (kind, message, _) = non_success(&report.test_suites[1].test_cases[0].status);
    assert_eq!(kind, NonSuccessKind::Error);
    assert!(message.contains("connection refused"), "{message}");
    assert!(matches!(
        report.test_suites[2].test_cases[0].status,
        TestCaseStatus::Skipped { .. }
    ));
}

#[test]
fn junit_of_an_aborted_run_lists_the_problems() {
    let xml = to_junit_string(&aborted()).unwrap();
    insta::assert_snapshot!(xml);
    let report = parse(&xml);
    assert_eq!(report.test_suites.len(), 1);
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "rehearse");
    let (kind, message, text) = non_success(&suite.test_cases[0].status);
    assert_eq!(kind, NonSuccessKind::Error);
    assert_eq!(message, "run aborted: environment not ready (2 problems)");
    assert!(
        text.contains("status poller is installed and running"),
        "{text}"
    );
}

#[test]
fn junit_of_a_passing_run_has_no_failure() {
    let report = parse(&to_junit_string(&passing()).unwrap());
    assert_eq!((report.tests, report.failures, report.errors), (1, 0, 0));
}

#[test]
fn json_round_trips_every_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/out/result.json");
    let result = failing();
    write_json(&result, &path).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let back: RunResult = serde_json::from_str(&text).unwrap();
    assert_eq!(to_json_string(&back).unwrap(), text);
    assert_eq!(back.scenarios[0].steps[1].attempts.len(), 3);
    assert_eq!(back.scenarios[0].status, Status::Failed);
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        raw["scenarios"][0]["steps"][1]["attempts"][2]["response"]["body"],
        r#"{"id":"p-1","status":"pending_review"}"#
    );
    assert!(
        text.starts_with("{\n  \"run_id\": \"run-0001\""),
        "pretty: {text}"
    );
}

#[test]
fn write_junit_creates_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/junit.xml");
    write_junit(&failing(), &path).unwrap();
    parse(&std::fs::read_to_string(path).unwrap());
}

#[test]
fn write_reports_writes_every_spec() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("out/junit.xml");
    let json = dir.path().join("out/run.json");
    let specs = parse_report_specs([
        format!("junit={}", junit.display()),
        format!("json={}", json.display()),
    ])
    .unwrap();
    write_reports(&aborted(), &specs).unwrap();
    assert!(
        std::fs::read_to_string(junit)
            .unwrap()
            .contains("environment_not_ready")
    );
    assert!(
        std::fs::read_to_string(json)
            .unwrap()
            .contains("environment_not_ready")
    );
}

#[test]
fn write_error_names_the_report() {
    let dir = tempfile::tempdir().unwrap();
    // the path is a directory, so it cannot be written as a file
    let spec = ReportSpec::Json(dir.path().to_path_buf());
    let err = write_reports(&passing(), &[spec]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("write json report `{}`: ", dir.path().display())),
        "{msg}"
    );
}
