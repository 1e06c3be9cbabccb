//! `--notify` and `rehearse notify` (#13): reads `.rehearse/notify.json`, asks
//! [`rehearse_notify::plan`] who is told what at [`clock::now`](crate::clock::now), sends
//! each message to each of the recipient's contacts, and writes the state back.
//!
//! - A contact's URL is read from the secret it names, the way the environment's secrets
//!   are read (the `--env-file` wins over the process environment). It is learnt by the
//!   log redactor and never printed: a failed delivery names the owner, the contact's kind
//!   and the secret's name, and says why (`HTTP 500`, `connection refused`), never the URL
//!   (reqwest's errors carry it, so they are never shown).
//! - A delivery is retried [`ATTEMPTS`] times on a transport error, a 5xx or a 429, with a
//!   short backoff, each attempt bounded by [`ATTEMPT_TIMEOUT`]: at most about 17 s per
//!   contact, the contacts in parallel. A message no contact took goes back in the queue.
//! - Nothing here changes a run's exit code.
//!
//! For the countdown: [`Notifier::deliver`] sends one owner their failures plus extra
//! lines, at once (no dedupe, no deferral: the caller decides when).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Args;
use rehearse_notify::{Failure, FailureKind, Item, Message, Policy, Seen, State};
use rehearse_owners::{Contact, ContactKind, Owners};
use rehearse_runner::{RunResult, Status};

use crate::exit;

/// Where the state lives, under the suite's root.
pub(crate) const STATE_FILE: &str = ".rehearse/notify.json";

/// Tries per contact and message.
pub(crate) const ATTEMPTS: u32 = 3;

/// The longest one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// The wait before the second attempt; doubled before each next one.
const BACKOFF: Duration = Duration::from_millis(250);

/// The longest a 429's `Retry-After` is honoured for before the next attempt.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A message that no contact took is tried again after this (or by the next run that
/// still fails, whichever comes first).
const RETRY_LATER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The largest state file read (a bigger one is set aside and started afresh).
const MAX_STATE_BYTES: u64 = 16 * 1024 * 1024;

/// How often `rehearse notify` without `--once` looks for what is due.
const POLL: Duration = Duration::from_secs(60);

/// `--notify`, `--notify-every`, `--urgent` (on `run`, `preflight`, and `schedule`'s runs).
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// Tell each owner with failures, once, through their contacts in owners.yaml (Slack
    /// or JSON webhooks): in their working hours, else at the start of their next ones;
    /// their escalation owner after the escalation's delay. Never changes the exit code.
    #[arg(long)]
    pub notify: bool,
    /// Do not send the same failure to the same owner again within this (e.g. 12h, 90m).
    #[arg(long, value_name = "DURATION", default_value = "12h", value_parser = humantime::parse_duration)]
    pub notify_every: Duration,
    /// Send to owners outside their working hours now rather than at the start of their
    /// next working hours.
    #[arg(long, requires = "notify")]
    pub urgent: bool,
}

/// `rehearse notify`.
#[derive(Debug, Args)]
pub struct NotifyCommandArgs {
    /// The suite's root, where owners.yaml and .rehearse/notify.json are (default: the
    /// nearest folder upward from the current one that holds scenarios/ or environments/;
    /// else the current folder).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Read the contacts' secrets from this dotenv file (it wins over the process
    /// environment).
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Send what is due and exit (for a cron or CI job). Without it: look every minute
    /// until SIGTERM or Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

/// Sends messages to owners' contacts.
#[derive(Debug)]
pub struct Notifier {
    owners: Owners,
    env_file: HashMap<String, String>,
    client: Option<reqwest::Client>,
    quiet: bool,
}

/// Where failures handed to [`Notifier::deliver`] were seen.
#[derive(Debug, Clone, Copy)]
pub struct SeenIn<'a> {
    /// The environment.
    pub environment: &'a str,
    /// The run's id.
    pub run_id: &'a str,
    /// Its published report (`--report-url`).
    pub report_url: Option<&'a str>,
}

