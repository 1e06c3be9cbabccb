//! Who is told what now, and what waits: the decisions of one invocation, as a pure
//! function of the state, the owners, this invocation's failures and `now`.
//!
//! 1. A failure this invocation checked and saw pass is forgotten (fixed): nothing queued
//!    for it is sent, and it is news again if it fails later.
//! 2. Queued failures whose recipient's working hours have begun are due: sent now.
//! 3. Each failing owner's failures not sent to them within `every` are sent now when they
//!    are in working hours (or `urgent`), else queued for the start of their next working
//!    hours. An owner with no working hours ahead is sent at once.
//! 4. A failure first sent to its owner at least `after` ago and still failing now goes to
//!    their escalation owner, under the same rules (not within `every`, their hours). An
//!    escalation is not escalated further.
//!
//! Everything due for one recipient is one message.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use rehearse_owners::{Owner, Owners};

use crate::failure::{Failure, by_owner};
use crate::message::{Item, Message};
use crate::state::State;

/// How often, and whether working hours are waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The same failure is not sent to the same recipient again within this.
    pub every: StdDuration,
    /// Send now even to an owner outside their working hours.
    pub urgent: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            every: StdDuration::from_secs(12 * 3600),
            urgent: false,
        }
    }
}

/// What one run (or pre-flight) saw.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The environment.
    pub environment: &'a str,
    /// The run's id.
    pub run_id: &'a str,
    /// Where its report is published (`--report-url`).
    pub report_url: Option<&'a str>,
    /// Its failures.
    pub failures: &'a [Failure],
    /// The keys of everything it checked, passed or failed (a key not here was not looked
    /// at: not a fix).
    pub checked: &'a [String],
}

/// The outcome of [`plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The messages to send now, one per recipient, recipients by name.
    pub messages: Vec<Message>,
    /// What was queued for later: `(recipient, how many failures, due)`.
    pub deferred: Vec<(String, usize, DateTime<Utc>)>,
    /// Things worth saying: owners nobody can be told of, recipients without contacts.
    pub notes: Vec<String>,
}

