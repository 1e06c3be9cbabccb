//! `rehearse mock-bank record` (#11 §3): the recording proxy in front of a bank, driven by
//! the sample platform running the shipped v3 flows. The folder it writes serves with
//! `--versions` as it is, and the same flows pass against a mock serving it; no credential
//! of the traffic is in any file it wrote.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{BIN, Proc, repo};

const V3_FLOWS: [&str; 2] = [
    "scenarios/payments/versions/small-payment-v3.yaml",
    "scenarios/payments/versions/large-payment-v3.yaml",
];

/// The sample platform speaking bank API v3 to `bank_url`, polling every second.
fn platform_v3(bank_url: &str) -> (Proc, String) {
    let mut platform = Command::new(common::sample_platform_bin());
    platform
        .env("BANK_BASE_URL", bank_url)
        .env("BANK_API_VERSION", "v3")
        .env("BANK_CLIENT_ID", "rehearse-client")
        .env("BANK_CLIENT_SECRET", "rehearse-secret")
        .env("POLL_SCHEDULE", "* * * * * *")
        .env("PORT", "0")
        .env("PLATFORM_VERSION", "1.5.0");
    common::start(platform, "listening on")
}

/// `rehearse mock-bank record --upstream UPSTREAM --out OUT --port 0 EXTRA…`.
fn recorder(upstream: &str, out: &Path, extra: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["mock-bank", "record", "--upstream", upstream, "--out"])
        .arg(out)
        .args(["--port", "0"])
        .args(extra);
    common::start(cmd, "listening on")
}

/// An environment for the v3 flows: the platform under test, approvals through the
/// bank's admin API in `http` mode, and the platform's readiness check (which probes the
/// bank with `GET /v3/transfers/__readyz`, with and without credentials).
fn env_file(dir: &Path, name: &str, platform_url: &str, bank_url: &str) -> PathBuf {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &file,
        format!(
            r#"
vars:
  platform_v3: {platform_url}
  bank_admin: {bank_url}/__admin
secrets: [REVIEWER_TOKEN]
timeouts: {{ request: 5s, poll: 60s }}
clock: real
approvals:
  mode: http
  request:
    method: POST
    url: "{{{{ bank_admin }}}}/reviews/{{{{ reference }}}}/decision"
    headers: {{ Authorization: "Bearer {{{{ secret('REVIEWER_TOKEN') }}}}" }}
    json: {{ decision: "{{{{ decision }}}}", note: "{{{{ note }}}}" }}
  expect: {{ status: 200 }}
checks:
  - name: platform is ready
    owner: devops
    hint: see /readyz
    request: {{ url: "{{{{ platform_v3 }}}}/readyz" }}
    expect: {{ status: 200 }}
"#
        ),
    )
    .unwrap();
    file
}

/// Runs the v3 flows; panics with the output unless both passed.
fn run_v3_flows(env: &Path, label: &str) {
    let json = env.with_extension("json");
    let out = Command::new(BIN)
        .args(["run", "--env"])
        .arg(env)
        .args(V3_FLOWS)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .current_dir(repo())
        .env("REVIEWER_TOKEN", "reviewer-token-123")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{label}:\n{text}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let passed: Vec<&str> = result["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "passed")
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    for flow in V3_FLOWS {
        assert!(
            passed.contains(&flow),
            "{label}: {flow} did not pass\n{text}"
        );
    }
}

/// `rehearse mock-bank --versions DIR --api v3`: its base URL, and the banner's `APIs:`
/// line (which says where each version comes from).
fn mock_serving(versions: &Path) -> (Proc, String, String) {
    let mut child = Command::new(BIN)
        .args(["mock-bank", "--port", "0", "--clock", "realtime"])
        .args([
            "--settlement-cron",
            "* * * * * *",
            "--api",
            "v3",
            "--versions",
        ])
        .arg(versions)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    let apis = loop {
        let Some(Ok(line)) = lines.next() else {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("the mock did not start on the recorded folder: {err}");
        };
        if line.contains("base URL:") {
            base = line.split_whitespace().last().map(str::to_owned);
        }
        if line.contains("APIs:") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), base.unwrap(), apis)
}

