//! The HTTP API (axum): routes, handlers and JSON answers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::jobs::Trigger;
use crate::payment::{KeyClaim, parse_new_payment};
use crate::state::{AppState, Refusal};

type Answer = (StatusCode, axum::Json<Value>);

fn answer(status: StatusCode, body: Value) -> Answer {
    (status, axum::Json(body))
}

fn error(status: StatusCode, message: impl Into<String>) -> Answer {
    answer(status, json!({ "error": message.into() }))
}

/// The platform's HTTP API on `state`. [`start`](crate::start) serves it on a socket; tests
/// and embedders may serve it themselves.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/version", get(version))
        .route("/payments", post(create_payment).get(list_payments))
        .route("/payments/{id}", get(get_payment).delete(delete_payment))
        .route("/webhooks/bank", post(receive_webhook))
        .route("/internal/jobs", get(list_jobs))
        .route("/internal/jobs/{name}", get(get_job))
        .route("/internal/jobs/{name}/run", post(run_job))
        // Matched routes only, so the span is named after the route (`GET /payments/{id}`).
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::telemetry::trace_request,
        ))
        .fallback(not_found)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One log line per request, with the harness's run id so logs join the report. Never logs
/// headers or bodies (credentials, personal data).
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let run = request
        .headers()
        .get("x-rehearse-run")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        rehearse_run = run.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

async fn not_found(method: Method, uri: Uri) -> Answer {
    error(
        StatusCode::NOT_FOUND,
        format!("no route `{method} {}`", uri.path()),
    )
}

async fn healthz() -> Answer {
    answer(StatusCode::OK, json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Answer {
    let (ready, body) = state.0.readiness().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    answer(status, body)
}

async fn receive_webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    if body.len() > crate::webhooks::MAX_BODY {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("an event is at most {} bytes", crate::webhooks::MAX_BODY),
        );
    }
    let signature = headers
        .get(crate::webhooks::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let reply = state.0.receive_webhook(signature, &body);
    answer(
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        reply.body,
    )
}

async fn version(State(state): State<AppState>) -> Answer {
    let config = &state.0.config;
    answer(
        StatusCode::OK,
        json!({
            "version": config.platform_version,
            "commit": config.commit,
            "bank_api_version": config.bank_api_version,
        }),
    )
}

async fn create_payment(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("the body is not valid JSON: {e}"),
            )
            .into_response();
        }
    };
    let request = match parse_new_payment(&body) {
        Ok(request) => request,
        Err(fields) => {
            return answer(
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid payment request", "fields": fields}),
            )
            .into_response();
        }
    };
    let client_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    if let Some(key) = &client_key {
        match state.0.store.claim_key(key, &body) {
            KeyClaim::New => {}
            KeyClaim::Replay(payment) => {
                let mut response = answer(StatusCode::CREATED, payment.to_json()).into_response();
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return response;
            }
            KeyClaim::InProgress => {
                return error(
                    StatusCode::CONFLICT,
                    format!("a request with Idempotency-Key `{key}` is still being processed; retry shortly"),
                )
                .into_response();
            }
            KeyClaim::Conflict => {
                return error(
                    StatusCode::CONFLICT,
                    format!("Idempotency-Key `{key}` was already used with a different body"),
                )
                .into_response();
            }
        }
    }
    match state.0.create_payment(request, client_key.as_deref()).await {
        Ok(payment) => {
            let location = format!("/payments/{}", payment.id);
            let mut response = answer(StatusCode::CREATED, payment.to_json()).into_response();
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert("location", location);
            }
            response
        }
        Err(refusal) => {
            if let Some(key) = &client_key {
                state.0.store.release_key(key);
            }
            let body = match refusal {
                Refusal::NotConfigured(message) => json!({
                    "error": message,
                    "missing": state.0.bank.missing_settings(),
                    "hint": "set the missing settings in the platform's environment; GET /readyz shows every failing check",
                }),
                Refusal::Unauthorized(message) => json!({
                    "error": format!("the bank refused the platform's credentials: {message}"),
                    "hint": if state.0.config.bank_api_version.uses_oauth() {
                        "check BANK_CLIENT_ID and BANK_CLIENT_SECRET"
                    } else {
                        "check BANK_API_KEY"
                    },
                }),
            };
            answer(StatusCode::BAD_GATEWAY, body).into_response()
        }
    }
}

fn no_payment(id: &str) -> Answer {
    error(StatusCode::NOT_FOUND, format!("no payment `{id}`"))
}

async fn get_payment(State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    match state.0.store.get(&id) {
        Some(payment) => answer(StatusCode::OK, payment.to_json()),
        None => no_payment(&id),
    }
}

async fn delete_payment(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.0.store.remove(&id) {
        Some(_) => {
            tracing::info!(payment = %id, "payment deleted");
            StatusCode::NO_CONTENT.into_response()
        }
        None => no_payment(&id).into_response(),
    }
}

async fn list_payments(State(state): State<AppState>) -> Answer {
    let payments: Vec<Value> = state.0.store.list().iter().map(|p| p.to_json()).collect();
    answer(StatusCode::OK, json!({ "payments": payments }))
}

fn no_job(name: &str, state: &AppState) -> Answer {
    error(
        StatusCode::NOT_FOUND,
        format!("no job `{name}`; jobs: {}", state.0.poller.name()),
    )
}

async fn list_jobs(State(state): State<AppState>) -> Answer {
    let poller = state.0.job_json(state.0.poller.name()).await;
    answer(
        StatusCode::OK,
        json!({ "jobs": poller.into_iter().collect::<Vec<_>>() }),
    )
}

async fn get_job(State(state): State<AppState>, Path(name): Path<String>) -> Answer {
    match state.0.job_json(&name).await {
        Some(job) => answer(StatusCode::OK, job),
        None => no_job(&name, &state),
    }
}

/// Runs the job now and answers when it finished. A job that is not registered (the poller is
/// disabled) does not run: triggering it would hide that nothing runs it in production.
async fn run_job(State(state): State<AppState>, Path(name): Path<String>) -> Answer {
    if name != state.0.poller.name() {
        return no_job(&name, &state);
    }
    if !state.0.poller.is_registered() {
        let reason = if state.0.config.disable_poller {
            "DISABLE_POLLER is set"
        } else {
            "no scheduler is running it"
        };
        return answer(
            StatusCode::CONFLICT,
            json!({
                "error": format!("job `{name}` is not registered ({reason}), so it does not run"),
                "job": state.0.job_json(&name).await,
            }),
        );
    }
    state.0.run_poller(Trigger::Manual).await;
    match state.0.job_json(&name).await {
        Some(job) => answer(StatusCode::OK, job),
        None => no_job(&name, &state),
    }
}
