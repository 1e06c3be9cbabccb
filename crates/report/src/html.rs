//! The HTML report: one self-contained page (inline CSS and JS, no URL fetched) with the
//! verdict, pre-flight failures and scenario failures by owner, and a timeline per
//! scenario whose steps and attempts open on click.
//!
//! Every piece of text from the run is escaped; URLs from the run (request URLs, bodies)
//! are shown as text, never as links. The page reads fully without JS; the script only
//! adds the tag and status filters.

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

use rehearse_runner::{Attempt, CheckResult, RunResult, ScenarioResult, Status, StepResult};

use crate::render;
use crate::spec::write_file;
use crate::style::Painter;
use crate::trend::Trends;
use crate::verdict::{self, Verdict};

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// The HTML report of a run, one self-contained page.
pub fn to_html_string(result: &RunResult) -> String {
    to_html_string_with(result, None)
}

/// [`to_html_string`] with the scenarios' history: each scenario shows its strip of recent
/// results and its label (new failure, still failing since …, fixed).
pub fn to_html_string_with(result: &RunResult, trends: Option<&Trends>) -> String {
    to_html_string_opts(
        result,
        &crate::ReportOptions {
            trends: trends.cloned(),
            ..crate::ReportOptions::default()
        },
    )
}

/// [`to_html_string`] with every option: history, owners' clocks, checks verified fixed.
pub fn to_html_string_opts(result: &RunResult, options: &crate::ReportOptions) -> String {
    let mut page = Page {
        trends: options.trends.clone().unwrap_or_default(),
        clocks: options.owner_clocks.clone(),
        fixed: options.verified_fixed.clone(),
        ..Page::default()
    };
    page.document(result);
    page.out
}

/// Writes the HTML report of a run to `path`, creating its parent directories.
pub fn write_html(result: &RunResult, path: &Path) -> io::Result<()> {
    write_html_with(result, path, None)
}

/// [`write_html`] with the scenarios' history.
pub fn write_html_with(result: &RunResult, path: &Path, trends: Option<&Trends>) -> io::Result<()> {
    write_file(path, to_html_string_with(result, trends).as_bytes())
}

/// Escapes text for HTML content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The id of a scenario's section, also used by the Markdown summary's links.
pub(crate) fn scenario_anchor(index: usize) -> String {
    format!("scenario-{}", index + 1)
}

/// A status as a CSS class suffix and a label.
fn status_word(status: Status) -> &'static str {
    status.as_str()
}

/// How an attempt ended: `passed`, `failed` (an expectation), `error` (no response).
fn attempt_status(a: &Attempt) -> Status {
    if a.error.is_some() || a.response.is_none() {
        Status::Error
    } else if a.failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    }
}

