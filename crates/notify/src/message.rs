//! The message one owner gets: their failures (and those escalated to them), plus any
//! extra lines, in Slack's incoming-webhook format or in rehearse's documented JSON.

use chrono::{DateTime, SecondsFormat, Utc};
use rehearse_owners::Owner;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::failure::Failure;

/// The `schema` field of the generic webhook's JSON.
pub const WEBHOOK_SCHEMA: &str = "rehearse.notification.v1";

/// At most this many failures are listed one by one in a message; the rest are counted
/// (Slack takes at most 50 blocks).
pub const MAX_LISTED: usize = 40;

/// At most this many characters of evidence per failure (Slack takes 3,000 per block).
pub const MAX_EVIDENCE: usize = 600;

/// One failure in a message, with where it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The failure.
    pub failure: Failure,
    /// The environment it failed in.
    pub environment: String,
    /// The run that saw it.
    pub run_id: String,
    /// The run's report (`--report-url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_url: Option<String>,
    /// When the recipient is not its owner: the owner who was told first and has not
    /// fixed it (an escalation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalated_from: Option<String>,
}

/// Who a message is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The owner's name (`devops`).
    pub owner: String,
    /// How a person reads it.
    pub display_name: String,
    /// Their IANA time zone.
    pub time_zone: String,
}

impl Recipient {
    /// The recipient that is `owner`.
    pub fn of(owner: &Owner) -> Self {
        Self {
            owner: owner.name.clone(),
            display_name: owner.display_name.clone(),
            time_zone: owner.time_zone.name().to_owned(),
        }
    }
}

/// One message to one owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who it is for.
    pub recipient: Recipient,
    /// Lines said before the failures (the countdown's "4 working hours left").
    pub lines: Vec<String>,
    /// The failures, in order.
    pub items: Vec<Item>,
    /// When it is sent.
    pub at: DateTime<Utc>,
}

impl Message {
    /// A message for `owner` at `at`.
    pub fn new(owner: &Owner, items: Vec<Item>, lines: Vec<String>, at: DateTime<Utc>) -> Self {
        Self {
            recipient: Recipient::of(owner),
            lines,
            items,
            at,
        }
    }

    /// One line on what it is about: `rehearse: 2 failures for DevOps, Singapore (staging)`.
    pub fn summary(&self) -> String {
        let n = self.items.len();
        let mut envs: Vec<&str> = self.items.iter().map(|i| i.environment.as_str()).collect();
        envs.dedup();
        let envs = if envs.is_empty() {
            String::new()
        } else {
            format!(" ({})", envs.join(", "))
        };
        match n {
            0 => format!("rehearse: a note for {}", self.recipient.display_name),
            1 => format!(
                "rehearse: 1 failure for {}{envs}",
                self.recipient.display_name
            ),
            n => format!(
                "rehearse: {n} failures for {}{envs}",
                self.recipient.display_name
            ),
        }
    }

    /// The whole message as plain text (the Slack fallback, a log).
    pub fn text(&self) -> String {
        let mut out = self.summary();
        for l in &self.lines {
            out.push('\n');
            out.push_str(l);
        }
        for item in self.items.iter().take(MAX_LISTED) {
            let f = &item.failure;
            out.push_str(&format!(
                "\n✗ {} ({}, {})",
                f.name,
                f.kind.label(),
                item.environment
            ));
            if let Some(from) = &item.escalated_from {
                out.push_str(&format!(" — escalated: {from} has not fixed it"));
            }
            if let Some(h) = &f.hint {
                out.push_str(&format!("\n  hint: {h}"));
            }
            out.push_str(&format!("\n  evidence: {}", cut(&f.evidence)));
            if let Some(t) = &f.ticket {
                out.push_str(&format!("\n  ticket: {t}"));
            }
            if let Some(u) = &item.report_url {
                out.push_str(&format!("\n  report: {u}"));
            }
        }
        if let Some(more) = self.items.len().checked_sub(MAX_LISTED).filter(|n| *n > 0) {
            out.push_str(&format!("\n… and {more} more"));
        }
        out
    }

