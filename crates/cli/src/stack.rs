//! The embedded local stack: the bank mock (virtual clock) and the sample platform, one
//! instance per bank API version, in-process on free loopback ports.

use std::path::Path;
use std::time::Duration;

use rehearse_bank_mock::{ApiVersion, BankMock, Catalog, Credentials, RunningBank};
use rehearse_sample_platform::{BankApiVersion, Config, RunningPlatform};
use rehearse_scenario::{
    Action, ApprovalMode, ClockKind, Environment, Job, Scenario, Tpl, TplValue,
};

/// The name of the built-in environment.
pub(crate) const LOCAL: &str = "local";

/// The suite's own bank API versions, served by the embedded bank beside the built-in
/// ones: `bank-api/vN/` at the suite's root.
pub(crate) const SUITE_VERSIONS: &str = "bank-api";

/// The versions the embedded bank serves: the built-in ones, then every folder of `dirs`
/// that exists (a `vN` there replaces the built-in `vN`). A broken folder is invalid input.
pub(crate) fn catalog<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Result<Catalog, String> {
    let mut catalog = Catalog::builtin();
    for dir in dirs {
        catalog = catalog.with_dir(dir).map_err(|e| e.to_string())?;
    }
    Ok(catalog)
}

/// The platform's status poller, as the environment declares it.
const POLLER: &str = "bank-status-poller";
/// Its schedule: every 5 minutes (bank time, fired by `advance_clock`).
const POLL_CRON: &str = "0 */5 * * * *";
/// The platform's real schedule in the embedded stack: once a year, so a real tick never
/// lands in the middle of a run.
const WALL_CLOCK_CRON: &str = "0 0 0 1 1 *";

const VERSIONS: [(&str, BankApiVersion, ApiVersion); 4] = [
    ("v1", BankApiVersion::V1, ApiVersion::V1),
    ("v2", BankApiVersion::V2, ApiVersion::V2),
    ("v3", BankApiVersion::V3, ApiVersion::V3),
    ("v4", BankApiVersion::V4, ApiVersion::V4),
];

/// The vars whose values are the running stack's URLs (`bank_api_version` is a constant).
const URL_VARS: [&str; 7] = [
    "platform",
    "platform_v1",
    "platform_v2",
    "platform_v3",
    "platform_v4",
    "bank",
    "bank_admin",
];

/// Why the selected scenarios need the embedded stack, or `None` when none does: a
/// scenario reads one of its URL vars (not set by `--var`), approves through the bank
/// mock's back office, advances the bank's clock, or polls (a poll on the virtual clock
/// moves bank time between attempts). A suite that only talks to absolute URLs pays
/// neither the start (about 30 ms) nor the stop of a bank and four platforms.
pub(crate) fn needed_by(
    scenarios: &[Scenario],
    approvals: ApprovalMode,
    overridden: &[(String, String)],
) -> Option<String> {
    let by_flag = |v: &str| overridden.iter().any(|(k, _)| k == v);
    for s in scenarios {
        if let Some(var) = s
            .reads
            .iter()
            .find(|r| URL_VARS.contains(&r.as_str()) && !by_flag(r))
        {
            return Some(format!("{} reads `{var}`", s.path.display()));
        }
        // Approvals and the clock go through the back office at `bank_admin`.
        if by_flag("bank_admin") {
            continue;
        }
        for step in s.steps.iter().chain(&s.cleanup) {
            let why = match &step.action {
                Action::Approve(_) if approvals == ApprovalMode::Mock => "approves",
                Action::AdvanceClock(_) => "advances the clock",
                Action::Request(_) if step.poll.is_some() => "polls on the virtual clock",
                _ => continue,
            };
            return Some(format!("{} {why} (step `{}`)", s.path.display(), step.name));
        }
    }
    None
}

/// The URLs of a running stack (or placeholders, for validation).
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    pub(crate) bank: String,
    /// Platform base URL per bank API version, v1..v4.
    pub(crate) platforms: Vec<(String, String)>,
}

impl Urls {
    fn placeholder() -> Self {
        Self {
            bank: "http://127.0.0.1:0".to_owned(),
            platforms: VERSIONS
                .iter()
                .map(|(v, _, _)| ((*v).to_owned(), "http://127.0.0.1:0".to_owned()))
                .collect(),
        }
    }
}

