//! Resumable runs (issue #12 §2). `rehearse run` with the store on, a real clock and no
//! embedded stack writes how to compile the run again (suite root, environment, scenario
//! files and their hashes) and gives the runner a [`Checkpointer`] that keeps each
//! waiting-capable scenario's place in the store at its step boundaries. `--suspend-after`
//! and SIGTERM while waiting ask the runner's [`Suspension`] to stop the run, without
//! cleanup, once every running scenario waits: exit 75. `rehearse resume RUN_ID` compiles
//! the run again in its suite's root, reads the secrets again, and runs it as `rehearse
//! run` would, each scenario taken up at its place (see docs/DESIGN-NOTES.md, "[#12]
//! Resumable runs").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser as _};
use futures::future::BoxFuture;
use rehearse_runner::{Checkpoint, Checkpointer, Plan, ResumeFrom, RunOptions, Status, Suspension};
use rehearse_scenario::ClockKind;
use rehearse_store::{Resumable, ResumableScenario, Store, StoreUrl};

use crate::args::{Cli, Command, RunArgs};
use crate::exit;
use crate::store::{RunStore, StoreArgs};

/// `rehearse resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run to continue (`rehearse run` printed it when it was suspended).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// The suite's root, where the default store is (default: the current folder). The
    /// run itself is compiled again in the root it was started in, as the store says.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Where runs are recorded.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Read secrets and variables from this dotenv file (secrets are never stored: they
    /// are read again here).
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Set a variable, as `run --var` (not stored: give them again).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = crate::args::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Write a report: junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH
    /// (repeatable). The reports cover the whole run.
    #[arg(long = "report", value_name = "KIND=PATH")]
    pub reports: Vec<String>,
    /// Where the HTML report will be published.
    #[arg(long)]
    pub report_url: Option<String>,
    /// Resume even though a scenario file changed since the run started (its steps are
    /// taken up by index in the file as it is now).
    #[arg(long)]
    pub force: bool,
    /// Allow an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
    /// Suspend the resumed run again after this long, as `run --suspend-after`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub suspend_after: Option<std::time::Duration>,
}

/// Where a resumed run takes up each scenario, by its path under the suite's root.
#[derive(Debug)]
pub(crate) struct Resumed {
    from: BTreeMap<String, ResumeFrom>,
}

/// Keeps each scenario's place in the store; a failing write is printed once and the run
/// goes on (it is then not resumable from that point).
#[derive(Debug)]
struct StoreCheckpointer {
    store: Arc<Store>,
    run_id: String,
    failed: AtomicBool,
}

impl Checkpointer for StoreCheckpointer {
    fn save<'a>(&'a self, _: usize, c: &'a Checkpoint) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.store.save_checkpoint(&self.run_id, c).await
                && !self.failed.swap(true, Ordering::SeqCst)
            {
                eprintln!("error: the run's place could not be written to the store: {e}");
                eprintln!("  hint: {}", e.hint());
            }
        })
    }
}

/// A scenario file's SHA-256, hex.
fn hash_of(path: &Path) -> String {
    use sha2::Digest as _;
    std::fs::read(path)
        .map(|t| hex::encode(sha2::Sha256::digest(&t)))
        .unwrap_or_default()
}

/// `path` under `root` (both made absolute), or as given.
fn rel_to(path: &Path, root: &Path) -> String {
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    abs.strip_prefix(root)
        .map_or_else(|_| path.display().to_string(), |r| r.display().to_string())
}

/// Makes a run resumable when it can be: the store on, a real clock, no embedded stack
/// (its bank would be gone), a scenario that waits. Then the suite's root, environment and
/// scenario files are written, the runner gets the checkpointer and the suspension, and
/// `--suspend-after` is armed. A resumed run (`resumed`) also gets its scenarios' places,
/// and its earlier results are removed from the store (recorded again at its end).
/// Returns whether the run is resumable.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, from one call site"
)]
pub(crate) async fn prepare_run(
    store: &mut RunStore,
    args: &RunArgs,
    plan: &Plan,
    root: &Path,
    embedded: bool,
    resumed: Option<Resumed>,
    suspension: &Arc<Suspension>,
    options: &mut RunOptions,
) -> bool {
    let why_not = match store {
        RunStore::Open(_) if plan.environment.clock == ClockKind::Virtual => {
            Some("the environment's clock is virtual")
        }
        RunStore::Open(_) if embedded => Some("the embedded stack's bank lives in this process"),
        RunStore::Open(_) if !plan.scenarios.iter().any(rehearse_runner::can_wait) => {
            Some("no selected scenario has an `approve` step or a `poll`")
        }
        RunStore::Open(_) => None,
        _ => Some("the store is off"),
    };
    if let Some(why) = why_not {
        if args.suspend_after.is_some() {
            eprintln!("warning: --suspend-after has no effect: {why}");
        }
        return false;
    }
    let RunStore::Open(s) = store else {
        return false;
    };
    let s = Arc::clone(s);
    let abs_root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let environment = match args.select.env.as_deref() {
        Some(e) if Path::new(e).is_file() && (e.ends_with(".yaml") || e.ends_with(".yml")) => {
            Path::new(e)
                .canonicalize()
                .map_or_else(|_| e.to_owned(), |p| p.display().to_string())
        }
        other => other.unwrap_or(crate::stack::LOCAL).to_owned(),
    };
    let r = Resumable {
        run_id: options.run_id.clone(),
        root: abs_root.display().to_string(),
        environment,
        approvals: args
            .approvals
            .and_then(|a| clap::ValueEnum::to_possible_value(&a))
            .map(|v| v.get_name().to_owned()),
        scenarios: plan
            .scenarios
            .iter()
            .map(|sc| ResumableScenario {
                path: sc.path.display().to_string(),
                rel: rel_to(&sc.path, &abs_root),
                hash: hash_of(&sc.path),
            })
            .collect(),
        state: "running".to_owned(),
    };
    let written = match s.record_resumable(&r).await {
        Ok(()) => match &resumed {
            Some(_) => s.forget_results(&r.run_id).await,
            None => Ok(()),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        crate::store::print_error(&e, true);
        *store = RunStore::Broken;
        return false;
    }
    if let Some(resumed) = resumed {
        options.resume = Some(Arc::new(resumed.from));
    }
    options.checkpointer = Some(Arc::new(StoreCheckpointer {
        store: s,
        run_id: options.run_id.clone(),
        failed: AtomicBool::new(false),
    }));
    options.suspension = Some(Arc::clone(suspension));
    if let Some(after) = args.suspend_after {
        let suspension = Arc::clone(suspension);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            suspension.request();
        });
    }
    true
}