impl Notifier {
    /// A notifier for `owners`, reading contact secrets from `env_file` first, then from
    /// the process environment.
    pub fn new(owners: Owners, env_file: HashMap<String, String>, quiet: bool) -> Self {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rehearse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                eprintln!(
                    "warning: notify: failed to build an HTTP client: {}",
                    e.without_url()
                )
            })
            .ok();
        Self {
            owners,
            env_file,
            client,
            quiet,
        }
    }

    /// Reads the suite's owners and the env file for `--notify` / `rehearse notify`; says
    /// why not on stderr.
    pub fn for_suite(root: &Path, env_file: Option<&Path>, quiet: bool) -> Option<Self> {
        let owners = match crate::load::load_suite_owners(root) {
            Ok(Some(o)) => o,
            Ok(None) => {
                eprintln!(
                    "warning: notify: no {} in the suite's root ({}): nobody to tell",
                    rehearse_scenario::OWNERS_FILE,
                    root.display()
                );
                return None;
            }
            Err(problems) => {
                crate::commands::print_problems(&problems, crate::args::Color::Never);
                return None;
            }
        };
        let env = match env_file {
            Some(path) => match crate::load::read_env_file(path) {
                Ok(map) => map,
                Err(p) => {
                    eprintln!("warning: notify: {}", p.one_line());
                    HashMap::new()
                }
            },
            None => HashMap::new(),
        };
        Some(Self::new(owners, env, quiet))
    }

    /// The owners it sends to.
    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// Sends `owner` one message made of `failures` (seen in `seen`) and `extra_lines`
    /// (said first), through each of their contacts, now. True when at least one contact
    /// took it. Failed contacts are reported on stderr. For the countdown: it decides when
    /// to send; this does not look at working hours or at what was sent before.
    pub async fn deliver(
        &self,
        owner: &str,
        failures: &[Failure],
        extra_lines: &[String],
        seen: SeenIn<'_>,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(o) = self.owners.get(owner) else {
            eprintln!("warning: notify: `{owner}` is not in owners.yaml: nothing sent");
            return false;
        };
        let items = failures
            .iter()
            .map(|f| Item {
                failure: f.clone(),
                environment: seen.environment.to_owned(),
                run_id: seen.run_id.to_owned(),
                report_url: seen.report_url.map(str::to_owned),
                escalated_from: None,
            })
            .collect();
        let message = Message::new(o, items, extra_lines.to_vec(), now);
        self.send(&message).await
    }

    /// Sends `message` to every contact of its recipient; true when one took it.
    async fn send(&self, message: &Message) -> bool {
        let Some(owner) = self.owners.get(&message.recipient.owner) else {
            return false;
        };
        if owner.contacts.is_empty() {
            eprintln!(
                "warning: notify: {} has no contacts in owners.yaml: nothing sent",
                owner.name
            );
            return false;
        }
        let sends = owner
            .contacts
            .iter()
            .map(|c| self.send_to(&owner.name, c, message));
        let results = futures::future::join_all(sends).await;
        let took: Vec<&str> = owner
            .contacts
            .iter()
            .zip(&results)
            .filter(|(_, ok)| **ok)
            .map(|(c, _)| c.kind.key())
            .collect();
        if !took.is_empty() && !self.quiet {
            let n = message.items.len();
            eprintln!(
                "notify: {} — {} sent ({})",
                owner.name,
                match n {
                    0 => "a message".to_owned(),
                    1 => "1 failure".to_owned(),
                    n => format!("{n} failures"),
                },
                took.join(", ")
            );
        }
        !took.is_empty()
    }

    /// One contact: reads its URL, posts the body in its format, retries. True when it
    /// took the message.
    async fn send_to(&self, owner: &str, contact: &Contact, message: &Message) -> bool {
        let kind = contact.kind.key();
        let secret = &contact.url_secret;
        let Some(url) = self.secret(secret) else {
            eprintln!(
                "warning: notify: {owner}'s {kind} contact: secret {secret} is not set; not sent"
            );
            return false;
        };
        // The logs (and so anything reqwest or hyper print at -vvv) mask it from now on.
        drop(rehearse_runner::Redactor::new([url.clone()]));
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            eprintln!(
                "warning: notify: {owner}'s {kind} contact: secret {secret} does not hold an http(s) URL; not sent"
            );
            return false;
        }
        let body = match contact.kind {
            ContactKind::Slack => message.slack(),
            ContactKind::Webhook => serde_json::to_value(message.webhook()).unwrap_or_default(),
        };
        // The run's redactor masked every text already; this is the second look, with
        // every value the process knows (the secrets, the contacts' URLs).
        let text = serde_json::to_string(&body).unwrap_or_default();
        let text = rehearse_runner::mask_log(&text).into_owned();
        let Some(client) = &self.client else {
            return false;
        };
        match post(client, &url, text, contact.kind).await {
            Ok(()) => true,
            Err(why) => {
                eprintln!(
                    "warning: notify: {owner}'s {kind} contact (secret {secret}) did not take the message after {why}; it is tried again later"
                );
                false
            }
        }
    }

    fn secret(&self, name: &str) -> Option<String> {
        self.env_file
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// One invocation: sends what is due and what `seen` calls for, updates the state file
    /// under `root`.
    async fn round(
        &self,
        root: &Path,
        seen: Option<&Seen<'_>>,
        policy: Policy,
        now: DateTime<Utc>,
    ) {
        let path = crate::load::in_root(root, STATE_FILE);
        let mut state = read_state(&path);
        let plan = rehearse_notify::plan(&mut state, &self.owners, seen, policy, now);
        for note in &plan.notes {
            if !self.quiet {
                eprintln!("notify: {note}");
            }
        }
        if !self.quiet {
            for (recipient, n, due) in &plan.deferred {
                let local = self
                    .owners
                    .get(recipient)
                    .map(|o| {
                        format!(
                            ", {} in {}",
                            o.local_time(*due).format("%H:%M"),
                            o.time_zone.name()
                        )
                    })
                    .unwrap_or_default();
                eprintln!(
                    "notify: {recipient} is off hours — {n} failure{} queued for {}{local} (`rehearse notify --once` or the next --notify sends it then)",
                    if *n == 1 { "" } else { "s" },
                    due.format("%Y-%m-%d %H:%M UTC"),
                );
            }
        }
        for message in plan.messages {
            if self.send(&message).await {
                state.record_sent(&message.recipient.owner, &message.items, now);
            } else {
                let later = now.checked_add_signed(RETRY_LATER).unwrap_or(now);
                state.requeue(&message.recipient.owner, message.items, later);
            }
        }
        write_state(&path, &state);
    }
}

