//! The store as `rehearse run` uses it: opened after the input is checked, written once
//! the run ends (one transaction), read back for the reports' trends. A store that cannot
//! be opened or written never loses the run: it is reported at once, the run goes on, its
//! reports are written, and the run exits 2 (the store is part of the environment).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use rehearse_report::{ScenarioTrend, TrendLabel, Trends};
use rehearse_runner::RunResult;
use rehearse_store::{History, RunMeta, ShardOf, Store, StoreError, StoreUrl, Trend};

use crate::exit;

/// The default store under the suite's root.
pub(crate) const DEFAULT_STORE: &str = ".rehearse/rehearse.db";

/// How many runs the reports' strips show.
const STRIP_RUNS: usize = 10;

/// How far back history looks for the last green run.
pub(crate) const LOOK_BACK: usize = 500;

/// `--store`, `--no-store`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Where runs are recorded: a SQLite file or a postgres://user:password@host/db URL
    /// (default: .rehearse/rehearse.db in the suite's root). The password is never printed.
    #[arg(
        long,
        value_name = "URL",
        env = "REHEARSE_STORE",
        hide_env_values = true
    )]
    pub store: Option<String>,
    /// Record nothing (no history, no trends in the reports).
    #[arg(long, conflicts_with = "store")]
    pub no_store: bool,
}

/// Reads the store's address: `--store`, `REHEARSE_STORE`, or the default under `root`.
pub(crate) fn url_of(args: &StoreArgs, root: &Path) -> Result<StoreUrl, u8> {
    match &args.store {
        Some(s) => s.parse().map_err(|e| {
            eprintln!("error: {e}");
            exit::INVALID_INPUT
        }),
        None => Ok(StoreUrl::Sqlite(crate::load::in_root(root, DEFAULT_STORE))),
    }
}

/// Prints a store error and its hint.
pub(crate) fn print_error(e: &StoreError, during_run: bool) {
    eprintln!("error: {e}");
    eprintln!("  hint: {}", e.hint());
    if during_run {
        eprintln!("  note: the run goes on without the store; its reports are written; it exits 2");
    }
}

/// The store of a run: open, off, or broken (the run then exits 2).
#[derive(Debug)]
pub(crate) enum RunStore {
    Off,
    Open(Arc<Store>),
    Broken,
}

/// A store being opened ([`RunStore::opening`]); `None` with `--no-store`.
#[derive(Debug)]
pub(crate) struct Opening(Option<tokio::task::JoinHandle<RunStore>>);

impl Opening {
    /// The store, once open (broken when the task that opened it failed).
    pub(crate) async fn opened(self) -> RunStore {
        match self.0 {
            None => RunStore::Off,
            Some(task) => task.await.unwrap_or_else(|e| {
                tracing::warn!("store: the task that opened it failed: {e}");
                RunStore::Broken
            }),
        }
    }
}

impl RunStore {
    /// Starts opening the store on a task of its own: [`Opening::opened`] waits for it.
    /// A `--store` that is not a store URL is an error at once.
    pub(crate) fn opening(args: &StoreArgs, root: &Path) -> Result<Opening, u8> {
        if args.no_store {
            return Ok(Opening(None));
        }
        let url = url_of(args, root)?;
        let postgres = matches!(url, StoreUrl::Postgres(_));
        let open = async move {
            match Store::open(&url).await {
                Ok(s) => Self::Open(Arc::new(s)),
                Err(e) => {
                    print_error(&e, true);
                    Self::Broken
                }
            }
        };
        if postgres {
            // PostgreSQL: network I/O, which the run's runtime drives.
            return Ok(Opening(Some(tokio::spawn(open))));
        }
        // SQLite: on a thread of its own from the start. A task spawned on the run's
        // (one-thread) runtime was first polled only once the suite had loaded, which is
        // CPU work with no await in it, so a 1,000-scenario run waited ~7 ms for an opening
        // that had not begun (the WAL read back, a checkpoint, the schema's version).
        let runtime = tokio::runtime::Handle::current();
        Ok(Opening(Some(tokio::task::spawn_blocking(move || {
            runtime.block_on(open)
        }))))
    }

