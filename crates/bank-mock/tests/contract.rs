//! Contract tests: every response of every route validates against its version's fixture
//! schema, and the main responses are snapshotted (fixed seed and clock: byte-stable). The
//! snapshots are the bank's contract history: a change to a version shows up as a diff.

mod common;

use common::*;
use rehearse_bank_mock::{RunningBank, fixture};
use serde_json::{Value, json};

/// Checks responses against `fixtures/bank-api/{version}/manifest.json`.
struct Contract {
    version: &'static str,
    manifest: Value,
    checked: std::cell::RefCell<Vec<String>>,
}

impl Contract {
    fn new(version: &'static str) -> Result<Self, Box<dyn std::error::Error>> {
        let text = fixture(&format!("{version}/manifest.json")).ok_or("no manifest")?;
        Ok(Self {
            version,
            manifest: serde_json::from_str(text)?,
            checked: Default::default(),
        })
    }

    /// Assert `body` (answered with `status` on `method route`) matches the declared schema.
    fn check(&self, method: &str, route: &str, status: u16, body: &Value) -> TestResult {
        let routes = self.manifest["routes"].as_array().ok_or("no routes")?;
        let spec = routes
            .iter()
            .find(|r| r["method"] == method && r["path"] == route)
            .ok_or_else(|| format!("{} has no route {method} {route}", self.version))?;
        let file = spec["responses"][status.to_string()]
            .as_str()
            .ok_or_else(|| {
                format!(
                    "{} {method} {route} declares no {status} response",
                    self.version
                )
            })?;
        let schema: Value = serde_json::from_str(
            fixture(&format!("{}/{file}", self.version)).ok_or("missing schema")?,
        )?;
        let validator = jsonschema::validator_for(&schema)?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} {method} {route} {status} breaks {file}:\n{}\n{body:#}",
            self.version,
            errors.join("\n")
        );
        self.checked
            .borrow_mut()
            .push(format!("{method} {route} {status}"));
        Ok(())
    }

    /// Every route × status declared in the manifest was checked.
    fn assert_all_checked(&self) -> TestResult {
        let checked = self.checked.borrow();
        for route in self.manifest["routes"].as_array().ok_or("no routes")? {
            for status in route["responses"].as_object().ok_or("no responses")?.keys() {
                let key = format!(
                    "{} {} {status}",
                    route["method"].as_str().unwrap_or(""),
                    route["path"].as_str().unwrap_or("")
                );
                assert!(
                    checked.contains(&key),
                    "{}: no test exercised {key}",
                    self.version
                );
            }
        }
        Ok(())
    }
}

