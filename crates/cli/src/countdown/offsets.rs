//! The countdown's offsets (T-72 h … T-15 min), which step is due at an instant, and the
//! state file that remembers the steps already done.
//!
//! **Due** at `now`: the latest offset whose time (`demo_at - offset`) has come, unless
//! that step, or one closer to the demo, is already done. So a countdown that was not
//! running (a CI scheduler that was down, a laptop asleep) does the step of the latest
//! offset passed, once and late, and does not replay the missed ones; a second `--once`
//! at the same instant finds nothing due. Once the demo has started nothing is due.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The offsets when `--at` is not given.
pub(crate) const DEFAULT_OFFSETS: &str = "72h,48h,24h,4h,1h,15m";

/// The most offsets one countdown takes (each one is a step: a pre-flight and a run).
const MAX_OFFSETS: usize = 50;

/// The longest countdown: a year before the demo.
const MAX_OFFSET_DAYS: i64 = 366;

/// One offset before the demo: `48h` is the step at T-48 h.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offset {
    /// As written, normalised (`48h`, `15m`, `1h30m`): the step's name in the state file
    /// and in its report folder.
    pub(crate) label: String,
    /// How long before the demo.
    pub(crate) before: Duration,
}

/// Parses `72h,48h,24h,4h,1h,15m` (humantime spans: `90m`, `1h 30m`, `2d`): distinct,
/// positive, at most a year; sorted from the earliest step (the largest offset) to the
/// last, the go/no-go.
pub(crate) fn parse_offsets(text: &str) -> Result<Vec<Offset>, String> {
    let mut out: Vec<Offset> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!(
                "--at `{text}` has an empty offset; write spans before the demo separated by commas, e.g. {DEFAULT_OFFSETS}"
            ));
        }
        let std = humantime::parse_duration(part).map_err(|e| {
            format!("--at: `{part}` is not a span of time ({e}); write e.g. 48h, 90m or 1h30m")
        })?;
        let before = Duration::from_std(std)
            .ok()
            .filter(|d| *d > Duration::zero() && *d <= Duration::days(MAX_OFFSET_DAYS))
            .ok_or_else(|| {
                format!("--at: `{part}` must be more than zero and at most {MAX_OFFSET_DAYS} days before the demo")
            })?;
        if out.iter().any(|o| o.before == before) {
            return Err(format!(
                "--at: `{part}` is given twice; each offset is one step"
            ));
        }
        out.push(Offset {
            label: label(before),
            before,
        });
    }
    if out.len() > MAX_OFFSETS {
        return Err(format!(
            "--at: {} offsets is too many; give at most {MAX_OFFSETS}",
            out.len()
        ));
    }
    out.sort_by_key(|o| std::cmp::Reverse(o.before));
    Ok(out)
}