    /// A writer of the run's passed scenarios as they finish (see [`Streamer`]); `None`
    /// without a store, and for a shard of a sharded run.
    pub(crate) fn streamer(
        &self,
        run_id: &str,
        plan: &Arc<rehearse_runner::Plan>,
        sharded: bool,
    ) -> Option<Streamer> {
        let Self::Open(store) = self else {
            return None;
        };
        if sharded {
            return None;
        }
        Some(Streamer {
            store: Arc::clone(store),
            run_id: run_id.to_owned(),
            plan: Arc::clone(plan),
            pending: Vec::new(),
            writes: tokio::task::JoinSet::new(),
            failed: Arc::default(),
        })
    }

    /// Records the run and, when `trends`, reads back the trends of its scenarios (a
    /// tenth of a short run's instructions, so only when a report shows them). On a store
    /// error the store becomes broken (and the run exits 2). `written`: the scenarios (by
    /// index) a [`Streamer`] wrote already.
    pub(crate) async fn record(
        &mut self,
        result: &RunResult,
        meta: &RunMeta,
        trends: bool,
        written: &BTreeSet<usize>,
    ) -> Option<Trends> {
        let Self::Open(store) = self else {
            return None;
        };
        let done = async {
            store.record_except(result, meta, written).await?;
            if !trends {
                return Ok(None);
            }
            store
                .history(&result.environment, LOOK_BACK)
                .await
                .map(Some)
        }
        .await;
        match done {
            Ok(history) => history.map(|h| self::trends(&h, result)),
            Err(e) => {
                print_error(&e, false);
                *self = Self::Broken;
                None
            }
        }
    }

    /// The pre-flight checks of `result` that pass now and failed in the environment's
    /// previous run, each with when it was first seen failing (none without a store; a
    /// store error here only loses the label).
    pub(crate) async fn verified_fixed(
        &self,
        result: &RunResult,
    ) -> Vec<rehearse_report::VerifiedFixed> {
        let Self::Open(store) = self else {
            return Vec::new();
        };
        // A run without pre-flight checks has none to verify fixed.
        if result.preflight.is_empty() {
            return Vec::new();
        }
        match store
            .verified_fixed(&result.environment, &result.run_id, LOOK_BACK)
            .await
        {
            Ok(fixed) => fixed
                .into_iter()
                .map(|f| rehearse_report::VerifiedFixed {
                    check: f.name,
                    first_failed: format!(
                        "run {} ({} UTC)",
                        f.first_failed.id,
                        f.first_failed.when()
                    ),
                })
                .collect(),
            Err(e) => {
                tracing::warn!("store: could not read the checks' history: {e}");
                Vec::new()
            }
        }
    }

    /// The run's exit code once the store had its say: a broken store is exit 2 unless
    /// the run already ended worse (interrupted, internal error, invalid input).
    pub(crate) fn exit_code(&self, code: u8) -> u8 {
        match self {
            Self::Broken if matches!(code, exit::PASSED | exit::FAILED) => exit::NOT_READY,
            _ => code,
        }
    }
}

/// The reports' view of the history of `result`'s scenarios.
pub(crate) fn trends(history: &History, result: &RunResult) -> Trends {
    let scenarios = result
        .scenarios
        .iter()
        .filter_map(|s| history.scenarios.iter().find(|h| h.path == s.path))
        .map(|h| ScenarioTrend {
            path: h.path.clone(),
            strip: h.strip(STRIP_RUNS),
            label: h.trend(history).map(|t| match t {
                Trend::NewFailure => TrendLabel::NewFailure,
                Trend::Fixed => TrendLabel::Fixed,
                Trend::StillFailing(since) => {
                    TrendLabel::StillFailingSince(format!("run {} ({})", since.id, since.when()))
                }
            }),
        })
        .collect();
    Trends { scenarios }
}

