//! API versions as data: `fixtures/bank-api/vN/manifest.json` with its schemas and templates.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use serde_json::Value;

use crate::Error;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// One embedded fixture file, by its path under `fixtures/bank-api/` (e.g. `v2/manifest.json`).
pub fn fixture(path: &str) -> Option<&'static str> {
    embedded::FIXTURES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// A version of the bank API, such as `v2`. Any `vN` with a folder under `fixtures/bank-api/`
/// is available; `V1`, `V2` and `V3` ship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiVersion(u16);

impl ApiVersion {
    /// Payments in cents, UPPERCASE statuses, API key.
    pub const V1: Self = Self(1);
    /// Decimal amounts, lowercase statuses, review object, `Idempotency-Key` required.
    pub const V2: Self = Self(2);
    /// Transfers, OAuth client-credentials tokens, renamed statuses, cursor pagination.
    pub const V3: Self = Self(3);

    /// Every version with a folder of fixtures, in order.
    pub fn available() -> Vec<Self> {
        let mut versions: Vec<Self> = embedded::FIXTURES
            .iter()
            .filter_map(|(path, _)| path.strip_suffix("/manifest.json"))
            .filter_map(|dir| dir.parse().ok())
            .collect();
        versions.sort();
        versions.dedup();
        versions
    }

    /// The number, e.g. 2.
    pub fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl FromStr for ApiVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches(['v', 'V']);
        let version = digits
            .parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .map(Self)
            .ok_or_else(|| format!("`{s}` is not an API version such as v2"))?;
        if fixture(&format!("{version}/manifest.json")).is_none() {
            let known: Vec<String> = Self::available().iter().map(ToString::to_string).collect();
            return Err(format!(
                "no bank API {version}: available versions are {}",
                known.join(", ")
            ));
        }
        Ok(version)
    }
}

impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Auth {
    ApiKey,
    OauthClientCredentials,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Idempotency {
    None,
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Operation {
    CreatePayment,
    GetPayment,
    ListPayments,
    IssueToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AmountFormat {
    MinorUnits,
    DecimalString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Field {
    pub(crate) pointer: String,
    #[serde(default)]
    pub(crate) format: Option<AmountFormat>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaymentRequest {
    pub(crate) amount: Field,
    pub(crate) currency: Field,
    pub(crate) creditor: Field,
    pub(crate) debtor: Field,
    pub(crate) reference: Field,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSpec {
    method: String,
    path: String,
    operation: Operation,
    #[serde(default)]
    request_schema: Option<String>,
    responses: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: String,
    #[expect(dead_code, reason = "documentation for readers of the fixture")]
    title: String,
    auth: Auth,
    id_prefix: String,
    idempotency: Idempotency,
    error_content_type: String,
    statuses: HashMap<String, String>,
    payment_request: PaymentRequest,
    templates: HashMap<String, String>,
    routes: Vec<RouteSpec>,
}

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
}

fn load_json(path: &str) -> Result<Value, Error> {
    let text = fixture(path).ok_or_else(|| Error::Fixture {
        path: path.to_owned(),
        reason: "the file is missing".to_owned(),
    })?;
    serde_json::from_str(text).map_err(|e| Error::Fixture {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

impl Contract {
    pub(crate) fn load(version: ApiVersion) -> Result<Self, Error> {
        let dir = version.to_string();
        let manifest_path = format!("{dir}/manifest.json");
        let manifest: Manifest =
            serde_json::from_value(load_json(&manifest_path)?).map_err(|e| Error::Fixture {
                path: manifest_path.clone(),
                reason: e.to_string(),
            })?;
        if manifest.version != dir {
            return Err(Error::Fixture {
                path: manifest_path,
                reason: format!("says version `{}`, expected `{dir}`", manifest.version),
            });
        }
        let mut templates = HashMap::new();
        for (name, file) in &manifest.templates {
            templates.insert(name.clone(), load_json(&format!("{dir}/{file}"))?);
        }
        for required in ["payment", "error"] {
            if !templates.contains_key(required) {
                return Err(Error::Fixture {
                    path: manifest_path.clone(),
                    reason: format!("no `{required}` template"),
                });
            }
        }
        let mut routes = Vec::new();
        for spec in manifest.routes {
            let request_validator = match &spec.request_schema {
                None => None,
                Some(file) => {
                    let path = format!("{dir}/{file}");
                    let schema = load_json(&path)?;
                    Some(
                        jsonschema::validator_for(&schema).map_err(|e| Error::Fixture {
                            path,
                            reason: e.to_string(),
                        })?,
                    )
                }
            };
            for file in spec.responses.values() {
                load_json(&format!("{dir}/{file}"))?;
            }
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
            routes.push(Route {
                method: spec.method.to_ascii_uppercase(),
                path: spec.path,
                segments,
                operation: spec.operation,
                request_validator,
            });
        }
        Ok(Self {
            version,
            auth: manifest.auth,
            id_prefix: manifest.id_prefix,
            idempotency: manifest.idempotency,
            error_content_type: manifest.error_content_type,
            statuses: manifest.statuses,
            request: manifest.payment_request,
            routes,
            templates,
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

    #[test]
    fn shipped_versions_load_and_parse() {
        assert_eq!(
            ApiVersion::available(),
            vec![ApiVersion::V1, ApiVersion::V2, ApiVersion::V3]
        );
        for v in ApiVersion::available() {
            let contract = Contract::load(v);
            assert!(contract.is_ok(), "{v}: {:?}", contract.err());
        }
        assert_eq!("V2".parse(), Ok(ApiVersion::V2));
        assert_eq!(
            "v9".parse::<ApiVersion>(),
            Err("no bank API v9: available versions are v1, v2, v3".to_owned())
        );
    }

    #[test]
    fn routes_match_literals_and_one_param() {
        let Ok(c) = Contract::load(ApiVersion::V3) else {
            panic!("v3 loads")
        };
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
