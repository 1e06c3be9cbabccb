//! The store as `rehearse run` uses it: opened after the input is checked, written once
//! the run ends (one transaction), read back for the reports' trends. A store that cannot
//! be opened or written never loses the run: it is reported at once, the run goes on, its
//! reports are written, and the run exits 2 (the store is part of the environment).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use rehearse_report::{ScenarioTrend, TrendLabel, Trends};
use rehearse_runner::RunResult;
use rehearse_store::{History, RunMeta, Store, StoreError, StoreUrl, Trend};

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
    Open(Box<Store>),
    Broken,
}

impl RunStore {
    /// Opens the store of `args` (under the suite's `root`), or says why not.
    pub(crate) async fn open(args: &StoreArgs, root: &Path) -> Result<Self, u8> {
        if args.no_store {
            return Ok(Self::Off);
        }
        let url = url_of(args, root)?;
        Ok(match Store::open(&url).await {
            Ok(s) => Self::Open(Box::new(s)),
            Err(e) => {
                print_error(&e, true);
                Self::Broken
            }
        })
    }

    /// Records the run and reads back the trends of its scenarios. On a store error the
    /// store becomes broken (and the run exits 2).
    pub(crate) async fn record(&mut self, result: &RunResult, meta: &RunMeta) -> Option<Trends> {
        let Self::Open(store) = self else {
            return None;
        };
        let done = async {
            store.record(result, meta).await?;
            store.history(&result.environment, LOOK_BACK).await
        }
        .await;
        match done {
            Ok(history) => Some(trends(&history, result)),
            Err(e) => {
                print_error(&e, false);
                *self = Self::Broken;
                None
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
/// hash (to tell "the scenario changed" from "the platform changed").
pub(crate) fn meta(result: &RunResult, root: &Path, exit_code: u8) -> RunMeta {
    let mut file_hashes = BTreeMap::new();
    for s in &result.scenarios {
        let path = PathBuf::from(&s.path);
        let text = std::fs::read(&path).or_else(|_| std::fs::read(root.join(&path)));
        if let Ok(text) = text {
            use sha2::Digest as _;
            file_hashes.insert(s.path.clone(), hex::encode(sha2::Sha256::digest(&text)));
        }
    }
    RunMeta {
        git_commit: git_commit(root),
        exit_code,
        file_hashes,
        retries: BTreeMap::new(),
    }
}

/// `git rev-parse HEAD` in the suite's root, when it is a repository with a commit.
fn git_commit(root: &Path) -> Option<String> {
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
