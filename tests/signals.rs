//! Every step is bounded, by time and by the user: Ctrl-C during pre-flight stops at once,
//! SIGHUP is a Ctrl-C, a second Ctrl-C cuts cleanup short but the reports are still
//! written, and a runaway template loop ends by its fuel. Each test runs the real
//! `rehearse` as a child process and signals it with `kill`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// Bounds that prove "did not wait for the full timeout" (15s or more), generous for a
/// slow machine. Not speed checks.
const PROMPTLY: Duration = Duration::from_secs(10);

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(env_yaml: &str, scenario_yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        std::fs::write(dir.path().join("environments/test.yaml"), env_yaml).unwrap();
        std::fs::write(dir.path().join("scenarios/s.yaml"), scenario_yaml).unwrap();
        Self { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `rehearse run --env test --report json=out/run.json`, started.
    fn spawn(&self) -> Child {
        Command::new(BIN)
            .args(["run", "--env", "test", "--report", "json=out/run.json"])
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn report(&self) -> serde_json::Value {
        let path = self.path("out/run.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

async fn wait_for(child: Child) -> Output {
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Waits (up to 30s) until `reached` says so.
async fn until(what: &str, mut reached: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reached().await {
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP port that accepts connections and never answers; counts the connections.
fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for socket in listener.incoming().flatten() {
            held.push(socket);
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, accepted)
}

/// How many requests of `verb` the server has received.
async fn received(server: &MockServer, verb: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == verb)
        .count()
}

/// A target whose `GET /slow` answers after a minute and whose `DELETE /thing` answers
/// after `delete_delay`.
async fn slow_target(delete_delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/thing"))
        .respond_with(ResponseTemplate::new(204).set_delay(delete_delay))
        .mount(&server)
        .await;
    server
}

const SLOW_SCENARIO: &str = r#"
name: slow
steps:
  - name: ask
    request: { url: "{{ base }}/slow" }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/thing" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_preflight_stops_at_once_with_130_and_writes_reports() {
    // Regression: pre-flight ignored Ctrl-C until its checks ended (here after the 15s
    // request timeout), then exited 2.
    let (hole, accepted) = black_hole();
    let env = format!(
        "vars:\n  base: \"{hole}\"\ntimeouts:\n  request: 15s\nchecks:\n  - name: the platform answers\n    request: {{ url: \"{{{{ base }}}}/readyz\" }}\n"
    );
    let p = Project::new(&env, SLOW_SCENARIO);
    let child = p.spawn();
    until("the pre-flight connection", async || {
        accepted.load(Ordering::SeqCst) > 0
    })
    .await;

    signal(&child, "INT");
    let signalled = Instant::now();
    let out = wait_for(child).await;

    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(signalled.elapsed() < PROMPTLY, "{:?}", signalled.elapsed());
    assert!(
        text(&out).contains("pre-flight: 1 check, 0 failed, 1 stopped by Ctrl-C"),
        "{}",
        text(&out)
    );
    let report = p.report();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["preflight"][0]["status"], "interrupted");
    assert_eq!(
        report["preflight"][0]["evidence"],
        "stopped by Ctrl-C before it ended"
    );
    assert_eq!(report["scenarios"][0]["status"], "interrupted");
    assert_eq!(report["scenarios"][0]["steps"][0]["status"], "skipped");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_is_a_ctrl_c_cleanup_runs_and_reports_are_written() {
    // Regression: SIGHUP (a closed terminal or SSH session) killed rehearse on the spot:
    // no cleanup, no report.
    let server = slow_target(Duration::ZERO).await;
    let env = format!(
        "vars:\n  base: \"{}\"\ntimeouts:\n  request: 30s\n",
        server.uri()
    );
    let p = Project::new(&env, SLOW_SCENARIO);
    let child = p.spawn();
    until("the step's request", async || {
        received(&server, "GET").await > 0
    })
    .await;

    signal(&child, "HUP");
    let out = wait_for(child).await;

    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(
        text(&out).contains("interrupted (SIGHUP)"),
        "{}",
        text(&out)
    );
    assert_eq!(received(&server, "DELETE").await, 1, "cleanup ran");
    let report = p.report();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["scenarios"][0]["steps"][0]["status"], "interrupted");
    assert_eq!(report["scenarios"][0]["cleanup"][0]["status"], "passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_ctrl_c_cuts_cleanup_short_and_still_writes_reports() {
    // Regression: the second Ctrl-C exited 130 on the spot, without writing any report.
    let server = slow_target(Duration::from_secs(60)).await;
    let env = format!(
        "vars:\n  base: \"{}\"\ntimeouts:\n  request: 30s\n",
        server.uri()
    );
    let p = Project::new(&env, SLOW_SCENARIO);
    let child = p.spawn();
    until("the step's request", async || {
        received(&server, "GET").await > 0
    })
    .await;
    signal(&child, "INT");
    until("the cleanup's request", async || {
        received(&server, "DELETE").await > 0
    })
    .await;

    signal(&child, "INT");
    let signalled = Instant::now();
    let out = wait_for(child).await;

    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(signalled.elapsed() < PROMPTLY, "{:?}", signalled.elapsed());
    assert!(
        text(&out).contains("cutting cleanup short and writing reports"),
        "{}",
        text(&out)
    );
    let report = p.report();
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["scenarios"][0]["status"], "interrupted");
    assert_eq!(
        report["scenarios"][0]["cleanup"][0]["status"],
        "interrupted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runaway_template_loop_fails_its_step_by_its_fuel() {
    // Regression: nine nested loops (10^9 turns) rendered for minutes, past the request's
    // timeout and the first Ctrl-C.
    let server = slow_target(Duration::ZERO).await;
    let env = format!("vars:\n  base: \"{}\"\n", server.uri());
    let loops = format!(
        "{}{}",
        "{% for a in 'xxxxxxxxxx' %}".repeat(9),
        "{% endfor %}".repeat(9)
    );
    let scenario = format!(
        "name: template loop\nsteps:\n  - name: s\n    request: {{ method: POST, url: \"{{{{ base }}}}/thing\", timeout: 1s, body: \"{loops}\" }}\n"
    );
    let p = Project::new(&env, &scenario);
    let started = Instant::now();

    let out = wait_for(p.spawn()).await;

    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("used more than 10,000,000 steps (a loop too large?)"),
        "{}",
        text(&out)
    );
    assert_eq!(received(&server, "POST").await, 0, "nothing was sent");
    // Generous: minutes without the fuel, a second or two with it.
    assert!(started.elapsed() < Duration::from_secs(60));
    let report = p.report();
    assert_eq!(report["scenarios"][0]["steps"][0]["status"], "error");
    assert_eq!(
        report["scenarios"][0]["steps"][0]["failure"]["expected"],
        "the template to render"
    );
}
