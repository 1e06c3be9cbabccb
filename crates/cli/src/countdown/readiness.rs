//! Where a demo stands after a countdown step: from the step's reports (the pre-flight's
//! and the flows'), each owner's checks green or red, their clock and the working hours
//! they have left before the demo; GO when everything is green; the lines to tell each
//! owner with failures; the readiness board. Pure: `now` and the owners are given.

use chrono::{DateTime, Duration, Utc};
use rehearse_owners::{Owner, Owners};
use rehearse_report::{Board, BoardRow, BoardVerdict};
use rehearse_runner::{RunResult, Status};

/// The owner of checks and flows that name none.
pub(crate) const NO_OWNER: &str = "(no owner)";

/// The longest evidence quoted in a line (the reports have it whole).
const MAX_DETAIL_CHARS: usize = 240;

/// How one part of the step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// It ran and everything in it passed.
    Green,
    /// It ran and something failed (or it could not run: the reason).
    Red(String),
    /// It did not run, and why.
    NotRun(String),
}

/// A failing check or flow, as an owner is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failing {
    /// `pre-flight \`platform is up\`` or `flow \`pay\``.
    pub(crate) what: String,
    /// What was seen (masked by the runner), shortened.
    pub(crate) detail: String,
    /// What to do.
    pub(crate) hint: Option<String>,
    /// The ticket raised for it.
    pub(crate) ticket: Option<String>,
}

/// One owner after a step.
#[derive(Debug, Clone)]
pub(crate) struct OwnerStatus {
    /// The name `owner:` uses, or [`NO_OWNER`].
    pub(crate) name: String,
    /// Their entry in `owners.yaml`, if any.
    pub(crate) owner: Option<Owner>,
    /// Their checks and flows that passed.
    pub(crate) green: Vec<String>,
    /// Their checks and flows that failed.
    pub(crate) red: Vec<Failing>,
}

/// Where the demo stands after one step.
#[derive(Debug, Clone)]
pub(crate) struct Readiness {
    /// The environment.
    pub(crate) environment: String,
    /// When the demo starts.
    pub(crate) demo_at: DateTime<Utc>,
    /// The countdown's now.
    pub(crate) now: DateTime<Utc>,
    /// The step's name, `T-24h`.
    pub(crate) step: String,
    /// The last step: its verdict is the go/no-go call.
    pub(crate) final_call: bool,
    /// The pre-flight checks.
    pub(crate) preflight: Phase,
    /// The flows.
    pub(crate) flows: Phase,
    /// Every owner of `owners.yaml`, and every other owner named in the reports, by name;
    /// checks and flows with no owner last, under [`NO_OWNER`].
    pub(crate) owners: Vec<OwnerStatus>,
}

/// What one step gathered.
#[derive(Debug, Default)]
pub(crate) struct StepReports {
    /// The pre-flight's JSON report, or why there is none.
    pub(crate) preflight: Option<Result<RunResult, String>>,
    /// The flows' JSON report, or why there is none (`None`: not run).
    pub(crate) run: Option<Result<RunResult, String>>,
}

