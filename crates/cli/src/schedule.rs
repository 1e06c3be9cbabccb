//! `rehearse schedule`: runs `rehearse run` on a cron schedule until SIGTERM or Ctrl-C, for
//! teams without a CI scheduler.
//!
//! - One run at a time: a tick that comes while a run is still going is logged and
//!   skipped, never queued or doubled.
//! - Each run is a child process (this same executable, `rehearse run …`), so runs are
//!   isolated from each other and from the scheduler, and behave exactly like `rehearse
//!   run`. Its reports go into `REPORTS_DIR/<UTC tick time>/` (`run.json`, `junit.xml`,
//!   `report.html`, `report.md`, and `console.log` with its console output).
//! - SIGTERM, SIGHUP or Ctrl-C: the running child gets one SIGINT (it stops its steps, runs
//!   cleanup and writes its reports, as on Ctrl-C), the scheduler waits for it and exits 0.
//!   A second signal kills the child and exits 130.
//!
//! The cron expression is read by tokio-cron-scheduler on the wall clock, in UTC, with a
//! seconds field: `0 0 2 * * *` is 02:00:00 every day.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Instant;

use chrono::{DateTime, SubsecRound, Utc};
use clap::Args;
use rehearse_report::ReportSpec;
use rehearse_scenario::render_problem;
use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::args::RunArgs;
use crate::exit;
use crate::signals::Signals;

/// `rehearse schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// When to run: a cron expression with a seconds field, in UTC (`0 0 2 * * *` is 02:00
    /// every day). A tick that comes while a run is still going is skipped.
    #[arg(long, value_name = "EXPR")]
    pub cron: String,
    /// Folder of the reports: each run writes into DIR/<UTC time of its tick>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
    /// What each run runs: the flags of `rehearse run`. `--report KIND=FILE` names a report
    /// file inside each run's folder (json, junit, html and markdown are written anyway).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The reports every scheduled run writes, by file name in its folder.
const DEFAULT_REPORTS: &[(&str, &str)] = &[
    ("json", "run.json"),
    ("junit", "junit.xml"),
    ("html", "report.html"),
    ("markdown", "report.md"),
];

/// The name of the file that gets a run's console output.
const CONSOLE_LOG: &str = "console.log";

/// Runs the schedule until SIGTERM or Ctrl-C; returns the exit code.
pub async fn schedule(args: ScheduleArgs) -> u8 {
    let raw: Vec<OsString> = std::env::args_os().collect();
    match Scheduler::new(args, &raw) {
        Ok(scheduler) => scheduler.serve().await,
        Err((message, code)) => {
            eprintln!("error: {message}");
            code
        }
    }
}

/// Everything a tick needs to start a run.
#[derive(Debug)]
struct Scheduler {
    cron: String,
    reports_dir: PathBuf,
    exe: PathBuf,
    /// The schedule's own command line, `schedule` and the program name included.
    raw: Vec<OsString>,
    /// `(kind, file name)` of each report a run writes into its folder.
    reports: Vec<(String, PathBuf)>,
}

type Failure = (String, u8);

impl Scheduler {
    /// Checks everything that can be checked before the first tick: the scenarios and the
    /// environment, the cron expression, the report names, the executable.
    fn new(args: ScheduleArgs, raw: &[OsString]) -> Result<Self, Failure> {
        if let Err(problems) =
            crate::load::load(&args.run.select, crate::load::LoadOptions::default())
        {
            let mut text = String::new();
            for p in problems.iter() {
                text.push_str(&render_problem(p, false));
            }
            eprint!("{text}");
            let n = problems.count();
            return Err((
                format!(
                    "{n} problem{} found; the schedule was not started",
                    if n == 1 { "" } else { "s" }
                ),
                exit::INVALID_INPUT,
            ));
        }
        Job::new_async(args.cron.as_str(), |_, _| Box::pin(async {})).map_err(|e| {
            (
                format!(
                    "`{}` is not a cron expression with seconds (e.g. `0 0 2 * * *` for 02:00 every day): {e:?}",
                    args.cron
                ),
                exit::INVALID_INPUT,
            )
        })?;
        let reports = report_files(&args.run.reports)?;
        let exe = std::env::current_exe().map_err(|e| {
            (
                format!("failed to find the rehearse executable to run: {e}"),
                exit::INTERNAL,
            )
        })?;
        Ok(Self {
            cron: args.cron,
            reports_dir: args.reports_dir,
            exe,
            raw: raw.to_vec(),
            reports,
        })
    }

