//! The subcommands.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use clap::CommandFactory;
use rehearse_report::{
    ColorChoice, ConsoleOptions, ConsoleReporter, ReportOptions, ReportSpec, Verbosity,
};
use rehearse_runner::{Aborted, Plan, PreflightOptions, RunOptions, RunResult, Selection, World};
use rehearse_scenario::ApprovalMode;
use rehearse_scenario::{Problem, Problems, render_problem};
use tokio_util::sync::CancellationToken;

use crate::args::{
    Approvals, Cli, Color, Command, PreflightArgs, ReportCommand, RunArgs, SchemaKind, SelectArgs,
    UpArgs,
};
use crate::exit;
use crate::load::{self, LoadOptions, Loaded};
use crate::prompt;
use crate::stack::LocalStack;

pub(crate) async fn dispatch(mut cli: Cli) -> u8 {
    let select = match &mut cli.command {
        Command::Run(a) => Some(&mut a.select),
        Command::Preflight(a) => Some(&mut a.select),
        Command::Validate(a) | Command::List(a) => Some(a),
        _ => None,
    };
    if let Some(Err(e)) = select.map(SelectArgs::resolve_shard) {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    let color = cli.color;
    match cli.command {
        Command::Run(ref args) => run(&cli, args, None).await,
        Command::Resume(ref args) => crate::resume::resume(&cli, args).await,
        Command::Preflight(ref args) => preflight_command(&cli, args).await,
        Command::Validate(ref args) => validate(args, color),
        Command::List(ref args) => list(args, color),
        Command::Schema { kind } => {
            let text = match kind {
                SchemaKind::Scenario => rehearse_scenario::scenario_schema(),
                SchemaKind::Environment => rehearse_scenario::environment_schema(),
                SchemaKind::Owners => rehearse_scenario::owners_schema(),
            };
            println!("{text}");
            exit::PASSED
        }
        Command::Up(ref args) => up(args).await,
        Command::Contract { ref command } => crate::contract::dispatch(&cli, command).await,
        Command::History(ref args) => crate::history::history(args).await,
        Command::Ledger(ref args) => crate::ledger::ledger(args).await,
        Command::Cleanup(ref args) => crate::ledger::cleanup(args, color).await,
        Command::Notify(ref args) => crate::notify::command(args, cli.quiet).await,
        Command::Report {
            command:
                ReportCommand::Merge {
                    ref out_dir,
                    ref in_dirs,
                    ref report_url,
                    ref run,
                    ref store,
                },
        } => match run {
            Some(run) => {
                crate::store::merge_run(out_dir, run, store.as_deref(), report_url.clone()).await
            }
            None => merge(out_dir, in_dirs, report_url.clone()),
        },
        Command::MockBank(mut args) => {
            if let Some(rehearse_bank_mock::MockBankCommand::Record(record)) = args.command.take() {
                return crate::record::record(record).await;
            }
            let mut out = std::io::stdout();
            match rehearse_bank_mock::serve_until_ctrl_c(args, &mut out).await {
                Ok(()) => exit::PASSED,
                Err(e) => {
                    eprintln!("error: {e}");
                    match e {
                        rehearse_bank_mock::Error::Folder(_)
                        | rehearse_bank_mock::Error::UnknownVersion(_)
                        | rehearse_bank_mock::Error::Config(_) => exit::INVALID_INPUT,
                        _ => exit::INTERNAL,
                    }
                }
            }
        }
        Command::Schedule(args) => crate::schedule::schedule(args).await,
        Command::Countdown(args) => crate::countdown::countdown(args).await,
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "rehearse", &mut std::io::stdout());
            exit::PASSED
        }
    }
}

fn stderr_color(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}

pub(crate) fn print_problems(problems: &Problems, color: Color) {
    let color = stderr_color(color);
    let mut err = std::io::stderr().lock();
    for p in problems.iter() {
        let _ = write!(err, "{}", render_problem(p, color));
    }
    let n = problems.count();
    let _ = writeln!(
        err,
        "error: {n} problem{} found; nothing was run",
        if n == 1 { "" } else { "s" }
    );
}