/// Posts `body` to `url`, retrying a transport error, a 5xx or a 429. The error says why
/// (`3 attempts (HTTP 500)`), never the URL.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
    kind: ContactKind,
) -> Result<(), String> {
    let mut wait = BACKOFF;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Rehearse-Message", kind.key())
            .body(body.clone())
            .send()
            .await;
        let mut pause = wait;
        match sent {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status();
                last = format!("HTTP {}", status.as_u16());
                let retry = status.is_server_error() || status.as_u16() == 429;
                if !retry {
                    return Err(format!(
                        "{attempt} attempt{} ({last})",
                        if attempt == 1 { "" } else { "s" }
                    ));
                }
                if let Some(after) = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                {
                    pause = Duration::from_secs(after).min(MAX_RETRY_AFTER);
                }
            }
            Err(e) => {
                last = if e.is_timeout() {
                    format!(
                        "timed out after {}",
                        humantime::format_duration(ATTEMPT_TIMEOUT)
                    )
                } else if e.is_connect() {
                    "connection failed".to_owned()
                } else {
                    "request failed".to_owned()
                };
            }
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            wait = wait.saturating_mul(2);
        }
    }
    Err(format!("{ATTEMPTS} attempts ({last})"))
}

/// The state file, or a fresh state (saying why) when it is missing or unreadable.
fn read_state(path: &Path) -> State {
    let text = match rehearse_scenario::read_capped(path, MAX_STATE_BYTES) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) if !path.exists() => return State::default(),
        Err(e) => {
            eprintln!(
                "warning: notify: failed to read {} ({e}); starting afresh, so a failure may be sent again",
                path.display()
            );
            return State::default();
        }
    };
    match State::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "warning: notify: {} is unreadable ({e}); starting afresh, so a failure may be sent again",
                path.display()
            );
            State::default()
        }
    }
}

/// Writes the state whole or not at all (a temporary file renamed over it).
fn write_state(path: &Path, state: &State) {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.tmp", std::process::id()));
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, state.to_json())?;
        std::fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        eprintln!(
            "warning: notify: failed to write {} ({e}); what was sent may be sent again",
            path.display()
        );
    }
}

