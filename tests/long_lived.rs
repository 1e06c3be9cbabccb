//! Re-runnable against a long-lived stack (issue #10): one `rehearse mock-bank` and one
//! `sample-platform`, started once as a team keeps them for a pre-demo rehearsal, and the
//! shipped suite run against them again and again — one run after another, then two at
//! once. Each run finds its own requests in the bank's journal (by its payment's
//! reference, not by an amount every run sends) and faults only its own payment.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{BIN, repo};

/// The flows that read the bank's journal or arm a fault on it.
const SHARED_BANK_FLOWS: [&str; 2] = [
    "scenarios/payments/small-payment.yaml",
    "scenarios/payments/bank-outage-recovers.yaml",
];

fn run_suite(env_file: &Path, json: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--env"])
        .arg(env_file)
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .current_dir(repo())
        .env("REVIEWER_TOKEN", "reviewer-token-123")
        .env("NO_COLOR", "1");
    cmd
}

/// The run passed, and so did each flow that shares the bank.
fn assert_passed(label: &str, out: &Output, json: &PathBuf) {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{label} failed:\n{text}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    for flow in SHARED_BANK_FLOWS {
        let scenario = result["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == flow)
            .unwrap_or_else(|| panic!("{label}: {flow} did not run\n{text}"));
        assert_eq!(scenario["status"], "passed", "{label}: {flow}\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_suite_passes_run_after_run_against_one_long_lived_stack() {
    // Arrange: one stack for every run.
    let (_bank, bank_url) = common::bank();
    let (_platform, platform_url) = common::platform(&bank_url);
    let dir = tempfile::tempdir().unwrap();
    let env_file = common::rehearsal_env(dir.path(), &platform_url, &bank_url);
    // The heartbeat check needs one poller run: it runs every second.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // Act + Assert: three runs in a row (before #10 the second one failed: the journal
    // held the first run's payment of the same amount)…
    for i in 1..=3 {
        let json = dir.path().join(format!("run-{i}.json"));
        let out = run_suite(&env_file, &json).output().unwrap();
        assert_passed(&format!("run {i}"), &out, &json);
    }
    // …then two at once: the outage flow's fault names its own payment, so the other run's
    // small payment is not failed by it.
    let runs: Vec<_> = (4..=5)
        .map(|i| {
            let json = dir.path().join(format!("run-{i}.json"));
            let child = run_suite(&env_file, &json)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (i, child, json)
        })
        .collect();
    for (i, child, json) in runs {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert_passed(&format!("concurrent run {i}"), &out, &json);
    }

    // No run left a fault armed on the shared bank.
    let faults: serde_json::Value = reqwest::get(format!("{bank_url}/__admin/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["faults"], serde_json::json!([]), "{faults}");
}
