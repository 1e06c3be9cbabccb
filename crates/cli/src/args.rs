//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit;

/// End-to-end synthetic tests for platforms that integrate with banks.
#[derive(Debug, Parser)]
#[command(name = "rehearse", version, about, after_help = exit::HELP)]
pub struct Cli {
    /// More output (-v: every step and its requests, -vv: headers and bodies, -vvv: debug
    /// logs). Secrets are masked at every level.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only failures and the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to colour the output; `auto` honours NO_COLOR.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against an environment.
    #[command(after_help = exit::HELP)]
    Run(RunArgs),
    /// Run only the pre-flight checks: is the environment ready, and who must fix what.
    #[command(after_help = exit::HELP)]
    Preflight(PreflightArgs),
    /// Check scenarios and the environment without sending a request.
    #[command(after_help = exit::HELP)]
    Validate(SelectArgs),
    /// List the scenarios that a run would select.
    List(SelectArgs),
    /// Print the JSON Schema of scenario files (or environment files).
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value_t = SchemaKind::Scenario)]
        kind: SchemaKind,
    },
    /// Run `rehearse run` on a cron schedule, one run at a time, each reporting into its own
    /// folder, until SIGTERM or Ctrl-C.
    #[command(after_help = exit::HELP)]
    Schedule(crate::schedule::ScheduleArgs),
    /// Count down to a demo: pre-flight and the demo flows at T-72h, 48h, 24h, 4h, 1h and
    /// 15m, each owner with failures told their working hours left, a go/no-go at the last
    /// step (`--once`: the step due now, for a CI scheduler).
    ///
    /// A step exits 0 when pre-flight and the flows are green (GO at the last step), 2 when
    /// pre-flight failed (the flows are not run), 1 when a flow failed, 3 or 4 when a child
    /// could not run, 130 when interrupted (not recorded: the next `--once` does it again).
    /// `--once` with nothing due exits 0. The long-running countdown exits with its last
    /// step's code (the go/no-go), 0 when the countdown was already over, and 130 when
    /// SIGTERM, SIGHUP or Ctrl-C stopped it before its last step.
    #[command(after_help = exit::HELP)]
    Countdown(crate::countdown::CountdownArgs),
    /// Continue a suspended run (or one killed while a scenario waited) from the store:
    /// each scenario at the step where it stopped, then cleanup; the stored run and the
    /// reports cover the whole run.
    #[command(after_help = crate::exit::RESUME_HELP)]
    Resume(crate::resume::ResumeArgs),
    /// Start the embedded local stack (bank mock + sample platform) and keep it running
    /// until Ctrl-C.
    Up(UpArgs),
    /// Run the bank API mock as a standalone server until Ctrl-C (or, with `record`, record
    /// a version folder from a real bank).
    #[command(args_conflicts_with_subcommands = true)]
    MockBank(rehearse_bank_mock::MockBankArgs),
    /// The bank API's versions: drift against the real bank sandbox (`check`), changes
    /// between two versions (`diff`), a version folder from an OpenAPI document (`import`).
    Contract {
        /// What to do.
        #[command(subcommand)]
        command: ContractCommand,
    },
    /// Per scenario, its recent results from the store: a strip (`✓✓✗✓`), pass and flaky
    /// rates, p50/p95 durations, and for one failing now, since when and what changed.
    History(crate::history::HistoryArgs),
    /// What runs created and never cleaned up (a crash, a SIGKILL, a failed cleanup), from
    /// the store: run, scenario, creating step, resource id, age, the cleanup's error.
    #[command(after_help = crate::exit::LEDGER_HELP)]
    Ledger(crate::ledger::LedgerArgs),
    /// Run the recorded cleanup steps of what `rehearse ledger` lists, against the
    /// environment, and mark each removed or failed.
    #[command(after_help = crate::exit::CLEANUP_HELP)]
    Cleanup(crate::ledger::CleanupArgs),
    /// Send the notifications that are due: those queued for an owner's working hours
    /// (`--notify`), and deliveries to try again. For a cron or CI job (`--once`).
    #[command(after_help = exit::HELP)]
    Notify(crate::notify::NotifyCommandArgs),
    /// Work with reports of earlier runs.
    Report {
        /// What to do.
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `rehearse up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Write an environment file for the running stack (its URLs as vars, the virtual
    /// clock, mock approvals, the platform's cron jobs): `rehearse run --env FILE` in
    /// another terminal runs against it. Written once the stack is up; it is stale after
    /// Ctrl-C.
    #[arg(long, value_name = "FILE")]
    pub write_env: Option<PathBuf>,
    /// Fixed ports: the bank mock on N, the sample platform speaking bank API v1 on N+1,
    /// v2 on N+2 (var `platform`), v3 on N+3, v4 on N+4. Default: free ports.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// A folder of the team's own bank API versions (`v5/manifest.json`…), served beside
    /// the built-in v1-v4 (a `v2/` there replaces the built-in v2). Repeatable. Default:
    /// `bank-api/` in the current folder, when there is one.
    #[arg(long, value_name = "DIR")]
    pub versions: Vec<PathBuf>,
}

/// `rehearse contract …`.
#[derive(Debug, Subcommand)]
pub enum ContractCommand {
    /// Probe an environment's bank sandbox (its `bank:` key) with the requests its API
    /// version describes and report every drift from that version's schemas: breaking
    /// drift exits 1, additive drift 0 with warnings, a bank that does not answer 2.
    #[command(after_help = exit::HELP)]
    Check(crate::contract::check::CheckArgs),
    /// Compare two API versions as a Markdown changelog (breaking changes first, then
    /// additive, per route, with JSON pointers); exits 0.
    Diff(crate::contract::diff::DiffArgs),
    /// Make a bank API version folder from the bank's OpenAPI 3.0 or 3.1 document (YAML or
    /// JSON) and a mapping file for what OpenAPI cannot say (which operation creates a
    /// payment, which field is the amount, which value is which status). What cannot be
    /// mapped is listed on stderr and in the folder's IMPORT-NOTES.md; a required piece with
    /// no mapping exits 3 listing each, and nothing is written.
    #[command(after_help = exit::HELP)]
    Import(crate::contract::ImportArgs),
}

/// `rehearse report …`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the JSON results of shards into one run's reports (junit.xml, run.json,
    /// report.html, report.md in OUT_DIR); exits as that run would have.
    #[command(after_help = exit::HELP)]
    Merge {
        /// Where to write the merged reports.
        out_dir: PathBuf,
        /// Folders (or files) holding each shard's JSON report.
        #[arg(required_unless_present = "run", conflicts_with = "run")]
        in_dirs: Vec<PathBuf>,
        /// Read the run from the store instead: every shard that ran with
        /// `--run-id ID --shard K/N` recorded into it. A shard not recorded is named and
        /// the merge exits 1.
        #[arg(long, value_name = "ID")]
        run: Option<String>,
        /// The store to read with --run: a SQLite file or a postgres:// URL (default:
        /// .rehearse/rehearse.db in the current folder).
        #[arg(
            long,
            value_name = "URL",
            env = "REHEARSE_STORE",
            hide_env_values = true,
            requires = "run"
        )]
        store: Option<String>,
        /// Where the HTML report will be published (linked from the Markdown summary).
        #[arg(long)]
        report_url: Option<String>,
    },
}

/// `rehearse schema KIND`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// Scenario files.
    Scenario,
    /// Environment files.
    Environment,
    /// The owners file (`owners.yaml` at the suite root).
    Owners,
}

/// Which scenarios, where.
///
/// Paths are found from the suite's root: `--root DIR`, else the nearest folder upward
/// from the first PATH given (or from the current folder) that holds `scenarios/` or
/// `environments/`, else the current folder. Environment names, the default scenarios
/// and fixtures are looked up there; paths you type (PATHS, `--env FILE.yaml`,
/// `--fixtures`, `--env-file`) are relative to the current folder.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Scenario files or folders (default: scenarios/ in the suite's root).
    pub paths: Vec<PathBuf>,
    /// Environment: `local` (the embedded stack, built in; the default), a name under
    /// environments/ in the suite's root, or a path to a YAML file.
    #[arg(short, long, env = "REHEARSE_ENV")]
    pub env: Option<String>,
    /// The suite's root, where environment names, the default scenarios/ and fixtures/
    /// are looked up (default: the nearest folder upward from the first PATH, or from the
    /// current folder, that holds scenarios/ or environments/; else the current folder).
    /// Paths you type stay relative to the current folder.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Set a variable, over the environment's and the scenario's vars of that name
    /// (repeatable). The value is a string.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Only scenarios whose name contains this (repeatable).
    #[arg(long)]
    pub name: Vec<String>,
    /// Run one slice of the selection: K/N (deterministic by path), or auto/N to take K
    /// from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job's 0-based index, plus one).
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<ShardArg>,
    /// Folder of fixture files (default: fixtures/ in the suite's root).
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

impl SelectArgs {
    /// The slice to run, once [`SelectArgs::resolve_shard`] read an `auto/N` index.
    pub fn shard(&self) -> Option<rehearse_runner::Shard> {
        match self.shard {
            Some(ShardArg::Fixed(s)) => Some(s),
            Some(ShardArg::Auto { .. }) | None => None,
        }
    }

    /// Reads the index of `--shard auto/N` from `JOB_COMPLETION_INDEX`: when the command
    /// starts, not when the line is parsed (so a CI file's command line checks out
    /// anywhere).
    pub fn resolve_shard(&mut self) -> Result<(), String> {
        if let Some(ShardArg::Auto { total }) = self.shard {
            self.shard = Some(ShardArg::Fixed(auto_shard(total)?));
        }
        Ok(())
    }

    /// The environment asked for: `--env`, `REHEARSE_ENV`, or the built-in `local`.
    pub fn env_name(&self) -> &str {
        self.env.as_deref().unwrap_or(crate::stack::LOCAL)
    }
}

/// `NAME=VALUE`; the name is a template variable name.
pub(crate) fn parse_var(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or_else(|| {
        format!("invalid --var `{s}`; write NAME=VALUE, e.g. --var base=http://localhost:8080")
    })?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "invalid variable name `{name}` in --var; use letters, digits and `_`, not starting with a digit"
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// `--shard`: `K/N`, or `auto/N` whose K is read from `JOB_COMPLETION_INDEX` when the
/// command starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    /// `K/N`.
    Fixed(rehearse_runner::Shard),
    /// `auto/N`.
    Auto {
        /// N.
        total: usize,
    },
}

fn parse_shard(s: &str) -> Result<ShardArg, String> {
    let Some(total) = s.strip_prefix("auto/") else {
        return s.parse().map(ShardArg::Fixed);
    };
    let shard: rehearse_runner::Shard = format!("1/{total}")
        .parse()
        .map_err(|_| format!("invalid shard `{s}`; write auto/N with N >= 1, e.g. auto/8"))?;
    Ok(ShardArg::Auto { total: shard.total })
}

fn auto_shard(total: usize) -> Result<rehearse_runner::Shard, String> {
    let index = std::env::var(JOB_INDEX_VAR).map_err(|_| {
        format!(
            "--shard auto/{total} takes its index from {JOB_INDEX_VAR}, which is not set; run it in a Kubernetes Indexed Job (completionMode: Indexed) or give --shard K/{total}"
        )
    })?;
    let k: usize = index.trim().parse().map_err(|_| {
        format!("{JOB_INDEX_VAR}=`{index}` is not a 0-based shard index; it must be 0, 1, 2, …")
    })?;
    format!("{}/{total}", k.saturating_add(1))
        .parse()
        .map_err(|e| format!("{e} (from {JOB_INDEX_VAR}={index}, 0-based)"))
}

/// The 0-based index a Kubernetes Indexed Job gives each pod.
pub(crate) const JOB_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// A run id given with `--run-id`: what `new_run_id` makes, or any short id a CI system
/// hands every shard (letters, digits, `.`, `_`, `-`; at most 100).
fn parse_run_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "invalid run id `{s}`; use letters, digits, `.`, `_` and `-` (at most 100), e.g. nightly-2026-12-02"
        ))
    }
}

/// How `approve` steps are carried out (`--approvals`).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Approvals {
    /// The bank mock's back office (var `bank_admin`).
    Mock,
    /// The environment's reviewer API request.
    Http,
    /// Ask the operator on the terminal.
    Prompt,
    /// Someone else approves; a later poll waits.
    Wait,
}

/// `rehearse preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// Whose checks: the environment's and those the selected scenarios require.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Read secrets and variables from this dotenv file.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// The version `version` checks expect when they name none.
    #[arg(long)]
    pub expect_version: Option<String>,
    /// Write a report: junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH
    /// (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH")]
    pub reports: Vec<String>,
    /// Allow running against an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
    /// Where the HTML report will be published (linked from the Markdown summary and from
    /// notifications).
    #[arg(long)]
    pub report_url: Option<String>,
    /// Tell the owners of failed checks.
    #[command(flatten)]
    pub notify: crate::notify::NotifyArgs,
}