/// `48h`, `15m`, `1h30m`, `2h0m5s`: a span as a short name, safe in a file name.
fn label(d: Duration) -> String {
    let secs = d.num_seconds();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m, s) {
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        (0, 0, s) => format!("{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

/// What the countdown does at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Due {
    /// Run this step now.
    Step {
        /// Its index in the offsets (the last is the go/no-go).
        index: usize,
        /// When it was due.
        at: DateTime<Utc>,
        /// The offsets passed before it that never ran and are not replayed.
        skipped: Vec<String>,
    },
    /// Nothing now; the next step is `offsets[index]` at `at`.
    Wait {
        /// The next step's index.
        index: usize,
        /// When it is due.
        at: DateTime<Utc>,
    },
    /// The last step is done (or the demo has started): nothing more to do.
    Over,
}

/// When the step at `offset` is due.
pub(crate) fn step_time(demo_at: DateTime<Utc>, offset: &Offset) -> DateTime<Utc> {
    demo_at - offset.before
}

/// What is due at `now` (see the module doc), given the labels of the steps done.
pub(crate) fn due(
    demo_at: DateTime<Utc>,
    offsets: &[Offset],
    done: &[String],
    now: DateTime<Utc>,
) -> Due {
    let is_done = |o: &Offset| done.contains(&o.label);
    if now >= demo_at {
        return Due::Over;
    }
    // Offsets run from the earliest step to the last: the passed ones are a prefix.
    let passed = offsets
        .iter()
        .take_while(|o| step_time(demo_at, o) <= now)
        .count();
    let later_done = offsets
        .iter()
        .enumerate()
        .filter(|(_, o)| is_done(o))
        .map(|(i, _)| i)
        .max();
    if let Some(latest) = passed.checked_sub(1)
        && later_done.is_none_or(|d| d < latest)
    {
        let skipped = offsets[later_done.map_or(0, |d| d + 1)..latest]
            .iter()
            .map(|o| o.label.clone())
            .collect();
        return Due::Step {
            index: latest,
            at: step_time(demo_at, &offsets[latest]),
            skipped,
        };
    }
    match offsets.get(passed) {
        Some(next) => Due::Wait {
            index: passed,
            at: step_time(demo_at, next),
        },
        None => Due::Over,
    }
}

/// A step done, as the state file remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DoneStep {
    /// Its offset's label (`48h`).
    pub(crate) offset: String,
    /// When it was due.
    pub(crate) due_at: DateTime<Utc>,
    /// When it ran (the countdown's clock).
    pub(crate) ran_at: DateTime<Utc>,
    /// Its exit code.
    pub(crate) exit_code: u8,
    /// Its report folder.
    pub(crate) folder: String,
}

/// The state of one countdown (one demo, one environment): the steps done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The demo's start.
    pub(crate) demo_at: DateTime<Utc>,
    /// The environment counted down on.
    pub(crate) environment: String,
    /// The steps done, in the order they ran.
    pub(crate) steps: Vec<DoneStep>,
}

impl State {
    /// The labels of the steps done.
    pub(crate) fn done(&self) -> Vec<String> {
        self.steps.iter().map(|s| s.offset.clone()).collect()
    }
}

/// The largest state file read (a countdown's is a few hundred bytes).
const MAX_STATE_BYTES: u64 = 1024 * 1024;

/// `.rehearse/countdown/<environment>-<demo time>.json` under the suite's root: one file
/// per demo and environment, so a new demo time starts afresh.
pub(crate) fn state_path(root: &Path, environment: &str, demo_at: DateTime<Utc>) -> PathBuf {
    let env: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    root.join(".rehearse").join("countdown").join(format!(
        "{env}-{}.json",
        demo_at.format("%Y-%m-%dT%H-%M-%SZ")
    ))
}