/// The run's exit code: 75 when it was suspended.
pub(crate) fn code(suspension: &Suspension, code: u8) -> u8 {
    if suspension.suspended() {
        exit::SUSPENDED
    } else {
        code
    }
}

/// After the run was recorded: a resumable run is marked suspended (its verdict too) or
/// finished.
pub(crate) async fn after_record(
    store: &RunStore,
    run_id: &str,
    resumable: bool,
    suspension: &Suspension,
) {
    let RunStore::Open(s) = store else {
        return;
    };
    if !resumable {
        return;
    }
    let state = if suspension.suspended() {
        "suspended"
    } else {
        "finished"
    };
    if let Err(e) = s.set_resumable_state(run_id, state).await {
        crate::store::print_error(&e, false);
    }
}

/// The last word of a run: the resume hint when it was suspended, and exit 75 unless
/// something worse happened (a store that failed: its place may be lost, exit 2; reports
/// not written, exit 4).
pub(crate) fn finish(suspension: &Suspension, run_id: &str, code: u8) -> u8 {
    if !suspension.suspended() {
        return code;
    }
    if code == exit::NOT_READY {
        eprintln!(
            "suspended, but the store failed: run {run_id} may not be resumable (`rehearse resume {run_id}` says)"
        );
        return code;
    }
    eprintln!("suspended: resume with `rehearse resume {run_id}`");
    match code {
        exit::PASSED | exit::FAILED => exit::SUSPENDED,
        other => other,
    }
}

fn invalid(message: &str, hint: &str) -> u8 {
    eprintln!("error: {message}");
    eprintln!("  hint: {hint}");
    exit::INVALID_INPUT
}

