//! The owners file as written (`owners.yaml` at the suite root, issue #13).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::duration::Dur;
use crate::span::Spanned;
use crate::value::SpannedMap;

/// An owners file: who fixes what, where they are and when they work.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnersFile {
    /// Every owner, by the name `owner:` uses in scenarios and checks.
    #[schemars(with = "std::collections::BTreeMap<String, OwnerDef>")]
    pub owners: SpannedMap<Spanned<OwnerDef>>,
}

/// One owner: a team or a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerDef {
    /// How a person reads it in reports and messages ("DevOps, Singapore"); the key when
    /// left out.
    #[serde(default)]
    pub name: Option<String>,
    /// Their IANA time zone: `Asia/Singapore`, `Europe/London`, `UTC`.
    pub time_zone: Spanned<String>,
    /// Their working hours, local time, `HH:MM-HH:MM` (default `09:00-17:00`). The end may
    /// be `24:00`, or earlier than the start for a block that crosses midnight.
    #[serde(default)]
    pub hours: Option<Spanned<String>>,
    /// Their working days (default `[mon, tue, wed, thu, fri]`).
    #[serde(default)]
    pub days: Option<Spanned<Vec<String>>>,
    /// Where messages go: `- slack: SECRET_NAME` (a Slack incoming webhook) or
    /// `- webhook: SECRET_NAME` (a generic JSON webhook). The value names the secret that
    /// holds the URL, never the URL itself.
    #[serde(default)]
    pub contacts: Vec<Spanned<ContactDef>>,
    /// Who hears of a failure this owner has not fixed in time.
    #[serde(default)]
    pub escalation: Option<Spanned<EscalationDef>>,
}

/// A contact: exactly one of `slack` or `webhook`, naming the secret that holds its URL.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactDef {
    /// The secret holding a Slack incoming webhook URL.
    #[serde(default)]
    pub slack: Option<Spanned<String>>,
    /// The secret holding a generic JSON webhook URL.
    #[serde(default)]
    pub webhook: Option<Spanned<String>>,
}

/// `escalation: { owner: platform-lead, after: 2h }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationDef {
    /// The owner escalated to (another key of this file).
    pub owner: Spanned<String>,
    /// How long after the first message, without a fix (`2h`, `30m`).
    pub after: Spanned<Dur>,
}
