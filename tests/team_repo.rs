//! Working in a team's own repository: the suite's root is found from any folder in it,
//! `--var` overrides, `preflight` without scenario files, `list` without an environment,
//! and `up --write-env` for a second terminal.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::{BIN, Proc, repo};

/// A suite in a temp folder: environments/, scenarios/ (with a fragment), fixtures/.
struct Suite {
    dir: tempfile::TempDir,
}

impl Suite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["environments", "scenarios/orders/_parts", "fixtures"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        Self { dir }
    }

    fn file(&self, rel: &str, text: &str) -> &Self {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    async fn run(&self, cwd: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path().join(cwd))
            .env("NO_COLOR", "1")
            .env_remove("REHEARSE_ENV")
            .env_remove("RUST_LOG");
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

const ORDER: &str = r#"
name: order is created
owner: orders-team
tags: [orders]
vars:
  item: from-scenario
steps:
  - include: { file: _parts/create.yaml }
"#;

const CREATE: &str = r#"
steps:
  - name: create the order
    request:
      method: POST
      url: "{{ base }}/orders/{{ item }}"
      json: { customer: "{{ fixture('customer.json') }}" }
    expect: { status: 201 }
"#;

async fn orders_target(item: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/orders/{item}")))
        .and(body_json(
            serde_json::json!({"customer": {"id": "c-1", "name": "Ada"}}),
        ))
        .respond_with(ResponseTemplate::new(201))
        .mount(&server)
        .await;
    server
}

fn order_suite(base: &str) -> Suite {
    let s = Suite::new();
    s.file(
        "environments/test.yaml",
        &format!("vars:\n  base: {base}\ntimeouts:\n  request: 2s\n"),
    )
    .file("scenarios/orders/order.yaml", ORDER)
    .file("scenarios/orders/_parts/create.yaml", CREATE)
    .file("fixtures/customer.json", r#"{"id": "c-1", "name": "Ada"}"#);
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn run_from_a_subfolder_finds_environments_fixtures_and_includes_at_the_suite_root() {
    let server = orders_target("from-scenario").await;
    let s = order_suite(&server.uri());
    let out = s
        .run("scenarios/orders", &["run", "--env", "test"], &[])
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("1 passed"), "{t}");
    // Paths are shown as seen from where rehearse was started.
    assert!(t.contains("../../scenarios/orders/order.yaml"), "{t}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // A given scenario path also finds its suite, and --root names it outright.
    let out = s
        .run(
            "fixtures",
            &[
                "validate",
                "--env",
                "test",
                "../scenarios/orders/order.yaml",
            ],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let elsewhere = tempfile::tempdir().unwrap();
    let root = s.path("").display().to_string();
    let mut c = Command::new(BIN);
    c.args(["validate", "--env", "test", "--root", &root])
        .current_dir(elsewhere.path())
        .env_remove("REHEARSE_ENV");
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn outside_any_suite_the_error_names_the_folder_it_looked_in() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["run", "--env", "staging"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("REHEARSE_ENV")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("unknown environment `staging`"), "{t}");
    assert!(t.contains("--root DIR"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn var_flag_wins_over_environment_and_scenario_vars() {
    let server = orders_target("from-flag").await;
    // The environment's base points nowhere; --var fixes it, and the scenario's `item`.
    let s = order_suite("http://127.0.0.1:9");
    let base = format!("base={}", server.uri());
    let out = s
        .run(
            "",
            &[
                "run",
                "--env",
                "test",
                "--var",
                &base,
                "--var",
                "item=from-flag",
            ],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].url.path(), "/orders/from-flag");

    // A variable only the flag defines is known to validation.
    s.file(
        "scenarios/ping.yaml",
        "name: ping\nsteps:\n  - request: { url: \"{{ base }}/{{ only_flag }}\" }\n",
    );
    let out = s.run("", &["validate", "--env", "test"], &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let out = s
        .run(
            "",
            &["validate", "--env", "test", "--var", "only_flag=x"],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn malformed_var_is_invalid_input() {
    for bad in ["novalue", "1x=2", "a-b=c"] {
        let out = Command::new(BIN)
            .args(["validate", "--var", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{bad}: {}", text(&out));
        assert!(text(&out).contains("--var"), "{bad}: {}", text(&out));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_runs_the_environments_checks_without_any_scenario_file() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/readyz"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments")).unwrap();
    let env = format!(
        "vars:\n  base: {}\nsecrets: [API_TOKEN]\nchecks:\n  - name: service is ready\n    owner: ops\n    request: {{ url: \"{{{{ base }}}}/readyz\" }}\n    expect: {{ status: 200 }}\n  - name: shop is down\n    owner: shop-team\n    request: {{ url: \"{{{{ base }}}}/shop\" }}\n    expect: {{ status: 200 }}\n",
        server.uri()
    );
    std::fs::write(dir.path().join("environments/staging.yaml"), env).unwrap();
    let out = Command::new(BIN)
        .args(["preflight", "--env", "staging"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("API_TOKEN", "t-0123456789")
        .env_remove("REHEARSE_ENV")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "one check fails: {t}");
    assert!(t.contains("pre-flight: 3 checks, 1 failed"), "{t}");
    assert!(t.contains("owner: shop-team"), "{t}");
    assert!(!t.contains("no scenario files"), "{t}");
    // A passing secret check names the secret once.
    let line = t
        .lines()
        .find(|l| l.contains("API_TOKEN"))
        .unwrap_or_else(|| panic!("{t}"));
    assert_eq!(line.trim(), "✓ secret `API_TOKEN` is set", "{t}");
    assert!(!t.contains("t-0123456789"), "{t}");
}

#[test]
fn list_needs_no_environment() {
    let s = Suite::new();
    // `base` is defined by no environment here: validate would refuse, list does not.
    s.file("scenarios/orders/order.yaml", ORDER)
        .file("scenarios/orders/_parts/create.yaml", CREATE)
        .file(
            "scenarios/other.yaml",
            "name: other\ntags: [misc]\nsteps:\n  - request: { url: \"{{ nowhere }}/x\" }\n",
        );
    let out = Command::new(BIN)
        .args(["list", "--tag", "orders"])
        .current_dir(s.path("scenarios"))
        .env_remove("REHEARSE_ENV")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.trim(),
        "../scenarios/orders/order.yaml  order is created  [orders]"
    );
}

/// A port N with N..N+4 free just now.
fn five_free_ports() -> u16 {
    for _ in 0..50 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let n = first.local_addr().unwrap().port();
        if n > 65_000 {
            continue;
        }
        let rest: Vec<_> = (1..5)
            .filter_map(|i| std::net::TcpListener::bind(("127.0.0.1", n + i)).ok())
            .collect();
        if rest.len() == 4 {
            return n;
        }
    }
    panic!("no five consecutive free ports");
}

#[test]
fn up_write_env_serves_a_run_from_another_process_on_fixed_ports() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("up.yaml");
    let n = five_free_ports();
    let mut up = Command::new(BIN);
    up.args([
        "up",
        "--port",
        &n.to_string(),
        "--write-env",
        env_file.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = up.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let _up = Proc(child);
    std::thread::spawn(move || for _ in BufReader::new(stdout).lines() {});
    let deadline = Instant::now() + Duration::from_secs(30);
    while !env_file.is_file() {
        assert!(Instant::now() < deadline, "up wrote no environment file");
        std::thread::sleep(Duration::from_millis(50));
    }
    let written = std::fs::read_to_string(&env_file).unwrap();
    for line in [
        format!("  bank: \"http://127.0.0.1:{n}\""),
        format!("  platform_v1: \"http://127.0.0.1:{}\"", n + 1),
        format!("  platform: \"http://127.0.0.1:{}\"", n + 2),
        format!("  platform_v3: \"http://127.0.0.1:{}\"", n + 3),
        format!("  platform_v4: \"http://127.0.0.1:{}\"", n + 4),
        "clock: virtual".to_owned(),
    ] {
        assert!(written.contains(&line), "no {line:?} in\n{written}");
    }
    // A flow with an approval and hours of bank time, from another process.
    let out = Command::new(BIN)
        .args([
            "run",
            "--env",
            env_file.to_str().unwrap(),
            "scenarios/payments/large-payment-approved.yaml",
            "scenarios/payments/small-payment.yaml",
        ])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("REHEARSE_ENV")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("2 passed"), "{}", text(&out));
    let _ = Path::new(BIN);
}
