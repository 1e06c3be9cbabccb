//! Black-box tests of the response side, modelled on Hurl's semantics: cookies (a jar per
//! scenario, across redirects, deleted by `Max-Age=0`, matched by host and path),
//! decompression, repeated headers, body assertions on text and bytes, status matchers,
//! captures and templated JSONPath keys. Each test runs the real `rehearse` binary in a
//! temp project against a small axum target on loopback, and asserts on what a user
//! sees: exit code, console, JSON report, and what the target received.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use sha2::Digest as _;

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

/// The text every encoded route sends, CRLF and non-ASCII included.
const TEXT: &str = "héllo\r\nencoded world\r\n";

/// What the target saw: the `Cookie` header of every request, by path.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A PNG-looking body of 2,048 bytes (the signature, then bytes that are not UTF-8).
fn png() -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    b.extend((0..2040u32).map(|i| u8::try_from((i * 7 + 128) % 256).unwrap()));
    b
}

fn encode(coding: &str, data: &[u8]) -> Vec<u8> {
    match coding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            brotli::BrotliCompress(
                &mut &data[..],
                &mut out,
                &brotli::enc::BrotliEncoderParams::default(),
            )
            .unwrap();
            out
        }
        "zstd" => {
            ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
        }
        other => panic!("no encoder for {other}"),
    }
}