fn select(args: &SelectArgs, loaded: Loaded) -> Loaded {
    let selection = Selection {
        tags: args.tag.clone(),
        names: args.name.clone(),
        shard: args.shard(),
    };
    let (scenarios, left_out) = selection.apply_for(loaded.scenarios);
    for s in &left_out {
        eprintln!(
            "note: leaving out {} ({})",
            s.path.display(),
            s.left_out.as_deref().unwrap_or("its needs are not met")
        );
    }
    Loaded {
        scenarios,
        ..loaded
    }
}

fn validate(args: &SelectArgs, color: Color) -> u8 {
    match load::load(args, LoadOptions::default()) {
        Ok(loaded) => {
            let loaded = select(args, loaded);
            let steps: usize = loaded
                .scenarios
                .iter()
                .map(|s| s.steps.len() + s.cleanup.len())
                .sum();
            println!(
                "ok: {} scenario{} ({} steps) valid against environment `{}`",
                loaded.scenarios.len(),
                if loaded.scenarios.len() == 1 { "" } else { "s" },
                steps,
                loaded.environment.name
            );
            exit::PASSED
        }
        Err(problems) => {
            print_problems(&problems, color);
            exit::INVALID_INPUT
        }
    }
}

fn list(args: &SelectArgs, color: Color) -> u8 {
    // Without --env, list reads only the names and tags: it needs no environment.
    let loaded = match &args.env {
        None => load::headings(args).map(|scenarios| {
            let selection = Selection {
                tags: args.tag.clone(),
                names: args.name.clone(),
                shard: args.shard(),
            };
            selection.apply_for(scenarios).0
        }),
        Some(_) => load::load(args, LoadOptions::default()).map(|l| select(args, l).scenarios),
    };
    match loaded {
        Ok(scenarios) => {
            for s in &scenarios {
                let tags = if s.tags.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", s.tags.join(", "))
                };
                println!("{}  {}{tags}", s.path.display(), s.name);
            }
            exit::PASSED
        }
        Err(problems) => {
            print_problems(&problems, color);
            exit::INVALID_INPUT
        }
    }
}

/// A result for a run that never started, so reports are still written.
pub(crate) fn aborted_result(
    run_id: &str,
    env: &str,
    reason: &str,
    problems: Vec<String>,
) -> RunResult {
    RunResult {
        aborted: Some(Aborted {
            reason: reason.to_owned(),
            problems,
        }),
        ..empty_result(run_id, env)
    }
}

/// A result with no scenario and no check yet.
fn empty_result(run_id: &str, env: &str) -> RunResult {
    RunResult {
        run_id: run_id.to_owned(),
        environment: env.to_owned(),
        started_at: chrono::Utc::now(),
        duration: std::time::Duration::ZERO,
        scenarios: Vec::new(),
        interrupted: false,
        preflight: Vec::new(),
        rehearse_version: env!("CARGO_PKG_VERSION").to_owned(),
        bank_api_version: None,
        aborted: None,
    }
}

/// The reports a command writes, and their options.
pub(crate) struct Reports {
    specs: Vec<ReportSpec>,
    options: ReportOptions,
}

impl Reports {
    /// Whether a report shows the scenarios' history (the HTML's strips, the Markdown's
    /// new failures): only then is it read back from the store after the run.
    pub(crate) fn want_trends(&self) -> bool {
        self.specs
            .iter()
            .any(|s| matches!(s, ReportSpec::Html(_) | ReportSpec::Markdown(_)))
    }
}

pub(crate) fn reports(specs: &[String], report_url: Option<&String>) -> Result<Reports, u8> {
    match rehearse_report::parse_report_specs(specs) {
        Ok(specs) => Ok(Reports {
            specs,
            options: ReportOptions {
                report_url: report_url.cloned(),
                ..ReportOptions::default()
            },
        }),
        Err(e) => {
            eprintln!("error: {e}");
            Err(exit::INVALID_INPUT)
        }
    }
}

