//! Injected faults: latency, 5xx, 429 with Retry-After, connection reset, malformed body on
//! the bank's API; duplicated, reordered, delayed, dropped and badly signed webhooks.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ApiVersion;
use crate::filter::{CONDITION_KEYS, Condition, Seen};
use crate::journal::glob_match;

/// How long a fault stays armed when its request gives no `ttl`: long enough for a
/// scenario's flow, short enough that a run killed half-way does not leave a shared bank
/// failing for the next one.
pub(crate) const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);

/// The longest `ttl` a fault may ask for.
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Conditions one fault may hold (as many as a journal query).
const MAX_CONDITIONS: usize = 32;

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
    /// Deliver a webhook event twice (same event id, same body).
    WebhookDuplicate,
    /// Hold an event and deliver it right after the next event of the same payment.
    WebhookOutOfOrder,
    /// Deliver an event `delay` of bank time late.
    WebhookDelayed,
    /// Never deliver an event.
    WebhookDropped,
    /// Sign one delivery with a wrong secret (a retry signs it right).
    WebhookBadSignature,
}

impl FaultKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::Error => "error",
            Self::RateLimit => "rate_limit",
            Self::Reset => "reset",
            Self::Malformed => "malformed",
            Self::WebhookDuplicate => "webhook_duplicate",
            Self::WebhookOutOfOrder => "webhook_out_of_order",
            Self::WebhookDelayed => "webhook_delayed",
            Self::WebhookDropped => "webhook_dropped",
            Self::WebhookBadSignature => "webhook_bad_signature",
        }
    }

    /// Whether it applies to webhook deliveries (and never to requests).
    pub(crate) fn is_webhook(self) -> bool {
        matches!(
            self,
            Self::WebhookDuplicate
                | Self::WebhookOutOfOrder
                | Self::WebhookDelayed
                | Self::WebhookDropped
                | Self::WebhookBadSignature
        )
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

/// A time left, in whole seconds rounded up (`5m` right after arming, `1s` at the end).
fn show_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.collect_str(&humantime::format_duration(Duration::from_secs(secs)))
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
    /// How long it stays armed, on the wall clock (default 5 minutes, at most 7 days).
    #[serde(default, deserialize_with = "parse_duration")]
    pub(crate) ttl: Option<Duration>,
    /// Only requests whose headers or body fields have these values: the journal's filter
    /// keys (`"body.reference": "…"`, `"header.x-rehearse-run": "…"`).
    #[serde(default, rename = "where")]
    pub(crate) conditions: BTreeMap<String, Value>,
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
    #[serde(rename = "where", skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) shown_conditions: BTreeMap<String, String>,
    #[serde(skip)]
    conditions: Vec<Condition>,
    #[serde(serialize_with = "show_seconds")]
    pub(crate) ttl: Duration,
    /// Wall-clock time left when it was listed.
    #[serde(serialize_with = "show_seconds")]
    pub(crate) expires_in: Duration,
    #[serde(skip)]
    deadline: Instant,
    pub(crate) applied: u64,
}

impl Fault {
    pub(crate) fn from_spec(id: String, spec: FaultSpec, now: Instant) -> Result<Self, String> {
        let version = spec
            .version
            .as_deref()
            .map(str::parse::<ApiVersion>)
            .transpose()?;
        if spec.kind.is_webhook() {
            for (given, name) in [
                (spec.route.is_some(), "route"),
                (spec.method.is_some(), "method"),
                (spec.status.is_some(), "status"),
                (spec.retry_after.is_some(), "retry_after"),
            ] {
                if given {
                    return Err(format!(
                        "a {} fault applies to webhook events, which have no `{name}`: scope it with `version` and `where` (`body.payment_id`, `body.reference`, `body.status`)",
                        spec.kind.name()
                    ));
                }
            }
        }
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
            FaultKind::WebhookDelayed => Some(
                spec.delay
                    .ok_or("a webhook_delayed fault needs `delay` (bank time), e.g. \"10m\"")?,
            ),
            _ => None,
        };
        let retry_after = match spec.kind {
            FaultKind::RateLimit => Some(spec.retry_after.unwrap_or(Duration::from_secs(1))),
            _ => None,
        };
        let ttl = spec.ttl.unwrap_or(DEFAULT_TTL);
        if ttl.is_zero() || ttl > MAX_TTL {
            return Err(format!(
                "`ttl` must be more than 0 and at most 7 days, got \"{}\"",
                humantime::format_duration(ttl)
            ));
        }
        let deadline = now
            .checked_add(ttl)
            .ok_or("`ttl` reaches past what this machine's clock can count")?;
        if spec.conditions.len() > MAX_CONDITIONS {
            return Err(format!(
                "`where` holds more than {MAX_CONDITIONS} conditions"
            ));
        }
        let mut conditions = Vec::new();
        let mut shown_conditions = BTreeMap::new();
        for (key, value) in spec.conditions {
            let value = match value {
                Value::String(text) => text,
                scalar @ (Value::Number(_) | Value::Bool(_) | Value::Null) => scalar.to_string(),
                _ => {
                    return Err(format!(
                        "`where.{key}` must be a string, a number or a boolean, not a list or an object"
                    ));
                }
            };
            match Condition::parse(&key, &value) {
                Some(condition) => conditions.push(condition.map_err(|e| format!("`where`: {e}"))?),
                None => {
                    return Err(format!(
                        "unknown key `{key}` in `where`: use {CONDITION_KEYS}"
                    ));
                }
            }
            shown_conditions.insert(key, value);
        }
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
            shown_conditions,
            conditions,
            ttl,
            expires_in: ttl,
            deadline,
            applied: 0,
        })
    }

    fn applies(&self, seen: &Seen<'_>) -> bool {
        self.route
            .as_deref()
            .is_none_or(|r| glob_match(r, seen.path))
            && self.version.is_none_or(|v| Some(v) == seen.version)
            && self.method.as_deref().is_none_or(|m| m == seen.method)
            && seen.satisfies(&self.conditions)
    }

    /// As listed at `now`.
    fn shown(&self, now: Instant) -> Self {
        Self {
            expires_in: self.deadline.saturating_duration_since(now),
            ..self.clone()
        }
    }
}