/// `rehearse resume RUN_ID`.
pub(crate) async fn resume(cli: &Cli, args: &ResumeArgs) -> u8 {
    if args.store.no_store {
        return invalid(
            "a run is resumed from the store",
            "drop --no-store; give --store when the run was recorded elsewhere",
        );
    }
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let url = match crate::store::url_of(&args.store, &root) {
        Ok(u) => u,
        Err(code) => return code,
    };
    if let StoreUrl::Sqlite(path) = &url
        && !path.is_file()
    {
        return invalid(
            &format!("there is no store at {}", path.display()),
            "run inside the suite whose run was suspended, or give --root or --store",
        );
    }
    let store = match Store::open(&url).await {
        Ok(s) => s,
        Err(e) => {
            crate::store::print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    let id = &args.run_id;
    let (resumable, places) = match store.load_resumable(id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return match store.load_run(id).await {
                Ok(Some(_)) => invalid(
                    &format!("run `{id}` cannot be resumed: nothing of it was kept to resume"),
                    "only a real-clock run with the store on, outside the embedded stack, with a scenario that waits (`approve`, `poll`) can be resumed",
                ),
                Ok(None) => invalid(
                    &format!("the store {url} holds no run `{id}`"),
                    "`rehearse history` lists recorded runs; a suspended run prints its id",
                ),
                Err(e) => {
                    crate::store::print_error(&e, false);
                    exit::NOT_READY
                }
            };
        }
        Err(e) => {
            crate::store::print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    if resumable.state == "finished" {
        return invalid(
            &format!("run `{id}` already finished: there is nothing to resume"),
            "`rehearse history` shows its result; start a new run with `rehearse run`",
        );
    }
    // Paths this command was given are relative to the current folder: made absolute
    // before moving into the run's root.
    let store_flag = match &url {
        StoreUrl::Sqlite(p) => p
            .canonicalize()
            .unwrap_or_else(|_| p.clone())
            .display()
            .to_string(),
        StoreUrl::Postgres(_) => args.store.store.clone().unwrap_or_default(),
    };
    let Some(run_args) = run_args(&resumable, args, &store_flag) else {
        return invalid(
            "the stored run could not be turned into `run` flags",
            "this is a bug; please report it",
        );
    };
    let root = PathBuf::from(&resumable.root);
    if let Err(e) = std::env::set_current_dir(&root) {
        return invalid(
            &format!(
                "the run's suite root {} cannot be entered: {e}",
                root.display()
            ),
            "resume on a machine with the suite checked out at the same path",
        );
    }
    let changed: Vec<&str> = resumable
        .scenarios
        .iter()
        .filter(|s| hash_of(Path::new(&s.rel)) != s.hash)
        .map(|s| s.rel.as_str())
        .collect();
    if !changed.is_empty() {
        let list = changed.join(", ");
        if !args.force {
            return invalid(
                &format!(
                    "scenario file{} changed since run `{id}` started: {list}",
                    if changed.len() == 1 { "" } else { "s" }
                ),
                "check out the suite as it was, or pass --force to take the steps up by index in the files as they are now",
            );
        }
        eprintln!("warning: resuming with changed scenario files (--force): {list}");
    }
    let from = match resume_points(&store, id, &resumable, places).await {
        Ok(f) => f,
        Err(code) => return code,
    };
    eprintln!(
        "resuming run {id} in {} ({} scenario{} taken up where they stopped)",
        root.display(),
        from.values()
            .filter(|f| matches!(f, ResumeFrom::At(_)))
            .count(),
        if from.len() == 1 { "" } else { "s" }
    );
    drop(store);
    crate::commands::run(cli, &run_args, Some(Resumed { from })).await
}

/// Each scenario's place, by its path under the root: a checkpoint, or a result recorded
/// when the run was suspended (a scenario that cannot wait and had ended). A scenario with
/// neither runs from its start.
async fn resume_points(
    store: &Store,
    id: &str,
    resumable: &Resumable,
    places: Vec<Checkpoint>,
) -> Result<BTreeMap<String, ResumeFrom>, u8> {
    let rel = |path: &str| {
        resumable
            .scenarios
            .iter()
            .find(|s| s.path == path)
            .map(|s| s.rel.clone())
    };
    let mut from = BTreeMap::new();
    if let Some(stored) = store.load_run(id).await.map_err(|e| {
        crate::store::print_error(&e, false);
        exit::NOT_READY
    })? {
        for mut s in stored.result.scenarios {
            if matches!(s.status, Status::Interrupted) {
                continue;
            }
            if let Some(r) = rel(&s.path) {
                s.path.clone_from(&r);
                from.insert(r, ResumeFrom::Done(s));
            }
        }
    }
    for mut c in places {
        let Some(r) = rel(&c.scenario_path) else {
            continue;
        };
        c.scenario_path.clone_from(&r);
        let point = match c.finished.take() {
            Some(mut done) => {
                done.path.clone_from(&r);
                ResumeFrom::Done(done)
            }
            None => ResumeFrom::At(c),
        };
        from.insert(r, point);
    }
    Ok(from)
}

/// The `run` flags of the stored run: its environment and scenario files under its root
/// (the current folder by now), its id, and this command's secrets, vars and reports.
fn run_args(r: &Resumable, args: &ResumeArgs, store: &str) -> Option<RunArgs> {
    let cwd = std::env::current_dir().ok()?;
    let abs = |p: &Path| cwd.join(p).display().to_string();
    let mut argv: Vec<String> = vec![
        "rehearse".into(),
        "run".into(),
        "--env".into(),
        r.environment.clone(),
        "--root".into(),
        ".".into(),
    ];
    if let Some(a) = &r.approvals {
        argv.extend(["--approvals".into(), a.clone()]);
    }
    argv.extend(["--store".into(), store.to_owned()]);
    if let Some(f) = &args.env_file {
        argv.extend(["--env-file".into(), abs(f)]);
    }
    for (k, v) in &args.vars {
        argv.extend(["--var".into(), format!("{k}={v}")]);
    }
    for rep in &args.reports {
        let rep = match rep.split_once('=') {
            Some((kind, path)) => format!("{kind}={}", abs(Path::new(path))),
            None => rep.clone(),
        };
        argv.extend(["--report".into(), rep]);
    }
    if let Some(u) = &args.report_url {
        argv.extend(["--report-url".into(), u.clone()]);
    }
    if args.allow_protected {
        argv.push("--allow-protected".into());
    }
    if let Some(d) = args.suspend_after {
        argv.extend([
            "--suspend-after".into(),
            humantime::format_duration(d).to_string(),
        ]);
    }
    argv.extend(r.scenarios.iter().map(|s| s.rel.clone()));
    let Command::Run(mut run) = Cli::try_parse_from(argv).ok()?.command else {
        return None;
    };
    run.run_id = Some(r.run_id.clone());
    Some(run)
}
