//! Notifications (issue #13): which owner is told of which failure, when, and in which
//! message. Pure: no network, no file, no clock — `now` is an argument, so deferral to
//! working hours, `--notify-every` and escalation are tested with a fake clock. The CLI
//! (`crates/cli/src/notify.rs`) reads the state file, sends the messages and writes the
//! state back.
//!
//! ```
//! use rehearse_notify::{Failure, FailureKind, Policy, Seen, State, plan};
//! use rehearse_owners::{Contact, ContactKind, Owner, Owners, parse_time_zone};
//!
//! let mut devops = Owner::new("devops", parse_time_zone("Europe/London").unwrap());
//! devops.contacts.push(Contact { kind: ContactKind::Slack, url_secret: "DEVOPS_SLACK".into() });
//! let owners = Owners::new([devops]);
//! let failures = vec![Failure {
//!     key: Failure::check_key("bank key is set"),
//!     kind: FailureKind::Check,
//!     name: "bank key is set".into(),
//!     owner: Some("devops".into()),
//!     hint: Some("set BANK_KEY".into()),
//!     evidence: "BANK_KEY is not set".into(),
//!     location: None,
//!     ticket: None,
//! }];
//! let seen = Seen {
//!     environment: "staging",
//!     run_id: "r-1",
//!     report_url: None,
//!     failures: &failures,
//!     checked: &[],
//! };
//! let mut state = State::default();
//! // Wednesday 10:00 in London: working hours, so it is sent now.
//! let now = "2026-12-02T10:00:00Z".parse().unwrap();
//! let p = plan(&mut state, &owners, Some(&seen), Policy::default(), now);
//! assert_eq!(p.messages.len(), 1);
//! assert!(p.messages[0].slack()["text"].as_str().unwrap().contains("bank key is set"));
//! ```

mod failure;
mod message;
mod plan;
mod state;

pub use failure::{Failure, FailureKind, by_owner};
pub use message::{
    Item, MAX_EVIDENCE, MAX_LISTED, Message, Recipient, WEBHOOK_SCHEMA, WebhookFailure,
    WebhookMessage, WebhookRecipient, webhook_schema,
};
pub use plan::{Plan, Policy, Seen, plan};
pub use state::{Queued, STATE_VERSION, Sent, State, StateError};
