//! Exit codes of flag errors: invalid input (3), as CI reads it, never clap's 2 (which
//! means "environment not ready" here); `--help` and `--version` succeed.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

fn rehearse(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .args(args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("REHEARSE_ENV")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn shard_beyond_its_total_is_invalid_input() {
    let out = rehearse(&["run", "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid shard `4/3`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_flag_is_invalid_input_with_a_suggestion() {
    let out = rehearse(&["run", "--tags", "x"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unexpected argument '--tags'"), "{err}");
    assert!(err.contains("--tag"), "{err}");
}

#[test]
fn unknown_approval_mode_is_invalid_input() {
    let out = rehearse(&["run", "--approvals", "auto"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("invalid value 'auto'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_flag_value_is_invalid_input() {
    let out = rehearse(&["run", "--env"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a value is required"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_subcommand_and_no_subcommand_are_invalid_input() {
    assert_eq!(rehearse(&["rnu"]).status.code(), Some(3));
    assert_eq!(rehearse(&[]).status.code(), Some(3));
}

#[test]
fn help_and_version_succeed_on_stdout() {
    for args in [&["--help"][..], &["run", "--help"], &["-h"], &["--version"]] {
        let out = rehearse(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    let version = rehearse(&["--version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rehearse "));
}
