//! Data goes out and is compared exactly as written (issue 9, part 1): YAML 1.1 words
//! (`no`, `on`, `y`, `n`) stay text as values and as keys, leading zeros and `1_000` stay
//! text, numbers of any size and decimals keep their digits — when sent, templated,
//! captured from a response and compared. The real binary runs against a wiremock target
//! on loopback that records what it received.

use std::process::{Command, Output};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_rehearse");

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(base: &str, extra_vars: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("environments")).unwrap();
        std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        std::fs::write(
            dir.path().join("environments/test.yaml"),
            format!("vars:\n  base: {base}\n{extra_vars}timeouts:\n  request: 5s\n"),
        )
        .unwrap();
        Self { dir }
    }

    fn scenario(&self, name: &str, yaml: &str) -> &Self {
        std::fs::write(self.dir.path().join("scenarios").join(name), yaml).unwrap();
        self
    }

    async fn rehearse(&self, args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1");
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

async fn echo_target() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    // Raw text, so that the digits are exactly these (no JSON library in between).
    Mock::given(method("GET"))
        .and(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"id": 10000000000000000365, "total": 1000000000000000000000, "price": 0.10, "zip": "012345"}"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

/// The body and query of the `POST` to `path`, as the server received them.
async fn received(server: &MockServer, to: &str) -> (String, String) {
    let requests = server.received_requests().await.unwrap_or_default();
    let r = requests
        .iter()
        .find(|r| r.url.path() == to)
        .unwrap_or_else(|| panic!("no request to {to}"));
    (
        String::from_utf8_lossy(&r.body).into_owned(),
        r.url.query().unwrap_or_default().to_owned(),
    )
}

const SENT: &str = r#"
name: values go out as written
vars:
  n: 3
  price: 1.50
steps:
  - request:
      method: POST
      url: "{{ base }}/sent/{{ n }}"
      query: { n: 3, y: "{{ n }}", on: yes, zip: 012345, big: 10000000000000000365 }
      json:
        n: 3
        y: n
        no: off
        zip: 012345
        thousand: 1_000
        hex: 0x1F
        half: .5
        plus: +1
        inf: .inf
        word: yes
        big: 10000000000000000365
        huge: 1000000000000000000000
        price: 0.10
        exp: 1e400
        quoted: "12"
        single: 'true'
        nothing: ~
        flag: true
        typed: "{{ big }}"
        text: "id-{{ big }}"
        decimal: "{{ price }}"
        decimal_text: "p-{{ price }}"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn yaml_words_leading_zeros_and_big_numbers_are_sent_as_written() {
    let server = echo_target().await;
    let p = Project::new(&server.uri(), "  big: 10000000000000000365\n");
    p.scenario("sent.yaml", SENT);
    let out = p.rehearse(&["run", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (body, query) = received(&server, "/sent/3").await;
    assert_eq!(
        body,
        concat!(
            r#"{"n":3,"y":"n","no":"off","zip":"012345","thousand":"1_000","hex":"0x1F","#,
            r#""half":".5","plus":"+1","inf":".inf","word":"yes","big":10000000000000000365,"#,
            r#""huge":1000000000000000000000,"price":0.10,"exp":1e+400,"quoted":"12","#,
            r#""single":"true","nothing":null,"flag":true,"typed":10000000000000000365,"#,
            r#""text":"id-10000000000000000365","decimal":1.50,"decimal_text":"p-1.50"}"#
        )
    );
    assert_eq!(query, "n=3&y=3&on=yes&zip=012345&big=10000000000000000365");
}

const COMPARED: &str = r#"
name: big numbers are captured and compared exactly
steps:
  - request: { url: "{{ base }}/big" }
    expect:
      json:
        "$.id": { eq: 10000000000000000365, ne: 10000000000000000000, gt: 10000000000000000364, lt: 10000000000000000366 }
        "$.total": { eq: 1000000000000000000000, ne: 1000000000000000000001, gte: 1e21, lte: 1000000000000000000000.0 }
        "$.price": { eq: 0.1, gt: 0.09999999999999999999, type: number }
        "$.zip": "012345"
    capture: { id: $.id, total: $.total, price: $.price }
  - request:
      method: POST
      url: "{{ base }}/captured"
      json: { id: "{{ id }}", total: "{{ total }}", price: "{{ price }}", ref: "r-{{ id }}" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn big_numbers_are_captured_compared_and_sent_back_exactly() {
    let server = echo_target().await;
    let p = Project::new(&server.uri(), "");
    p.scenario("compared.yaml", COMPARED);
    let out = p.rehearse(&["run", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (body, _) = received(&server, "/captured").await;
    assert_eq!(
        body,
        r#"{"id":10000000000000000365,"total":1000000000000000000000,"price":0.10,"ref":"r-10000000000000000365"}"#
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_big_number_that_differs_only_past_f64_precision_fails_the_check() {
    let server = echo_target().await;
    let p = Project::new(&server.uri(), "");
    p.scenario(
        "near.yaml",
        "name: near is not equal\nsteps:\n  - request: { url: \"{{ base }}/big\" }\n    expect:\n      json: { \"$.id\": 10000000000000000000 }\n",
    );
    let out = p.rehearse(&["run", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("10000000000000000365"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn yaml_1_1_booleans_where_ours_want_true_or_false_are_invalid_input() {
    let p = Project::new("http://127.0.0.1:9", "");
    p.scenario(
        "flags.yaml",
        "name: flags\nexclusive: no\nsteps:\n  - request: { url: \"{{ base }}/x\", follow_redirects: yes }\n",
    );
    let out = p.rehearse(&["validate", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("scenarios/flags.yaml:2:12"), "{t}");
    assert!(t.contains("expected true or false, got `no`"), "{t}");
    assert!(t.contains("scenarios/flags.yaml:4:55"), "{t}");
    assert!(t.contains("expected true or false, got `yes`"), "{t}");
    assert!(t.contains("write true or false"), "{t}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_with_four_type_errors_reports_four_in_plain_words() {
    let p = Project::new("http://127.0.0.1:9", "");
    p.scenario(
        "four.yaml",
        r#"name: four mistakes
exclusive: maybe
steps:
  - request: { url: "{{ base }}/x", retries: many, timeout: soon }
    expect: { status: 200, headers: [a] }
"#,
    );
    let out = p.rehearse(&["validate", "--env", "test"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    for want in [
        "expected true or false, got `maybe`",
        "expected a whole number, got `many`",
        "expected a duration such as `500ms`, `30s` or `1h 30m`, got `soon`",
        "expected a mapping (`key: value` lines), got a list",
        "4 problems found",
    ] {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
    assert!(!t.contains("u32"), "{t}");
}
