//! The canary matrix (issue #10, secrets): secrets with spaces, quotes, `&`, `\`, `<>`,
//! `+`, `%` and non-ASCII letters travel in headers, paths, queries, JSON, form and
//! multipart bodies, Basic and bearer auth, polls and cleanup, to a target that echoes what
//! it received (as JSON, as `\u`-escaped JSON, as an HTML page); tokens come back from
//! logins that carried a secret in one place each. The real `rehearse` binary runs the
//! suite once at default verbosity and once at `-vvv` with `RUST_LOG=trace`, writing every
//! report; no output may hold any of the encodings of any canary listed in `encodings`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[path = "secrets_canary/encodings.rs"]
mod encodings;

use encodings::{ascii_json, encodings, html_escape};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// The suite's scenarios (the environment is written by the test: it holds the port).
const SCENARIOS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/secrets_canary/scenarios"
);

/// The secrets, by the environment variable that holds each.
const SECRETS: [(&str, &str); 4] = [
    ("S_QUOTE", "pa\"ss word&CANARY-q1"),
    ("S_SLASH", r"back\slash<tag>+plus%41CANARY-b2"),
    ("S_UNI", "pässwörd-ünï-CANARY-u3"),
    ("S_APOS", "it's=a/b;c,d:CANARY-a4"),
];

/// The tokens `/login/KIND` hands out; each login carries a secret in one place only.
const TOKENS: [(&str, &str); 5] = [
    ("form", "tokF+/=CANARYTOKEN-form-91"),
    ("json", "tokJ\"<&>CANARYTOKEN-json-92"),
    ("query", "tokQ ü CANARYTOKEN-query-93"),
    ("header", "tokH-CANARYTOKEN-header-94"),
    ("multipart", "tokM-CANARYTOKEN-multipart-95"),
];

/// Echoes what it received: `/echo/…` as JSON, `/ascii/…` as JSON with every non-ASCII
/// letter `\u`-escaped (as Python's `json.dumps` does), `/html/…` as an HTML page;
/// `/pad/…?n=N&s=S` answers N `x`s, then S, then more text (a secret across a cut);
/// `/login/KIND` a token. `?code=C` sets the status.
struct Echo;

impl Respond for Echo {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let path = r.url.path();
        let args: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        let arg = |name: &str| args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let code = arg("code").and_then(|c| c.parse().ok()).unwrap_or(200);
        if let Some(kind) = path.strip_prefix("/login/") {
            let token = TOKENS
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or("none", |t| t.1);
            return ResponseTemplate::new(200)
                .set_body_json(json!({ "token": token, "user": "alice" }));
        }
        if path.starts_with("/pad/") {
            let n = arg("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            let body = format!(
                "{}{}{}",
                "x".repeat(n),
                arg("s").unwrap_or_default(),
                " and more".repeat(400)
            );
            return ResponseTemplate::new(code).set_body_raw(body, "text/plain");
        }
        let headers: BTreeMap<String, String> = r
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = String::from_utf8_lossy(&r.body).into_owned();
        let is_form = headers
            .get("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
        let mut form_url = reqwest::Url::parse("http://form/").unwrap();
        form_url.set_query(is_form.then_some(body.as_str()));
        let form: Vec<(String, String)> = form_url.query_pairs().into_owned().collect();
        let echo = json!({
            "method": r.method.as_str(),
            "path": path,
            "query": r.url.query(),
            "args": args,
            "headers": headers,
            "body": body,
            "form": form,
            "json": serde_json::from_str::<Value>(&body).ok(),
        });
        if path.starts_with("/html/") {
            let page = format!(
                "<html><body><h1>echo</h1><pre>{}</pre></body></html>",
                html_escape(&serde_json::to_string_pretty(&echo).unwrap())
            );
            ResponseTemplate::new(code).set_body_raw(page, "text/html; charset=utf-8")
        } else if path.starts_with("/ascii/") {
            ResponseTemplate::new(code)
                .set_body_raw(ascii_json(&echo.to_string()), "application/json")
        } else {
            ResponseTemplate::new(code).set_body_json(echo)
        }
    }
}

