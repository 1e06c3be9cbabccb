//! The console reporter, after nextest's: a line per passing scenario, the failing step
//! of a failing one in full, and at the end a recap of the failures by owner and a summary.

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use rehearse_runner::{Aborted, Attempt, RunEvent, RunResult, ScenarioResult, Status, StepResult};

use crate::options::{ConsoleOptions, Verbosity};
use crate::render;
use crate::reporter::Reporter;
use crate::style::{Painter, Tone};
use crate::verdict;

/// Writes a run to a terminal or any writer, one event at a time.
///
/// Scenarios run concurrently, so each scenario is printed when it finishes (in order of
/// completion): a passing one as one line (its steps and requests with `-v`), a failing
/// one with its failing steps in full (expectation, where it is written, the source line,
/// the last response). The run ends with a recap of the failures grouped by owner, then
/// the counts; meanwhile, on a terminal, a live spinner per running
/// scenario shows its current step and, for a poll, the attempts made and the time left.
/// Output that is not a terminal gets no spinner and, unless
/// [`ColorChoice::Always`](crate::ColorChoice::Always), no ANSI escapes.
///
/// It prints only what the events carry (the runner has masked secrets in them).
pub struct ConsoleReporter {
    out: Box<dyn Write + Send>,
    options: ConsoleOptions,
    painter: Painter,
    printed: HashSet<(String, String)>,
    live: Option<Live>,
    clocks: Option<crate::OwnerClocks>,
}

impl std::fmt::Debug for ConsoleReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleReporter")
            .field("options", &self.options)
            .field("color", &self.painter.color)
            .finish_non_exhaustive()
    }
}

/// Live spinners, one per running scenario (terminal only).
struct Live {
    multi: MultiProgress,
    bars: HashMap<usize, Spinner>,
}

/// A running scenario's spinner; for a poll, it counts down to the deadline.
struct Spinner {
    bar: ProgressBar,
    name: String,
    deadline: Arc<Mutex<Option<Instant>>>,
}

impl ConsoleReporter {
    /// A reporter writing to `out`. Colour follows `options` (for `Auto`: the
    /// `terminal` option and `NO_COLOR`); the spinner draws on stdout and only when
    /// `options` says the output is a terminal.
    pub fn new(out: Box<dyn Write + Send>, options: ConsoleOptions) -> Self {
        let painter = Painter {
            color: options.color.use_color(options.terminal),
        };
        let live = options.terminal.then(|| Live {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: HashMap::new(),
        });
        Self {
            out,
            options,
            painter,
            printed: HashSet::new(),
            live,
            clocks: None,
        }
    }

    /// Shows each owner with failures with their clock (`devops — 02:14 in
    /// Asia/Singapore, off hours; back in 6 h 46 min`) in the recap.
    #[must_use]
    pub fn with_owner_clocks(mut self, clocks: Option<crate::OwnerClocks>) -> Self {
        self.clocks = clocks;
        self
    }

    /// A reporter on stdout; whether it is a terminal is detected (and overrides the
    /// `terminal` option).
    pub fn stdout(options: ConsoleOptions) -> Self {
        let terminal = io::stdout().is_terminal();
        Self::new(Box::new(io::stdout()), options.terminal(terminal))
    }

    /// Takes the next event.
    pub fn handle(&mut self, event: &RunEvent) -> io::Result<()> {
        match event {
            RunEvent::RunStarted {
                run_id,
                environment,
                scenarios,
            } => {
                if self.options.verbosity >= Verbosity::Normal {
                    let plural = if *scenarios == 1 { "" } else { "s" };
                    let line = format!(
                        "running {scenarios} scenario{plural} against {} {}",
                        self.painter.paint(Tone::Bold, environment),
                        self.painter.paint(Tone::Dim, format!("(run {run_id})")),
                    );
                    self.emit(&[line])?;
                }
            }
            RunEvent::ScenarioStarted { scenario, name, .. } => {
                self.spin(*scenario, name);
            }
            RunEvent::StepStarted {
                scenario,
                step,
                poll_timeout,
                ..
            } => self.spin_step(*scenario, step, None, *poll_timeout),
            RunEvent::AttemptFinished {
                scenario,
                step,
                attempt,
                time_left,
                ..
            } => self.spin_step(*scenario, step, Some(attempt.number), *time_left),
            RunEvent::StepFinished { .. } => {}
            RunEvent::ScenarioFinished { scenario, result } => {
                if let Some(live) = &mut self.live
                    && let Some(spinner) = live.bars.remove(scenario)
                {
                    spinner.bar.finish_and_clear();
                    live.multi.remove(&spinner.bar);
                }
                self.print_scenario(result)?;
            }
            RunEvent::RunFinished { result } => {
                if let Some(live) = self.live.take() {
                    for spinner in live.bars.values() {
                        spinner.bar.finish_and_clear();
                    }
                    live.multi.clear()?;
                }
                self.finish(result)?;
            }
        }
        Ok(())
    }