pub(crate) fn write_reports(result: &RunResult, reports: &Reports) -> bool {
    match rehearse_report::write_reports_with(result, &reports.specs, &reports.options) {
        Ok(()) => true,
        Err(e) => {
            eprintln!("error: {e}");
            false
        }
    }
}

fn merge(
    out_dir: &std::path::Path,
    in_dirs: &[std::path::PathBuf],
    report_url: Option<String>,
) -> u8 {
    let options = ReportOptions {
        report_url,
        ..ReportOptions::default()
    };
    match rehearse_report::merge_dirs_with(out_dir, in_dirs, &options) {
        Ok(result) => {
            let counts = result.counts();
            println!(
                "merged {} scenario{} into {}: {} passed, {} failed, {} skipped",
                result.scenarios.len(),
                if result.scenarios.len() == 1 { "" } else { "s" },
                out_dir.display(),
                counts.passed,
                counts.failed,
                counts.skipped
            );
            exit::of_result(&result)
        }
        Err(e) => {
            eprintln!("error: failed to merge reports: {e}");
            exit::INVALID_INPUT
        }
    }
}

async fn up(args: &UpArgs) -> u8 {
    if let Some(n) = args.port
        && n.checked_add(4).is_none()
    {
        eprintln!(
            "error: --port {n} leaves no room for the four platforms on N+1..N+4; give a port below 65532"
        );
        return exit::INVALID_INPUT;
    }
    let default_dir = std::path::Path::new(crate::stack::SUITE_VERSIONS);
    let dirs: Vec<&std::path::Path> = if args.versions.is_empty() {
        default_dir
            .is_dir()
            .then_some(default_dir)
            .into_iter()
            .collect()
    } else {
        args.versions
            .iter()
            .map(std::path::PathBuf::as_path)
            .collect()
    };
    let catalog = match crate::stack::catalog(dirs) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let stack = match LocalStack::start_on(args.port, catalog).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INTERNAL;
        }
    };
    if let Some(path) = &args.write_env
        && let Err(e) = write_atomically(path, &stack.environment_file())
    {
        eprintln!(
            "error: failed to write the environment file {}: {e}",
            path.display()
        );
        stack.shutdown().await;
        return exit::INTERNAL;
    }
    println!("rehearse local stack is up (Ctrl-C to stop)");
    println!("  bank        {}", stack.urls.bank);
    println!("  back office {}/__admin", stack.urls.bank);
    for (v, url) in &stack.urls.platforms {
        println!("  platform    {url}  (bank API {v})");
    }
    println!("  credentials {}", stack.credentials());
    if let Some(path) = &args.write_env {
        println!(
            "  environment {}  (rehearse run --env {})",
            path.display(),
            path.display()
        );
    }
    let _ = tokio::signal::ctrl_c().await;
    stack.shutdown().await;
    exit::PASSED
}

/// Writes `text` to `path` whole or not at all (a reader waiting for the file never sees
/// half of it).
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn approval_mode(a: Approvals) -> ApprovalMode {
    match a {
        Approvals::Mock => ApprovalMode::Mock,
        Approvals::Http => ApprovalMode::Http,
        Approvals::Prompt => ApprovalMode::Prompt,
        Approvals::Wait => ApprovalMode::Wait,
    }
}

/// The world of secrets, their values (to mask) and the names that are set.
fn world_of(
    env_file: std::collections::HashMap<String, String>,
    declared: &[String],
) -> (World, Vec<String>, Vec<String>) {
    let world = World::new(env_file, declared);
    let missing = world.missing(declared);
    let present = declared
        .iter()
        .filter(|d| !missing.contains(&d.as_str()))
        .cloned()
        .collect();
    let values = world.secret_values();
    (world, values, present)
}

