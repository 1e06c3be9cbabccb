//! The staging rehearsal: the real-time code paths. `rehearse mock-bank` and the
//! `sample-platform` binary run as separate processes (real clock, settlement and poller
//! every second), and the shipped flows run against them with `--env`, approvals in `http`
//! mode against the mock's admin API — as a team would rehearse before a demo.

mod common;

use std::process::Command;

use common::{BIN, repo};

#[test]
fn shipped_flows_pass_against_separate_processes_on_real_time() {
    let (_bank, bank_url) = common::bank();
    let (_platform, platform_url) = common::platform(&bank_url);

    let dir = tempfile::tempdir().unwrap();
    let env_file = common::rehearsal_env(dir.path(), &platform_url, &bank_url);
    // The heartbeat check needs one poller run: it runs every second.
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let json = dir.path().join("run.json");
    let out = Command::new(BIN)
        .args(["run", "--env"])
        .arg(&env_file)
        .args(["--expect-version", "1.5.0", "--report"])
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
    assert_eq!(out.status.code(), Some(0), "{text}");
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ran: Vec<&str> = result["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    // The approval flows ran through the reviewer API in `http` mode, on real time.
    for flow in [
        "scenarios/payments/large-payment-approved.yaml",
        "scenarios/payments/large-payment-rejected.yaml",
        "scenarios/payments/small-payment.yaml",
        "scenarios/payments/bank-outage-recovers.yaml",
    ] {
        assert!(ran.contains(&flow), "{flow} did not run: {ran:?}\n{text}");
    }
    // The virtual-clock flow is left out, with a note.
    assert!(!ran.contains(&"scenarios/payments/large-payment-held-four-hours.yaml"));
    assert!(text.contains("needs a virtual clock"), "{text}");
    // The environment's 3 checks, the implicit one for its secret, and the one a flow
    // requires — each once.
    let checks: Vec<&str> = result["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(checks.len(), 5, "{checks:?}");
    assert!(
        checks.contains(&"status poller is installed and running"),
        "{checks:?}"
    );
    // The reviewer token never shows.
    assert!(!text.contains("reviewer-token-123"));
    assert!(
        !std::fs::read_to_string(&json)
            .unwrap()
            .contains("reviewer-token-123")
    );
}
