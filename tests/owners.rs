//! The owners file (`owners.yaml` at the suite root, issue #13), as a user meets it
//! through `rehearse validate`: every `owner:` must name one of its owners, and the file's
//! own mistakes are named with their line and fix.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::BIN;

const ENV: &str = "vars:\n  base: http://127.0.0.1:9\nchecks:\n  - name: platform is up\n    owner: devops\n    reachable: 127.0.0.1:9\n";

const OWNERS: &str = "owners:\n  devops:\n    time_zone: Asia/Singapore\n    hours: 09:00-18:00\n  payments-team:\n    time_zone: Europe/London\n";

fn suite(owners: Option<&str>, scenario_owner: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("environments")).unwrap();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::write(root.join("environments/test.yaml"), ENV).unwrap();
    std::fs::write(
        root.join("scenarios/pay.yaml"),
        format!(
            "name: pay\nowner: {scenario_owner}\nsteps:\n  - request: {{ url: \"{{{{ base }}}}/x\" }}\n"
        ),
    )
    .unwrap();
    if let Some(o) = owners {
        std::fs::write(root.join("owners.yaml"), o).unwrap();
    }
    dir
}

fn validate(root: &Path) -> Output {
    Command::new(BIN)
        .args(["validate", "--env", "test", "--color", "never"])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn owners_that_exist_validate() {
    let dir = suite(Some(OWNERS), "payments-team");
    let out = validate(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn without_an_owners_file_any_owner_is_accepted() {
    let dir = suite(None, "whoever");
    let out = validate(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn an_owner_missing_from_the_file_is_invalid_input_with_did_you_mean() {
    let dir = suite(Some(OWNERS), "payment-team");
    let out = validate(dir.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("unknown owner `payment-team`: it is not in owners.yaml"),
        "{t}"
    );
    assert!(t.contains("did you mean `payments-team`?"), "{t}");
    assert!(t.contains("scenarios/pay.yaml"), "{t}");
}

#[test]
fn a_broken_owners_file_names_its_line() {
    let dir = suite(
        Some(
            "owners:\n  devops:\n    time_zone: Asia/Singapur\n  payments-team:\n    time_zone: UTC\n",
        ),
        "payments-team",
    );
    let out = validate(dir.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("owners.yaml:3:16"), "{t}");
    assert!(t.contains("unknown time zone `Asia/Singapur`"), "{t}");
    assert!(t.contains("did you mean `Asia/Singapore`?"), "{t}");
}

/// Three owners in three time zones, each owning a failing pre-flight check; at 18:14 UTC
/// on a Wednesday Singapore is off hours (02:14 Thursday), London and New York work.
const THREE_ZONES: &str = "owners:\n  devops:\n    name: DevOps, Singapore\n    time_zone: Asia/Singapore\n    hours: 09:00-17:00\n  payments-team:\n    time_zone: Europe/London\n    hours: 09:00-19:00\n  bank-integration:\n    time_zone: America/New_York\n";

const THREE_CHECKS: &str = "vars:\n  base: http://127.0.0.1:9\nsecrets: [PLATFORM_KEY, BANK_KEY, LEDGER_KEY]\nchecks:\n  - name: platform key is set\n    owner: devops\n    ticket: https://tracker.example/DEVOPS-42\n    secret_present: PLATFORM_KEY\n  - name: bank key is set\n    owner: bank-integration\n    secret_present: BANK_KEY\n  - name: ledger key is set\n    owner: payments-team\n    secret_present: LEDGER_KEY\n";

fn three_zones() -> tempfile::TempDir {
    let dir = suite(Some(THREE_ZONES), "payments-team");
    std::fs::write(dir.path().join("environments/test.yaml"), THREE_CHECKS).unwrap();
    dir
}

fn preflight_at(root: &Path, now: &str) -> Output {
    Command::new(BIN)
        .args([
            "preflight",
            "--env",
            "test",
            "--color",
            "never",
            "--report",
            "html=out/report.html",
            "--report",
            "markdown=out/summary.md",
        ])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("REHEARSE_NOW", now)
        .env_remove("PLATFORM_KEY")
        .env_remove("BANK_KEY")
        .env_remove("LEDGER_KEY")
        .output()
        .unwrap()
}

#[test]
fn console_shows_each_failing_owners_clock_in_their_time_zone() {
    let dir = three_zones();
    let out = preflight_at(dir.path(), "2026-12-02T18:14:00Z");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    let lines: Vec<&str> = t
        .lines()
        .filter(|l| l.contains(" — ") || l.contains("ticket:"))
        .map(str::trim)
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    bank-integration — 13:14 in America/New_York, working hours (until 17:00)
    devops — 02:14 in Asia/Singapore, off hours; back in 6 h 46 min
    ticket: https://tracker.example/DEVOPS-42
    payments-team — 18:14 in Europe/London, working hours (until 19:00)
    ");
}

#[test]
fn html_report_has_a_row_per_failing_owner_with_their_clock() {
    let dir = three_zones();
    let out = preflight_at(dir.path(), "2026-12-02T18:14:00Z");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    let rows: Vec<&str> = html
        .lines()
        .filter(|l| l.starts_with("<tr class=\"owner-clock"))
        .collect();
    insta::assert_snapshot!(rows.join("\n"), @r#"
    <tr class="owner-clock working" data-owner="bank-integration"><td><b>bank-integration</b></td><td>13:14</td><td>America/New_York</td><td>09:00-17:00 mon,tue,wed,thu,fri</td><td>working hours</td><td>until 17:00</td></tr>
    <tr class="owner-clock off-hours" data-owner="devops"><td><b>devops</b> <span class="path">DevOps, Singapore</span></td><td>02:14</td><td>Asia/Singapore</td><td>09:00-17:00 mon,tue,wed,thu,fri</td><td>off hours</td><td>back in 6 h 46 min</td></tr>
    <tr class="owner-clock working" data-owner="payments-team"><td><b>payments-team</b></td><td>18:14</td><td>Europe/London</td><td>09:00-19:00 mon,tue,wed,thu,fri</td><td>working hours</td><td>until 19:00</td></tr>
    "#);
    assert!(
        html.contains("<a href=\"https://tracker.example/DEVOPS-42\">"),
        "the ticket is linked"
    );
    let md = std::fs::read_to_string(dir.path().join("out/summary.md")).unwrap();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| **")).collect();
    insta::assert_snapshot!(rows.join("\n"), @r"
    | **bank-integration** | 13:14 | America/New\_York | 09:00-17:00 mon,tue,wed,thu,fri | working hours | until 17:00 |
    | **devops** | 02:14 | Asia/Singapore | 09:00-17:00 mon,tue,wed,thu,fri | off hours | back in 6 h 46 min |
    | **payments-team** | 18:14 | Europe/London | 09:00-19:00 mon,tue,wed,thu,fri | working hours | until 19:00 |
    ");
    assert!(
        md.contains(
            "ticket: [https://tracker.example/DEVOPS-42](https://tracker.example/DEVOPS-42)"
        ),
        "{md}"
    );
}

#[test]
fn without_an_owners_file_reports_show_no_clock() {
    let dir = suite(None, "payments-team");
    std::fs::write(dir.path().join("environments/test.yaml"), THREE_CHECKS).unwrap();
    let out = preflight_at(dir.path(), "2026-12-02T18:14:00Z");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(!t.contains(" in Asia/Singapore"), "{t}");
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(
        !html.contains("owner-clock"),
        "no owners table without owners.yaml"
    );
}

#[test]
fn a_ticket_that_is_not_an_http_url_is_invalid_input() {
    let dir = three_zones();
    let env = THREE_CHECKS.replace("https://tracker.example/DEVOPS-42", "DEVOPS-42");
    std::fs::write(dir.path().join("environments/test.yaml"), env).unwrap();
    let out = validate(dir.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("ticket `DEVOPS-42` is not an http or https URL"),
        "{t}"
    );
    assert!(t.contains("environments/test.yaml"), "{t}");
}
