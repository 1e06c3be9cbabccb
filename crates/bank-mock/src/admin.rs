//! The back-office admin API under `/__admin` (shapes documented in the crate docs).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use rehearse_status_sim::{Advance, Decision, Error as SimError};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::Request;

use crate::engine::{Engine, Reply, lock, ts};
use crate::faults::FaultSpec;
use crate::journal::Query;
use crate::money::format_minor;

fn problem(status: u16, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({ "error": message.into() }))
}

fn parse<T: for<'de> Deserialize<'de>>(req: &Request, example: &str) -> Result<T, Reply> {
    serde_json::from_slice(&req.body).map_err(|e| {
        problem(
            400,
            format!("read the request body: {e}; expected e.g. {example}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: Decision,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    by: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    to: DateTime<Utc>,
}

fn advance_json(engine: &Engine, advance: &Advance) -> Value {
    json!({
        "from": ts(advance.from),
        "now": ts(advance.to),
        "ticks": advance.ticks.iter().map(|t| json!({"job": t.job, "at": ts(t.at)})).collect::<Vec<_>>(),
        "next_settlement": engine.sim.next_settlement().map(ts),
    })
}

pub(crate) fn handle(engine: &Arc<Engine>, req: &Request) -> Reply {
    let path = req.url.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        ("GET", [] | [""]) => info(engine),
        ("GET", ["reviews"]) => {
            let reviews: Vec<Value> = engine
                .sim
                .review_queue()
                .iter()
                .map(|p| {
                    let review = p.review.as_ref();
                    json!({
                        "payment_id": p.id,
                        "version": p.details.get("version"),
                        "amount": format_minor(p.amount_minor),
                        "currency": p.currency,
                        "reason": review.map(|r| r.reason.clone()),
                        "submitted_at": review.map(|r| ts(r.submitted_at)),
                        "auto_decide_at": review.and_then(|r| r.auto_decide_at).map(ts),
                    })
                })
                .collect();
            Reply::json(200, &json!({ "reviews": reviews }))
        }
        ("POST", ["reviews", id, "decision"]) => {
            let body: DecisionBody =
                match parse(req, r#"{"decision": "approve", "note": "checked"}"#) {
                    Ok(body) => body,
                    Err(reply) => return reply,
                };
            match engine.sim.decide(id, body.decision, body.note) {
                Ok(p) => {
                    engine.webhooks.flush_blocking();
                    let review = p.review.as_ref();
                    Reply::json(
                        200,
                        &json!({
                            "payment_id": p.id,
                            "decision": body.decision,
                            "status": p.status,
                            "decided_at": review.and_then(|r| r.decided_at).map(ts),
                            "next_settlement": engine.sim.next_settlement().map(ts),
                        }),
                    )
                }
                Err(e @ SimError::UnknownPayment(_)) => problem(404, e.to_string()),
                Err(e) => problem(409, e.to_string()),
            }
        }
        ("GET", ["payments", id]) => match engine.sim.get(id) {
            Some(p) => Reply::json(200, &serde_json::to_value(&p).unwrap_or(Value::Null)),
            None => problem(404, format!("find payment `{id}`: no such payment")),
        },
        ("GET", ["clock"]) => Reply::json(
            200,
            &json!({
                "now": ts(engine.clock.now()),
                "start": ts(engine.config.start),
                "next_settlement": engine.sim.next_settlement().map(ts),
            }),
        ),
        ("POST", ["clock", "advance"]) => {
            let body: AdvanceBody = match parse(req, r#"{"by": "4h"}"#) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            match humantime::parse_duration(&body.by) {
                Ok(by) => {
                    let advance = engine.clock.advance(by);
                    engine.webhooks.flush_blocking();
                    Reply::json(200, &advance_json(engine, &advance))
                }
                Err(e) => problem(
                    400,
                    format!(
                        "read `by` = `{}`: {e}; expected e.g. \"4h\" or \"30m\"",
                        body.by
                    ),
                ),
            }
        }
        ("POST", ["clock", "set"]) => {
            let body: SetBody = match parse(req, r#"{"to": "2025-01-06T15:00:00Z"}"#) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let advance = engine.clock.set(body.to);
            engine.webhooks.flush_blocking();
            Reply::json(200, &advance_json(engine, &advance))
        }
        ("GET", ["webhooks"]) => webhooks(engine, req),
        ("GET", ["faults"]) => Reply::json(200, &json!({ "faults": lock(&engine.faults).list() })),
        ("POST", ["faults"]) => {
            let spec: FaultSpec = match parse(
                req,
                r#"{"kind": "error", "status": 503, "route": "/v2/payments*", "count": 2}"#,
            ) {
                Ok(spec) => spec,
                Err(reply) => return reply,
            };
            let mut faults = lock(&engine.faults);
            let added = faults.add(spec);
            engine.set_faults_armed(&faults);
            match added {
                Ok(fault) => Reply::json(201, &serde_json::to_value(fault).unwrap_or(Value::Null)),
                Err(e) => problem(400, format!("arm the fault: {e}")),
            }
        }
        ("DELETE", ["faults"]) => {
            let mut faults = lock(&engine.faults);
            faults.clear();
            engine.set_faults_armed(&faults);
            Reply::empty(204)
        }
        ("DELETE", ["faults", id]) => {
            let mut faults = lock(&engine.faults);
            let removed = faults.remove(id);
            engine.set_faults_armed(&faults);
            if removed {
                Reply::empty(204)
            } else {
                problem(404, format!("remove fault `{id}`: no such fault"))
            }
        }
        ("GET", ["journal"]) => {
            let query = match Query::from_pairs(req.url.query_pairs()) {
                Ok(query) => query,
                Err(message) => return problem(400, message),
            };
            let journal = lock(&engine.journal);
            let (total, entries) = (journal.total(), journal.query(&query));
            drop(journal);
            Reply::json(200, &json!({ "total": total, "entries": entries }))
        }
        ("POST", ["reset"]) => {
            engine.reset();
            Reply::empty(204)
        }
        _ => problem(
            404,
            format!(
                "no admin route `{method} {}`: see GET /__admin/reviews, /__admin/clock, /__admin/faults, /__admin/journal, /__admin/webhooks",
                req.url.path()
            ),
        ),
    }
}

fn info(engine: &Engine) -> Reply {
    let config = engine.sim.config();
    Reply::json(
        200,
        &json!({
            "versions": engine.versions(),
            "review_threshold": format_minor(config.review_threshold_minor),
            "settlement_cron": config.settlement_cron,
            "now": ts(engine.clock.now()),
            "payments": engine.sim.len(),
            "requests_served": engine.served.load(Ordering::Relaxed),
            "mock_recycles": engine.recycles.load(Ordering::Relaxed),
        }),
    )
}

/// `GET /__admin/webhooks?payment_id=&event_id=&limit=`.
fn webhooks(engine: &Engine, req: &Request) -> Reply {
    let (mut payment_id, mut event_id, mut limit) = (None, None, 1_000usize);
    for (key, value) in req.url.query_pairs() {
        match key.as_ref() {
            "payment_id" => payment_id = Some(value.into_owned()),
            "event_id" => event_id = Some(value.into_owned()),
            "limit" => match value.parse::<usize>() {
                Ok(n) if n >= 1 => limit = n,
                _ => {
                    return problem(
                        400,
                        format!("`limit` must be a whole number from 1, got `{value}`"),
                    );
                }
            },
            other => {
                return problem(
                    400,
                    format!(
                        "unknown parameter `{other}`: filter webhook deliveries by payment_id, event_id, limit"
                    ),
                );
            }
        }
    }
    let subscriptions: Vec<Value> = engine
        .webhooks
        .subscriptions(None)
        .iter()
        .map(|s| s.to_json())
        .collect();
    let (total, pending, held, deliveries) =
        engine
            .webhooks
            .journal(payment_id.as_deref(), event_id.as_deref(), limit);
    Reply::json(
        200,
        &json!({
            "subscriptions": subscriptions,
            "total": total,
            "pending": pending,
            "held": held,
            "deliveries": deliveries,
        }),
    )
}
