//! scripts/test.sh, the README's test command: it names and installs what the tests need
//! when missing. Checked with a PATH that hides everything but bash, so nothing is
//! installed or removed on this machine.

use std::path::Path;
use std::process::{Command, Output};

fn script() -> std::path::PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/test.sh"
    ))
    .to_owned()
}

/// A folder holding only `bash`, a fake `cargo` that says it ran, and fakes of `tools`.
fn bare_path(tools: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(which("bash"), dir.path().join("bash")).unwrap();
    for name in std::iter::once(&"cargo").chain(tools) {
        let fake = dir.path().join(name);
        std::fs::write(&fake, format!("#!/bin/bash\necho \"fake {name} $*\"\n")).unwrap();
        let mut perms = std::fs::metadata(&fake).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&fake, perms).unwrap();
    }
    dir
}

fn which(name: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no {name} on PATH"))
}

fn run(path: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(which("bash"));
    c.arg(script())
        .arg("-p")
        .arg("rehearse")
        .env("PATH", path)
        .env_remove("REHEARSE_SKIP_BROWSER")
        .env_remove("REHEARSE_TEST_DRY_RUN")
        .env_remove("REHEARSE_PYTHON");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn dry_run_lists_every_missing_tool_with_its_package_and_the_test_command() {
    let bin = bare_path(&[]);
    let out = run(bin.path(), &[("REHEARSE_TEST_DRY_RUN", "1")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for line in [
        "missing: `cc` (Debian package gcc libc6-dev)",
        "missing: `openssl` (Debian package openssl)",
        "missing: `script` (Debian package bsdutils)",
        "missing: `kill` (Debian package procps)",
        "missing: `python3` (Debian package python3 python3-pip)",
        "missing: `chromium` (Debian package chromium)",
        "would install: gcc libc6-dev openssl bsdutils procps python3 python3-pip chromium",
        "missing: the Python package httpbin (PyPI httpbin==0.10.4)",
        "would run: python3 -m pip install --user --quiet httpbin==0.10.4",
        "would run: cargo test --workspace --no-fail-fast -p rehearse",
    ] {
        assert!(err.contains(line), "no {line:?} in\n{err}");
    }
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("fake cargo"),
        "a dry run runs nothing"
    );
}

#[test]
fn skipping_the_browser_does_not_ask_for_chromium() {
    let bin = bare_path(&[]);
    let out = run(
        bin.path(),
        &[
            ("REHEARSE_TEST_DRY_RUN", "1"),
            ("REHEARSE_SKIP_BROWSER", "1"),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("chromium"), "{err}");
    assert!(
        err.contains("would install: gcc libc6-dev openssl bsdutils procps python3 python3-pip\n"),
        "{err}"
    );
}

#[test]
fn without_apt_get_or_sudo_it_says_what_to_install_and_fails_before_testing() {
    let bin = bare_path(&[]);
    let out = run(bin.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: failed to install gcc libc6-dev openssl bsdutils procps python3 python3-pip chromium: there is no apt-get here."),
        "{err}"
    );
    assert!(err.contains("REHEARSE_SKIP_BROWSER=1"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fake cargo"));
}

#[test]
fn with_everything_present_it_installs_nothing_and_runs_cargo_test_on_every_binary() {
    let bin = bare_path(&["cc", "openssl", "script", "kill", "python3", "chromium"]);
    let out = run(bin.path(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("missing"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "fake cargo test --workspace --no-fail-fast -p rehearse"
    );
}

/// `--install-only` (how README.md and .ci/run call it, before `cargo test`) installs and
/// stops: no test runs from inside the script.
#[test]
fn install_only_installs_and_runs_no_test() {
    let bin = bare_path(&["cc", "openssl", "script", "kill", "python3", "chromium"]);
    let out = Command::new(which("bash"))
        .arg(script())
        .arg("--install-only")
        .env("PATH", bin.path())
        .env_remove("REHEARSE_SKIP_BROWSER")
        .env_remove("REHEARSE_TEST_DRY_RUN")
        .env_remove("REHEARSE_PYTHON")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("fake cargo"),
        "{err}"
    );
}
