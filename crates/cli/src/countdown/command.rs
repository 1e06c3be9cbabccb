//! The flags of `rehearse countdown`, one step (two child processes of this executable,
//! `rehearse preflight …` then `rehearse run …`, whose JSON reports it reads), `--once`
//! and the long-running loop.
//!
//! - A step reports into `REPORTS_DIR/<offset>-<UTC time>/`: `preflight.json`,
//!   `preflight.html`, `preflight.log`, and when pre-flight is green `run.json`,
//!   `report.html`, `junit.xml`, `report.md`, `run.log`; and the readiness board,
//!   `board.html` (also written to `--report html=PATH`).
//! - The flows run only when pre-flight is green: `run` would stop at the same check.
//! - A step's exit code: 0 green, 2 pre-flight failed, 1 a flow failed, 3/4 a child could
//!   not run (invalid input, internal error), 130 interrupted (the step is not recorded
//!   as done, so the next `--once` does it again).
//! - `--once`: the step due now (see [`super::offsets`]), or nothing (exit 0).
//! - Long-running: each step as its time comes, on the wall clock; exits with the last
//!   step's code (the go/no-go: 0 GO, 1 or 2 NO-GO), 0 when the countdown was already over,
//!   130 when SIGTERM, SIGHUP or Ctrl-C stopped it first.
//! - With `REHEARSE_NOW`, `--once` runs at that instant, and the long-running countdown's
//!   clock starts there and runs at wall-clock speed; each child gets the countdown's now
//!   in its own `REHEARSE_NOW`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use clap::{Args, ValueEnum as _};
use rehearse_owners::Owners;
use rehearse_report::ReportSpec;
use rehearse_scenario::render_problem;

use super::offsets::{self, DEFAULT_OFFSETS, DoneStep, Due, Offset, State};
use super::readiness::{self, Readiness, StepReports};
use crate::args::{Approvals, SelectArgs};
use crate::exit;
use crate::signals::Signals;

/// `rehearse countdown`.
#[derive(Debug, Args)]
pub struct CountdownArgs {
    /// When the demo starts (RFC 3339, e.g. 2026-12-03T15:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub demo_at: String,
    /// When the steps run, before the demo (comma-separated spans); the last is the
    /// go/no-go.
    #[arg(long, value_name = "OFFSETS", default_value = DEFAULT_OFFSETS)]
    pub at: String,
    /// Do the step due now and exit (for a CI scheduler): the latest offset passed that is
    /// not done yet (remembered in .rehearse/countdown/ in the suite's root); missed
    /// earlier offsets are not replayed. Nothing due exits 0.
    #[arg(long)]
    pub once: bool,
    /// Folder of the steps' reports: each step writes into DIR/<offset>-<UTC time>/.
    #[arg(long, value_name = "DIR", default_value = "reports/countdown")]
    pub reports_dir: PathBuf,
    /// `html=PATH`: the readiness board of each step (a row per owner, go/no-go), also
    /// written as board.html in the step's folder.
    #[arg(long = "report", value_name = "KIND=PATH")]
    pub reports: Vec<String>,
    /// What each step checks and runs (`--tag demo`: the demo flows).
    #[command(flatten)]
    pub select: SelectArgs,
    /// Read secrets and variables from this dotenv file.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// The version `version` checks expect when they name none.
    #[arg(long)]
    pub expect_version: Option<String>,
    /// How `approve` steps are carried out; overrides the environment's mode.
    #[arg(long, value_enum)]
    pub approvals: Option<Approvals>,
    /// Allow running against an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
    /// Send each step's lines to the owners through their contacts in owners.yaml: each
    /// owner with failures gets theirs (failures, working hours left); at the last step
    /// every owner gets the go/no-go. Sent when the step ends, whatever the hour: the
    /// countdown's offsets are the schedule. A contact that fails never changes the exit
    /// code.
    #[arg(long)]
    pub notify: bool,
    /// Where the steps' reports are published, linked from the messages.
    #[arg(long, value_name = "URL")]
    pub report_url: Option<String>,
}