/// What `rehearse` printed and wrote, by name.
struct Outputs {
    exit: Option<i32>,
    texts: Vec<(String, String)>,
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The suite: every place a secret can travel (`tests/secrets_canary/scenarios/`), failing
/// steps (whose last response every report shows) and passing ones (shown at `-vvv`).
fn suite(root: &Path, base: &str) {
    let names: Vec<&str> = SECRETS.iter().map(|s| s.0).collect();
    write(
        root,
        "environments/canary.yaml",
        &format!(
            r#"vars:
  base: {base}
secrets: [{}]
timeouts:
  request: 10s
checks:
  - name: the echo answers
    request:
      url: "{{{{ base }}}}/ascii/check"
      query: {{ k: "{{{{ secret('S_UNI') }}}}" }}
      headers: {{ X-Quote: "{{{{ secret('S_QUOTE') }}}}" }}
    expect: {{ status: 200 }}
"#,
            names.join(", ")
        ),
    );
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    for entry in std::fs::read_dir(SCENARIOS).unwrap() {
        let entry = entry.unwrap();
        let to = root.join("scenarios").join(entry.file_name());
        std::fs::copy(entry.path(), to).unwrap();
    }
}

async fn run(root: &Path, label: &str, verbose: bool) -> Outputs {
    let reports = [
        ("json", "run.json"),
        ("junit", "junit.xml"),
        ("html", "report.html"),
        ("markdown", "summary.md"),
    ];
    let mut c = Command::new(BIN);
    c.current_dir(root)
        .args(["run", "--env", "canary", "--jobs", "4"])
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG");
    if verbose {
        c.arg("-vvv").env("RUST_LOG", "trace");
    }
    for (kind, file) in reports {
        c.arg("--report").arg(format!("{kind}=out-{label}/{file}"));
    }
    for (name, value) in SECRETS {
        c.env(name, value);
    }
    let out: Output = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    let mut texts = vec![
        (
            format!("{label} stdout"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        (
            format!("{label} stderr"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
    ];
    for (_, file) in reports {
        let path = root.join(format!("out-{label}/{file}"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no {}: {e}", path.display()));
        texts.push((format!("{label} {file}"), text));
    }
    Outputs {
        exit: out.status.code(),
        texts,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_output_holds_any_encoding_of_any_secret_or_token() {
    // Arrange: the echo target and the suite.
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Echo)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    suite(dir.path(), &server.uri());

    // Act: once at default verbosity, once at -vvv with RUST_LOG=trace.
    let quiet = run(dir.path(), "default", false).await;
    let loud = run(dir.path(), "vvv", true).await;

    // Assert: the runs did what the matrix needs (the secrets reached the target, the
    // failing scenarios failed and show their last response, the tokens were used)…
    for o in [&quiet, &loud] {
        let all: String = o.texts.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(o.exit, Some(1), "{all}");
    }
    let received = server.received_requests().await.unwrap();
    let wire: String = received
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {}",
                r.url,
                r.headers,
                String::from_utf8_lossy(&r.body)
            )
        })
        .collect();
    assert!(
        wire.contains("pa%22ss+word%26CANARY-q1"),
        "the query carried S_QUOTE"
    );
    assert!(wire.contains(TOKENS[3].1), "the header token was used");
    for o in [&quiet, &loud] {
        let all: String = o.texts.iter().map(|(_, t)| t.as_str()).collect();
        assert!(all.contains("***"), "nothing was masked: {all}");
        let json = &o
            .texts
            .iter()
            .find(|(n, _)| n.ends_with("run.json"))
            .unwrap()
            .1;
        let result: Value = serde_json::from_str(json).unwrap();
        let statuses: BTreeMap<String, String> = result["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_owned(),
                    s["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(statuses.len(), 14, "{statuses:?}");
        assert_eq!(statuses["every place, passing"], "passed", "{statuses:?}");
        assert_eq!(
            statuses.values().filter(|s| *s == "passed").count(),
            1,
            "{statuses:?}"
        );
    }
    let logs = &loud.texts[1].1;
    assert!(
        logs.contains("TRACE") && logs.contains("DEBUG"),
        "RUST_LOG=trace wrote no logs: {logs}"
    );

    // … and no output holds any encoding of any canary.
    let canaries: Vec<(String, &str)> = SECRETS
        .iter()
        .map(|(n, v)| ((*n).to_owned(), *v))
        .chain(TOKENS.iter().map(|(k, v)| (format!("token {k}"), *v)))
        .collect();
    let mut leaks = Vec::new();
    for o in [&quiet, &loud] {
        for (output, text) in &o.texts {
            for (canary, value) in &canaries {
                for (encoding, form) in encodings(value) {
                    let n = text.matches(form.as_str()).count();
                    if n > 0 {
                        let at = text.find(form.as_str()).unwrap();
                        let around: String = text[..at]
                            .chars()
                            .rev()
                            .take(60)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .chain(text[at..].chars().take(form.chars().count() + 60))
                            .collect();
                        leaks.push(format!("{output}: {canary} {encoding} ×{n}: …{around}…"));
                    }
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
