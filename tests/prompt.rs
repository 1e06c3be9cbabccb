//! `prompt` approvals through the real binary: a person plays the bank's reviewer in a
//! pseudo-terminal (util-linux `script` provides it), following the instructions on screen;
//! a non-interactive run refuses at once with exit 2. (The timeout and every answer are
//! also tested on piped input in crates/cli/src/prompt.rs.)

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, repo};

const FLOW: &str = "scenarios/payments/large-payment-approved.yaml";

#[test]
fn non_interactive_prompt_refuses_at_once_with_exit_2() {
    let out = Command::new(BIN)
        .args(["run", "--approvals", "prompt", FLOW])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("approval needs an operator"), "{text}");
}

#[test]
fn operator_approves_in_the_bank_back_office_then_answers_the_prompt() {
    let (_bank, bank_url) = common::bank();
    let (_platform, platform_url) = common::platform(&bank_url);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("rehearsal.yaml");
    std::fs::write(
        &env,
        format!(
            "vars:\n  platform: {platform_url}\n  bank: {bank_url}\nclock: real\napprovals:\n  mode: prompt\n  instructions: \"open the back office and approve {{{{ reference }}}}\"\n  timeout: 60s\n"
        ),
    )
    .unwrap();
    // `-v` lists the steps of a passing scenario (by default it is one line).
    let command = format!("{BIN} run -v --env {} {FLOW}", env.display());
    let mut child = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .current_dir(repo())
        .env_remove("CI")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("`script` (util-linux) runs the command in a pseudo-terminal");
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(60);
    // Read the screen until the prompt shows the payment to approve.
    let reference = loop {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the run ended before asking: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if seen.contains("Type approve, reject or skip")
            && let Some(line) = seen.lines().find(|l| l.trim_start().starts_with("payment"))
        {
            break line.split_whitespace().nth(1).unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no prompt: {seen}");
    };
    assert!(seen.contains("25000.00 EUR"), "the amount is shown: {seen}");
    assert!(
        seen.contains(&format!("open the back office and approve {reference}")),
        "{seen}"
    );
    // The operator approves in the bank's back office, then answers.
    decide(&bank_url, &reference);
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"approve\n")
        .unwrap();
    stdout.read_to_string(&mut seen).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{seen}");
    assert!(
        seen.contains("✓ large-payment-approved › bank staff approves"),
        "{seen}"
    );
    assert!(seen.contains("1 passed"), "{seen}");
}

/// `POST /__admin/reviews/{reference}/decision` over a plain socket, as the reviewer's click.
fn decide(bank_url: &str, reference: &str) {
    let host = bank_url.strip_prefix("http://").unwrap();
    let body = r#"{"decision":"approve","note":"ok"}"#;
    let mut sock = std::net::TcpStream::connect(host).unwrap();
    write!(
        sock,
        "POST /__admin/reviews/{reference}/decision HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
