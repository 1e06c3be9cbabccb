//! Injected faults: latency, 5xx, 429 with Retry-After, connection reset, malformed body.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ApiVersion;
use crate::journal::glob_match;

/// What a fault does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultKind {
    /// Answer normally, but late.
    Latency,
    /// Answer with a 5xx and the version's error body; nothing is processed.
    Error,
    /// Answer 429 with `Retry-After`; nothing is processed.
    RateLimit,
    /// Close the connection without answering; nothing is processed.
    Reset,
    /// Process the request, then send a truncated JSON body.
    Malformed,
}

impl FaultKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Error => "error",
            Self::RateLimit => "rate_limit",
            Self::Reset => "reset",
            Self::Malformed => "malformed",
        }
    }
}

fn parse_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    text.map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom))
        .transpose()
}

fn show_duration<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&humantime::format_duration(*d)),
        None => s.serialize_none(),
    }
}

/// `POST /__admin/faults` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    pub(crate) kind: FaultKind,
    /// Path glob (`*` = anything); default: every bank route.
    #[serde(default)]
    pub(crate) route: Option<String>,
    /// Only this version's routes.
    #[serde(default)]
    pub(crate) version: Option<String>,
    /// Only this method.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// How many requests it affects; default: all until `DELETE /__admin/faults`.
    #[serde(default)]
    pub(crate) count: Option<u32>,
    /// `latency`: how long (e.g. `"2s"`, `"150ms"`).
    #[serde(default, deserialize_with = "parse_duration")]
    pub(crate) delay: Option<Duration>,
    /// `error`: the status, 500–599 (default 500).
    #[serde(default)]
    pub(crate) status: Option<u16>,
    /// `rate_limit`: the `Retry-After` (default `"1s"`, sent in whole seconds).
    #[serde(default, deserialize_with = "parse_duration")]
    pub(crate) retry_after: Option<Duration>,
}

/// An armed fault, as `GET /__admin/faults` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Fault {
    pub(crate) id: String,
    pub(crate) kind: FaultKind,
    pub(crate) route: Option<String>,
    pub(crate) version: Option<ApiVersion>,
    pub(crate) method: Option<String>,
    /// Requests it will still affect (`null`: unlimited).
    pub(crate) remaining: Option<u32>,
    #[serde(serialize_with = "show_duration")]
    pub(crate) delay: Option<Duration>,
    pub(crate) status: Option<u16>,
    #[serde(serialize_with = "show_duration")]
    pub(crate) retry_after: Option<Duration>,
    pub(crate) applied: u64,
}

impl Fault {
    pub(crate) fn from_spec(id: String, spec: FaultSpec) -> Result<Self, String> {
        let version = spec
            .version
            .as_deref()
            .map(str::parse::<ApiVersion>)
            .transpose()?;
        if spec.count == Some(0) {
            return Err("`count` must be at least 1 (leave it out for no limit)".to_owned());
        }
        let status = match spec.kind {
            FaultKind::Error => {
                let status = spec.status.unwrap_or(500);
                if !(500..=599).contains(&status) {
                    return Err(format!(
                        "`status` must be 500-599 for an error fault, got {status}"
                    ));
                }
                Some(status)
            }
            _ => None,
        };
        let delay = match spec.kind {
            FaultKind::Latency => Some(
                spec.delay
                    .ok_or("a latency fault needs `delay`, e.g. \"2s\"")?,
            ),
            _ => None,
        };
        let retry_after = match spec.kind {
            FaultKind::RateLimit => Some(spec.retry_after.unwrap_or(Duration::from_secs(1))),
            _ => None,
        };
        Ok(Self {
            id,
            kind: spec.kind,
            route: spec.route,
            version,
            method: spec.method.map(|m| m.to_ascii_uppercase()),
            remaining: spec.count,
            delay,
            status,
            retry_after,
            applied: 0,
        })
    }

    fn applies(&self, method: &str, path: &str, version: Option<ApiVersion>) -> bool {
        self.route.as_deref().is_none_or(|r| glob_match(r, path))
            && self.version.is_none_or(|v| Some(v) == version)
            && self.method.as_deref().is_none_or(|m| m == method)
    }
}

/// What the armed faults do to one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Effect {
    pub(crate) delay: Option<Duration>,
    /// The first matching non-latency fault.
    pub(crate) action: Option<Fault>,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    next_id: u64,
    armed: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, spec: FaultSpec) -> Result<Fault, String> {
        self.next_id += 1;
        let fault = Fault::from_spec(format!("fault-{}", self.next_id), spec)?;
        self.armed.push(fault.clone());
        Ok(fault)
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.armed.clone()
    }

    pub(crate) fn clear(&mut self) {
        self.armed.clear();
    }

    pub(crate) fn remove(&mut self, id: &str) -> bool {
        let before = self.armed.len();
        self.armed.retain(|f| f.id != id);
        before != self.armed.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// Whether a reset would apply, without consuming anything.
    pub(crate) fn would_reset(
        &self,
        method: &str,
        path: &str,
        version: Option<ApiVersion>,
    ) -> bool {
        self.armed
            .iter()
            .find(|f| f.kind != FaultKind::Latency && f.applies(method, path, version))
            .is_some_and(|f| f.kind == FaultKind::Reset)
    }

    /// Consume what applies to this request.
    pub(crate) fn take(&mut self, method: &str, path: &str, version: Option<ApiVersion>) -> Effect {
        let mut effect = Effect::default();
        for fault in &mut self.armed {
            if !fault.applies(method, path, version) {
                continue;
            }
            let used = if fault.kind == FaultKind::Latency {
                effect.delay =
                    Some(effect.delay.unwrap_or_default() + fault.delay.unwrap_or_default());
                true
            } else if effect.action.is_none() {
                effect.action = Some(fault.clone());
                true
            } else {
                false
            };
            if used {
                fault.applied += 1;
                fault.remaining = fault.remaining.map(|n| n.saturating_sub(1));
            }
        }
        self.armed.retain(|f| f.remaining != Some(0));
        effect
    }
}
