//! The `rehearse` command: parses flags, loads and checks the input, runs, reports, and
//! maps the outcome to a documented exit code (see [`exit`]).

pub mod args;
mod clock;
mod commands;
mod contract;
mod countdown;
pub mod exit;
pub mod history;
pub mod ledger;
mod load;
mod logs;
pub mod notify;
mod otlp;
mod owner_clock;
mod panic;
mod prompt;
mod record;
mod resume;
mod retry;
mod schedule;
mod signals;
mod stack;
pub mod store;
mod tree_cache;

use std::process::ExitCode;

/// jemalloc rather than the system allocator: the embedded and standalone bank mock churn
/// through payments, idempotency entries and journal entries, which fragmented glibc's
/// free lists until every allocation was slow (issue #10; see docs/DESIGN-NOTES.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use clap::Parser;
use clap::error::ErrorKind;

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(flag_error(&e)),
    };
    init_tracing(&cli);
    panic::install();
    // Where long files' parsed trees are kept; nothing is looked up until one is loaded.
    tree_cache::install();
    // One thread: a run is a few sequential flows or many waiting on the network. Every
    // thread more costs responses cross-thread wake-ups: a 1,000-request flow took 15-40 %
    // longer on two workers than on one, and one worker beside the main thread ~10 % longer
    // than this current-thread runtime (docs/BENCHMARKS.md, "#10: process start and one
    // thread"). Blocking work (the store, prompts) goes to tokio's blocking threads; the
    // embedded stack runs on a runtime of its own (`stack.rs`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    ExitCode::from(runtime.block_on(commands::dispatch(cli)))
}

/// Prints clap's message and gives the exit code: `--help` and `--version` are a success;
/// every other flag error is invalid input (exit 3), not clap's 2, which CI would read as
/// "environment not ready".
fn flag_error(e: &clap::Error) -> u8 {
    let _ = e.print();
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => exit::PASSED,
        _ => exit::INVALID_INPUT,
    }
}

fn init_tracing(cli: &args::Cli) {
    // Logs go to stderr, masked (logs.rs). -vvv turns on debug logs of rehearse itself; RUST_LOG wins.
    // The embedded stack's own logs (bank mock, sample platform) are the system under
    // test's business: shown from -vvv on, or with RUST_LOG.
    let default = match cli.verbose {
        0..=2 => "warn,rehearse_sample_platform=off,rehearse_bank_mock=off,rehearse_status_sim=off",
        _ => {
            "rehearse=debug,rehearse_runner=debug,rehearse_sample_platform=info,rehearse_bank_mock=info,warn"
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(logs::MaskedStderr)
        .with_ansi(false)
        .try_init();
}
