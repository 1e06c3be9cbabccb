//! `rehearse contract check` against a bank mock that drifted from v2 (and one that did
//! not, and one that is not there), and `rehearse contract diff` between built-in versions.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, bank_with, version_copy};
use rehearse_contract::ApiVersion;
use serde_json::Value;

/// A copy of v2 drifted the ways a real bank drifts: `reference` renamed to
/// `payment_reference`, `amount` an integer of cents, the status `received` spelt `queued`
/// (a created payment's first status, in `status_history`),
/// an `X-Request-Id` header required on every route, and `GET /v2/payments/{id}` gone.
fn drifted_v2(dir: &Path) {
    let folder = version_copy(ApiVersion::V2, 2, dir, |text| {
        let mut m: Value = serde_json::from_str(&text).unwrap();
        m["statuses"]["received"] = "queued".into();
        m["required_headers"] = serde_json::json!(["X-Request-Id"]);
        let routes = m["routes"].as_array_mut().unwrap();
        routes.retain(|r| r["operation"] != "get_payment");
        serde_json::to_string_pretty(&m).unwrap()
    });
    let template = folder.join("templates/payment.json");
    let text = std::fs::read_to_string(&template)
        .unwrap()
        .replace(
            r#""reference": "{{reference}}""#,
            r#""payment_reference": "{{reference}}""#,
        )
        .replace(
            r#""amount": "{{amount_decimal}}""#,
            r#""amount": "{{amount_minor}}""#,
        );
    std::fs::write(template, text).unwrap();
}

/// An environment whose bank is `url`, speaking v2 with the mock's API key (the secret
/// BANK_API_KEY), where test payments may be created.
fn environment(dir: &Path, url: &str) -> std::path::PathBuf {
    environment_as(
        dir,
        url,
        "v2",
        "[BANK_API_KEY]",
        "{ api_key: BANK_API_KEY }",
    )
}

/// An environment whose bank is `url`, speaking `version`, with these secrets and `auth`.
fn environment_as(
    dir: &Path,
    url: &str,
    version: &str,
    secrets: &str,
    auth: &str,
) -> std::path::PathBuf {
    let file = dir.join("sandbox.yaml");
    std::fs::write(
        &file,
        format!(
            r#"
vars:
  bank: {url}
secrets: {secrets}
timeouts: {{ request: 5s }}
bank:
  url: "{{{{ bank }}}}"
  api_version: {version}
  owner: bank-integration
  auth: {auth}
  contract: {{ writes: true }}
"#
        ),
    )
    .unwrap();
    file
}

struct Checked {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    json: Value,
    junit: String,
}

fn check(dir: &Path, env: &Path) -> Checked {
    let json = dir.join("contract.json");
    let junit = dir.join("junit.xml");
    let out: Output = Command::new(BIN)
        .current_dir(dir)
        .env("BANK_API_KEY", "test-api-key")
        .env("BANK_CLIENT_ID", "rehearse-client")
        .env("BANK_CLIENT_SECRET", "rehearse-secret")
        .env_remove("REHEARSE_ENV")
        .args(["--color", "never", "contract", "check", "--env"])
        .arg(env)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .output()
        .unwrap();
    Checked {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json: std::fs::read_to_string(&json)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null),
        junit: std::fs::read_to_string(&junit).unwrap_or_default(),
    }
}