    /// Prints the scenarios that never sent `ScenarioFinished`, problems, the summary.
    fn finish(&mut self, result: &RunResult) -> io::Result<()> {
        for s in &result.scenarios {
            if !self.printed.contains(&(s.path.clone(), s.name.clone())) {
                self.print_scenario(s)?;
            }
        }
        let p = self.painter;
        let mut lines = Vec::new();
        if let Some(Aborted { reason, problems }) = &result.aborted {
            lines.push(format!(
                "{} {}",
                p.paint(Tone::Fail, "run aborted:"),
                reason.replace('_', " ")
            ));
            lines.extend(problems.iter().map(|pr| format!("  - {pr}")));
        }
        if result.interrupted {
            lines.push(p.paint(
                Tone::Skip,
                "run interrupted: unfinished scenarios were stopped",
            ));
        }
        lines.extend(self.recap(result));
        let c = result.counts();
        let count = |n: usize, word: &str, tone: Tone| {
            let text = format!("{n} {word}");
            if n == 0 { text } else { p.paint(tone, text) }
        };
        lines.push(format!(
            "{}, {}, {} in {} {}",
            count(c.passed, "passed", Tone::Pass),
            count(c.failed, "failed", Tone::Fail),
            count(c.skipped, "skipped", Tone::Skip),
            render::duration(result.duration),
            p.paint(
                Tone::Dim,
                format!(
                    "· run {} · environment {}",
                    result.run_id, result.environment
                )
            ),
        ));
        self.emit(&lines)
    }

