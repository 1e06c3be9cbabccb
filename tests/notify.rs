//! `--notify` (issue #13): owners with failures are told, once, through their contacts in
//! owners.yaml, in their working hours; their escalation owner after the delay. A receiver
//! started by the test records every request (path, headers, body) and answers 500 on
//! `/fail/…`. The clock is `REHEARSE_NOW`.
//!
//! Wednesday 2026-12-02 18:14 UTC: London (payments-team, 09:00-19:00) and New York
//! (bank-integration, 09:00-17:00) work; Singapore (devops, 09:00-17:00) sleeps, 02:14 on
//! Thursday, back at 01:00 UTC.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;

use common::BIN;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    content_type: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A local HTTP receiver: records every request; `/fail/…` answers 500, `/target` 200
/// (a scenario expecting 201 fails there), anything else 200.
struct Receiver {
    _runtime: tokio::runtime::Runtime,
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    fn start() -> Self {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let got: Arc<Mutex<Vec<Got>>> = Arc::default();
        let kept = Arc::clone(&got);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        runtime.spawn(async move {
            let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
                let kept = Arc::clone(&kept);
                async move {
                    let path = uri.path().to_owned();
                    kept.lock().unwrap().push(Got {
                        path: path.clone(),
                        content_type: headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    if path.starts_with("/fail/") {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            });
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            _runtime: runtime,
            port,
            got,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request to a webhook path (`/hooks/…`, `/fail/…`), in order.
    fn hooks(&self) -> Vec<Got> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|g| g.path.starts_with("/hooks/") || g.path.starts_with("/fail/"))
            .cloned()
            .collect()
    }

    fn paths(&self) -> Vec<String> {
        let mut p: Vec<String> = self.hooks().into_iter().map(|g| g.path).collect();
        p.sort();
        p
    }

    fn clear(&self) {
        self.got.lock().unwrap().clear();
    }
}

const OWNERS: &str = "owners:
  devops:
    name: DevOps, Singapore
    time_zone: Asia/Singapore
    hours: 09:00-17:00
    contacts:
      - slack: DEVOPS_SLACK
    escalation: { owner: release-manager, after: 2h }
  payments-team:
    name: Payments, London
    time_zone: Europe/London
    hours: 09:00-19:00
    contacts:
      - webhook: PAYMENTS_HOOK
  bank-integration:
    time_zone: America/New_York
    contacts:
      - slack: BANK_SLACK
      - webhook: BANK_HOOK
  release-manager:
    time_zone: America/New_York
    contacts:
      - webhook: LEAD_HOOK
";

/// Three failing pre-flight checks, one per owner (the secrets are not set).
const ENV: &str = "vars:
  base: http://127.0.0.1:9
secrets: [PLATFORM_KEY, BANK_KEY, LEDGER_KEY]
checks:
  - name: platform key is set
    owner: devops
    hint: set PLATFORM_KEY in the platform's deployment
    ticket: https://tracker.example/DEVOPS-42
    secret_present: PLATFORM_KEY
  - name: bank key is set
    owner: bank-integration
    secret_present: BANK_KEY
  - name: ledger key is set
    owner: payments-team
    hint: ask payments for the ledger key
    secret_present: LEDGER_KEY
";

/// A canary: the value of a secret the scenarios send; it must appear in no message and
/// no output.
const CANARY: &str = "canary-9f3e7a1c-never-print-me";

struct Suite {
    dir: tempfile::TempDir,
    receiver: Receiver,
    /// The contacts' URLs by secret name (they go in the env file).
    contacts: Vec<(&'static str, String)>,
}

fn suite() -> Suite {
    suite_with(|_| {})
}

/// A suite whose contacts point at a fresh receiver; `tweak` may change the contacts.
fn suite_with(tweak: impl FnOnce(&mut Vec<(&'static str, String)>)) -> Suite {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("environments")).unwrap();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::write(root.join("environments/test.yaml"), ENV).unwrap();
    std::fs::write(root.join("owners.yaml"), OWNERS).unwrap();
    let mut contacts = vec![
        ("DEVOPS_SLACK", receiver.url("/hooks/devops-slack")),
        ("PAYMENTS_HOOK", receiver.url("/hooks/payments-webhook")),
        ("BANK_SLACK", receiver.url("/hooks/bank-slack")),
        ("BANK_HOOK", receiver.url("/hooks/bank-webhook")),
        ("LEAD_HOOK", receiver.url("/hooks/lead-webhook")),
    ];
    tweak(&mut contacts);
    let env_file: String = contacts.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(root.join(".env"), env_file).unwrap();
    Suite {
        dir,
        receiver,
        contacts,
    }
}

impl Suite {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn rehearse(&self, args: &[&str], now: &str) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .env("REHEARSE_NOW", now)
            .env("API_TOKEN", CANARY)
            .env_remove("PLATFORM_KEY")
            .env_remove("BANK_KEY")
            .env_remove("LEDGER_KEY")
            .env_remove("REHEARSE_STORE")
            .output()
            .unwrap()
    }

    fn preflight(&self, now: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "preflight",
            "--env",
            "test",
            "--env-file",
            ".env",
            "--notify",
            "--report-url",
            "https://ci.example/runs/42/report.html",
        ];
        args.extend_from_slice(extra);
        self.rehearse(&args, now)
    }

    /// Asserts no contact URL and no canary in the output, the messages or the state.
    fn assert_no_secret(&self, outputs: &[&Output]) {
        let mut texts: Vec<String> = outputs.iter().map(|o| text(o)).collect();
        texts.extend(self.receiver.hooks().into_iter().map(|g| g.body));
        if let Ok(state) = std::fs::read_to_string(self.root().join(".rehearse/notify.json")) {
            texts.push(state);
        }
        for t in &texts {
            assert!(!t.contains(CANARY), "the canary leaked: {t}");
            for (name, url) in &self.contacts {
                assert!(!t.contains(url.as_str()), "the URL of {name} leaked: {t}");
                let path = url.split_once("127.0.0.1:").map_or("", |(_, p)| p);
                assert!(!t.contains(path), "the URL of {name} leaked: {t}");
            }
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const WED_1814: &str = "2026-12-02T18:14:00Z";

#[test]
fn each_working_owner_gets_one_message_in_their_contacts_format_and_the_sleeping_one_none() {
    let s = suite();
    let out = s.preflight(WED_1814, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert_eq!(
        s.receiver.paths(),
        vec![
            "/hooks/bank-slack",
            "/hooks/bank-webhook",
            "/hooks/payments-webhook"
        ],
        "{t}"
    );
    let hooks = s.receiver.hooks();
    let by = |p: &str| hooks.iter().find(|g| g.path == p).unwrap().clone();

    // Slack's incoming-webhook shape: text + blocks.
    let slack = by("/hooks/bank-slack");
    assert_eq!(slack.content_type, "application/json");
    let v = slack.json();
    assert_eq!(
        v["text"].as_str().unwrap().lines().next(),
        Some("rehearse: 1 failure for bank-integration (test)")
    );
    assert_eq!(v["blocks"][0]["type"], "header");
    let section = v["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(
        section.starts_with("*✗ bank key is set* — pre-flight check, `test`"),
        "{section}"
    );
    assert!(
        section.contains("<https://ci.example/runs/42/report.html|report>"),
        "{section}"
    );

    // The documented JSON.
    let v = by("/hooks/payments-webhook").json();
    assert_eq!(v["schema"], "rehearse.notification.v1");
    assert_eq!(v["recipient"]["owner"], "payments-team");
    assert_eq!(v["recipient"]["name"], "Payments, London");
    assert_eq!(v["recipient"]["time_zone"], "Europe/London");
    assert_eq!(v["sent_at"], "2026-12-02T18:14:00Z");
    let failures = v["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["id"], "check:ledger key is set");
    assert_eq!(failures[0]["kind"], "check");
    assert_eq!(failures[0]["name"], "ledger key is set");
    assert_eq!(failures[0]["hint"], "ask payments for the ledger key");
    assert_eq!(failures[0]["environment"], "test");
    assert_eq!(
        failures[0]["report_url"],
        "https://ci.example/runs/42/report.html"
    );
    assert!(
        failures[0]["evidence"]
            .as_str()
            .unwrap()
            .contains("LEDGER_KEY"),
        "{v}"
    );

    assert!(
        t.contains("notify: devops is off hours — 1 failure queued for 2026-12-03 01:00 UTC, 09:00 in Asia/Singapore"),
        "{t}"
    );
    assert!(
        t.contains("notify: payments-team — 1 failure sent (webhook)"),
        "{t}"
    );
    assert!(
        t.contains("notify: bank-integration — 1 failure sent (slack, webhook)"),
        "{t}"
    );
    s.assert_no_secret(&[&out]);
}

#[test]
fn the_same_failure_is_not_sent_again_within_notify_every() {
    let s = suite();
    let first = s.preflight(WED_1814, &[]);
    assert_eq!(s.receiver.paths().len(), 3, "{}", text(&first));
    s.receiver.clear();

    let again = s.preflight("2026-12-02T18:44:00Z", &[]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(s.receiver.paths(), Vec::<String>::new(), "{}", text(&again));

    // With a shorter --notify-every, the London owner (working until 19:00) hears again.
    let shorter = s.preflight("2026-12-02T18:50:00Z", &["--notify-every", "30m"]);
    assert_eq!(
        s.receiver.paths(),
        vec![
            "/hooks/bank-slack",
            "/hooks/bank-webhook",
            "/hooks/payments-webhook"
        ],
        "{}",
        text(&shorter)
    );
    s.assert_no_secret(&[&first, &again, &shorter]);
}

#[test]
fn an_owner_off_hours_is_told_at_the_start_of_their_working_hours() {
    let s = suite();
    s.preflight(WED_1814, &[]);
    s.receiver.clear();

    // 08:30 in Singapore: still nothing, for devops or anyone.
    let early = s.rehearse(
        &["notify", "--once", "--env-file", ".env"],
        "2026-12-03T00:30:00Z",
    );
    assert_eq!(early.status.code(), Some(0), "{}", text(&early));
    assert_eq!(s.receiver.paths(), Vec::<String>::new(), "{}", text(&early));

    // 09:05 in Singapore: a later run sends devops its failure, and only that.
    let later = s.preflight("2026-12-03T01:05:00Z", &[]);
    assert_eq!(later.status.code(), Some(2));
    assert_eq!(
        s.receiver.paths(),
        vec!["/hooks/devops-slack"],
        "{}",
        text(&later)
    );
    let v = s.receiver.hooks()[0].json();
    let section = v["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(section.starts_with("*✗ platform key is set*"), "{section}");
    assert!(
        section.contains("*Hint:* set PLATFORM_KEY in the platform's deployment"),
        "{section}"
    );
    assert!(
        section.contains("<https://tracker.example/DEVOPS-42|ticket>"),
        "{section}"
    );
    s.assert_no_secret(&[&early, &later]);
}

#[test]
fn rehearse_notify_once_sends_what_is_due_without_a_run() {
    let s = suite();
    s.preflight(WED_1814, &[]);
    s.receiver.clear();
    let out = s.rehearse(
        &["notify", "--once", "--env-file", ".env"],
        "2026-12-03T01:05:00Z",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        s.receiver.paths(),
        vec!["/hooks/devops-slack"],
        "{}",
        text(&out)
    );
    // Sent once: the queue is empty now.
    s.receiver.clear();
    s.rehearse(
        &["notify", "--once", "--env-file", ".env"],
        "2026-12-03T01:10:00Z",
    );
    assert_eq!(s.receiver.paths(), Vec::<String>::new());
    s.assert_no_secret(&[&out]);
}

#[test]
fn urgent_tells_the_sleeping_owner_now() {
    let s = suite();
    let out = s.preflight(WED_1814, &["--urgent"]);
    assert!(
        s.receiver
            .paths()
            .contains(&"/hooks/devops-slack".to_owned()),
        "{}",
        text(&out)
    );
}

#[test]
fn an_unfixed_failure_is_escalated_after_the_delay() {
    let s = suite();
    // Thursday 02:00 UTC: 10:00 in Singapore, devops is told.
    let first = s.preflight("2026-12-03T02:00:00Z", &[]);
    assert!(
        s.receiver
            .paths()
            .contains(&"/hooks/devops-slack".to_owned()),
        "{}",
        text(&first)
    );
    s.receiver.clear();

    // One hour on, still failing: not yet escalated (even --urgent, which would reach
    // the release manager at 22:00 in New York).
    let soon = s.preflight("2026-12-03T03:00:00Z", &["--urgent"]);
    let paths = s.receiver.paths();
    assert!(
        !paths.contains(&"/hooks/lead-webhook".to_owned()),
        "{}",
        text(&soon)
    );
    // (Those off hours at 02:00 got theirs now, --urgent; devops nothing new.)
    assert!(
        !paths.contains(&"/hooks/devops-slack".to_owned()),
        "{}",
        text(&soon)
    );

    // Thursday 14:30 UTC (09:30 in New York), still failing: the release manager hears of
    // devops's failure.
    let later = s.preflight("2026-12-03T14:30:00Z", &[]);
    let lead: Vec<Got> = s
        .receiver
        .hooks()
        .into_iter()
        .filter(|g| g.path == "/hooks/lead-webhook")
        .collect();
    assert_eq!(lead.len(), 1, "{}", text(&later));
    let v = lead[0].json();
    assert_eq!(v["recipient"]["owner"], "release-manager");
    let names: Vec<&str> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["platform key is set"]);
    assert_eq!(v["failures"][0]["owner"], "devops");
    assert_eq!(v["failures"][0]["escalated_from"], "devops");
    s.assert_no_secret(&[&first, &soon, &later]);
}

#[test]
fn a_receiver_answering_500_is_retried_then_reported_and_the_exit_code_is_unchanged() {
    // PAYMENTS_HOOK points at /fail/… (answers 500).
    let s = suite_with(|c| {
        for (k, v) in c.iter_mut() {
            if *k == "PAYMENTS_HOOK" {
                *v = v.replace("/hooks/payments-webhook", "/fail/payments");
            }
        }
    });
    let fail = s.receiver.url("/fail/payments");
    let without = s.rehearse(
        &["preflight", "--env", "test", "--env-file", ".env"],
        WED_1814,
    );
    let out = s.preflight(WED_1814, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), without.status.code(), "{t}");
    assert_eq!(out.status.code(), Some(2), "{t}");
    let tries = s
        .receiver
        .hooks()
        .iter()
        .filter(|g| g.path == "/fail/payments")
        .count();
    assert_eq!(tries, 3, "{t}");
    let warnings: Vec<&str> = t
        .lines()
        .filter(|l| l.contains("payments-team's"))
        .collect();
    assert_eq!(
        warnings,
        vec![
            "warning: notify: payments-team's webhook contact (secret PAYMENTS_HOOK) did not take the message after 3 attempts (HTTP 500); it is tried again later"
        ],
        "{t}"
    );
    // The other owners still got theirs.
    assert!(
        s.receiver.paths().contains(&"/hooks/bank-slack".to_owned()),
        "{t}"
    );
    assert!(!t.contains(&fail), "{t}");
    assert!(!t.contains("/fail/payments"), "{t}");
}

#[test]
fn a_missing_contact_secret_is_reported_and_the_others_are_sent() {
    let s = suite_with(|c| c.retain(|(k, _)| *k != "BANK_SLACK"));
    let out = s.preflight(WED_1814, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("warning: notify: bank-integration's slack contact: secret BANK_SLACK is not set; not sent"),
        "{t}"
    );
    assert_eq!(
        s.receiver.paths(),
        vec!["/hooks/bank-webhook", "/hooks/payments-webhook"],
        "{t}"
    );
}

#[test]
fn a_failing_scenario_is_sent_to_its_owner_without_the_secret_it_sends() {
    let s = suite();
    // No failing check: the environment needs nothing.
    let env = format!(
        "vars:\n  base: {}\nsecrets: [API_TOKEN]\n",
        s.receiver.url("")
    );
    std::fs::write(s.root().join("environments/test.yaml"), env).unwrap();
    std::fs::write(
        s.root().join("scenarios/pay.yaml"),
        "name: create a payment\nowner: payments-team\nsteps:\n  - name: create\n    request:\n      method: POST\n      url: \"{{ base }}/target\"\n      headers: { Authorization: \"Bearer {{ secret('API_TOKEN') }}\" }\n      json: { token: \"{{ secret('API_TOKEN') }}\" }\n    expect: { status: 201 }\n",
    )
    .unwrap();
    let without = s.rehearse(
        &["run", "--env", "test", "--env-file", ".env", "--no-store"],
        WED_1814,
    );
    s.receiver.clear();
    let out = s.rehearse(
        &[
            "run",
            "--env",
            "test",
            "--env-file",
            ".env",
            "--no-store",
            "--notify",
        ],
        WED_1814,
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert_eq!(out.status.code(), without.status.code(), "{t}");
    assert_eq!(s.receiver.paths(), vec!["/hooks/payments-webhook"], "{t}");
    let v = s.receiver.hooks()[0].json();
    assert_eq!(v["failures"][0]["kind"], "scenario");
    assert_eq!(v["failures"][0]["id"], "scenario:scenarios/pay.yaml");
    assert_eq!(v["failures"][0]["name"], "create a payment");
    let evidence = v["failures"][0]["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("step `create`: status"), "{evidence}");
    // The state is kept with --no-store.
    assert!(s.root().join(".rehearse/notify.json").is_file());
    s.assert_no_secret(&[&without, &out]);
}
