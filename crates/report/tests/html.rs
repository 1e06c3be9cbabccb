//! The HTML report: self-contained, escaped, with the verdict, failures by owner and a
//! timeline per scenario.

mod common;

use common::{failing, failing_with_flaky, not_ready, passing};
use regex::Regex;
use rehearse_report::{parse_report_specs, to_html_string, write_reports};
use rehearse_runner::{RunResult, Status};

/// Every opening tag of the page (escaped text cannot form one).
fn tags(html: &str) -> Vec<&str> {
    Regex::new(r"<[a-zA-Z][^>]*>")
        .unwrap()
        .find_iter(html)
        .map(|m| m.as_str())
        .collect()
}

/// What makes a browser fetch something: a URL in `src`/`href`/…, a stylesheet import,
/// a CSS `url(…)`, a linked resource.
fn assert_fetches_nothing(html: &str) {
    let external =
        Regex::new(r#"(?i)(src|href|action|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//"#)
            .unwrap();
    assert!(
        !external.is_match(html),
        "external URL in: {}",
        external.find(html).unwrap().as_str()
    );
    for needle in [
        "@import", "url(", "<link", "<iframe", "<object", "<embed", "<base", "<img", "<svg",
    ] {
        assert!(
            !html.to_lowercase().contains(needle),
            "`{needle}` in the page"
        );
    }
    for tag in tags(html) {
        let lower = tag.to_lowercase();
        assert!(!lower.contains(" src="), "a tag loads something: {tag}");
        if let Some(at) = lower.find(" href=\"") {
            assert!(
                lower[at + 7..].starts_with('#'),
                "a link leaves the page: {tag}"
            );
        }
    }
}

#[test]
#[should_panic(expected = "external URL")]
fn the_external_url_check_catches_a_script_from_a_cdn() {
    assert_fetches_nothing(r#"<p>x</p><script src="https://cdn.example/x.js"></script>"#);
}

#[test]
#[should_panic(expected = "a link leaves the page")]
fn the_external_url_check_catches_a_link() {
    assert_fetches_nothing(r#"<a href="mailto:ops@example.com">ops</a>"#);
}

#[test]
fn page_fetches_no_external_url() {
    for result in [failing_with_flaky(), not_ready(), passing()] {
        assert_fetches_nothing(&to_html_string(&result));
    }
}

#[test]
fn urls_from_the_run_are_text_never_links() {
    let html = to_html_string(&failing());
    assert!(
        html.contains("GET http://127.0.0.1:8080/payments/p-1"),
        "request URL shown"
    );
    for tag in tags(&html) {
        assert!(!tag.contains("href=\"http"), "{tag}");
    }
}

#[test]
fn response_body_cannot_inject_markup() {
    let mut r = failing();
    let hostile = r#"<script>alert("owned")</script><img src="https://evil.example/x.png"><a href="https://evil.example">x</a>"#;
    let step = &mut r.scenarios[0].steps[1];
    step.attempts[2].response.as_mut().unwrap().body = hostile.into();
    step.failure.as_mut().unwrap().actual = "</pre><script>alert(2)</script>".into();
    r.scenarios[0].name = "<b onmouseover=alert(3)>name</b>".into();
    r.scenarios[0]
        .tags
        .push("\"><script>alert(4)</script>".into());
    let html = to_html_string(&r);

    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(
        html.contains("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"),
        "body shown escaped"
    );
    assert!(
        html.contains("&lt;/pre&gt;&lt;script&gt;alert(2)"),
        "failure shown escaped"
    );
    assert!(
        html.contains("&lt;b onmouseover=alert(3)&gt;name&lt;/b&gt;"),
        "name shown escaped"
    );
    assert!(!html.contains("<b onmouseover"));
    assert_fetches_nothing(&html);
}

#[test]
fn page_contains_no_secret() {
    // The runner masks secrets before reporters see them; the page must show the masks
    // where the input had them and add nothing else.
    const SECRETS: [&str; 3] = [
        "sk_live_canary_5f3a9d",
        "hunter2-canary",
        "eyJhbGciOiJIUzI1NiJ9.canary",
    ];
    let mut r = failing();
    let attempt = &mut r.scenarios[0].steps[0].attempts[0];
    attempt.request.url = "http://127.0.0.1:8080/payments?api_key=***".into();
    attempt
        .request
        .headers
        .push(("x-api-key".into(), "***".into()));
    attempt.request.body = Some(r#"{"amount":"25000.00","password":"***"}"#.into());
    attempt.response.as_mut().unwrap().body = r#"{"id":"p-1","access_token":"***"}"#.into();
    r.scenarios[0].steps[0].captures = vec![("token".into(), "***".into())];
    r.preflight.push(rehearse_runner::CheckResult {
        evidence: "Authorization: Bearer *** → 401".into(),
        ..common::check(
            "bank token is accepted",
            "request",
            Some("devops"),
            Status::Failed,
        )
    });
    let html = to_html_string(&r);

    for secret in SECRETS {
        assert!(!html.contains(secret), "secret `{secret}` in the page");
    }
    for masked in [
        "api_key=***",
        "x-api-key: ***",
        "&quot;password&quot;: &quot;***&quot;",
        "&quot;access_token&quot;: &quot;***&quot;",
        "token = ***",
        "Bearer *** → 401",
        "authorization: Bearer ***",
    ] {
        assert!(html.contains(masked), "`{masked}` not shown");
    }
}

#[test]
fn banner_says_the_verdict_counts_and_run_facts() {
    let html = to_html_string(&failing_with_flaky());
    assert!(html.contains(r#"<header class="verdict v-failed" id="verdict">"#));
    assert!(html.contains(r#"<span class="verdict-word">failed</span>"#));
    assert!(html.contains("<b>2</b> passed"), "passed count");
    assert!(html.contains("(<b>1</b> flaky)"), "flaky count");
    assert!(html.contains("<b>2</b> failed"), "failed count");
    assert!(html.contains("<b>1</b> skipped"), "skipped count");
    for fact in [
        "<dt>environment</dt><dd>staging</dd>",
        "<dt>run</dt><dd>run-0001</dd>",
        "<dt>bank API</dt><dd>v2</dd>",
        "<dt>rehearse</dt><dd>0.1.0</dd>",
        "<dt>started</dt><dd>2025-01-02 03:04:05 UTC</dd>",
    ] {
        assert!(html.contains(fact), "{fact}");
    }
    assert!(to_html_string(&passing()).contains(r#"<span class="verdict-word">passed</span>"#));
}

#[test]
fn environment_not_ready_lists_checks_by_owner_with_hint_and_evidence() {
    let html = to_html_string(&not_ready());
    assert!(html.contains(r#"<span class="verdict-word">environment not ready</span>"#));
    assert!(html.contains("3 pre-flight checks failed, no scenario ran"));
    let bank = html
        .find("<span class=\"owner-label\">owner</span> bank-integration")
        .unwrap();
    let devops = html
        .find("<span class=\"owner-label\">owner</span> devops")
        .unwrap();
    let creds = html
        .find("<strong>platform has bank credentials</strong>")
        .unwrap();
    assert!(
        bank < devops && devops < creds,
        "owners sorted, checks under their owner"
    );
    assert!(
        html.contains("<b>hint:</b> set BANK_API_KEY in the payments service&#39;s deployment")
    );
    assert!(html.contains("last heartbeat 3h 12m ago; max age 10m"));
    assert!(html.contains("required by scenarios/payments.yaml, scenarios/refunds.yaml"));
    // the aborted problems repeat the failed checks: not listed twice
    assert!(!html.contains("The run did not start"));
}

#[test]
fn a_failed_pre_flight_check_makes_the_verdict_not_ready_even_when_scenarios_ran() {
    let mut r = failing();
    r.preflight.push(common::check(
        "bank is reachable",
        "reachable",
        None,
        Status::Failed,
    ));
    let html = to_html_string(&r);
    assert!(html.contains(r#"<header class="verdict v-not-ready""#));
    assert!(html.contains("<h3 class=\"owner no-owner\">no owner</h3>"));
}

#[test]
fn failures_are_grouped_by_owner_and_link_to_their_scenario() {
    let html = to_html_string(&failing());
    let section = &html[html.find("<section class=\"failures\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("2 scenarios failed"));
    let team = section.find("payments-team").unwrap();
    let none = section.find("no owner").unwrap();
    assert!(team < none, "owners first, no owner last");
    assert!(section.contains(r##"<a href="#scenario-1">Large payment is settled</a>"##));
    assert!(section.contains(r##"<a href="#scenario-3">Refund reaches the bank</a>"##));
    assert!(section.contains("step `poller picks up the final status` failed after 3 attempts: $.status: expected settled, got &quot;pending_review&quot;"));
    assert!(section.contains("scenarios/payments.yaml:24:34"));
}

#[test]
fn timeline_places_steps_one_after_another_and_marks_every_poll_attempt() {
    let html = to_html_string(&failing());
    let scenario = &html[html.find(r#"id="scenario-1""#).unwrap()..];
    let scenario = &scenario[..scenario.find(r#"id="scenario-2""#).unwrap()];
    // 1,520ms in all: create payment (12ms) then the poll (1,500ms) then cleanup (2ms)
    let bars: Vec<&str> = Regex::new(r#"class="bar [^"]*" style="([^"]*)""#)
        .unwrap()
        .captures_iter(scenario)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(
        bars,
        [
            "left:0.00%;width:0.79%",
            "left:0.79%;width:98.68%",
            "left:99.47%;width:0.13%"
        ]
    );
    let marks = Regex::new(r#"class="att a-(\w+)""#).unwrap();
    let attempts: Vec<&str> = marks
        .captures_iter(scenario)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(
        attempts,
        ["passed", "failed", "failed", "failed", "passed"],
        "one mark per attempt"
    );
    // a poll's waits are spread between its attempts: 11, 12 and 13ms in 1,500ms
    let lefts: Vec<&str> = Regex::new(r#"class="att a-failed" style="left:([^;]*);"#)
        .unwrap()
        .captures_iter(scenario)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(lefts, ["0.79%", "49.67%", "98.62%"]);
    // the skipped step has a row but no bar
    assert!(scenario.contains(
        "notify the customer</span><span class=\"track\"></span><span class=\"dur\">not run</span>"
    ));
    // every attempt opens on click with its request and response
    assert_eq!(scenario.matches("<details class=\"attempt").count(), 5);
    assert!(scenario.contains(
        "<pre class=\"request\">GET http://127.0.0.1:8080/payments/p-1\nauthorization: Bearer ***"
    ));
    assert!(scenario.contains("<pre class=\"response\">200\ncontent-type: application/json\n\n{\n  &quot;id&quot;: &quot;p-1&quot;"));
}

#[test]
fn failed_scenarios_and_steps_are_open_passed_ones_closed() {
    let html = to_html_string(&failing());
    assert!(html.contains(r#"id="scenario-1" data-status="failed" data-tags="[&quot;payments&quot;,&quot;demo&quot;]" open>"#));
    assert!(html.contains(r#"id="scenario-2" data-status="passed" data-tags="[]">"#));
    assert!(html.contains(r#"<details class="step st-failed" id="scenario-1-step-2" open>"#));
    assert!(html.contains(r#"<details class="step st-passed" id="scenario-1-step-1">"#));
}

#[test]
fn flaky_step_and_scenario_are_shown_as_flaky() {
    let html = to_html_string(&failing_with_flaky());
    assert!(html.contains("<h2>Flaky: passed only after a retry</h2>"));
    assert!(html.contains(r#"<span class="badge b-flaky">flaky</span> <span class="scenario-name">Statement download survives a reset</span>"#));
    assert!(html.contains(r#"<details class="step st-flaky""#));
    assert!(html.contains("flaky: passed only after a network-level retry</p>"));
    assert!(
        html.contains("error: connection reset by peer"),
        "the retried attempt is shown"
    );
}

#[test]
fn filters_list_statuses_and_tags_and_stay_hidden_without_js() {
    let html = to_html_string(&failing_with_flaky());
    assert!(html.contains(r#"<form class="filters" id="filters" hidden>"#));
    for status in ["failed", "error", "flaky", "passed", "skipped"] {
        assert!(
            html.contains(&format!(r#"name="status" value="{status}" checked>"#)),
            "{status}"
        );
    }
    for tag in ["demo", "payments", "statements"] {
        assert!(
            html.contains(&format!(r#"name="tag" value="{tag}">"#)),
            "{tag}"
        );
    }
}

#[test]
fn write_reports_writes_html_and_markdown_specs() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("out/report.html");
    let md = dir.path().join("out/summary.md");
    let specs = parse_report_specs([
        format!("html={}", html.display()),
        format!("markdown={}", md.display()),
    ])
    .unwrap();
    write_reports(&failing(), &specs).unwrap();
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.ends_with("</html>\n"));
    assert!(
        std::fs::read_to_string(md)
            .unwrap()
            .starts_with("## ❌ rehearse: failed")
    );
}

#[test]
fn aborted_run_for_invalid_input_lists_its_problems() {
    let r = RunResult {
        aborted: Some(rehearse_runner::Aborted {
            reason: "invalid_input".into(),
            problems: vec!["scenarios/a.yaml:3:1: unknown key `stpes`".into()],
        }),
        ..passing()
    };
    let html = to_html_string(&RunResult {
        scenarios: vec![],
        ..r
    });
    assert!(html.contains(r#"<span class="verdict-word">invalid input</span>"#));
    assert!(html.contains("<h2>The run did not start: invalid input</h2>"));
    assert!(html.contains("unknown key `stpes`"));
}
