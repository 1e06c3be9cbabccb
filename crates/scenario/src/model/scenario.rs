//! Scenario and fragment files: the top-level keys.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::span::Spanned;
use crate::value::{SpannedMap, Value};

/// A scenario file: one business flow.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the flow proves, in a sentence.
    pub name: Spanned<String>,
    /// Longer description, shown in reports.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags for `--tag` filters.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The team that owns the flow; failures are grouped by owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// What the flow needs of an environment; where it is not there (a real clock, no
    /// bank mock back office) the flow is left out of the run with a note, not an error.
    #[serde(default)]
    pub needs: Option<NeedsDef>,
    /// Run this scenario alone, with no other scenario of the run at the same time (it
    /// injects faults or moves shared state that would disturb others).
    #[serde(default)]
    pub exclusive: bool,
    /// Pre-flight checks this flow needs; all run (once each) before any step of the run.
    #[serde(default)]
    pub requires: Vec<Spanned<CheckDef>>,
    /// Variables of this scenario (templates allowed); the environment's vars come first.
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub vars: SpannedMap<Value>,
    /// The steps, run in order; the first failure stops the flow.
    pub steps: Spanned<Vec<Spanned<StepDef>>>,
    /// Steps that always run after `steps`, also after a failure or Ctrl-C.
    #[serde(default)]
    pub cleanup: Vec<Spanned<StepDef>>,
    /// Keep a cookie jar for the scenario (default true): cookies a response sets are sent
    /// with later requests that match their domain and path. `false` turns the jar off.
    #[serde(default)]
    pub cookies: Option<bool>,
}

/// What a scenario needs of an environment.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedsDef {
    /// `virtual`: the bank's virtual clock (the flow uses `advance_clock`).
    #[serde(default)]
    pub clock: Option<ClockKind>,
    /// Variables the environment must define, e.g. `bank_admin` (the bank mock's back
    /// office, for fault injection and the journal).
    #[serde(default)]
    pub vars: Vec<String>,
}

/// A fragment file, included by scenarios with `include:`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FragmentFile {
    /// Parameters the fragment takes, with optional defaults (`null` means required).
    #[serde(default)]
    #[schemars(with = "std::collections::BTreeMap<String, Value>")]
    pub params: SpannedMap<Value>,
    /// The steps of the fragment.
    pub steps: Spanned<Vec<Spanned<StepDef>>>,
}
