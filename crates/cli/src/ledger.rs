//! The ledger of test data (issue #12 §3): `rehearse run` records each resource a step
//! created as it is created (the run's [`Recorder`]) and marks it removed when the run's
//! own cleanup succeeds; `rehearse ledger` lists what was never cleaned up (a crash, a
//! SIGKILL, a failed cleanup); `rehearse cleanup` runs the recorded cleanup steps again,
//! compiled from the scenario file as it is now, with the recorded values and the
//! environment's secrets read again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use clap::Args;
use futures::future::BoxFuture;
use rehearse_runner::{CreatedResource, Plan, Recorder, RunOptions, Status, StepResult, World};
use rehearse_store::{Created, LedgerEntry, RunStart, Store, StoreUrl};
use tokio_util::sync::CancellationToken;

use crate::args::{Color, SelectArgs};
use crate::exit;
use crate::load::{self, LoadOptions};
use crate::store::{RunStore, StoreArgs};

/// `rehearse ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Only this environment (its name, or its file's name without `.yaml`); default: all.
    #[arg(short, long, env = "REHEARSE_ENV")]
    pub env: Option<String>,
    /// The suite's root, where the default store is (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Where runs are recorded.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `rehearse cleanup`.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// The environment whose leftovers are cleaned up: a name under environments/ in the
    /// suite's root, or a path to a YAML file.
    #[arg(short, long, env = "REHEARSE_ENV")]
    pub env: String,
    /// The suite's root, where environment names, the default store and fixtures/ are
    /// (default: found upward from the current folder, as `run` finds it).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// A dotenv file of secrets, read as `run --env-file` reads it.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Allow an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
    /// Say what would be run, send nothing and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where runs are recorded.
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The run's recorder: each created resource is written at once; a failing write is
/// printed once and the run goes on (the end-of-run write then says whether the store is
/// down).
#[derive(Debug)]
pub(crate) struct StoreRecorder {
    store: Arc<Store>,
    run_id: String,
    environment: String,
    failed: AtomicBool,
}

impl StoreRecorder {
    fn failed(&self, e: &rehearse_store::StoreError) {
        if !self.failed.swap(true, Ordering::SeqCst) {
            eprintln!("error: the ledger of test data could not be written: {e}");
            eprintln!("  hint: {}", e.hint());
        }
    }
}

impl Recorder for StoreRecorder {
    fn created<'a>(&'a self, c: &'a CreatedResource) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            let created = Created {
                run_id: self.run_id.clone(),
                environment: self.environment.clone(),
                scenario_path: c.scenario_path.clone(),
                scenario_name: c.scenario_name.clone(),
                step_idx: c.step_idx,
                step_name: c.step_name.clone(),
                method: c.method.clone(),
                url: c.url.clone(),
                resource_id: c.resource_id.clone(),
                captures: c.captures.clone(),
                cleanup: c.cleanup.clone(),
            };
            match self.store.record_created(&created, Utc::now()).await {
                Ok(id) => Some(id),
                Err(e) => {
                    self.failed(&e);
                    None
                }
            }
        })
    }

    fn cleaned<'a>(&'a self, key: &'a str, outcome: Result<(), String>) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let written = match outcome {
                Ok(()) => self.store.mark_removed(key, &self.run_id, Utc::now()).await,
                Err(why) => self.store.mark_cleanup_failed(key, &why).await,
            };
            if let Err(e) = written {
                self.failed(&e);
            }
        })
    }
}

impl RunStore {
    /// Writes the run's row as it starts (verdict `running`) and gives the recorder of
    /// its created resources; `None` without a store. A store that cannot take the row
    /// becomes broken (the run exits 2, as for a failing write at its end).
    pub(crate) async fn start_ledger(
        &mut self,
        run_id: &str,
        environment: &str,
        root: &Path,
    ) -> Option<Arc<dyn Recorder>> {
        let Self::Open(store) = self else {
            return None;
        };
        let start = RunStart {
            run_id: run_id.to_owned(),
            environment: environment.to_owned(),
            rehearse_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: crate::store::git_commit(root),
            started_at: Utc::now(),
        };
        if let Err(e) = store.record_start(&start).await {
            crate::store::print_error(&e, true);
            *self = Self::Broken;
            return None;
        }
        Some(Arc::new(StoreRecorder {
            store: Arc::clone(store),
            run_id: run_id.to_owned(),
            environment: environment.to_owned(),
            failed: AtomicBool::new(false),
        }))
    }
}

