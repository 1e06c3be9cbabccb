//! Pre-flight checks: is the environment ready, and if not, who must fix what. Every
//! distinct check of the environment and of the selected scenarios runs once, all of them
//! concurrently, even when some fail, so one run shows everything that is wrong.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rehearse_scenario::{Check, CheckKind, Vars};
use serde_json::Value as Json;

use crate::check;
use crate::exec::environment_vars;
use crate::http::Clients;
use crate::prepare::prepare;
use crate::redact::Redactor;
use crate::result::{CheckResult, Status};
use crate::run::Plan;
use crate::send::{Session, exchange, send};

/// What pre-flight needs beyond the plan.
#[derive(Debug, Clone, Default)]
pub struct PreflightOptions {
    /// The run id, sent in `X-Rehearse-Run`.
    pub run_id: String,
    /// `--expect-version`: what `version` checks compare with when they name no version.
    pub expect_version: Option<String>,
    /// Names of the environment's secrets that are set for the harness.
    pub secrets_present: Vec<String>,
    /// Secret values to mask in evidence.
    pub secrets: Vec<String>,
    /// Ctrl-C: the checks still running stop at once and are `interrupted`.
    pub cancel: tokio_util::sync::CancellationToken,
}

/// The checks to run: the environment's, then each scenario's, each distinct check once
/// (with the scenarios that require it); plus one implicit `secret_present` check per
/// declared secret that no explicit check covers.
pub fn checks_of(plan: &Plan) -> Vec<(Check, Vec<String>)> {
    let mut out: Vec<(Check, Vec<String>)> = Vec::new();
    for c in &plan.environment.checks {
        push(&mut out, c.clone(), None);
    }
    for s in &plan.scenarios {
        for c in &s.requires {
            push(&mut out, c.clone(), Some(s.path.display().to_string()));
        }
    }
    for name in &plan.environment.secrets {
        let covered = out
            .iter()
            .any(|(c, _)| matches!(&c.kind, CheckKind::SecretPresent(n) if n == name));
        if !covered {
            out.push((
                Check {
                    name: format!("secret `{name}` is set"),
                    owner: None,
                    hint: Some(format!(
                        "export {name}=… or put it in the file given with --env-file"
                    )),
                    ticket: None,
                    // Where the environment file declares the secret: that is where a
                    // missing one is fixed.
                    span: plan
                        .environment
                        .secret_spans
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, s)| s.clone())
                        .unwrap_or_else(|| {
                            rehearse_scenario::Span::file_start(
                                &rehearse_scenario::SourceFile::new("", ""),
                            )
                        }),
                    kind: CheckKind::SecretPresent(name.clone()),
                },
                Vec::new(),
            ));
        }
    }
    out
}

fn push(out: &mut Vec<(Check, Vec<String>)>, c: Check, by: Option<String>) {
    let id = c.identity();
    match out.iter_mut().find(|(o, _)| o.identity() == id) {
        Some((_, list)) => list.extend(by),
        None => out.push((c, by.into_iter().collect())),
    }
}

/// Runs every check concurrently and returns the results in the order of [`checks_of`].
/// When [`PreflightOptions::cancel`] is cancelled, the checks still running end at once as
/// `interrupted`.
pub async fn preflight(plan: Arc<Plan>, options: PreflightOptions) -> Vec<CheckResult> {
    let checks = checks_of(&plan);
    if checks.is_empty() {
        return Vec::new();
    }
    let redactor = Redactor::new(options.secrets.iter().cloned());
    let clients = match Clients::for_environment(&plan.environment) {
        Ok(c) => c,
        Err(e) => {
            return checks
                .into_iter()
                .map(|(c, by)| {
                    result(
                        &c,
                        by,
                        Status::Failed,
                        format!("no HTTP client: {e}"),
                        Duration::ZERO,
                    )
                })
                .collect();
        }
    };
    let vars = environment_vars(&plan);
    let futures = checks.into_iter().map(|(c, by)| {
        let plan = Arc::clone(&plan);
        let clients = clients.clone();
        let vars = vars.clone();
        let options = options.clone();
        let redactor = redactor.clone();
        async move {
            let started = Instant::now();
            let checking = async {
                match (vars, &c.kind) {
                    (Ok(vars), _) => run_check(&plan, &c, &clients, &vars, &options).await,
                    // Whether a secret is set does not depend on the vars: blaming it for a
                    // var that failed to render would send the reader to the wrong fix.
                    (Err(_), CheckKind::SecretPresent(name)) => secret_present(name, &options),
                    (Err(e), _) => Err(e.message),
                }
            };
            let outcome = tokio::select! {
                o = checking => o,
                () = options.cancel.cancelled() => {
                    return result(
                        &c,
                        by,
                        Status::Interrupted,
                        "stopped by Ctrl-C before it ended".to_owned(),
                        started.elapsed(),
                    );
                }
            };
            let (status, evidence) = match outcome {
                Ok(e) => (Status::Passed, e),
                Err(e) => (Status::Failed, e),
            };
            result(&c, by, status, redactor.mask(&evidence), started.elapsed())
        }
    });
    futures::future::join_all(futures).await
}

