//! A version's registration route (`/v2/webhooks`): `POST` registers `{"url", "secret"}`,
//! `GET` lists, `DELETE …/{id}` removes. Authenticated like the rest of the version.

use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::Request;

use crate::contract::Contract;
use crate::engine::{Engine, Reply, ts};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    url: String,
    secret: String,
}

/// The answer when `path` is the version's registration route (or one of its items);
/// `None` otherwise. `authenticate` checks the caller's credentials.
pub(crate) fn handle(
    engine: &Engine,
    contract: &Contract,
    req: &Request,
    authenticate: impl FnOnce() -> Result<(), Reply>,
) -> Option<Reply> {
    let hooks = contract.webhooks.as_ref()?;
    let path = req.url.path().trim_end_matches('/');
    let item = match path.strip_prefix(hooks.registration.as_str()) {
        Some("") => None,
        Some(rest) => match rest.strip_prefix('/') {
            Some(id) if !id.contains('/') && !id.is_empty() => Some(id),
            _ => return None,
        },
        None => return None,
    };
    if let Err(reply) = authenticate() {
        return Some(reply);
    }
    let method = req.method.as_str();
    let version = contract.version;
    let reply = match (method, item) {
        ("POST", None) => {
            let body: Registration = match serde_json::from_slice(&req.body) {
                Ok(body) => body,
                Err(e) => {
                    return Some(engine.error(
                        contract,
                        422,
                        "validation_failed",
                        &format!(
                            "read the registration: {e}; send {{\"url\": \"https://…/webhooks/bank\", \"secret\": \"…\"}}"
                        ),
                        Vec::new(),
                    ));
                }
            };
            match engine
                .webhooks
                .subscribe(version, &body.url, &body.secret, "api")
            {
                Ok(s) => Reply::json(
                    201,
                    &json!({"id": s.id, "url": s.url, "created_at": ts(s.created_at)}),
                ),
                Err(message) => {
                    engine.error(contract, 422, "validation_failed", &message, Vec::new())
                }
            }
        }
        ("GET", None) => {
            let list: Vec<Value> = engine
                .webhooks
                .subscriptions(Some(version))
                .iter()
                .map(|s| json!({"id": s.id, "url": s.url, "created_at": ts(s.created_at)}))
                .collect();
            Reply::json(200, &json!({ "webhooks": list }))
        }
        ("DELETE", Some(id)) => {
            if engine.webhooks.unsubscribe(version, id) {
                Reply::empty(204)
            } else {
                engine.error(
                    contract,
                    404,
                    "not_found",
                    &format!("no webhook subscription `{id}`"),
                    Vec::new(),
                )
            }
        }
        (_, None) => engine.error(
            contract,
            405,
            "method_not_allowed",
            &format!("`{method} {path}` is not supported; use GET, POST"),
            Vec::new(),
        ),
        (_, Some(_)) => engine.error(
            contract,
            405,
            "method_not_allowed",
            &format!("`{method} {path}` is not supported; use DELETE"),
            Vec::new(),
        ),
    };
    Some(reply)
}
