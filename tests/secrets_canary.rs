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

use base64::Engine as _;
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

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

/// The suite: every place a secret can travel, failing steps (whose last response every
/// report shows) and passing ones (shown at `-vvv`).
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
    let scenarios: [(&str, &str); 14] = [
        (
            "headers",
            r#"
name: secrets in headers are echoed back
steps:
  - name: headers
    request:
      url: "{{ base }}/echo/headers"
      headers:
        X-Quote: "{{ secret('S_QUOTE') }}"
        X-Slash: "{{ secret('S_SLASH') }}"
        X-Apos: "{{ secret('S_APOS') }}"
        X-Basic: "Basic {{ ('alice:' ~ secret('S_QUOTE')) | b64encode }}"
        X-B64: "{{ secret('S_UNI') | b64encode }}"
        X-Hex: "{{ secret('S_SLASH') | hex }}"
    expect:
      json: { "$.headers['x-quote']": nope }
"#,
        ),
        (
            "header-non-ascii",
            r#"
name: a non-ASCII secret in a header
steps:
  - request:
      url: "{{ base }}/echo/uni"
      headers: { X-Uni: "{{ secret('S_UNI') }}" }
    expect: { status: 201 }
"#,
        ),
        (
            "path-query",
            r#"
name: secrets in the path and the query
steps:
  - name: path and query
    request:
      url: "{{ base }}/echo/p/{{ secret('S_QUOTE') }}/{{ secret('S_SLASH') }}/{{ secret('S_UNI') }}/{{ secret('S_APOS') | urlencode }}?inline={{ secret('S_UNI') }}&raw={{ secret('S_APOS') }}"
      query:
        q1: "{{ secret('S_QUOTE') }}"
        q2: "{{ secret('S_SLASH') }}"
        q3: "{{ secret('S_UNI') }}"
        q4: "{{ secret('S_APOS') }}"
    expect: { status: 201 }
"#,
        ),
        (
            "json",
            r#"
name: secrets in a JSON body
steps:
  - request:
      method: POST
      url: "{{ base }}/echo/json?code=500"
      json:
        password: "{{ secret('S_QUOTE') }}"
        list: ["{{ secret('S_SLASH') }}", "{{ secret('S_UNI') }}"]
        nested: { apos: "{{ secret('S_APOS') }}" }
    expect: { status: 200 }
"#,
        ),
        (
            "json-ascii",
            r#"
name: secrets in a JSON body, echoed with \u escapes
steps:
  - request:
      method: POST
      url: "{{ base }}/ascii/json"
      json: { p: "{{ secret('S_UNI') }}", q: "{{ secret('S_QUOTE') }}", s: "{{ secret('S_SLASH') }}" }
    expect:
      json: { "$.json.p": nope }
"#,
        ),
        (
            "form-html",
            r#"
name: secrets in a form, echoed in an HTML page
steps:
  - request:
      method: POST
      url: "{{ base }}/html/form"
      form:
        client_secret: "{{ secret('S_QUOTE') }}"
        b: "{{ secret('S_SLASH') }}"
        u: "{{ secret('S_UNI') }}"
        a: "{{ secret('S_APOS') }}"
    expect:
      body_contains: [nope]
"#,
        ),
        (
            "multipart",
            r#"
name: secrets in a multipart body
steps:
  - request:
      method: POST
      url: "{{ base }}/echo/multipart"
      multipart:
        a: "{{ secret('S_QUOTE') }}"
        b: "{{ secret('S_SLASH') }}"
        u: "{{ secret('S_UNI') }}"
    expect: { status: 201 }
"#,
        ),
        (
            "auth",
            r#"
name: Basic and bearer auth
steps:
  - name: basic
    request:
      url: "{{ base }}/echo/basic"
      auth: { basic: { user: alice, password: "{{ secret('S_QUOTE') }}" } }
    expect: { status: 200 }
  - name: bearer
    request:
      url: "{{ base }}/ascii/bearer"
      auth: { bearer: "{{ secret('S_SLASH') }}" }
    expect:
      json: { "$.headers.authorization": nope }
"#,
        ),
        (
            "tokens",
            r#"
name: tokens from logins that carried a secret in a form, a JSON body, a query, a header, multipart
steps:
  - name: login form
    request:
      method: POST
      url: "{{ base }}/login/form"
      form: { client_secret: "{{ secret('S_APOS') }}" }
    capture: { tf: $.token }
  - name: login json
    request:
      method: POST
      url: "{{ base }}/login/json"
      json: { secret: "{{ secret('S_UNI') }}" }
    capture: { tj: $.token }
  - name: login query
    request:
      url: "{{ base }}/login/query"
      query: { key: "{{ secret('S_QUOTE') }}" }
    capture: { tq: $.token }
  - name: login header
    request:
      url: "{{ base }}/login/header"
      headers: { X-Api-Key: "{{ secret('S_SLASH') }}" }
    capture: { th: $.token }
  - name: login multipart
    request:
      method: POST
      url: "{{ base }}/login/multipart"
      multipart: { s: "{{ secret('S_QUOTE') }}" }
    capture: { tm: $.token }
  - name: use them
    request:
      method: POST
      url: "{{ base }}/echo/use/{{ tm }}"
      headers: { Authorization: "Bearer {{ th }}" }
      query: { t: "{{ tq }}" }
      json: { f: "{{ tf }}", j: "{{ tj }}", m: "{{ tm }}" }
    expect:
      json: { "$.json.f": nope }
  - name: never reached
    request: { url: "{{ base }}/echo/never" }
cleanup:
  - name: use them in an HTML page
    request:
      method: POST
      url: "{{ base }}/html/cleanup?q={{ tq | urlencode }}"
      form: { f: "{{ tf }}", j: "{{ tj }}", m: "{{ tm }}", h: "{{ th }}" }
    expect: { status: 204 }
"#,
        ),
        (
            "poll-cleanup",
            r#"
name: a poll and a cleanup that carry secrets
steps:
  - name: poll
    request:
      url: "{{ base }}/echo/poll"
      headers: { X-Key: "{{ secret('S_QUOTE') }}" }
      query: { u: "{{ secret('S_UNI') }}" }
    poll: { every: 20ms, timeout: 100ms }
    expect:
      json: { "$.headers['x-key']": nope }
cleanup:
  - name: clean up
    request:
      method: DELETE
      url: "{{ base }}/ascii/cleanup?k={{ secret('S_SLASH') | urlencode }}"
      json: { s: "{{ secret('S_APOS') }}", u: "{{ secret('S_UNI') }}" }
    expect: { status: 204 }
"#,
        ),
        (
            "cut-short",
            r#"
name: a secret across the cut of a failure message
steps:
  - request:
      url: "{{ base }}/pad/short?code=500&n=190"
      query: { s: "{{ secret('S_QUOTE') }}" }
    expect: { status: 200 }
"#,
        ),
        (
            "cut-long",
            r#"
name: a secret across the cut of a body excerpt
steps:
  - request:
      url: "{{ base }}/pad/long?n=2040"
      query: { s: "{{ secret('S_UNI') }}" }
    expect:
      body_contains: [nope]
"#,
        ),
        (
            "unreachable",
            r#"
name: a secret in the URL of a request that gets no answer
steps:
  - request:
      url: "http://127.0.0.1:1/down"
      query: { k: "{{ secret('S_QUOTE') }}" }
      retries: 0
    expect: { status: 200 }
"#,
        ),
        (
            "passing",
            r#"
name: every place, passing
steps:
  - name: headers, path, query
    request:
      url: "{{ base }}/echo/pass/{{ secret('S_QUOTE') }}"
      headers: { X-Slash: "{{ secret('S_SLASH') }}" }
      query: { u: "{{ secret('S_UNI') }}" }
    expect: { status: 200 }
  - name: json
    request:
      method: POST
      url: "{{ base }}/ascii/pass"
      json: { q: "{{ secret('S_QUOTE') }}", u: "{{ secret('S_UNI') }}", a: "{{ secret('S_APOS') }}" }
    expect: { status: 200 }
  - name: form
    request:
      method: POST
      url: "{{ base }}/html/pass"
      form: { q: "{{ secret('S_QUOTE') }}", s: "{{ secret('S_SLASH') }}" }
    expect: { status: 200 }
"#,
        ),
    ];
    for (name, yaml) in scenarios {
        write(root, &format!("scenarios/{name}.yaml"), yaml);
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

/// The encodings of a value that output must not hold, by name.
fn encodings(value: &str) -> Vec<(&'static str, String)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64_url = base64::engine::general_purpose::URL_SAFE;
    let json1 = json_escape(value);
    let mut path_url = reqwest::Url::parse("http://h/").unwrap();
    path_url.set_path(value);
    let mut query_url = reqwest::Url::parse("http://h/").unwrap();
    query_url.set_query(Some(value));
    let all = vec![
        ("raw", value.to_owned()),
        ("first 8 characters", value.chars().take(8).collect()),
        ("JSON-escaped", json1.clone()),
        ("JSON-escaped twice", json_escape(&json1)),
        ("\\u-escaped", ascii_json(&json1)),
        ("\\u-escaped twice", json_escape(&ascii_json(&json1))),
        ("JSON-escaped, first 8", json1.chars().take(8).collect()),
        ("HTML-escaped", html_escape(value)),
        ("HTML-escaped JSON", html_escape(&json1)),
        ("percent-encoded", percent(value, false, true)),
        ("percent-encoded lower", percent(value, false, false)),
        ("form-encoded", percent(value, true, true)),
        ("form-encoded lower", percent(value, true, false)),
        (
            "in a URL path",
            path_url.path().trim_start_matches('/').to_owned(),
        ),
        ("in a URL query", query_url.query().unwrap_or("").to_owned()),
        ("base64", b64.encode(value)),
        (
            "base64 unpadded",
            b64.encode(value).trim_end_matches('=').to_owned(),
        ),
        ("base64 URL-safe", b64_url.encode(value)),
        ("base64 of alice:", b64.encode(format!("alice:{value}"))),
        ("hex", hex::encode(value)),
        ("hex upper", hex::encode_upper(value)),
    ];
    let mut seen = Vec::new();
    all.into_iter()
        .filter(|(_, f)| {
            let fresh = !f.is_empty() && !seen.contains(f);
            seen.push(f.clone());
            fresh
        })
        .collect()
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1].to_owned()
}

/// JSON text with every non-ASCII letter as `\uXXXX` (surrogate pairs past U+FFFF).
fn ascii_json(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// RFC 3986 percent-encoding (unreserved bytes kept); `form`: space as `+`.
fn percent(s: &str, form: bool, upper: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char);
            }
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}
