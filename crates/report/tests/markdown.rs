//! The Markdown summary for `$GITHUB_STEP_SUMMARY` and chat posts.

mod common;

use common::{failing, failing_with_flaky, not_ready, passing};
use rehearse_report::{ReportOptions, parse_report_specs, to_markdown_string, write_reports_with};

#[test]
fn summary_of_a_failing_run() {
    insta::assert_snapshot!(to_markdown_string(&failing_with_flaky(), None));
}

#[test]
fn summary_of_a_run_whose_environment_was_not_ready() {
    insta::assert_snapshot!(to_markdown_string(&not_ready(), None));
}

#[test]
fn summary_links_the_html_report_and_each_failure_when_the_url_is_given() {
    let md = to_markdown_string(&failing(), Some("https://ci.example/runs/42/report.html"));
    assert!(
        md.contains("[Open the HTML report](https://ci.example/runs/42/report.html)"),
        "{md}"
    );
    assert!(
        md.contains(
            "[Large payment is settled](https://ci.example/runs/42/report.html#scenario-1)"
        ),
        "{md}"
    );
    let without = to_markdown_string(&failing(), None);
    assert!(!without.contains("report.html"), "{without}");
}

#[test]
fn passing_summary_is_one_verdict_and_one_line() {
    insta::assert_snapshot!(to_markdown_string(&passing(), None), @r"
    ## ✅ rehearse: passed

    **1 passed, 0 failed, 0 skipped** in 45ms · environment `staging` · run `run-0001` · rehearse `0.1.0`
    ");
}

#[test]
fn flaky_scenario_is_counted_and_listed_not_shown_as_a_plain_pass() {
    let md = to_markdown_string(&failing_with_flaky(), None);
    assert!(md.contains("2 passed (1 flaky)"), "{md}");
    assert!(md.contains("### Flaky"), "{md}");
    assert!(
        md.contains(
            "**Statement download survives a reset** (owner ledger-team): step `download statement`"
        ),
        "{md}"
    );
}

#[test]
fn markup_in_names_and_failures_stays_text() {
    let mut r = failing();
    r.scenarios[0].name = "<img src=x onerror=alert(1)> *boom*".into();
    r.scenarios[0].steps[1].failure.as_mut().unwrap().actual = "<script>alert(1)</script>".into();
    let md = to_markdown_string(&r, None);
    assert!(!md.contains("<img"), "{md}");
    assert!(
        md.contains(r"&lt;img src=x onerror=alert(1)&gt; \*boom\*"),
        "{md}"
    );
    // inside a code span, markup is shown literally by every Markdown renderer
    assert!(
        md.contains("`$.status: expected settled, got <script>alert(1)</script>`"),
        "{md}"
    );
}

#[test]
fn report_url_reaches_the_markdown_spec() {
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("out/summary.md");
    let specs = parse_report_specs([format!("markdown={}", md.display())]).unwrap();
    let options = ReportOptions::new().report_url("https://ci.example/r.html");
    write_reports_with(&failing(), &specs, &options).unwrap();
    let text = std::fs::read_to_string(md).unwrap();
    assert!(text.contains("(https://ci.example/r.html)"), "{text}");
}