/// The built-in `local` environment. Its var names are fixed, so scenarios are checked
/// against it before anything starts; [`LocalStack::fill`] puts in the real URLs.
pub(crate) fn local_environment() -> Environment {
    let mut env = Environment::new(LOCAL);
    env.description = Some(
        "embedded stack: bank mock (virtual clock) + sample platform per bank API version"
            .to_owned(),
    );
    env.clock = ClockKind::Virtual;
    env.approvals = ApprovalMode::Mock;
    env.request_timeout = Duration::from_secs(10);
    env.poll_timeout = Duration::from_secs(60);
    set_urls(&mut env, &Urls::placeholder());
    env
}

fn set_urls(env: &mut Environment, urls: &Urls) {
    let s = |v: &str| TplValue::Json(serde_json::Value::String(v.to_owned()));
    let default_platform = urls
        .platforms
        .iter()
        .find(|(v, _)| v == "v2")
        .map_or_else(String::new, |(_, u)| u.clone());
    let mut vars = vec![
        ("platform".to_owned(), s(&default_platform)),
        ("bank".to_owned(), s(&urls.bank)),
        (
            "bank_admin".to_owned(),
            s(&format!("{}/__admin", urls.bank)),
        ),
        // `platform` speaks v2; `platform_v1`…`_v4` one version each.
        (
            "bank_api_version".to_owned(),
            s("v2 (v1, v3 and v4 through platform_v1, platform_v3, platform_v4)"),
        ),
    ];
    for (v, u) in &urls.platforms {
        vars.push((format!("platform_{v}"), s(u)));
    }
    env.vars = vars;
    env.jobs = urls
        .platforms
        .iter()
        .map(|(v, u)| Job {
            name: format!("{POLLER} ({v})"),
            cron: POLL_CRON.to_owned(),
            trigger: Tpl::literal(format!("{u}/internal/jobs/{POLLER}/run")),
        })
        .collect();
}

/// A running local stack. It runs on a runtime of its own, on its own threads, as the
/// system under test would in its own processes: the harness's runtime keeps one worker
/// (see `lib.rs`), and the stack's work does not wait behind the harness's or the other
/// way round.
pub(crate) struct LocalStack {
    credentials: Credentials,
    pub(crate) urls: Urls,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The stack's parts, owned by its runtime's thread.
struct Parts {
    bank: RunningBank,
    platforms: Vec<RunningPlatform>,
}

impl LocalStack {
    /// Starts the bank mock (every version of `catalog`, virtual clock) and one platform
    /// per version it speaks, on free ports.
    pub(crate) async fn start(catalog: Catalog) -> Result<Self, String> {
        Self::start_on(None, catalog).await
    }