    /// The body for a Slack incoming webhook: `text` (the notification and fallback) and
    /// `blocks` (a header, the extra lines, a section per failure).
    pub fn slack(&self) -> Value {
        let mut blocks = vec![json!({
            "type": "header",
            "text": { "type": "plain_text", "text": cut_to(&self.summary(), 150), "emoji": true }
        })];
        if !self.lines.is_empty() {
            blocks.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": cut_to(&escape(&self.lines.join("\n")), 2900) }
            }));
        }
        for item in self.items.iter().take(MAX_LISTED) {
            let f = &item.failure;
            let mut t = format!(
                "*✗ {}* — {}, `{}`",
                escape(&f.name),
                f.kind.label(),
                escape(&item.environment)
            );
            if let Some(from) = &item.escalated_from {
                t.push_str(&format!(
                    "\n:rotating_light: escalated: *{}* has not fixed it",
                    escape(from)
                ));
            }
            if let Some(h) = &f.hint {
                t.push_str(&format!("\n*Hint:* {}", escape(h)));
            }
            t.push_str(&format!(
                "\n*Evidence:* `{}`",
                escape(&cut(&f.evidence)).replace('`', "'")
            ));
            let mut links = Vec::new();
            if let Some(u) = &item.report_url {
                links.push(format!("<{}|report>", escape(u)));
            }
            if let Some(u) = &f.ticket {
                links.push(format!("<{}|ticket>", escape(u)));
            }
            if !links.is_empty() {
                t.push_str(&format!("\n{}", links.join(" · ")));
            }
            blocks.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": cut_to(&t, 2900) }
            }));
        }
        if let Some(more) = self.items.len().checked_sub(MAX_LISTED).filter(|n| *n > 0) {
            blocks.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": format!("… and {more} more") }]
            }));
        }
        json!({ "text": self.text(), "blocks": blocks })
    }

    /// The body for a generic webhook: [`WebhookMessage`] (documented in docs/FORMAT.md,
    /// schema in docs/schema/notification.schema.json).
    pub fn webhook(&self) -> WebhookMessage {
        WebhookMessage {
            schema: WEBHOOK_SCHEMA.to_owned(),
            recipient: WebhookRecipient {
                owner: self.recipient.owner.clone(),
                name: self.recipient.display_name.clone(),
                time_zone: self.recipient.time_zone.clone(),
            },
            sent_at: self.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            summary: self.summary(),
            lines: self.lines.clone(),
            failures: self
                .items
                .iter()
                .map(|i| WebhookFailure {
                    id: i.failure.key.clone(),
                    kind: match i.failure.kind {
                        crate::FailureKind::Check => "check".to_owned(),
                        crate::FailureKind::Scenario => "scenario".to_owned(),
                    },
                    name: i.failure.name.clone(),
                    owner: i.failure.owner.clone(),
                    environment: i.environment.clone(),
                    run_id: i.run_id.clone(),
                    hint: i.failure.hint.clone(),
                    evidence: cut(&i.failure.evidence),
                    location: i.failure.location.clone(),
                    ticket: i.failure.ticket.clone(),
                    report_url: i.report_url.clone(),
                    escalated_from: i.escalated_from.clone(),
                })
                .collect(),
        }
    }
}

/// The JSON a generic webhook contact receives (`POST`, `Content-Type: application/json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookMessage {
    /// Always `rehearse.notification.v1`; a later, incompatible shape gets a new name.
    pub schema: String,
    /// Who the message is for.
    pub recipient: WebhookRecipient,
    /// When it was sent (RFC 3339, UTC).
    pub sent_at: String,
    /// One line: `rehearse: 2 failures for DevOps, Singapore (staging)`.
    pub summary: String,
    /// Lines said before the failures (e.g. the countdown's hours left); often empty.
    pub lines: Vec<String>,
    /// The failures, in order.
    pub failures: Vec<WebhookFailure>,
}

/// `recipient` of a [`WebhookMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRecipient {
    /// The owner's name in owners.yaml (`devops`).
    pub owner: String,
    /// Their display name (`DevOps, Singapore`).
    pub name: String,
    /// Their IANA time zone.
    pub time_zone: String,
}

