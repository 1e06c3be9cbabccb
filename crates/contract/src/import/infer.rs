//! The manifest's fields import works out from the document when the mapping does not
//! name them: `auth` from the security schemes, `idempotency` from the create operation's
//! parameters, `id_prefix` from the id's pattern; and the statuses checked against the
//! document's enum. Each inference is noted.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::import::assemble::{Build, Op};
use crate::manifest::{Auth, CANONICAL_STATUSES, Idempotency};

impl Build<'_> {
    pub(crate) fn auth(&mut self, create: &Op<'_>, token_op: Option<&Op<'_>>) -> Option<Auth> {
        let spec = &self.doc.spec;
        let requirements = if create.op.security.is_empty() {
            &spec.security
        } else {
            &create.op.security
        };
        let mut inferred: Option<(Auth, String, Option<String>)> = None;
        let mut unsupported = Vec::new();
        let schemes = spec.components.as_ref().map(|c| &c.security_schemes);
        for requirement in requirements {
            for name in requirement.0.keys() {
                let Some(scheme) = schemes
                    .and_then(|s| s.get(name))
                    .and_then(|s| s.resolve(spec).ok())
                else {
                    continue;
                };
                use oas3::spec::SecurityScheme as S;
                match scheme {
                    S::Http { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {
                        inferred.get_or_insert((
                            Auth::ApiKey,
                            format!("`{name}` (http bearer)"),
                            None,
                        ));
                    }
                    S::OAuth2 { flows, .. } if flows.client_credentials.is_some() => {
                        let url = flows
                            .client_credentials
                            .as_ref()
                            .map(|f| f.token_url.path().to_owned());
                        inferred.get_or_insert((
                            Auth::OauthClientCredentials,
                            format!("`{name}` (oauth2 clientCredentials)"),
                            url,
                        ));
                    }
                    other => unsupported.push(format!(
                        "`{name}` ({})",
                        serde_json::to_value(&other)
                            .ok()
                            .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned))
                            .unwrap_or_default()
                    )),
                }
            }
        }
        let auth = match (self.mapping.auth, &inferred) {
            (Some(auth), Some((found, from, _))) if auth != *found => {
                self.notes.inferred.push(format!(
                    "the mapping's `auth` overrides the document's security scheme {from}"
                ));
                auth
            }
            (Some(auth), _) => auth,
            (None, Some((found, from, _))) => {
                self.notes.inferred.push(format!(
                    "`auth: {}`, from the security scheme {from}",
                    match found {
                        Auth::ApiKey => "api_key",
                        Auth::OauthClientCredentials => "oauth_client_credentials",
                    }
                ));
                *found
            }
            (None, None) => {
                self.problem(format!(
                    "`auth` is not mapped and the create operation's security is no scheme the mock speaks (http bearer, oauth2 clientCredentials){}: set `auth: api_key` or `auth: oauth_client_credentials`",
                    if unsupported.is_empty() {
                        String::new()
                    } else {
                        format!("; it has {}", unsupported.join(", "))
                    }
                ));
                return None;
            }
        };
        if auth == Auth::OauthClientCredentials {
            let token_url = inferred.as_ref().and_then(|(_, _, u)| u.clone());
            match token_op {
                None => {
                    self.problem(format!(
                        "`operations.issue_token` is not mapped, and the version authenticates with OAuth client credentials: name the token endpoint's operation{}",
                        token_url
                            .map(|u| format!(" (the document's tokenUrl is `{u}`)"))
                            .unwrap_or_default()
                    ));
                    return None;
                }
                Some(op) => {
                    if let Some(url) = token_url
                        && url != op.path
                    {
                        self.notes.not_mapped.push(format!(
                            "the OAuth tokenUrl path `{url}` differs from {}, the token route the mock serves",
                            op.label()
                        ));
                    }
                }
            }
        }
        Some(auth)
    }

    pub(crate) fn idempotency(&mut self, create: &Op<'_>) -> Idempotency {
        let mut params = create.op.parameters(&self.doc.spec).unwrap_or_default();
        if let Some(item) = self
            .doc
            .spec
            .paths
            .as_ref()
            .and_then(|p| p.get(&create.path))
        {
            for p in &item.parameters {
                if let Ok(p) = p.resolve(&self.doc.spec) {
                    params.push(p);
                }
            }
        }
        let header = params.iter().find(|p| {
            p.location == oas3::spec::ParameterIn::Header
                && p.name.eq_ignore_ascii_case("idempotency-key")
        });
        let found = match header {
            Some(p) if p.required == Some(true) => Idempotency::Required,
            _ => Idempotency::None,
        };
        if let Some(given) = self.mapping.idempotency {
            return given;
        }
        self.notes.inferred.push(match (header, found) {
            (Some(_), Idempotency::Required) => format!(
                "`idempotency: required`, from {}'s required `Idempotency-Key` header",
                create.label()
            ),
            (Some(_), _) => format!(
                "`idempotency: none`: {}'s `Idempotency-Key` header is optional (set `idempotency: required` to have the mock insist)",
                create.label()
            ),
            (None, _) => format!(
                "`idempotency: none`: {} has no `Idempotency-Key` header parameter",
                create.label()
            ),
        });
        found
    }

    pub(crate) fn statuses(
        &mut self,
        status_schema: Option<&Value>,
    ) -> Option<BTreeMap<String, String>> {
        let given = &self.mapping.statuses;
        let mut ok = true;
        for canonical in CANONICAL_STATUSES {
            if !given.contains_key(canonical) {
                self.problem(format!(
                    "`statuses.{canonical}` is not mapped: give the wire value the bank uses for {}",
                    match canonical {
                        "received" => "a payment it has received",
                        "pending_review" => "a payment held for manual review",
                        "accepted" => "an accepted payment",
                        "rejected" => "a rejected payment",
                        _ => "a settled payment",
                    }
                ));
                ok = false;
            }
        }
        for key in given.keys() {
            if !CANONICAL_STATUSES.contains(&key.as_str()) {
                self.problem(format!(
                    "mapping `statuses.{key}`: not a canonical status; they are {}",
                    CANONICAL_STATUSES.join(", ")
                ));
                ok = false;
            }
        }
        let enum_values = status_schema.and_then(enum_strings);
        if let Some(values) = enum_values {
            for (canonical, wire) in given {
                if !values.contains(wire) {
                    self.problem(format!(
                        "mapping `statuses.{canonical}: {wire}`: the payment's status in the document is one of {}",
                        values.join(", ")
                    ));
                    ok = false;
                }
            }
            for value in &values {
                if !given.values().any(|w| w == value) {
                    self.notes.not_mapped.push(format!(
                        "status `{value}` of the document has no canonical status: the mock never sends it"
                    ));
                }
            }
        }
        ok.then(|| given.clone())
    }

    pub(crate) fn id_prefix(&mut self, id_schema: Option<&Value>) -> Option<String> {
        if let Some(prefix) = &self.mapping.id_prefix {
            return Some(prefix.clone());
        }
        let pattern = id_schema
            .and_then(|s| s.get("pattern"))
            .and_then(Value::as_str);
        let prefix = pattern.and_then(|p| {
            let rest = p.strip_prefix('^')?;
            let literal: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            (!literal.is_empty() && literal.len() < rest.len()).then_some(literal)
        });
        match prefix {
            Some(prefix) => {
                self.notes.inferred.push(format!(
                    "`id_prefix: {prefix}`, from the payment id's pattern `{}`",
                    pattern.unwrap_or_default()
                ));
                Some(prefix)
            }
            None => {
                self.problem(
                    "`id_prefix` is not mapped and the payment id's schema has no `pattern` starting with one (`^pmt_…`): set `id_prefix: pmt_`",
                );
                None
            }
        }
    }
}

/// The string values of a schema's `enum`, when it has one.
pub(crate) fn enum_strings(schema: &Value) -> Option<Vec<String>> {
    schema.get("enum").and_then(Value::as_array).map(|v| {
        v.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}
