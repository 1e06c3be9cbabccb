//! The HTML report rendered in headless Chromium (`scripts/render-html-report.sh`):
//! the page shows the verdict and every scenario, and its script runs.
//!
//! Needs the Debian package `chromium`. Without it this test fails, unless
//! `REHEARSE_SKIP_BROWSER=1` says to skip it. `REHEARSE_UPDATE_SCREENSHOT=1` also
//! rewrites `docs/report-failing.png`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{failing_with_flaky, not_ready};
use rehearse_report::{to_html_string, write_html};
use rehearse_runner::RunResult;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// Runs the render script; fails the test with what to do when Chromium is missing.
fn render(args: &[&Path]) -> String {
    let script = repo_root().join("scripts/render-html-report.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("failed to run {}: {e}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(127) {
        panic!(
            "headless Chromium is needed to check the HTML report: install it with \
             `apt-get install -y chromium`, or set REHEARSE_SKIP_BROWSER=1 to skip this test\n{stderr}"
        );
    }
    assert!(
        out.status.success(),
        "render failed ({}): {stderr}",
        out.status
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// The DOM of `result`'s HTML report after Chromium loaded it.
fn rendered_dom(result: &RunResult, dir: &Path) -> String {
    let page = dir.join("report.html");
    write_html(result, &page).unwrap();
    render(&[Path::new("dom"), &page])
}

/// The opening tag of the element with `id`.
fn opening_tag<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the rendered page"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

#[test]
fn html_report_renders_in_headless_chromium_with_the_verdict_and_every_scenario() {
    if flag("REHEARSE_SKIP_BROWSER") {
        eprintln!("skipped: REHEARSE_SKIP_BROWSER=1");
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    let failing = failing_with_flaky();
    let dom = rendered_dom(&failing, dir.path());

    assert!(
        dom.contains("data-js=\"ready\""),
        "the page's script ran to its end"
    );
    assert!(
        dom.contains(r#"<span class="verdict-word">failed</span>"#),
        "verdict shown"
    );
    assert!(
        !opening_tag(&dom, "filters").contains("hidden"),
        "filters shown"
    );
    for (i, s) in failing.scenarios.iter().enumerate() {
        let name = format!(r#"<span class="scenario-name">{}</span>"#, s.name);
        assert!(dom.contains(&name), "scenario `{}` shown", s.name);
        let tag = opening_tag(&dom, &format!("scenario-{}", i + 1));
        assert!(
            !tag.contains("hidden"),
            "scenario `{}` not filtered out: {tag}",
            s.name
        );
    }
    assert!(dom.contains("5 of 5 scenarios shown"), "filter summary");

    let dom = rendered_dom(&not_ready(), dir.path());
    assert!(dom.contains(r#"<span class="verdict-word">environment not ready</span>"#));
    assert!(dom.contains("<strong>status poller is installed and running</strong>"));

    if flag("REHEARSE_UPDATE_SCREENSHOT") {
        let page = dir.path().join("failing.html");
        std::fs::write(&page, to_html_string(&failing)).unwrap();
        let png = repo_root().join("docs/report-failing.png");
        render(&[Path::new("screenshot"), &page, &png, Path::new("1280,1600")]);
    }
}