    async fn serve(self) -> u8 {
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: failed to listen for SIGTERM and Ctrl-C: {e}");
                return exit::INTERNAL;
            }
        };
        if let Err(e) = std::fs::create_dir_all(&self.reports_dir) {
            eprintln!(
                "error: failed to create the reports folder {}: {e}",
                self.reports_dir.display()
            );
            return exit::INTERNAL;
        }
        let (tick_tx, mut ticks) = mpsc::unbounded_channel::<DateTime<Utc>>();
        let (mut scheduler, next) = match self.start_ticking(tick_tx).await {
            Ok(started) => started,
            Err((message, code)) => {
                eprintln!("error: {message}");
                return code;
            }
        };
        log(format_args!(
            "schedule `{}` (UTC): each run reports into {}/<time>/; next run {}; SIGTERM or Ctrl-C stops",
            self.cron,
            self.reports_dir.display(),
            next.map_or_else(|| "unknown".to_owned(), |t| t.to_rfc3339()),
        ));

        let code = loop {
            tokio::select! {
                signal = signals.recv() => {
                    log(format_args!("{signal}: no run is going; stopping"));
                    break exit::PASSED;
                }
                Some(tick) = ticks.recv() => {
                    match self.run_once(tick, &mut ticks, &mut signals).await {
                        Next::Continue => {}
                        Next::Stop(code) => break code,
                    }
                }
            }
        };
        let _ = scheduler.shutdown().await;
        log(format_args!("schedule stopped"));
        code
    }

    /// Creates the cron job, which only sends its tick to the loop in [`Self::serve`]: that
    /// loop is the one place runs start, so two never overlap. Returns the first tick.
    async fn start_ticking(
        &self,
        tick_tx: mpsc::UnboundedSender<DateTime<Utc>>,
    ) -> Result<(JobScheduler, Option<DateTime<Utc>>), Failure> {
        let fail = |what: &str, e: tokio_cron_scheduler::JobSchedulerError| {
            (format!("failed to {what}: {e:?}"), exit::INTERNAL)
        };
        let job = Job::new_async(self.cron.as_str(), move |_, _| {
            let tx = tick_tx.clone();
            Box::pin(async move {
                let _ = tx.send(Utc::now());
            })
        })
        .map_err(|e| fail("create the cron job", e))?;
        let scheduler = JobScheduler::new()
            .await
            .map_err(|e| fail("create the scheduler", e))?;
        let id = scheduler
            .add(job)
            .await
            .map_err(|e| fail("add the run to the scheduler", e))?;
        scheduler
            .start()
            .await
            .map_err(|e| fail("start the scheduler", e))?;
        let mut handle = scheduler.clone();
        let next = handle.next_tick_for_job(id).await.ok().flatten();
        Ok((scheduler, next))
    }

    /// One run: starts the child, logs (and skips) the ticks that come meanwhile, and
    /// interrupts it on SIGTERM or Ctrl-C.
    async fn run_once(
        &self,
        tick: DateTime<Utc>,
        ticks: &mut mpsc::UnboundedReceiver<DateTime<Utc>>,
        signals: &mut Signals,
    ) -> Next {
        let folder = match create_run_folder(&self.reports_dir, tick) {
            Ok(f) => f,
            Err(e) => {
                log(format_args!(
                    "error: failed to create a report folder in {}: {e}; tick skipped",
                    self.reports_dir.display()
                ));
                return Next::Continue;
            }
        };
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut child = match self.spawn(&folder) {
            Ok(c) => c,
            Err(e) => {
                log(format_args!(
                    "error: failed to start run {name}: {e}; tick skipped"
                ));
                return Next::Continue;
            }
        };
        log(format_args!(
            "run {name} started (pid {}); console output in {}",
            child.id().map_or_else(|| "?".to_owned(), |p| p.to_string()),
            folder.join(CONSOLE_LOG).display()
        ));
        let started = Instant::now();
        let mut stopping: Option<&'static str> = None;
        let mut killed = false;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                Some(skipped) = ticks.recv() => {
                    log(format_args!(
                        "tick at {} skipped: run {name} is still going (started {:.1}s ago)",
                        skipped.trunc_subsecs(0).to_rfc3339(),
                        started.elapsed().as_secs_f64()
                    ));
                }
                signal = signals.recv() => {
                    if stopping.is_none() {
                        stopping = Some(signal);
                        interrupt(&child);
                        log(format_args!(
                            "{signal}: interrupting run {name}; waiting for its cleanup and reports (signal again to kill it)"
                        ));
                    } else {
                        killed = true;
                        let _ = child.start_kill();
                        log(format_args!("{signal} again: killing run {name}"));
                    }
                }
            }
        };
        log(format_args!(
            "run {name} {} after {:.1}s; reports in {}",
            describe(&status),
            started.elapsed().as_secs_f64(),
            folder.display()
        ));
        match stopping {
            None => Next::Continue,
            Some(_) if killed => Next::Stop(exit::INTERRUPTED),
            Some(_) => Next::Stop(exit::PASSED),
        }
    }

    fn spawn(&self, folder: &Path) -> std::io::Result<tokio::process::Child> {
        let console = std::fs::File::create(folder.join(CONSOLE_LOG))?;
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.args(run_argv(&self.raw, folder, &self.reports))
            .stdin(Stdio::null())
            .stdout(console.try_clone()?)
            .stderr(console)
            .kill_on_drop(true);
        // Its own process group: a Ctrl-C on the terminal reaches only the scheduler, which
        // hands the run exactly one SIGINT (a second one would make it quit at once).
        #[cfg(unix)]
        cmd.process_group(0);
        cmd.spawn()
    }
}

