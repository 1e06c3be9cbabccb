//! One answer of the bank, classified against the route its version describes: the status
//! code, the body against that status's schema, a 400/422 that names a header or field the
//! request did not send, a 401 that asks for another scheme. Pure: no IO.

use rehearse_contract::{Auth, Drift, DriftKind, RouteSpec, VersionFolder, instance_drifts};
use serde_json::Value;

/// What the request carried, to tell a new requirement from a bad request.
#[derive(Debug, Default)]
pub(crate) struct Sent<'a> {
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: Option<&'a Value>,
    pub(crate) query: &'a [(String, String)],
}

/// An answer as received (body already read within its cap).
#[derive(Debug)]
pub(crate) struct Answer<'a> {
    pub(crate) status: u16,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) body: &'a str,
}

/// The drifts of an answer, and the headers it says are required (to send on a retry).
#[derive(Debug, Default)]
pub(crate) struct Classified {
    pub(crate) drifts: Vec<Drift>,
    pub(crate) missing_headers: Vec<String>,
    /// The bank failed (5xx, 429): no drift can be told, the step is an error.
    pub(crate) bank_failed: bool,
}

/// Classifies `answer` to a request on `route` of `folder` that should have answered
/// `expected`.
pub(crate) fn classify(
    folder: &VersionFolder,
    route: &RouteSpec,
    expected: u16,
    sent: &Sent<'_>,
    answer: &Answer<'_>,
) -> Classified {
    let name = format!("{} {}", route.method.to_ascii_uppercase(), route.path);
    let mut out = Classified::default();
    let declared = route.responses.contains_key(&answer.status.to_string());
    let excerpt = short(answer.body);
    if answer.status == expected {
        out.drifts = body_drifts(folder, route, &name, answer);
        return out;
    }
    match answer.status {
        401 | 403 => {
            if let Some(d) = auth_drift(folder, &name, answer) {
                out.drifts.push(d);
            } else {
                out.drifts.push(Drift::new(
                    DriftKind::StatusChanged,
                    &name,
                    "",
                    format!("{expected}"),
                    format!(
                        "{}: the credentials were refused (check the environment's bank secrets): {excerpt}",
                        answer.status
                    ),
                ));
            }
        }
        400 | 422 => {
            let headers = named_headers(answer.body, sent.headers);
            let params = if headers.is_empty() {
                named_params(answer.body, sent)
            } else {
                Vec::new()
            };
            for h in &headers {
                out.drifts.push(Drift::new(
                    DriftKind::NewRequiredHeader,
                    &name,
                    "",
                    format!("no `{h}` header required"),
                    format!("{} requiring `{h}`: {excerpt}", answer.status),
                ));
            }
            for p in &params {
                out.drifts.push(Drift::new(
                    DriftKind::NewRequiredParameter,
                    &name,
                    format!("/{p}"),
                    format!("no field or parameter `{p}` required"),
                    format!("{} requiring `{p}`: {excerpt}", answer.status),
                ));
            }
            out.missing_headers = headers;
            if out.drifts.is_empty() {
                out.drifts
                    .push(status_changed(&name, expected, answer, declared));
            }
        }
        404 | 405 | 410 => out.drifts.push(Drift::new(
            DriftKind::RouteRemoved,
            &name,
            "",
            format!("the route answers {expected}"),
            format!("{}: {excerpt}", answer.status),
        )),
        429 | 500..=599 => out.bank_failed = true,
        _ => out
            .drifts
            .push(status_changed(&name, expected, answer, declared)),
    }
    out
}

fn status_changed(name: &str, expected: u16, answer: &Answer<'_>, declared: bool) -> Drift {
    Drift::new(
        DriftKind::StatusChanged,
        name,
        "",
        format!("{expected}"),
        format!(
            "{}{}: {}",
            answer.status,
            if declared {
                ""
            } else {
                " (not a status the version declares)"
            },
            short(answer.body)
        ),
    )
}

