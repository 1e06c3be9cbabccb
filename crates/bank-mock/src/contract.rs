//! A version folder compiled for serving: its routes matched by shape, request schemas
//! compiled, templates parsed. The folder itself (`rehearse_contract::VersionFolder`) is
//! data, built in or read at run time.

use std::collections::HashMap;
use std::fmt;

use rehearse_contract::{PaymentRequest, VersionFolder};
use serde_json::Value;

pub(crate) use rehearse_contract::{AmountFormat, Auth, Field, Idempotency, Operation};
pub use rehearse_contract::{ApiVersion, Catalog, fixture};

use crate::Error;

#[derive(Debug)]
pub(crate) enum Segment {
    Literal(String),
    Param,
}

pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) segments: Vec<Segment>,
    pub(crate) operation: Operation,
    pub(crate) request_validator: Option<jsonschema::Validator>,
    /// Headers the route refuses to go without (the version's and its own), answered with
    /// a 400 naming the header. `Idempotency-Key` on a create is the engine's own check.
    pub(crate) required_headers: Vec<String>,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

impl Route {
    /// The `{id}` parameter when `path` matches this route's shape.
    pub(crate) fn matches<'p>(&self, path: &'p str) -> Option<Option<&'p str>> {
        let mut parts = path.trim_start_matches('/').split('/');
        let mut param = None;
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Param if !part.is_empty() => param = Some(part),
                Segment::Param => return None,
            }
        }
        parts.next().is_none().then_some(param)
    }
}

/// One API version, loaded and compiled.
#[derive(Debug)]
pub(crate) struct Contract {
    pub(crate) version: ApiVersion,
    pub(crate) auth: Auth,
    pub(crate) id_prefix: String,
    pub(crate) idempotency: Idempotency,
    pub(crate) error_content_type: String,
    pub(crate) statuses: HashMap<String, String>,
    pub(crate) request: PaymentRequest,
    pub(crate) routes: Vec<Route>,
    templates: HashMap<String, Value>,
    /// Status-change webhooks, when the version sends them.
    pub(crate) webhooks: Option<WebhookContract>,
}

/// What a version says about its webhooks, ready to use.
#[derive(Debug, Clone)]
pub(crate) struct WebhookContract {
    /// `/v2/webhooks`.
    pub(crate) registration: String,
    /// The event body template.
    pub(crate) event: Value,
    /// `Bank-Signature`, lowercase.
    pub(crate) signature_header: String,
}

impl Contract {
    /// Compiles a checked folder (its files are all there and parse: `VersionFolder` saw
    /// to it); a request schema the validator refuses is still reported, naming the file.
    pub(crate) fn load(folder: &VersionFolder) -> Result<Self, Error> {
        let manifest = &folder.manifest;
        let fixture_error = |rel: &str, reason: String| Error::Fixture {
            path: format!("{}/{rel}", folder.version),
            reason,
        };
        let json = |rel: &str| {
            folder
                .json(rel)
                .ok_or_else(|| fixture_error(rel, "the file is missing or not JSON".to_owned()))
        };
        let mut templates = HashMap::new();
        for (name, file) in &manifest.templates {
            templates.insert(name.clone(), json(file)?);
        }
        let webhooks = match &manifest.webhooks {
            None => None,
            Some(hooks) => Some(WebhookContract {
                registration: hooks.registration.trim_end_matches('/').to_owned(),
                event: json(&hooks.event_template)?,
                signature_header: hooks.signature_header.to_ascii_lowercase(),
            }),
        };
        let mut routes = Vec::new();
        for spec in &manifest.routes {
            let request_validator = match &spec.request_schema {
                None => None,
                Some(file) => Some(
                    jsonschema::validator_for(&json(file)?)
                        .map_err(|e| fixture_error(file, e.to_string()))?,
                ),
            };
            let segments = spec
                .path
                .trim_start_matches('/')
                .split('/')
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        Segment::Param
                    } else {
                        Segment::Literal(s.to_owned())
                    }
                })
                .collect();
            let idempotent_create = spec.operation == Operation::CreatePayment
                && manifest.idempotency == Idempotency::Required;
            let mut required_headers = manifest.required_headers_of(spec);
            required_headers
                .retain(|h| !(idempotent_create && h.eq_ignore_ascii_case("Idempotency-Key")));
            routes.push(Route {
                required_headers,
                method: spec.method.to_ascii_uppercase(),
                path: spec.path.clone(),
                segments,
                operation: spec.operation,
                request_validator,
            });
        }
        Ok(Self {
            version: folder.version,
            auth: manifest.auth,
            id_prefix: manifest.id_prefix.clone(),
            idempotency: manifest.idempotency,
            error_content_type: manifest.error_content_type.clone(),
            statuses: manifest
                .statuses
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            request: manifest.payment_request.clone(),
            routes,
            templates,
            webhooks,
        })
    }

    pub(crate) fn template(&self, name: &str) -> Option<&Value> {
        self.templates.get(name)
    }

    /// The wire spelling of a canonical status.
    pub(crate) fn status(&self, canonical: &str) -> String {
        self.statuses
            .get(canonical)
            .cloned()
            .unwrap_or_else(|| canonical.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(v: ApiVersion) -> Contract {
        let catalog = Catalog::builtin();
        let Ok(folder) = catalog.require(v) else {
            panic!("{v} is built in")
        };
        match Contract::load(folder) {
            Ok(c) => c,
            Err(e) => panic!("{v}: {e}"),
        }
    }

    #[test]
    fn shipped_versions_compile() {
        let catalog = Catalog::builtin();
        assert_eq!(
            catalog.versions(),
            vec![
                ApiVersion::V1,
                ApiVersion::V2,
                ApiVersion::V3,
                ApiVersion::new(4).unwrap_or(ApiVersion::V1)
            ]
        );
        for v in catalog.versions() {
            let _ = load(v);
        }
        assert_eq!(
            catalog
                .require(ApiVersion::new(9).unwrap_or(ApiVersion::V1))
                .err(),
            Some("no bank API v9: available versions are v1, v2, v3, v4".to_owned())
        );
    }

    #[test]
    fn routes_match_literals_and_one_param() {
        let c = load(ApiVersion::V3);
        let found: Vec<_> = c
            .routes
            .iter()
            .filter_map(|r| {
                r.matches("/v3/transfers/trf_1")
                    .map(|p| (r.path.clone(), p))
            })
            .collect();
        assert_eq!(
            found,
            vec![("/v3/transfers/{id}".to_owned(), Some("trf_1"))]
        );
        assert!(
            c.routes
                .iter()
                .all(|r| r.matches("/v3/transfers/a/b").is_none())
        );
    }
}