fn result(
    c: &Check,
    by: Vec<String>,
    status: Status,
    evidence: String,
    duration: Duration,
) -> CheckResult {
    CheckResult {
        name: c.name.clone(),
        kind: c.kind_name().to_owned(),
        owner: c.owner.clone(),
        hint: c.hint.clone(),
        status,
        evidence,
        duration,
        location: (!c.span.source.path().as_os_str().is_empty()).then(|| c.span.to_string()),
        required_by: by,
        ticket: c.ticket.clone(),
    }
}

fn secret_present(name: &str, options: &PreflightOptions) -> Result<String, String> {
    if options.secrets_present.iter().any(|n| n == name) {
        Ok(format!("secret `{name}` is set"))
    } else {
        Err(format!(
            "secret `{name}` is not set in the harness's environment or --env-file"
        ))
    }
}

/// `Ok(evidence)` when the check holds, `Err(evidence)` when not.
async fn run_check(
    plan: &Plan,
    c: &Check,
    clients: &Clients,
    vars: &Vars,
    options: &PreflightOptions,
) -> Result<String, String> {
    let t = &plan.templates;
    let timeout = plan.environment.request_timeout;
    match &c.kind {
        CheckKind::SecretPresent(name) => secret_present(name, options),
        CheckKind::Request { request, expect } => {
            let prepared = prepare(t, request, vars).map_err(|e| e.message)?;
            let session = Session {
                follow: request.follow_redirects,
                wire: clients.wire.as_deref(),
                ..Session::default()
            };
            let ex = exchange(
                &clients.plain,
                &prepared,
                session,
                request.timeout.unwrap_or(timeout),
                (&trace(), &crate::trace::span_id()),
                &options.run_id,
            )
            .await;
            let resp = ex
                .outcome
                .map_err(|e| format!("{} {}: {e}", prepared.method, prepared.url))?;
            let failures = check::expect(expect, &resp, ex.duration, t, vars);
            let seen = format!(
                "{} {} → {} {}",
                prepared.method,
                prepared.url,
                resp.status,
                resp.excerpt(300)
            );
            // What `auth` put on the wire is masked like a secret (a response may echo it).
            let creds = Redactor::new(prepared.credentials.iter().cloned());
            if failures.is_empty() {
                Ok(creds.mask(&seen))
            } else {
                let why: Vec<String> = failures.iter().map(ToString::to_string).collect();
                Err(creds.mask(&format!("{}; {seen}", why.join("; "))))
            }
        }
        CheckKind::Heartbeat {
            url,
            path,
            path_text,
            max_age,
        } => {
            let (json, seen) = get_json(t, url, vars, clients, timeout, &options.run_id).await?;
            let value = path.query(&json).all().first().map(|v| (*v).clone());
            let last = match value {
                Some(Json::String(s)) => DateTime::parse_from_rfc3339(&s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| {
                        format!("{path_text} is `{s}`, not an RFC 3339 time ({e}); {seen}")
                    })?,
                _ => {
                    let mut why = format!("the job never succeeded ({path_text} is empty)");
                    if json.get("registered").and_then(Json::as_bool) == Some(false) {
                        why = "the job is not registered (never installed or disabled)".to_owned();
                    }
                    if let Some(err) = json.get("last_error").and_then(Json::as_str) {
                        why.push_str(&format!("; last error: {err}"));
                    }
                    return Err(format!("{why}; {seen}"));
                }
            };
            let age = (Utc::now() - last).to_std().unwrap_or(Duration::ZERO);
            let age_text = humantime::format_duration(Duration::from_secs(age.as_secs()));
            if age <= *max_age {
                Ok(format!(
                    "last success {age_text} ago (max {})",
                    humantime::format_duration(*max_age)
                ))
            } else {
                Err(format!(
                    "last success {age_text} ago, older than {} — the job is not running",
                    humantime::format_duration(*max_age)
                ))
            }
        }
        CheckKind::Version {
            url,
            path,
            path_text,
            equals,
        } => {
            let (json, seen) = get_json(t, url, vars, clients, timeout, &options.run_id).await?;
            let found = match path.query(&json).all().first() {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(format!("no version at {path_text}; {seen}")),
            };
            let expected = match equals {
                Some(e) => Some(t.render_string(e, vars).map_err(|e| e.message)?),
                None => options.expect_version.clone(),
            };
            match expected {
                Some(want) if want != found => {
                    Err(format!("deployed version is {found}, expected {want}"))
                }
                Some(want) => Ok(format!("deployed version is {found}, as expected ({want})")),
                None => Ok(format!(
                    "deployed version is {found} (no version expected: pass --expect-version)"
                )),
            }
        }
        CheckKind::Reachable { target, timeout } => {
            let text = t.render_string(target, vars).map_err(|e| e.message)?;
            let addr = host_port(&text)?;
            let started = Instant::now();
            let resolved = tokio::time::timeout(*timeout, tokio::net::lookup_host(addr.clone()))
                .await
                .map_err(|_| {
                    format!(
                        "DNS lookup of {addr} took longer than {}",
                        humantime::format_duration(*timeout)
                    )
                })?
                .map_err(|e| format!("DNS lookup of {addr} failed: {e}"))?
                .collect::<Vec<_>>();
            let first = resolved
                .first()
                .copied()
                .ok_or_else(|| format!("{addr} resolves to no address"))?;
            let left = timeout.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, tokio::net::TcpStream::connect(first)).await {
                Ok(Ok(_)) => Ok(format!(
                    "connected to {addr} ({first}) in {} ms",
                    started.elapsed().as_millis()
                )),
                Ok(Err(e)) => Err(format!("TCP connection to {addr} ({first}) failed: {e}")),
                Err(_) => Err(format!(
                    "TCP connection to {addr} ({first}) took longer than {}",
                    humantime::format_duration(*timeout)
                )),
            }
        }
    }
}