/// What the record keeps besides the result: the suite's commit and each scenario file's
/// hash (to tell "the scenario changed" from "the platform changed"), but for the
/// scenarios a [`Streamer`] wrote already (`written`, by index), which it hashed itself.
pub(crate) fn meta(
    store: &RunStore,
    result: &RunResult,
    root: &Path,
    plan: &rehearse_runner::Plan,
    exit_code: u8,
    written: &BTreeSet<usize>,
) -> RunMeta {
    let mut file_hashes = BTreeMap::new();
    if !matches!(store, RunStore::Open(_)) {
        // Nothing records it: nothing is hashed, no repository looked up.
        return RunMeta {
            git_commit: None,
            exit_code,
            file_hashes,
            retries: BTreeMap::new(),
            shard: None,
        };
    }
    let left: BTreeSet<&str> = (result.scenarios.iter().enumerate())
        .filter(|(i, _)| !written.contains(i))
        .map(|(_, s)| s.path.as_str())
        .collect();
    if !left.is_empty() {
        for s in &plan.scenarios {
            let path = s.path.display().to_string();
            if left.contains(path.as_str()) {
                file_hashes.insert(path, hash_of(s));
            }
        }
    }
    RunMeta {
        git_commit: git_commit(root),
        exit_code,
        file_hashes,
        retries: BTreeMap::new(),
        shard: None,
    }
}

/// A SHA-256 of a scenario file's text: of the text the run loaded, not the file read
/// again after it (the same bytes, but for a lone CR read as a line feed), so that a run of
/// a thousand files opens none of them again.
fn hash_of(s: &rehearse_scenario::Scenario) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(s.span.source.text()))
}

/// Writes a run's scenarios that passed into the store as they finish, in batches, on
/// tokio's blocking threads while the run goes on: recording a thousand-scenario run at its
/// end cost it a third more time, on a core that was otherwise idle during the run
/// (docs/BENCHMARKS.md, "The store"). A scenario that did not pass is left to the run's
/// end: `--retry-failed` may run it again. What one batch could not write (a store
/// error), the record at the end writes.
#[derive(Debug)]
pub(crate) struct Streamer {
    store: Arc<Store>,
    run_id: String,
    /// Whose scenario files are hashed as their rows are made.
    plan: Arc<rehearse_runner::Plan>,
    pending: Vec<(usize, rehearse_runner::ScenarioResult)>,
    writes: tokio::task::JoinSet<Vec<usize>>,
    /// A batch failed: no more are written (each would wait out the store's write
    /// timeout, one after the other, at the run's end).
    failed: Arc<std::sync::atomic::AtomicBool>,
}

/// Scenarios a batch holds at most before it is written.
/// (The console hands over what passed at each of its ticks, every 10 ms, as one batch:
/// a transaction per 64 scenarios rewrote the same last pages of each table 16 times in a
/// 1,000-scenario run.)
const STREAM_BATCH: usize = 512;

impl Streamer {
    /// Takes a run's event, once every other consumer saw it: a scenario that passed joins
    /// the next batch (moved there, not copied).
    pub(crate) fn handle(&mut self, event: rehearse_runner::RunEvent) {
        if let rehearse_runner::RunEvent::ScenarioFinished { scenario, result } = event
            && result.status == rehearse_runner::Status::Passed
        {
            self.pending.push((scenario, result));
            if self.pending.len() >= STREAM_BATCH {
                self.flush();
            }
        }
    }

    /// Writes what is pending, on a task of its own.
    pub(crate) fn flush(&mut self) {
        use std::sync::atomic::Ordering;
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let (store, run_id) = (Arc::clone(&self.store), self.run_id.clone());
        let (failed, plan) = (Arc::clone(&self.failed), Arc::clone(&self.plan));
        self.writes.spawn(async move {
            // Batches queue for the one connection: once one failed, the rest give up.
            if failed.load(Ordering::Relaxed) {
                return Vec::new();
            }
            let indices: Vec<usize> = batch.iter().map(|(i, _)| *i).collect();
            let hash = move |i: usize, s: &rehearse_runner::ScenarioResult| {
                let p = plan.scenarios.get(i)?;
                (p.path.display().to_string() == s.path).then(|| hash_of(p))
            };
            match store.record_scenarios(&run_id, batch, hash).await {
                Ok(()) => indices,
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    tracing::debug!("store: scenarios left to the run's end: {e}");
                    Vec::new()
                }
            }
        });
    }

    /// Waits for the batches in flight; gives the scenarios written (what is still
    /// pending is left to the record at the end, in its transaction).
    pub(crate) async fn finish(mut self) -> BTreeSet<usize> {
        let mut written = BTreeSet::new();
        while let Some(done) = self.writes.join_next().await {
            written.extend(done.unwrap_or_default());
        }
        written
    }
}