/// The body of an expected answer against its schema.
fn body_drifts(
    folder: &VersionFolder,
    route: &RouteSpec,
    name: &str,
    answer: &Answer<'_>,
) -> Vec<Drift> {
    let Some(schema) = route
        .responses
        .get(&answer.status.to_string())
        .and_then(|file| folder.json(file))
    else {
        return Vec::new();
    };
    match serde_json::from_str::<Value>(answer.body) {
        Ok(body) => instance_drifts(&schema, &body, name)
            .into_iter()
            .map(|d| d.in_status(answer.status.to_string()))
            .collect(),
        Err(e) => vec![Drift::new(
            DriftKind::TypeChanged,
            name,
            "",
            "a JSON body",
            format!("not JSON ({e}): {}", short(answer.body)),
        )],
    }
}

/// A 401 that asks for another way in: another `WWW-Authenticate` scheme, or an API-key
/// version told to get a token (or the other way round).
fn auth_drift(folder: &VersionFolder, name: &str, answer: &Answer<'_>) -> Option<Drift> {
    let expected = folder.manifest.auth;
    let scheme = answer
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .and_then(|(_, v)| v.split_whitespace().next())
        .map(str::to_owned);
    let want = match expected {
        Auth::ApiKey => "API key (`Authorization: Bearer <key>`)",
        Auth::OauthClientCredentials => "OAuth client credentials",
    };
    if let Some(scheme) = &scheme
        && !scheme.eq_ignore_ascii_case("bearer")
    {
        return Some(Drift::new(
            DriftKind::AuthChanged,
            name,
            "",
            want,
            format!("{}: WWW-Authenticate {scheme}", answer.status),
        ));
    }
    let text = answer.body.to_ascii_lowercase();
    let asks_token = text.contains("oauth") || text.contains("access token");
    let asks_key = text.contains("api key") || text.contains("api_key");
    let mismatch = match expected {
        Auth::ApiKey => asks_token && !asks_key,
        Auth::OauthClientCredentials => asks_key && !asks_token,
    } || (expected == Auth::ApiKey && text.contains("does not accept api keys"));
    mismatch.then(|| {
        Drift::new(
            DriftKind::AuthChanged,
            name,
            "",
            want,
            format!("{}: {}", answer.status, short(answer.body)),
        )
    })
}

