//! The owners file (`owners.yaml` at the suite root): read, checked, and turned into
//! [`rehearse_owners::Owners`]; and the check that every `owner:` used names one of them.

use std::path::Path;

use rehearse_owners::{Contact, ContactKind, Escalation, Owner, Owners, WorkingHours};

use super::source::{parse_as, read_source};
use crate::error::{Problem, Problems};
use crate::model::{OwnerDef, OwnersFile};
use crate::node::did_you_mean;
use crate::span::{Span, Spanned};

/// The owners file's name, at the suite root.
pub const OWNERS_FILE: &str = "owners.yaml";

/// Reads and checks an owners file: every problem at once, each with its line and the fix.
pub fn load_owners(path: &Path) -> Result<Owners, Problems> {
    let source = read_source(path).map_err(|p| Problems(vec![p]))?;
    let file: OwnersFile = parse_as(&source)?;
    let mut problems = Problems::default();
    let mut owners = Vec::new();
    for (key, def) in file.owners.iter() {
        if let Some(owner) = owner(key, def, &mut problems) {
            owners.push(owner);
        }
    }
    let names: Vec<&str> = file.owners.iter().map(|(k, _)| k.value.as_str()).collect();
    for (key, def) in file.owners.iter() {
        let Some(esc) = &def.value.escalation else {
            continue;
        };
        let to = &esc.value.owner;
        if to.value == key.value {
            problems.push(
                Problem::new(
                    format!("`{}` escalates to itself", key.value),
                    to.span.as_ref(),
                )
                .with_help("name another owner, one who can act when this one does not"),
            );
        } else if !names.contains(&to.value.as_str()) {
            problems.push(unknown_owner(
                &to.value,
                to.span.as_ref(),
                names.iter().copied(),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Owners::new(owners))
    } else {
        Err(problems)
    }
}

fn owner(key: &Spanned<String>, def: &Spanned<OwnerDef>, problems: &mut Problems) -> Option<Owner> {
    let def_span = def.span.as_ref().or(key.span.as_ref());
    let def = &def.value;
    let mut ok = true;
    let tz = &def.time_zone;
    let time_zone = match rehearse_owners::parse_time_zone(&tz.value) {
        Some(z) => Some(z),
        None => {
            let help = did_you_mean(
                &tz.value,
                chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()),
            )
            .unwrap_or_else(|| {
                "write an IANA time zone name: Asia/Singapore, Europe/London, America/New_York, UTC"
                    .to_owned()
            });
            problems.push(
                Problem::new(
                    format!("unknown time zone `{}`", tz.value),
                    tz.span.as_ref(),
                )
                .with_help(help),
            );
            None
        }
    };
    let range = def
        .hours
        .as_ref()
        .map_or("09:00-17:00", |h| h.value.as_str());
    let default_days = ["mon", "tue", "wed", "thu", "fri"];
    let days: Vec<&str> = def.days.as_ref().map_or_else(
        || default_days.to_vec(),
        |d| d.value.iter().map(String::as_str).collect(),
    );
    let hours = match WorkingHours::parse(range, &days) {
        Ok(h) => Some(h),
        Err(e) => {
            let span = match e {
                rehearse_owners::HoursError::Day(_) | rehearse_owners::HoursError::NoDays => {
                    def.days.as_ref().and_then(|d| d.span.as_ref())
                }
                _ => def.hours.as_ref().and_then(|h| h.span.as_ref()),
            };
            problems.push(Problem::new(e.to_string(), span.or(def_span)));
            None
        }
    };
    let mut contacts = Vec::new();
    for c in &def.contacts {
        let given: Vec<(ContactKind, &Spanned<String>)> = [
            (ContactKind::Slack, c.value.slack.as_ref()),
            (ContactKind::Webhook, c.value.webhook.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        match given.as_slice() {
            [(kind, secret)] => {
                if !is_secret_name(&secret.value) {
                    ok = false;
                    problems.push(
                        Problem::new(
                            format!(
                                "`{}` is not a secret name: a contact names the secret that holds its URL",
                                secret.value
                            ),
                            secret.span.as_ref(),
                        )
                        .with_help(format!(
                            "write `{}: DEVOPS_SLACK_WEBHOOK` and set that variable where rehearse runs (the URL itself never goes in a file)",
                            kind.key()
                        )),
                    );
                }
                contacts.push(Contact {
                    kind: *kind,
                    url_secret: secret.value.clone(),
                });
            }
            _ => {
                ok = false;
                problems.push(
                    Problem::new(
                        "a contact is exactly one of `slack` or `webhook`",
                        c.span.as_ref(),
                    )
                    .with_help("one contact per item: `- slack: DEVOPS_SLACK_WEBHOOK`"),
                );
            }
        }
    }
    let escalation = def.escalation.as_ref().map(|e| Escalation {
        owner: e.value.owner.value.clone(),
        after: e.value.after.value.0,
    });
    let (Some(time_zone), Some(hours), true) = (time_zone, hours, ok) else {
        return None;
    };
    Some(Owner {
        name: key.value.clone(),
        display_name: def.name.clone().unwrap_or_else(|| key.value.clone()),
        time_zone,
        hours,
        contacts,
        escalation,
    })
}

fn is_secret_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The problem for an `owner:` that names no owner of the owners file, with "did you mean"
/// or the list of owners.
pub fn unknown_owner<'a>(
    name: &str,
    span: Option<&Span>,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Problem {
    let help = did_you_mean(name, known.clone()).unwrap_or_else(|| {
        let list: Vec<String> = known.into_iter().map(|k| format!("`{k}`")).collect();
        if list.is_empty() {
            format!("add `{name}` to {OWNERS_FILE}")
        } else {
            format!(
                "owners in {OWNERS_FILE}: {}; or add `{name}` there",
                list.join(", ")
            )
        }
    });
    Problem::new(
        format!("unknown owner `{name}`: it is not in {OWNERS_FILE}"),
        span,
    )
    .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Owners, Problems> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(OWNERS_FILE);
        std::fs::write(&path, text).unwrap();
        load_owners(&path)
    }

    fn messages(p: Problems) -> Vec<String> {
        p.iter()
            .map(|p| format!("{} | {}", p.message, p.help.clone().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_full_owners_file_reads() {
        let owners = load(
            "owners:\n  devops:\n    name: DevOps, Singapore\n    time_zone: Asia/Singapore\n    hours: 09:00-18:00\n    days: [mon, tue, wed, thu, fri]\n    contacts:\n      - slack: DEVOPS_SLACK\n      - webhook: DEVOPS_HOOK\n    escalation: { owner: lead, after: 2h }\n  lead:\n    time_zone: Europe/London\n",
        )
        .unwrap();
        let d = owners.get("devops").unwrap();
        assert_eq!(d.display_name, "DevOps, Singapore");
        assert_eq!(d.hours.range(), "09:00-18:00");
        assert_eq!(d.contacts.len(), 2);
        assert_eq!(d.contacts[0].kind, ContactKind::Slack);
        assert_eq!(d.escalation.as_ref().unwrap().after.as_secs(), 7200);
        assert_eq!(owners.get("lead").unwrap().hours, WorkingHours::office());
    }

    #[test]
    fn every_problem_is_named_with_its_fix() {
        let got = messages(
            load(
                "owners:\n  devops:\n    time_zone: Asia/Singapur\n    hours: 9-5\n    contacts:\n      - slack: https://hooks.slack.com/x\n      - {}\n    escalation: { owner: leed, after: 1h }\n  lead:\n    time_zone: UTC\n    days: [funday]\n",
            )
            .unwrap_err(),
        );
        let all = got.join("\n");
        assert!(
            all.contains("unknown time zone `Asia/Singapur` | did you mean `Asia/Singapore`?"),
            "{all}"
        );
        assert!(all.contains("`9-5` is not a range of times"), "{all}");
        assert!(all.contains("is not a secret name"), "{all}");
        assert!(all.contains("exactly one of `slack` or `webhook`"), "{all}");
        assert!(all.contains("`funday` is not a day of the week"), "{all}");
        assert!(
            all.contains("unknown owner `leed`: it is not in owners.yaml | did you mean `lead`?"),
            "{all}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let got = messages(load("owners:\n  devops:\n    timezone: UTC\n").unwrap_err());
        assert!(got.iter().any(|m| m.contains("timezone")), "{got:?}");
    }
}