/// Opens the store a command reads; `Ok(None)` when the default SQLite file does not
/// exist yet (nothing was ever recorded).
async fn open(args: &StoreArgs, root: &Path) -> Result<Option<Store>, u8> {
    if args.no_store {
        eprintln!("error: the ledger is kept in the store; drop --no-store");
        return Err(exit::INVALID_INPUT);
    }
    let url = crate::store::url_of(args, root)?;
    if let StoreUrl::Sqlite(path) = &url
        && !path.exists()
    {
        return Ok(None);
    }
    match Store::open(&url).await {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            crate::store::print_error(&e, false);
            Err(exit::NOT_READY)
        }
    }
}

/// `rehearse ledger`: what was created and never cleaned up. Exit 0 whatever it lists; 2
/// when the store cannot be read, 3 for bad flags.
pub(crate) async fn ledger(args: &LedgerArgs) -> u8 {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let store = match open(&args.store, &root).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            print_entries(&[], args.env.as_deref(), args.json, Utc::now());
            return exit::PASSED;
        }
        Err(code) => return code,
    };
    let now = match crate::clock::now() {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let env = args.env.as_deref().map(env_name);
    match store.pending(env.as_deref()).await {
        Ok(entries) => {
            print_entries(&entries, env.as_deref(), args.json, now);
            exit::PASSED
        }
        Err(e) => {
            crate::store::print_error(&e, false);
            exit::NOT_READY
        }
    }
}

/// The environment's name as runs record it: a path's file stem, else the name.
fn env_name(given: &str) -> String {
    if given.ends_with(".yaml") || given.ends_with(".yml") || given.contains('/') {
        Path::new(given)
            .file_stem()
            .map_or_else(|| given.to_owned(), |s| s.to_string_lossy().into_owned())
    } else {
        given.to_owned()
    }
}

/// `payment_id pay_123`: the variable that holds the id, and the id.
fn resource(e: &LedgerEntry) -> String {
    let c = &e.created;
    match c.captures.iter().find(|(_, v)| **v == c.resource_id) {
        Some((k, v)) => format!("{k} {v}"),
        None => c.resource_id.clone(),
    }
}

/// `3h 12m`, `45s`: how long ago.
fn age(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - created).num_seconds().max(0);
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

fn print_entries(entries: &[LedgerEntry], env: Option<&str>, json: bool, now: DateTime<Utc>) {
    if json {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let c = &e.created;
                serde_json::json!({
                    "id": e.id,
                    "run_id": c.run_id,
                    "environment": c.environment,
                    "scenario": c.scenario_name,
                    "scenario_path": c.scenario_path,
                    "step": c.step_name,
                    "step_index": c.step_idx,
                    "method": c.method,
                    "url": c.url,
                    "resource_id": c.resource_id,
                    "created_at": e.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "age_seconds": (now - e.created_at).num_seconds().max(0),
                    "cleanup_steps": c.cleanup,
                    "cleanup_error": e.cleanup_error,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "pending": list }))
                .unwrap_or_default()
        );
        return;
    }
    let whose = env.map_or_else(String::new, |e| format!(" in environment `{e}`"));
    if entries.is_empty() {
        println!("nothing to clean up{whose}: every resource recorded was removed");
        return;
    }
    println!(
        "{} resource{} created and never cleaned up{whose}:",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    for e in entries {
        let c = &e.created;
        println!(
            "  {}  created {} ago by run {} in `{}`",
            resource(e),
            age(e.created_at, now),
            c.run_id,
            c.environment
        );
        println!(
            "    scenario \"{}\" ({}), step \"{}\" ({} {})",
            c.scenario_name, c.scenario_path, c.step_name, c.method, c.url
        );
        match &e.cleanup_error {
            Some(why) => println!("    cleanup failed: {why}"),
            None => println!("    cleanup never ran (the run was killed or stopped before it)"),
        }
    }
    let env = env.map_or_else(|| " --env ENV".to_owned(), |e| format!(" --env {e}"));
    println!("  hint: `rehearse cleanup{env}` runs their cleanup steps again");
}

/// How one entry's cleanup ended.
enum Cleaned {
    Removed,
    NotRemoved(String),
    Interrupted,
}

