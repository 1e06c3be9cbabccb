//! A version folder from a [`Recording`]: the manifest (routes, operations, auth, statuses,
//! where the payment's fields are), a schema per route and status, the templates the mock
//! needs and example requests, all scrubbed of credentials and checked as a folder read
//! from disk would be. With `--from`, the earlier version's folder with only what the
//! traffic contradicts or adds replaced.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::error::FolderError;
use crate::folder::VersionFolder;
use crate::manifest::{Auth, Idempotency, Manifest, Operation, PaymentRequest, RouteSpec};
use crate::record::facts;
use crate::record::recording::{Observed, Recording};
use crate::record::redact::{leaks, scrub, scrub_text};
use crate::record::routes::Shape;
use crate::record::templates;
use crate::version::ApiVersion;

/// How to build the folder.
#[derive(Debug, Clone)]
pub struct BuildOptions<'a> {
    /// The version written (the out folder's name).
    pub version: ApiVersion,
    /// The out folder, as shown in messages.
    pub shown: &'a Path,
    /// The version to start from (`--from`).
    pub from: Option<&'a VersionFolder>,
    /// Canonical status → wire spelling, given by the user (`--status rejected=declined`).
    pub statuses: BTreeMap<String, String>,
    /// Where the traffic went, for the manifest's title (`127.0.0.1:8081 on 2025-01-06`).
    pub source: String,
}

/// A built folder, what differs from `--from` (or what was recorded), and what a person
/// should still check.
#[derive(Debug, Clone)]
pub struct Built {
    /// The folder, checked.
    pub folder: VersionFolder,
    /// One line per change (vs `--from`), or per route recorded.
    pub changes: Vec<String>,
    /// One line per thing to check or edit by hand.
    pub to_check: Vec<String>,
}

/// Why no folder could be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecordError {
    /// Nothing (or nothing usable) went through the recorder.
    #[error("{0}")]
    Nothing(String),
    /// The traffic does not tell something the folder needs, and nothing else said it.
    #[error("{0}")]
    Incomplete(String),
    /// The folder built is not valid (a bug).
    #[error("the recorded folder is not valid: {0}")]
    Folder(#[from] FolderError),
    /// A credential would have been written (a bug; nothing was written).
    #[error("{0}")]
    Leak(String),
}

struct RouteOut {
    spec: RouteSpec,
    from_route: Option<usize>,
}

