//! What each version demands and answers: credentials, schemas, idempotency, tokens, paging.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn missing_or_wrong_credentials_get_401_with_each_versions_error_body() -> TestResult {
    let (bank, client) = bank().await?;
    let base = bank.base_url();

    let (status, v1) = get_json(&client, &format!("{base}/v1/payments/pay_x"), None).await?;
    assert_eq!(status, 401);
    assert_eq!(
        v1,
        json!({"error": "unauthorized", "message": "missing credentials: send `Authorization: Bearer <API key>`", "fields": []})
    );

    let (status, v2) =
        get_json(&client, &format!("{base}/v2/payments/pay_x"), Some("wrong")).await?;
    assert_eq!(status, 401);
    assert_eq!(
        v2,
        json!({"error": {"code": "unauthorized", "message": "invalid API key for v2", "details": []}})
    );

    let response = client
        .get(format!("{base}/v3/transfers/trf_x"))
        .bearer_auth(API_KEY)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"bank\"")
    );
    let v3: Value = response.json().await?;
    assert_eq!(
        v3,
        json!({
            "type": "https://bank.example/problems/unauthorized",
            "title": "Unauthorized",
            "status": 401,
            "detail": "v3 does not accept API keys: get an access token from POST /oauth/token (client credentials)",
            "invalid_params": []
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_body_that_breaks_the_schema_gets_422_listing_the_fields() -> TestResult {
    let (bank, client) = bank().await?;
    let base = bank.base_url();

    // A v2 body sent to v1: the drift shows as field names.
    let v2_body = example("v2/examples/create-payment.json")?;
    let response = client
        .post(format!("{base}/v1/payments"))
        .bearer_auth(API_KEY)
        .json(&v2_body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 422);
    let body: Value = response.json().await?;
    assert_eq!(body["error"], "validation_failed");
    assert_eq!(body["fields"], json!(["amount", "amount_cents"]));

    let mut bad = v2_body.clone();
    bad["amount"] = json!("12.345");
    bad["creditor"] = json!({"name": "x"});
    let (status, body) = create_v2(&bank, &client, "k", &bad).await?;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .ok_or("no details")?
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["amount", "creditor.iban"]);
    assert_eq!(
        body["error"]["message"],
        "the body does not match the v2 /v2/payments schema: amount, creditor.iban"
    );

    let token = token(&bank, &client).await?;
    let response = client
        .post(format!("{base}/v3/transfers"))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k")
        .json(&json!({"amount": {"value": "10.00"}, "creditor": {}, "debtor": {}}))
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 422);
    let body: Value = response.json().await?;
    let names: Vec<&str> = body["invalid_params"]
        .as_array()
        .ok_or("no invalid_params")?
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "amount.currency",
            "creditor.iban",
            "creditor.name",
            "debtor.iban",
            "debtor.name",
            "remittance_information"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn not_json_and_unknown_ids_and_routes_are_told_apart() -> TestResult {
    let (bank, client) = bank().await?;
    let base = bank.base_url();
    let response = client
        .post(format!("{base}/v1/payments"))
        .bearer_auth(API_KEY)
        .body("{not json")
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(response.json::<Value>().await?["error"], "invalid_json");

    let (status, body) = get_json(
        &client,
        &format!("{base}/v1/payments/pay_0000000000000000"),
        Some(API_KEY),
    )
    .await?;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "not_found", "message": "no payment `pay_0000000000000000`", "fields": []})
    );

    let response = client
        .delete(format!("{base}/v2/payments/x"))
        .bearer_auth(API_KEY)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET")
    );

    let (status, body) = get_json(&client, &format!("{base}/v9/payments"), None).await?;
    assert_eq!(status, 404);
    assert_eq!(
        body["message"],
        "no bank API route `GET /v9/payments`: this mock serves /v1, /v2, /v3, /v4"
    );
    Ok(())
}

