//! A team's own bank API versions, read at run time: `rehearse mock-bank --versions DIR`,
//! `rehearse up --versions DIR` and the suite's `bank-api/` on the built-in `local`.

mod common;

use std::fs;
use std::process::Command;

use common::{BIN, bank_with, version_copy};
use rehearse_contract::ApiVersion;

#[tokio::test]
async fn mock_bank_serves_a_version_folder_beside_the_built_in_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let v5 = version_copy(ApiVersion::V2, 5, tmp.path(), |m| m);
    let dir = tmp.path().to_str().unwrap();
    let (_bank, base) = bank_with(&["--versions", dir]);
    let client = reqwest::Client::new();
    let admin: serde_json::Value = client
        .get(format!("{base}/__admin"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        admin["versions"],
        serde_json::json!(["v1", "v2", "v3", "v4", "v5"])
    );
    let body = fs::read_to_string(v5.join("examples/create-payment-small.json")).unwrap();
    let created = client
        .post(format!("{base}/v5/payments"))
        .bearer_auth("test-api-key")
        .header("Idempotency-Key", "k-1")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("pay_"), "{created}");
    // Read back on v5, and on the built-in v2 beside it (one bank, one set of payments).
    for version in ["v5", "v2"] {
        let got = client
            .get(format!("{base}/{version}/payments/{id}"))
            .bearer_auth("test-api-key")
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{version}");
    }
}

#[test]
fn the_banner_says_where_each_version_comes_from() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let v5 = version_copy(ApiVersion::V2, 5, tmp.path(), |m| m);
    let mut cmd = Command::new(BIN);
    cmd.args(["mock-bank", "--port", "0", "--api", "v2,v5", "--versions"])
        .arg(tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = common::Proc(cmd.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.trim_start().starts_with("APIs:"))
        .unwrap();
    assert!(line.contains("v2 at http://127.0.0.1:"), "{line}");
    assert!(
        line.ends_with(&format!("/v5 (from {})", v5.display())),
        "{line}"
    );
    assert!(!line.contains("v3"), "{line}");
}

#[test]
fn a_malformed_folder_is_invalid_input_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let v5 = version_copy(ApiVersion::V2, 5, tmp.path(), |m| {
        m.replace("\"get_payment\"", "\"fetch_payment\"")
    });
    let out = Command::new(BIN)
        .args(["mock-bank", "--port", "0", "--versions"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let manifest = v5.join("manifest.json");
    assert!(
        stderr.contains(&format!(
            "error: bank API versions: {}: `routes[1].operation`: unknown variant `fetch_payment`",
            manifest.display()
        )),
        "{stderr}"
    );

    let out = Command::new(BIN)
        .args(["mock-bank", "--port", "0", "--api", "v7"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("no bank API v7: available versions are v1, v2, v3, v4"),
        "{stderr}"
    );
}

/// The suite keeps its bank's v5 in `bank-api/`; the built-in `local` serves it.
#[test]
fn the_local_stack_serves_the_suites_bank_api_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("scenarios")).unwrap();
    version_copy(ApiVersion::V2, 5, &root.join("bank-api"), |m| m);
    fs::write(
        root.join("scenarios/v4.yaml"),
        r#"name: a payment on the team's v5
steps:
  - name: create
    request:
      method: POST
      url: "{{ bank }}/v5/payments"
      headers: { Authorization: "Bearer test-api-key", Idempotency-Key: "{{ uuid() }}" }
      json:
        amount: "12.00"
        currency: EUR
        creditor: { name: A, iban: DE89370400440532013000 }
        debtor: { name: B, iban: GB33BUKB20201555555555 }
        reference: INV-V5
    expect: { status: 201, json: { "$.status": accepted } }
"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "--color", "never"])
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A broken folder there is invalid input before anything runs.
    let manifest = root.join("bank-api/v5/manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        text.replace("\"idempotency\"", "\"idempotence\""),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["run", "--color", "never"])
        .current_dir(root)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("unknown field `idempotence`"), "{all}");
    assert!(all.contains("bank-api/v5/manifest.json"), "{all}");
}