/// Reads the state file; none yet is an empty state. A file that cannot be read is an
/// error naming it and the fix.
pub(crate) fn read_state(
    path: &Path,
    environment: &str,
    demo_at: DateTime<Utc>,
) -> Result<State, String> {
    let empty = State {
        demo_at,
        environment: environment.to_owned(),
        steps: Vec::new(),
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(empty),
        Err(e) => return Err(format!("failed to read {}: {e}", path.display())),
    };
    if meta.len() > MAX_STATE_BYTES {
        return Err(format!(
            "{} is over {MAX_STATE_BYTES} bytes: not a countdown's state; delete it to start the countdown afresh",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a countdown's state ({e}); delete it to start the countdown afresh",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Writes the state file (through a temporary file, so a cut-off write leaves the old one).
pub(crate) fn write_state(path: &Path, state: &State) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(state)?;
    text.push('\n');
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const DEMO: &str = "2026-12-03T15:00:00Z";

    fn offsets() -> Vec<Offset> {
        parse_offsets(DEFAULT_OFFSETS).unwrap()
    }

    fn labels(o: &[Offset]) -> Vec<&str> {
        o.iter().map(|o| o.label.as_str()).collect()
    }

    #[test]
    fn offsets_are_sorted_from_the_earliest_step_and_named_shortly() {
        let o = parse_offsets("15m, 1h, 90m,2d,4h").unwrap();
        assert_eq!(labels(&o), ["48h", "4h", "1h30m", "1h", "15m"]);
        assert_eq!(o[0].before, Duration::hours(48));
    }

    #[test]
    fn bad_offsets_are_refused_with_the_fix() {
        let e = parse_offsets("48h,,15m").unwrap_err();
        assert!(e.contains("empty offset"), "{e}");
        let e = parse_offsets("48 hours please").unwrap_err();
        assert!(e.contains("not a span of time"), "{e}");
        let e = parse_offsets("0s").unwrap_err();
        assert!(e.contains("more than zero"), "{e}");
        let e = parse_offsets("1h,60m").unwrap_err();
        assert!(e.contains("given twice"), "{e}");
        assert!(parse_offsets("400d").is_err());
    }

    #[test]
    fn before_the_first_offset_nothing_is_due_and_the_next_is_t_minus_72h() {
        let demo = at(DEMO);
        let got = due(demo, &offsets(), &[], at("2026-11-30T14:59:59Z"));
        assert_eq!(
            got,
            Due::Wait {
                index: 0,
                at: at("2026-11-30T15:00:00Z")
            }
        );
    }

    #[test]
    fn just_after_an_offset_its_step_is_due_once() {
        let demo = at(DEMO);
        let now = at("2026-12-01T15:00:30Z");
        let got = due(demo, &offsets(), &["72h".to_owned()], now);
        assert_eq!(
            got,
            Due::Step {
                index: 1,
                at: at("2026-12-01T15:00:00Z"),
                skipped: vec![]
            }
        );
        let again = due(demo, &offsets(), &["72h".to_owned(), "48h".to_owned()], now);
        assert_eq!(
            again,
            Due::Wait {
                index: 2,
                at: at("2026-12-02T15:00:00Z")
            }
        );
    }

    #[test]
    fn missed_offsets_are_done_late_once_not_replayed() {
        let demo = at(DEMO);
        // Nothing ran since T-72h; it is now T-3h: the 4h step runs, 48h and 24h are skipped.
        let now = at("2026-12-03T12:00:00Z");
        let got = due(demo, &offsets(), &["72h".to_owned()], now);
        assert_eq!(
            got,
            Due::Step {
                index: 3,
                at: at("2026-12-03T11:00:00Z"),
                skipped: vec!["48h".to_owned(), "24h".to_owned()]
            }
        );
        // A step closer to the demo already done: an earlier one is not run after it.
        let got = due(demo, &offsets(), &["1h".to_owned()], now);
        assert_eq!(
            got,
            Due::Wait {
                index: 4,
                at: at("2026-12-03T14:00:00Z")
            }
        );
    }

    #[test]
    fn after_the_last_step_or_once_the_demo_started_the_countdown_is_over() {
        let demo = at(DEMO);
        let all: Vec<String> = labels(&offsets()).iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            due(demo, &offsets(), &all, at("2026-12-03T14:50:00Z")),
            Due::Over
        );
        assert_eq!(due(demo, &offsets(), &[], demo), Due::Over);
        assert!(matches!(
            due(demo, &offsets(), &[], at("2026-12-03T14:45:00Z")),
            Due::Step { index: 5, .. }
        ));
    }

    #[test]
    fn the_state_file_round_trips_and_a_broken_one_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let demo = at(DEMO);
        let path = state_path(dir.path(), "environments/staging.yaml", demo);
        assert!(
            path.ends_with(
                ".rehearse/countdown/environments_staging_yaml-2026-12-03T15-00-00Z.json"
            )
        );
        let mut state = read_state(&path, "staging", demo).unwrap();
        assert!(state.steps.is_empty());
        state.steps.push(DoneStep {
            offset: "48h".to_owned(),
            due_at: at("2026-12-01T15:00:00Z"),
            ran_at: at("2026-12-01T15:00:30Z"),
            exit_code: 2,
            folder: "reports/48h".to_owned(),
        });
        write_state(&path, &state).unwrap();
        assert_eq!(read_state(&path, "staging", demo).unwrap(), state);
        std::fs::write(&path, "{ not json").unwrap();
        let e = read_state(&path, "staging", demo).unwrap_err();
        assert!(e.contains("delete it to start the countdown afresh"), "{e}");
    }
}
