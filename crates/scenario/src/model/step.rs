//! A step as written: its action, `poll`, `include` and `approve`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

/// One step. Exactly one of `request`, `wait`, `include`, `approve` or `advance_clock`
/// says what it does.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Name shown in reports; unique within the scenario. Defaults to the action.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    /// An HTTP request.
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// Pause for a duration (`500ms`, `2s`).
    #[serde(default)]
    pub wait: Option<Spanned<Dur>>,
    /// Run the steps of a fragment file.
    #[serde(default)]
    #[schemars(with = "Option<IncludeSchema>")]
    pub include: Option<Spanned<IncludeDef>>,
    /// A bank reviewer's decision, carried out by the environment's approval mode.
    #[serde(default)]
    pub approve: Option<Spanned<ApproveDef>>,
    /// Move the bank's virtual clock forward (`4h`), firing the platform's cron jobs due
    /// in that span in time order. Only where the environment's clock is `virtual`.
    #[serde(default)]
    pub advance_clock: Option<Spanned<Dur>>,
    /// What the response must look like.
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// Values to take from the response, by variable name.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, CaptureSchema>")]
    pub capture: SpannedMap<Value>,
    /// Repeat the request until `expect` holds.
    #[serde(default)]
    pub poll: Option<Spanned<PollDef>>,
}

/// How to repeat a request until its `expect` holds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollDef {
    /// Time between attempts (default `1s`).
    #[serde(default)]
    pub every: Option<Spanned<Dur>>,
    /// Give up after this long (default: the environment's poll timeout).
    #[serde(default)]
    pub timeout: Option<Spanned<Dur>>,
    /// Multiply the interval by this after each attempt (default 1).
    #[serde(default)]
    pub backoff: Option<Spanned<f64>>,
    /// Upper bound of the interval when backing off.
    #[serde(default)]
    pub max_every: Option<Spanned<Dur>>,
    /// JSONPath → matcher; when any holds the poll fails at once (a terminal state).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, MatcherSchema>")]
    pub fail_if: SpannedMap<Value>,
}

/// `include: path` or `include: {file, with}`.
#[derive(Debug, JsonSchema)]
pub struct IncludeDef {
    /// Path of the fragment, relative to the including file.
    pub file: String,
    /// Parameters (templates allowed).
    #[schemars(rename = "with", with = "std::collections::BTreeMap<String, Value>")]
    pub params: SpannedMap<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncludeFull {
    file: String,
    #[serde(default, rename = "with")]
    params: SpannedMap<Value>,
}

impl<'de> Deserialize<'de> for IncludeDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = IncludeDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a fragment path or `{file, with}`")
            }
            fn visit_str<E>(self, v: &str) -> Result<IncludeDef, E> {
                Ok(IncludeDef {
                    file: v.to_owned(),
                    params: SpannedMap::default(),
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<IncludeDef, A::Error> {
                let full =
                    IncludeFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(IncludeDef {
                    file: full.file,
                    params: full.params,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `approve:` — a bank reviewer's decision on a payment held for review.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveDef {
    /// The bank's id of the payment (templates allowed).
    pub reference: Spanned<String>,
    /// `approve` (default) or `reject`.
    #[serde(default)]
    pub decision: Option<Spanned<DecisionDef>>,
    /// The reviewer's note (the rejection reason the platform should show).
    #[serde(default)]
    pub note: Option<Spanned<String>>,
    /// The amount, shown to an operator in `prompt` mode (templates allowed).
    #[serde(default)]
    pub amount: Option<Spanned<String>>,
}

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionDef {
    /// Approve the payment.
    Approve,
    /// Reject it.
    Reject,
}
