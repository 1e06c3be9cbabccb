//! Black-box tests of the real `rehearse` binary: exit codes, reports, secrets, signals.
//! Each test builds a small project (environments/, scenarios/) in a temp folder and runs
//! the binary there against a wiremock target on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(env_yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        std::fs::write(dir.path().join("environments/test.yaml"), env_yaml).unwrap();
        Self { dir }
    }

    fn scenario(&self, name: &str, yaml: &str) -> &Self {
        std::fs::write(self.dir.path().join("scenarios").join(name), yaml).unwrap();
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("API_KEY")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        c
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn env_for(base: &str) -> String {
    format!("vars:\n  base: {base}\nsecrets: [API_KEY]\ntimeouts:\n  request: 2s\n")
}

const PASSING: &str = r#"
name: payment is settled
tags: [payments]
steps:
  - name: create
    request:
      method: POST
      url: "{{ base }}/payments"
      headers: { Authorization: "Bearer {{ secret('API_KEY') }}" }
      json: { amount: "10.00" }
    expect: { status: 201 }
    capture: { id: { json: $.id, secret: false } }
  - name: read
    request: { url: "{{ base }}/payments/{{ id }}" }
    expect:
      json: { "$.status": settled }
"#;

async fn payments_target(status: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/payments"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "p1"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/payments/p1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "p1", "status": status})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn passing_run_exits_0_and_writes_reports() {
    let server = payments_target("settled").await;
    let p = Project::new(&env_for(&server.uri()));
    p.scenario("pay.yaml", PASSING);
    let out = p
        .run(
            &[
                "run",
                "--env",
                "test",
                "--report",
                "junit=out/junit.xml",
                "--report",
                "json=out/run.json",
            ],
            &[("API_KEY", "k-123")],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 passed, 0 failed"), "{}", text(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out/run.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["status"], "passed");
    assert_eq!(json["scenarios"][0]["steps"][0]["captures"][0][1], "p1");
    // Every request carried the run id and a W3C traceparent.
    let run_id = json["run_id"].as_str().unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for r in &received {
        assert_eq!(
            r.headers.get("x-rehearse-run").unwrap().to_str().unwrap(),
            run_id
        );
        let tp = r.headers.get("traceparent").unwrap().to_str().unwrap();
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(
            (parts.len(), parts[0], parts[1].len(), parts[2].len()),
            (4, "00", 32, 16),
            "{tp}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_assertion_exits_1_and_junit_holds_the_failure() {
    let server = payments_target("pending").await;
    let p = Project::new(&env_for(&server.uri()));
    p.scenario("pay.yaml", PASSING);
    let out = p
        .run(
            &["run", "--env", "test", "--report", "junit=out/junit.xml"],
            &[("API_KEY", "k-123")],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let junit = std::fs::read_to_string(p.path("out/junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(junit.contains("$.status"), "{junit}");
    assert!(
        junit.contains("settled") && junit.contains("pending"),
        "{junit}"
    );
    assert!(
        junit.contains("scenarios/pay.yaml:16:15"),
        "the failure names file:line:col: {junit}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_scenario_exits_3_names_the_place_and_still_writes_reports() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    p.scenario(
        "bad.yaml",
        "name: bad\nsteps:\n  - request: { url: \"{{ base }}/x\" }\n    expct: { status: 200 }\n",
    );
    let out = p
        .run(
            &["run", "--env", "test", "--report", "json=out/run.json"],
            &[("API_KEY", "k")],
        )
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("unknown key `expct`"), "{t}");
    assert!(t.contains("scenarios/bad.yaml:4:5"), "{t}");
    assert!(t.contains("did you mean `expect`?"), "{t}");
    let json = std::fs::read_to_string(p.path("out/run.json")).unwrap();
    assert!(json.contains("invalid_input"), "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_secret_exits_2_names_it_and_sends_nothing() {
    let server = payments_target("settled").await;
    let p = Project::new(&env_for(&server.uri()));
    p.scenario("pay.yaml", PASSING);
    let out = p
        .run(
            &["run", "--env", "test", "--report", "junit=out/junit.xml"],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("secret `API_KEY` is not set"),
        "{}",
        text(&out)
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(
        p.path("out/junit.xml").is_file(),
        "reports are written even when not ready"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_environment_and_protected_environment_are_invalid_input() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    p.scenario("pay.yaml", PASSING);
    let out = p.run(&["run", "--env", "tset"], &[("API_KEY", "k")]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("unknown environment `tset`"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("did you mean `test`?"),
        "{}",
        text(&out)
    );

    std::fs::write(
        p.path("environments/prod.yaml"),
        "protected: true\nvars: { base: 'http://127.0.0.1:9' }\nsecrets: [API_KEY]\n",
    )
    .unwrap();
    let out = p.run(&["run", "--env", "prod"], &[("API_KEY", "k")]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("--allow-protected"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_never_answers_fails_the_step_at_its_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let p = Project::new(&env_for(&format!("http://{addr}")));
    p.scenario(
        "hang.yaml",
        "name: hangs\nsteps:\n  - name: call\n    request: { url: \"{{ base }}/x\", timeout: 1s }\n    expect: { status: 200 }\n",
    );
    let started = Instant::now();
    let out = p
        .run(
            &["run", "--env", "test", "--report", "json=out/run.json"],
            &[("API_KEY", "k")],
        )
        .await;
    let elapsed = started.elapsed();
    hold.abort();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("no response within 1s"),
        "{}",
        text(&out)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out/run.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["steps"][0]["status"], "error");
    // Not a speed check: it guards against the timeout being ignored (the default would be
    // the environment's 2s request timeout, a hang would be forever). Generous for slow CI.
    assert!(elapsed < Duration::from_secs(1 + 5), "run took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_mid_run_exits_130_runs_cleanup_and_writes_reports() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/payments/p1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"status": "pending"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/payments/p1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let p = Project::new(&env_for(&server.uri()));
    p.scenario(
        "poll.yaml",
        r#"
name: waits forever
steps:
  - name: wait for settlement
    request: { url: "{{ base }}/payments/p1" }
    poll: { every: 100ms, timeout: 5m }
    expect: { json: { "$.status": settled } }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/payments/p1" }
    expect: { status: 204 }
"#,
    );
    let mut cmd = p.cmd(&[
        "run",
        "--env",
        "test",
        "--report",
        "json=out/run.json",
        "--report",
        "junit=out/junit.xml",
    ]);
    cmd.env("API_KEY", "k")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until the poll is under way.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.received_requests().await.unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "the poll never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let received = server.received_requests().await.unwrap();
    assert!(
        received.iter().any(|r| r.method.as_str() == "DELETE"),
        "cleanup ran"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out/run.json")).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["scenarios"][0]["status"], "interrupted");
    assert_eq!(json["scenarios"][0]["cleanup"][0]["status"], "passed");
    assert!(p.path("out/junit.xml").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_tokens_obtained_with_them_appear_in_no_output() {
    const SECRET: &str = "canary-secret-5f3a";
    const TOKEN: &str = "canary-token-9d1c";
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/login"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": TOKEN})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("bad token {TOKEN}")))
        .mount(&server)
        .await;
    let p = Project::new(&env_for(&server.uri()));
    p.scenario(
        "login.yaml",
        r#"
name: login then fail
steps:
  - name: login
    request:
      method: POST
      url: "{{ base }}/login"
      headers: { X-Api-Key: "{{ secret('API_KEY') }}" }
    capture: { token: $.token }
  - name: me
    request:
      url: "{{ base }}/me"
      headers: { Authorization: "Bearer {{ token }}" }
    expect: { status: 200, body_contains: "{{ token }}" }
"#,
    );
    let out = p
        .run(
            &[
                "run",
                "-vvv",
                "--env",
                "test",
                "--report",
                "json=out/run.json",
                "--report",
                "junit=out/junit.xml",
            ],
            &[("API_KEY", SECRET), ("RUST_LOG", "trace")],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = format!(
        "{}{}{}",
        text(&out),
        std::fs::read_to_string(p.path("out/run.json")).unwrap(),
        std::fs::read_to_string(p.path("out/junit.xml")).unwrap()
    );
    for (i, line) in all.lines().enumerate() {
        assert!(
            !line.contains(SECRET),
            "the secret leaked at line {i}: {line}"
        );
        assert!(
            !line.contains(TOKEN),
            "the token captured with the secret leaked at line {i}: {line}"
        );
    }
    assert!(all.contains("***"), "masked values are shown as ***");
    // The target did get the real values.
    let received = server.received_requests().await.unwrap();
    assert_eq!(received[0].headers.get("x-api-key").unwrap(), SECRET);
    assert_eq!(
        received[1]
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {TOKEN}")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_together_select_every_scenario_once() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    for i in 0..10 {
        p.scenario(
            &format!("s{i:02}.yaml"),
            &format!(
                "name: scenario {i}\nsteps:\n  - request: {{ url: \"{{{{ base }}}}/{i}\" }}\n"
            ),
        );
    }
    let mut seen = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let out = p
            .run(&["list", "--env", "test", "--shard", &shard], &[])
            .await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect();
        assert!(!lines.is_empty(), "shard {shard} is empty");
        seen.extend(lines);
    }
    seen.sort();
    let all: Vec<String> = (0..10).map(|i| format!("scenarios/s{i:02}.yaml")).collect();
    assert_eq!(seen, all);
}

#[test]
fn validate_reports_every_problem_with_file_line_col() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    p.scenario(
        "a.yaml",
        "name: a\nsteps:\n  - request: { url: \"{{ bse }}/x\" }\n",
    );
    p.scenario("b.yaml", "name: b\nsteps:\n  - request: { url: \"{{ base }}/x\" }\n    expect: { json: { \"$.a[\": 1 } }\n");
    let out = p.cmd(&["validate", "--env", "test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let t = text(&out);
    assert!(t.contains("scenarios/a.yaml:3:21"), "{t}");
    assert!(t.contains("scenarios/b.yaml:4:23"), "{t}");
    assert!(t.contains("2 problems found"), "{t}");
}

/// A long file's parsed tree is kept in the cache folder, outside the suite; editing the
/// file (even to text of the same length) is seen at once, and a damaged entry is only a
/// parse more, never a wrong answer.
#[test]
fn a_long_flow_is_read_from_the_cache_until_it_changes() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    let cache = tempfile::tempdir().unwrap();
    let steps: String = (1000..1300)
        .map(|i| format!("  - name: ping {i}\n    request: {{ url: \"{{{{ base }}}}/x\" }}\n    expect: {{ status: 200 }}\n"))
        .collect();
    let good = format!("name: long\nsteps:\n{steps}");
    p.scenario("long.yaml", &good);
    let validate = || {
        p.cmd(&["validate", "--env", "test"])
            .env("REHEARSE_CACHE_DIR", cache.path())
            .output()
            .unwrap()
    };
    let entries = || -> Vec<PathBuf> {
        std::fs::read_dir(cache.path().join("trees-v1"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    };
    for _ in 0..2 {
        let out = validate();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(text(&out).contains("300 steps"), "{}", text(&out));
    }
    assert_eq!(entries().len(), 1, "one entry for the one long file");
    assert!(
        !p.path(".rehearse").exists(),
        "nothing written into the suite"
    );

    // The same length, one key misspelt: the edit is reported with its position.
    let bad = good.replacen("status: 200", "statux: 200", 1);
    assert_eq!(bad.len(), good.len());
    p.scenario("long.yaml", &bad);
    let out = validate();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("scenarios/long.yaml:5:"),
        "{}",
        text(&out)
    );

    // Back to the good text, its entry damaged: still valid, the entry written anew.
    p.scenario("long.yaml", &good);
    for entry in entries() {
        let mut bytes = std::fs::read(&entry).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&entry, bytes).unwrap();
    }
    let out = validate();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Off: nothing is written.
    let off = tempfile::tempdir().unwrap();
    let out = p
        .cmd(&["validate", "--env", "test"])
        .env("REHEARSE_CACHE_DIR", "off")
        .env("XDG_CACHE_HOME", off.path())
        .env("HOME", off.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_dir(off.path()).unwrap().count(), 0);
}

#[test]
fn help_documents_exit_codes() {
    let out = Command::new(BIN).arg("run").arg("--help").output().unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    for line in [
        "0    every scenario passed",
        "2    environment not ready",
        "130  interrupted",
    ] {
        assert!(t.contains(line), "{t}");
    }
    let _ = Path::new(BIN);
}

#[test]
fn advance_clock_on_a_real_clock_is_invalid_input_naming_the_step() {
    let p = Project::new(&env_for("http://127.0.0.1:9"));
    p.scenario(
        "clock.yaml",
        "name: clock\nsteps:\n  - name: wait for the batch\n    advance_clock: 4h\n",
    );
    let out = p.cmd(&["validate", "--env", "test"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(
            "step `wait for the batch` advances the clock, but environment `test` runs on real time"
        ),
        "{t}"
    );
    assert!(t.contains("scenarios/clock.yaml:4:20"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_that_passes_only_after_a_network_retry_is_flaky_not_passed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The first connection is dropped without an answer; later ones get a 200.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut n = 0;
        while let Ok((mut sock, _)) = listener.accept().await {
            n += 1;
            if n == 1 {
                drop(sock);
                continue;
            }
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                .await;
        }
    });
    let p = Project::new(&format!("vars:\n  base: http://{addr}\nretries: 1\n"));
    p.scenario(
        "flaky.yaml",
        "name: flaky\nsteps:\n  - name: call\n    request: { url: \"{{ base }}/x\" }\n    expect: { status: 200 }\n",
    );
    let out = p
        .run(
            &[
                "run",
                "--env",
                "test",
                "--report",
                "json=out/run.json",
                "--report",
                "junit=out/junit.xml",
            ],
            &[],
        )
        .await;
    server.abort();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a flaky pass still passes: {}",
        text(&out)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("out/run.json")).unwrap()).unwrap();
    assert_eq!(json["scenarios"][0]["steps"][0]["status"], "flaky");
    assert_eq!(json["scenarios"][0]["status"], "flaky");
    assert_eq!(
        json["scenarios"][0]["steps"][0]["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let junit = std::fs::read_to_string(p.path("out/junit.xml")).unwrap();
    assert!(junit.contains("flaky"), "{junit}");
    assert!(
        text(&out).contains("FLAKY") || text(&out).contains('~'),
        "{}",
        text(&out)
    );
}