    /// The failures again, grouped by owner, one entry each (where, which scenario, the
    /// first line of what went wrong), short enough to read without scrolling back.
    fn recap(&self, result: &RunResult) -> Vec<String> {
        let groups = verdict::failures_by_owner(result);
        let total: usize = groups.iter().map(|(_, list)| list.len()).sum();
        if total == 0 {
            return Vec::new();
        }
        let p = self.painter;
        let plural = if total == 1 { "" } else { "s" };
        let mut lines = vec![
            String::new(),
            p.paint(Tone::Bold, format!("{total} failure{plural}, by owner:")),
        ];
        let mut shown = 0_usize;
        'groups: for (owner, list) in &groups {
            let who = owner.map_or_else(|| "no owner".to_owned(), |o| format!("owner {o}"));
            lines.push(format!("  {} ({})", p.paint(Tone::Bold, who), list.len()));
            if let Some(c) = owner.and_then(|o| self.clocks.as_ref()?.of(o)) {
                lines.push(format!("    {}", p.paint(Tone::Dim, &c.line)));
            }
            for f in list {
                if shown == RECAP_MOST {
                    break 'groups;
                }
                shown += 1;
                let at = f.location().unwrap_or(&f.scenario.path);
                lines.push(format!(
                    "    {} {} {}",
                    self.mark(f.scenario.status),
                    p.paint(Tone::Location, at),
                    p.paint(Tone::Bold, &f.scenario.name),
                ));
                lines.push(format!("        {}", first_line(&f.summary())));
            }
        }
        if shown < total {
            lines.push(format!(
                "  … and {} more (above, and in the reports)",
                total - shown
            ));
        }
        lines
    }

    fn print_scenario(&mut self, s: &ScenarioResult) -> io::Result<()> {
        self.printed.insert((s.path.clone(), s.name.clone()));
        let lines = self.scenario_block(s);
        self.emit(&lines)
    }

    /// The block of one scenario: one line when it passed (its steps only with `-v`);
    /// when it failed, its failing steps in full and a count of the steps not run.
    fn scenario_block(&self, s: &ScenarioResult) -> Vec<String> {
        let quiet = self.options.verbosity == Verbosity::Quiet;
        let verbose = self.options.verbosity >= Verbosity::Verbose;
        if quiet && matches!(s.status, Status::Passed | Status::Skipped) {
            return Vec::new();
        }
        let p = self.painter;
        let mut header = format!(
            "{} {} {}",
            self.mark(s.status),
            p.paint(Tone::Bold, &s.name),
            p.paint(Tone::Dim, format!("({})", s.path)),
        );
        match s.status {
            Status::Skipped => header.push_str(" skipped"),
            Status::Interrupted => {
                header.push_str(&format!(
                    " interrupted after {}",
                    render::duration(s.duration)
                ));
            }
            _ => header.push_str(&format!(" {}", render::duration(s.duration))),
        }
        let mut lines = vec![header];
        let steps = s.steps.iter().map(|st| (st, false));
        let cleanup = s.cleanup.iter().map(|st| (st, true));
        let mut not_run = 0_usize;
        for (step, is_cleanup) in steps.chain(cleanup) {
            if verbose || shown_without_verbose(step.status) {
                lines.extend(self.step_lines(step, is_cleanup));
            } else if step.status == Status::Skipped {
                not_run += 1;
            }
        }
        if not_run > 0 {
            let plural = if not_run == 1 { "" } else { "s" };
            lines.push(format!(
                "  {} {}",
                self.mark(Status::Skipped),
                p.paint(Tone::Dim, format!("{not_run} step{plural} not run"))
            ));
        }
        lines
    }

    fn step_lines(&self, step: &StepResult, is_cleanup: bool) -> Vec<String> {
        let p = self.painter;
        let prefix = if is_cleanup { "cleanup: " } else { "" };
        let mut line = format!("  {} {prefix}{}", self.mark(step.status), step.name);
        if step.status == Status::Skipped {
            line.push_str(&format!(" {}", p.paint(Tone::Dim, "skipped")));
        } else {
            line.push_str(&format!(
                " {}",
                p.paint(Tone::Dim, render::duration(step.duration))
            ));
            if let Some(note) = render::attempts_note(step) {
                line.push_str(&format!(" {note}"));
            }
        }
        let mut lines = vec![line];
        if self.options.verbosity >= Verbosity::Verbose {
            let numbered = step.attempts.len() > 1;
            for attempt in &step.attempts {
                lines.extend(self.attempt_lines(attempt, numbered));
            }
        }
        if matches!(step.status, Status::Failed | Status::Error) {
            lines.extend(
                render::failure_block(step, p)
                    .into_iter()
                    .map(|l| format!("      {l}")),
            );
        }
        lines
    }

    /// `→ METHOD url` and `← status duration` (with headers and bodies at `-vv`).
    fn attempt_lines(&self, a: &Attempt, numbered: bool) -> Vec<String> {
        let p = self.painter;
        let very = self.options.verbosity >= Verbosity::VeryVerbose;
        let indent = "      ";
        let number = if numbered {
            format!("#{} ", a.number)
        } else {
            String::new()
        };
        let mut lines = vec![format!(
            "{indent}{number}{} {} {}",
            p.paint(Tone::Dim, "→"),
            a.request.method,
            a.request.url
        )];
        let pad = " ".repeat(number.chars().count());
        if very {
            lines.extend(headers_and_body(
                &format!("{indent}{pad}  "),
                '>',
                &a.request.headers,
                a.request.body.as_deref(),
            ));
        }
        let took = p.paint(Tone::Dim, render::duration(a.duration));
        match (&a.response, &a.error) {
            (Some(r), _) => {
                let tone = if r.status < 400 {
                    Tone::Pass
                } else {
                    Tone::Fail
                };
                lines.push(format!(
                    "{indent}{pad}{} {} {took}",
                    p.paint(Tone::Dim, "←"),
                    p.paint(tone, r.status)
                ));
                if very {
                    lines.extend(headers_and_body(
                        &format!("{indent}{pad}  "),
                        '<',
                        &r.headers,
                        Some(&r.body),
                    ));
                }
            }
            (None, Some(err)) => lines.push(format!(
                "{indent}{pad}{} {} {took}",
                p.paint(Tone::Dim, "←"),
                p.paint(Tone::Fail, format!("error: {err}"))
            )),
            (None, None) => lines.push(format!(
                "{indent}{pad}{} no response {took}",
                p.paint(Tone::Dim, "←")
            )),
        }
        lines
    }

    fn mark(&self, status: Status) -> String {
        let (unicode, ascii, tone) = match status {
            Status::Passed => ("✓", "ok", Tone::Pass),
            Status::Flaky => ("~", "FLAKY", Tone::Skip),
            Status::Failed => ("✗", "FAIL", Tone::Fail),
            Status::Error => ("✗", "ERR", Tone::Fail),
            Status::Skipped => ("-", "skip", Tone::Skip),
            Status::Interrupted => ("!", "INT", Tone::Skip),
        };
        let text = if self.options.unicode { unicode } else { ascii };
        self.painter.paint(tone, text)
    }

    /// Writes lines, above the spinners when they are drawn.
    fn emit(&mut self, lines: &[String]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let out = &mut self.out;
        let mut write = || {
            out.write_all(text.as_bytes())?;
            out.flush()
        };
        match &self.live {
            Some(live) => live.multi.suspend(write),
            None => write(),
        }
    }

    /// Starts a scenario's spinner (terminal only).
    fn spin(&mut self, scenario: usize, name: &str) {
        let Some(live) = &mut self.live else { return };
        let deadline: Arc<Mutex<Option<Instant>>> = Arc::default();
        let bar = live.multi.add(ProgressBar::new_spinner());
        let shown = Arc::clone(&deadline);
        let left = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let deadline = shown.lock().ok().and_then(|d| *d);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                let _ = write!(w, " · {} left", render::remaining(left));
            }
        };
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}{left}") {
            bar.set_style(style.with_key("left", left));
        }
        bar.set_message(name.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        let name = name.to_owned();
        live.bars.insert(
            scenario,
            Spinner {
                bar,
                name,
                deadline,
            },
        );
    }

    /// Shows a scenario's current step on its spinner: for a poll, the attempts made
    /// and a countdown to its deadline.
    fn spin_step(
        &mut self,
        scenario: usize,
        step: &str,
        attempt: Option<u32>,
        left: Option<Duration>,
    ) {
        if self
            .live
            .as_ref()
            .is_some_and(|l| !l.bars.contains_key(&scenario))
        {
            self.spin(scenario, "");
        }
        let Some(spinner) = self.live.as_ref().and_then(|l| l.bars.get(&scenario)) else {
            return;
        };
        if let Ok(mut deadline) = spinner.deadline.lock() {
            // Checked: a plan built in code may poll for longer than an Instant holds.
            *deadline = left.and_then(|l| Instant::now().checked_add(l));
        }
        let attempts = attempt
            .map(|n| format!(" · attempt {n}"))
            .unwrap_or_default();
        spinner
            .bar
            .set_message(format!("{} › {step}{attempts}", spinner.name));
    }
}

impl Reporter for ConsoleReporter {
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        self.handle(event)
    }
}

/// Most entries of the recap: a screenful.
const RECAP_MOST: usize = 12;
/// Most characters of a recap entry's failure line.
const RECAP_WIDTH: usize = 160;

/// Whether a step is listed at normal verbosity: only what did not pass (a skipped step is
/// counted instead).
fn shown_without_verbose(status: Status) -> bool {
    matches!(status, Status::Failed | Status::Error | Status::Interrupted)
}

/// The first line of `text`, cut to [`RECAP_WIDTH`] characters.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() <= RECAP_WIDTH {
        return line.to_owned();
    }
    let cut: String = line.chars().take(RECAP_WIDTH - 1).collect();
    format!("{cut}…")
}

/// Header lines (`> name: value`) then a body excerpt, each after `indent`.
fn headers_and_body(
    indent: &str,
    arrow: char,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Vec<String> {
    let mut lines: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{indent}{arrow} {k}: {v}"))
        .collect();
    if let Some(body) = body.filter(|b| !b.trim().is_empty()) {
        lines.extend(
            render::excerpt(body)
                .lines()
                .map(|l| format!("{indent}{l}")),
        );
    }
    lines
}