/// The step's readiness, from its reports.
pub(crate) fn readiness(
    reports: &StepReports,
    owners: Option<&Owners>,
    environment: &str,
    step: &str,
    final_call: bool,
    demo_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Readiness {
    let mut by: Vec<OwnerStatus> = owners
        .map(|o| o.iter().map(|o| status_of(&o.name, Some(o))).collect())
        .unwrap_or_default();
    let preflight = match &reports.preflight {
        None => Phase::NotRun("not run".to_owned()),
        Some(Err(why)) => Phase::Red(why.clone()),
        Some(Ok(r)) => {
            let mut failed = 0;
            for c in &r.preflight {
                let i = entry(&mut by, owners, c.owner.as_deref());
                let what = format!("pre-flight `{}`", c.name);
                match c.status {
                    Status::Passed | Status::Flaky => by[i].green.push(what),
                    Status::Failed | Status::Error => {
                        failed += 1;
                        by[i].red.push(Failing {
                            what,
                            detail: shorten(&c.evidence),
                            hint: c.hint.clone(),
                            ticket: c.ticket.clone(),
                        });
                    }
                    Status::Skipped | Status::Interrupted => {}
                }
            }
            if failed > 0 {
                Phase::Red(format!("{failed} of {} checks failed", r.preflight.len()))
            } else if let Some(a) = &r.aborted {
                Phase::Red(a.problems.join("; "))
            } else {
                Phase::Green
            }
        }
    };
    let flows = match &reports.run {
        None => Phase::NotRun(if matches!(preflight, Phase::Green) {
            "not run".to_owned()
        } else {
            "not run: pre-flight is not green".to_owned()
        }),
        Some(Err(why)) => Phase::Red(why.clone()),
        Some(Ok(r)) => {
            let mut failed = 0;
            for s in &r.scenarios {
                let i = entry(&mut by, owners, s.owner.as_deref());
                let what = format!("flow `{}`", s.name);
                match s.status {
                    Status::Passed | Status::Flaky => by[i].green.push(what),
                    Status::Failed | Status::Error => {
                        failed += 1;
                        let detail = s.first_failure().map_or_else(
                            || s.status.as_str().to_owned(),
                            |(step, f)| shorten(&format!("step `{}`: {f}", step.name)),
                        );
                        by[i].red.push(Failing {
                            what,
                            detail,
                            hint: None,
                            ticket: None,
                        });
                    }
                    Status::Skipped | Status::Interrupted => {}
                }
            }
            if failed > 0 {
                Phase::Red(format!("{failed} of {} flows failed", r.scenarios.len()))
            } else if let Some(a) = &r.aborted {
                Phase::Red(a.problems.join("; "))
            } else if r.interrupted {
                Phase::Red("interrupted".to_owned())
            } else if r.scenarios.is_empty() {
                Phase::Red("no flow was selected".to_owned())
            } else {
                Phase::Green
            }
        }
    };
    by.sort_by(|a, b| (a.name == NO_OWNER, &a.name).cmp(&(b.name == NO_OWNER, &b.name)));
    Readiness {
        environment: environment.to_owned(),
        demo_at,
        now,
        step: step.to_owned(),
        final_call,
        preflight,
        flows,
        owners: by,
    }
}

/// The index of `name`'s entry in `by`, added when missing.
fn entry(by: &mut Vec<OwnerStatus>, owners: Option<&Owners>, name: Option<&str>) -> usize {
    let name = name.unwrap_or(NO_OWNER);
    if let Some(i) = by.iter().position(|s| s.name == name) {
        return i;
    }
    by.push(status_of(name, owners.and_then(|o| o.get(name))));
    by.len() - 1
}

fn status_of(name: &str, owner: Option<&Owner>) -> OwnerStatus {
    OwnerStatus {
        name: name.to_owned(),
        owner: owner.cloned(),
        green: Vec::new(),
        red: Vec::new(),
    }
}

/// At most [`MAX_DETAIL_CHARS`], on one line.
fn shorten(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= MAX_DETAIL_CHARS {
        return one;
    }
    let mut out: String = one.chars().take(MAX_DETAIL_CHARS).collect();
    out.push('…');
    out
}

/// A span of working time, rounded down to the minute and counted in hours (not days: a
/// day of working time is 8 h, not 24): `13 h 30 min`, `45 min`, `0 h`.
pub(crate) fn hours_text(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match (minutes / 60, minutes % 60) {
        (0, 0) => "0 h".to_owned(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

impl Readiness {
    /// Pre-flight and the flows are green.
    pub(crate) fn go(&self) -> bool {
        self.preflight == Phase::Green && self.flows == Phase::Green
    }

    /// The owners with a failure.
    pub(crate) fn failing(&self) -> impl Iterator<Item = &OwnerStatus> {
        self.owners.iter().filter(|o| !o.red.is_empty())
    }

    /// Their working time between now and the demo (`None` when not in `owners.yaml`).
    pub(crate) fn working_left(&self, o: &OwnerStatus) -> Option<Duration> {
        o.owner
            .as_ref()
            .map(|owner| owner.working_time_between(self.now, self.demo_at))
    }

    /// `13 h 30 min`, or the wall-clock time left when they are not in `owners.yaml`.
    fn hours_left(&self, o: &OwnerStatus) -> String {
        match self.working_left(o) {
            Some(d) => hours_text(d),
            None => format!(
                "{} of the clock (not in owners.yaml)",
                hours_text(self.demo_at - self.now)
            ),
        }
    }

    /// `devops (DevOps, Singapore)`.
    fn who(o: &OwnerStatus) -> String {
        match &o.owner {
            Some(owner) if owner.display_name != owner.name => {
                format!("{} ({})", owner.name, owner.display_name)
            }
            _ => o.name.clone(),
        }
    }

    /// The go/no-go line. The last step's: `GO: …` or `NO-GO: …` naming each failing
    /// owner, their clock and hours left; an earlier step's: `on track: …` or `not ready:
    /// …`.
    pub(crate) fn verdict_line(&self) -> String {
        let left = hours_text(self.demo_at - self.now);
        if self.go() {
            let what = format!(
                "pre-flight and the demo flows are green on {}, {left} before the demo",
                self.environment
            );
            return if self.final_call {
                format!("GO: {what}")
            } else {
                format!("on track: {what}")
            };
        }
        let mut parts: Vec<String> = self
            .failing()
            .map(|o| {
                let n = o.red.len();
                let clock = o.owner.as_ref().map_or_else(
                    || "not in owners.yaml".to_owned(),
                    |owner| {
                        owner
                            .describe(self.now)
                            .replacen(&format!("{} — ", owner.name), "", 1)
                    },
                );
                let hours = match self.working_left(o) {
                    Some(d) => format!("{} of working hours left", hours_text(d)),
                    None => format!("{} of the clock left", hours_text(self.demo_at - self.now)),
                };
                format!(
                    "{} has {n} failure{} ({clock}; {hours})",
                    Self::who(o),
                    if n == 1 { "" } else { "s" }
                )
            })
            .collect();
        for (name, phase) in [("pre-flight", &self.preflight), ("flows", &self.flows)] {
            match phase {
                Phase::Red(why) if parts.is_empty() || !why.contains("failed") => {
                    parts.push(format!("{name}: {why}"));
                }
                Phase::NotRun(why) if parts.is_empty() => parts.push(format!("{name}: {why}")),
                _ => {}
            }
        }
        let head = if self.final_call {
            "NO-GO"
        } else {
            "not ready"
        };
        format!(
            "{head} on {}, {left} before the demo: {}",
            self.environment,
            parts.join("; ")
        )
    }

    /// What to tell each owner with failures: their name, then the lines (their failures
    /// with hints and tickets, their working hours left, the go/no-go at the last step).
    pub(crate) fn messages(&self) -> Vec<(String, Vec<String>)> {
        self.failing()
            .map(|o| {
                let mut lines = Vec::new();
                if let Some(owner) = &o.owner {
                    lines.push(owner.describe(self.now));
                }
                for f in &o.red {
                    lines.push(format!("✗ {}: {}", f.what, f.detail));
                    if let Some(h) = &f.hint {
                        lines.push(format!("  hint: {h}"));
                    }
                    if let Some(t) = &f.ticket {
                        lines.push(format!("  ticket: {t}"));
                    }
                }
                let demo = match &o.owner {
                    Some(owner) => format!(
                        "{} UTC, {} your time",
                        self.demo_at.format("%a %Y-%m-%d %H:%M"),
                        owner.local_time(self.demo_at).format("%a %H:%M")
                    ),
                    None => format!("{} UTC", self.demo_at.format("%a %Y-%m-%d %H:%M")),
                };
                let left = match self.working_left(o) {
                    Some(d) if d <= Duration::zero() => {
                        "none of your working hours are left before the demo".to_owned()
                    }
                    Some(d) => format!(
                        "{} of your working hours left before the demo",
                        hours_text(d)
                    ),
                    None => format!(
                        "{} left before the demo (no working hours: not in owners.yaml)",
                        hours_text(self.demo_at - self.now)
                    ),
                };
                lines.push(format!("{left} ({demo})"));
                if self.final_call {
                    lines.push(self.verdict_line());
                }
                (o.name.clone(), lines)
            })
            .collect()
    }

    /// The readiness board.
    pub(crate) fn board(&self) -> Board {
        let rows = self
            .owners
            .iter()
            .map(|o| BoardRow {
                name: o.name.clone(),
                display_name: o
                    .owner
                    .as_ref()
                    .map_or_else(|| o.name.clone(), |w| w.display_name.clone()),
                clock: o
                    .owner
                    .as_ref()
                    .map(|w| crate::owner_clock::clock(w, self.now)),
                green: o.green.clone(),
                red: o
                    .red
                    .iter()
                    .map(|f| format!("{}: {}", f.what, f.detail))
                    .collect(),
                hours_left: self.hours_left(o),
            })
            .collect();
        Board {
            environment: self.environment.clone(),
            demo_at: self.demo_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            step: self.step.clone(),
            now: self.now.format("%Y-%m-%d %H:%M UTC").to_string(),
            time_left: hours_text(self.demo_at - self.now),
            verdict: BoardVerdict {
                go: self.go(),
                final_call: self.final_call,
                line: self.verdict_line(),
            },
            rows,
        }
    }

    /// What a step prints: how pre-flight and the flows went, the lines for each owner
    /// with failures, and the verdict.
    pub(crate) fn console(&self) -> String {
        let phase = |p: &Phase| match p {
            Phase::Green => "green".to_owned(),
            Phase::Red(why) => format!("red ({why})"),
            Phase::NotRun(why) => why.clone(),
        };
        let mut out = format!(
            "pre-flight: {} · flows: {}\n",
            phase(&self.preflight),
            phase(&self.flows)
        );
        for (name, lines) in self.messages() {
            let who = self
                .owners
                .iter()
                .find(|o| o.name == name)
                .map_or(name.clone(), Self::who);
            out.push_str(&format!("tell {who}:\n"));
            for l in lines
                .iter()
                .filter(|l| !(self.final_call && **l == self.verdict_line()))
            {
                out.push_str(&format!("  {l}\n"));
            }
        }
        out.push_str(&self.verdict_line());
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use rehearse_owners::{WorkingHours, parse_time_zone};
    use rehearse_runner::{CheckResult, ScenarioResult};

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn owner(name: &str, tz: &str, range: &str) -> Owner {
        let mut o = Owner::new(name, parse_time_zone(tz).unwrap());
        o.hours = WorkingHours::parse(range, &["mon", "tue", "wed", "thu", "fri"]).unwrap();
        o
    }

    fn owners() -> Owners {
        let mut devops = owner("devops", "Asia/Singapore", "09:00-17:00");
        devops.display_name = "DevOps, Singapore".to_owned();
        Owners::new([
            devops,
            owner("payments-team", "Europe/London", "09:00-17:00"),
            owner("bank-integration", "America/New_York", "09:00-18:00"),
        ])
    }

    fn check(name: &str, owner: &str, status: Status) -> CheckResult {
        CheckResult {
            name: name.to_owned(),
            kind: "reachable".to_owned(),
            owner: Some(owner.to_owned()),
            hint: Some("start it".to_owned()),
            status,
            evidence: "connection refused".to_owned(),
            duration: StdDuration::ZERO,
            location: None,
            required_by: Vec::new(),
            ticket: None,
        }
    }

    fn result(checks: Vec<CheckResult>, scenarios: Vec<ScenarioResult>) -> RunResult {
        RunResult {
            run_id: "r".to_owned(),
            environment: "staging".to_owned(),
            started_at: at("2026-12-03T14:45:00Z"),
            duration: StdDuration::ZERO,
            scenarios,
            interrupted: false,
            preflight: checks,
            rehearse_version: String::new(),
            bank_api_version: None,
            aborted: None,
        }
    }

    fn flow(name: &str, owner: &str) -> ScenarioResult {
        ScenarioResult {
            path: "s.yaml".to_owned(),
            name: name.to_owned(),
            tags: vec!["demo".to_owned()],
            owner: Some(owner.to_owned()),
            status: Status::Passed,
            duration: StdDuration::ZERO,
            steps: Vec::new(),
            cleanup: Vec::new(),
            retries: 0,
        }
    }

    #[test]
    fn hours_are_counted_in_hours_and_rounded_down() {
        assert_eq!(hours_text(Duration::zero()), "0 h");
        assert_eq!(hours_text(Duration::seconds(59)), "0 h");
        assert_eq!(hours_text(Duration::minutes(45)), "45 min");
        assert_eq!(hours_text(Duration::hours(26)), "26 h");
        assert_eq!(hours_text(Duration::minutes(13 * 60 + 30)), "13 h 30 min");
    }

    #[test]
    fn all_green_at_the_last_step_is_go() {
        let owners = owners();
        let reports = StepReports {
            preflight: Some(Ok(result(
                vec![check("platform is up", "devops", Status::Passed)],
                vec![],
            ))),
            run: Some(Ok(result(vec![], vec![flow("pay", "payments-team")]))),
        };
        let r = readiness(
            &reports,
            Some(&owners),
            "staging",
            "T-15m",
            true,
            at("2026-12-03T15:00:00Z"),
            at("2026-12-03T14:45:00Z"),
        );
        assert!(r.go());
        assert_eq!(
            r.verdict_line(),
            "GO: pre-flight and the demo flows are green on staging, 15 min before the demo"
        );
        assert!(r.messages().is_empty());
    }

    #[test]
    fn a_failing_owner_is_told_their_working_hours_left_over_the_weekend() {
        // Friday 2026-12-04 15:00 UTC to the demo on Monday 2026-12-07 15:00 UTC: London
        // (09:00-17:00) has 2 h on Friday and 6 h on Monday; Singapore is past its Friday
        // and Monday 09:00-17:00 is 01:00-09:00 UTC: 8 h; New York (09:00-18:00) has 8 h
        // on Friday (10:00-18:00 local) and 1 h on Monday (09:00-10:00 local is
        // 14:00-15:00 UTC). The weekend counts nothing.
        let owners = owners();
        let reports = StepReports {
            preflight: Some(Ok(result(
                vec![
                    check("platform is up", "devops", Status::Failed),
                    check("ledger is up", "payments-team", Status::Failed),
                    check("bank is up", "bank-integration", Status::Failed),
                ],
                vec![],
            ))),
            run: None,
        };
        let r = readiness(
            &reports,
            Some(&owners),
            "staging",
            "T-72h",
            false,
            at("2026-12-07T15:00:00Z"),
            at("2026-12-04T15:00:00Z"),
        );
        let left: Vec<(String, String)> = r
            .failing()
            .map(|o| (o.name.clone(), hours_text(r.working_left(o).unwrap())))
            .collect();
        assert_eq!(
            left,
            [
                ("bank-integration".to_owned(), "9 h".to_owned()),
                ("devops".to_owned(), "8 h".to_owned()),
                ("payments-team".to_owned(), "8 h".to_owned()),
            ]
        );
        assert!(!r.go());
        assert_eq!(
            r.flows,
            Phase::NotRun("not run: pre-flight is not green".to_owned())
        );
        let messages = r.messages();
        let devops = &messages.iter().find(|(n, _)| n == "devops").unwrap().1;
        insta::assert_snapshot!(devops.join("\n"), @r"
        devops — 23:00 in Asia/Singapore, off hours; back in 2 d 10 h
        ✗ pre-flight `platform is up`: connection refused
          hint: start it
        8 h of your working hours left before the demo (Mon 2026-12-07 15:00 UTC, Mon 23:00 your time)
        ");
    }

    #[test]
    fn no_go_names_each_failing_owner_their_clock_and_hours_left() {
        let owners = owners();
        let reports = StepReports {
            preflight: Some(Ok(result(
                vec![check("platform is up", "devops", Status::Failed)],
                vec![],
            ))),
            run: None,
        };
        let r = readiness(
            &reports,
            Some(&owners),
            "staging",
            "T-15m",
            true,
            at("2026-12-03T15:00:00Z"),
            at("2026-12-03T14:45:00Z"),
        );
        insta::assert_snapshot!(r.verdict_line(), @"NO-GO on staging, 15 min before the demo: devops (DevOps, Singapore) has 1 failure (22:45 in Asia/Singapore, off hours; back in 10 h 15 min; 0 h of working hours left)");
        let board = r.board();
        let names: Vec<(&str, &str)> = board
            .rows
            .iter()
            .map(|row| (row.name.as_str(), row.state()))
            .collect();
        assert_eq!(
            names,
            [
                ("bank-integration", "idle"),
                ("devops", "red"),
                ("payments-team", "idle")
            ]
        );
    }

    #[test]
    fn checks_without_an_owner_or_with_an_unknown_one_get_a_row_of_their_own() {
        let mut c = check("dns resolves", "x", Status::Failed);
        c.owner = None;
        let reports = StepReports {
            preflight: Some(Ok(result(
                vec![c, check("y", "qa", Status::Failed)],
                vec![],
            ))),
            run: None,
        };
        let r = readiness(
            &reports,
            None,
            "staging",
            "T-1h",
            false,
            at("2026-12-03T15:00:00Z"),
            at("2026-12-03T14:00:00Z"),
        );
        let names: Vec<&str> = r.owners.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["qa", NO_OWNER]);
        assert_eq!(
            r.board().rows[0].hours_left,
            "1 h of the clock (not in owners.yaml)"
        );
    }
}