/// Header names a 400/422 body names (`X-Request-Id`, `Idempotency-Key`) that the request
/// did not send; only when the body speaks of a header at all.
fn named_headers(body: &str, sent: &[(String, String)]) -> Vec<String> {
    if !body.to_ascii_lowercase().contains("header") {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for token in body.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        let parts: Vec<&str> = token.split('-').collect();
        let shaped = parts.len() >= 2
            && parts.iter().all(|p| {
                p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && p.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if shaped
            && !sent.iter().any(|(k, _)| k.eq_ignore_ascii_case(token))
            && !out.iter().any(|h| h.eq_ignore_ascii_case(token))
        {
            out.push(token.to_owned());
        }
    }
    out
}

/// Field names an error body lists as required (`details[].field`,
/// `invalid_params[].name`, `errors[].field`) that the request did not send.
fn named_params(body: &str, sent: &Sent<'_>) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    collect_named(&value, &mut names, 0);
    names.retain(|n| {
        let pointer = format!("/{}", n.replace('.', "/"));
        sent.body.and_then(|b| b.pointer(&pointer)).is_none()
            && !sent.query.iter().any(|(k, _)| k == n)
    });
    names.dedup();
    names
}

fn collect_named(value: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 16 || out.len() > 50 {
        return;
    }
    match value {
        Value::Object(map) => {
            let name = ["field", "name", "param", "parameter"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str));
            let problem = ["problem", "reason", "message", "detail"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .unwrap_or_default()
                .to_ascii_lowercase();
            if let Some(name) = name
                && (problem.contains("required") || problem.contains("missing"))
            {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_named(v, out, depth + 1));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_named(v, out, depth + 1)),
        _ => {}
    }
}

/// A body for a message: one line, 200 characters at most.
pub(crate) fn short(body: &str) -> String {
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 200 {
        format!("{}…", one.chars().take(199).collect::<String>())
    } else if one.is_empty() {
        "(empty body)".to_owned()
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use rehearse_contract::{ApiVersion, Catalog};

    use super::*;

    fn v2() -> std::sync::Arc<VersionFolder> {
        Catalog::builtin().get(ApiVersion::V2).cloned().unwrap()
    }

    fn lines(c: &Classified) -> Vec<String> {
        c.drifts.iter().map(Drift::line).collect()
    }

    #[test]
    fn a_400_naming_a_header_not_sent_is_a_new_required_header() {
        let folder = v2();
        let route = &folder.manifest.routes[0];
        let body = r#"{"error":{"code":"header_missing","message":"v2 /v2/payments requires the X-Request-Id header","details":[{"field":"X-Request-Id","problem":"header is required"}]}}"#;
        let sent = vec![("Idempotency-Key".to_owned(), "k".to_owned())];
        let c = classify(
            &folder,
            route,
            201,
            &Sent {
                headers: &sent,
                ..Sent::default()
            },
            &Answer {
                status: 400,
                headers: &[],
                body,
            },
        );
        assert_eq!(c.missing_headers, ["X-Request-Id"]);
        assert_eq!(c.drifts.len(), 1);
        assert_eq!(c.drifts[0].kind, DriftKind::NewRequiredHeader);
    }

    #[test]
    fn a_422_naming_a_field_not_sent_is_a_new_required_parameter() {
        let folder = v2();
        let route = &folder.manifest.routes[0];
        let body = r#"{"error":{"code":"validation_failed","message":"the body does not match","details":[{"field":"purpose","problem":"is required"},{"field":"amount","problem":"is required"}]}}"#;
        let sent_body = serde_json::json!({"amount": "1.00"});
        let c = classify(
            &folder,
            route,
            201,
            &Sent {
                body: Some(&sent_body),
                ..Sent::default()
            },
            &Answer {
                status: 422,
                headers: &[],
                body,
            },
        );
        assert_eq!(
            lines(&c),
            [format!(
                "breaking new_required_parameter at /purpose (POST /v2/payments): expected no field or parameter `purpose` required, got 422 requiring `purpose`: {body}"
            )]
        );
    }

    #[test]
    fn a_401_asking_for_a_token_or_another_scheme_is_an_auth_change() {
        let folder = v2();
        let route = &folder.manifest.routes[1];
        let token = classify(
            &folder,
            route,
            200,
            &Sent::default(),
            &Answer {
                status: 401,
                headers: &[],
                body: r#"{"error":{"message":"v2 does not accept API keys: get an access token from POST /oauth/token"}}"#,
            },
        );
        assert_eq!(token.drifts[0].kind, DriftKind::AuthChanged);
        let basic = vec![(
            "WWW-Authenticate".to_owned(),
            "Basic realm=\"bank\"".to_owned(),
        )];
        let scheme = classify(
            &folder,
            route,
            200,
            &Sent::default(),
            &Answer {
                status: 401,
                headers: &basic,
                body: "",
            },
        );
        assert_eq!(scheme.drifts[0].kind, DriftKind::AuthChanged);
        let refused = classify(
            &folder,
            route,
            200,
            &Sent::default(),
            &Answer {
                status: 401,
                headers: &[],
                body: r#"{"error":{"message":"invalid API key for v2"}}"#,
            },
        );
        assert_eq!(refused.drifts[0].kind, DriftKind::StatusChanged);
    }

    #[test]
    fn removed_routes_other_statuses_and_failures_of_the_bank() {
        let folder = v2();
        let route = &folder.manifest.routes[1];
        let answer = |status| Answer {
            status,
            headers: &[],
            body: "{}",
        };
        let gone = classify(&folder, route, 200, &Sent::default(), &answer(404));
        assert_eq!(gone.drifts[0].kind, DriftKind::RouteRemoved);
        let other = classify(&folder, route, 200, &Sent::default(), &answer(202));
        assert_eq!(
            other.drifts[0].actual,
            "202 (not a status the version declares): {}"
        );
        let failed = classify(&folder, route, 200, &Sent::default(), &answer(503));
        assert!(failed.bank_failed && failed.drifts.is_empty());
    }
}
