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