/// The commit checked out in the suite's root, when it is in a git repository with a
/// commit: read from `.git` (HEAD, then the loose ref or `packed-refs`), as `git rev-parse
/// HEAD` would say. Spawning git cost every run a process start (a few milliseconds, more
/// than the rest of the store's work for a one-step run); an unusual layout falls back to it.
pub(crate) fn git_commit(root: &Path) -> Option<String> {
    // Not in a repository: no git to ask.
    let dot_git = find_dot_git(root)?;
    match read_head(&dot_git) {
        Some(commit) => Some(commit),
        None => git_rev_parse(root),
    }
}

/// The nearest `.git` (folder or file) at or above `root`.
fn find_dot_git(root: &Path) -> Option<PathBuf> {
    let start = root.canonicalize().ok()?;
    start
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|g| g.exists())
}

fn is_commit(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// HEAD resolved by reading the repository's files; `None` when not plainly readable.
fn read_head(dot_git: &Path) -> Option<String> {
    let git_dir = if dot_git.is_dir() {
        dot_git.to_owned()
    } else {
        // A worktree or submodule: `.git` is a file naming the real folder.
        let text = std::fs::read_to_string(dot_git).ok()?;
        let dir = PathBuf::from(text.trim().strip_prefix("gitdir:")?.trim());
        if dir.is_absolute() {
            dir
        } else {
            dot_git.parent()?.join(dir)
        }
    };
    // Refs live in the common folder of a worktree.
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => git_dir.join(c.trim()),
        Err(_) => git_dir.clone(),
    };
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref:").map(str::trim) else {
        return is_commit(head).then(|| head.to_owned());
    };
    if !name.starts_with("refs/") || name.contains("..") {
        return None;
    }
    for dir in [&git_dir, &common] {
        if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
            let commit = text.trim();
            return is_commit(commit).then(|| commit.to_owned());
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (commit, r) = line.split_once(' ')?;
        (r == name && is_commit(commit)).then(|| commit.to_owned())
    })
}

/// `git rev-parse HEAD` in the suite's root.
fn git_rev_parse(root: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// The store's view of `--shard K/N`.
pub(crate) fn shard_of(shard: Option<rehearse_runner::Shard>) -> Option<ShardOf> {
    shard.map(|s| ShardOf {
        index: u32::try_from(s.index).unwrap_or(u32::MAX),
        total: u32::try_from(s.total).unwrap_or(u32::MAX),
    })
}

/// `rehearse report merge OUT_DIR --run RUN_ID`: the run as its shards recorded it in the
/// store, written as a merge writes shards' JSON reports. Exits as the run would have; a
/// shard the store does not hold is named, and the merge then exits 1 at least (its
/// scenarios may hide a failure).
pub(crate) async fn merge_run(
    out_dir: &Path,
    run: &str,
    store: Option<&str>,
    report_url: Option<String>,
) -> u8 {
    let url = match store {
        Some(s) => match s.parse::<StoreUrl>() {
            Ok(u) => u,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::INVALID_INPUT;
            }
        },
        None => StoreUrl::Sqlite(PathBuf::from(DEFAULT_STORE)),
    };
    if let StoreUrl::Sqlite(path) = &url
        && !path.is_file()
    {
        eprintln!("error: there is no store at {}", path.display());
        eprintln!(
            "  hint: run inside the suite whose runs were recorded, or give --store (a SQLite file or postgres:// URL)"
        );
        return exit::INVALID_INPUT;
    }
    let opened = match Store::open(&url).await {
        Ok(s) => s,
        Err(e) => {
            print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    let stored = match opened.load_run(run).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("error: the store {url} holds no run `{run}`");
            eprintln!(
                "  hint: `rehearse history` lists recorded runs; shards record under the id given with --run-id"
            );
            return exit::INVALID_INPUT;
        }
        Err(e) => {
            print_error(&e, false);
            return exit::NOT_READY;
        }
    };
    let options = rehearse_report::ReportOptions {
        report_url,
        ..rehearse_report::ReportOptions::default()
    };
    if let Err(e) = std::fs::create_dir_all(out_dir)
        .and_then(|()| rehearse_report::write_merged(out_dir, &stored.result, &options))
    {
        eprintln!(
            "error: failed to write the merged reports into {}: {e}",
            out_dir.display()
        );
        return exit::INTERNAL;
    }
    let counts = stored.result.counts();
    let n = stored.result.scenarios.len();
    let of = stored
        .total
        .map(|t| format!(" from {} of {t} shards", stored.shards.len()))
        .unwrap_or_default();
    println!(
        "merged run {run}{of}: {n} scenario{} into {}: {} passed, {} failed, {} skipped",
        if n == 1 { "" } else { "s" },
        out_dir.display(),
        counts.passed,
        counts.failed,
        counts.skipped
    );
    // As the run exits: what its shards recorded, and at least what the joined result
    // says (a shard's exit code is the store's word, the scenarios are the reports').
    let code = stored.exit_code.max(exit::of_result(&stored.result));
    let missing = stored.missing_shards();
    if missing.is_empty() {
        return code;
    }
    let list: Vec<String> = missing.iter().map(u32::to_string).collect();
    eprintln!(
        "error: shard{} {} of {} not recorded: the merged run is incomplete",
        if missing.len() == 1 { "" } else { "s" },
        list.join(", "),
        stored.total.unwrap_or_default()
    );
    eprintln!(
        "  hint: wait for every shard to finish, or rerun the missing ones with the same --run-id"
    );
    code.max(exit::FAILED)
}