fn parse_demo_at(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 time ({e}); write e.g. 2026-12-03T15:00:00Z")
        })
}

type Failure = (String, u8);

/// Runs the countdown; returns the exit code.
pub(crate) async fn countdown(args: CountdownArgs) -> u8 {
    let countdown = match Countdown::new(args) {
        Ok(c) => c,
        Err((message, code)) => {
            eprintln!("error: {message}");
            return code;
        }
    };
    let mut signals = match Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: failed to listen for SIGTERM and Ctrl-C: {e}");
            return exit::INTERNAL;
        }
    };
    if countdown.once {
        countdown.once(&mut signals).await
    } else {
        countdown.serve(&mut signals).await
    }
}

/// Everything a step needs.
#[derive(Debug)]
struct Countdown {
    args: CountdownArgs,
    /// `--demo-at`.
    demo_at: DateTime<Utc>,
    once: bool,
    offsets: Vec<Offset>,
    owners: Option<Owners>,
    environment: String,
    state_path: PathBuf,
    board: Option<PathBuf>,
    /// The suite's root (owners.yaml, for `--notify`).
    root: PathBuf,
    exe: PathBuf,
    /// `REHEARSE_NOW - wall clock` when `REHEARSE_NOW` is set.
    shift: Option<Duration>,
}

/// How a child process ended.
enum Ended {
    Code(u8),
    Interrupted,
}

impl Countdown {
    /// Checks what can be checked before the first step: the offsets, the report flags,
    /// the scenarios, environment and owners, the clock, the state file.
    fn new(args: CountdownArgs) -> Result<Self, Failure> {
        let invalid = |m: String| (m, exit::INVALID_INPUT);
        let demo_at =
            parse_demo_at(&args.demo_at).map_err(|e| invalid(format!("--demo-at {e}")))?;
        let offsets = offsets::parse_offsets(&args.at).map_err(invalid)?;
        if args.select.shard.is_some() {
            return Err(invalid(
                "--shard: a countdown checks the whole selection at each step; leave --shard out"
                    .to_owned(),
            ));
        }
        let mut board = None;
        let specs = rehearse_report::parse_report_specs(&args.reports)
            .map_err(|e| invalid(e.to_string()))?;
        for spec in specs {
            match spec {
                ReportSpec::Html(path) => board = Some(path),
                other => {
                    return Err(invalid(format!(
                        "--report {other}: a countdown writes its readiness board (html=PATH); each step's run reports are in its folder under --reports-dir"
                    )));
                }
            }
        }
        let loaded = crate::load::load(&args.select, crate::load::LoadOptions::default()).map_err(
            |problems| {
                let mut text = String::new();
                for p in problems.iter() {
                    text.push_str(&render_problem(p, false));
                }
                eprint!("{text}");
                let n = problems.count();
                invalid(format!(
                    "{n} problem{} found; the countdown was not started",
                    if n == 1 { "" } else { "s" }
                ))
            },
        )?;
        let now = crate::clock::now().map_err(invalid)?;
        let shift = std::env::var_os(crate::clock::NOW_VAR)
            .filter(|v| !v.is_empty())
            .map(|_| now - Utc::now());
        let environment = args.select.env_name().to_owned();
        let root = crate::load::suite_root(&args.select);
        let state_path = offsets::state_path(&root, &environment, demo_at);
        offsets::read_state(&state_path, &environment, demo_at).map_err(invalid)?;
        let exe = std::env::current_exe().map_err(|e| {
            (
                format!("failed to find the rehearse executable to run: {e}"),
                exit::INTERNAL,
            )
        })?;
        Ok(Self {
            demo_at,
            once: args.once,
            offsets,
            owners: loaded.owners,
            environment,
            state_path,
            board,
            root,
            exe,
            shift,
            args,
        })
    }

