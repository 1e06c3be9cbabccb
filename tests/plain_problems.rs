//! Problems in plain words, each pointing where it is fixed (issue 9, part 3), as the real
//! binary prints them: an unset secret at its declaration in the environment file, a
//! missing fixture with the absolute folder looked in, a URL whose known variables give no
//! scheme, a file that is not UTF-8.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

fn project(env: &str, scenario: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::write(dir.path().join("environments/test.yaml"), env).unwrap();
    std::fs::write(dir.path().join("scenarios/s.yaml"), scenario).unwrap();
    dir
}

fn rehearse(dir: &tempfile::TempDir, args: &[&str]) -> (Option<i32>, String) {
    let out: Output = Command::new(BIN)
        .args(args)
        .current_dir(dir.path())
        .env_remove("API_TOKEN")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

const ENV: &str = "vars:\n  base: http://127.0.0.1:9\n  host: example.com\nsecrets:\n  - API_PASSWORD\n  - API_TOKEN\n";
const OK: &[u8] = b"name: s\nsteps:\n  - request: { url: \"{{ base }}/x\" }\n";

#[test]
fn an_unset_secret_points_at_its_declaration_in_the_environment_file() {
    let dir = project(ENV, OK);
    let out = Command::new(BIN)
        .args(["preflight", "--env", "test"])
        .current_dir(dir.path())
        .env_remove("API_TOKEN")
        .env("API_PASSWORD", "pw")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let t = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("secret `API_TOKEN` is not set"), "{t}");
    assert!(t.contains("at environments/test.yaml:6:5"), "{t}");
}

#[test]
fn a_missing_fixture_names_the_absolute_folder_it_looked_in() {
    let dir = project(
        ENV,
        b"name: s\nsteps:\n  - request: { method: POST, url: \"{{ base }}/x\", json: \"{{ fixture('nope.json') }}\" }\n",
    );
    let (code, t) = rehearse(&dir, &["validate", "--env", "test"]);
    assert_eq!(code, Some(3), "{t}");
    let folder = dir.path().canonicalize().unwrap().join("fixtures");
    let folder = folder.display().to_string();
    let shown =
        t.contains(&folder) || t.contains(&dir.path().join("fixtures").display().to_string());
    assert!(shown, "expected the absolute folder {folder} in:\n{t}");
    assert!(t.contains("unknown fixture file `nope.json`"), "{t}");
}

#[test]
fn a_url_whose_known_variable_has_no_scheme_is_caught_by_validate() {
    let dir = project(
        ENV,
        b"name: s\nsteps:\n  - request: { url: \"{{ host }}/x\" }\n",
    );
    let (code, t) = rehearse(&dir, &["validate", "--env", "test"]);
    assert_eq!(code, Some(3), "{t}");
    assert!(
        t.contains("`{{ host }}/x` gives `example.com/x`, which is not an absolute http(s) URL"),
        "{t}"
    );
    assert!(t.contains("scenarios/s.yaml:3:21"), "{t}");
    assert!(t.contains("`host: https://example.com`"), "{t}");
}

#[test]
fn a_file_that_is_not_utf8_names_the_first_bad_byte() {
    let dir = project(
        ENV,
        b"name: s\nsteps:\n  - request: { url: \"{{ base }}/caf\xe9\" }\n",
    );
    let (code, t) = rehearse(&dir, &["validate", "--env", "test"]);
    assert_eq!(code, Some(3), "{t}");
    assert!(
        t.contains("the file is not valid UTF-8: byte 0xE9 at line 3, column 36"),
        "{t}"
    );
    assert!(t.contains("save the file as UTF-8"), "{t}");
}

/// Regression: environment vars kept only "undefined variable" problems, so a var calling
/// `secret()` with a name the environment does not declare passed `validate`.
#[test]
fn an_environment_var_using_an_undeclared_secret_is_invalid_input() {
    let env = "vars:\n  base: http://127.0.0.1:9\n  token: \"{{ secret('API_TOKNE') }}\"\nsecrets:\n  - API_TOKEN\n";
    let dir = project(env, OK);
    let (code, text) = rehearse(&dir, &["validate", "--env", "test"]);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("secret `API_TOKNE` is not declared by environment `test`"),
        "{text}"
    );
    assert!(text.contains("did you mean `API_TOKEN`?"), "{text}");
    assert!(text.contains("test.yaml:3:"), "{text}");
}

/// An environment var that does not render (an unset process variable) fails the
/// scenarios in words that read: "expected … to render, got `{{ env('X') }}`: …".
#[test]
fn an_environment_var_that_does_not_render_says_which_template() {
    let env = "vars:\n  base: \"{{ env('REHEARSE_TEST_UNSET_BASE') }}\"\n";
    let dir = project(env, OK);
    let (code, text) = rehearse(&dir, &["run", "--env", "test"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("every var of the environment to render"),
        "{text}"
    );
    assert!(
        text.contains("`{{ env('REHEARSE_TEST_UNSET_BASE') }}`"),
        "{text}"
    );
    assert!(!text.contains("got failed to render"), "{text}");
}