/// A percentage with two decimals, for `left`/`width`.
fn pct(part: f64, whole: f64) -> String {
    let p = if whole > 0.0 {
        (part / whole * 100.0).clamp(0.0, 100.0)
    } else {
        0.0
    };
    format!("{p:.2}%")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// Where each step and attempt sits in a scenario's timeline, in milliseconds from the
/// scenario's start: the offsets the runner recorded, or, for results without them,
/// estimates (steps one after another, a poll's waits spread evenly between attempts).
#[derive(Debug)]
struct Timeline {
    /// The whole span shown.
    total: f64,
    /// Per step (steps then cleanup): its start, and each attempt's start.
    steps: Vec<(f64, Vec<f64>)>,
}

impl Timeline {
    fn of(s: &ScenarioResult) -> Self {
        let mut at: f64 = 0.0;
        let mut steps = Vec::new();
        for step in s.steps.iter().chain(&s.cleanup) {
            if let Some(offset) = step.offset {
                // Recorded by the runner: exact.
                let start = ms(offset);
                let attempts = step
                    .attempts
                    .iter()
                    .map(|a| a.offset.map_or(start, ms))
                    .collect();
                steps.push((start, attempts));
                at = at.max(start + ms(step.duration));
                continue;
            }
            let start = at;
            let length = ms(step.duration);
            let busy: f64 = step.attempts.iter().map(|a| ms(a.duration)).sum();
            let gaps = step.attempts.len().saturating_sub(1);
            let gap = if gaps > 0 {
                (length - busy).max(0.0) / gaps as f64
            } else {
                0.0
            };
            let mut t = start;
            let mut attempts = Vec::new();
            for a in &step.attempts {
                attempts.push(t);
                t += ms(a.duration) + gap;
            }
            steps.push((start, attempts));
            at += length;
        }
        Self {
            total: ms(s.duration).max(at),
            steps,
        }
    }
}

#[derive(Debug, Default)]
struct Page {
    out: String,
    trends: Trends,
    clocks: Option<crate::OwnerClocks>,
    fixed: Vec<crate::VerifiedFixed>,
}

impl Page {
    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn text(&mut self, s: &str) {
        self.out.push_str(&escape(s));
    }

    fn document(&mut self, r: &RunResult) {
        let verdict = Verdict::of(r);
        self.push("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        self.push("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        self.push("<meta name=\"generator\" content=\"rehearse\">\n<title>");
        self.text(&format!(
            "rehearse {} · {} · {}",
            verdict.label(),
            r.environment,
            r.run_id
        ));
        self.push("</title>\n<style>\n");
        self.push(CSS);
        self.push("</style>\n</head>\n<body>\n");
        self.banner(r, verdict);
        self.push("<main>\n");
        self.owners(r);
        self.preflight(r);
        self.verified_fixed();
        self.aborted(r);
        self.failures(r);
        self.flaky(r);
        self.scenarios(r);
        self.push("</main>\n<footer>Generated by rehearse");
        if !r.rehearse_version.is_empty() {
            self.text(&format!(" {}", r.rehearse_version));
        }
        self.push(
            ". Timeline bars are placed at the recorded start of each step and attempt.</footer>\n",
        );
        self.push("<script>\n");
        self.push(JS);
        self.push("</script>\n</body>\n</html>\n");
    }

    fn banner(&mut self, r: &RunResult, verdict: Verdict) {
        let _ = write!(
            self.out,
            "<header class=\"verdict v-{}\" id=\"verdict\">\n<h1><span class=\"verdict-word\">",
            verdict.class()
        );
        self.text(verdict.label());
        self.push("</span></h1>\n<p class=\"counts\">");
        let c = r.counts();
        let _ = write!(
            self.out,
            "<span class=\"n n-passed\"><b>{}</b> passed</span>",
            c.passed
        );
        if c.flaky > 0 {
            let _ = write!(
                self.out,
                " <span class=\"n n-flaky\">(<b>{}</b> flaky)</span>",
                c.flaky
            );
        }
        let _ = write!(
            self.out,
            " <span class=\"n n-failed\"><b>{}</b> failed</span> <span class=\"n n-skipped\"><b>{}</b> skipped</span>",
            c.failed, c.skipped
        );
        let failed_checks = r
            .preflight
            .iter()
            .filter(|c| c.status != Status::Passed)
            .count();
        if failed_checks > 0 {
            let _ = write!(
                self.out,
                " <span class=\"n n-checks\"><b>{failed_checks}</b> pre-flight check{} failed</span>",
                if failed_checks == 1 { "" } else { "s" }
            );
        }
        self.push("</p>\n<dl class=\"facts\">");
        for (label, value) in verdict::facts(r) {
            self.push("<div><dt>");
            self.text(label);
            self.push("</dt><dd>");
            self.text(&value);
            self.push("</dd></div>");
        }
        if r.interrupted {
            self.push("<div><dt>interrupted</dt><dd>yes (Ctrl-C)</dd></div>");
        }
        self.push("</dl>\n</header>\n");
    }

    fn aborted(&mut self, r: &RunResult) {
        let Some(aborted) = &r.aborted else { return };
        let problems = verdict::other_problems(r, aborted);
        if problems.is_empty() {
            return;
        }
        self.push("<section class=\"aborted\" id=\"aborted\">\n<h2>The run did not start: ");
        self.text(&aborted.reason.replace('_', " "));
        self.push("</h2>\n<ul>\n");
        for p in problems {
            self.push("<li><pre>");
            self.text(p);
            self.push("</pre></li>\n");
        }
        self.push("</ul>\n</section>\n");
    }

    fn preflight(&mut self, r: &RunResult) {
        if r.preflight.is_empty() {
            return;
        }
        let groups = r.preflight_failures_by_owner();
        if !groups.is_empty() {
            let n: usize = groups.iter().map(|(_, l)| l.len()).sum();
            let _ = write!(
                self.out,
                "<section class=\"preflight\" id=\"preflight\">\n<h2>Environment not ready: {n} pre-flight check{} failed{}</h2>\n",
                if n == 1 { "" } else { "s" },
                if r.aborted.is_some() {
                    ", no scenario ran"
                } else {
                    ""
                }
            );
            for (owner, checks) in &groups {
                self.owner_heading(owner.as_deref());
                self.push("<ul class=\"checks\">\n");
                for c in checks {
                    self.check(c);
                }
                self.push("</ul>\n");
            }
            self.push("</section>\n");
        }
        let passed = r
            .preflight
            .iter()
            .filter(|c| c.status == Status::Passed)
            .count();
        let _ = write!(
            self.out,
            "<details class=\"all-checks\">\n<summary>All pre-flight checks: {passed} of {} passed</summary>\n<table>\n<thead><tr><th>status</th><th>check</th><th>kind</th><th>owner</th><th>took</th><th>evidence</th></tr></thead>\n<tbody>\n",
            r.preflight.len()
        );
        for c in &r.preflight {
            let _ = write!(
                self.out,
                "<tr class=\"st-{0}\"><td><span class=\"badge b-{0}\">{0}</span></td><td>",
                status_word(c.status)
            );
            self.text(&c.name);
            self.push("</td><td>");
            self.text(&c.kind);
            self.push("</td><td>");
            self.text(c.owner.as_deref().unwrap_or("—"));
            self.push("</td><td>");
            self.text(&render::duration(c.duration));
            self.push("</td><td><code>");
            self.text(&c.evidence);
            self.push("</code></td></tr>\n");
        }
        self.push("</tbody>\n</table>\n</details>\n");
    }

    /// One row per owner with failures: their clock, working hours, when they are back.
    fn owners(&mut self, r: &RunResult) {
        let Some(clocks) = self.clocks.clone() else {
            return;
        };
        let rows = crate::owners::failing_clocks(r, &clocks);
        if rows.is_empty() {
            return;
        }
        self.push("<section class=\"owners\" id=\"owners\">\n<h2>Owners with failures</h2>\n<table class=\"owner-clocks\">\n<thead><tr><th>owner</th><th>local time</th><th>time zone</th><th>hours</th><th>now</th><th>next</th></tr></thead>\n<tbody>\n");
        for c in rows {
            let _ = write!(
                self.out,
                "<tr class=\"owner-clock {}\" data-owner=\"{}\"><td><b>",
                if c.working { "working" } else { "off-hours" },
                escape(&c.name)
            );
            self.text(&c.name);
            self.push("</b>");
            if c.display_name != c.name {
                self.push(" <span class=\"path\">");
                self.text(&c.display_name);
                self.push("</span>");
            }
            self.push("</td><td>");
            self.text(&c.local_time);
            self.push("</td><td>");
            self.text(&c.time_zone);
            self.push("</td><td>");
            self.text(&c.hours);
            self.push("</td><td>");
            self.text(c.state());
            self.push("</td><td>");
            self.text(&c.next);
            self.push("</td></tr>\n");
        }
        self.push("</tbody>\n</table>\n</section>\n");
    }

    /// The pre-flight checks that failed the run before and pass now.
    fn verified_fixed(&mut self) {
        if self.fixed.is_empty() {
            return;
        }
        self.push("<section class=\"verified-fixed\" id=\"verified-fixed\">\n<h2>Verified fixed</h2>\n<ul>\n");
        for f in self.fixed.clone() {
            self.push("<li><span class=\"trend t-fixed\">verified fixed</span> <strong>");
            self.text(&f.check);
            self.push("</strong> — failing since ");
            self.text(&f.first_failed);
            self.push("</li>\n");
        }
        self.push("</ul>\n</section>\n");
    }

    fn owner_heading(&mut self, owner: Option<&str>) {
        match owner {
            Some(o) => {
                self.push("<h3 class=\"owner\"><span class=\"owner-label\">owner</span> ");
                self.text(o);
                self.push("</h3>\n");
                if let Some(c) = self.clocks.as_ref().and_then(|k| k.of(o)).cloned() {
                    let _ = write!(
                        self.out,
                        "<p class=\"owner-line {}\">",
                        if c.working { "working" } else { "off-hours" }
                    );
                    self.text(&c.line);
                    self.push("</p>\n");
                }
            }
            None => self.push("<h3 class=\"owner no-owner\">no owner</h3>\n"),
        }
    }

    fn check(&mut self, c: &CheckResult) {
        let _ = write!(
            self.out,
            "<li class=\"check st-{0}\"><span class=\"badge b-{0}\">{0}</span> <strong>",
            status_word(c.status)
        );
        self.text(&c.name);
        self.push("</strong> <span class=\"kind\">");
        self.text(&c.kind);
        self.push("</span>\n");
        if let Some(t) = &c.ticket {
            self.push("<p class=\"ticket\"><b>ticket:</b> <a href=\"");
            self.text(t);
            self.push("\">");
            self.text(t);
            self.push("</a></p>\n");
        }
        if let Some(hint) = &c.hint {
            self.push("<p class=\"hint\"><b>hint:</b> ");
            self.text(hint);
            self.push("</p>\n");
        }
        if !c.evidence.is_empty() {
            self.push("<pre class=\"evidence\">");
            self.text(&c.evidence);
            self.push("</pre>\n");
        }
        let mut where_ = Vec::new();
        if let Some(loc) = &c.location {
            where_.push(loc.clone());
        }
        if !c.required_by.is_empty() {
            where_.push(format!("required by {}", c.required_by.join(", ")));
        }
        if !where_.is_empty() {
            self.push("<p class=\"loc\">");
            self.text(&where_.join(" · "));
            self.push("</p>\n");
        }
        self.push("</li>\n");
    }

    fn failures(&mut self, r: &RunResult) {
        let groups = verdict::failures_by_owner(r);
        if groups.is_empty() {
            return;
        }
        let n: usize = groups.iter().map(|(_, l)| l.len()).sum();
        let _ = write!(
            self.out,
            "<section class=\"failures\" id=\"failures\">\n<h2>{n} scenario{} failed</h2>\n",
            if n == 1 { "" } else { "s" }
        );
        for (owner, list) in &groups {
            self.owner_heading(*owner);
            self.push("<ul class=\"failed-scenarios\">\n");
            for f in list {
                let _ = write!(
                    self.out,
                    "<li><span class=\"badge b-{0}\">{0}</span> <a href=\"#{1}\">",
                    status_word(f.scenario.status),
                    scenario_anchor(f.index)
                );
                self.text(&f.scenario.name);
                self.push("</a> <span class=\"path\">");
                self.text(&f.scenario.path);
                self.push("</span><br><span class=\"why\">");
                self.text(&f.summary());
                self.push("</span>");
                if let Some(loc) = f.location() {
                    self.push(" <span class=\"loc\">");
                    self.text(loc);
                    self.push("</span>");
                }
                self.push("</li>\n");
            }
            self.push("</ul>\n");
        }
        self.push("</section>\n");
    }

    fn flaky(&mut self, r: &RunResult) {
        let flaky = verdict::flaky(r);
        if flaky.is_empty() {
            return;
        }
        self.push("<section class=\"flaky\" id=\"flaky\">\n<h2>Flaky: passed only after a retry</h2>\n<ul>\n");
        for (i, s, steps) in flaky {
            let _ = write!(self.out, "<li><a href=\"#{}\">", scenario_anchor(i));
            self.text(&s.name);
            self.push("</a>");
            if let Some(o) = &s.owner {
                self.push(" <span class=\"path\">owner ");
                self.text(o);
                self.push("</span>");
            }
            for (k, st) in steps.iter().enumerate() {
                self.push(if k == 0 { ": step <code>" } else { ", <code>" });
                self.text(&st.name);
                self.push("</code>");
            }
            self.push("</li>\n");
        }
        self.push("</ul>\n</section>\n");
    }

    fn scenarios(&mut self, r: &RunResult) {
        if r.scenarios.is_empty() {
            return;
        }
        self.push("<section class=\"scenarios\" id=\"scenarios\">\n<h2>Scenarios</h2>\n");
        self.filters(r);
        for (i, s) in r.scenarios.iter().enumerate() {
            self.scenario(i, s);
        }
        self.push("</section>\n");
    }

    /// The filter form, hidden until the script shows it (it does nothing without JS).
    fn filters(&mut self, r: &RunResult) {
        let mut statuses: Vec<(Status, usize)> = Vec::new();
        let mut tags: Vec<(&str, usize)> = Vec::new();
        for s in &r.scenarios {
            match statuses.iter_mut().find(|(st, _)| *st == s.status) {
                Some((_, n)) => *n += 1,
                None => statuses.push((s.status, 1)),
            }
            for t in &s.tags {
                match tags.iter_mut().find(|(x, _)| x == t) {
                    Some((_, n)) => *n += 1,
                    None => tags.push((t, 1)),
                }
            }
        }
        statuses.sort_by_key(|(st, _)| status_rank(*st));
        tags.sort();
        self.push(
            "<form class=\"filters\" id=\"filters\" hidden>\n<fieldset><legend>status</legend>",
        );
        for (st, n) in statuses {
            let _ = write!(
                self.out,
                "<label class=\"chip b-{0}\"><input type=\"checkbox\" name=\"status\" value=\"{0}\" checked> {0} <small>{n}</small></label>",
                status_word(st)
            );
        }
        self.push("</fieldset>\n");
        if !tags.is_empty() {
            self.push("<fieldset><legend>tags</legend>");
            for (t, n) in tags {
                self.push("<label class=\"chip\"><input type=\"checkbox\" name=\"tag\" value=\"");
                self.text(t);
                self.push("\"> ");
                self.text(t);
                let _ = write!(self.out, " <small>{n}</small></label>");
            }
            self.push("</fieldset>\n");
        }
        self.push("<output id=\"shown\"></output>\n</form>\n");
    }

    fn scenario(&mut self, index: usize, s: &ScenarioResult) {
        let status = status_word(s.status);
        let open = matches!(s.status, Status::Failed | Status::Error | Status::Flaky);
        let tags = serde_json::to_string(&s.tags).unwrap_or_else(|_| "[]".into());
        let _ = write!(
            self.out,
            "<details class=\"scenario st-{status}\" id=\"{}\" data-status=\"{status}\" data-tags=\"{}\"{}>\n<summary><span class=\"badge b-{status}\">{status}</span> <span class=\"scenario-name\">",
            scenario_anchor(index),
            escape(&tags),
            if open { " open" } else { "" }
        );
        self.text(&s.name);
        self.push("</span> <span class=\"dur\">");
        self.text(&render::duration(s.duration));
        self.push("</span>");
        if let Some(t) = self.trends.of(&s.path).cloned() {
            self.push(" <span class=\"strip\" title=\"recent runs, newest last\">");
            self.text(&t.strip);
            self.push("</span>");
            if let Some(label) = &t.label {
                let _ = write!(self.out, " <span class=\"trend t-{}\">", label.class());
                self.text(&label.text());
                self.push("</span>");
            }
        }
        self.push("</summary>\n<p class=\"meta\"><span class=\"path\">");
        self.text(&s.path);
        self.push("</span>");
        if let Some(o) = &s.owner {
            self.push(" · owner <b>");
            self.text(o);
            self.push("</b>");
        }
        for t in &s.tags {
            self.push(" <span class=\"tag\">");
            self.text(t);
            self.push("</span>");
        }
        self.push("</p>\n");
        if s.steps.is_empty() && s.cleanup.is_empty() {
            self.push("<p class=\"empty\">No step ran.</p>\n</details>\n");
            return;
        }
        let timeline = Timeline::of(s);
        self.push("<div class=\"timeline\">\n<div class=\"ruler\"><span></span><span class=\"scale\"><span>0</span><span>");
        self.text(&render::duration(
            Duration::try_from_secs_f64(timeline.total / 2_000.0).unwrap_or_default(),
        ));
        self.push("</span><span>");
        self.text(&render::duration(
            Duration::try_from_secs_f64(timeline.total / 1_000.0).unwrap_or_default(),
        ));
        self.push("</span></span><span></span></div>\n");
        let all = s
            .steps
            .iter()
            .map(|st| (st, false))
            .chain(s.cleanup.iter().map(|st| (st, true)));
        let mut cleanup_started = false;
        for (k, ((step, cleanup), (start, attempts))) in all.zip(&timeline.steps).enumerate() {
            if cleanup && !cleanup_started {
                cleanup_started = true;
                self.push("<div class=\"phase\">cleanup</div>\n");
            }
            let id = format!("{}-step-{}", scenario_anchor(index), k + 1);
            self.step(&id, step, *start, attempts, timeline.total);
        }
        self.push("</div>\n</details>\n");
    }

    fn step(&mut self, id: &str, step: &StepResult, start: f64, starts: &[f64], total: f64) {
        let status = status_word(step.status);
        let open = matches!(step.status, Status::Failed | Status::Error);
        let _ = write!(
            self.out,
            "<details class=\"step st-{status}\" id=\"{id}\"{}>\n<summary><span class=\"step-name\"><span class=\"badge b-{status}\">{status}</span> ",
            if open { " open" } else { "" }
        );
        self.text(&step.name);
        self.push("</span><span class=\"track\">");
        if step.status != Status::Skipped {
            let _ = write!(
                self.out,
                "<span class=\"bar b-{status}\" style=\"left:{};width:{}\"></span>",
                pct(start, total),
                pct(ms(step.duration), total)
            );
            for (a, at) in step.attempts.iter().zip(starts) {
                let st = status_word(attempt_status(a));
                let _ = write!(
                    self.out,
                    "<span class=\"att a-{st}\" style=\"left:{};width:{}\" title=\"",
                    pct(*at, total),
                    pct(ms(a.duration), total)
                );
                self.text(&attempt_line(a));
                self.push("\"></span>");
            }
        }
        self.push("</span><span class=\"dur\">");
        if step.status == Status::Skipped {
            self.push("not run");
        } else {
            self.text(&render::duration(step.duration));
            if step.attempts.len() > 1 {
                let _ = write!(self.out, " · {} attempts", step.attempts.len());
            }
        }
        self.push("</span></summary>\n<div class=\"step-body\">\n<p class=\"loc\">");
        self.text(&step.location);
        self.push("</p>\n");
        if step.status == Status::Flaky {
            self.push(
                "<p class=\"flaky-note\">flaky: passed only after a network-level retry</p>\n",
            );
        }
        if matches!(step.status, Status::Failed | Status::Error) {
            self.push("<pre class=\"failure\">");
            let block = render::failure_block(step, Painter { color: false });
            self.text(&block.join("\n"));
            self.push("</pre>\n");
        }
        if !step.captures.is_empty() {
            self.push("<p class=\"captures\">captured ");
            let list: Vec<String> = step
                .captures
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect();
            self.text(&list.join(" · "));
            self.push("</p>\n");
        }
        if !step.attempts.is_empty() {
            self.push("<ol class=\"attempts\">\n");
            for a in &step.attempts {
                self.attempt(a);
            }
            self.push("</ol>\n");
        }
        self.push("</div>\n</details>\n");
    }

    fn attempt(&mut self, a: &Attempt) {
        let st = status_word(attempt_status(a));
        let _ = write!(
            self.out,
            "<li><details class=\"attempt a-{st}\"><summary><span class=\"badge b-{st}\">#{}</span> ",
            a.number
        );
        self.text(&attempt_line(a));
        self.push(
            "</summary>\n<div class=\"exchange\">\n<h4>request</h4>\n<pre class=\"request\">",
        );
        let req = &a.request;
        let mut text = format!("{} {}", req.method, req.url);
        for (k, v) in &req.headers {
            text.push_str(&format!("\n{k}: {v}"));
        }
        if let Some(body) = req.body.as_deref().filter(|b| !b.is_empty()) {
            text.push_str("\n\n");
            text.push_str(&render::excerpt(body));
        }
        self.text(&text);
        self.push("</pre>\n<h4>response</h4>\n<pre class=\"response\">");
        match (&a.response, &a.error) {
            (Some(resp), _) => {
                let mut text = resp.status.to_string();
                for (k, v) in &resp.headers {
                    text.push_str(&format!("\n{k}: {v}"));
                }
                let body = render::excerpt(&resp.body);
                text.push_str("\n\n");
                text.push_str(if body.is_empty() {
                    "(empty body)"
                } else {
                    &body
                });
                self.text(&text);
            }
            (None, Some(err)) => self.text(&format!("no response: {err}")),
            (None, None) => self.push("no response"),
        }
        self.push("</pre>\n");
        if !a.failures.is_empty() {
            self.push("<ul class=\"attempt-failures\">");
            for f in &a.failures {
                self.push("<li>");
                self.text(&f.to_string());
                self.push("</li>");
            }
            self.push("</ul>\n");
        }
        self.push("</div>\n</details></li>\n");
    }
}

/// `GET http://…/payments/p-1 → 200 in 11ms (expected settled, got …)`.
fn attempt_line(a: &Attempt) -> String {
    let outcome = match (&a.response, &a.error) {
        (Some(r), _) => r.status.to_string(),
        (None, Some(err)) => format!("error: {err}"),
        (None, None) => "no response".to_owned(),
    };
    let mut line = format!(
        "{} {} → {outcome} in {}",
        a.request.method,
        a.request.url,
        render::duration(a.duration)
    );
    if let Some(f) = a.failures.first() {
        line.push_str(&format!(" · {f}"));
    }
    line
}

/// Worst first, for the order of the status filters.
fn status_rank(s: Status) -> u8 {
    match s {
        Status::Failed => 0,
        Status::Error => 1,
        Status::Interrupted => 2,
        Status::Flaky => 3,
        Status::Passed => 4,
        Status::Skipped => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn percentages_are_clamped() {
        assert_eq!(pct(50.0, 200.0), "25.00%");
        assert_eq!(pct(300.0, 200.0), "100.00%");
        assert_eq!(pct(1.0, 0.0), "0.00%");
    }
}