    /// The countdown's now: `--once` reads `REHEARSE_NOW` as it is (one instant); the
    /// long-running countdown starts there and moves with the wall clock.
    fn now(&self) -> DateTime<Utc> {
        let wall = Utc::now();
        match self.shift {
            Some(_) if self.once => crate::clock::now().unwrap_or(wall),
            Some(s) => (wall + s).trunc_subsecs(0),
            None => wall.trunc_subsecs(0),
        }
    }

    fn state(&self) -> Result<State, Failure> {
        offsets::read_state(&self.state_path, &self.environment, self.demo_at)
            .map_err(|m| (m, exit::INVALID_INPUT))
    }

    /// `--once`: the step due now, or nothing.
    async fn once(&self, signals: &mut Signals) -> u8 {
        let now = self.now();
        let state = match self.state() {
            Ok(s) => s,
            Err((m, code)) => {
                eprintln!("error: {m}");
                return code;
            }
        };
        match offsets::due(self.demo_at, &self.offsets, &state.done(), now) {
            Due::Step { index, at, skipped } => {
                self.step(index, at, &skipped, state, signals).await
            }
            Due::Wait { index, at } => {
                println!(
                    "countdown: nothing due at {}; next step T-{} at {} (in {})",
                    stamp(now),
                    self.offsets[index].label,
                    stamp(at),
                    readiness::hours_text(at - now)
                );
                exit::PASSED
            }
            Due::Over => {
                println!("countdown: {}", self.over_text(&state, now));
                exit::PASSED
            }
        }
    }

    fn over_text(&self, state: &State, now: DateTime<Utc>) -> String {
        let last = self.offsets.last().map(|o| o.label.as_str()).unwrap_or("");
        if state.done().iter().any(|d| d == last) {
            format!(
                "over: the last step (T-{last}) is done; nothing more before the demo at {}",
                stamp(self.demo_at)
            )
        } else if now >= self.demo_at {
            format!("over: the demo started at {}", stamp(self.demo_at))
        } else {
            "over: nothing more before the demo".to_owned()
        }
    }