/// Pre-flight results on stderr: failures grouped by owner, each with its hint and the
/// evidence.
fn print_preflight(
    checks: &[rehearse_runner::CheckResult],
    color: Color,
    quiet: bool,
    clocks: Option<&rehearse_report::OwnerClocks>,
) {
    use rehearse_runner::Status;
    let paint = stderr_color(color);
    let (red, green, dim, reset) = if paint {
        ("\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let failed: Vec<_> = checks
        .iter()
        .filter(|c| matches!(c.status, Status::Failed | Status::Error))
        .collect();
    let interrupted = checks
        .iter()
        .filter(|c| c.status == Status::Interrupted)
        .count();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "pre-flight: {} check{}, {} failed{}",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        failed.len(),
        if interrupted > 0 {
            format!(", {interrupted} stopped by Ctrl-C")
        } else {
            String::new()
        }
    );
    let mut owners: Vec<Option<String>> = Vec::new();
    for c in &failed {
        if !owners.contains(&c.owner) {
            owners.push(c.owner.clone());
        }
    }
    owners.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for owner in owners {
        let mine: Vec<_> = failed.iter().filter(|c| c.owner == owner).collect();
        let _ = writeln!(
            err,
            "{red}✗{reset} owner: {} ({} failing)",
            owner.as_deref().unwrap_or("(no owner set)"),
            mine.len()
        );
        if let Some(c) = owner.as_deref().and_then(|o| clocks?.of(o)) {
            let _ = writeln!(err, "  {dim}{}{reset}", c.line);
        }
        for c in mine {
            let _ = writeln!(err, "  {red}✗{reset} {} [{}]", c.name, c.kind);
            let _ = writeln!(err, "      {}", c.evidence);
            if let Some(h) = &c.hint {
                let _ = writeln!(err, "      hint: {h}");
            }
            if let Some(t) = &c.ticket {
                let _ = writeln!(err, "      ticket: {t}");
            }
            if let Some(l) = &c.location {
                let _ = writeln!(err, "      {dim}at {l}{reset}");
            }
        }
    }
    if !quiet {
        for c in checks.iter().filter(|c| c.status == Status::Passed) {
            // An implicit `secret_present` check's evidence is its name: say it once.
            if c.evidence == c.name || c.evidence.is_empty() {
                let _ = writeln!(err, "{green}✓{reset} {}", c.name);
            } else {
                let _ = writeln!(err, "{green}✓{reset} {} {dim}{}{reset}", c.name, c.evidence);
            }
        }
    }
}

/// How often the console takes the run's events.
const CONSOLE_TICK: std::time::Duration = std::time::Duration::from_millis(50);

/// How often it takes them when it also hands passed scenarios to the store: each tick's
/// are written while the run goes on, what came after the last tick when the run ends. At
/// 50 ms, 40-50 % of a 100 ms run of 1,000 scenarios was left to its end.
const STORE_TICK: std::time::Duration = std::time::Duration::from_millis(10);

/// What `run` and `preflight` are given.
struct Input<'a> {
    select: &'a SelectArgs,
    env_file: Option<&'a std::path::Path>,
    allow_protected: bool,
    approvals: Option<Approvals>,
    load: LoadOptions,
}

/// What `run` and `preflight` share once the input is loaded and checked: the plan, the
/// embedded stack when the environment is `local` and a selected scenario uses it, the
/// secrets' values and the names set.
struct Ready {
    plan: Plan,
    /// The owners' clocks at `clock::now()`, when the suite has an owners file.
    clocks: Option<rehearse_report::OwnerClocks>,
    stack: Option<LocalStack>,
    secrets: Vec<String>,
    present: Vec<String>,
}