/// `rehearse cleanup`: runs each pending entry's cleanup steps again. Exit 0 when every
/// pending entry was removed (or none was pending, or `--dry-run`), 1 when one was not, 2
/// when the store cannot be read or written, 3 for bad input, 130 when interrupted.
pub(crate) async fn cleanup(args: &CleanupArgs, color: Color) -> u8 {
    let select = SelectArgs {
        paths: Vec::new(),
        env: Some(args.env.clone()),
        root: args.root.clone(),
        vars: Vec::new(),
        tag: Vec::new(),
        name: Vec::new(),
        shard: None,
        fixtures: None,
    };
    let root = load::suite_root(&select);
    let env_path = if crate::load::is_embedded(&args.env, &root) {
        None
    } else {
        match load::environment_path(&args.env, &root) {
            Ok(p) => Some(p),
            Err(p) => {
                crate::commands::print_problems(&rehearse_scenario::Problems(vec![p]), color);
                return exit::INVALID_INPUT;
            }
        }
    };
    let env = env_path
        .as_deref()
        .and_then(Path::file_stem)
        .map_or_else(|| args.env.clone(), |s| s.to_string_lossy().into_owned());
    let env_file = match &args.env_file {
        Some(path) => match load::read_env_file(path) {
            Ok(f) => f,
            Err(p) => {
                crate::commands::print_problems(&rehearse_scenario::Problems(vec![p]), color);
                return exit::INVALID_INPUT;
            }
        },
        None => Default::default(),
    };
    let store = match open(&args.store, &root).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            println!("nothing to clean up in environment `{env}`: nothing was ever recorded");
            return exit::PASSED;
        }
        Err(code) => return code,
    };
    let entries = match store.pending(Some(&env)).await {
        Ok(e) => e,
        Err(e) => {
            crate::store::print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    if entries.is_empty() {
        println!("nothing to clean up in environment `{env}`: every resource recorded was removed");
        return exit::PASSED;
    }
    let cancel = CancellationToken::new();
    let ctrl_c = crate::signals::listen(cancel.clone(), CancellationToken::new());
    let run_id = rehearse_runner::new_run_id();
    let mut by_file: BTreeMap<&str, Vec<&LedgerEntry>> = BTreeMap::new();
    for e in &entries {
        by_file
            .entry(e.created.scenario_path.as_str())
            .or_default()
            .push(e);
    }
    let (mut removed, mut left, mut interrupted) = (0usize, 0usize, false);
    let mut store_failed = false;
    for (path, mine) in by_file {
        let plan = match plan_for(path, &select, &root, &env_file, args.allow_protected) {
            Ok(p) => Some(p),
            Err(Refusal::Protected) => {
                ctrl_c.abort();
                eprintln!("error: environment `{env}` is protected");
                eprintln!("  hint: pass --allow-protected if you really mean to clean it up");
                return exit::INVALID_INPUT;
            }
            Err(Refusal::Entry(why)) => {
                for e in &mine {
                    report(e, &Cleaned::NotRemoved(why.clone()));
                    left += 1;
                    if !args.dry_run {
                        store_failed |= store.mark_cleanup_failed(&e.id, &why).await.is_err();
                    }
                }
                None
            }
        };
        let Some((plan, secrets)) = plan else {
            continue;
        };
        for e in mine {
            if cancel.is_cancelled() {
                interrupted = true;
                report(e, &Cleaned::Interrupted);
                left += 1;
                continue;
            }
            if let Err(why) = check_entry(&plan, e) {
                report(e, &Cleaned::NotRemoved(why.clone()));
                left += 1;
                if !args.dry_run {
                    store_failed |= store.mark_cleanup_failed(&e.id, &why).await.is_err();
                }
                continue;
            }
            if args.dry_run {
                let scenario = &plan.scenarios[0];
                for &i in &e.created.cleanup {
                    let step = &scenario.cleanup[i];
                    println!(
                        "would run cleanup step \"{}\" ({}) for {} (run {})",
                        step.name,
                        step.span,
                        resource(e),
                        e.created.run_id
                    );
                }
                continue;
            }
            let mut options = RunOptions::new();
            options.run_id.clone_from(&run_id);
            options.secrets.clone_from(&secrets);
            options.quit = cancel.clone();
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let outcome = rehearse_runner::run_cleanup(
                Arc::clone(&plan),
                0,
                &e.created.cleanup,
                &e.created.captures,
                &options,
                tx,
            )
            .await;
            let cleaned = match outcome {
                Ok(results) => judge(&results),
                Err(why) => Cleaned::NotRemoved(why),
            };
            let written = match &cleaned {
                Cleaned::Removed => store.mark_removed(&e.id, &run_id, Utc::now()).await,
                Cleaned::NotRemoved(why) => store.mark_cleanup_failed(&e.id, why).await,
                Cleaned::Interrupted => Ok(()),
            };
            if let Err(err) = written {
                store_failed = true;
                crate::store::print_error(&err, false);
            }
            report(e, &cleaned);
            match cleaned {
                Cleaned::Removed => removed += 1,
                Cleaned::NotRemoved(_) => left += 1,
                Cleaned::Interrupted => {
                    interrupted = true;
                    left += 1;
                }
            }
        }
    }
    ctrl_c.abort();
    if args.dry_run {
        println!(
            "dry run: {} pending in environment `{env}`; nothing was sent or changed",
            entries.len()
        );
        return exit::PASSED;
    }
    println!(
        "cleanup of environment `{env}`: {removed} removed, {left} not removed (`rehearse ledger --env {env}` lists them)",
    );
    if interrupted {
        exit::INTERRUPTED
    } else if store_failed {
        exit::NOT_READY
    } else if left > 0 {
        exit::FAILED
    } else {
        exit::PASSED
    }
}

/// Why an entry's scenario cannot be run again.
enum Refusal {
    /// The environment is protected and `--allow-protected` was not given: nothing runs.
    Protected,
    /// This file's entries cannot be cleaned up, and why.
    Entry(String),
}

/// The plan of one scenario file compiled again, with the environment's secrets read as a
/// run reads them (and their values, to mask).
fn plan_for(
    path: &str,
    select: &SelectArgs,
    root: &Path,
    env_file: &std::collections::HashMap<String, String>,
    allow_protected: bool,
) -> Result<(Arc<Plan>, Vec<String>), Refusal> {
    let mut file = PathBuf::from(path);
    if !file.is_file() {
        file = load::in_root(root, path);
    }
    if !file.is_file() {
        return Err(Refusal::Entry(format!(
            "the scenario file {path} no longer exists; remove the resource by hand"
        )));
    }
    let select = SelectArgs {
        paths: vec![file],
        env: select.env.clone(),
        root: Some(root.to_owned()),
        vars: Vec::new(),
        tag: Vec::new(),
        name: Vec::new(),
        shard: None,
        fixtures: None,
    };
    let loaded = match load::load(&select, LoadOptions::default()) {
        Ok(l) => l,
        Err(problems) => {
            let first = problems
                .iter()
                .next()
                .map(rehearse_scenario::Problem::one_line)
                .unwrap_or_default();
            return Err(Refusal::Entry(format!(
                "the scenario file {path} no longer compiles: {first}"
            )));
        }
    };
    if loaded.environment.protected && !allow_protected {
        return Err(Refusal::Protected);
    }
    let world = World::new(env_file.clone(), &loaded.environment.secrets);
    let secrets = world.secret_values();
    crate::panic::mask(&secrets);
    loaded.world.set(world);
    if loaded.scenarios.len() != 1 {
        return Err(Refusal::Entry(format!(
            "{path} holds {} scenarios, not one",
            loaded.scenarios.len()
        )));
    }
    let plan = Plan::new(loaded.environment, loaded.scenarios, loaded.templates);
    Ok((Arc::new(plan), secrets))
}

/// Refuses an entry whose cleanup steps are gone, or read a value the ledger does not
/// hold (a secret-derived capture is never stored).
fn check_entry(plan: &Plan, e: &LedgerEntry) -> Result<(), String> {
    let scenario = &plan.scenarios[0];
    let mut known: BTreeSet<&str> = plan
        .environment
        .vars
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    known.extend(scenario.vars.iter().map(|(k, _)| k.as_str()));
    known.extend(e.created.captures.keys().map(String::as_str));
    for &i in &e.created.cleanup {
        let Some(step) = scenario.cleanup.get(i) else {
            return Err(format!(
                "{} has no cleanup step {} any more (it has {}); remove the resource by hand",
                scenario.path.display(),
                i + 1,
                scenario.cleanup.len()
            ));
        };
        let reads = rehearse_runner::step_reads(step);
        let missing: Vec<&str> = reads
            .iter()
            .map(String::as_str)
            .filter(|v| !known.contains(v))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "refused: cleanup step \"{}\" ({}) needs {}, which the ledger does not hold (a value captured from a response to a request carrying a secret is never stored); compute it in the cleanup step itself, e.g. from {{{{ secret('NAME') }}}}",
                step.name,
                step.span,
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Removed when every step passed; else the first step that did not, and why.
fn judge(results: &[StepResult]) -> Cleaned {
    for r in results {
        match r.status {
            Status::Passed | Status::Flaky => {}
            Status::Interrupted => return Cleaned::Interrupted,
            Status::Skipped => {
                return Cleaned::NotRemoved(format!("cleanup step `{}` was skipped", r.name));
            }
            Status::Failed | Status::Error => {
                return Cleaned::NotRemoved(r.failure.as_ref().map_or_else(
                    || format!("cleanup step `{}` failed", r.name),
                    |f| {
                        format!(
                            "cleanup step `{}`: {}: expected {}, got {}",
                            r.name, f.check, f.expected, f.actual
                        )
                    },
                ));
            }
        }
    }
    Cleaned::Removed
}

/// One line per entry: `✓ removed …` or `✗ not removed …: why`.
fn report(e: &LedgerEntry, cleaned: &Cleaned) {
    let what = format!(
        "{} (scenario \"{}\", step \"{}\", run {})",
        resource(e),
        e.created.scenario_name,
        e.created.step_name,
        e.created.run_id
    );
    match cleaned {
        Cleaned::Removed => println!("✓ removed {what}"),
        Cleaned::NotRemoved(why) => println!("✗ not removed {what}: {why}"),
        Cleaned::Interrupted => println!("✗ not removed {what}: interrupted"),
    }
}