/// What the loop does after a run.
#[derive(Debug)]
enum Next {
    Continue,
    Stop(u8),
}

/// The report files of each run: the defaults this build can write, plus the user's
/// `--report KIND=FILE` (a relative file name inside the run's folder).
fn report_files(user: &[String]) -> Result<Vec<(String, PathBuf)>, Failure> {
    let specs = rehearse_report::parse_report_specs(user)
        .map_err(|e| (e.to_string(), exit::INVALID_INPUT))?;
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for spec in &specs {
        let path = spec.path();
        if path.is_absolute() || path.components().any(|c| c.as_os_str() == "..") {
            return Err((
                format!(
                    "{spec}: a scheduled run writes its reports into its own folder; give a file name relative to it"
                ),
                exit::INVALID_INPUT,
            ));
        }
        out.push((spec.kind().to_owned(), path.to_path_buf()));
    }
    for (kind, file) in DEFAULT_REPORTS {
        let supported = matches!(
            rehearse_report::parse_report_specs([format!("{kind}={file}")]).as_deref(),
            Ok([_])
        );
        let taken = out.iter().any(|(_, p)| p == Path::new(file));
        if supported && !taken && !specs.iter().any(|s: &ReportSpec| s.kind() == *kind) {
            out.push(((*kind).to_owned(), PathBuf::from(file)));
        }
    }
    Ok(out)
}

/// The command line of one run: the schedule's own, with `schedule` turned into `run`,
/// the schedule's flags (`--cron`, `--reports-dir`) and the user's `--report`s taken out,
/// and the run's reports in `folder` added. Global flags before `schedule` stay where they
/// are. The program name is not included.
fn run_argv(raw: &[OsString], folder: &Path, reports: &[(String, PathBuf)]) -> Vec<OsString> {
    const OWN: &[&str] = &["--cron", "--reports-dir", "--report"];
    let mut out = Vec::new();
    let mut args = raw.iter().skip(1);
    for arg in args.by_ref() {
        if arg == "schedule" {
            out.push(OsString::from("run"));
            break;
        }
        out.push(arg.clone());
    }
    while let Some(arg) = args.next() {
        if arg == "--" {
            out.push(arg.clone());
            out.extend(args.by_ref().cloned());
            break;
        }
        let text = arg.to_string_lossy();
        if OWN.contains(&text.as_ref()) {
            args.next();
            continue;
        }
        if OWN.iter().any(|flag| text.starts_with(&format!("{flag}="))) {
            continue;
        }
        out.push(arg.clone());
    }
    // The reports go before a `--`, if any, so they stay flags.
    let at = out
        .iter()
        .position(|a| a == OsStr::new("--"))
        .unwrap_or(out.len());
    let reports = reports.iter().flat_map(|(kind, file)| {
        let mut spec = OsString::from(format!("{kind}="));
        spec.push(folder.join(file));
        [OsString::from("--report"), spec]
    });
    out.splice(at..at, reports);
    out
}

/// `DIR/2026-11-26T02-00-00Z/`, created; `…Z-2` and so on when that exists already (two
/// ticks within one second, a restart).
fn create_run_folder(dir: &Path, tick: DateTime<Utc>) -> std::io::Result<PathBuf> {
    create_numbered_folder(dir, &folder_name(tick))
}

/// `DIR/STAMP/`, created; `STAMP-2`, `STAMP-3`… when that exists already, up to 99 (the
/// run folders of `schedule`, the step folders of `countdown`).
pub(crate) fn create_numbered_folder(dir: &Path, stamp: &str) -> std::io::Result<PathBuf> {
    for n in 1..100 {
        let name = if n == 1 {
            stamp.to_owned()
        } else {
            format!("{stamp}-{n}")
        };
        let path = dir.join(name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "99 folders named {stamp} already exist"
    )))
}

/// `2026-11-26T02-00-00Z`: the tick's UTC time, to the second, safe in a file name.
fn folder_name(tick: DateTime<Utc>) -> String {
    tick.format("%Y-%m-%dT%H-%M-%SZ").to_string()
}