/// One entry of `failures` of a [`WebhookMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookFailure {
    /// Stable across runs of one environment: `check:<name>` or `scenario:<path>`.
    pub id: String,
    /// `check` (a pre-flight check) or `scenario`.
    pub kind: String,
    /// The check's or the scenario's name.
    pub name: String,
    /// Its owner (differs from the recipient when escalated).
    pub owner: Option<String>,
    /// The environment it failed in.
    pub environment: String,
    /// The run that saw it.
    pub run_id: String,
    /// What to do.
    pub hint: Option<String>,
    /// What was seen (at most 600 characters; secrets masked).
    pub evidence: String,
    /// Where it is written (`file:line:col`).
    pub location: Option<String>,
    /// The ticket raised for it.
    pub ticket: Option<String>,
    /// The run's report (`--report-url`).
    pub report_url: Option<String>,
    /// Set when this is an escalation: the owner who was told and has not fixed it.
    pub escalated_from: Option<String>,
}

/// The JSON Schema of [`WebhookMessage`], pretty-printed.
pub fn webhook_schema() -> String {
    let schema = schemars::schema_for!(WebhookMessage);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

fn cut(s: &str) -> String {
    cut_to(s, MAX_EVIDENCE)
}

/// At most `max` characters, `…` marking a cut.
fn cut_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn escapes: `&`, `<`, `>`.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::sample;
    use rehearse_owners::parse_time_zone;

    fn message(n: usize) -> Message {
        let mut owner = Owner::new("devops", parse_time_zone("Asia/Singapore").unwrap());
        owner.display_name = "DevOps, Singapore".to_owned();
        let items = (0..n)
            .map(|i| Item {
                failure: sample(&format!("key {i}"), "devops"),
                environment: "staging".to_owned(),
                run_id: "r-1".to_owned(),
                report_url: Some("https://ci.example/r-1/report.html".to_owned()),
                escalated_from: None,
            })
            .collect();
        Message::new(
            &owner,
            items,
            vec![],
            "2026-12-02T18:14:00Z".parse().unwrap(),
        )
    }

    #[test]
    fn slack_has_text_and_a_block_per_failure() {
        let m = message(2);
        let v = m.slack();
        assert_eq!(
            v["text"].as_str().unwrap().lines().next(),
            Some("rehearse: 2 failures for DevOps, Singapore (staging)")
        );
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0]["type"], "header");
        let first = blocks[1]["text"]["text"].as_str().unwrap();
        assert_eq!(
            first,
            "*✗ key 0* — pre-flight check, `staging`\n*Hint:* fix key 0\n*Evidence:* `key 0 is not set`\n<https://ci.example/r-1/report.html|report>"
        );
    }

    #[test]
    fn slack_escapes_angle_brackets_and_counts_what_it_does_not_list() {
        let mut m = message(MAX_LISTED + 3);
        m.items[0].failure.name = "<b> & co".to_owned();
        let v = m.slack();
        let blocks = v["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), MAX_LISTED + 2);
        assert!(
            blocks[1]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*✗ &lt;b&gt; &amp; co*")
        );
        assert_eq!(
            blocks.last().unwrap()["elements"][0]["text"],
            "… and 3 more"
        );
    }

    #[test]
    fn webhook_json_matches_its_schema_fields() {
        let m = message(1);
        let v = serde_json::to_value(m.webhook()).unwrap();
        assert_eq!(v["schema"], WEBHOOK_SCHEMA);
        assert_eq!(v["recipient"]["time_zone"], "Asia/Singapore");
        assert_eq!(v["sent_at"], "2026-12-02T18:14:00Z");
        assert_eq!(v["failures"][0]["id"], "check:key 0");
        assert_eq!(v["failures"][0]["kind"], "check");
        assert_eq!(v["failures"][0]["escalated_from"], Value::Null);
        let back: WebhookMessage = serde_json::from_value(v).unwrap();
        assert_eq!(back, m.webhook());
    }

    /// The committed schema (docs/schema/notification.schema.json) is the one the type
    /// gives; `REHEARSE_UPDATE_SCHEMA=1` writes it.
    #[test]
    fn the_documented_schema_has_not_drifted() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/schema/notification.schema.json");
        let now = format!("{}\n", webhook_schema());
        if std::env::var_os("REHEARSE_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            committed, now,
            "docs/schema/notification.schema.json is stale: REHEARSE_UPDATE_SCHEMA=1 cargo test -p rehearse-notify"
        );
    }

    #[test]
    fn long_evidence_is_cut() {
        let mut m = message(1);
        m.items[0].failure.evidence = "x".repeat(5000);
        let e = m.webhook().failures[0].evidence.clone();
        assert_eq!(e.chars().count(), MAX_EVIDENCE);
        assert!(e.ends_with('…'));
    }
}