/// `rehearse run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What to run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Read secrets and variables from this dotenv file (it wins over the process
    /// environment).
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// The version `version` checks expect when they name none.
    #[arg(long)]
    pub expect_version: Option<String>,
    /// How `approve` steps are carried out; overrides the environment's mode.
    #[arg(long, value_enum)]
    pub approvals: Option<Approvals>,
    /// Where the HTML report will be published (linked from the Markdown summary and from
    /// notifications).
    #[arg(long)]
    pub report_url: Option<String>,
    /// Scenarios at once (default: number of CPUs).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Start no new scenario after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Write a report: junit=PATH, json=PATH, html=PATH, markdown=PATH or ctrf=PATH
    /// (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH")]
    pub reports: Vec<String>,
    /// Rerun a failed scenario up to N times (cleanup runs each time); one that then
    /// passes is flaky: reported and counted, not a failure.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retry_failed: u32,
    /// Send the run as OpenTelemetry traces to this OTLP/HTTP endpoint (e.g.
    /// http://127.0.0.1:4318): a trace per scenario, a span per step and attempt. The
    /// embedded stack's services send theirs there too. A collector that is down is a
    /// warning, never a failure.
    #[arg(long, value_name = "ENDPOINT")]
    pub otlp: Option<String>,
    /// Where the run is recorded.
    #[command(flatten)]
    pub store: crate::store::StoreArgs,
    /// Allow running against an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
    /// The run's id, shared by every shard of one run (with --shard): each records into
    /// the same run of the store, and `rehearse report merge --run ID` reads it back.
    #[arg(long, value_name = "ID", env = "REHEARSE_RUN_ID", value_parser = parse_run_id, requires = "shard")]
    pub run_id: Option<String>,
    /// Suspend the run once it has run this long and every scenario still running waits
    /// (an approval, a poll between attempts): no cleanup, its place kept in the store,
    /// exit 75; `rehearse resume RUN_ID` continues it. Real clock and the store only.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub suspend_after: Option<std::time::Duration>,
    /// Tell the owners of failures.
    #[command(flatten)]
    pub notify: crate::notify::NotifyArgs,
}