fn describe(status: &std::io::Result<ExitStatus>) -> String {
    let status = match status {
        Ok(s) => s,
        Err(e) => return format!("could not be waited for ({e})"),
    };
    let Some(code) = status.code() else {
        return format!("was killed ({status})");
    };
    let Ok(code) = u8::try_from(code) else {
        return format!("exited {code}");
    };
    let meaning = match code {
        exit::PASSED => "every scenario passed",
        exit::FAILED => "a scenario failed",
        exit::NOT_READY => "environment not ready",
        exit::INVALID_INPUT => "invalid input",
        exit::INTERNAL => "internal error",
        exit::INTERRUPTED => "interrupted",
        exit::SUSPENDED => "suspended: resume it with `rehearse resume RUN_ID`",
        _ => "unknown exit code",
    };
    format!("exited {code} ({meaning})")
}

/// A line of the scheduler's own log, on stderr, with its UTC time.
fn log(message: std::fmt::Arguments<'_>) {
    eprintln!(
        "{} schedule: {message}",
        Utc::now().trunc_subsecs(0).to_rfc3339()
    );
}

/// Asks a run to stop as Ctrl-C would: SIGINT, so it runs cleanup and writes its reports.
pub(crate) fn interrupt(child: &tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(id.cast_signed()))
        && let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::INT)
    {
        log(format_args!(
            "warning: failed to send SIGINT to the run: {e}"
        ));
    }
    #[cfg(not(unix))]
    let _ = child;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_suspended_run_is_described_with_how_to_resume_it() {
        use std::os::unix::process::ExitStatusExt as _;
        let status = Ok(ExitStatus::from_raw(i32::from(exit::SUSPENDED) << 8));
        assert_eq!(
            describe(&status),
            "exited 75 (suspended: resume it with `rehearse resume RUN_ID`)"
        );
        let status = Ok(ExitStatus::from_raw(1 << 8));
        assert_eq!(describe(&status), "exited 1 (a scenario failed)");
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn strs(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn run_argv_turns_schedule_into_run_and_puts_reports_in_the_run_folder() {
        let raw = os(&[
            "/usr/bin/rehearse",
            "-v",
            "schedule",
            "--cron",
            "* * * * * *",
            "--env",
            "staging",
            "--reports-dir=out",
            "--report",
            "html=r.html",
            "--tag",
            "demo",
            "scenarios/payments",
        ]);
        let reports = vec![
            ("html".to_owned(), PathBuf::from("r.html")),
            ("json".to_owned(), PathBuf::from("run.json")),
        ];
        let argv = run_argv(&raw, Path::new("out/2026-11-26T02-00-00Z"), &reports);
        assert_eq!(
            strs(&argv),
            [
                "-v",
                "run",
                "--env",
                "staging",
                "--tag",
                "demo",
                "scenarios/payments",
                "--report",
                "html=out/2026-11-26T02-00-00Z/r.html",
                "--report",
                "json=out/2026-11-26T02-00-00Z/run.json",
            ]
        );
    }

    #[test]
    fn run_argv_keeps_reports_before_a_double_dash() {
        let raw = os(&["rehearse", "schedule", "--cron=* * * * * *", "--", "a.yaml"]);
        let reports = vec![("json".to_owned(), PathBuf::from("run.json"))];
        let argv = run_argv(&raw, Path::new("d"), &reports);
        assert_eq!(
            strs(&argv),
            ["run", "--report", "json=d/run.json", "--", "a.yaml"]
        );
    }

    #[test]
    fn report_files_default_to_every_kind_and_refuse_paths_outside_the_folder() {
        let files = report_files(&[]).unwrap();
        let kinds: Vec<&str> = files.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, ["json", "junit", "html", "markdown"]);
        let files = report_files(&["json=results.json".to_owned()]).unwrap();
        assert_eq!(files[0], ("json".to_owned(), PathBuf::from("results.json")));
        assert!(!files.iter().any(|(_, f)| f == Path::new("run.json")));
        let (message, code) = report_files(&["json=/tmp/run.json".to_owned()]).unwrap_err();
        assert_eq!(code, exit::INVALID_INPUT);
        assert!(message.contains("relative"), "{message}");
        assert!(report_files(&["json=../run.json".to_owned()]).is_err());
    }

    #[test]
    fn folder_names_are_the_utc_tick_to_the_second() {
        let tick = DateTime::parse_from_rfc3339("2026-11-26T02:00:00.734+00:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(folder_name(tick), "2026-11-26T02-00-00Z");
        let dir = tempfile::tempdir().unwrap();
        let first = create_run_folder(dir.path(), tick).unwrap();
        let second = create_run_folder(dir.path(), tick).unwrap();
        assert!(first.ends_with("2026-11-26T02-00-00Z"));
        assert!(second.ends_with("2026-11-26T02-00-00Z-2"));
    }
}