/// Loads and checks everything, reads the secrets, starts the embedded stack when a
/// selected scenario uses it. On a problem it prints it, writes the reports and gives the
/// exit code.
async fn prepare(cli: &Cli, input: &Input<'_>, run_id: &str, specs: &Reports) -> Result<Ready, u8> {
    let abort = |reason: &str, env: &str, problems: &Problems, code: u8| {
        print_problems(problems, cli.color);
        let lines = problems.iter().map(Problem::one_line).collect();
        write_reports(&aborted_result(run_id, env, reason, lines), specs);
        code
    };
    let invalid = |env: &str, p: Problem| {
        abort(
            "invalid_input",
            env,
            &Problems(vec![p]),
            exit::INVALID_INPUT,
        )
    };
    let mut loaded = match load::load(input.select, input.load) {
        Ok(l) => select(input.select, l),
        Err(problems) => {
            return Err(abort(
                "invalid_input",
                input.select.env_name(),
                &problems,
                exit::INVALID_INPUT,
            ));
        }
    };
    let env_name = loaded.environment.name.clone();
    let clocks = match &loaded.owners {
        Some(owners) => match crate::clock::now() {
            Ok(now) => Some(crate::owner_clock::clocks(owners, now)),
            Err(e) => {
                let p = Problem::new(e, None)
                    .with_help("REHEARSE_NOW fixes the instant owners' clocks are computed from");
                return Err(invalid(&env_name, p));
            }
        },
        None => None,
    };
    if loaded.environment.protected && !input.allow_protected {
        let p = Problem::new(format!("environment `{env_name}` is protected"), None)
            .with_help("pass --allow-protected if you really mean to use it");
        return Err(invalid(&env_name, p));
    }
    let env_file = match input.env_file {
        Some(path) => load::read_env_file(path).map_err(|p| invalid(&env_name, p))?,
        None => Default::default(),
    };
    if let Some(mode) = input.approvals {
        loaded.environment.approvals = approval_mode(mode);
    }
    let prompt_needed = loaded.environment.approvals == ApprovalMode::Prompt
        && loaded.scenarios.iter().any(|s| {
            s.steps
                .iter()
                .any(|st| matches!(st.action, rehearse_scenario::Action::Approve(_)))
        });
    if prompt_needed && !prompt::interactive() {
        let p = Problem::new("approval needs an operator", None).with_help(
            "approval mode `prompt` asks a person at the terminal, but this run is not interactive (no TTY, or CI is set); use --approvals http or wait",
        );
        return Err(abort(
            "environment_not_ready",
            &env_name,
            &Problems(vec![p]),
            exit::NOT_READY,
        ));
    }
    let (world, secrets, present) = world_of(env_file, &loaded.environment.secrets);
    crate::panic::mask(&secrets);
    loaded.world.set(world);
    let mut environment = loaded.environment;
    let needed = if loaded.embedded {
        crate::stack::needed_by(&loaded.scenarios, environment.approvals, &input.select.vars)
    } else {
        None
    };
    if loaded.embedded && needed.is_none() {
        tracing::debug!("embedded stack not started: no selected scenario uses it");
    }
    // Only when the stack starts: reading the built-in versions compiles their schemas,
    // work a run against absolute URLs (the 1-step benchmark) must not pay for.
    let catalog = if needed.is_some() {
        let root = load::suite_root(input.select);
        let dir = load::in_root(&root, crate::stack::SUITE_VERSIONS);
        let dirs = dir.is_dir().then_some(dir.as_path());
        match crate::stack::catalog(dirs) {
            Ok(c) => c,
            Err(e) => {
                let p = Problem::new(e, None).with_help(
                    "fix the version folder, or move it out of the suite's bank-api/ (docs/FORMAT.md, \"Bank API versions\")",
                );
                return Err(invalid(&env_name, p));
            }
        }
    } else {
        rehearse_bank_mock::Catalog::empty()
    };
    let stack = if let Some(why) = needed {
        tracing::debug!("starting the embedded stack: {why}");
        match LocalStack::start(catalog).await {
            Ok(stack) => {
                stack.fill(&mut environment);
                load::apply_vars(&mut environment, &input.select.vars);
                Some(stack)
            }
            Err(e) => {
                let p = Problem::new(e, None)
                    .with_help("this is a bug or a busy machine; run again with -vvv");
                return Err(abort(
                    "internal_error",
                    &env_name,
                    &Problems(vec![p]),
                    exit::INTERNAL,
                ));
            }
        }
    } else {
        None
    };
    Ok(Ready {
        plan: Plan::new(environment, loaded.scenarios, loaded.templates),
        clocks,
        stack,
        secrets,
        present,
    })
}

