//! `rehearse report merge`: the results of shards joined as if they had been one run.

mod common;

use std::time::Duration;

use common::{
    check, errored_refund, failed_payment, flaky_statement, passed_small_payment, run,
    skipped_statement,
};
use rehearse_report::{MERGED_FILES, merge, merge_dirs, read_json, to_markdown_string, write_json};
use rehearse_runner::{Aborted, RunResult, ScenarioResult, Status};

/// Every scenario of a suite, in the order of their paths (as one run lists them).
fn suite() -> Vec<ScenarioResult> {
    let mut s = vec![
        failed_payment(),
        passed_small_payment(),
        errored_refund(),
        skipped_statement(),
        flaky_statement(),
    ];
    s.sort_by(|a, b| a.path.cmp(&b.path));
    s
}

/// The suite run unsharded.
fn unsharded() -> RunResult {
    run(suite(), 1_800)
}

/// Shard `k` of `n`, as `--shard k/n` slices the suite: every n-th scenario from k-1.
/// Shards start a second apart and each has its own run id.
fn shard(k: usize, n: usize) -> RunResult {
    let scenarios: Vec<ScenarioResult> = suite()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % n == k - 1)
        .map(|(_, s)| s)
        .collect();
    let took = scenarios
        .iter()
        .map(|s| s.duration.as_millis() as u64)
        .sum::<u64>()
        + 10;
    let mut r = run(scenarios, took);
    r.run_id = format!("run-000{k}");
    r.started_at += chrono::Duration::seconds(k as i64);
    r
}

/// The "Failures by owner" section of a Markdown summary.
fn failures_section(md: &str) -> &str {
    let start = md
        .find("### Failures by owner")
        .expect("a failures section");
    let rest = &md[start..];
    &rest[..rest[3..].find("### ").map_or(rest.len(), |i| i + 3)]
}

#[test]
fn three_shards_merged_equal_one_unsharded_run_in_counts_and_failures() {
    let one = unsharded();
    // shards finish in any order; the merge does not depend on it
    let merged = merge(vec![shard(2, 3), shard(3, 3), shard(1, 3)]);

    assert_eq!(merged.counts(), one.counts());
    assert_eq!(merged.passed(), one.passed());
    let outcome = |r: &RunResult| -> Vec<(String, String, Status)> {
        r.scenarios
            .iter()
            .map(|s| (s.path.clone(), s.name.clone(), s.status))
            .collect()
    };
    assert_eq!(outcome(&merged), outcome(&one));
    assert_eq!(
        failures_section(&to_markdown_string(&merged, None)),
        failures_section(&to_markdown_string(&one, None))
    );
    assert_eq!(
        merged.counts().failed,
        2,
        "the suite has failures to compare"
    );
}

#[test]
fn merged_run_spans_from_the_first_start_to_the_last_end() {
    let shards = vec![shard(1, 3), shard(2, 3), shard(3, 3)];
    let first = shards[0].started_at;
    let end = shards
        .iter()
        .map(|r| r.started_at + chrono::Duration::from_std(r.duration).unwrap())
        .max()
        .unwrap();
    let merged = merge(shards);
    assert_eq!(merged.started_at, first);
    assert_eq!(merged.duration, (end - first).to_std().unwrap());
    assert_eq!(merged.run_id, "run-0001, run-0002, run-0003");
    assert_eq!(merged.environment, "staging");
    assert_eq!(merged.rehearse_version, "0.1.0");
}

#[test]
fn pre_flight_checks_are_kept_once_and_a_failure_on_any_shard_wins() {
    let mut a = shard(1, 2);
    let mut b = shard(2, 2);
    a.preflight = vec![
        rehearse_runner::CheckResult {
            required_by: vec!["scenarios/payments.yaml".into()],
            ticket: None,
            ..check(
                "platform has bank credentials",
                "request",
                Some("devops"),
                Status::Passed,
            )
        },
        check(
            "bank is reachable",
            "reachable",
            Some("devops"),
            Status::Passed,
        ),
    ];
    b.preflight = vec![
        rehearse_runner::CheckResult {
            required_by: vec!["scenarios/refunds.yaml".into()],
            ticket: None,
            evidence: "503".into(),
            ..check(
                "platform has bank credentials",
                "request",
                Some("devops"),
                Status::Failed,
            )
        },
        check(
            "bank is reachable",
            "reachable",
            Some("devops"),
            Status::Passed,
        ),
    ];
    let merged = merge(vec![a, b]);
    let names: Vec<&str> = merged.preflight.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["platform has bank credentials", "bank is reachable"]
    );
    let creds = &merged.preflight[0];
    assert_eq!(
        (creds.status, creds.evidence.as_str()),
        (Status::Failed, "503")
    );
    assert_eq!(
        creds.required_by,
        ["scenarios/payments.yaml", "scenarios/refunds.yaml"]
    );
}

#[test]
fn interrupted_and_aborted_shards_carry_into_the_merge() {
    let mut a = shard(1, 3);
    a.interrupted = true;
    let mut b = run(vec![], 5);
    b.aborted = Some(Aborted {
        reason: "environment_not_ready".into(),
        problems: vec!["bank is reachable: connection refused".into()],
    });
    let mut c = run(vec![], 5);
    c.aborted = Some(Aborted {
        reason: "invalid_input".into(),
        problems: vec![
            "bank is reachable: connection refused".into(),
            "bad flag".into(),
        ],
    });
    let merged = merge(vec![a, b, c]);
    assert!(merged.interrupted);
    let aborted = merged.aborted.unwrap();
    assert_eq!(aborted.reason, "invalid_input");
    assert_eq!(
        aborted.problems,
        ["bank is reachable: connection refused", "bad flag"]
    );
}

#[test]
fn merge_dirs_reads_every_json_report_and_writes_all_four_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for k in 1..=3 {
        let dir = tmp.path().join(format!("shard-{k}"));
        write_json(&shard(k, 3), &dir.join("run.json")).unwrap();
        std::fs::write(dir.join("junit.xml"), "<testsuites/>").unwrap();
        dirs.push(dir);
    }
    let out = tmp.path().join("merged");

    let merged = merge_dirs(&out, &dirs).unwrap();

    assert_eq!(merged.counts(), unsharded().counts());
    for name in MERGED_FILES {
        assert!(out.join(name).is_file(), "{name} written");
    }
    let back = read_json(&out.join("run.json")).unwrap();
    assert_eq!(back.scenarios.len(), 5);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains(r#"tests="5""#), "{junit}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.starts_with("## ❌ rehearse: failed"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Refund reaches the bank"));
}

#[test]
fn merge_dirs_without_any_report_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let err = merge_dirs(&tmp.path().join("out"), [tmp.path()]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(msg.starts_with("no *.json report in "), "{msg}");
    assert!(
        msg.ends_with("; write one per shard with --report json=PATH"),
        "{msg}"
    );
}

#[test]
fn read_json_names_a_file_that_is_not_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("package.json");
    std::fs::write(&path, r#"{"name":"x"}"#).unwrap();
    let err = read_json(&path).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains("package.json is not a rehearse JSON report"),
        "{err}"
    );
}

#[test]
fn merging_nothing_gives_an_empty_run() {
    let merged = merge(vec![]);
    assert!(merged.scenarios.is_empty());
    assert_eq!(merged.duration, Duration::ZERO);
}