/// Decides what to send at `now`, updating `state` (queue, forgotten fixes). Sent records
/// are written by the caller once a message is delivered ([`State::record_sent`]); a
/// message that could not be delivered goes back with [`State::requeue`].
pub fn plan(
    state: &mut State,
    owners: &Owners,
    seen: Option<&Seen<'_>>,
    policy: Policy,
    now: DateTime<Utc>,
) -> Plan {
    let every = Duration::from_std(policy.every).unwrap_or(Duration::MAX);
    let mut out = Plan::default();
    // recipient -> items to send now
    let mut now_items: Vec<(String, Vec<Item>)> = Vec::new();
    let push_now = |list: &mut Vec<(String, Vec<Item>)>, recipient: &str, item: Item| match list
        .iter_mut()
        .find(|(r, _)| r == recipient)
    {
        Some((_, items)) => {
            items.retain(|i| {
                !(i.environment == item.environment && i.failure.key == item.failure.key)
            });
            items.push(item);
        }
        None => list.push((recipient.to_owned(), vec![item])),
    };

    if let Some(seen) = seen {
        for key in seen.checked {
            if !seen.failures.iter().any(|f| &f.key == key) {
                state.forget_fixed(seen.environment, key);
            }
        }
    }

    // Due from the queue.
    let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.queue)
        .into_iter()
        .partition(|q| q.due <= now);
    state.queue = waiting;
    for q in due {
        push_now(&mut now_items, &q.recipient, q.item);
    }

    if let Some(seen) = seen {
        let mut unknown = 0usize;
        for f in seen.failures {
            if f.owner.as_deref().is_none_or(|o| owners.get(o).is_none()) {
                unknown += 1;
            }
        }
        if unknown > 0 {
            out.notes.push(format!(
                "{unknown} failure{} {} no owner in owners.yaml: nobody to tell",
                if unknown == 1 { "" } else { "s" },
                if unknown == 1 { "has" } else { "have" },
            ));
        }
        let mut deferred: Vec<(String, usize, DateTime<Utc>)> = Vec::new();
        for (owner_name, failures) in by_owner(seen.failures) {
            let Some(owner) = owners.get(&owner_name) else {
                continue;
            };
            for f in failures {
                let item = Item {
                    failure: f.clone(),
                    environment: seen.environment.to_owned(),
                    run_id: seen.run_id.to_owned(),
                    report_url: seen.report_url.map(str::to_owned),
                    escalated_from: None,
                };
                let mut targets: Vec<(&Owner, Item)> = vec![(owner, item.clone())];
                if let Some(esc) = &owner.escalation
                    && let Some(to) = owners.get(&esc.owner)
                    && to.name != owner.name
                    && let Some(first) = state.sent(&owner.name, seen.environment, &f.key)
                    && let Ok(after) = Duration::from_std(esc.after)
                    && first
                        .first_at
                        .checked_add_signed(after)
                        .is_some_and(|t| t <= now)
                {
                    let mut escalated = item;
                    escalated.escalated_from = Some(owner.name.clone());
                    targets.push((to, escalated));
                }
                for (to, item) in targets {
                    let recent = state
                        .sent(&to.name, seen.environment, &f.key)
                        .is_some_and(|s| now < s.last_at.checked_add_signed(every).unwrap_or(now));
                    if recent {
                        continue;
                    }
                    let start = to.next_working_start(now);
                    match start {
                        Some(start) if start > now && !policy.urgent => {
                            // Not in the batch sent now, if the queue had it due.
                            if let Some((_, items)) =
                                now_items.iter_mut().find(|(r, _)| *r == to.name)
                            {
                                items.retain(|i| {
                                    !(i.environment == item.environment
                                        && i.failure.key == item.failure.key)
                                });
                            }
                            state.queue(&to.name, item, start);
                            match deferred.iter_mut().find(|(r, _, _)| *r == to.name) {
                                Some((_, n, _)) => *n += 1,
                                None => deferred.push((to.name.clone(), 1, start)),
                            }
                        }
                        _ => {
                            state.unqueue(&to.name, &item.environment, &item.failure.key);
                            push_now(&mut now_items, &to.name, item);
                        }
                    }
                }
            }
        }
        deferred.sort_by(|a, b| a.0.cmp(&b.0));
        out.deferred = deferred;
    }

    now_items.sort_by(|a, b| a.0.cmp(&b.0));
    for (recipient, items) in now_items {
        if items.is_empty() {
            continue;
        }
        let Some(owner) = owners.get(&recipient) else {
            out.notes.push(format!(
                "{recipient} is no longer in owners.yaml: {} queued failure{} dropped",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            ));
            continue;
        };
        if owner.contacts.is_empty() {
            out.notes.push(format!(
                "{recipient} has no contacts in owners.yaml: {} failure{} not sent",
                items.len(),
                if items.len() == 1 { "" } else { "s" }
            ));
            continue;
        }
        out.messages
            .push(Message::new(owner, items, Vec::new(), now));
    }
    state.prune(now);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::sample;
    use rehearse_owners::{Contact, ContactKind, Escalation, WorkingHours, parse_time_zone};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn owner(name: &str, tz: &str, range: &str) -> Owner {
        let mut o = Owner::new(name, parse_time_zone(tz).unwrap());
        o.hours = WorkingHours::parse(range, &["mon", "tue", "wed", "thu", "fri"]).unwrap();
        o.contacts = vec![Contact {
            kind: ContactKind::Webhook,
            url_secret: format!("{}_HOOK", name.to_uppercase()),
        }];
        o
    }

    /// Wednesday 2026-12-02 18:14 UTC: London (to 19:00) and New York work, Singapore
    /// sleeps (02:14 Thursday, back at 01:00 UTC).
    fn owners() -> Owners {
        let mut devops = owner("devops", "Asia/Singapore", "09:00-17:00");
        devops.escalation = Some(Escalation {
            owner: "lead".to_owned(),
            after: StdDuration::from_secs(2 * 3600),
        });
        Owners::new([
            devops,
            owner("payments", "Europe/London", "09:00-19:00"),
            owner("bank", "America/New_York", "09:00-17:00"),
            owner("lead", "America/New_York", "09:00-17:00"),
        ])
    }

    struct Run {
        failures: Vec<Failure>,
        checked: Vec<String>,
    }

    fn run(failing: &[(&str, &str)], passing: &[&str]) -> Run {
        let failures: Vec<Failure> = failing.iter().map(|(k, o)| sample(k, o)).collect();
        let mut checked: Vec<String> = failures.iter().map(|f| f.key.clone()).collect();
        checked.extend(passing.iter().map(|k| Failure::check_key(k)));
        Run { failures, checked }
    }

    fn decide(state: &mut State, r: &Run, policy: Policy, now: &str) -> Plan {
        let seen = Seen {
            environment: "staging",
            run_id: "r-1",
            report_url: None,
            failures: &r.failures,
            checked: &r.checked,
        };
        plan(state, &owners(), Some(&seen), policy, at(now))
    }

    fn recipients(p: &Plan) -> Vec<(&str, Vec<&str>)> {
        p.messages
            .iter()
            .map(|m| {
                (
                    m.recipient.owner.as_str(),
                    m.items.iter().map(|i| i.failure.name.as_str()).collect(),
                )
            })
            .collect()
    }

    fn deliver(state: &mut State, p: &Plan) {
        for m in &p.messages {
            state.record_sent(&m.recipient.owner, &m.items, m.at);
        }
    }

    const NOW: &str = "2026-12-02T18:14:00Z";

    #[test]
    fn one_message_per_working_owner_and_the_sleeping_one_waits() {
        let mut s = State::default();
        let r = run(
            &[
                ("k1", "payments"),
                ("k2", "bank"),
                ("k3", "payments"),
                ("k4", "devops"),
            ],
            &[],
        );
        let p = decide(&mut s, &r, Policy::default(), NOW);
        assert_eq!(
            recipients(&p),
            vec![("bank", vec!["k2"]), ("payments", vec!["k1", "k3"])]
        );
        assert_eq!(
            p.deferred,
            vec![("devops".to_owned(), 1, at("2026-12-03T01:00:00Z"))]
        );
        assert_eq!(s.queue.len(), 1);
    }

    #[test]
    fn urgent_sends_to_the_sleeping_owner_now() {
        let mut s = State::default();
        let r = run(&[("k4", "devops")], &[]);
        let p = decide(
            &mut s,
            &r,
            Policy {
                urgent: true,
                ..Policy::default()
            },
            NOW,
        );
        assert_eq!(recipients(&p), vec![("devops", vec!["k4"])]);
        assert!(s.queue.is_empty());
    }

    #[test]
    fn the_same_failure_is_not_sent_again_within_every() {
        let mut s = State::default();
        let r = run(&[("k1", "payments")], &[]);
        let p = decide(&mut s, &r, Policy::default(), NOW);
        deliver(&mut s, &p);
        let p = decide(&mut s, &r, Policy::default(), "2026-12-02T18:44:00Z");
        assert!(p.messages.is_empty(), "{p:?}");
        // More than 12 h later, in London's working hours, it is sent again.
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T09:30:00Z");
        assert_eq!(recipients(&p), vec![("payments", vec!["k1"])]);
    }

    #[test]
    fn a_new_failure_of_the_same_owner_is_sent_alone() {
        let mut s = State::default();
        let p = decide(
            &mut s,
            &run(&[("k1", "payments")], &[]),
            Policy::default(),
            NOW,
        );
        deliver(&mut s, &p);
        let r = run(&[("k1", "payments"), ("k5", "payments")], &[]);
        let p = decide(&mut s, &r, Policy::default(), "2026-12-02T18:30:00Z");
        assert_eq!(recipients(&p), vec![("payments", vec!["k5"])]);
    }

    #[test]
    fn a_queued_failure_is_due_in_working_hours_and_sent_once() {
        let mut s = State::default();
        let r = run(&[("k4", "devops")], &[]);
        let p = decide(&mut s, &r, Policy::default(), NOW);
        assert!(p.messages.is_empty());
        // Without a run (rehearse notify --once), inside Singapore's hours.
        let p = plan(
            &mut s,
            &owners(),
            None,
            Policy::default(),
            at("2026-12-03T01:05:00Z"),
        );
        assert_eq!(recipients(&p), vec![("devops", vec!["k4"])]);
        deliver(&mut s, &p);
        assert!(s.queue.is_empty());
        // A run a little later, still failing: nothing new.
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T01:30:00Z");
        assert!(p.messages.is_empty(), "{p:?}");
    }

    #[test]
    fn a_run_in_working_hours_sends_what_was_queued_with_fresh_evidence() {
        let mut s = State::default();
        let r = run(&[("k4", "devops")], &[]);
        decide(&mut s, &r, Policy::default(), NOW);
        let mut r2 = run(&[("k4", "devops")], &[]);
        r2.failures[0].evidence = "fresh".to_owned();
        let p = decide(&mut s, &r2, Policy::default(), "2026-12-03T02:00:00Z");
        assert_eq!(p.messages.len(), 1);
        assert_eq!(p.messages[0].items.len(), 1);
        assert_eq!(p.messages[0].items[0].failure.evidence, "fresh");
    }

    #[test]
    fn a_fix_cancels_what_was_queued() {
        let mut s = State::default();
        decide(
            &mut s,
            &run(&[("k4", "devops")], &[]),
            Policy::default(),
            NOW,
        );
        let p = decide(
            &mut s,
            &run(&[], &["k4"]),
            Policy::default(),
            "2026-12-03T02:00:00Z",
        );
        assert!(p.messages.is_empty());
        assert!(s.queue.is_empty());
    }

    #[test]
    fn an_unfixed_failure_is_escalated_after_the_delay() {
        let mut s = State::default();
        let r = run(&[("k4", "devops")], &[]);
        // Thursday 02:00 UTC: devops works (10:00 Singapore), the lead sleeps (21:00 NY).
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T02:00:00Z");
        assert_eq!(recipients(&p), vec![("devops", vec!["k4"])]);
        deliver(&mut s, &p);
        // 1 h later: not yet.
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T03:00:00Z");
        assert!(p.messages.is_empty() && p.deferred.is_empty(), "{p:?}");
        // 2 h later the lead is told, at 09:00 New York (14:00 UTC).
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T04:00:00Z");
        assert!(p.messages.is_empty());
        assert_eq!(
            p.deferred,
            vec![("lead".to_owned(), 1, at("2026-12-03T14:00:00Z"))]
        );
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T14:05:00Z");
        assert_eq!(recipients(&p), vec![("lead", vec!["k4"])]);
        assert_eq!(
            p.messages[0].items[0].escalated_from.as_deref(),
            Some("devops")
        );
    }

    #[test]
    fn a_fixed_failure_is_not_escalated() {
        let mut s = State::default();
        let r = run(&[("k4", "devops")], &[]);
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T02:00:00Z");
        deliver(&mut s, &p);
        decide(
            &mut s,
            &run(&[], &["k4"]),
            Policy::default(),
            "2026-12-03T03:00:00Z",
        );
        let p = decide(&mut s, &r, Policy::default(), "2026-12-03T05:00:00Z");
        // It fails again: news for devops, not an escalation yet.
        assert_eq!(recipients(&p), vec![("devops", vec!["k4"])]);
    }

    #[test]
    fn failures_nobody_owns_are_counted_in_a_note() {
        let mut s = State::default();
        let mut r = run(&[("k1", "ghost")], &[]);
        r.failures.push({
            let mut f = sample("k2", "x");
            f.owner = None;
            f
        });
        let p = decide(&mut s, &r, Policy::default(), NOW);
        assert!(p.messages.is_empty());
        assert_eq!(
            p.notes,
            vec!["2 failures have no owner in owners.yaml: nobody to tell".to_owned()]
        );
    }

    #[test]
    fn an_owner_without_contacts_is_noted() {
        let mut s = State::default();
        let mut o = owners().get("payments").unwrap().clone();
        o.contacts.clear();
        let owners = Owners::new([o]);
        let failures = vec![sample("k1", "payments")];
        let seen = Seen {
            environment: "staging",
            run_id: "r-1",
            report_url: None,
            failures: &failures,
            checked: &[],
        };
        let p = plan(&mut s, &owners, Some(&seen), Policy::default(), at(NOW));
        assert!(p.messages.is_empty());
        assert_eq!(
            p.notes,
            vec!["payments has no contacts in owners.yaml: 1 failure not sent".to_owned()]
        );
    }
}