async fn send(
    request: reqwest::RequestBuilder,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

async fn approve(bank: &RunningBank, client: &reqwest::Client, id: &Value) -> TestResult {
    let id = id.as_str().ok_or("no id")?;
    let (status, _) = admin_post(
        bank,
        client,
        &format!("/reviews/{id}/decision"),
        &json!({"decision": "approve"}),
    )
    .await?;
    assert_eq!(status, 200);
    admin_post(bank, client, "/clock/advance", &json!({"by": "1h"})).await?;
    Ok(())
}

#[tokio::test]
async fn v1_contract() -> TestResult {
    let c = Contract::new("v1")?;
    let (bank, client) = bank().await?;
    let base = bank.base_url();
    let post = || client.post(format!("{base}/v1/payments"));

    let (s, large) = send(
        post()
            .bearer_auth(API_KEY)
            .json(&example("v1/examples/create-payment.json")?),
    )
    .await?;
    c.check("POST", "/v1/payments", s, &large)?;
    let (s, small) = send(
        post()
            .bearer_auth(API_KEY)
            .json(&example("v1/examples/create-payment-small.json")?),
    )
    .await?;
    c.check("POST", "/v1/payments", s, &small)?;
    let (s, e) = send(post().body("nope")).await?;
    c.check("POST", "/v1/payments", s, &e)?;
    let (s, e) = send(post().bearer_auth(API_KEY).body("nope")).await?;
    c.check("POST", "/v1/payments", s, &e)?;
    let (s, invalid) = send(
        post()
            .bearer_auth(API_KEY)
            .json(&json!({"amount_cents": "12", "currency": "usd"})),
    )
    .await?;
    c.check("POST", "/v1/payments", s, &invalid)?;

    approve(&bank, &client, &large["id"]).await?;
    let get = |id: &Value| client.get(format!("{base}/v1/payments/{}", id.as_str().unwrap_or("")));
    let (s, settled) = send(get(&large["id"]).bearer_auth(API_KEY)).await?;
    c.check("GET", "/v1/payments/{id}", s, &settled)?;
    let (s, e) = send(get(&large["id"])).await?;
    c.check("GET", "/v1/payments/{id}", s, &e)?;
    let (s, missing) = send(get(&json!("pay_0")).bearer_auth(API_KEY)).await?;
    c.check("GET", "/v1/payments/{id}", s, &missing)?;
    c.assert_all_checked()?;

    insta::assert_snapshot!("v1_create_large", pretty(&large));
    insta::assert_snapshot!("v1_create_small", pretty(&small));
    insta::assert_snapshot!("v1_get_settled", pretty(&settled));
    insta::assert_snapshot!("v1_422", pretty(&invalid));
    Ok(())
}

#[tokio::test]
async fn v2_contract() -> TestResult {
    let c = Contract::new("v2")?;
    let (bank, client) = bank().await?;
    let base = bank.base_url();
    let post = |key: &str| {
        client
            .post(format!("{base}/v2/payments"))
            .header("Idempotency-Key", key)
    };
    let large_body = example("v2/examples/create-payment.json")?;

    let (s, large) = send(post("a").bearer_auth(API_KEY).json(&large_body)).await?;
    c.check("POST", "/v2/payments", s, &large)?;
    let (s, small) = send(
        post("b")
            .bearer_auth(API_KEY)
            .json(&example("v2/examples/create-payment-small.json")?),
    )
    .await?;
    c.check("POST", "/v2/payments", s, &small)?;
    let (s, e) = send(post("c").bearer_auth("bad")).await?;
    c.check("POST", "/v2/payments", s, &e)?;
    let (s, e) = send(
        client
            .post(format!("{base}/v2/payments"))
            .bearer_auth(API_KEY)
            .json(&large_body),
    )
    .await?;
    c.check("POST", "/v2/payments", s, &e)?;
    let (s, conflict) = send(post("a").bearer_auth(API_KEY).json(&json!({"amount": "1.00", "currency": "USD", "creditor": large_body["creditor"], "debtor": large_body["debtor"], "reference": "x"}))).await?;
    c.check("POST", "/v2/payments", s, &conflict)?;
    let (s, invalid) = send(
        post("d")
            .bearer_auth(API_KEY)
            .json(&json!({"amount": 12, "currency": "USD", "beneficiary": "x"})),
    )
    .await?;
    c.check("POST", "/v2/payments", s, &invalid)?;

    approve(&bank, &client, &large["id"]).await?;
    let get = |id: &Value| client.get(format!("{base}/v2/payments/{}", id.as_str().unwrap_or("")));
    let (s, settled) = send(get(&large["id"]).bearer_auth(API_KEY)).await?;
    c.check("GET", "/v2/payments/{id}", s, &settled)?;
    let (s, e) = send(get(&large["id"])).await?;
    c.check("GET", "/v2/payments/{id}", s, &e)?;
    let (s, missing) = send(get(&json!("pay_0")).bearer_auth(API_KEY)).await?;
    c.check("GET", "/v2/payments/{id}", s, &missing)?;
    c.assert_all_checked()?;

    insta::assert_snapshot!("v2_create_large", pretty(&large));
    insta::assert_snapshot!("v2_create_small", pretty(&small));
    insta::assert_snapshot!("v2_get_settled", pretty(&settled));
    insta::assert_snapshot!("v2_409", pretty(&conflict));
    insta::assert_snapshot!("v2_422", pretty(&invalid));
    Ok(())
}

#[tokio::test]
async fn v3_contract() -> TestResult {
    let c = Contract::new("v3")?;
    let (bank, client) = bank().await?;
    let base = bank.base_url();

    let token_url = bank.token_url();
    let (s, token) = send(client.post(&token_url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "rehearse-client"),
        ("client_secret", "rehearse-secret"),
    ]))
    .await?;
    c.check("POST", "/oauth/token", s, &token)?;
    let (s, e) = send(client.post(&token_url).form(&[("grant_type", "password")])).await?;
    c.check("POST", "/oauth/token", s, &e)?;
    let (s, e) = send(
        client
            .post(&token_url)
            .form(&[("grant_type", "client_credentials")]),
    )
    .await?;
    c.check("POST", "/oauth/token", s, &e)?;
    let bearer = token["access_token"].as_str().ok_or("no token")?.to_owned();

    let post = |key: &str| {
        client
            .post(format!("{base}/v3/transfers"))
            .header("Idempotency-Key", key)
    };
    let large_body = example("v3/examples/create-transfer.json")?;
    let (s, large) = send(post("a").bearer_auth(&bearer).json(&large_body)).await?;
    c.check("POST", "/v3/transfers", s, &large)?;
    let (s, small) = send(
        post("b")
            .bearer_auth(&bearer)
            .json(&example("v3/examples/create-transfer-small.json")?),
    )
    .await?;
    c.check("POST", "/v3/transfers", s, &small)?;
    let (s, unauthorized) = send(post("c").bearer_auth(API_KEY).json(&large_body)).await?;
    c.check("POST", "/v3/transfers", s, &unauthorized)?;
    let (s, e) = send(
        client
            .post(format!("{base}/v3/transfers"))
            .bearer_auth(&bearer)
            .json(&large_body),
    )
    .await?;
    c.check("POST", "/v3/transfers", s, &e)?;
    let (s, e) = send(
        post("a")
            .bearer_auth(&bearer)
            .json(&example("v3/examples/create-transfer-small.json")?),
    )
    .await?;
    c.check("POST", "/v3/transfers", s, &e)?;
    let (s, invalid) = send(
        post("d")
            .bearer_auth(&bearer)
            .json(&example("v2/examples/create-payment.json")?),
    )
    .await?;
    c.check("POST", "/v3/transfers", s, &invalid)?;

    approve(&bank, &client, &large["id"]).await?;
    let get = |id: &Value| client.get(format!("{base}/v3/transfers/{}", id.as_str().unwrap_or("")));
    let (s, settled) = send(get(&large["id"]).bearer_auth(&bearer)).await?;
    c.check("GET", "/v3/transfers/{id}", s, &settled)?;
    let (s, e) = send(get(&large["id"])).await?;
    c.check("GET", "/v3/transfers/{id}", s, &e)?;
    let (s, missing) = send(get(&json!("trf_0")).bearer_auth(&bearer)).await?;
    c.check("GET", "/v3/transfers/{id}", s, &missing)?;

    let list = |q: &str| client.get(format!("{base}/v3/transfers{q}"));
    let (s, page) = send(list("?limit=1").bearer_auth(&bearer)).await?;
    c.check("GET", "/v3/transfers", s, &page)?;
    let (s, e) = send(list("")).await?;
    c.check("GET", "/v3/transfers", s, &e)?;
    let (s, e) = send(list("?cursor=zzz").bearer_auth(&bearer)).await?;
    c.check("GET", "/v3/transfers", s, &e)?;
    c.assert_all_checked()?;

    insta::assert_snapshot!("v3_token", pretty(&token));
    insta::assert_snapshot!("v3_create_large", pretty(&large));
    insta::assert_snapshot!("v3_create_small", pretty(&small));
    insta::assert_snapshot!("v3_get_settled", pretty(&settled));
    insta::assert_snapshot!("v3_list_page", pretty(&page));
    insta::assert_snapshot!("v3_401_api_key", pretty(&unauthorized));
    insta::assert_snapshot!("v3_422", pretty(&invalid));
    Ok(())
}

/// A body as pretty JSON. Not `assert_json_snapshot!`: with serde_json's
/// `arbitrary_precision` (on in the workspace) a number serialises through insta's own
/// serializer as a private struct, not as a number.
fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
