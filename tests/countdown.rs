//! Black-box tests of `rehearse countdown` (issue #13) with a fake clock (`REHEARSE_NOW`):
//! the right step at the right offset (`--once` before T-72h, just after T-48h, and again
//! at the same instant), each failing owner's working hours left over a weekend, the
//! go/no-go at T-15m (GO, and NO-GO naming the owners), and the readiness board.
//!
//! The demo is on Monday 2026-12-07 at 15:00 UTC. Owners in three time zones: devops in
//! Singapore (09:00-17:00, UTC+8), payments-team in London (09:00-17:00, UTC+0),
//! bank-integration in New York (09:00-18:00, UTC-5). At T-15m (14:45 UTC) Singapore is
//! off hours (22:45), London and New York work. The failing environment's checks dial a
//! closed port; the passing one's a tiny HTTP server the test starts.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use common::BIN;

const DEMO: &str = "2026-12-07T15:00:00Z";

const OWNERS: &str = "owners:
  devops:
    name: DevOps, Singapore
    time_zone: Asia/Singapore
    hours: 09:00-17:00
  payments-team:
    time_zone: Europe/London
    hours: 09:00-17:00
  bank-integration:
    time_zone: America/New_York
    hours: 09:00-18:00
";

/// Every check dials port 9, where nothing listens.
const FAILING_ENV: &str = "vars:
  base: http://127.0.0.1:9
checks:
  - name: platform is up
    owner: devops
    hint: deploy the platform
    reachable: 127.0.0.1:9
  - name: ledger is up
    owner: payments-team
    reachable: 127.0.0.1:9
  - name: bank sandbox is up
    owner: bank-integration
    reachable: 127.0.0.1:9
";

/// A server that answers every request 200 `ok`, for as long as the test runs.
fn tiny_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

