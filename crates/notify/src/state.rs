//! What notifications remember between invocations (`.rehearse/notify.json`): what was
//! sent to whom and when, and the messages deferred to someone's working hours.
//!
//! The file holds no secret: no contact URL (only owners' names), and failures' texts as
//! the run's redactor masked them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::message::Item;

/// The version of the file's shape.
pub const STATE_VERSION: u32 = 1;

/// Records older than this (since last sent) are forgotten: a failure that has not been
/// seen for that long is news again.
pub const FORGET_AFTER_DAYS: i64 = 30;

/// At most this many deferred items are kept (the oldest are dropped).
pub const MAX_QUEUED: usize = 2000;

/// At most this many sent records are kept (the oldest are dropped).
pub const MAX_SENT: usize = 5000;

/// The notifications' memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// What was sent, one record per recipient, environment and failure.
    #[serde(default)]
    pub sent: Vec<Sent>,
    /// What waits for its recipient's working hours.
    #[serde(default)]
    pub queue: Vec<Queued>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            sent: Vec::new(),
            queue: Vec::new(),
        }
    }
}

/// A failure sent to a recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// Who got it (an owner's name).
    pub recipient: String,
    /// The environment it failed in.
    pub environment: String,
    /// The failure's key (`check:<name>`, `scenario:<path>`).
    pub key: String,
    /// When it was first sent to them (escalation counts from here).
    pub first_at: DateTime<Utc>,
    /// When it was last sent to them (`--notify-every` counts from here).
    pub last_at: DateTime<Utc>,
}

/// A failure waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queued {
    /// Who gets it.
    pub recipient: String,
    /// When: the start of their next working hours.
    pub due: DateTime<Utc>,
    /// What.
    pub item: Item,
}

/// Why a state file was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Not JSON of this shape.
    #[error("not a notifications state file: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by another version of rehearse.
    #[error("state file version {0} is not {STATE_VERSION}, the one this rehearse writes")]
    Version(u32),
}

impl State {
    /// Reads a state file's text.
    pub fn parse(text: &str) -> Result<Self, StateError> {
        let state: State = serde_json::from_str(text)?;
        if state.version != STATE_VERSION {
            return Err(StateError::Version(state.version));
        }
        Ok(state)
    }

    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The record of `key` in `environment` sent to `recipient`.
    pub fn sent(&self, recipient: &str, environment: &str, key: &str) -> Option<&Sent> {
        self.sent
            .iter()
            .find(|s| s.recipient == recipient && s.environment == environment && s.key == key)
    }

    /// Remembers that `items` were sent to `recipient` at `now`.
    pub fn record_sent(&mut self, recipient: &str, items: &[Item], now: DateTime<Utc>) {
        for item in items {
            let key = &item.failure.key;
            match self.sent.iter_mut().find(|s| {
                s.recipient == recipient && s.environment == item.environment && s.key == *key
            }) {
                Some(s) => s.last_at = now,
                None => self.sent.push(Sent {
                    recipient: recipient.to_owned(),
                    environment: item.environment.clone(),
                    key: key.clone(),
                    first_at: now,
                    last_at: now,
                }),
            }
        }
    }

    /// Puts `items` back for `recipient`, due at `due` (a delivery that failed is tried
    /// again by the next invocation).
    pub fn requeue(&mut self, recipient: &str, items: Vec<Item>, due: DateTime<Utc>) {
        for item in items {
            self.queue(recipient, item, due);
        }
    }

    /// Queues `item` for `recipient` at `due`, replacing a queued one of the same failure.
    pub(crate) fn queue(&mut self, recipient: &str, item: Item, due: DateTime<Utc>) {
        self.unqueue(recipient, &item.environment, &item.failure.key);
        self.queue.push(Queued {
            recipient: recipient.to_owned(),
            due,
            item,
        });
    }

    /// Drops a queued failure.
    pub(crate) fn unqueue(&mut self, recipient: &str, environment: &str, key: &str) {
        self.queue.retain(|q| {
            !(q.recipient == recipient
                && q.item.environment == environment
                && q.item.failure.key == key)
        });
    }

    /// Forgets everything about a failure that passes now: sent again at once if it fails
    /// again, never escalated, never delivered late.
    pub(crate) fn forget_fixed(&mut self, environment: &str, key: &str) {
        self.sent
            .retain(|s| !(s.environment == environment && s.key == key));
        self.queue
            .retain(|q| !(q.item.environment == environment && q.item.failure.key == key));
    }

    /// Drops what is too old to matter and keeps the file bounded.
    pub(crate) fn prune(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::days(FORGET_AFTER_DAYS);
        self.sent.retain(|s| s.last_at >= horizon);
        if self.sent.len() > MAX_SENT {
            self.sent.sort_by_key(|s| s.last_at);
            let extra = self.sent.len() - MAX_SENT;
            self.sent.drain(..extra);
        }
        if self.queue.len() > MAX_QUEUED {
            let extra = self.queue.len() - MAX_QUEUED;
            self.queue.drain(..extra);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::sample;

    fn item(key: &str) -> Item {
        Item {
            failure: sample(key, "devops"),
            environment: "staging".to_owned(),
            run_id: "r-1".to_owned(),
            report_url: None,
            escalated_from: None,
        }
    }

    #[test]
    fn a_state_reads_back_what_it_wrote() {
        let now: DateTime<Utc> = "2026-12-02T18:14:00Z".parse().unwrap();
        let mut s = State::default();
        s.record_sent("devops", &[item("a")], now);
        s.queue("qa", item("b"), now + Duration::hours(3));
        let back = State::parse(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn another_version_is_refused() {
        let err = State::parse(r#"{"version": 7}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "state file version 7 is not 1, the one this rehearse writes"
        );
        assert!(State::parse("[").is_err());
    }

    #[test]
    fn sending_again_keeps_the_first_time() {
        let t0: DateTime<Utc> = "2026-12-02T08:00:00Z".parse().unwrap();
        let mut s = State::default();
        s.record_sent("devops", &[item("a")], t0);
        s.record_sent("devops", &[item("a")], t0 + Duration::hours(13));
        let r = s.sent("devops", "staging", "check:a").unwrap();
        assert_eq!(r.first_at, t0);
        assert_eq!(r.last_at, t0 + Duration::hours(13));
        assert_eq!(s.sent.len(), 1);
    }

    #[test]
    fn old_records_are_forgotten() {
        let t0: DateTime<Utc> = "2026-11-01T08:00:00Z".parse().unwrap();
        let mut s = State::default();
        s.record_sent("devops", &[item("a")], t0);
        s.prune(t0 + Duration::days(FORGET_AFTER_DAYS + 1));
        assert!(s.sent.is_empty());
    }
}
