//! No crash on any input (issue #10, part 2), as the real binary shows it: `rehearse
//! validate` on every input of the crash corpus and every large hostile input (shared
//! with `crates/scenario/tests/no_crash.rs`) ends with exit 0 or 3 and says what is
//! wrong, within 2 GiB of address space; and `rehearse run` on a file whose problem is
//! past column 65,535 still writes its reports (it panicked in miette before, exit 101).

#[path = "../crates/scenario/tests/hostile/mod.rs"]
mod hostile;

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// `rehearse ARGS` in `dir`, limited to 2 GiB of address space, and stopped after two
/// minutes (a guard against a hang, not a measure of speed: exit 124).
#[cfg(unix)]
fn rehearse(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2097152 && exec timeout 120 \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[cfg(unix)]
#[test]
fn validate_ends_with_exit_0_or_3_on_every_hostile_input() {
    let work = tempfile::tempdir().unwrap();
    let scenario_crate = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenario");
    let cases = hostile::cases(&hostile::corpus_dir(&scenario_crate), work.path());
    let mut wrong = Vec::new();
    for case in &cases {
        let (code, text) = rehearse(&case.root, &["validate"]);
        let fine = match &case.expect {
            None => code == Some(0),
            Some(want) => code == Some(3) && text.contains(want.as_str()),
        };
        if !fine || text.contains("panicked") {
            let shown: String = text.chars().take(2000).collect();
            wrong.push(format!(
                "{}: exit {code:?}, expected {:?}:\n{shown}",
                case.name, case.expect
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[cfg(unix)]
#[test]
fn run_with_a_problem_past_column_65535_prints_it_and_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::write(
        dir.path().join("scenarios/s.yaml"),
        format!(
            "name: a\nsteps:\n  - request: {{ url: 'http://localhost:1/{}', bogus: 1 }}\n",
            "x".repeat(70_000)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scenarios/t.yaml"),
        "name: b\nsteps:\n  - request: { url: 'http://localhost:1/x', other: 1 }\n",
    )
    .unwrap();
    let (code, text) = rehearse(
        dir.path(),
        &[
            "run",
            "--report",
            "json=out/run.json",
            "--report",
            "junit=out/junit.xml",
        ],
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("unknown key `bogus`"), "{text}");
    assert!(text.contains("[scenarios/s.yaml:3:70044]"), "{text}");
    // Every other problem is still shown.
    assert!(text.contains("unknown key `other`"), "{text}");
    let json = std::fs::read_to_string(dir.path().join("out/run.json")).expect("the JSON report");
    assert!(json.contains("\"invalid_input\""), "{json}");
    assert!(
        json.contains("scenarios/s.yaml:3:70044: unknown key `bogus`"),
        "{json}"
    );
    assert!(dir.path().join("out/junit.xml").is_file());
}

/// `--env-file` names a file of secrets: one that never ends (`/dev/zero`), a folder or a
/// huge file is refused before it is read, exit 3, instead of reading until memory runs out.
#[cfg(unix)]
#[test]
fn an_env_file_that_is_not_a_small_regular_file_is_invalid_input() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("scenarios")).unwrap();
    std::fs::write(
        root.join("scenarios/a.yaml"),
        "name: a\nsteps:\n  - request: { url: 'http://127.0.0.1:9/x' }\n",
    )
    .unwrap();
    let big = root.join("big.env");
    std::fs::write(&big, "A=b\n".repeat(300_000)).unwrap();
    for (file, why) in [
        ("/dev/zero", "not a regular file"),
        (".", "not a regular file"),
        ("big.env", "more than 1048576 bytes"),
    ] {
        let (code, text) = rehearse(root, &["run", "--env-file", file]);
        assert_eq!(code, Some(3), "{file}: {text}");
        assert!(
            text.contains(&format!("failed to read env file {file}: {why}")),
            "{file}: {text}"
        );
    }
}

/// A file with more problems than are shown says how many there are in all: the line
/// standing for those left out is not itself counted as one.
#[cfg(unix)]
#[test]
fn the_count_of_problems_includes_those_not_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("scenarios")).unwrap();
    let mut text = String::from("name: a\nsteps:\n");
    for _ in 0..150 {
        text.push_str("  - name: x\n    request: { url: 'http://127.0.0.1:9/' }\n");
    }
    std::fs::write(root.join("scenarios/a.yaml"), text).unwrap();
    let (code, text) = rehearse(root, &["validate"]);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("49 more problems in scenarios/a.yaml are not shown"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("error: 149 problems found; nothing was run"),
        "{text}"
    );
}