/// Every failure of every step of the JSON report: `check`, `location`.
fn failures(json: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in json["scenarios"].as_array().into_iter().flatten() {
        for step in s["steps"].as_array().into_iter().flatten() {
            for a in step["attempts"].as_array().into_iter().flatten() {
                for f in a["failures"].as_array().into_iter().flatten() {
                    out.push((
                        f["check"].as_str().unwrap_or_default().to_owned(),
                        f["location"].as_str().unwrap_or_default().to_owned(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn a_drifted_bank_is_reported_drift_by_drift_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let versions = tmp.path().join("drifted");
    drifted_v2(&versions);
    let (_bank, url) = bank_with(&["--api", "v2", "--versions", versions.to_str().unwrap()]);
    let env = environment(tmp.path(), &url);

    let run = check(tmp.path(), &env);

    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(1), "{all}");
    let create = "POST /v2/payments";
    let get = "GET /v2/payments/{id}";
    let expected = [
        ("new_required_header", create),
        ("field_missing at /reference (201)", create),
        ("type_changed at /amount (201)", create),
        ("new_enum_value at /status_history/0/status (201)", create),
        ("route_removed", get),
    ];
    let found = failures(&run.json);
    for (check, route) in expected {
        assert!(
            found.iter().any(|(c, r)| c == check && r == route),
            "{check} on {route} not in the JSON report: {found:?}"
        );
        assert!(
            run.stdout.contains(check),
            "{check} not on the console:\n{all}"
        );
    }
    assert!(run.stdout.contains("X-Request-Id"), "{all}");
    assert!(
        run.stdout.contains("renamed to `payment_reference`?"),
        "{all}"
    );
    // The renamed field's new name is additive: a warning, not a failure.
    assert!(
        run.stdout
            .contains("additive new_field at /payment_reference (POST /v2/payments)"),
        "{all}"
    );
    assert!(
        !found.iter().any(|(c, _)| c.starts_with("new_field")),
        "{found:?}"
    );
    assert!(run.stdout.contains("owner bank-integration"), "{all}");
    assert!(run.stdout.contains("has no cancel route"), "{all}");
    assert_eq!(run.json["bank_api_version"], "v2");
    assert!(
        run.junit.contains(r#"<testsuite name="contract""#),
        "{}",
        run.junit
    );
    assert!(run.junit.contains("route_removed"), "{}", run.junit);
    for text in [&run.stdout, &run.stderr, &run.junit, &run.json.to_string()] {
        assert!(!text.contains("test-api-key"), "the API key leaked: {text}");
    }
}

#[test]
fn an_unchanged_bank_passes_with_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    let versions = tmp.path().join("same");
    version_copy(ApiVersion::V2, 2, &versions, |m| m);
    let (_bank, url) = bank_with(&["--api", "v2", "--versions", versions.to_str().unwrap()]);
    let env = environment(tmp.path(), &url);

    let run = check(tmp.path(), &env);

    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(failures(&run.json), Vec::<(String, String)>::new());
    assert!(!run.stdout.contains("warning:"), "{}", run.stdout);
    assert!(run.stdout.contains("2 passed, 0 failed"), "{}", run.stdout);
}

#[test]
fn an_oauth_version_is_checked_with_a_token_on_every_route() {
    let tmp = tempfile::tempdir().unwrap();
    let (_bank, url) = bank_with(&["--api", "v3"]);
    let env = environment_as(
        tmp.path(),
        &url,
        "v3",
        "[BANK_CLIENT_ID, BANK_CLIENT_SECRET]",
        "{ client_id: BANK_CLIENT_ID, client_secret: BANK_CLIENT_SECRET }",
    );

    let run = check(tmp.path(), &env);

    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{all}");
    assert!(run.stdout.contains("4 passed, 0 failed"), "{all}");
    assert!(run.stdout.contains("listed by GET /v3/transfers"), "{all}");
    let json = run.json.to_string();
    for text in [&run.stdout, &run.stderr, &run.junit, &json] {
        assert!(
            !text.contains("rehearse-secret"),
            "the client secret leaked: {text}"
        );
        // The issued token is masked wherever the body or a header would show it.
        assert!(!regex_like_token(text), "a token leaked: {text}");
    }
}

/// Whether `text` holds an access token the mock issues (`tok_` and 32 hex digits).
fn regex_like_token(text: &str) -> bool {
    text.match_indices("tok_").any(|(i, _)| {
        let rest = &text[i + 4..];
        rest.len() >= 32 && rest[..32].bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[test]
fn a_bank_that_moved_to_oauth_is_an_auth_change() {
    let tmp = tempfile::tempdir().unwrap();
    let versions = tmp.path().join("oauth");
    version_copy(ApiVersion::V2, 2, &versions, |m| {
        m.replace(
            r#""auth": "api_key""#,
            r#""auth": "oauth_client_credentials""#,
        )
    });
    let (_bank, url) = bank_with(&["--api", "v2", "--versions", versions.to_str().unwrap()]);
    let env = environment(tmp.path(), &url);

    let run = check(tmp.path(), &env);

    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let found = failures(&run.json);
    assert!(
        found
            .iter()
            .any(|(c, r)| c == "auth_changed" && r == "POST /v2/payments"),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_read_only_check_reads_a_configured_payment_and_skips_the_creates() {
    let tmp = tempfile::tempdir().unwrap();
    let (_bank, url) = bank_with(&["--api", "v2"]);
    let body = rehearse_contract::fixture("v2/examples/create-payment-small.json").unwrap();
    let created: Value = reqwest::Client::new()
        .post(format!("{url}/v2/payments"))
        .bearer_auth("test-api-key")
        .header("Idempotency-Key", "read-only-1")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let env = environment(tmp.path(), &url);
    let text = std::fs::read_to_string(&env).unwrap().replace(
        "{ writes: true }",
        &format!("{{ writes: false, payment_id: {id} }}"),
    );
    std::fs::write(&env, text).unwrap();

    let run = check(tmp.path(), &env);

    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 passed, 0 failed, 1 skipped"),
        "{}",
        run.stdout
    );
    let journal: Value = reqwest::Client::new()
        .get(format!("{url}/__admin/journal?method=POST"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        journal["entries"].as_array().map(Vec::len),
        Some(1),
        "only the test's own create: {journal}"
    );
}

#[test]
fn a_bank_that_does_not_answer_is_an_environment_not_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = environment(tmp.path(), &format!("http://127.0.0.1:{port}"));

    let run = check(tmp.path(), &env);

    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("does not answer"), "{}", run.stdout);
    assert_eq!(run.json["aborted"]["reason"], "environment_not_ready");
}

#[test]
fn a_malformed_versions_folder_in_the_environment_is_invalid_input() {
    let tmp = tempfile::tempdir().unwrap();
    let folder = version_copy(ApiVersion::V2, 4, &tmp.path().join("bank-api"), |m| {
        m.replace("\"operation\": \"get_payment\"", "\"operation\": \"fetch\"")
    });
    let env = environment(tmp.path(), "http://127.0.0.1:9");
    let text = std::fs::read_to_string(&env)
        .unwrap()
        .replace("api_version: v2", "api_version: v4\n  versions: bank-api");
    std::fs::write(&env, text).unwrap();

    let run = check(tmp.path(), &env);

    assert_eq!(run.code, Some(3), "{}\n{}", run.stdout, run.stderr);
    let manifest = folder.join("manifest.json");
    assert!(
        run.stderr.contains(&manifest.display().to_string())
            && run.stderr.contains("routes[1].operation"),
        "{}",
        run.stderr
    );
}

fn diff(from: &str, to: &str) -> String {
    let out = Command::new(BIN)
        .args(["contract", "diff", from, to])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn contract_diff_v1_v2_is_a_changelog() {
    insta::assert_snapshot!(diff("v1", "v2"));
}

#[test]
fn contract_diff_v2_v3_is_a_changelog() {
    insta::assert_snapshot!(diff("v2", "v3"));
}

/// v4 was made from an OpenAPI document (`rehearse contract import`); this is its impact on
/// a client of v3, as a reviewer reads it.
#[test]
fn contract_diff_v3_v4_is_a_changelog() {
    insta::assert_snapshot!(diff("v3", "v4"));
}

#[test]
fn contract_diff_of_an_unknown_version_is_invalid_input() {
    let out = Command::new(BIN)
        .args(["contract", "diff", "v2", "v9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no bank API v9: available versions are v1, v2, v3, v4"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