    /// Long-running: each step as its time comes; see the module doc for the exit code.
    async fn serve(&self, signals: &mut Signals) -> u8 {
        log(format_args!(
            "counting down to the demo at {} on {}: steps at T-{}; SIGTERM or Ctrl-C stops",
            stamp(self.demo_at),
            self.environment,
            self.offsets
                .iter()
                .map(|o| o.label.as_str())
                .collect::<Vec<_>>()
                .join(", T-")
        ));
        let mut last_code = exit::PASSED;
        let mut announced = None;
        loop {
            let now = self.now();
            let state = match self.state() {
                Ok(s) => s,
                Err((m, code)) => {
                    eprintln!("error: {m}");
                    return code;
                }
            };
            match offsets::due(self.demo_at, &self.offsets, &state.done(), now) {
                Due::Step { index, at, skipped } => {
                    let code = self.step(index, at, &skipped, state, signals).await;
                    if code == exit::INTERRUPTED {
                        return code;
                    }
                    last_code = code;
                    if index + 1 == self.offsets.len() {
                        return code;
                    }
                }
                Due::Wait { index, at } => {
                    if announced != Some(index) {
                        announced = Some(index);
                        log(format_args!(
                            "next step T-{} at {} (in {})",
                            self.offsets[index].label,
                            stamp(at),
                            readiness::hours_text(at - now)
                        ));
                    }
                    // Wake at least every minute: a suspended machine or a clock that
                    // jumped is noticed within a minute.
                    let wait = (at - now)
                        .clamp(Duration::seconds(1), Duration::seconds(60))
                        .to_std()
                        .unwrap_or(std::time::Duration::from_secs(1));
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        signal = signals.recv() => {
                            log(format_args!("{signal}: stopping the countdown before its last step"));
                            return exit::INTERRUPTED;
                        }
                    }
                }
                Due::Over => {
                    log(format_args!("{}", self.over_text(&state, now)));
                    return last_code;
                }
            }
        }
    }

    /// One step: pre-flight, then the flows when it is green; the owners' summaries, the
    /// board, the state. Returns the step's exit code.
    async fn step(
        &self,
        index: usize,
        due_at: DateTime<Utc>,
        skipped: &[String],
        mut state: State,
        signals: &mut Signals,
    ) -> u8 {
        let offset = &self.offsets[index];
        let final_call = index + 1 == self.offsets.len();
        let started = self.now();
        let name = format!("T-{}", offset.label);
        let folder = match create_step_folder(&self.args.reports_dir, &offset.label, started) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "error: failed to create a step folder in {}: {e}",
                    self.args.reports_dir.display()
                );
                return exit::INTERNAL;
            }
        };
        let late = started - due_at;
        let mut head = format!(
            "countdown {name} on {}: demo at {}, {} from now",
            self.environment,
            stamp(self.demo_at),
            readiness::hours_text(self.demo_at - started)
        );
        if late > Duration::minutes(15) {
            head.push_str(&format!(
                "; late: due at {} ({} ago)",
                stamp(due_at),
                readiness::hours_text(late)
            ));
        }
        if !skipped.is_empty() {
            head.push_str(&format!(
                "; missed and not replayed: T-{}",
                skipped.join(", T-")
            ));
        }
        println!("{head}");
        println!("reports in {}", folder.display());

        let mut reports = StepReports::default();
        let preflight = match self.child(Kind::Preflight, &folder, signals).await {
            Ended::Interrupted => return self.interrupted(&name),
            Ended::Code(c) => c,
        };
        reports.preflight = Some(read_report(&folder, Kind::Preflight, preflight));
        let mut code = preflight;
        if preflight == exit::PASSED {
            let run = match self.child(Kind::Run, &folder, signals).await {
                Ended::Interrupted => return self.interrupted(&name),
                Ended::Code(c) => c,
            };
            reports.run = Some(read_report(&folder, Kind::Run, run));
            code = run;
        }
        let now = self.now();
        let r: Readiness = readiness::readiness(
            &reports,
            self.owners.as_ref(),
            &self.environment,
            &name,
            final_call,
            self.demo_at,
            now,
        );
        print!("{}", r.console());
        if self.args.notify {
            self.tell(&r, &name, final_call, now).await;
        }
        let board = r.board();
        for path in std::iter::once(folder.join("board.html")).chain(self.board.clone()) {
            if let Err(e) = rehearse_report::write_board_html(&board, &path) {
                eprintln!(
                    "error: failed to write the readiness board {}: {e}",
                    path.display()
                );
                code = code.max(exit::INTERNAL);
            }
        }
        if code == exit::PASSED && !r.go() {
            // A green exit from the children with something red in their reports.
            code = exit::FAILED;
        }
        state.steps.push(DoneStep {
            offset: offset.label.clone(),
            due_at,
            ran_at: started,
            exit_code: code,
            folder: folder.display().to_string(),
        });
        if let Err(e) = offsets::write_state(&self.state_path, &state) {
            eprintln!(
                "error: failed to record the step in {}: {e}; the next --once would run it again",
                self.state_path.display()
            );
            return exit::INTERNAL;
        }
        code
    }

    /// `--notify`: each failing owner their lines; at the last step, every other owner the
    /// go/no-go.
    async fn tell(&self, r: &Readiness, step: &str, final_call: bool, now: DateTime<Utc>) {
        let Some(notifier) =
            crate::notify::Notifier::for_suite(&self.root, self.args.env_file.as_deref(), false)
        else {
            return;
        };
        let mut messages = r.messages();
        if final_call {
            let verdict = r.verdict_line();
            let mut rest: Vec<String> = notifier
                .owners()
                .iter()
                .map(|o| o.name.clone())
                .filter(|n| !messages.iter().any(|(m, _)| m == n))
                .collect();
            rest.sort();
            messages.extend(rest.into_iter().map(|n| (n, vec![verdict.clone()])));
        }
        let run_id = format!("countdown {step}");
        let seen = crate::notify::SeenIn {
            environment: &self.environment,
            run_id: &run_id,
            report_url: self.args.report_url.as_deref(),
        };
        for (owner, lines) in messages {
            if notifier.deliver(&owner, &[], &lines, seen, now).await {
                println!("told {owner} ({} lines)", lines.len());
            }
        }
    }

    fn interrupted(&self, name: &str) -> u8 {
        eprintln!(
            "countdown {name} interrupted: not recorded as done; the next --once does it again"
        );
        exit::INTERRUPTED
    }

    /// Runs one child and waits for it; SIGTERM or Ctrl-C hands it one SIGINT (it writes
    /// its reports), a second kills it.
    async fn child(&self, kind: Kind, folder: &Path, signals: &mut Signals) -> Ended {
        let log_path = folder.join(kind.log());
        let spawned = std::fs::File::create(&log_path).and_then(|console| {
            let mut cmd = tokio::process::Command::new(&self.exe);
            cmd.args(child_argv(kind, &self.args, folder))
                .stdin(Stdio::null())
                .stdout(console.try_clone()?)
                .stderr(console)
                .kill_on_drop(true);
            if self.shift.is_some() {
                cmd.env(crate::clock::NOW_VAR, self.now().to_rfc3339());
            }
            #[cfg(unix)]
            cmd.process_group(0);
            cmd.spawn()
        });
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: failed to start rehearse {}: {e}", kind.command());
                return Ended::Code(exit::INTERNAL);
            }
        };
        let mut stopping = false;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                signal = signals.recv() => {
                    if stopping {
                        let _ = child.start_kill();
                        eprintln!("{signal} again: killing rehearse {}", kind.command());
                    } else {
                        stopping = true;
                        crate::schedule::interrupt(&child);
                        eprintln!("{signal}: interrupting rehearse {}; waiting for its reports (signal again to kill it)", kind.command());
                    }
                }
            }
        };
        if stopping {
            return Ended::Interrupted;
        }
        match status
            .ok()
            .and_then(|s| s.code())
            .and_then(|c| u8::try_from(c).ok())
        {
            Some(exit::INTERRUPTED) => Ended::Interrupted,
            Some(c) => Ended::Code(c),
            None => Ended::Code(exit::INTERNAL),
        }
    }
}

