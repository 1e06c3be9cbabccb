//! `rehearse contract import`: an OpenAPI document and a mapping file become a version
//! folder that `--versions` accepts and the mock serves; what cannot be mapped is listed,
//! and a missing required mapping is invalid input with nothing written.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, bank_with, repo};
use rehearse_contract::VersionFolder;
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/contract_import").join(name)
}

fn import(openapi: &Path, version: &str, mapping: Option<&Path>, out: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["contract", "import"])
        .arg(openapi)
        .args(["--as", version, "--out"])
        .arg(out);
    if let Some(m) = mapping {
        cmd.arg("--mapping").arg(m);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates a payment from the folder's example and reads it back, over HTTP.
async fn create_and_get(
    base: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
) -> (Value, Value) {
    let client = reqwest::Client::new();
    let mut post = client
        .post(format!("{base}{path}"))
        .bearer_auth("test-api-key")
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(key) = idempotency_key {
        post = post.header("Idempotency-Key", key);
    }
    let created = post.send().await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no id in {created}"));
    let got = client
        .get(format!("{base}{path}/{id}"))
        .bearer_auth("test-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    (created, got.json().await.unwrap())
}

fn assert_valid(folder: &Path, schema: &str, body: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join(schema)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{body:#} breaks its schema: {errors:?}");
}

#[tokio::test]
async fn an_openapi_31_document_becomes_a_folder_the_mock_serves() {
    // Arrange
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bank-api/v7");

    // Act
    let result = import(
        &fixture("tiny-3.1.yaml"),
        "v7",
        Some(&fixture("tiny-3.1.mapping.yaml")),
        &out,
    );

    // Assert: the import says what it did and what it did not map.
    let (stdout, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("imported bank API v7 from "), "{stdout}");
    for note in [
        "note: not mapped: `GET /v7/accounts` (listAccounts): not one of the mock's operations",
        "note: not mapped: webhook `transferSettled` (POST)",
        "note: not mapped: `GET /v7/transfers/{id}` (getTransfer) response `default`",
        "note: not mapped: status `reversed` of the document has no canonical status",
        "note: left out: `payment` template: optional `/channel` has no placeholder",
        "note: schema: `discriminator` dropped from schemas/transfer.json",
        "note: inferred: `auth: api_key`, from the security scheme `bearerAuth` (http bearer)",
        "note: inferred: `id_prefix: tx_`, from the payment id's pattern",
        "note: inferred: `payment_request.amount.format: minor_units`",
    ] {
        assert!(stderr.contains(note), "no {note:?} in\n{stderr}");
    }
    let notes = std::fs::read_to_string(out.join("IMPORT-NOTES.md")).unwrap();
    assert!(notes.contains("webhook `transferSettled`"), "{notes}");
    let folder = VersionFolder::read(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(folder.manifest.id_prefix, "tx_");
    assert_eq!(folder.manifest.statuses["settled"], "done");
    assert_eq!(
        serde_json::from_str::<Value>(folder.file("templates/error.json").unwrap()).unwrap(),
        json!({"error": {"code": "{{code}}", "message": "{{message}}"}})
    );

    // And the mock serves it.
    let dir = tmp.path().join("bank-api");
    let (_bank, base) = bank_with(&["--api", "v7", "--versions", dir.to_str().unwrap()]);
    let example = std::fs::read_to_string(out.join("examples/create-payment.json")).unwrap();
    let (created, got) = create_and_get(&base, "/v7/transfers", &example, None).await;
    assert_eq!(created["state"], "ok", "{created:#}");
    assert_eq!(created["amount_minor"], 1999);
    assert_eq!(created["to"]["name"], "ACME Supplies Ltd");
    assert_eq!(created["memo"], "INV-7");
    assert_eq!(got["id"], created["id"]);
    assert!(created["id"].as_str().unwrap().starts_with("tx_"));
    assert_valid(&out, "schemas/transfer.json", &got);
}

#[tokio::test]
async fn an_openapi_30_json_document_is_read_too() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("v8");

    // The mapping is found beside the document (tiny-3.0.mapping.yaml).
    let result = import(&fixture("tiny-3.0.json"), "v8", None, &out);

    let (stdout, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.contains("note: inferred: `idempotency: required`"),
        "{stderr}"
    );
    assert!(stderr.contains("boolean `exclusiveMinimum`"), "{stderr}");
    assert!(stderr.contains("`example` dropped"), "{stderr}");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("schemas/payment.json")).unwrap())
            .unwrap();
    assert_eq!(
        schema["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    VersionFolder::read(&out).unwrap_or_else(|e| panic!("{e}"));

    let (_bank, base) = bank_with(&["--api", "v8", "--versions", out.to_str().unwrap()]);
    let client = reqwest::Client::new();
    let example = std::fs::read_to_string(out.join("examples/create-payment.json")).unwrap();
    let without_key = client
        .post(format!("{base}/v8/payments"))
        .bearer_auth("test-api-key")
        .header("content-type", "application/json")
        .body(example.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(without_key.status(), 400);
    let (created, got) = create_and_get(&base, "/v8/payments", &example, Some("k-8")).await;
    assert_eq!(created["status"], "ACCEPTED", "{created:#}");
    assert_eq!(created["amount"], "12.50");
    assert_eq!(created["note"], Value::Null);
    assert!(created["id"].as_str().unwrap().starts_with("op_"));
    assert_valid(&out, "schemas/payment.json", &got);
}

#[test]
fn a_missing_required_mapping_is_invalid_input_listing_each_piece() {
    let tmp = tempfile::tempdir().unwrap();
    let mapping = tmp.path().join("partial.yaml");
    let full = std::fs::read_to_string(fixture("tiny-3.1.mapping.yaml")).unwrap();
    std::fs::write(
        &mapping,
        full.replace("  settled: done\n", "")
            .replace("  reference: /memo\n", "")
            .replace("    /created: created_at\n", ""),
    )
    .unwrap();
    let out = tmp.path().join("v7");

    let result = import(&fixture("tiny-3.1.yaml"), "v7", Some(&mapping), &out);

    let (stdout, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(3), "{stdout}{stderr}");
    for line in [
        "error: contract import: 4 required pieces of the version cannot be mapped:",
        "  - `payment_request.reference` is not mapped",
        // No reference mapped, so nothing the mock knows fills the payment's memo either.
        "  - `payment` template: `/memo` is required by the response schema",
        "  - `payment` template: `/created` is required by the response schema but nothing the mock knows goes there",
        "  - `statuses.settled` is not mapped",
    ] {
        assert!(stderr.contains(line), "no {line:?} in\n{stderr}");
    }
    assert!(!out.exists(), "nothing is written");

    // No mapping at all (none beside the document either): every piece is listed, with a
    // hint.
    let alone = tmp.path().join("tiny.yaml");
    std::fs::copy(fixture("tiny-3.1.yaml"), &alone).unwrap();
    let result = import(&alone, "v7", None, &out);
    let (_, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("`operations.create_payment` is not mapped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: give a mapping file with --mapping"),
        "{stderr}"
    );
}

#[test]
fn a_folder_that_is_not_empty_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("v7");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let mapping = fixture("tiny-3.1.mapping.yaml");

    let refused = import(&fixture("tiny-3.1.yaml"), "v7", Some(&mapping), &out);
    let (_, stderr) = text(&refused);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is not empty: give --force"), "{stderr}");
    assert!(!out.join("manifest.json").exists());

    let forced = Command::new(BIN)
        .args(["contract", "import"])
        .arg(fixture("tiny-3.1.yaml"))
        .args(["--as", "v7", "--force", "--mapping"])
        .arg(&mapping)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(forced.status.code(), Some(0), "{:?}", text(&forced));
    assert!(out.join("manifest.json").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_document_that_is_not_openapi_is_invalid_input() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = tmp.path().join("swagger.yaml");
    std::fs::write(&doc, "swagger: '2.0'\ninfo: {title: t, version: '1'}\n").unwrap();

    let result = import(&doc, "v7", None, &tmp.path().join("v7"));

    let (_, stderr) = text(&result);
    assert_eq!(result.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: contract import: read the OpenAPI document: no `openapi` field"),
        "{stderr}"
    );
}

/// The built-in v4 (made by import) answers with bodies its own imported schemas accept.
#[tokio::test]
async fn the_built_in_v4_answers_what_its_schemas_describe() {
    let (_bank, base) = bank_with(&["--api", "v4"]);
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{base}/v4/oauth/token"))
        .basic_auth("rehearse-client", Some("rehearse-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v4 = repo().join("fixtures/bank-api/v4");
    assert_valid(&v4, "schemas/token.json", &token);
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let example = std::fs::read_to_string(v4.join("examples/create-payment.json")).unwrap();
    let created = client
        .post(format!("{base}/v4/payments"))
        .bearer_auth(&bearer)
        .header("Idempotency-Key", "k-v4")
        .header("content-type", "application/json")
        .body(example)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["status"], "PDNG",
        "25000.00 waits for review: {created:#}"
    );
    assert_eq!(created["instructed_amount"]["amount"], "25000.00");
    assert_valid(&v4, "schemas/payment.json", &created);
    let id = created["payment_id"].as_str().unwrap();
    let got: Value = get_json(&client, format!("{base}/v4/payments/{id}"), &bearer).await;
    assert_valid(&v4, "schemas/payment.json", &got);
    let page: Value = get_json(&client, format!("{base}/v4/payments?limit=5"), &bearer).await;
    assert_valid(&v4, "schemas/payment-page.json", &page);
    let problem = client
        .post(format!("{base}/v4/payments"))
        .bearer_auth(&bearer)
        .header("Idempotency-Key", "k-v4-bad")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(problem.status(), 422);
    assert_eq!(
        problem.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = problem.json().await.unwrap();
    assert_valid(&v4, "schemas/problem.json", &problem);
}

/// `GET url` with the bearer token, as JSON.
async fn get_json(client: &reqwest::Client, url: String, bearer: &str) -> Value {
    client
        .get(url)
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
