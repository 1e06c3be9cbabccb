//! The Markdown summary: a few lines for `$GITHUB_STEP_SUMMARY` and chat posts. The
//! verdict, the counts, failures by owner with their hints, and a link to the HTML
//! report when its URL is known.
//!
//! Text from the run is escaped so it cannot turn into markup (GitHub renders HTML in
//! step summaries); expectations and evidence go into code spans.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use rehearse_runner::RunResult;

use crate::html::scenario_anchor;
use crate::render;
use crate::spec::write_file;
use crate::trend::{TrendLabel, Trends};
use crate::verdict::{self, Verdict};

/// Most failures listed before "and N more".
const MAX_FAILURES: usize = 30;
/// Most characters of a pre-flight check's evidence.
const MAX_EVIDENCE: usize = 200;

/// The Markdown summary of a run; with `report_url`, it links to the HTML report (and
/// each failure to its scenario there).
pub fn to_markdown_string(result: &RunResult, report_url: Option<&str>) -> String {
    to_markdown_string_with(result, report_url, None)
}

/// [`to_markdown_string`] with the scenarios' history: new failures are listed first,
/// each failure and fix labelled.
pub fn to_markdown_string_with(
    result: &RunResult,
    report_url: Option<&str>,
    trends: Option<&Trends>,
) -> String {
    to_markdown_string_opts(
        result,
        &crate::ReportOptions {
            report_url: report_url.map(str::to_owned),
            trends: trends.cloned(),
            ..crate::ReportOptions::default()
        },
    )
}