/// What the armed faults do to one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Effect {
    pub(crate) delay: Option<Duration>,
    /// The first matching non-latency fault.
    pub(crate) action: Option<Fault>,
}

/// The armed faults. Each expires by itself `ttl` after it was armed, measured on the wall
/// clock (monotonic), never on bank time: see docs/DESIGN-NOTES.md, issue #10.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    next_id: u64,
    armed: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, spec: FaultSpec) -> Result<Fault, String> {
        self.add_at(spec, Instant::now())
    }

    fn add_at(&mut self, spec: FaultSpec, now: Instant) -> Result<Fault, String> {
        self.expire(now);
        self.next_id += 1;
        let fault = Fault::from_spec(format!("fault-{}", self.next_id), spec, now)?;
        self.armed.push(fault.clone());
        Ok(fault)
    }

    /// The faults still armed, with the time each has left.
    pub(crate) fn list(&mut self) -> Vec<Fault> {
        self.list_at(Instant::now())
    }

    fn list_at(&mut self, now: Instant) -> Vec<Fault> {
        self.expire(now);
        self.armed.iter().map(|f| f.shown(now)).collect()
    }

    pub(crate) fn clear(&mut self) {
        self.armed.clear();
    }

    pub(crate) fn remove(&mut self, id: &str) -> bool {
        self.expire(Instant::now());
        let before = self.armed.len();
        self.armed.retain(|f| f.id != id);
        before != self.armed.len()
    }

    /// No fault is armed (an expired one may still count until the next request or listing
    /// drops it: then that request finds nothing to apply).
    pub(crate) fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    fn expire(&mut self, now: Instant) {
        self.armed.retain(|f| f.deadline > now);
    }

    /// Whether a reset would apply, without consuming anything.
    pub(crate) fn would_reset(&mut self, seen: &Seen<'_>) -> bool {
        self.would_reset_at(seen, Instant::now())
    }

    fn would_reset_at(&mut self, seen: &Seen<'_>, now: Instant) -> bool {
        self.expire(now);
        self.armed
            .iter()
            .find(|f| f.kind != FaultKind::Latency && !f.kind.is_webhook() && f.applies(seen))
            .is_some_and(|f| f.kind == FaultKind::Reset)
    }

    /// Consume what applies to this request.
    pub(crate) fn take(&mut self, seen: &Seen<'_>) -> Effect {
        self.take_at(seen, Instant::now())
    }

    fn take_at(&mut self, seen: &Seen<'_>, now: Instant) -> Effect {
        self.expire(now);
        let mut effect = Effect::default();
        for fault in &mut self.armed {
            if fault.kind.is_webhook() || !fault.applies(seen) {
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

    /// Consume the first webhook fault that applies to an event of `version` (`event` is
    /// what `where` sees: the canonical event, see `webhooks/dispatch.rs`).
    pub(crate) fn take_webhook(&mut self, version: ApiVersion, event: &Value) -> Option<Fault> {
        self.take_webhook_at(version, event, Instant::now())
    }

    fn take_webhook_at(
        &mut self,
        version: ApiVersion,
        event: &Value,
        now: Instant,
    ) -> Option<Fault> {
        self.expire(now);
        let headers = serde_json::Map::new();
        let fault = self.armed.iter_mut().find(|f| {
            f.kind.is_webhook()
                && f.version.is_none_or(|v| v == version)
                && crate::filter::all_hold(&f.conditions, &headers, event)
        })?;
        fault.applied += 1;
        fault.remaining = fault.remaining.map(|n| n.saturating_sub(1));
        let taken = fault.clone();
        self.armed.retain(|f| f.remaining != Some(0));
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(value: Value) -> FaultSpec {
        serde_json::from_value(value).expect("a fault spec")
    }

    #[test]
    fn a_fault_expires_by_itself_after_its_ttl_on_the_wall_clock() {
        let armed = Instant::now();
        let mut faults = Faults::default();
        faults
            .add_at(
                spec(json!({"kind": "error", "status": 503, "ttl": "2m"})),
                armed,
            )
            .expect("armed");
        let seen = Seen::bare("POST", "/v2/payments", Some(ApiVersion::V2));

        let listed = faults.list_at(armed + Duration::from_secs(30));
        assert_eq!(listed.len(), 1);
        assert_eq!(
            serde_json::to_value(&listed[0]).expect("json")["expires_in"],
            "1m 30s"
        );
        assert!(
            faults
                .take_at(&seen, armed + Duration::from_secs(119))
                .action
                .is_some()
        );
        assert!(
            faults
                .take_at(&seen, armed + Duration::from_secs(120))
                .action
                .is_none(),
            "the fault outlived its ttl"
        );
        assert!(faults.is_empty());
    }

    #[test]
    fn without_a_ttl_a_fault_lives_five_minutes() {
        let armed = Instant::now();
        let mut faults = Faults::default();
        let fault = faults
            .add_at(spec(json!({"kind": "reset"})), armed)
            .expect("armed");
        assert_eq!(serde_json::to_value(&fault).expect("json")["ttl"], "5m");
        let seen = Seen::bare("GET", "/v1/payments/x", None);
        assert!(faults.would_reset_at(&seen, armed + Duration::from_secs(299)));
        assert!(!faults.would_reset_at(&seen, armed + Duration::from_secs(300)));
        assert!(faults.list_at(armed + Duration::from_secs(300)).is_empty());
    }

    #[test]
    fn a_fault_with_conditions_spares_requests_that_do_not_meet_them() {
        let mut faults = Faults::default();
        faults
            .add(spec(
                json!({"kind": "error", "where": {"body.reference": "mine"}}),
            ))
            .expect("armed");
        let seen = Seen::bare("POST", "/v2/payments", Some(ApiVersion::V2));
        assert!(faults.take(&seen).action.is_none());
    }

    #[test]
    fn webhook_faults_never_touch_requests_and_requests_faults_never_touch_events() {
        let mut faults = Faults::default();
        faults
            .add(spec(
                json!({"kind": "webhook_dropped", "count": 1, "where": {"body.reference": "mine"}}),
            ))
            .expect("armed");
        faults.add(spec(json!({"kind": "error"}))).expect("armed");
        let seen = Seen::bare("POST", "/v2/payments", Some(ApiVersion::V2));
        assert_eq!(
            faults.take(&seen).action.map(|f| f.kind),
            Some(FaultKind::Error)
        );
        let theirs = json!({"reference": "theirs"});
        assert!(faults.take_webhook(ApiVersion::V2, &theirs).is_none());
        let mine = json!({"reference": "mine"});
        assert_eq!(
            faults.take_webhook(ApiVersion::V2, &mine).map(|f| f.kind),
            Some(FaultKind::WebhookDropped)
        );
        assert!(
            faults.take_webhook(ApiVersion::V2, &mine).is_none(),
            "count 1 is spent"
        );
    }

    #[test]
    fn bad_ttls_and_conditions_are_refused_with_the_reason() {
        let problem = |value: Value| Faults::default().add(spec(value)).err().unwrap_or_default();
        insta::assert_snapshot!(problem(json!({"kind": "error", "ttl": "0s"})), @r#"`ttl` must be more than 0 and at most 7 days, got "0s""#);
        insta::assert_snapshot!(problem(json!({"kind": "error", "ttl": "8days"})), @r#"`ttl` must be more than 0 and at most 7 days, got "8days""#);
        insta::assert_snapshot!(problem(json!({"kind": "error", "where": {"reference": "x"}})), @"unknown key `reference` in `where`: use `header.NAME` (e.g. `header.x-rehearse-run`) or `body.FIELD` (e.g. `body.reference`, `body.amount.value`)");
        insta::assert_snapshot!(problem(json!({"kind": "error", "where": {"body.a": ["x"]}})), @"`where.body.a` must be a string, a number or a boolean, not a list or an object");
        insta::assert_snapshot!(problem(json!({"kind": "webhook_delayed"})), @r#"a webhook_delayed fault needs `delay` (bank time), e.g. "10m""#);
        insta::assert_snapshot!(problem(json!({"kind": "webhook_dropped", "route": "/v2/*"})), @"a webhook_dropped fault applies to webhook events, which have no `route`: scope it with `version` and `where` (`body.payment_id`, `body.reference`, `body.status`)");
    }
}
