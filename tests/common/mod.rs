//! Shared by the black-box tests that run the bank mock and the sample platform as
//! separate processes, as on a real environment.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The sample platform's binary, built beside `rehearse` (built here when missing, e.g.
/// when only this package's tests were asked for).
pub fn sample_platform_bin() -> PathBuf {
    let bin = Path::new(BIN).with_file_name("sample-platform");
    if !bin.is_file() {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "rehearse-sample-platform",
                "--bin",
                "sample-platform",
            ])
            .current_dir(repo())
            .status()
            .unwrap();
        assert!(status.success(), "failed to build sample-platform");
    }
    bin
}

/// Kills the process when the test ends, whatever happens.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a process and returns it with the first URL printed on a line containing `marker`.
pub fn start(mut cmd: Command, marker: &str) -> (Proc, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the process printed no URL").unwrap();
        if line.contains(marker)
            && let Some(i) = line.find("http://")
        {
            break line[i..].split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), url)
}

/// `rehearse mock-bank` on a free port, real clock, settling every second.
pub fn bank() -> (Proc, String) {
    bank_with(&[])
}

/// [`bank`] with more flags (`--versions DIR`, `--api v4`).
pub fn bank_with(extra: &[&str]) -> (Proc, String) {
    let mut bank = Command::new(BIN);
    bank.args([
        "mock-bank",
        "--port",
        "0",
        "--clock",
        "realtime",
        "--settlement-cron",
        "* * * * * *",
    ]);
    bank.args(extra);
    start(bank, "base URL")
}

/// A built-in version folder written to `dir/vN` as version `n`: its manifest says `vN`
/// and its routes move from `/vOLD/` to `/vN/`; `edit` may change the manifest's text
/// further. Returns the folder.
pub fn version_copy(
    from: rehearse_contract::ApiVersion,
    n: u16,
    dir: &Path,
    edit: impl FnOnce(String) -> String,
) -> PathBuf {
    let catalog = rehearse_contract::Catalog::builtin();
    let folder = catalog.require(from).unwrap();
    let out = dir.join(format!("v{n}"));
    folder.write_to(&out).unwrap();
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(
            &format!("\"version\": \"{from}\""),
            &format!("\"version\": \"v{n}\""),
        )
        .replace(&format!("/{from}/"), &format!("/v{n}/"));
    std::fs::write(&path, edit(text)).unwrap();
    out
}

/// The sample platform (bank API v2) on a free port, polling every second.
pub fn platform(bank_url: &str) -> (Proc, String) {
    let mut platform = Command::new(sample_platform_bin());
    platform
        .env("BANK_BASE_URL", bank_url)
        .env("BANK_API_KEY", "test-api-key")
        .env("BANK_API_VERSION", "v2")
        .env("POLL_SCHEDULE", "* * * * * *")
        .env("PORT", "0")
        .env("PLATFORM_VERSION", "1.5.0");
    start(platform, "listening on")
}

/// The staging-rehearsal environment for a bank mock and a platform started with [`bank`] and
/// [`platform`]: real clock, approvals in `http` mode through the mock's admin API (secret
/// `REVIEWER_TOKEN`), and three checks, one of them the poller's heartbeat (give the poller a
/// second to run before the first run). Written as `rehearsal.yaml` in `dir`.
pub fn rehearsal_env(dir: &Path, platform_url: &str, bank_url: &str) -> PathBuf {
    let env_file = dir.join("rehearsal.yaml");
    std::fs::write(
        &env_file,
        format!(
            r#"
description: staging rehearsal on this machine
vars:
  platform: {platform_url}
  bank: {bank_url}
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
    request: {{ url: "{{{{ platform }}}}/readyz" }}
    expect: {{ status: 200 }}
  - name: status poller is running
    owner: devops
    hint: deploy the poller
    job_heartbeat: {{ url: "{{{{ platform }}}}/internal/jobs/bank-status-poller", max_age: 30s }}
  - name: the release under test is deployed
    owner: release-manager
    hint: re-run the deploy pipeline
    version: {{ url: "{{{{ platform }}}}/version" }}
"#
        ),
    )
    .unwrap();
    env_file
}

/// The bytes of the default SQLite store under `dir` (the database and its WAL).
pub fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for f in ["rehearse.db", "rehearse.db-wal"] {
        if let Ok(b) = std::fs::read(dir.join(".rehearse").join(f)) {
            all.extend(b);
        }
    }
    assert!(!all.is_empty(), "no SQLite store under .rehearse/");
    all
}

/// Whether `text` occurs in `bytes`.
pub fn store_holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}