/// Every file under `dir`, with its text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// The mock's access tokens (`tok_` and 32 hex digits) in `text`.
fn tokens_in(text: &str) -> Vec<String> {
    text.match_indices("tok_")
        .filter_map(|(i, _)| text.get(i..i + 36))
        .filter(|t| t[4..].bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
        .collect()
}

async fn save(recorder_url: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{recorder_url}/__record/save"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn record_and_replay(
    extra: &[&str],
    by_sigterm: bool,
    label: &str,
) -> (serde_json::Value, PathBuf, tempfile::TempDir) {
    // Arrange: a bank serving v3, the recorder in front of it, a v3 platform behind it.
    let (_bank, bank_url) = common::bank_with(&["--api", "v3"]);
    let dir = tempfile::tempdir().unwrap();
    let versions = dir.path().join("bank-api");
    let out = versions.join("v3");
    let (mut recorder, recorder_url) = recorder(&bank_url, &out, extra);
    let (_platform, platform_url) = platform_v3(&recorder_url);

    // Act: the shipped v3 flows through the recorder, then save (by POST /__record/save, or
    // by SIGTERM, which saves and stops).
    let env = env_file(dir.path(), "recording", &platform_url, &bank_url);
    run_v3_flows(&env, &format!("{label}: through the recorder"));
    let saved = if by_sigterm {
        let pid = recorder.0.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let code = loop {
            if let Some(status) = recorder.0.try_wait().unwrap() {
                break status.code();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{label}: the recorder did not stop on SIGTERM"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(code, Some(0), "{label}: SIGTERM saves and exits 0");
        serde_json::Value::Null
    } else {
        save(&recorder_url).await
    };

    // Assert: the folder reads, and a mock serving it passes the same flows.
    let folder = rehearse_contract::VersionFolder::read(&out)
        .unwrap_or_else(|e| panic!("{label}: the recorded folder does not read: {e}"));
    assert_eq!(folder.manifest.version, "v3");
    let (_replay_bank, replay_url, apis) = mock_serving(&versions);
    assert!(
        apis.contains("(from") && apis.contains("bank-api"),
        "{label}: v3 is not served from the recorded folder: {apis}"
    );
    let (_replay_platform, replay_platform_url) = platform_v3(&replay_url);
    let env = env_file(dir.path(), "replay", &replay_platform_url, &replay_url);
    run_v3_flows(&env, &format!("{label}: against the recorded folder"));
    (saved, out, dir)
}

fn assert_no_credentials(out: &Path, label: &str) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("rehearse-client:rehearse-secret");
    let written = files(out);
    assert!(written.len() > 3, "{label}: {written:?}");
    for (path, text) in &written {
        for secret in [
            "rehearse-secret",
            "test-api-key",
            basic.as_str(),
            "reviewer-token-123",
        ] {
            assert!(
                !text.contains(secret),
                "{label}: {} holds {secret}",
                path.display()
            );
        }
        assert_eq!(
            tokens_in(text),
            Vec::<String>::new(),
            "{label}: {} holds a bearer token",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_v3_folder_serves_and_the_v3_flows_pass_against_it() {
    // Without --from, the one status the flows never show is given on the command line.
    let (saved, out, _dir) =
        record_and_replay(&["--status", "rejected=declined"], false, "recorded").await;
    let summary = saved["summary"].to_string();
    for route in [
        "POST /oauth/token",
        "POST /v3/transfers",
        "GET /v3/transfers/{id}",
    ] {
        assert!(summary.contains(route), "{route} not recorded: {summary}");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["auth"], "oauth_client_credentials", "{manifest}");
    assert_eq!(manifest["idempotency"], "required", "{manifest}");
    assert_eq!(manifest["id_prefix"], "trf_", "{manifest}");
    assert_eq!(
        manifest["statuses"]["pending_review"], "in_review",
        "{manifest}"
    );
    assert_eq!(manifest["statuses"]["rejected"], "declined", "{manifest}");
    // The readiness probe's `/v3/transfers/__readyz` is the `{id}` route's 404.
    let get = manifest["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/v3/transfers/{id}")
        .unwrap_or_else(|| panic!("{manifest}"));
    assert!(get["responses"].get("404").is_some(), "{get}");
    assert!(get["responses"].get("200").is_some(), "{get}");
    assert_no_credentials(&out, "recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_from_v3_changes_nothing_the_traffic_agrees_with() {
    let (saved, out, _dir) = record_and_replay(&["--from", "v3"], true, "from v3").await;
    assert!(saved.is_null(), "saved by SIGTERM");
    let summary = "(printed by the recorder)";
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["title"]
            .as_str()
            .is_some_and(|t| t.contains("starting from v3")),
        "{manifest}"
    );
    // The built-in v3's schemas accept everything the bank answered: they are kept.
    let builtin = rehearse_contract::Catalog::builtin();
    let v3 = builtin.get(rehearse_contract::ApiVersion::V3).unwrap();
    for (rel, text) in v3.files() {
        if rel.starts_with("schemas/") || rel.starts_with("templates/") {
            assert_eq!(
                std::fs::read_to_string(out.join(rel)).ok().as_deref(),
                Some(text),
                "{rel} changed: {summary}"
            );
        }
    }
    assert_no_credentials(&out, "from v3");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_the_traffic_never_showed_is_not_guessed() {
    let (_bank, bank_url) = common::bank_with(&["--api", "v3"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v7");
    let (_recorder, recorder_url) = recorder(&bank_url, &out, &[]);
    let http = reqwest::Client::new();
    // A token and a small payment: `submitted`/`approved` only.
    let token: serde_json::Value = http
        .post(format!("{recorder_url}/oauth/token"))
        .basic_auth("rehearse-client", Some("rehearse-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let created = http
        .post(format!("{recorder_url}/v3/transfers"))
        .bearer_auth(&bearer)
        .header("Idempotency-Key", "k-1")
        .json(&serde_json::json!({
            "amount": {"value": "12.00", "currency": "EUR"},
            "creditor": {"name": "A", "iban": "GB33BUKB20201555555555"},
            "debtor": {"name": "B", "iban": "DE89370400440532013000"},
            "remittance_information": "r-1"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status().as_u16(),
        201,
        "the answer is forwarded unchanged"
    );
    assert_eq!(
        created.headers()["content-type"],
        "application/json",
        "headers are forwarded"
    );
    let response = http
        .post(format!("{recorder_url}/__record/save"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("pending_review") && message.contains("rejected"),
        "{message}"
    );
    assert!(
        message.contains("--status") && message.contains("--from"),
        "{message}"
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_non_empty_out_folder_and_a_silent_upstream_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v4");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let run = |upstream: &str, out: &Path| {
        Command::new(BIN)
            .args(["mock-bank", "record", "--upstream", upstream, "--out"])
            .arg(out)
            .args(["--port", "0", "--timeout", "2s"])
            .output()
            .unwrap()
    };
    // A port nobody listens on: 9 (discard). A port bound and dropped could be given to
    // another test's server running alongside.
    let silent = "http://127.0.0.1:9".to_string();
    let refused = run(&silent, &out);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not empty"));
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );

    let not_ready = run(&silent, &dir.path().join("v5"));
    assert_eq!(not_ready.status.code(), Some(2), "{not_ready:?}");
    assert!(
        String::from_utf8_lossy(&not_ready.stderr).contains("does not answer"),
        "{not_ready:?}"
    );
    let badly_named = run(&silent, &dir.path().join("latest"));
    assert_eq!(badly_named.status.code(), Some(3), "{badly_named:?}");
}