    /// Like [`start`](Self::start); with `Some(n)`, the bank listens on `n` and the
    /// platforms for bank API v1, v2, v3, v4 on `n+1`, `n+2`, `n+3`, `n+4`.
    pub(crate) async fn start_on(port: Option<u16>, catalog: Catalog) -> Result<Self, String> {
        let ports = match port {
            None => [0; 5],
            Some(n) => {
                let at = |i: u16| {
                    n.checked_add(i).ok_or_else(|| {
                        format!("--port {n} leaves no room for the four platforms (n+1..n+4 must be ports below 65536)")
                    })
                };
                [n, at(1)?, at(2)?, at(3)?, at(4)?]
            }
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("embedded-stack".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .thread_name("embedded-stack")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!(
                            "failed to start the embedded stack's runtime: {e}"
                        )));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Parts::start(ports, catalog).await {
                        Ok(parts) => {
                            let info = (parts.bank.credentials().clone(), parts.urls());
                            if ready_tx.send(Ok(info)).is_ok() {
                                // Until told to stop, or until the harness is gone.
                                let _ = stop_rx.await;
                            }
                            parts.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(|e| format!("failed to start the embedded stack's thread: {e}"))?;
        let (credentials, urls) = ready_rx
            .await
            .map_err(|_| "the embedded stack stopped while starting".to_owned())??;
        Ok(Self {
            credentials,
            urls,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Puts the stack's URLs into the environment.
    pub(crate) fn fill(&self, env: &mut Environment) {
        set_urls(env, &self.urls);
    }

    /// The credentials the bank accepts (shown by `rehearse up`).
    pub(crate) fn credentials(&self) -> String {
        let c = &self.credentials;
        format!(
            "api key {} · client id {} · client secret {}",
            c.api_key, c.client_id, c.client_secret
        )
    }

    /// An environment file (YAML) for this running stack: `rehearse run --env FILE`
    /// from another process runs against it as against the built-in `local`.
    pub(crate) fn environment_file(&self) -> String {
        let mut env = local_environment();
        self.fill(&mut env);
        let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
        let mut out = String::from(
            "# Written by `rehearse up` for the stack it is running; stale once that stack stops.\n",
        );
        out.push_str(&format!(
            "description: {}\n",
            q("rehearse up: bank mock (virtual clock) + sample platform per bank API version")
        ));
        out.push_str("vars:\n");
        for (k, v) in &env.vars {
            if let TplValue::Json(serde_json::Value::String(s)) = v {
                out.push_str(&format!("  {k}: {}\n", q(s)));
            }
        }
        out.push_str(&format!(
            "timeouts:\n  request: {}\n  poll: {}\n",
            humantime::format_duration(env.request_timeout),
            humantime::format_duration(env.poll_timeout)
        ));
        out.push_str("clock: virtual\napprovals:\n  mode: mock\njobs:\n");
        for (v, u) in &self.urls.platforms {
            out.push_str(&format!(
                "  - name: {}\n    cron: {}\n    trigger: {}\n",
                q(&format!("{POLLER} ({v})")),
                q(POLL_CRON),
                q(&format!("{u}/internal/jobs/{POLLER}/run"))
            ));
        }
        out
    }

    /// Stops everything and waits until it has stopped.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Parts {
    async fn start(ports: [u16; 5], catalog: Catalog) -> Result<Self, String> {
        let bank = BankMock::builder()
            .catalog(catalog)
            .port(ports[0])
            .start()
            .await
            .map_err(|e| format!("failed to start the bank mock: {e}"))?;
        let creds = bank.credentials().clone();
        // The webhooks' signing secret: new for every run, shared by the bank and the
        // platforms in-process, never printed.
        let webhook_secret = format!("whsec_{}", uuid::Uuid::new_v4().simple());
        let mut platforms = Vec::new();
        for ((name, version, api), port) in VERSIONS.into_iter().zip(&ports[1..]) {
            let config = Config {
                port: *port,
                bank_base_url: Some(bank.base_url().to_owned()),
                bank_api_key: Some(creds.api_key.clone()),
                bank_client_id: Some(creds.client_id.clone()),
                bank_client_secret: Some(creds.client_secret.clone()),
                bank_api_version: version,
                // The platform's own scheduler runs on the wall clock: keep it registered
                // (as in production) but let `advance_clock` fire it at simulated times.
                poll_schedule: WALL_CLOCK_CRON.to_owned(),
                bank_webhook_secret: Some(webhook_secret.clone()),
                // `run --otlp`: the platform's spans join the run's traces.
                otlp_endpoint: crate::otlp::endpoint(),
                ..Config::default()
            };
            let p = rehearse_sample_platform::start(config)
                .await
                .map_err(|e| format!("failed to start the sample platform ({name}): {e}"))?;
            // Its version's status changes go to its receiver beside its poller.
            if bank.sends_webhooks(api) {
                let receiver = format!("{}/webhooks/bank", p.base_url());
                bank.add_webhook(api, &receiver, &webhook_secret)
                    .map_err(|e| {
                        format!("failed to send webhooks to the platform ({name}): {e}")
                    })?;
            }
            platforms.push(p);
        }
        Ok(Self { bank, platforms })
    }

    fn urls(&self) -> Urls {
        Urls {
            bank: self.bank.base_url().to_owned(),
            platforms: VERSIONS
                .iter()
                .zip(&self.platforms)
                .map(|((name, _, _), p)| ((*name).to_owned(), p.base_url()))
                .collect(),
        }
    }

    async fn shutdown(self) {
        for p in self.platforms {
            p.shutdown().await;
        }
        self.bank.shutdown().await;
    }
}