fn trace() -> String {
    crate::trace::trace_id()
}

async fn get_json(
    t: &rehearse_scenario::Templates,
    url: &rehearse_scenario::Tpl,
    vars: &Vars,
    clients: &Clients,
    timeout: Duration,
    run_id: &str,
) -> Result<(Json, String), String> {
    let url = t.render_string(url, vars).map_err(|e| e.message)?;
    let prepared = crate::prepare::Prepared {
        method: reqwest::Method::GET,
        url: url.clone(),
        headers: Vec::new(),
        body: None,
        credentials: Vec::new(),
    };
    let ex = send(&clients.plain, &prepared, timeout, &trace(), run_id).await;
    let resp = ex.outcome.map_err(|e| format!("GET {url}: {e}"))?;
    let seen = format!("GET {url} → {} {}", resp.status, resp.excerpt(300));
    if resp.status >= 400 {
        return Err(seen);
    }
    let json =
        serde_json::from_slice(resp.bytes()).map_err(|e| format!("not JSON ({e}); {seen}"))?;
    Ok((json, seen))
}

/// `https://host[:port]/…` or `host:port` → `host:port`.
fn host_port(text: &str) -> Result<String, String> {
    if let Some((scheme, rest)) = text.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        if authority.is_empty() {
            return Err(format!("`{text}` has no host"));
        }
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
        if has_port {
            return Ok(authority.to_owned());
        }
        let port = match scheme {
            "https" => 443,
            "http" => 80,
            other => return Err(format!("no default port for `{other}://`; write host:port")),
        };
        return Ok(format!("{authority}:{port}"));
    }
    if text
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is neither a URL nor host:port"))
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn targets_become_host_and_port() {
        assert_eq!(
            host_port("https://bank.example/v2").unwrap(),
            "bank.example:443"
        );
        assert_eq!(
            host_port("http://127.0.0.1:8081/x").unwrap(),
            "127.0.0.1:8081"
        );
        assert_eq!(host_port("db.internal:5432").unwrap(), "db.internal:5432");
        assert!(host_port("nothing").is_err());
    }
}