/// [`to_markdown_string`] with every option: report link, history, owners' clocks,
/// checks verified fixed.
pub fn to_markdown_string_opts(result: &RunResult, options: &crate::ReportOptions) -> String {
    let report_url = options.report_url.as_deref();
    let trends = options.trends.as_ref();
    let url = report_url.map(link_target).filter(|u| !u.is_empty());
    let verdict = Verdict::of(result);
    let mut out = String::new();
    let icon = match verdict {
        Verdict::Passed => "✅",
        Verdict::Failed | Verdict::InvalidInput => "❌",
        Verdict::NotReady => "🟧",
        Verdict::Interrupted => "⏹️",
    };
    let _ = writeln!(out, "## {icon} rehearse: {}\n", verdict.label());
    let facts: Vec<String> = verdict::facts(result)
        .into_iter()
        .filter(|(label, _)| *label != "started" && *label != "duration")
        .map(|(label, value)| format!("{label} {}", code(&value)))
        .collect();
    let _ = writeln!(
        out,
        "**{}** in {} · {}\n",
        verdict::counts_line(result),
        render::duration(result.duration),
        facts.join(" · ")
    );
    if let Some(url) = &url {
        let _ = writeln!(out, "📄 [Open the HTML report]({url})\n");
    }

    if let Some(clocks) = &options.owner_clocks {
        let rows = crate::owners::failing_clocks(result, clocks);
        if !rows.is_empty() {
            out.push_str("### Owners with failures\n\n| owner | local time | time zone | hours | now | next |\n| --- | --- | --- | --- | --- | --- |\n");
            for c in rows {
                let _ = writeln!(
                    out,
                    "| **{}** | {} | {} | {} | {} | {} |",
                    cell(&c.name),
                    cell(&c.local_time),
                    cell(&c.time_zone),
                    cell(&c.hours),
                    c.state(),
                    cell(&c.next)
                );
            }
            out.push('\n');
        }
    }

    let checks = result.preflight_failures_by_owner();
    if !checks.is_empty() {
        let _ = writeln!(
            out,
            "### Environment not ready: pre-flight checks failed{}\n",
            if result.aborted.is_some() {
                " (no scenario ran)"
            } else {
                ""
            }
        );
        for (owner, list) in &checks {
            let _ = writeln!(out, "{}\n", owner_line(owner.as_deref()));
            for c in list {
                let _ = write!(out, "- **{}**", escape(&c.name));
                if !c.evidence.is_empty() {
                    let _ = write!(out, ": {}", code(&cut(&c.evidence, MAX_EVIDENCE)));
                }
                out.push('\n');
                if let Some(hint) = &c.hint {
                    let _ = writeln!(out, "  - hint: {}", escape(hint));
                }
                if let Some(t) = &c.ticket {
                    let _ = writeln!(out, "  - ticket: [{}]({})", escape(t), link_target(t));
                }
            }
            out.push('\n');
        }
    }

    if !options.verified_fixed.is_empty() {
        out.push_str("### Verified fixed\n\n");
        for f in &options.verified_fixed {
            let _ = writeln!(
                out,
                "- **{}**: _verified fixed_, failing since {}",
                escape(&f.check),
                escape(&f.first_failed)
            );
        }
        out.push('\n');
    }

    if let Some(aborted) = &result.aborted {
        let problems = verdict::other_problems(result, aborted);
        if !problems.is_empty() {
            let _ = writeln!(
                out,
                "### The run did not start: {}\n",
                escape(&aborted.reason.replace('_', " "))
            );
            for p in problems {
                let _ = writeln!(out, "- {}", escape(p));
            }
            out.push('\n');
        }
    }

    if let Some(trends) = trends {
        trend_lists(&mut out, result, trends, url.as_deref());
    }

    let groups = verdict::failures_by_owner(result);
    if !groups.is_empty() {
        out.push_str("### Failures by owner\n\n");
        let mut listed = 0;
        let total: usize = groups.iter().map(|(_, l)| l.len()).sum();
        'groups: for (owner, list) in &groups {
            let _ = writeln!(out, "{}\n", owner_line(*owner));
            for f in list {
                if listed == MAX_FAILURES {
                    out.push('\n');
                    break 'groups;
                }
                listed += 1;
                let name = escape(&f.scenario.name);
                let name = match &url {
                    Some(u) => format!("[{name}]({u}#{})", scenario_anchor(f.index)),
                    None => name,
                };
                let _ = write!(out, "- **{name}** ({}): ", code(&f.scenario.path));
                if let Some(label) = trends
                    .and_then(|t| t.of(&f.scenario.path))
                    .and_then(|t| t.label.as_ref())
                {
                    let _ = write!(out, "_{}_ · ", escape(&label.text()));
                }
                out.push_str(&failure_text(&f.summary()));
                if let Some(loc) = f.location() {
                    let _ = write!(out, " at {}", code(loc));
                }
                out.push('\n');
            }
            out.push('\n');
        }
        if listed < total {
            let _ = writeln!(
                out,
                "… and {} more failure{} (see the full report)\n",
                total - listed,
                if total - listed == 1 { "" } else { "s" }
            );
        }
    }

    let flaky = verdict::flaky(result);
    if !flaky.is_empty() {
        out.push_str("### Flaky: passed only after a retry\n\n");
        for (_, s, steps) in flaky {
            let _ = write!(out, "- **{}**", escape(&s.name));
            if let Some(o) = &s.owner {
                let _ = write!(out, " (owner {})", escape(o));
            }
            if s.retries > 0 {
                let _ = write!(
                    out,
                    ": failed, then passed on retry {} of `--retry-failed`",
                    s.retries
                );
            } else if !steps.is_empty() {
                let names: Vec<String> = steps.iter().map(|st| code(&st.name)).collect();
                let _ = write!(out, ": step {}", names.join(", "));
            }
            out.push('\n');
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Writes the Markdown summary to `path`, creating its parent directories.
pub fn write_markdown(result: &RunResult, path: &Path, report_url: Option<&str>) -> io::Result<()> {
    write_markdown_with(result, path, report_url, None)
}

/// [`write_markdown`] with the scenarios' history.
pub fn write_markdown_with(
    result: &RunResult,
    path: &Path,
    report_url: Option<&str>,
    trends: Option<&Trends>,
) -> io::Result<()> {
    write_file(
        path,
        to_markdown_string_with(result, report_url, trends).as_bytes(),
    )
}

/// New failures first (what broke tonight), then those fixed.
fn trend_lists(out: &mut String, result: &RunResult, trends: &Trends, url: Option<&str>) {
    let with = |want: fn(&TrendLabel) -> bool| -> Vec<(usize, &rehearse_runner::ScenarioResult)> {
        result
            .scenarios
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                trends
                    .of(&s.path)
                    .and_then(|t| t.label.as_ref())
                    .is_some_and(want)
            })
            .collect()
    };
    for (title, list) in [
        ("New failures", with(|l| *l == TrendLabel::NewFailure)),
        ("Fixed", with(|l| *l == TrendLabel::Fixed)),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for (i, s) in list.into_iter().take(MAX_FAILURES) {
            let name = escape(&s.name);
            let name = match url {
                Some(u) => format!("[{name}]({u}#{})", scenario_anchor(i)),
                None => name,
            };
            let strip = trends.of(&s.path).map(|t| t.strip.as_str()).unwrap_or("");
            let _ = write!(out, "- **{name}** ({}) {}", code(&s.path), code(strip));
            if let Some((step, f)) = s.first_failure() {
                let _ = write!(
                    out,
                    ": {}",
                    failure_text(&format!("step `{}` failed: {f}", step.name))
                );
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn owner_line(owner: Option<&str>) -> String {
    match owner {
        Some(o) => format!("**owner: {}**", escape(o)),
        None => "**no owner**".to_owned(),
    }
}

/// A failure summary, whose backquoted parts (step names) stay code spans and the rest
/// is escaped: ``step `x` failed: $.status: expected a, got b``.
fn failure_text(summary: &str) -> String {
    // The summary is `step `NAME` VERB: CHECK`; show the check as code.
    match summary.split_once(": ") {
        Some((head, check)) => {
            let head = match (head.find('`'), head.rfind('`')) {
                (Some(a), Some(b)) if b > a => format!(
                    "{}{}{}",
                    escape(&head[..a]),
                    code(&head[a + 1..b]),
                    escape(&head[b + 1..])
                ),
                _ => escape(head),
            };
            format!("{head}: {}", code(check))
        }
        None => escape(summary),
    }
}

/// Text on one line, for a list item.
/// Text for a table cell: escaped, on one line, no `|`.
fn cell(s: &str) -> String {
    escape(&one_line(s))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    let s = one_line(s);
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s,
    }
}

/// Escapes Markdown and inline HTML so text stays text (on one line).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span holding `s` literally: the fence is longer than any run of backquotes in
/// it (CommonMark), and it is padded when `s` starts or ends with one.
pub(crate) fn code(s: &str) -> String {
    let s = one_line(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A URL usable as a Markdown link target: no spaces, parentheses or angle brackets.
fn link_target(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_markup_as_text() {
        insta::assert_snapshot!(
            escape("<img src=x> *bold* [link](u) a|b"),
            @r"&lt;img src=x&gt; \*bold\* \[link\](u) a\|b"
        );
    }

    #[test]
    fn code_span_fence_outlasts_backquotes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a ` b"), "``a ` b``");
        assert_eq!(code("`x`"), "`` `x` ``");
    }

    #[test]
    fn link_target_has_no_breaking_characters() {
        assert_eq!(
            link_target(" https://ci.example/run (1)/report.html "),
            "https://ci.example/run%20%281%29/report.html"
        );
    }

    #[test]
    fn evidence_is_cut() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("ab\n  c", 10), "ab c");
    }
}
