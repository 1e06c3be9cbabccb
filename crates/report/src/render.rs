//! Text shared by the console and JUnit reports: durations, excerpts, failure blocks.

use std::time::Duration;

use rehearse_runner::{Failure, StepResult};

use crate::style::{Painter, Tone};

/// Most lines of a body excerpt.
const EXCERPT_LINES: usize = 20;
/// Most characters of a body excerpt.
const EXCERPT_CHARS: usize = 1_000;

/// `12ms`, `1.23s`, `2m 03s`, `1h 02m`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.2}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        let s = d.as_secs();
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let m = d.as_secs() / 60;
        format!("{}h {:02}m", m / 60, m % 60)
    }
}

/// Time left, in whole seconds: `45s`, `19m 30s`, `1h 02m`.
pub(crate) fn remaining(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3_600, s / 60 % 60),
    }
}

/// A body cut to a readable size; JSON is pretty-printed first.
pub(crate) fn excerpt(body: &str) -> String {
    let pretty = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
        .and_then(|v| serde_json::to_string_pretty(&v).ok());
    let text = pretty.as_deref().unwrap_or(body).trim_end();
    let mut out = String::new();
    let mut cut = false;
    for (i, line) in text.lines().enumerate() {
        if i == EXCERPT_LINES || out.len() + line.len() > EXCERPT_CHARS {
            cut = true;
            break;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line);
    }
    if cut {
        let rest = text.len().saturating_sub(out.len());
        out.push_str(&format!("\n… ({rest} more bytes)"));
    }
    out
}

/// The line number in a `file:line:col` location.
fn line_number(location: &str) -> Option<&str> {
    let mut parts = location.rsplitn(3, ':');
    let _col = parts.next()?;
    let line = parts.next()?;
    parts.next()?;
    line.chars().all(|c| c.is_ascii_digit()).then_some(line)
}

/// The failures to show for a step: its own, then any other of its last attempt.
pub(crate) fn failures(step: &StepResult) -> Vec<&Failure> {
    let mut all: Vec<&Failure> = step.failure.iter().collect();
    if let Some(last) = step.attempts.last() {
        for f in &last.failures {
            // The step's failure repeats the last attempt's first one, perhaps with a note
            // ("poll timed out after 12 attempts") after it.
            let same = |g: &&Failure| {
                g.check == f.check && g.expected == f.expected && g.actual.starts_with(&f.actual)
            };
            if !all.iter().any(same) {
                all.push(f);
            }
        }
    }
    all
}

/// `after 3 attempts` for a step that made more than one.
pub(crate) fn attempts_note(step: &StepResult) -> Option<String> {
    match step.attempts.len() {
        0 | 1 => None,
        n => Some(format!("after {n} attempts")),
    }
}

/// One line naming a step's failure: the first failure, or the transport error.
pub(crate) fn headline(step: &StepResult) -> String {
    if let Some(f) = failures(step).first() {
        return f.to_string();
    }
    if let Some(err) = step.attempts.last().and_then(|a| a.error.as_deref()) {
        return format!("error: {err}");
    }
    format!("step {}", step.status.as_str())
}

/// The lines explaining why a step did not pass: each expectation with where it is
/// written and its source line, a transport error, and an excerpt of the last response.
pub(crate) fn failure_block(step: &StepResult, p: Painter) -> Vec<String> {
    let mut lines = Vec::new();
    let fails = failures(step);
    for f in &fails {
        lines.push(format!(
            "{}: expected {}, got {}",
            p.paint(Tone::Bold, &f.check),
            p.paint(Tone::Pass, &f.expected),
            p.paint(Tone::Fail, &f.actual),
        ));
        let location = f.location.as_deref().unwrap_or(&step.location);
        if !location.is_empty() {
            lines.push(format!(
                "  {} {}",
                p.paint(Tone::Dim, "-->"),
                p.paint(Tone::Location, location)
            ));
        }
        if let Some(src) = f.source_line.as_deref() {
            let number = line_number(location).unwrap_or("");
            let pad = " ".repeat(number.len());
            let bar = |n: &str| p.paint(Tone::Dim, format!("{n} |"));
            lines.push(format!("   {}", bar(&pad)));
            lines.push(format!("   {} {}", bar(number), src.trim_end()));
            lines.push(format!("   {}", bar(&pad)));
        }
    }
    let last = step.attempts.last();
    if let Some(err) = last.and_then(|a| a.error.as_deref())
        && !fails.iter().any(|f| f.actual.contains(err))
    {
        lines.push(format!("{} {}", p.paint(Tone::Fail, "error:"), err));
    }
    if fails.is_empty() && last.and_then(|a| a.error.as_ref()).is_none() {
        lines.push(format!("step {}", step.status.as_str()));
    }
    if let Some(resp) = last.and_then(|a| a.response.as_ref()) {
        let body = excerpt(&resp.body);
        if body.is_empty() {
            lines.push(format!("last response: {} (empty body)", resp.status));
        } else {
            lines.push(format!("last response: {}", resp.status));
            lines.extend(body.lines().map(|l| format!("  {l}")));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_millis(12)), "12ms");
        assert_eq!(duration(Duration::from_millis(1_234)), "1.23s");
        assert_eq!(duration(Duration::from_secs(123)), "2m 03s");
        assert_eq!(duration(Duration::from_secs(3_720)), "1h 02m");
        assert_eq!(remaining(Duration::from_millis(45_900)), "45s");
        assert_eq!(remaining(Duration::from_secs(1_170)), "19m 30s");
        assert_eq!(remaining(Duration::from_secs(3_720)), "1h 02m");
    }

    #[test]
    fn json_excerpt_is_pretty_and_text_is_kept() {
        assert_eq!(excerpt(r#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(excerpt("plain text\n"), "plain text");
    }

    #[test]
    fn long_body_is_cut_and_says_so() {
        let body = "line\n".repeat(100);
        let out = excerpt(&body);
        assert_eq!(out.lines().count(), EXCERPT_LINES + 1);
        assert!(out.ends_with("more bytes)"), "{out}");
    }

    #[test]
    fn line_number_of_location() {
        assert_eq!(line_number("scenarios/a.yaml:24:7"), Some("24"));
        assert_eq!(line_number("C:/x/a.yaml:3:1"), Some("3"));
        assert_eq!(line_number("nowhere"), None);
    }
}