fn cookie_of(h: &HeaderMap) -> String {
    h.get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// `{cookie, x_seen}`: what this request carried.
async fn echo(State(seen): State<Seen>, uri: axum::http::Uri, h: HeaderMap) -> Response {
    let cookie = cookie_of(&h);
    seen.lock()
        .unwrap()
        .push((uri.path().to_owned(), cookie.clone()));
    let x_seen = h.get("x-seen").and_then(|v| v.to_str().ok()).unwrap_or("");
    axum::Json(serde_json::json!({ "cookie": cookie, "x_seen": x_seen })).into_response()
}

async fn target() -> (String, String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .route(
            "/login",
            get(|State(seen): State<Seen>, h: HeaderMap| async move {
                seen.lock()
                    .unwrap()
                    .push(("/login".to_owned(), cookie_of(&h)));
                (
                    StatusCode::FOUND,
                    [
                        (header::LOCATION, "/echo"),
                        (
                            header::SET_COOKIE,
                            "session=abc123; Path=/; HttpOnly; SameSite=Lax",
                        ),
                    ],
                )
            }),
        )
        .route(
            "/set",
            get(|| async {
                (
                    [(
                        header::SET_COOKIE,
                        "session=abc123; Path=/; Max-Age=3600; HttpOnly",
                    )],
                    "set",
                )
            }),
        )
        .route(
            "/logout",
            get(|| async { ([(header::SET_COOKIE, "session=; Path=/; Max-Age=0")], "bye") }),
        )
        .route(
            "/app/set",
            get(|| async { ([(header::SET_COOKIE, "scoped=1; Path=/app")], "ok") }),
        )
        .route(
            "/post-login",
            axum::routing::post(|h: HeaderMap| async move {
                let token_ok = h.get(header::AUTHORIZATION).is_some();
                (
                    StatusCode::SEE_OTHER,
                    [
                        (header::LOCATION, "/echo".to_owned()),
                        (
                            header::SET_COOKIE,
                            format!("session=tok-{token_ok}-7f3a9c; Path=/"),
                        ),
                    ],
                )
            }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route("/echo", get(echo))
        .route("/app/echo", get(echo))
        .route("/other/echo", get(echo))
        .route(
            "/enc/{coding}",
            get(|Path(coding): Path<String>, h: HeaderMap| async move {
                let accepted = h
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !accepted.split(',').any(|c| c.trim() == coding) {
                    return (
                        StatusCode::NOT_ACCEPTABLE,
                        format!("accept-encoding: {accepted}"),
                    )
                        .into_response();
                }
                let mut r = encode(&coding, TEXT.as_bytes()).into_response();
                r.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_str(&coding).unwrap(),
                );
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                r
            }),
        )
        .route(
            "/multi",
            get(|| async {
                let mut r = "three".into_response();
                for v in ["a", "b", "c"] {
                    r.headers_mut().append("x-tag", HeaderValue::from_static(v));
                }
                r.headers_mut()
                    .insert("x-request", HeaderValue::from_static("req id=42 ok"));
                r
            }),
        )
        .route("/crlf", get(|| async { "line1\r\nline2\r\n" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                "late"
            }),
        )
        .route(
            "/png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], png()) }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap() }),
        )
        .route(
            "/errors",
            get(|| async {
                axum::Json(serde_json::json!({"errors": [{"id": "e0"}, {"id": "e1"}]}))
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        seen,
    )
}

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(base: &str, other: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        std::fs::write(
            dir.path().join("environments/test.yaml"),
            format!("vars:\n  base: {base}\n  other: {other}\ntimeouts:\n  request: 5s\n"),
        )
        .unwrap();
        Self { dir }
    }

    fn scenario(&self, name: &str, yaml: &str) -> &Self {
        std::fs::write(self.dir.path().join("scenarios").join(name), yaml).unwrap();
        self
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    async fn run_with_report(&self) -> (Output, serde_json::Value) {
        let out = self
            .run(&["run", "--env", "test", "--report", "json=out/run.json"])
            .await;
        let report = std::fs::read_to_string(self.path("out/run.json")).unwrap_or_default();
        let json = serde_json::from_str(&report).unwrap_or(serde_json::Value::Null);
        (out, json)
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_jar_keeps_cookies_across_a_redirect_and_forgets_them_on_max_age_0() {
    let (base, other, seen) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "cookies.yaml",
        r#"
name: a session cookie lives and dies
steps:
  - name: login
    request: { url: "{{ base }}/login", follow_redirects: true }
    expect:
      status: 200
      json: { "$.cookie": "session=abc123" }
  - name: sent by the jar
    request: { url: "{{ base }}/echo" }
    expect: { json: { "$.cookie": "session=abc123" } }
  - name: one-shot cookie
    request: { url: "{{ base }}/echo", cookies: { one: shot } }
    expect: { json: { "$.cookie": "one=shot; session=abc123" } }
  - name: logout
    request: { url: "{{ base }}/logout" }
    expect:
      cookies:
        session: { value: "", max_age: 0, path: /, http_only: false }
  - name: nothing left
    request: { url: "{{ base }}/echo" }
    expect: { json: { "$.cookie": "" } }
  - name: path-scoped cookie
    request: { url: "{{ base }}/app/set" }
  - name: sent under its path
    request: { url: "{{ base }}/app/echo" }
    expect: { json: { "$.cookie": "scoped=1" } }
  - name: not sent elsewhere
    request: { url: "{{ base }}/other/echo" }
    expect: { json: { "$.cookie": "" } }
  - name: not sent to another host
    request: { url: "{{ other }}/app/echo" }
    expect: { json: { "$.cookie": "" } }
"#,
    );
    let (out, report) = p.run_with_report().await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let seen = seen.lock().unwrap().clone();
    // The 302 set the cookie; the next hop (/echo) carried it; the first hop did not.
    assert_eq!(seen[0], ("/login".to_owned(), String::new()));
    assert_eq!(seen[1], ("/echo".to_owned(), "session=abc123".to_owned()));
    // request.cookies went with one request and was not stored.
    assert!(
        seen.iter()
            .all(|(_, c)| !c.contains("one=shot") || c == "one=shot; session=abc123"),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|(_, c)| c.contains("one=shot")).count(),
        1
    );
    // The report records the Cookie header sent.
    let sent = &report["scenarios"][0]["steps"][1]["attempts"][0]["request"]["headers"];
    assert!(
        sent.to_string().contains("session=abc123"),
        "the request record shows its cookies: {sent}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_false_turns_the_jar_off_and_cookies_are_captured_with_attributes() {
    let (base, other, seen) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "no-jar.yaml",
        r#"
name: no jar
cookies: false
steps:
  - request: { url: "{{ base }}/login", follow_redirects: true }
    expect: { json: { "$.cookie": "" } }
  - request: { url: "{{ base }}/echo" }
    expect: { json: { "$.cookie": "" } }
"#,
    )
    .scenario(
        "capture.yaml",
        r#"
name: capture a cookie
steps:
  - request: { url: "{{ base }}/set" }
    expect:
      cookies:
        session: { value: { starts_with: abc }, http_only: true, max_age: { gte: 60 }, secure: false }
    capture:
      sid: { cookie: session }
      ttl: { cookie: session, attribute: max_age }
      digits: { cookie: session, regex: "([0-9]+)" }
  - request:
      url: "{{ base }}/echo"
      headers: { X-Seen: "{{ sid }}/{{ ttl }}/{{ digits }}" }
    expect: { json: { "$.x_seen": "abc123/3600/123" } }
"#,
    );
    let out = p.run(&["run", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .all(|(_, c)| c.is_empty() || c == "session=abc123"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn encoded_bodies_are_decoded_and_content_encoding_stays_visible() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    let mut steps = String::new();
    for coding in ["gzip", "br", "zstd", "deflate"] {
        steps.push_str(&format!(
            r#"
  - request: {{ url: "{{{{ base }}}}/enc/{coding}" }}
    expect:
      status: 200
      headers: {{ Content-Encoding: {coding} }}
      body: "héllo\r\nencoded world\r\n"
"#
        ));
    }
    p.scenario("enc.yaml", &format!("name: decoded bodies\nsteps:{steps}"));
    let out = p.run(&["run", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_header_sent_three_times_is_a_list() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "multi.yaml",
        r#"
name: repeated headers
steps:
  - request: { url: "{{ base }}/multi" }
    expect:
      headers:
        X-Tag: { len: 3, contains: b }
        "X-Tag[0]": a
        "X-Tag[-1]": c
        x-tag: b
        Content-Length: 5
    capture:
      tags: { header: X-Tag }
      request_id: { header: X-Request, regex: "id=(\\d+)" }
  - request:
      url: "{{ base }}/echo"
      headers: { X-Seen: "{{ tags | join(',') }} {{ request_id }}" }
    expect: { json: { "$.x_seen": "a,b,c 42" } }
  - name: fails
    request: { url: "{{ base }}/multi" }
    expect:
      headers:
        X-Tag: z
"#,
    );
    let (out, report) = p.run_with_report().await;
    let steps = &report["scenarios"][0]["steps"];
    assert_eq!(steps[0]["status"], "passed", "{steps}");
    assert_eq!(steps[1]["status"], "passed", "{steps}");
    let console = text(&out);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("header x-tag"), "{console}");
    assert!(console.contains(r#"["a","b","c"]"#), "{console}");
}

#[tokio::test(flavor = "multi_thread")]
async fn body_text_and_bytes_and_a_binary_excerpt() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    let body = png();
    let sha = hex::encode(sha2::Sha256::digest(&body));
    let b64 = base64::engine::general_purpose::STANDARD.encode(&body);
    let hx = hex::encode(&body);
    p.scenario(
        "body.yaml",
        &format!(
            r#"
name: body checks
steps:
  - name: body 1
    request: {{ url: "{{{{ base }}}}/crlf" }}
    expect:
      body: "line1\r\nline2\r\n"
  - name: body 2
    request: {{ url: "{{{{ base }}}}/crlf" }}
    expect:
      body: {{ starts_with: "line1\r\n", ends_with: "2\r\n", contains: "e2", len: 14, ne: "line1\nline2\n" }}
  - name: body 3
    request: {{ url: "{{{{ base }}}}/png" }}
    expect:
      headers: {{ Content-Type: image/png }}
      body: {{ sha256: "{sha}", bytes_len: 2048, base64: "{b64}", hex: "{hx}" }}
  - name: not this text
    request: {{ url: "{{{{ base }}}}/png" }}
    expect:
      body: {{ contains: "IEND" }}
"#
        ),
    );
    let (out, report) = p.run_with_report().await;
    let console = text(&out);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("<2,048 bytes image/png>"), "{console}");
    assert!(
        !console.contains('\u{fffd}'),
        "raw bytes in the console: {console}"
    );
    let steps = &report["scenarios"][0]["steps"];
    assert_eq!(steps[2]["status"], "passed", "{steps}");
    assert_eq!(steps[3]["status"], "failed", "{steps}");
    let recorded = &steps[3]["attempts"][0]["response"]["body"];
    assert_eq!(recorded, "<2,048 bytes image/png>");
    let whole = report.to_string();
    assert!(
        !whole.contains('\u{fffd}') && !whole.contains("\\ufffd"),
        "{whole}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_matchers_are_reported_in_plain_words() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "status.yaml",
        r#"
name: status
steps:
  - name: status 1
    request: { url: "{{ base }}/status/204" }
    expect: { status: { ne: 200, gte: 200, lt: 300 } }
  - name: status 2
    request: { url: "{{ base }}/status/201" }
    expect: { status: [200, 201] }
  - name: status 3
    request: { url: "{{ base }}/status/201" }
    expect: { status: { eq: 2xx, ne: 204 } }
  - name: status 4
    request: { url: "{{ base }}/status/404" }
    expect: { status: { gte: 200, lt: 300 } }
"#,
    );
    let (out, report) = p.run_with_report().await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap().clone();
    let statuses: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.last(), Some(&"failed"), "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| *s == "passed"),
        "{statuses:?}"
    );
    let console = text(&out);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(console.contains("at least 200 and below 300"), "{console}");
    assert!(console.contains("404"), "{console}");
}

#[tokio::test(flavor = "multi_thread")]
async fn templated_jsonpath_keys_are_rendered_then_parsed() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "keys.yaml",
        r#"
name: templated keys
vars:
  index: 1
steps:
  - name: keys 1
    request: { url: "{{ base }}/errors" }
    expect:
      json: { "$.errors[{{ index }}].id": e1 }
    capture:
      first: "$.errors[{{ index - 1 }}].id"
      field: { json: "$.errors[0].id", regex: "e(\\d)" }
  - name: keys 2
    request: { url: "{{ base }}/errors" }
    expect:
      json: { "$.errors[{{ field }}].id": e0, "$.errors[?@.id == '{{ first }}'].id": e0 }
  - name: renders to no path
    request: { url: "{{ base }}/errors" }
    capture: { bad: "$.errors[0].{{ first }}x y" }
    expect: { json: { "$.errors[{{ first }}].id": e0 } }
"#,
    );
    let (out, report) = p.run_with_report().await;
    let steps = report["scenarios"][0]["steps"].as_array().unwrap().clone();
    let statuses: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.last(), Some(&"failed"), "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| *s == "passed"),
        "{statuses:?}"
    );
    let console = text(&out);
    assert_eq!(out.status.code(), Some(1), "{console}");
    assert!(
        console.contains("renders to `$.errors[e0].id`, which is not a JSONPath"),
        "{console}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_work_is_rejected_at_validate() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "bad.yaml",
        r#"
name: bad captures
vars:
  index: "x y"
steps:
  - request: { url: "{{ base }}/errors" }
    expect:
      json: { "$.errors[{{ index }}].id": e1 }
      body: { sha256: nothex, gt: 3 }
      cookies: { session: { httponly: true } }
    capture:
      both: { json: $.id, header: Location }
      lonely: { header: Location, group: 1 }
      attr: { header: Location, attribute: path }
"#,
    );
    let out = p.run(&["validate", "--env", "test"]).await;
    let console = text(&out);
    assert_eq!(out.status.code(), Some(3), "{console}");
    for message in [
        "renders to invalid JSONPath `$.errors[x y].id`",
        "a capture takes its value from one place, not `json` and `header`",
        "`group` goes with `regex`",
        "`attribute` goes with `cookie`",
        "`sha256` takes the digest as 64 hex digits",
        "unknown body check `gt`",
        "unknown cookie attribute `httponly`",
    ] {
        assert!(
            console.contains(message),
            "missing {message:?} in {console}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_303_goes_on_as_get_and_a_cookie_set_for_a_secret_request_is_masked() {
    let (base, other, seen) = target().await;
    let p = Project::new(&base, &other);
    std::fs::write(
        p.path("environments/test.yaml"),
        format!("vars:\n  base: {base}\n  other: {other}\nsecrets: [API_TOKEN]\ntimeouts:\n  request: 5s\n"),
    )
    .unwrap();
    p.scenario(
        "redirects.yaml",
        r#"
name: redirects
steps:
  - name: log in with a secret
    request:
      method: POST
      url: "{{ base }}/post-login"
      headers: { Authorization: "Bearer {{ secret('API_TOKEN') }}" }
      json: { user: alice }
      follow_redirects: true
    expect:
      status: 200
      json: { "$.cookie": { starts_with: "session=tok-true" } }
  - name: the cookie goes on
    request: { url: "{{ base }}/echo" }
    expect: { json: { "$.cookie": "nothing like this" } }
"#,
    );
    let out = p
        .run_with(
            &["run", "--env", "test", "--report", "json=out/run.json"],
            &[("API_TOKEN", "sekret-token-value")],
        )
        .await;
    let console = text(&out);
    assert_eq!(out.status.code(), Some(1), "{console}");
    let report = std::fs::read_to_string(p.path("out/run.json")).unwrap();
    // The cookie set in answer to a request that carried a secret is a token.
    for output in [&console, &report] {
        assert!(
            !output.contains("7f3a9c"),
            "the session token leaked: {output}"
        );
    }
    assert!(console.contains("***"), "{console}");
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|(path, c)| path == "/echo" && c.ends_with("7f3a9c")),
        "the jar sent the cookie, as a GET after the 303: {seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_loop_stops_after_10_hops() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "loop.yaml",
        r#"
name: a loop
steps:
  - request: { url: "{{ base }}/loop", follow_redirects: true }
"#,
    );
    let out = p.run(&["run", "--env", "test"]).await;
    let console = text(&out);
    assert_ne!(out.status.code(), Some(0), "{console}");
    assert!(
        console.contains("more than 10 redirects (the last: 302 to /loop)"),
        "{console}"
    );
}

/// Regression: a `duration_lt` failure pointed at the step, not at the key that failed.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_response_fails_duration_lt_at_its_line() {
    let (base, other, _) = target().await;
    let p = Project::new(&base, &other);
    p.scenario(
        "slow.yaml",
        "name: slow\nsteps:\n  - name: fast enough\n    request: { url: \"{{ base }}/slow\" }\n    expect:\n      status: 200\n      duration_lt: 100ms\n",
    );
    let (out, report) = p.run_with_report().await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failure = &report["scenarios"][0]["steps"][0]["failure"];
    assert_eq!(failure["check"], "duration", "{failure}");
    assert_eq!(failure["expected"], "under 100ms", "{failure}");
    let location = failure["location"].as_str().unwrap_or_default();
    assert!(location.ends_with("slow.yaml:7:20"), "{failure}");
}
