//! `sample-platform`: the reference platform as a service. Configured by environment variables
//! (see the library docs); prints its URL, serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use rehearse_sample_platform::{Config, shutdown_signal, start};

/// The platform ran and stopped on a signal.
const EXIT_OK: u8 = 0;
/// It could not start (bind, scheduler).
const EXIT_START_FAILED: u8 = 1;
/// An environment variable is malformed.
const EXIT_BAD_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sample-platform: failed to read the configuration: {e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let platform = match start(config).await {
        Ok(platform) => platform,
        Err(e) => {
            eprintln!("sample-platform: failed to start: {e}");
            return ExitCode::from(EXIT_START_FAILED);
        }
    };
    println!("sample-platform listening on {}", platform.base_url());
    shutdown_signal().await;
    platform.shutdown().await;
    ExitCode::from(EXIT_OK)
}
