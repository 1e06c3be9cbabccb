//! `rehearse preflight` against the sample platform started misconfigured, as on demo day:
//! each fault is named by the right check, with its owner and hint, and exits 2. With
//! nothing wrong it exits 0.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rehearse_bank_mock::{BankMock, RunningBank};
use rehearse_sample_platform::{Config, RunningPlatform};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

const ENV: &str = r#"
vars:
  platform: "@PLATFORM@"
  bank: "@BANK@"
secrets: [BANK_API_KEY]
checks:
  - name: platform has bank credentials
    owner: devops
    hint: set BANK_API_KEY in the payments service's deployment
    request: { url: "{{ platform }}/readyz" }
    expect:
      json: { "$.checks.bank_credentials": ok }
  - name: platform reaches the bank
    owner: platform-team
    hint: check BANK_BASE_URL of the payments service
    request: { url: "{{ platform }}/readyz" }
    expect:
      json: { "$.checks.bank_reachable": ok }
  - name: status poller is installed and running
    owner: devops
    hint: deploy the cron job that polls the bank (DISABLE_POLLER must be unset)
    job_heartbeat: { url: "{{ platform }}/internal/jobs/bank-status-poller", max_age: 10m }
  - name: the release under test is deployed
    owner: release-manager
    hint: the deploy pipeline did not ship it; re-run the pipeline
    version: { url: "{{ platform }}/version" }
  - name: the bank answers
    owner: bank-integration
    hint: ask the bank's integration contact
    reachable: { target: "{{ bank }}", timeout: 2s }
  - name: the harness has the bank API key
    owner: qa
    hint: put BANK_API_KEY in the CI secret store
    secret_present: BANK_API_KEY
"#;

struct Stack {
    bank: RunningBank,
    platform: RunningPlatform,
}

async fn stack(tweak: impl FnOnce(&mut Config, &RunningBank)) -> Stack {
    let bank = BankMock::builder().start().await.unwrap();
    let mut config = Config {
        bank_base_url: Some(bank.base_url().to_owned()),
        bank_api_key: Some(bank.credentials().api_key.clone()),
        poll_schedule: "* * * * * *".to_owned(),
        platform_version: "1.5.0".to_owned(),
        ..Config::default()
    };
    tweak(&mut config, &bank);
    let platform = rehearse_sample_platform::start(config).await.unwrap();
    Stack { bank, platform }
}

/// Waits until the platform's poller has run once (its heartbeat), unless it is disabled.
async fn poller_ran(platform: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = reqwest::Client::new();
    loop {
        let job: serde_json::Value = client
            .get(format!("{platform}/internal/jobs/bank-status-poller"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["runs"].as_u64().unwrap_or(0) >= 1 || job["registered"] == false {
            return;
        }
        assert!(Instant::now() < deadline, "the poller never ran: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Outcome {
    out: Output,
    report: serde_json::Value,
    junit: String,
}

impl Outcome {
    fn failed(&self) -> Vec<(String, String, String)> {
        self.report["preflight"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] != "passed")
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["owner"].as_str().unwrap_or("").to_owned(),
                    c["hint"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
    fn text(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.out.stdout),
            String::from_utf8_lossy(&self.out.stderr)
        )
    }
}

async fn preflight(stack: &Stack, bank_url: &str, harness_key: Option<&str>) -> Outcome {
    poller_ran(&stack.platform.base_url()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    let env = ENV
        .replace("@PLATFORM@", &stack.platform.base_url())
        .replace("@BANK@", bank_url);
    std::fs::write(dir.path().join("environments/test.yaml"), env).unwrap();
    std::fs::write(
        dir.path().join("scenarios/health.yaml"),
        "name: health\nsteps:\n  - request: { url: \"{{ platform }}/healthz\" }\n",
    )
    .unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args([
        "preflight",
        "--env",
        "test",
        "--expect-version",
        "1.5.0",
        "--report",
        "json=out/run.json",
        "--report",
        "junit=out/junit.xml",
    ])
    .current_dir(dir.path())
    .env("NO_COLOR", "1")
    .env_remove("BANK_API_KEY");
    if let Some(k) = harness_key {
        cmd.env("BANK_API_KEY", k);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let report =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/run.json")).unwrap())
            .unwrap();
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    Outcome { out, report, junit }
}

fn assert_names(o: &Outcome, name: &str, owner: &str, hint_part: &str) {
    assert_eq!(o.out.status.code(), Some(2), "{}", o.text());
    let failed = o.failed();
    let hit = failed.iter().find(|(n, _, _)| n == name);
    let Some((_, got_owner, hint)) = hit else {
        panic!(
            "`{name}` should have failed; failed: {failed:?}\n{}",
            o.text()
        );
    };
    assert_eq!(got_owner, owner);
    assert!(hint.contains(hint_part), "{hint}");
    // JUnit lists the check as a failure naming the owner and the hint.
    assert!(
        o.junit.contains(&format!("not ready ({owner}): {name}")),
        "{}",
        o.junit
    );
    // The console groups by owner and shows the hint.
    let t = o.text();
    assert!(t.contains(&format!("owner: {owner}")), "{t}");
    assert!(t.contains(hint_part), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_wrong_exits_0() {
    let s = stack(|_, _| {}).await;
    let o = preflight(&s, s.bank.base_url(), Some("harness-key-1")).await;
    assert_eq!(o.out.status.code(), Some(0), "{}", o.text());
    assert!(o.failed().is_empty());
    assert_eq!(o.report["preflight"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_bank_api_key_in_the_platform() {
    let s = stack(|c, _| c.bank_api_key = None).await;
    let o = preflight(&s, s.bank.base_url(), Some("harness-key-1")).await;
    assert_names(
        &o,
        "platform has bank credentials",
        "devops",
        "set BANK_API_KEY",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn poller_disabled() {
    let s = stack(|c, _| c.disable_poller = true).await;
    let o = preflight(&s, s.bank.base_url(), Some("harness-key-1")).await;
    assert_names(
        &o,
        "status poller is installed and running",
        "devops",
        "deploy the cron job",
    );
    assert!(o.text().contains("not registered"), "{}", o.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_version_deployed() {
    let s = stack(|c, _| c.platform_version = "1.4.2".to_owned()).await;
    let o = preflight(&s, s.bank.base_url(), Some("harness-key-1")).await;
    assert_names(
        &o,
        "the release under test is deployed",
        "release-manager",
        "re-run the pipeline",
    );
    assert!(
        o.text()
            .contains("deployed version is 1.4.2, expected 1.5.0"),
        "{}",
        o.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_bank_base_url() {
    let s = stack(|c, _| c.bank_base_url = Some("http://127.0.0.1:9".to_owned())).await;
    let o = preflight(&s, s.bank.base_url(), Some("harness-key-1")).await;
    assert_names(
        &o,
        "platform reaches the bank",
        "platform-team",
        "BANK_BASE_URL",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_missing_from_the_harness() {
    let s = stack(|_, _| {}).await;
    let o = preflight(&s, s.bank.base_url(), None).await;
    assert_names(
        &o,
        "the harness has the bank API key",
        "qa",
        "CI secret store",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_bank_is_named_with_its_owner() {
    let s = stack(|_, _| {}).await;
    let o = preflight(&s, "http://127.0.0.1:9", Some("harness-key-1")).await;
    assert_names(
        &o,
        "the bank answers",
        "bank-integration",
        "integration contact",
    );
}