impl Recording {
    /// The version folder this recording makes (nothing is written: see
    /// [`VersionFolder::write_to`]).
    pub fn build(&self, options: &BuildOptions<'_>) -> Result<Built, RecordError> {
        let mut rec = self.clone();
        rec.merge_routes();
        let from = options.from;
        let from_manifest = from.map(|f| &f.manifest);
        let mut changes = Vec::new();
        let mut to_check = Vec::new();
        let matcher = rec.secrets.matcher();
        if rec.routes.is_empty() {
            return Err(RecordError::Nothing(
                "nothing was recorded: point the platform's bank URL (e.g. BANK_BASE_URL) at the recorder and run the flows, then save".to_owned(),
            ));
        }

        // What each route does.
        let mut served: Vec<(&Observed, Operation)> = Vec::new();
        for route in &rec.routes {
            let op = route
                .from_route
                .and_then(|i| from_manifest.map(|m| m.routes[i].operation))
                .or_else(|| route.shape.operation());
            match op {
                Some(op) => served.push((route, op)),
                None => to_check.push(format!(
                    "{} {} was observed but the mock has no operation for it: not in the manifest",
                    route.shape.method,
                    route.shape.path()
                )),
            }
        }
        let of = |op: Operation| {
            served
                .iter()
                .filter(move |(_, o)| *o == op)
                .map(|(r, _)| *r)
        };
        let ok = |r: &&Observed| r.responses.keys().any(|s| (200..300).contains(s));

        // Auth.
        let auth = if of(Operation::IssueToken).any(|r| ok(&r)) {
            Auth::OauthClientCredentials
        } else {
            from_manifest.map_or(Auth::ApiKey, |m| m.auth)
        };
        // Idempotency.
        let creates: Vec<&Observed> = of(Operation::CreatePayment).collect();
        let create_count: u64 = creates.iter().map(|r| r.requests).sum();
        let keyed: u64 = creates.iter().map(|r| r.with_idempotency_key).sum();
        let idempotency = if create_count == 0 {
            from_manifest.map_or(Idempotency::None, |m| m.idempotency)
        } else if keyed == create_count {
            Idempotency::Required
        } else {
            Idempotency::None
        };
        // The create requests and answers.
        let create_pairs: Vec<(&Value, &Value)> = creates
            .iter()
            .flat_map(|r| r.responses.iter())
            .filter(|(s, _)| (200..300).contains(*s))
            .flat_map(|(_, resp)| resp.samples.iter())
            .filter_map(|(req, resp)| req.as_ref().map(|q| (q, resp)))
            .collect();
        let first_body = creates.iter().find_map(|r| r.request_samples.first());
        let payment_request = choose_payment_request(first_body, from_manifest, &mut to_check)?;
        // Statuses.
        let mut wire: Vec<String> = Vec::new();
        for (route, op) in &served {
            if matches!(op, Operation::CreatePayment | Operation::GetPayment) {
                for s in &route.statuses {
                    if !wire.contains(s) {
                        wire.push(s.clone());
                    }
                }
            }
        }
        let (statuses, missing, unknown) =
            facts::statuses(&wire, &options.statuses, from_manifest.map(|m| &m.statuses));
        if !missing.is_empty() {
            let seen = if wire.is_empty() {
                "none".to_owned()
            } else {
                wire.join(", ")
            };
            return Err(RecordError::Incomplete(format!(
                "the traffic did not show the bank's spelling of the status{} {} (statuses seen: {seen}); a recorder does not guess them: give each with --status {}=<spelling> (repeatable), or start from a version that has them with --from vN",
                if missing.len() == 1 { "" } else { "es" },
                missing.join(", "),
                missing[0]
            )));
        }
        for u in &unknown {
            to_check.push(format!(
                "the status `{u}` was observed but means none of received, pending_review, accepted, rejected, settled: map it by hand in manifest.json `statuses` if it is one"
            ));
        }
        // Ids, errors.
        let id_prefix = facts::id_prefix(
            create_pairs
                .iter()
                .filter_map(|(_, a)| a.get("id").and_then(Value::as_str)),
        )
        .or_else(|| from_manifest.map(|m| m.id_prefix.clone()))
        .unwrap_or_default();
        let error_content_type = served
            .iter()
            .filter(|(_, op)| *op != Operation::IssueToken)
            .flat_map(|(r, _)| r.responses.iter())
            .filter(|(s, _)| (400..500).contains(*s))
            .find_map(|(_, resp)| resp.content_type.clone())
            .filter(|c| c.contains("json"))
            .or_else(|| from_manifest.map(|m| m.error_content_type.clone()))
            .unwrap_or_else(|| "application/json".to_owned());

        // Files: the earlier version's, then what is recorded.
        let mut files: BTreeMap<String, String> = from
            .map(|f| {
                f.files()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let m = matcher.as_ref();

        // Routes.
        let version_prefix = from.and_then(|f| {
            let v = f.version.to_string();
            rec.routes.iter().find_map(|r| {
                let fr = r.from_route?;
                let old =
                    Shape::of_template(&f.manifest.routes[fr].method, &f.manifest.routes[fr].path);
                (old != r.shape).then(|| {
                    r.shape
                        .segments
                        .iter()
                        .zip(&old.segments)
                        .find_map(|(now, was)| match (now, was) {
                            (
                                crate::record::routes::Seg::Literal(n),
                                crate::record::routes::Seg::Literal(w),
                            ) if *w == v && n != w => Some((v.clone(), n.clone())),
                            _ => None,
                        })
                })?
            })
        });
        let mut routes: Vec<RouteOut> = match from_manifest {
            Some(m) => m
                .routes
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut spec = r.clone();
                    if let Some((old, new)) = &version_prefix {
                        spec.path = Shape::of_template(&r.method, &r.path)
                            .reprefixed(old, new)
                            .path();
                    }
                    RouteOut {
                        spec,
                        from_route: Some(i),
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        if let Some((old, new)) = &version_prefix {
            changes.push(format!("route paths moved from /{old}/ to /{new}/"));
        }
        let mut served_sorted = served.clone();
        served_sorted.sort_by_key(|(r, op)| {
            (
                *op != Operation::IssueToken,
                r.shape.path(),
                r.shape.method.clone(),
            )
        });
        for (route, op) in &served_sorted {
            let at = routes
                .iter()
                .position(|r| route.from_route.is_some() && r.from_route == route.from_route);
            let index = match at {
                Some(i) => i,
                None => {
                    routes.push(RouteOut {
                        spec: RouteSpec {
                            required_headers: Vec::new(),
                            method: route.shape.method.clone(),
                            path: route.shape.path(),
                            operation: *op,
                            request_schema: None,
                            responses: BTreeMap::new(),
                        },
                        from_route: None,
                    });
                    if from.is_some() {
                        changes.push(format!(
                            "new route {} {} ({})",
                            route.shape.method,
                            route.shape.path(),
                            op_name(*op)
                        ));
                    }
                    routes.len() - 1
                }
            };
            let slug = route.shape.slug();
            let label = format!("{} {}", route.shape.method, route.shape.path());
            // The request schema (creates only: the engine validates their bodies).
            if *op == Operation::CreatePayment && route.request_schema.observations() > 0 {
                let existing = routes[index].spec.request_schema.clone();
                let keep = existing
                    .as_deref()
                    .and_then(|file| check_existing(from, file, route.request_samples.iter()));
                match (existing, keep) {
                    (Some(_), Some(Ok(()))) => {}
                    (existing, verdict) => {
                        let rel = format!("schemas/{slug}.request.json");
                        let schema = route
                            .request_schema
                            .schema(Some(&format!("{label} request (recorded)")));
                        put(&mut files, m, rel.clone(), &schema, false);
                        if let (Some(old), Some(Err(why))) = (&existing, &verdict) {
                            changes.push(format!("{label} request: {old} does not accept what was sent ({why}): now {rel}"));
                        } else if from.is_some() {
                            changes.push(format!("{label} request: schema recorded as {rel}"));
                        }
                        routes[index].spec.request_schema = Some(rel);
                    }
                }
            }
            for (status, responses) in &route.responses {
                let key = status.to_string();
                if responses.schema.observations() == 0 {
                    if !routes[index].spec.responses.contains_key(&key) {
                        to_check.push(format!(
                            "{label} answered {status} without a JSON body: no schema written"
                        ));
                    }
                    continue;
                }
                let existing = routes[index].spec.responses.get(&key).cloned();
                let verdict = existing.as_deref().and_then(|file| {
                    check_existing(from, file, responses.samples.iter().map(|(_, a)| a))
                });
                if let (Some(_), Some(Ok(()))) = (&existing, &verdict) {
                    continue;
                }
                let rel = format!("schemas/{slug}.{status}.json");
                let schema = responses
                    .schema
                    .schema(Some(&format!("{label} {status} (recorded)")));
                put(&mut files, m, rel.clone(), &schema, false);
                match (&existing, &verdict) {
                    (Some(old), Some(Err(why))) => changes.push(format!(
                        "{label} {status}: {old} does not accept what the bank answered ({why}): now {rel}"
                    )),
                    _ if from.is_some() => changes.push(format!("{label}: new response {status} ({rel})")),
                    _ => {}
                }
                routes[index].spec.responses.insert(key, rel);
            }
            if from.is_none() {
                let statuses: Vec<String> = route.responses.keys().map(u16::to_string).collect();
                changes.push(format!(
                    "{label} ({}): {} request(s), answered {}",
                    op_name(*op),
                    route.requests,
                    statuses.join(", ")
                ));
            }
        }

        // Templates.
        let mut template_files: BTreeMap<String, String> = from_manifest
            .map(|m| m.templates.clone())
            .unwrap_or_default();
        let payment_sample = create_pairs.first().copied();
        let mut t = Templates {
            names: &mut template_files,
            files: &mut files,
            matcher: m,
            to_check: &mut to_check,
        };
        t.need(
            "payment",
            payment_sample
                .map(|(req, answer)| templates::payment(answer, Some(req), &payment_request)),
        );
        if !t.names.contains_key("payment") {
            return Err(RecordError::Incomplete(
                "no payment was created through the recorder (no 2xx answer to a POST that creates one): the folder needs one to know the payment's shape; run a flow that creates a payment, or start from a version with --from vN".to_owned(),
            ));
        }
        let error_sample = served
            .iter()
            .filter(|(_, op)| *op != Operation::IssueToken)
            .flat_map(|(r, _)| r.responses.iter())
            .filter(|(s, _)| (400..500).contains(*s))
            .find_map(|(s, resp)| resp.samples.first().map(|(_, a)| (*s, a.clone())));
        if error_sample.is_none() && !t.names.contains_key("error") {
            t.to_check.push("no error answer was observed: templates/error.json is a generic {error, message} body".to_owned());
        }
        t.need(
            "error",
            Some(error_sample.as_ref().map_or_else(
                || serde_json::json!({"error": "{{code}}", "message": "{{message}}"}),
                |(s, a)| templates::error(a, *s),
            )),
        );
        if auth == Auth::OauthClientCredentials {
            let token_answers: Vec<&Observed> = of(Operation::IssueToken).collect();
            let token_ok = token_answers
                .iter()
                .flat_map(|r| r.responses.iter())
                .filter(|(s, _)| (200..300).contains(*s))
                .find_map(|(_, resp)| resp.samples.first().map(|(_, a)| a.clone()));
            let token_err = token_answers
                .iter()
                .flat_map(|r| r.responses.iter())
                .filter(|(s, _)| (400..500).contains(*s))
                .find_map(|(_, resp)| resp.samples.first().map(|(_, a)| a.clone()));
            t.need("token", token_ok.as_ref().map(templates::token));
            t.need(
                "oauth_error",
                Some(templates::oauth_error(token_err.as_ref())),
            );
        }
        let list_sample = of(Operation::ListPayments)
            .flat_map(|r| r.responses.iter())
            .filter(|(s, _)| (200..300).contains(*s))
            .find_map(|(_, resp)| resp.samples.first().map(|(_, a)| a.clone()));
        t.need("list", list_sample.as_ref().map(templates::list));
        if from.is_some() {
            for (name, rel) in &template_files {
                if from_manifest.is_some_and(|m| !m.templates.contains_key(name)) {
                    changes.push(format!("new template `{name}` ({rel})"));
                }
            }
            if changes
                .iter()
                .any(|c| c.contains("does not accept what the bank answered"))
            {
                to_check.push("some answers no longer match the earlier schemas: the templates are the earlier version's, check that they render what the bank now answers".to_owned());
            }
        }

        // Examples: create requests, credentials removed.
        let mut seen = Vec::new();
        for route in &creates {
            if route.from_route.is_some() && from.is_some() {
                continue;
            }
            for body in &route.request_samples {
                let text = body.to_string();
                if seen.contains(&text) || seen.len() >= 3 {
                    continue;
                }
                seen.push(text);
                let rel = format!("examples/{}-{}.json", route.shape.slug(), seen.len());
                put(&mut files, m, rel, body, true);
            }
        }

        // The manifest.
        let manifest = Manifest {
            version: options.version.to_string(),
            title: match from {
                Some(f) => format!(
                    "Bank API {}, recorded from {} (starting from {})",
                    options.version, options.source, f.version
                ),
                None => format!(
                    "Bank API {}, recorded from {}",
                    options.version, options.source
                ),
            },
            auth,
            id_prefix,
            idempotency,
            error_content_type,
            statuses,
            payment_request,
            templates: template_files,
            routes: routes.into_iter().map(|r| r.spec).collect(),
            // What a recording cannot observe is kept from `--from`: the headers the bank
            // requires and its webhooks (their files come with the rest of that folder).
            required_headers: from_manifest
                .map(|m| m.required_headers.clone())
                .unwrap_or_default(),
            webhooks: from_manifest.and_then(|m| m.webhooks.clone()),
        };
        if let Some(m) = from_manifest {
            diff_manifest(m, &manifest, &mut changes);
        }
        let value = serde_json::to_value(&manifest).unwrap_or(Value::Null);
        put(&mut files, m, "manifest.json".to_owned(), &value, false);
        for (rel, text) in &files {
            if leaks(text, matcher.as_ref()) {
                return Err(RecordError::Leak(format!(
                    "refusing to write the folder: {rel} would hold a credential seen in the traffic (please report this)"
                )));
            }
        }
        let folder = VersionFolder::from_files(options.version, options.shown, files)?;
        if from.is_some() && changes.is_empty() {
            changes.push(format!(
                "no change from {}",
                from.map(|f| f.version.to_string()).unwrap_or_default()
            ));
        }
        // The lines are printed: a schema's refusal may quote a value that was sent.
        let clean = |lines: Vec<String>| lines.iter().map(|l| scrub_text(l, m)).collect();
        Ok(Built {
            folder,
            changes: clean(changes),
            to_check: clean(to_check),
        })
    }
}

/// `create_payment`, as the manifest spells it.
fn op_name(op: Operation) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn put(
    files: &mut BTreeMap<String, String>,
    matcher: Option<&aho_corasick::AhoCorasick>,
    rel: String,
    value: &Value,
    by_key: bool,
) {
    let clean = scrub(value, matcher, by_key);
    let mut text = serde_json::to_string_pretty(&clean).unwrap_or_default();
    text.push('\n');
    files.insert(rel, text);
}

/// The templates written: each made once, when the earlier version has none by that name.
struct Templates<'a> {
    names: &'a mut BTreeMap<String, String>,
    files: &'a mut BTreeMap<String, String>,
    matcher: Option<&'a aho_corasick::AhoCorasick>,
    to_check: &'a mut Vec<String>,
}

impl Templates<'_> {
    fn need(&mut self, name: &str, value: Option<Value>) {
        if self.names.contains_key(name) {
            return;
        }
        let Some(value) = value else { return };
        let rel = format!("templates/{}.json", name.replace('_', "-"));
        put(self.files, self.matcher, rel.clone(), &value, true);
        self.names.insert(name.to_owned(), rel.clone());
        self.to_check.push(format!(
            "{rel} was made from one observed answer: check its literal values"
        ));
    }
}

/// `Some(Ok)` when the earlier folder's schema `file` accepts every sample, `Some(Err)`
/// with the first refusal, `None` when there is no such schema to check.
fn check_existing<'v>(
    from: Option<&VersionFolder>,
    file: &str,
    samples: impl Iterator<Item = &'v Value>,
) -> Option<Result<(), String>> {
    let schema = from?.json(file)?;
    let validator = jsonschema::validator_for(&schema).ok()?;
    for sample in samples {
        if let Some(e) = validator.iter_errors(sample).next() {
            let at = e.instance_path().to_string();
            return Some(Err(format!(
                "at `{}`: {e}",
                if at.is_empty() { "/".to_owned() } else { at }
            )));
        }
    }
    Some(Ok(()))
}

fn choose_payment_request(
    body: Option<&Value>,
    from: Option<&Manifest>,
    to_check: &mut Vec<String>,
) -> Result<PaymentRequest, RecordError> {
    if let Some(m) = from {
        let fits = body.is_none_or(|b| b.pointer(&m.payment_request.amount.pointer).is_some());
        if fits {
            return Ok(m.payment_request.clone());
        }
    }
    match body.and_then(facts::payment_request) {
        Some(found) => {
            for (name, field) in [("currency", &found.currency), ("creditor", &found.creditor), ("debtor", &found.debtor), ("reference", &found.reference)] {
                if body.is_some_and(|b| b.pointer(&field.pointer).is_none()) {
                    to_check.push(format!("the create requests hold no {name} where `payment_request.{name}` points ({}): set it in manifest.json", field.pointer));
                }
            }
            Ok(found)
        }
        None => Err(RecordError::Incomplete(match body {
            Some(_) => "the create requests hold no amount the recorder can find (a decimal string such as \"25000.00\", or whole minor units at a key like amount_cents): start from a version that says where it is with --from vN".to_owned(),
            None => "no payment was created through the recorder (no POST with a JSON body to a collection): run a flow that creates a payment, or start from a version with --from vN".to_owned(),
        })),
    }
}

fn diff_manifest(old: &Manifest, new: &Manifest, changes: &mut Vec<String>) {
    if old.auth != new.auth {
        let name = |a: Auth| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        changes.push(format!("auth: {} → {}", name(old.auth), name(new.auth)));
    }
    if old.idempotency != new.idempotency {
        let name = |i: Idempotency| {
            serde_json::to_value(i)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        changes.push(format!(
            "idempotency: {} → {}",
            name(old.idempotency),
            name(new.idempotency)
        ));
    }
    if old.id_prefix != new.id_prefix {
        changes.push(format!(
            "id_prefix: `{}` → `{}`",
            old.id_prefix, new.id_prefix
        ));
    }
    if old.error_content_type != new.error_content_type {
        changes.push(format!(
            "error_content_type: {} → {}",
            old.error_content_type, new.error_content_type
        ));
    }
    for (c, wire) in &new.statuses {
        if old.statuses.get(c) != Some(wire) {
            changes.push(format!(
                "status {c}: `{}` → `{wire}`",
                old.statuses.get(c).map_or("", String::as_str)
            ));
        }
    }
    if old.payment_request != new.payment_request {
        changes.push("payment_request: the payment's fields moved (see manifest.json)".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::exchange::Exchange;
    use crate::{Catalog, REDACTED};
    use serde_json::json;

    fn exchange(
        method: &str,
        path: &str,
        request: Option<Value>,
        status: u16,
        answer: Value,
    ) -> Exchange {
        Exchange {
            method: method.into(),
            path: path.into(),
            request_headers: vec![
                (
                    "authorization".into(),
                    "Bearer tok_0123456789abcdef0123456789abcdef".into(),
                ),
                ("idempotency-key".into(), "k-1".into()),
                ("content-type".into(), "application/json".into()),
            ],
            request_body: request
                .map(|r| r.to_string().into_bytes())
                .unwrap_or_default(),
            status,
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: answer.to_string().into_bytes(),
        }
    }

    fn transfer(id: &str, status: &str, extra: Option<(&str, Value)>) -> Value {
        let mut t = json!({
            "id": id, "status": status,
            "amount": {"value": "12.00", "currency": "EUR"},
            "creditor": {"name": "A", "iban": "GB33"}, "debtor": {"name": "B", "iban": "DE89"},
            "remittance_information": "r-1",
            "review": {"required": false, "reason": null, "decision": null, "decided_at": null, "note": null},
            "history": [{"status": "submitted", "at": "2025-01-06T09:00:00Z"}, {"status": status, "at": "2025-01-06T09:00:00Z"}],
            "created_at": "2025-01-06T09:00:00Z", "updated_at": "2025-01-06T09:00:00Z"
        });
        if let (Some((k, v)), Value::Object(map)) = (extra, &mut t) {
            map.insert(k.into(), v);
        }
        t
    }

    fn body() -> Value {
        json!({"amount": {"value": "12.00", "currency": "EUR"}, "creditor": {"name": "A", "iban": "GB33"},
               "debtor": {"name": "B", "iban": "DE89"}, "remittance_information": "r-1",
               "client_secret": "very-secret-value"})
    }

    #[test]
    fn from_an_earlier_version_only_what_changed_is_replaced_under_the_new_prefix() {
        let catalog = Catalog::builtin();
        let v3 = catalog.get(crate::ApiVersion::V3).map(|f| (**f).clone());
        let Some(v3) = v3 else {
            panic!("v3 is built in")
        };
        let mut rec = Recording::new(Some(&v3));
        rec.observe(&exchange(
            "POST",
            "/v5/transfers",
            Some(body()),
            201,
            transfer(
                "trf_0123456789abcdef",
                "approved",
                Some(("fee", json!({"value": "0.10"}))),
            ),
        ));
        rec.observe(&exchange(
            "GET",
            "/v5/transfers/trf_0123456789abcdef",
            None,
            200,
            transfer(
                "trf_0123456789abcdef",
                "settled_ok",
                Some(("fee", json!({"value": "0.10"}))),
            ),
        ));
        rec.observe(&exchange(
            "DELETE",
            "/v5/transfers/trf_0123456789abcdef",
            None,
            204,
            Value::Null,
        ));
        let out = Path::new("bank-api/v5");
        let options = BuildOptions {
            version: ApiVersion::new(5).unwrap_or(ApiVersion::V3),
            shown: out,
            from: Some(&v3),
            statuses: BTreeMap::new(),
            source: "sandbox on 2025-01-06".into(),
        };
        let built = rec.build(&options).unwrap_or_else(|e| panic!("{e}"));
        let m = &built.folder.manifest;
        assert_eq!(m.version, "v5");
        let paths: Vec<&str> = m.routes.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/oauth/token",
                "/v5/transfers",
                "/v5/transfers",
                "/v5/transfers/{id}"
            ]
        );
        let changes = built.changes.join("\n");
        assert!(
            changes.contains("route paths moved from /v3/ to /v5/"),
            "{changes}"
        );
        // `fee` is not a field of v3's transfer (additionalProperties: false): replaced.
        assert!(
            changes.contains("POST /v5/transfers 201: schemas/transfer.json does not accept"),
            "{changes}"
        );
        assert_eq!(
            m.routes[1].responses["201"],
            "schemas/post-v5-transfers.201.json"
        );
        // The statuses come from v3 where the traffic showed none of their spellings.
        assert_eq!(m.statuses["rejected"], "declined");
        let check = built.to_check.join("\n");
        assert!(check.contains("`settled_ok`"), "{check}");
        assert!(check.contains("DELETE /v5/transfers/{id}"), "{check}");
        // v3's templates and untouched schemas are kept as they were.
        assert_eq!(
            built.folder.file("templates/transfer.json"),
            v3.file("templates/transfer.json")
        );
        assert_eq!(
            built.folder.file("schemas/token.json"),
            v3.file("schemas/token.json")
        );
        // Nothing of the credentials.
        for (rel, text) in built.folder.files() {
            assert!(
                !text.contains("very-secret-value") && !text.contains("tok_0123456789abcdef0123"),
                "{rel}"
            );
        }
    }

    #[test]
    fn without_an_earlier_version_everything_is_recorded_and_secrets_removed() {
        let mut rec = Recording::new(None);
        rec.observe(&exchange(
            "POST",
            "/v9/payments",
            Some(body()),
            201,
            transfer("pay_0123456789ab", "in_review", None),
        ));
        rec.observe(&exchange(
            "GET",
            "/v9/payments/pay_0123456789ab",
            None,
            404,
            json!({"error": {"code": "not_found", "message": "no such payment"}}),
        ));
        let out = Path::new("bank-api/v9");
        let mut options = BuildOptions {
            version: ApiVersion::new(9).unwrap_or(ApiVersion::V3),
            shown: out,
            from: None,
            statuses: BTreeMap::new(),
            source: "sandbox on 2025-01-06".into(),
        };
        let Err(RecordError::Incomplete(why)) = rec.build(&options) else {
            panic!("statuses are not guessed")
        };
        assert!(
            why.contains("accepted, rejected, settled")
                && why.contains("--status accepted=<spelling>"),
            "{why}"
        );
        for (c, w) in [("accepted", "ok"), ("rejected", "ko"), ("settled", "done")] {
            options.statuses.insert(c.into(), w.into());
        }
        let built = rec.build(&options).unwrap_or_else(|e| panic!("{e}"));
        let m = &built.folder.manifest;
        assert_eq!(
            (m.auth, m.idempotency, m.id_prefix.as_str()),
            (Auth::ApiKey, Idempotency::Required, "pay_")
        );
        assert_eq!(m.statuses["pending_review"], "in_review");
        assert_eq!(m.statuses["received"], "submitted");
        let example = built
            .folder
            .json("examples/post-v9-payments-1.json")
            .unwrap_or_default();
        assert_eq!(example["client_secret"], REDACTED);
        let error = built.folder.json(&m.templates["error"]).unwrap_or_default();
        assert_eq!(
            error,
            json!({"error": {"code": "{{code}}", "message": "{{message}}"}})
        );
        let request = built
            .folder
            .json("schemas/post-v9-payments.request.json")
            .unwrap_or_default();
        assert_eq!(
            request["properties"]["amount"]["properties"]["value"]["pattern"],
            "^-?[0-9]+\\.[0-9]+$"
        );
        assert!(
            Recording::new(None)
                .build(&options)
                .is_err_and(|e| matches!(e, RecordError::Nothing(_)))
        );
    }
}