/// The two children of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Preflight,
    Run,
}

impl Kind {
    fn command(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight",
            Kind::Run => "run",
        }
    }

    fn log(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight.log",
            Kind::Run => "run.log",
        }
    }

    fn json(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight.json",
            Kind::Run => "run.json",
        }
    }

    /// `(kind, file)` of the reports it writes into the step's folder.
    fn reports(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Preflight => &[("json", "preflight.json"), ("html", "preflight.html")],
            Kind::Run => &[
                ("json", "run.json"),
                ("html", "report.html"),
                ("junit", "junit.xml"),
                ("markdown", "report.md"),
            ],
        }
    }
}

/// A child's JSON report, or why there is none.
fn read_report(folder: &Path, kind: Kind, code: u8) -> Result<rehearse_runner::RunResult, String> {
    let path = folder.join(kind.json());
    rehearse_report::read_json(&path).map_err(|e| {
        format!(
            "rehearse {} exited {code} without a report ({e}); see {}",
            kind.command(),
            folder.join(kind.log()).display()
        )
    })
}

/// The command line of a child: the countdown's selection and options, its reports in
/// `folder`, the paths after `--`. The program name is not included.
fn child_argv(kind: Kind, args: &CountdownArgs, folder: &Path) -> Vec<OsString> {
    let mut out: Vec<OsString> = vec!["--color".into(), "never".into(), kind.command().into()];
    let mut flag = |name: &str, value: OsString| {
        out.push(name.into());
        out.push(value);
    };
    let s = &args.select;
    if let Some(env) = &s.env {
        flag("--env", env.into());
    }
    if let Some(root) = &s.root {
        flag("--root", root.into());
    }
    for (name, value) in &s.vars {
        flag("--var", format!("{name}={value}").into());
    }
    for tag in &s.tag {
        flag("--tag", tag.into());
    }
    for name in &s.name {
        flag("--name", name.into());
    }
    if let Some(f) = &s.fixtures {
        flag("--fixtures", f.into());
    }
    if let Some(f) = &args.env_file {
        flag("--env-file", f.into());
    }
    if let Some(v) = &args.expect_version {
        flag("--expect-version", v.into());
    }
    if kind == Kind::Run
        && let Some(a) = args.approvals.and_then(|a| a.to_possible_value())
    {
        flag("--approvals", a.get_name().into());
    }
    for (k, file) in kind.reports() {
        let mut spec = OsString::from(format!("{k}="));
        spec.push(folder.join(file));
        flag("--report", spec);
    }
    if args.allow_protected {
        out.push("--allow-protected".into());
    }
    if !s.paths.is_empty() {
        out.push("--".into());
        out.extend(s.paths.iter().map(OsString::from));
    }
    out
}