/// The failures of a run and the keys of everything it checked.
pub fn failures_of(result: &RunResult) -> (Vec<Failure>, Vec<String>) {
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    let failed = |s: Status| matches!(s, Status::Failed | Status::Error);
    let looked = |s: Status| !matches!(s, Status::Skipped | Status::Interrupted);
    for c in &result.preflight {
        let key = Failure::check_key(&c.name);
        if looked(c.status) {
            checked.push(key.clone());
        }
        if failed(c.status) {
            failures.push(Failure {
                key,
                kind: FailureKind::Check,
                name: c.name.clone(),
                owner: c.owner.clone(),
                hint: c.hint.clone(),
                evidence: c.evidence.clone(),
                location: c.location.clone(),
                ticket: c.ticket.clone(),
            });
        }
    }
    for s in &result.scenarios {
        let key = Failure::scenario_key(&s.path);
        if looked(s.status) {
            checked.push(key.clone());
        }
        if failed(s.status) {
            let (evidence, location) = match s.first_failure() {
                Some((step, f)) => (
                    format!("step `{}`: {f}", step.name),
                    Some(step.location.clone()),
                ),
                None => (format!("the scenario ended {}", s.status.as_str()), None),
            };
            failures.push(Failure {
                key,
                kind: FailureKind::Scenario,
                name: s.name.clone(),
                owner: s.owner.clone(),
                hint: None,
                evidence,
                location,
                ticket: None,
            });
        }
    }
    (failures, checked)
}

/// After a run or a pre-flight (`--notify`): tells owners of `result`'s failures and
/// sends what is due. Prints what it did; never fails the run.
pub(crate) async fn after_run(
    args: &NotifyArgs,
    root: &Path,
    env_file: Option<&Path>,
    result: &RunResult,
    report_url: Option<&str>,
    quiet: bool,
) {
    if !args.notify || result.interrupted {
        return;
    }
    let now = match crate::clock::now() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("warning: notify: {e}; nothing sent");
            return;
        }
    };
    let Some(notifier) = Notifier::for_suite(root, env_file, quiet) else {
        return;
    };
    let (failures, checked) = failures_of(result);
    let seen = Seen {
        environment: &result.environment,
        run_id: &result.run_id,
        report_url,
        failures: &failures,
        checked: &checked,
    };
    let policy = Policy {
        every: args.notify_every,
        urgent: args.urgent,
    };
    notifier.round(root, Some(&seen), policy, now).await;
}

/// `rehearse notify [--once]`: sends what is due (queued for someone's working hours, or
/// a delivery to try again).
pub(crate) async fn command(args: &NotifyCommandArgs, quiet: bool) -> u8 {
    let select = crate::args::SelectArgs {
        paths: Vec::new(),
        env: None,
        root: args.root.clone(),
        vars: Vec::new(),
        tag: Vec::new(),
        name: Vec::new(),
        shard: None,
        fixtures: None,
    };
    let root = crate::load::suite_root(&select);
    if let Err(problems) = crate::load::load_suite_owners(&root) {
        crate::commands::print_problems(&problems, crate::args::Color::Never);
        return exit::INVALID_INPUT;
    }
    if let Some(path) = &args.env_file
        && let Err(p) = crate::load::read_env_file(path)
    {
        eprintln!("error: {}", p.one_line());
        return exit::INVALID_INPUT;
    }
    if let Err(e) = crate::clock::now() {
        eprintln!("error: {e}");
        return exit::INVALID_INPUT;
    }
    let Some(notifier) = Notifier::for_suite(&root, args.env_file.as_deref(), quiet) else {
        return exit::PASSED;
    };
    let mut signals = if args.once {
        None
    } else {
        match crate::signals::Signals::new() {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: failed to listen for SIGTERM and Ctrl-C: {e}");
                return exit::INTERNAL;
            }
        }
    };
    loop {
        let now = crate::clock::now().unwrap_or_else(|_| Utc::now());
        notifier.round(&root, None, Policy::default(), now).await;
        let Some(signals) = signals.as_mut() else {
            return exit::PASSED;
        };
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = signals.recv() => return exit::PASSED,
        }
    }
}
