//! `rehearse mock-bank`: the flags and the serve loop (the binary wires them in).

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rehearse_status_sim::AutoDecide;

use crate::contract::{Auth, Catalog};
use crate::server::{
    ClockMode, DEFAULT_API_KEY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REVIEW_THRESHOLD,
    DEFAULT_SEED,
};
use crate::{ApiVersion, BankMock, Error, RunningBank};
use rehearse_contract::Origin;

/// What happens to payments in review that nobody decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AutoDecideArg {
    /// Approve them `--after` the delay.
    Approve,
    /// Reject them `--after` the delay.
    Reject,
    /// Leave them for a reviewer (the admin API).
    Never,
}

/// Flags of `rehearse mock-bank`.
#[derive(clap::Args, Debug, Clone)]
pub struct MockBankArgs {
    /// Port to listen on (0 picks a free port).
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// API versions to serve, comma-separated (default: every version, built in or from
    /// `--versions`).
    #[arg(long = "api", value_delimiter = ',')]
    pub api: Vec<ApiVersion>,
    /// A folder of the team's own API versions (`v5/manifest.json`, …), or one version
    /// folder, served beside the built-in v1-v4; a folder `v2/` replaces the built-in v2.
    /// Repeatable. A malformed folder is invalid input (exit 3) naming the file and field.
    #[arg(long = "versions", value_name = "DIR", env = "REHEARSE_BANK_VERSIONS")]
    pub versions: Vec<std::path::PathBuf>,
    /// API key v1 and v2 accept (`Authorization: Bearer KEY`).
    #[arg(long, default_value = DEFAULT_API_KEY)]
    pub api_key: String,
    /// OAuth client id accepted by POST /oauth/token (v3).
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// OAuth client secret accepted by POST /oauth/token (v3).
    #[arg(long, default_value = DEFAULT_CLIENT_SECRET)]
    pub client_secret: String,
    /// Seed of payment references and tokens (same seed and calls, same ids).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Payments at or above this amount (currency units) wait for manual review.
    #[arg(long, default_value = DEFAULT_REVIEW_THRESHOLD)]
    pub review_threshold: String,
    /// Decide reviews unattended: approve or reject `--after` a delay of bank time, or never.
    #[arg(long, value_enum, default_value_t = AutoDecideArg::Never)]
    pub auto_decide: AutoDecideArg,
    /// Bank-time delay before `--auto-decide` acts (e.g. 30m, 4h).
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    pub after: Duration,
    /// Bank time: `realtime` follows the wall clock (and POST /__admin/clock/advance jumps
    /// ahead); `manual` moves only through the admin API.
    #[arg(long, value_enum, default_value_t = ClockMode::Realtime)]
    pub clock: ClockMode,
    /// When settlement batches run (6-field cron, bank time). Every second (`* * * * * *`)
    /// makes a real-time rehearsal settle at once.
    #[arg(long, default_value = "0 0 * * * *")]
    pub settlement_cron: String,
    /// `record`: record a version from a real bank instead of serving the mock.
    #[command(subcommand)]
    pub command: Option<crate::record::MockBankCommand>,
    /// Send the status-change webhooks of every version that has them to this URL (a
    /// platform's receiver, e.g. http://127.0.0.1:8080/webhooks/bank), signed with the
    /// secret in `--webhook-secret-env`. Platforms can also register through
    /// `POST /{version}/webhooks`.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The environment variable holding the webhook signing secret (never printed).
    #[arg(long, value_name = "NAME", default_value = "REHEARSE_WEBHOOK_SECRET")]
    pub webhook_secret_env: String,
}

impl MockBankArgs {
    /// The built-in versions and those of every `--versions` folder.
    pub fn catalog(&self) -> Result<Catalog, Error> {
        let mut catalog = Catalog::builtin();
        for dir in &self.versions {
            catalog = catalog.with_dir(dir)?;
        }
        Ok(catalog)
    }