/// `✓ verified fixed: NAME (failing since run R (date UTC))`, once per check, after the run.
pub(crate) fn print_verified_fixed(fixed: &[rehearse_report::VerifiedFixed], quiet: bool) {
    if quiet {
        return;
    }
    for f in fixed {
        println!(
            "✓ verified fixed: {} (failing since {})",
            f.check, f.first_failed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// Reading `.git` gives what `git rev-parse HEAD` gives: a loose ref, a packed one, a
    /// detached HEAD, a worktree, from a sub-folder; and nothing before the first commit.
    fn read_head(dir: &Path) -> Option<String> {
        super::read_head(&find_dot_git(dir)?)
    }

    #[test]
    fn the_commit_read_from_dot_git_is_the_one_git_names() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("scenarios/sub")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        assert_eq!(read_head(&repo), None, "no commit yet");
        assert_eq!(git_commit(&repo), None);
        std::fs::write(repo.join("scenarios/a.yaml"), "name: a\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "one"]);
        let first = git(&repo, &["rev-parse", "HEAD"]);
        assert_eq!(
            read_head(&repo).as_deref(),
            Some(first.as_str()),
            "loose ref"
        );
        assert_eq!(
            read_head(&repo.join("scenarios/sub")).as_deref(),
            Some(first.as_str()),
            "from a sub-folder"
        );
        git(&repo, &["pack-refs", "--all"]);
        assert_eq!(read_head(&repo).as_deref(), Some(first.as_str()), "packed");
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "two"]);
        let second = git(&repo, &["rev-parse", "HEAD"]);
        assert_ne!(first, second);
        assert_eq!(read_head(&repo).as_deref(), Some(second.as_str()));
        git(&repo, &["checkout", "-q", "--detach", &first]);
        assert_eq!(
            read_head(&repo).as_deref(),
            Some(first.as_str()),
            "detached"
        );
        git(&repo, &["checkout", "-q", "main"]);
        let wt = dir.path().join("wt");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "other",
                wt.to_str().unwrap(),
                &first,
            ],
        );
        assert_eq!(read_head(&wt).as_deref(), Some(first.as_str()), "worktree");
        assert_eq!(git_commit(&repo).as_deref(), Some(second.as_str()));
        let outside = tempfile::tempdir().unwrap();
        assert_eq!(git_commit(outside.path()), None, "not a repository");
    }
}