/// A suite with the owners, the failing environment `failing`, the passing one `ok`
/// (its check and its flow against the tiny server), and the demo flow `pay`.
fn suite() -> tempfile::TempDir {
    let port = tiny_server();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("environments")).unwrap();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::write(root.join("owners.yaml"), OWNERS).unwrap();
    std::fs::write(root.join("environments/failing.yaml"), FAILING_ENV).unwrap();
    std::fs::write(
        root.join("environments/ok.yaml"),
        format!(
            "vars:\n  base: http://127.0.0.1:{port}\nchecks:\n  - name: platform is up\n    owner: devops\n    reachable: 127.0.0.1:{port}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("scenarios/pay.yaml"),
        "name: pay\ntags: [demo]\nowner: payments-team\nsteps:\n  - name: the platform answers\n    request: { method: GET, url: \"{{ base }}/ok\" }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    dir
}

fn countdown(root: &Path, now: &str, extra: &[&str]) -> Output {
    Command::new(BIN)
        .args(["countdown", "--demo-at", DEMO, "--tag", "demo"])
        .args(["--reports-dir", "reports"])
        .args(extra)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("REHEARSE_NOW", now)
        .env_remove("REHEARSE_ENV")
        .env_remove("REHEARSE_STORE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!("{}{}", stdout(o), String::from_utf8_lossy(&o.stderr))
}

fn step_folders(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join("reports"))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The rows of a readiness board, one line each.
fn board_rows(path: &Path) -> String {
    let html = std::fs::read_to_string(path).unwrap();
    html.lines()
        .filter(|l| l.starts_with("<tr class=") || l.starts_with("<p class=\"verdict\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn once_runs_the_step_due_once_and_tells_each_owner_their_working_hours_over_the_weekend() {
    let dir = suite();
    let root = dir.path();

    // Friday 14:59 UTC: T-72h is a minute away; nothing runs.
    let out = countdown(
        root,
        "2026-12-04T14:59:00Z",
        &["--env", "failing", "--once"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        stdout(&out).trim(),
        "countdown: nothing due at 2026-12-04 14:59 UTC; next step T-72h at 2026-12-04 15:00 UTC (in 1 min)"
    );
    assert!(step_folders(root).is_empty(), "{:?}", step_folders(root));

    // Saturday 15:00:30 UTC, just after T-48h (T-72h was missed: not replayed). Between
    // now and the demo lies the weekend: London has Monday 09:00-15:00 (6 h), Singapore
    // Monday 09:00-17:00 local (01:00-09:00 UTC, 8 h), New York Monday 09:00-10:00 local
    // (14:00-15:00 UTC, 1 h).
    let out = countdown(
        root,
        "2026-12-05T15:00:30Z",
        &["--env", "failing", "--once"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "pre-flight failed: {}",
        text(&out)
    );
    insta::assert_snapshot!(stdout(&out), @r"
    countdown T-48h on failing: demo at 2026-12-07 15:00 UTC, 47 h 59 min from now; missed and not replayed: T-72h
    reports in reports/48h-2026-12-05T15-00-30Z
    pre-flight: red (3 of 3 checks failed) · flows: not run: pre-flight is not green
    tell bank-integration:
      bank-integration — 10:00 in America/New_York, off hours; back in 1 d 23 h
      ✗ pre-flight `bank sandbox is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)
      1 h of your working hours left before the demo (Mon 2026-12-07 15:00 UTC, Mon 10:00 your time)
    tell devops (DevOps, Singapore):
      devops — 23:00 in Asia/Singapore, off hours; back in 1 d 10 h
      ✗ pre-flight `platform is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)
        hint: deploy the platform
      8 h of your working hours left before the demo (Mon 2026-12-07 15:00 UTC, Mon 23:00 your time)
    tell payments-team:
      payments-team — 15:00 in Europe/London, off hours; back in 1 d 18 h
      ✗ pre-flight `ledger is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)
      6 h of your working hours left before the demo (Mon 2026-12-07 15:00 UTC, Mon 15:00 your time)
    not ready on failing, 47 h 59 min before the demo: bank-integration has 1 failure (10:00 in America/New_York, off hours; back in 1 d 23 h; 1 h of working hours left); devops (DevOps, Singapore) has 1 failure (23:00 in Asia/Singapore, off hours; back in 1 d 10 h; 8 h of working hours left); payments-team has 1 failure (15:00 in Europe/London, off hours; back in 1 d 18 h; 6 h of working hours left)
    ");
    assert_eq!(step_folders(root), ["48h-2026-12-05T15-00-30Z"]);
    let folder = root.join("reports/48h-2026-12-05T15-00-30Z");
    assert!(folder.join("preflight.json").is_file());
    assert!(folder.join("board.html").is_file());
    assert!(
        !folder.join("run.json").exists(),
        "the flows do not run when pre-flight is red"
    );

    // The same instant again: the 48h step is done; nothing runs.
    let out = countdown(
        root,
        "2026-12-05T15:00:30Z",
        &["--env", "failing", "--once"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stdout(&out).starts_with("countdown: nothing due at 2026-12-05 15:00 UTC; next step T-24h at 2026-12-06 15:00 UTC"),
        "{}",
        text(&out)
    );
    assert_eq!(step_folders(root).len(), 1);
}

#[test]
fn go_at_t_minus_15m_when_pre_flight_and_the_flows_are_green() {
    let dir = suite();
    let root = dir.path();
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "ok", "--once", "--report", "html=out/board.html"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        stdout(&out).contains(
            "pre-flight: green · flows: green\nGO: pre-flight and the demo flows are green on ok, 15 min before the demo\n"
        ),
        "{t}"
    );
    let folder = root.join("reports/15m-2026-12-07T14-45-00Z");
    assert!(folder.join("run.json").is_file(), "the flows ran: {t}");
    insta::assert_snapshot!(board_rows(&root.join("out/board.html")), @r#"
    <p class="verdict" data-go="true" data-final="true">GO: pre-flight and the demo flows are green on ok, 15 min before the demo</p>
    <tr class="idle" data-owner="bank-integration"><td><b>bank-integration</b></td><td>09:45 in America/New_York, <span class="working">working hours</span>; until 18:00</td><td>nothing in this step</td><td>15 min</td></tr>
    <tr class="green" data-owner="devops"><td><b>devops</b> <span class="path">DevOps, Singapore</span></td><td>22:45 in Asia/Singapore, <span class="off-hours">off hours</span>; back in 10 h 15 min</td><td>1 green, 0 red<ul><li class="green">✓ pre-flight `platform is up`</li></ul></td><td>0 h</td></tr>
    <tr class="green" data-owner="payments-team"><td><b>payments-team</b></td><td>14:45 in Europe/London, <span class="working">working hours</span>; until 17:00</td><td>1 green, 0 red<ul><li class="green">✓ flow `pay`</li></ul></td><td>15 min</td></tr>
    "#);
}

#[test]
fn no_go_at_t_minus_15m_names_each_failing_owner_their_clock_and_hours_left() {
    let dir = suite();
    let root = dir.path();
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "failing", "--once"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    let verdict = stdout(&out)
        .lines()
        .find(|l| l.starts_with("NO-GO"))
        .unwrap_or_else(|| panic!("no NO-GO line: {t}"))
        .to_owned();
    insta::assert_snapshot!(verdict, @"NO-GO on failing, 15 min before the demo: bank-integration has 1 failure (09:45 in America/New_York, working hours (until 18:00); 15 min of working hours left); devops (DevOps, Singapore) has 1 failure (22:45 in Asia/Singapore, off hours; back in 10 h 15 min; 0 h of working hours left); payments-team has 1 failure (14:45 in Europe/London, working hours (until 17:00); 15 min of working hours left)");
    assert!(
        stdout(&out).contains("tell devops (DevOps, Singapore):\n  devops — 22:45 in Asia/Singapore, off hours; back in 10 h 15 min\n  ✗ pre-flight `platform is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)\n    hint: deploy the platform\n  none of your working hours are left before the demo"),
        "{t}"
    );
    let board = root.join("reports/15m-2026-12-07T14-45-00Z/board.html");
    insta::assert_snapshot!(board_rows(&board), @r#"
    <p class="verdict" data-go="false" data-final="true">NO-GO on failing, 15 min before the demo: bank-integration has 1 failure (09:45 in America/New_York, working hours (until 18:00); 15 min of working hours left); devops (DevOps, Singapore) has 1 failure (22:45 in Asia/Singapore, off hours; back in 10 h 15 min; 0 h of working hours left); payments-team has 1 failure (14:45 in Europe/London, working hours (until 17:00); 15 min of working hours left)</p>
    <tr class="red" data-owner="bank-integration"><td><b>bank-integration</b></td><td>09:45 in America/New_York, <span class="working">working hours</span>; until 18:00</td><td>0 green, 1 red<ul><li class="red">✗ pre-flight `bank sandbox is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)</li></ul></td><td>15 min</td></tr>
    <tr class="red" data-owner="devops"><td><b>devops</b> <span class="path">DevOps, Singapore</span></td><td>22:45 in Asia/Singapore, <span class="off-hours">off hours</span>; back in 10 h 15 min</td><td>0 green, 1 red<ul><li class="red">✗ pre-flight `platform is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)</li></ul></td><td>0 h</td></tr>
    <tr class="red" data-owner="payments-team"><td><b>payments-team</b></td><td>14:45 in Europe/London, <span class="working">working hours</span>; until 17:00</td><td>0 green, 1 red<ul><li class="red">✗ pre-flight `ledger is up`: TCP connection to 127.0.0.1:9 (127.0.0.1:9) failed: Connection refused (os error 111)</li></ul></td><td>15 min</td></tr>
    "#);
}

#[test]
fn the_long_running_countdown_exits_with_its_last_steps_go_no_go() {
    let dir = suite();
    let root = dir.path();
    // T-15m has come: the only step runs at once, and it is the last.
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "ok", "--at", "15m"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("GO: pre-flight and the demo flows are green on ok"),
        "{t}"
    );
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "failing", "--at", "1h,15m"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("NO-GO on failing"), "{}", text(&out));
}

#[test]
fn bad_offsets_and_report_kinds_are_invalid_input_with_the_fix() {
    let dir = suite();
    let root = dir.path();
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "ok", "--at", "48h,,15m", "--once"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("--at `48h,,15m` has an empty offset"),
        "{}",
        text(&out)
    );
    let out = countdown(
        root,
        "2026-12-07T14:45:00Z",
        &["--env", "ok", "--report", "junit=j.xml", "--once"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("readiness board (html=PATH)"),
        "{}",
        text(&out)
    );
    assert!(step_folders(root).is_empty());
}

#[test]
fn the_long_running_countdown_waits_for_its_next_step_and_stops_on_sigterm_with_130() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = suite();
    let root = dir.path();
    let log = root.join("countdown.log");
    let file = std::fs::File::create(&log).unwrap();
    // Two days before T-72h: the countdown has nothing to do but wait.
    let mut child = Command::new(BIN)
        .args([
            "countdown",
            "--demo-at",
            DEMO,
            "--env",
            "failing",
            "--reports-dir",
            "reports",
        ])
        .current_dir(root)
        .env("REHEARSE_NOW", "2026-12-02T15:00:00Z")
        .env_remove("REHEARSE_ENV")
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Not an expectation of speed: how long to wait before calling it broken.
    let give_up = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("next step T-72h at 2026-12-04 15:00 UTC")
    {
        if Instant::now() > give_up || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!(
                "no wait announced:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            panic!("the countdown did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(130), "{text}");
    assert!(
        text.contains("SIGTERM: stopping the countdown before its last step"),
        "{text}"
    );
    assert!(step_folders(root).is_empty(), "no step ran: {text}");
}

/// A server that records each request's body and answers 200, for the `--notify` test.
fn hook_receiver() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let kept = std::sync::Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let kept = std::sync::Arc::clone(&kept);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut data = Vec::new();
                let body_at = loop {
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&data[..body_at]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while data.len() < body_at + len {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&data[body_at..body_at + len]).into_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    (port, got)
}

#[test]
fn notify_sends_each_failing_owner_their_hours_left_and_the_go_no_go() {
    let dir = suite();
    let root = dir.path();
    let (port, got) = hook_receiver();
    let hooked = OWNERS
        .replace(
            "    hours: 09:00-17:00\n  payments-team:",
            "    hours: 09:00-17:00\n    contacts:\n      - webhook: DEVOPS_HOOK\n  payments-team:",
        )
        .replace(
            "    hours: 09:00-18:00\n",
            "    hours: 09:00-18:00\n    contacts:\n      - slack: BANK_SLACK\n",
        );
    assert_ne!(hooked, OWNERS);
    std::fs::write(root.join("owners.yaml"), &hooked).unwrap();
    let url = format!("http://127.0.0.1:{port}/hooks/secret-path-4711");
    let out = Command::new(BIN)
        .args(["countdown", "--demo-at", DEMO, "--tag", "demo"])
        .args([
            "--reports-dir",
            "reports",
            "--env",
            "failing",
            "--once",
            "--notify",
        ])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("REHEARSE_NOW", "2026-12-07T14:45:00Z")
        .env("DEVOPS_HOOK", &url)
        .env("BANK_SLACK", &url)
        .env_remove("REHEARSE_ENV")
        .env_remove("REHEARSE_STORE")
        .output()
        .unwrap();
    let t = text(&out);
    // A NO-GO step exits as its pre-flight did, notified or not.
    assert_eq!(out.status.code(), Some(2), "{t}");
    let bodies = got.lock().unwrap().clone();
    // devops (webhook) and bank-integration (Slack); payments-team has no contact.
    assert_eq!(bodies.len(), 2, "{t}\n{bodies:#?}");
    let devops = bodies
        .iter()
        .find(|b| b.contains("platform is up"))
        .unwrap_or_else(|| panic!("no message for devops: {bodies:#?}"));
    assert!(
        devops.contains("none of your working hours are left before the demo"),
        "{devops}"
    );
    assert!(devops.contains("NO-GO on failing"), "{devops}");
    let bank = bodies
        .iter()
        .find(|b| b.contains("bank sandbox is up"))
        .unwrap_or_else(|| panic!("no message for bank-integration: {bodies:#?}"));
    assert!(bank.contains("\"blocks\""), "Slack shape: {bank}");
    assert!(bank.contains("15 min of your working hours left"), "{bank}");
    assert!(stdout(&out).contains("told devops"), "{t}");
    assert!(
        !t.contains("secret-path-4711"),
        "the webhook URL is a secret: {t}"
    );
}