    fn builder(&self) -> Result<crate::BankMockBuilder, Error> {
        let auto_decide = match self.auto_decide {
            AutoDecideArg::Never => AutoDecide::Never,
            AutoDecideArg::Approve => AutoDecide::Approve { after: self.after },
            AutoDecideArg::Reject => AutoDecide::Reject { after: self.after },
        };
        let mut builder = BankMock::builder().catalog(self.catalog()?);
        if !self.api.is_empty() {
            builder = builder.versions(self.api.iter().copied());
        }
        if let Some(url) = &self.webhook_url {
            let secret = std::env::var(&self.webhook_secret_env)
                .ok()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "--webhook-url needs the signing secret in the environment variable {} (see --webhook-secret-env)",
                        self.webhook_secret_env
                    ))
                })?;
            builder = builder.webhook(None, url, secret);
        }
        Ok(builder
            .host(self.host)
            .port(self.port)
            .api_key(&self.api_key)
            .client(&self.client_id, &self.client_secret)
            .seed(self.seed)
            .review_threshold(&self.review_threshold)
            .auto_decide(auto_decide)
            .clock_mode(self.clock)
            .settlement_cron(&self.settlement_cron))
    }
}

/// Print where the bank is and what it accepts.
pub fn write_banner(
    bank: &RunningBank,
    args: &MockBankArgs,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let base = bank.base_url();
    writeln!(out, "rehearse bank mock is listening")?;
    writeln!(out, "  base URL:   {base}")?;
    writeln!(out, "  admin URL:  {}", bank.admin_url())?;
    let versions: Vec<String> = bank
        .origins()
        .iter()
        .map(|(v, origin)| match origin {
            Origin::BuiltIn => format!("{v} at {base}/{v}"),
            Origin::Dir(dir) => format!("{v} at {base}/{v} (from {})", dir.display()),
        })
        .collect();
    writeln!(out, "  APIs:       {}", versions.join(", "))?;
    let mut key_versions = Vec::new();
    let mut oauth_versions = Vec::new();
    for v in bank.versions() {
        match bank.auth(v) {
            Some(Auth::ApiKey) => key_versions.push(v.to_string()),
            Some(Auth::OauthClientCredentials) => oauth_versions.push(v.to_string()),
            None => {}
        }
    }
    let creds = bank.credentials();
    writeln!(out, "  credentials:")?;
    if !key_versions.is_empty() {
        writeln!(
            out,
            "    API key ({}): Authorization: Bearer {}",
            key_versions.join(", "),
            creds.api_key
        )?;
    }
    if !oauth_versions.is_empty() {
        writeln!(
            out,
            "    OAuth client ({}): client_id={} client_secret={} (POST {})",
            oauth_versions.join(", "),
            creds.client_id,
            creds.client_secret,
            bank.token_url()
        )?;
    }
    let policy = match args.auto_decide {
        AutoDecideArg::Never => {
            "never (decide with POST /__admin/reviews/{id}/decision)".to_owned()
        }
        AutoDecideArg::Approve => {
            format!("approve after {}", humantime::format_duration(args.after))
        }
        AutoDecideArg::Reject => format!("reject after {}", humantime::format_duration(args.after)),
    };
    writeln!(
        out,
        "  review threshold: {}; auto-decide: {policy}",
        args.review_threshold
    )?;
    writeln!(
        out,
        "  bank clock: {} ({}), settlement batches at cron `{}`",
        bank.clock()
            .now()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        match args.clock {
            ClockMode::Realtime => "follows the wall clock",
            ClockMode::Manual => "moves only through POST /__admin/clock/advance",
        },
        args.settlement_cron
    )?;
    if let Some(url) = &args.webhook_url {
        writeln!(
            out,
            "  webhooks: to {url}, signed with the secret in ${}",
            args.webhook_secret_env
        )?;
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()
}

/// Start the bank, print its URLs and credentials, and serve until `stop` completes.
pub async fn serve_until(
    args: MockBankArgs,
    out: &mut dyn std::io::Write,
    stop: impl Future<Output = ()>,
) -> Result<(), Error> {
    let bank = args.builder()?.start().await?;
    write_banner(&bank, &args, out)?;
    stop.await;
    bank.shutdown().await;
    writeln!(out, "bank mock stopped")?;
    Ok(())
}

/// Start the bank, print its URLs and credentials, and serve until Ctrl-C.
pub async fn serve_until_ctrl_c(
    args: MockBankArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), Error> {
    serve_until(args, out, async {
        // If the signal handler cannot be installed, serve until the process is killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
}