/// `DIR/48h-2026-12-01T15-00-30Z/`, created; `…-2` when that exists already.
fn create_step_folder(dir: &Path, label: &str, now: DateTime<Utc>) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = format!("{label}-{}", now.format("%Y-%m-%dT%H-%M-%SZ"));
    crate::schedule::create_numbered_folder(dir, &stamp)
}

/// `2026-12-03 15:00 UTC`.
fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A line of the long-running countdown's own log, on stderr, with its UTC time.
fn log(message: std::fmt::Arguments<'_>) {
    eprintln!(
        "{} countdown: {message}",
        Utc::now().trunc_subsecs(0).to_rfc3339()
    );
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::args::{Cli, Command};

    fn args(line: &[&str]) -> CountdownArgs {
        let cli = Cli::try_parse_from(line).unwrap();
        match cli.command {
            Command::Countdown(a) => a,
            other => panic!("not a countdown: {other:?}"),
        }
    }

    fn strs(v: &[OsString]) -> Vec<String> {
        v.iter().map(|a| a.to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn children_get_the_selection_and_report_into_the_step_folder() {
        let a = args(&[
            "rehearse",
            "countdown",
            "--demo-at",
            "2026-12-03T15:00:00Z",
            "--env",
            "staging",
            "--tag",
            "demo",
            "--approvals",
            "wait",
            "--var",
            "base=http://x",
            "scenarios/pay.yaml",
        ]);
        let folder = Path::new("out/48h");
        assert_eq!(
            strs(&child_argv(Kind::Preflight, &a, folder)),
            [
                "--color",
                "never",
                "preflight",
                "--env",
                "staging",
                "--var",
                "base=http://x",
                "--tag",
                "demo",
                "--report",
                "json=out/48h/preflight.json",
                "--report",
                "html=out/48h/preflight.html",
                "--",
                "scenarios/pay.yaml",
            ]
        );
        let run = strs(&child_argv(Kind::Run, &a, folder));
        assert_eq!(run[2], "run");
        assert!(
            run.windows(2).any(|w| w == ["--approvals", "wait"]),
            "{run:?}"
        );
        assert!(
            run.contains(&"markdown=out/48h/report.md".to_owned()),
            "{run:?}"
        );
    }

    #[test]
    fn step_folders_are_named_by_offset_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let t = parse_demo_at("2026-12-01T15:00:30Z").unwrap();
        let a = create_step_folder(dir.path(), "48h", t).unwrap();
        let b = create_step_folder(dir.path(), "48h", t).unwrap();
        assert!(a.ends_with("48h-2026-12-01T15-00-30Z"));
        assert!(b.ends_with("48h-2026-12-01T15-00-30Z-2"));
        assert!(parse_demo_at("tomorrow").unwrap_err().contains("RFC 3339"));
    }
}
