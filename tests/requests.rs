//! Black-box tests of the request side (docs/FORMAT.md, Requests): the real `rehearse`
//! binary runs a scenario against a wiremock target on loopback, and each test checks
//! what the target received and what the user sees.

use std::process::{Command, Output};

use sha2::Digest as _;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(base: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["environments", "scenarios", "fixtures"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(
            dir.path().join("environments/test.yaml"),
            format!(
                "vars:\n  base: {base}\nsecrets: [API_TOKEN, API_PASSWORD]\ntimeouts:\n  request: 5s\n"
            ),
        )
        .unwrap();
        Self { dir }
    }

    fn file(&self, rel: &str, bytes: &[u8]) -> &Self {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        self
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            // Every declared secret must be set; a test that uses one sets its own value.
            .env("API_TOKEN", "unused-token-value")
            .env("API_PASSWORD", "unused-password-value")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            c.env(k, v);
        }
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    async fn run_scenario(&self, yaml: &str, env: &[(&str, &str)]) -> Output {
        self.file("scenarios/s.yaml", yaml.as_bytes());
        self.run(&["run", "-v", "--env", "test"], env).await
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn any_method_token_is_sent_standard_ones_upper_cased() {
    let server = ok_server().await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: methods
steps:
  - request: { method: PURGE, url: "{{ base }}/cache" }
  - request: { method: PROPFIND, url: "{{ base }}/dav" }
  - request: { method: get, url: "{{ base }}/lower" }
  - request: { method: LINK, url: "{{ base }}/link" }
  - request: { method: TRACE, url: "{{ base }}/trace" }
"#,
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let got: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        got,
        [
            "PURGE /cache",
            "PROPFIND /dav",
            "GET /lower",
            "LINK /link",
            "TRACE /trace"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_list_is_sent_once_per_item_in_order_and_values_as_written() {
    let server = ok_server().await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: query
steps:
  - request:
      url: "{{ base }}/search?fixed=1"
      query: { tag: [b, a, "c d"], count: 12, big: 10000000000000000365, flag: true }
"#,
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        r.url.query(),
        Some("fixed=1&tag=b&tag=a&tag=c+d&count=12&big=10000000000000000365&flag=true")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_header_list_is_sent_as_several_lines_and_header_names_may_be_templated() {
    let server = ok_server().await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: headers
vars: { tenant_header: X-Tenant-Id }
steps:
  - request:
      url: "{{ base }}/h"
      headers:
        X-Tag: [one, two, three]
        "{{ tenant_header }}": acme
"#,
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = &server.received_requests().await.unwrap()[0];
    let tags: Vec<&str> = r
        .headers
        .get_all("x-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(tags, ["one", "two", "three"]);
    assert_eq!(r.headers.get("x-tenant-id").unwrap(), "acme");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_templated_header_name_with_an_unknown_variable_is_invalid_input() {
    let p = Project::new("http://127.0.0.1:9");
    p.file(
        "scenarios/s.yaml",
        b"name: h\nsteps:\n  - request:\n      url: \"{{ base }}/h\"\n      headers: { \"{{ hedaer }}\": x }\n",
    );
    let out = p.run(&["validate", "--env", "test"], &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("variable `hedaer` is not defined"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("s.yaml:5:"), "{}", text(&out));
}

const PASSWORD: &str = "pw-canary-71c2e";
const TOKEN: &str = "tok-canary-4b9d0";
const ISSUED: &str = "issued-canary-e83f1";

#[tokio::test(flavor = "multi_thread")]
async fn basic_auth_reaches_the_server_and_neither_the_secret_nor_its_base64_appears_anywhere() {
    let server = MockServer::start().await;
    let basic = format!("Basic {}", base64_of(&format!("alice:{PASSWORD}")));
    Mock::given(method("GET"))
        .and(path(format!("/basic-auth/alice/{PASSWORD}")))
        .and(header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"authenticated": true, "user": "alice", "token": ISSUED}),
        ))
        .mount(&server)
        .await;
    // Echoes what it got, so a leak through the response would show too.
    Mock::given(method("GET"))
        .and(path("/echo"))
        .respond_with(|r: &Request| {
            ResponseTemplate::new(500).set_body_string(format!(
                "got authorization {:?}",
                r.headers.get("authorization")
            ))
        })
        .mount(&server)
        .await;
    let p = Project::new(&server.uri());
    p.file(
        "scenarios/s.yaml",
        br#"
name: basic auth
steps:
  - name: login
    request:
      url: "{{ base }}/basic-auth/alice/{{ secret('API_PASSWORD') }}"
      auth: { basic: { user: alice, password: "{{ secret('API_PASSWORD') }}" } }
    expect: { status: 200, json: { "$.authenticated": true } }
    capture: { user: $.user, issued: $.token }
  - name: echo fails and shows the echoed header
    request:
      url: "{{ base }}/echo"
      auth: { basic: { user: "{{ user }}", password: "{{ secret('API_PASSWORD') }}" } }
    expect: { status: 200 }
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
                "--report",
                "html=out/report.html",
                "--report",
                "markdown=out/summary.md",
            ],
            &[("API_PASSWORD", PASSWORD), ("RUST_LOG", "trace")],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2, "the server saw both requests");
    assert_eq!(
        received[0].headers.get("authorization").unwrap(),
        basic.as_str()
    );
    let b64 = base64_of(&format!("alice:{PASSWORD}"));
    let all = [
        text(&out),
        p.read("out/run.json"),
        p.read("out/junit.xml"),
        p.read("out/report.html"),
        p.read("out/summary.md"),
    ];
    for (i, doc) in all.iter().enumerate() {
        for leak in [PASSWORD, b64.as_str(), &base64_of(PASSWORD), ISSUED] {
            assert!(!doc.contains(leak), "output {i} shows `{leak}`:\n{doc}");
        }
    }
    // The user name is not a token: the response only echoed the request's path.
    let json = p.read("out/run.json");
    assert_eq!(captured(&json, "user").as_deref(), Some("alice"), "{json}");
    assert_eq!(captured(&json, "issued").as_deref(), Some("***"), "{json}");
}

/// What the JSON report shows for a captured variable.
fn captured(report: &str, var: &str) -> Option<String> {
    fn walk(v: &serde_json::Value, var: &str) -> Option<String> {
        match v {
            serde_json::Value::Array(items) => {
                if let [serde_json::Value::String(k), serde_json::Value::String(val)] =
                    items.as_slice()
                    && k == var
                {
                    return Some(val.clone());
                }
                items.iter().find_map(|i| walk(i, var))
            }
            serde_json::Value::Object(m) => m.values().find_map(|i| walk(i, var)),
            _ => None,
        }
    }
    walk(&serde_json::from_str(report).unwrap(), var)
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_echoed_from_a_secret_request_is_not_masked_while_a_real_token_is() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/accounts/acct-2041/login"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"account": "acct-2041", "region": "eu-west", "session": ISSUED}),
        ))
        .mount(&server)
        .await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: echo is not a token
steps:
  - name: login
    request:
      method: POST
      url: "{{ base }}/accounts/acct-2041/login"
      query: { region: eu-west }
      auth: { bearer: "{{ secret('API_TOKEN') }}" }
    expect: { status: 200 }
    capture: { account: $.account, region: $.region, session: $.session }
"#,
            &[("API_TOKEN", TOKEN)],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = p
        .run(
            &[
                "run",
                "-vvv",
                "--env",
                "test",
                "--report",
                "json=out/run.json",
            ],
            &[("API_TOKEN", TOKEN)],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json = p.read("out/run.json");
    assert_eq!(
        captured(&json, "account").as_deref(),
        Some("acct-2041"),
        "an echoed path segment: {json}"
    );
    assert_eq!(
        captured(&json, "region").as_deref(),
        Some("eu-west"),
        "an echoed query value: {json}"
    );
    assert_eq!(
        captured(&json, "session").as_deref(),
        Some("***"),
        "a token: {json}"
    );
    let t = format!("{}{json}", text(&out));
    assert!(!t.contains(ISSUED), "the session token is masked: {t}");
    assert!(!t.contains(TOKEN), "the bearer secret is masked: {t}");
}

/// Parses a multipart body and answers with what it found, the way a server checks an
/// upload: each file's sha256, filename and content type, and each text field.
struct Upload;

impl Respond for Upload {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(boundary) = ct.strip_prefix("multipart/form-data; boundary=") else {
            return ResponseTemplate::new(415).set_body_string(format!("content-type {ct}"));
        };
        let delim = format!("--{boundary}");
        let body = &r.body;
        let mut fields = serde_json::Map::new();
        let mut files = serde_json::Map::new();
        let mut rest: &[u8] = body;
        while let Some(start) = find(rest, delim.as_bytes()) {
            rest = &rest[start + delim.len()..];
            if rest.starts_with(b"--") {
                break;
            }
            let rest2 = &rest[2..];
            let Some(head_end) = find(rest2, b"\r\n\r\n") else {
                break;
            };
            let head = String::from_utf8_lossy(&rest2[..head_end]).into_owned();
            let content = &rest2[head_end + 4..];
            let end = find(content, format!("\r\n{delim}").as_bytes()).unwrap_or(content.len());
            let bytes = &content[..end];
            let attr = |k: &str| {
                head.split(&format!("{k}=\""))
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .map(str::to_owned)
            };
            let name = attr("name").unwrap_or_default();
            if let Some(filename) = attr("filename") {
                let ctype = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Type: "))
                    .unwrap_or_default();
                files.insert(
                    name,
                    serde_json::json!({
                        "filename": filename,
                        "content_type": ctype,
                        "sha256": hex::encode(sha2::Sha256::digest(bytes)),
                        "len": bytes.len(),
                    }),
                );
            } else {
                fields.insert(name, String::from_utf8_lossy(bytes).into());
            }
            rest = &content[end..];
        }
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"fields": fields, "files": files}))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_sends_text_fields_and_a_binary_file_byte_for_byte() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/upload"))
        .respond_with(Upload)
        .mount(&server)
        .await;
    // Every byte value, CRLFs and a fake boundary inside: binary-safe or not.
    let mut logo: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    logo.extend_from_slice(b"\r\n--rehearse-\r\n\r\n");
    let sha = hex::encode(sha2::Sha256::digest(&logo));
    let p = Project::new(&server.uri());
    p.file("fixtures/images/logo.png", &logo);
    p.file("fixtures/notes.txt", b"plain notes\n");
    p.file(
        "scenarios/s.yaml",
        format!(
            r#"
name: upload
vars: {{ who: alice }}
steps:
  - name: upload
    request:
      method: POST
      url: "{{{{ base }}}}/upload"
      multipart:
        title: "report by {{{{ who }}}}"
        logo: {{ file: images/logo.png }}
        notes: {{ file: notes.txt, filename: n.txt, content_type: text/markdown }}
    expect:
      status: 200
      json:
        "$.fields.title": report by alice
        "$.files.logo.sha256": {sha}
        "$.files.logo.filename": logo.png
        "$.files.logo.content_type": image/png
        "$.files.notes.filename": n.txt
        "$.files.notes.content_type": text/markdown
"#
        )
        .as_bytes(),
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
            ],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json = p.read("out/run.json");
    assert!(
        json.contains("<70,") && json.contains("bytes multipart/form-data"),
        "the recorded body is a summary: {json}"
    );
    assert!(!json.contains("\\u0000"), "no raw bytes in the report");
    for shown in [json.as_str(), text(&out).as_str()] {
        assert!(
            !shown.contains("Content-Disposition"),
            "the raw multipart body is never shown: {shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_multipart_file_is_invalid_input_before_any_request() {
    let server = ok_server().await;
    let p = Project::new(&server.uri());
    p.file(
        "scenarios/s.yaml",
        b"name: m\nsteps:\n  - request:\n      method: POST\n      url: \"{{ base }}/u\"\n      multipart: { doc: { file: nope.pdf } }\n",
    );
    let out = p.run(&["run", "--env", "test"], &[]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("unknown fixture file `nope.pdf`"),
        "{}",
        text(&out)
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_transform_values_before_they_are_sent() {
    let server = ok_server().await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: filters
vars: { user: "alice smith/ops", payload: '{"id": 42, "tags": ["a"]}' }
steps:
  - request:
      method: POST
      url: "{{ base }}/people/{{ user | urlencode }}"
      headers:
        X-B64: "{{ 'alice:pw' | b64encode }}"
        X-Plain: "{{ 'YWxpY2U6cHc=' | b64decode }}"
        X-Sha: "{{ 'abc' | sha256 }}"
        X-Hex: "{{ 'hi' | hex }}"
        X-Id: "{{ (payload | fromjson).id }}"
      body: "{{ {'name': user, 'n': 1} | tojson }}"
"#,
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(r.url.path(), "/people/alice%20smith%2Fops");
    let h = |n: &str| r.headers.get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(h("x-b64"), "YWxpY2U6cHc=");
    assert_eq!(h("x-plain"), "alice:pw");
    assert_eq!(
        h("x-sha"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(h("x-hex"), "6869");
    assert_eq!(h("x-id"), "42");
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"name":"alice smith/ops","n":1}"#
    );
}

#[test]
fn an_unknown_filter_is_invalid_input_at_validate_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["environments", "scenarios"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    std::fs::write(
        dir.path().join("environments/test.yaml"),
        "vars: { base: 'http://127.0.0.1:9' }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scenarios/s.yaml"),
        "name: f\nsteps:\n  - request:\n      url: \"{{ base }}/x?k={{ 'v' | b64encdoe }}\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["validate", "--env", "test"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("unknown filter `b64encdoe`"), "{t}");
    assert!(t.contains("did you mean `b64encode`?"), "{t}");
    assert!(
        t.contains("s.yaml:4:12"),
        "the span points at the template: {t}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_renders_its_request_again_for_every_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/jobs"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"state": "running"})),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jobs"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"state": "done"})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let p = Project::new(&server.uri());
    let out = p
        .run_scenario(
            r#"
name: poll
steps:
  - name: poll until done
    request:
      method: POST
      url: "{{ base }}/jobs"
      headers: { X-Request-Id: "{{ uuid() }}" }
      json: { nonce: "{{ uuid() }}" }
    poll: { every: 50ms, timeout: 10s }
    expect: { json: { "$.state": done } }
"#,
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3, "two running, then done");
    let nonces: std::collections::HashSet<String> = received
        .iter()
        .map(|r| {
            let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            j["nonce"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(nonces.len(), 3, "a fresh uuid() per attempt: {nonces:?}");
    let ids: std::collections::HashSet<&str> = received
        .iter()
        .map(|r| r.headers.get("x-request-id").unwrap().to_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "headers are rendered again too");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_body_is_sent_byte_for_byte_and_recorded_as_a_summary() {
    let server = ok_server().await;
    let blob: Vec<u8> = (0..=255u8).rev().cycle().take(5000).collect();
    let p = Project::new(&server.uri());
    p.file("fixtures/blob.bin", &blob);
    p.file(
        "scenarios/s.yaml",
        b"name: f\nsteps:\n  - request:\n      method: PUT\n      url: \"{{ base }}/blob\"\n      headers: { Content-Type: application/octet-stream }\n      body: { file: blob.bin }\n",
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
            ],
            &[],
        )
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(r.body, blob);
    assert!(
        p.read("out/run.json")
            .contains("<5,000 bytes application/octet-stream>"),
        "{}",
        p.read("out/run.json")
    );
}