async fn preflight_command(cli: &Cli, args: &PreflightArgs) -> u8 {
    let run_id = rehearse_runner::new_run_id();
    let mut specs = match reports(&args.reports, args.report_url.as_ref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let cancel = CancellationToken::new();
    let ctrl_c = crate::signals::listen(cancel.clone(), CancellationToken::new());
    let ready = match prepare(
        cli,
        &Input {
            select: &args.select,
            env_file: args.env_file.as_deref(),
            allow_protected: args.allow_protected,
            approvals: None,
            load: LoadOptions {
                scenarios_optional: true,
            },
        },
        &run_id,
        &specs,
    )
    .await
    {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Ready {
        plan,
        clocks,
        stack,
        secrets,
        present,
    } = ready;
    specs.options.owner_clocks.clone_from(&clocks);
    let plan = Arc::new(plan);
    let checks = rehearse_runner::preflight(
        Arc::clone(&plan),
        PreflightOptions {
            run_id: run_id.clone(),
            expect_version: args.expect_version.clone(),
            secrets_present: present,
            secrets,
            cancel: cancel.clone(),
        },
    )
    .await;
    ctrl_c.abort();
    if let Some(stack) = stack {
        stack.shutdown().await;
    }
    if cancel.is_cancelled() {
        return interrupted_in_preflight(cli, &run_id, &plan, checks, &specs);
    }
    print_preflight(&checks, cli.color, cli.quiet, clocks.as_ref());
    let failed = checks
        .iter()
        .any(|c| c.status != rehearse_runner::Status::Passed);
    let mut result = aborted_result(
        &run_id,
        &plan.environment.name,
        "environment_not_ready",
        Vec::new(),
    );
    if failed {
        if let Some(a) = result.aborted.as_mut() {
            a.problems = vec!["pre-flight checks failed".to_owned()];
        }
    } else {
        result.aborted = None;
    }
    result.preflight = checks;
    write_reports(&result, &specs);
    let root = load::suite_root(&args.select);
    let (url, env_file) = (args.report_url.as_deref(), args.env_file.as_deref());
    crate::notify::after_run(&args.notify, &root, env_file, &result, url, cli.quiet).await;
    if failed {
        exit::NOT_READY
    } else {
        if result.preflight.is_empty() {
            eprintln!("pre-flight: the environment and the selected scenarios declare no checks");
        }
        exit::PASSED
    }
}

/// Stopped during pre-flight (or before it): no business step ran, so there is no cleanup
/// to do. The checks that ended are reported, the others as interrupted; exit 130.
fn interrupted_in_preflight(
    cli: &Cli,
    run_id: &str,
    plan: &Plan,
    checks: Vec<rehearse_runner::CheckResult>,
    specs: &Reports,
) -> u8 {
    print_preflight(
        &checks,
        cli.color,
        cli.quiet,
        specs.options.owner_clocks.as_ref(),
    );
    let result = RunResult {
        interrupted: true,
        scenarios: rehearse_runner::not_started(plan),
        preflight: checks,
        ..empty_result(run_id, &plan.environment.name)
    };
    write_reports(&result, specs);
    exit::INTERRUPTED
}

pub(crate) async fn run(cli: &Cli, args: &RunArgs, resumed: Option<crate::resume::Resumed>) -> u8 {
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(rehearse_runner::new_run_id);
    let mut specs = match reports(&args.reports, args.report_url.as_ref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    specs.options.shard = args.select.shard().map(|s| s.to_string());
    // Before the embedded stack starts: its platforms send their spans there too.
    let mut otlp = match crate::otlp::start(args.otlp.as_deref()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let root = load::suite_root(&args.select);
    // Opened while the suite loads (a tenth of a short run, on another core).
    let store = match crate::store::RunStore::opening(&args.store, &root) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // Listen from the start: a Ctrl-C, SIGTERM or SIGHUP while the stack starts or
    // pre-flight runs still ends with reports, not a killed process.
    let cancel = CancellationToken::new();
    let quit = CancellationToken::new();
    // SIGTERM while a scenario of a resumable run waits suspends it (#12 §2).
    let suspension = Arc::new(rehearse_runner::Suspension::new());
    let ctrl_c =
        crate::signals::listen_suspending(cancel.clone(), quit.clone(), Some(suspension.clone()));
    let ready = match prepare(
        cli,
        &Input {
            select: &args.select,
            env_file: args.env_file.as_deref(),
            allow_protected: args.allow_protected,
            approvals: args.approvals,
            load: LoadOptions::default(),
        },
        &run_id,
        &specs,
    )
    .await
    {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Ready {
        mut plan,
        clocks,
        stack,
        secrets,
        present,
    } = ready;
    let mut store = store.opened().await;
    specs.options.owner_clocks.clone_from(&clocks);
    let approval_timeout = plan.environment.approval_timeout;
    if plan.environment.approvals == ApprovalMode::Prompt {
        plan.approver = Some(Arc::new(prompt::PromptApprover::terminal(approval_timeout)));
    }
    let plan = Arc::new(plan);

    // Pre-flight: every check once, all of them, before any business step.
    let checks = rehearse_runner::preflight(
        Arc::clone(&plan),
        PreflightOptions {
            run_id: run_id.clone(),
            expect_version: args.expect_version.clone(),
            secrets_present: present,
            secrets: secrets.clone(),
            cancel: cancel.clone(),
        },
    )
    .await;
    if cancel.is_cancelled() {
        ctrl_c.abort();
        if let Some(stack) = stack {
            stack.shutdown().await;
        }
        return interrupted_in_preflight(cli, &run_id, &plan, checks, &specs);
    }
    if checks
        .iter()
        .any(|c| c.status != rehearse_runner::Status::Passed)
    {
        print_preflight(&checks, cli.color, cli.quiet, clocks.as_ref());
        let mut result = aborted_result(
            &run_id,
            &plan.environment.name,
            "environment_not_ready",
            vec!["pre-flight checks failed; no business step ran".to_owned()],
        );
        result.preflight = checks;
        let none = std::collections::BTreeSet::new();
        let mut meta = crate::store::meta(&store, &result, &root, &plan, exit::NOT_READY, &none);
        meta.shard = crate::store::shard_of(args.select.shard());
        specs.options.trends = store
            .record(&result, &meta, specs.want_trends(), &none)
            .await;
        specs.options.verified_fixed = store.verified_fixed(&result).await;
        crate::store::print_verified_fixed(&specs.options.verified_fixed, cli.quiet);
        write_reports(&result, &specs);
        if let Some(stack) = stack {
            stack.shutdown().await;
        }
        let (url, env_file) = (args.report_url.as_deref(), args.env_file.as_deref());
        crate::notify::after_run(&args.notify, &root, env_file, &result, url, cli.quiet).await;
        return exit::NOT_READY;
    }
    if !checks.is_empty() && !cli.quiet {
        print_preflight(&checks, cli.color, cli.quiet, clocks.as_ref());
    }
    let mut options = RunOptions::new();
    options.run_id.clone_from(&run_id);
    options.fail_fast = args.fail_fast;
    options.secrets = secrets;
    options.quit = quit;
    // Each created resource is recorded before its scenario's next step (#12 §3).
    options.recorder = store
        .start_ledger(&run_id, &plan.environment.name, &root)
        .await;
    if let Some(j) = args.jobs {
        options.jobs = j.max(1);
    }
    let (embedded, s) = (stack.is_some(), &suspension);
    let resumable = crate::resume::prepare_run(
        &mut store,
        args,
        &plan,
        &root,
        embedded,
        resumed,
        s,
        &mut options,
    )
    .await;
    // Passed scenarios are written while the run goes on (#12, "Speed").
    let mut streamer = store.streamer(&run_id, &plan, args.select.shard().is_some());

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let console_options = ConsoleOptions::new()
        .color(match cli.color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        })
        .verbosity(Verbosity::from_flags(cli.quiet, cli.verbose));
    // The console takes the events in batches, 20 times a second: waking it for every
    // event (three a step) would cost the runner a cross-thread wake-up each, and a person
    // reads no faster. Everything is still printed, in order; the last batch when the run
    // ends.
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let console_clocks = clocks.clone();
    let console = tokio::spawn(async move {
        let mut reporter =
            ConsoleReporter::stdout(console_options).with_owner_clocks(console_clocks);
        let every = if streamer.is_some() {
            STORE_TICK
        } else {
            CONSOLE_TICK
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // The run's end does not wait for the next tick.
            let last = tokio::select! {
                _ = tick.tick() => false,
                _ = &mut done_rx => true,
            };
            loop {
                match rx.try_recv() {
                    Ok(event) => {
                        if let Err(e) = reporter.handle(&event) {
                            tracing::warn!("console output failed: {e}");
                        }
                        if let Some(o) = otlp.as_mut() {
                            o.handle(&event);
                        }
                        if let Some(w) = streamer.as_mut() {
                            w.handle(event);
                        }
                    }
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) if !last => {
                        // What passed since the last tick is written in one transaction.
                        if let Some(w) = streamer.as_mut() {
                            w.flush();
                        }
                        break;
                    }
                    Err(_) => return (otlp, streamer),
                }
            }
        }
    });
    let retry = crate::retry::RetryOptions {
        times: args.retry_failed,
        run_id: run_id.clone(),
        jobs: options.jobs,
        secrets: options.secrets.clone(),
        quit: options.quit.clone(),
        recorder: options.recorder.clone(),
        console: console_options,
    };
    let outcome = rehearse_runner::run(Arc::clone(&plan), options, tx, cancel.clone()).await;
    let _ = done_tx.send(());
    let (otlp, streamer) = console.await.unwrap_or_default();
    // Before a retry, which needs the plan the streamer shares back to itself.
    let written = match streamer {
        Some(s) => s.finish().await,
        None => std::collections::BTreeSet::new(),
    };
    let (plan, outcome) = match outcome {
        Ok(r) if retry.times > 0 && !r.passed() && !suspension.suspended() => {
            let (plan, r) =
                crate::retry::retry_failed(plan, Arc::unwrap_or_clone(r), &retry, &cancel).await;
            (plan, Ok(Arc::new(r)))
        }
        other => (plan, other),
    };
    ctrl_c.abort();
    if let Some(stack) = stack {
        stack.shutdown().await;
    }
    // After the stack: its platforms flushed their spans as they stopped.
    crate::otlp::finish(otlp, cli.quiet).await;
    let result = match outcome {
        // The console is done with the copy its last event shared: no clone.
        Ok(r) => Arc::unwrap_or_clone(r),
        Err(e) => {
            let p = Problem::new(e.to_string(), None)
                .with_help("check the TLS files of the environment");
            print_problems(&Problems(vec![p.clone()]), cli.color);
            let env = &plan.environment.name;
            write_reports(
                &aborted_result(&run_id, env, "invalid_input", vec![p.one_line()]),
                &specs,
            );
            return exit::INVALID_INPUT;
        }
    };
    let mut result = result;
    result.preflight = checks;
    let code = crate::resume::code(&suspension, exit::of_run(&result, true));
    let mut meta = crate::store::meta(&store, &result, &root, &plan, code, &written);
    meta.shard = crate::store::shard_of(args.select.shard());
    specs.options.trends = store
        .record(&result, &meta, specs.want_trends(), &written)
        .await;
    crate::resume::after_record(&store, &run_id, resumable, &suspension).await;
    specs.options.verified_fixed = store.verified_fixed(&result).await;
    crate::store::print_verified_fixed(&specs.options.verified_fixed, cli.quiet);
    let written = write_reports(&result, &specs);
    let (url, env_file) = (args.report_url.as_deref(), args.env_file.as_deref());
    crate::notify::after_run(&args.notify, &root, env_file, &result, url, cli.quiet).await;
    let code = store.exit_code(exit::of_run(&result, written));
    crate::resume::finish(&suspension, &run_id, code)
}