#[tokio::test]
async fn v2_idempotency_replays_the_first_response_and_refuses_another_body() -> TestResult {
    let (bank, client) = bank().await?;
    let body = example("v2/examples/create-payment-small.json")?;

    let (status, first) = create_v2(&bank, &client, "order-1", &body).await?;
    assert_eq!(status, 201);
    // Time passes and the payment settles; the replay still returns the first response.
    bank.clock().advance(std::time::Duration::from_secs(3600));
    let response = client
        .post(format!("{}/v2/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .header("Idempotency-Key", "order-1")
        .json(&body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 201);
    assert_eq!(
        response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let replay: Value = response.json().await?;
    assert_eq!(replay, first);
    assert_eq!(replay["status"], "accepted");

    let mut other = body.clone();
    other["amount"] = json!("1.00");
    let (status, conflict) = create_v2(&bank, &client, "order-1", &other).await?;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["code"], "idempotency_conflict");

    let response = client
        .post(format!("{}/v2/payments", bank.base_url()))
        .bearer_auth(API_KEY)
        .json(&body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.json::<Value>().await?["error"]["code"],
        "idempotency_key_missing"
    );

    // Exactly one payment exists.
    let (_, info) = get_json(&client, &bank.admin_url(), None).await?;
    assert_eq!(info["payments"], 1);
    Ok(())
}

#[tokio::test]
async fn v3_token_flow_then_transfers_with_cursor_pagination() -> TestResult {
    let (bank, client) = bank().await?;
    let base = bank.base_url();

    let response = client
        .post(bank.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "rehearse-client"),
            ("client_secret", "nope"),
        ])
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.json::<Value>().await?["error"], "invalid_client");

    let response = client
        .post(bank.token_url())
        .basic_auth("rehearse-client", Some("rehearse-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let token_body: Value = response.json().await?;
    assert_eq!(token_body["token_type"], "Bearer");
    assert_eq!(token_body["expires_in"], 86_400);
    let token = token_body["access_token"]
        .as_str()
        .ok_or("no token")?
        .to_owned();

    let body = example("v3/examples/create-transfer.json")?;
    let mut ids = Vec::new();
    for i in 0..3 {
        let response = client
            .post(format!("{base}/v3/transfers"))
            .bearer_auth(&token)
            .header("Idempotency-Key", format!("t-{i}"))
            .json(&body)
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 201);
        let created: Value = response.json().await?;
        assert_eq!(created["status"], "in_review");
        ids.push(created["id"].as_str().ok_or("no id")?.to_owned());
    }

    let (status, page1) = get_json(
        &client,
        &format!("{base}/v3/transfers?limit=2"),
        Some(&token),
    )
    .await?;
    assert_eq!(status, 200);
    let cursor = page1["next_cursor"].as_str().ok_or("no cursor")?.to_owned();
    let (_, page2) = get_json(
        &client,
        &format!("{base}/v3/transfers?limit=2&cursor={cursor}"),
        Some(&token),
    )
    .await?;
    let seen: Vec<String> = [&page1, &page2]
        .iter()
        .flat_map(|p| p["data"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(seen, ids);
    assert_eq!(page2["next_cursor"], Value::Null);

    let (status, bad) = get_json(
        &client,
        &format!("{base}/v3/transfers?limit=500"),
        Some(&token),
    )
    .await?;
    assert_eq!(status, 422);
    assert_eq!(bad["invalid_params"][0]["name"], "limit");

    // Tokens live 24 h of bank time.
    bank.clock()
        .advance(std::time::Duration::from_secs(24 * 3600));
    let (status, expired) = get_json(
        &client,
        &format!("{base}/v3/transfers/{}", ids[0]),
        Some(&token),
    )
    .await?;
    assert_eq!(status, 401);
    assert_eq!(
        expired["detail"],
        "access token expired at 2025-01-07T09:00:00Z: get a new one from POST /oauth/token"
    );
    Ok(())
}
