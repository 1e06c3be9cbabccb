//! `rehearse contract check`: probes an environment's bank sandbox with the requests its
//! version folder describes (the routes of its manifest, the bodies of its `examples/`),
//! classifies every answer as drift, and reports it like a run: one scenario per route, a
//! step per probe, a breaking drift failing its step under the bank-integration owner.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use rehearse_contract::{
    Auth, Catalog, Drift, Operation, RouteSpec, VersionFolder, instance_drifts,
};
use rehearse_runner::{
    Aborted, Attempt, Clients, Failure, Redactor, RunResult, ScenarioResult, Status, StepResult,
    World,
};
use rehearse_scenario::{Bank, BankAuth, Environment, Problem, Problems, Resolve, Templates};
use serde_json::Value;

use super::classify::{Answer, Classified, Sent, classify, short};
use super::probe::{Body, Exchange, Outgoing, Sender, request_record, response_record};
use crate::args::Color;
use crate::exit;

/// The JUnit suite, and the `path` of every scenario of a check.
pub(crate) const SUITE: &str = "contract";

/// `rehearse contract check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The environment whose bank sandbox is checked (its `bank:` key): a name under
    /// environments/ in the suite's root, or a path to a YAML file.
    #[arg(short, long, env = "REHEARSE_ENV")]
    pub env: String,
    /// The version to check against (default: the environment's `bank.api_version`).
    #[arg(long, value_name = "vN")]
    pub version: Option<String>,
    /// The suite's root, where environment names are looked up (default: the nearest
    /// folder upward that holds scenarios/ or environments/).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Set a variable, over the environment's var of that name (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = crate::args::parse_var)]
    pub vars: Vec<(String, String)>,
    /// Read secrets and variables from this dotenv file.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Write a report: junit=PATH (suite `contract`), json=PATH, html=PATH or
    /// markdown=PATH (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH")]
    pub reports: Vec<String>,
    /// Allow checking an environment marked `protected: true`.
    #[arg(long)]
    pub allow_protected: bool,
}

/// Runs the check; the exit code: 0 no breaking drift (additive drift is printed as
/// warnings), 1 breaking drift, 2 the bank does not answer (or nothing could be probed),
/// 3 invalid input.
pub(crate) async fn check(args: &CheckArgs, color: Color, quiet: bool, verbose: u8) -> u8 {
    let run_id = rehearse_runner::new_run_id();
    let specs = match crate::commands::reports(&args.reports, None) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let invalid = |env: &str, p: Problem| {
        crate::commands::print_problems(&Problems(vec![p.clone()]), color);
        let result =
            crate::commands::aborted_result(&run_id, env, "invalid_input", vec![p.one_line()]);
        crate::commands::write_reports(&result, &specs);
        exit::INVALID_INPUT
    };
    let (env, templates, world) =
        match crate::load::environment_only(&args.env, args.root.as_deref(), &args.vars) {
            Ok(e) => e,
            Err(problems) => {
                crate::commands::print_problems(&problems, color);
                let lines = problems.iter().map(Problem::one_line).collect();
                crate::commands::write_reports(
                    &crate::commands::aborted_result(&run_id, &args.env, "invalid_input", lines),
                    &specs,
                );
                return exit::INVALID_INPUT;
            }
        };
    let Some(bank) = env.bank.clone() else {
        return invalid(
            &env.name,
            Problem::new(format!("environment `{}` has no `bank:`", env.name), None).with_help(
                "add `bank: { url: \"{{ bank }}\", api_version: v2, auth: { api_key: BANK_API_KEY } }` (docs/FORMAT.md, \"Environment files\")",
            ),
        );
    };
    if env.protected && !args.allow_protected {
        return invalid(
            &env.name,
            Problem::new(format!("environment `{}` is protected", env.name), None)
                .with_help("pass --allow-protected if you really mean to use it"),
        );
    }
    // `environment_only` checked the folders already; a folder changed since is still caught.
    let catalog = match bank
        .versions
        .as_deref()
        .map_or(Ok(Catalog::builtin()), |d| Catalog::builtin().with_dir(d))
    {
        Ok(c) => c,
        Err(e) => return invalid(&env.name, Problem::new(e.to_string(), bank.span.as_ref())),
    };
    let wanted = args
        .version
        .clone()
        .unwrap_or_else(|| bank.api_version.clone());
    let folder = match wanted
        .parse()
        .map_err(|e: String| e)
        .and_then(|v| catalog.require(v).cloned())
    {
        Ok(f) => f,
        Err(e) => return invalid(&env.name, Problem::new(e, bank.span.as_ref())),
    };
    if let Err(p) = auth_fits(&bank, &folder) {
        return invalid(&env.name, p);
    }
    let env_file = match &args.env_file {
        Some(path) => match crate::load::read_env_file(path) {
            Ok(f) => f,
            Err(p) => return invalid(&env.name, p),
        },
        None => Default::default(),
    };
    let world = {
        let w = World::new(env_file, &env.secrets);
        let missing: Vec<String> = w
            .missing(&env.secrets)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let needed = needed_secrets(&bank.auth);
        if let Some(name) = needed.iter().find(|n| missing.contains(*n)) {
            let p = Problem::new(format!("the secret `{name}` is not set"), None).with_help(
                "set it in the process environment or in the --env-file file: the bank's credentials are read from it",
            );
            crate::commands::print_problems(&Problems(vec![p.clone()]), color);
            let result = crate::commands::aborted_result(
                &run_id,
                &env.name,
                "environment_not_ready",
                vec![p.one_line()],
            );
            crate::commands::write_reports(&result, &specs);
            return exit::NOT_READY;
        }
        world.set(w.clone());
        w
    };
    let secrets = world.secret_values();
    crate::panic::mask(&secrets);
    let mut redactor = Redactor::new(secrets.clone());
    let url = match render_url(&env, &templates, &bank) {
        Ok(u) => u.trim_end_matches('/').to_owned(),
        Err(e) => {
            return invalid(
                &env.name,
                Problem::new(redactor.mask(&e), bank.url.span.as_ref()),
            );
        }
    };
    let clients = match Clients::for_environment(&env) {
        Ok(c) => c,
        Err(e) => return invalid(&env.name, Problem::new(e.to_string(), None)),
    };
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    if !quiet {
        println!(
            "contract check: bank API {} ({}) at {} · environment {}",
            folder.version,
            folder.describe_origin(),
            redactor.mask(&url),
            env.name
        );
    }
    let mut checker = Checker {
        folder: &folder,
        bank: &bank,
        url,
        world: &world,
        credential: None,
        created: Vec::new(),
        listed: Vec::new(),
    };
    let outcomes = {
        checker.credential = match (&bank.auth, folder.manifest.auth) {
            (BankAuth::ApiKey(name), _) => world.secret(name),
            _ => None,
        };
        let sender_redactor = redactor.clone();
        let sender = Sender {
            client: clients.client(),
            timeout: env.request_timeout,
            redactor: &sender_redactor,
            run_id: &run_id,
        };
        checker.run(&sender, &mut redactor).await
    };
    let mut result = RunResult {
        run_id: run_id.clone(),
        environment: env.name.clone(),
        started_at,
        duration: started.elapsed(),
        scenarios: Vec::new(),
        interrupted: false,
        preflight: Vec::new(),
        rehearse_version: env!("CARGO_PKG_VERSION").to_owned(),
        bank_api_version: Some(folder.version.to_string()),
        aborted: None,
    };
    let sent = outcomes.iter().flat_map(|o| &o.probes).count();
    let answered = outcomes
        .iter()
        .flat_map(|o| &o.probes)
        .any(|p| p.answered());
    let warnings: Vec<Drift> = outcomes
        .iter()
        .flat_map(|o| &o.probes)
        .flat_map(|p| p.drifts.iter().filter(|d| !d.breaking).cloned())
        .collect();
    result.scenarios = outcomes
        .iter()
        .map(|o| o.scenario(&folder, &bank, &redactor))
        .collect();
    if !answered {
        let why = if sent == 0 {
            "nothing could be probed read-only: set `bank.contract.payment_id` to a payment of the sandbox, or `writes: true` where creating test payments is allowed".to_owned()
        } else {
            let first = outcomes
                .iter()
                .flat_map(|o| &o.probes)
                .find_map(|p| {
                    p.attempts.last().and_then(|(_, ex)| {
                        ex.error
                            .clone()
                            .or(ex.status.map(|s| format!("it answered {s}")))
                    })
                })
                .unwrap_or_default();
            format!("the bank sandbox does not answer: {first}")
        };
        result.aborted = Some(Aborted {
            reason: "environment_not_ready".to_owned(),
            problems: vec![redactor.mask(&why)],
        });
    }
    print_console(&result, color, quiet, verbose);
    if !warnings.is_empty() {
        let n = warnings.len();
        println!(
            "warning: {n} additive drift{} (a client written for {} keeps working):",
            if n == 1 { "" } else { "s" },
            folder.version
        );
        for d in &warnings {
            println!("  {}", redactor.mask(&d.line()));
        }
    }
    if !checker.created.is_empty() {
        let list = folder
            .manifest
            .routes
            .iter()
            .find(|r| r.operation == Operation::ListPayments)
            .map(|r| format!("; they are listed by {} {}", r.method, r.path))
            .unwrap_or_default();
        println!(
            "note: created {} test payment{} on the sandbox: {} (bank API {} has no cancel route, so they stay{list})",
            checker.created.len(),
            if checker.created.len() == 1 { "" } else { "s" },
            checker.created.join(", "),
            folder.version
        );
    }
    let written = crate::commands::write_reports(&result, &specs);
    if result.aborted.is_some() {
        exit::NOT_READY
    } else if !written {
        exit::INTERNAL
    } else if result
        .scenarios
        .iter()
        .any(|s| matches!(s.status, Status::Failed | Status::Error))
    {
        exit::FAILED
    } else {
        // Routes not probed (read-only) are skipped, not failed.
        exit::PASSED
    }
}

fn print_console(result: &RunResult, color: Color, quiet: bool, verbose: u8) {
    use rehearse_report::{ColorChoice, ConsoleOptions, ConsoleReporter, RunEvent, Verbosity};
    let options = ConsoleOptions::new()
        .color(match color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        })
        .verbosity(Verbosity::from_flags(quiet, verbose));
    let mut console = ConsoleReporter::stdout(options);
    let mut events = vec![RunEvent::RunStarted {
        run_id: result.run_id.clone(),
        environment: result.environment.clone(),
        scenarios: result.scenarios.len(),
    }];
    events.extend(
        result
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| RunEvent::ScenarioFinished {
                scenario: i,
                result: s.clone(),
            }),
    );
    events.push(RunEvent::RunFinished {
        result: Arc::new(result.clone()),
    });
    for e in &events {
        if let Err(e) = console.handle(e) {
            tracing::warn!("console output failed: {e}");
        }
    }
}

/// The credentials the environment gives fit the way the version authenticates.
fn auth_fits(bank: &Bank, folder: &VersionFolder) -> Result<(), Problem> {
    let help = match (folder.manifest.auth, &bank.auth) {
        (Auth::ApiKey, BankAuth::ApiKey(_))
        | (Auth::OauthClientCredentials, BankAuth::Client { .. }) => return Ok(()),
        (Auth::ApiKey, _) => {
            "add `auth: { api_key: BANK_API_KEY }` under `bank:` (and BANK_API_KEY to `secrets:`)"
        }
        (Auth::OauthClientCredentials, _) => {
            "add `auth: { client_id: BANK_CLIENT_ID, client_secret: BANK_CLIENT_SECRET }` under `bank:` (and both to `secrets:`)"
        }
    };
    let how = match folder.manifest.auth {
        Auth::ApiKey => "an API key",
        Auth::OauthClientCredentials => "OAuth client credentials",
    };
    Err(Problem::new(
        format!(
            "bank API {} authenticates with {how}, which `bank.auth` does not give",
            folder.version
        ),
        bank.span.as_ref(),
    )
    .with_help(help))
}

fn needed_secrets(auth: &BankAuth) -> Vec<String> {
    match auth {
        BankAuth::None => Vec::new(),
        BankAuth::ApiKey(k) => vec![k.clone()],
        BankAuth::Client { id, secret } => vec![id.clone(), secret.clone()],
    }
}

fn render_url(env: &Environment, templates: &Templates, bank: &Bank) -> Result<String, String> {
    let mut vars: rehearse_scenario::Vars = Arc::new(std::collections::HashMap::new());
    for (name, value) in &env.vars {
        let v = templates
            .render_value(value, &vars)
            .map_err(|e| e.to_string())?;
        Arc::make_mut(&mut vars).insert(name.clone(), v);
    }
    templates
        .render_string(&bank.url, &vars)
        .map_err(|e| format!("failed to render `bank.url`: {e}"))
}

/// One probe: its attempts (a second one when the first named a header it needs) and the
/// drifts they showed.
struct ProbeOutcome {
    name: String,
    attempts: Vec<(Outgoing, Exchange)>,
    drifts: Vec<Drift>,
    bank_failed: bool,
}

impl ProbeOutcome {
    fn answered(&self) -> bool {
        self.attempts
            .iter()
            .any(|(_, ex)| ex.status.is_some_and(|s| s != 429 && s < 500))
    }
}

/// A route's probes, or why it was not probed.
struct RouteOutcome {
    route: RouteSpec,
    probes: Vec<ProbeOutcome>,
    skipped: Option<String>,
}

impl RouteOutcome {
    fn scenario(&self, folder: &VersionFolder, bank: &Bank, redactor: &Redactor) -> ScenarioResult {
        let route = route_name(&self.route);
        let mut steps = Vec::new();
        if let Some(why) = &self.skipped {
            steps.push(StepResult {
                offset: None,
                name: format!("not probed: {why}"),
                location: route.clone(),
                status: Status::Skipped,
                duration: Duration::ZERO,
                attempts: Vec::new(),
                failure: None,
                captures: Vec::new(),
            });
        }
        for p in &self.probes {
            steps.push(probe_step(p, &route, redactor));
            for d in p.drifts.iter().filter(|d| !d.breaking) {
                steps.push(StepResult {
                    offset: None,
                    name: redactor.mask(&format!(
                        "warning: {}: expected {}, got {}",
                        d.title(),
                        d.expected,
                        d.actual
                    )),
                    location: route.clone(),
                    status: Status::Passed,
                    duration: Duration::ZERO,
                    attempts: Vec::new(),
                    failure: None,
                    captures: Vec::new(),
                });
            }
        }
        let status = if steps.iter().any(|s| s.status == Status::Error) {
            Status::Error
        } else if steps.iter().any(|s| s.status == Status::Failed) {
            Status::Failed
        } else if self.probes.is_empty() {
            Status::Skipped
        } else {
            Status::Passed
        };
        ScenarioResult {
            path: SUITE.to_owned(),
            name: format!("contract {}: {route}", folder.version),
            tags: vec![SUITE.to_owned(), folder.version.to_string()],
            owner: bank.owner.clone(),
            status,
            duration: steps.iter().map(|s| s.duration).sum(),
            steps,
            cleanup: Vec::new(),
            retries: 0,
        }
    }
}

fn probe_step(p: &ProbeOutcome, route: &str, redactor: &Redactor) -> StepResult {
    let failures: Vec<Failure> = p
        .drifts
        .iter()
        .filter(|d| d.breaking)
        .map(|d| Failure {
            check: match &d.status {
                Some(s) => format!("{} ({s})", d.title()),
                None => d.title(),
            },
            expected: redactor.mask(&d.expected),
            actual: redactor.mask(&d.actual),
            location: Some(route.to_owned()),
            source_line: None,
        })
        .collect();
    let count = p.attempts.len();
    let attempts: Vec<Attempt> = p
        .attempts
        .iter()
        .enumerate()
        .map(|(i, (out, ex))| Attempt {
            offset: None,
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            request: request_record(out, redactor),
            response: response_record(ex, redactor),
            duration: ex.duration,
            error: ex.error.clone(),
            failures: if i + 1 == count {
                failures.clone()
            } else {
                Vec::new()
            },
        })
        .collect();
    let error = p.attempts.last().and_then(|(_, ex)| ex.error.clone());
    let status = if error.is_some() || p.bank_failed {
        Status::Error
    } else if failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    };
    let failure = failures.first().cloned().or_else(|| {
        p.bank_failed.then(|| Failure {
            check: "the bank answered".to_owned(),
            expected: "an answer of the version".to_owned(),
            actual: p
                .attempts
                .last()
                .map(|(_, ex)| {
                    redactor.mask(&format!("{}: {}", ex.status.unwrap_or(0), short(&ex.body)))
                })
                .unwrap_or_default(),
            location: Some(route.to_owned()),
            source_line: None,
        })
    });
    StepResult {
        offset: None,
        name: p.name.clone(),
        location: route.to_owned(),
        status,
        duration: p.attempts.iter().map(|(_, ex)| ex.duration).sum(),
        attempts,
        failure,
        captures: Vec::new(),
    }
}

fn route_name(r: &RouteSpec) -> String {
    format!("{} {}", r.method.to_ascii_uppercase(), r.path)
}

/// The state of one check.
struct Checker<'a> {
    folder: &'a VersionFolder,
    bank: &'a Bank,
    url: String,
    world: &'a World,
    /// The bearer credential (the API key, or the token once issued).
    credential: Option<String>,
    /// Ids of the payments this check created.
    created: Vec<String>,
    /// Ids a list route gave.
    listed: Vec<String>,
}

impl Checker<'_> {
    /// Every route, in the order that gives the next ones what they need: the token, the
    /// list, the creates, the reads by id; reported in the manifest's order.
    async fn run(&mut self, sender: &Sender<'_>, redactor: &mut Redactor) -> Vec<RouteOutcome> {
        let routes = self.folder.manifest.routes.clone();
        let rank = |r: &RouteSpec| match r.operation {
            Operation::IssueToken => 0,
            Operation::ListPayments => 1,
            Operation::CreatePayment => 2,
            Operation::GetPayment => 3,
        };
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by_key(|i| rank(&routes[*i]));
        let mut outcomes: Vec<Option<RouteOutcome>> = routes.iter().map(|_| None).collect();
        for i in order {
            let route = &routes[i];
            let outcome = match route.operation {
                Operation::IssueToken => self.token(sender, route, redactor).await,
                Operation::ListPayments => self.list(sender, route).await,
                Operation::CreatePayment => self.create(sender, route).await,
                Operation::GetPayment => self.get(sender, route).await,
            };
            outcomes[i] = Some(outcome);
        }
        outcomes.into_iter().flatten().collect()
    }

    fn headers(&self, route: &RouteSpec) -> Vec<(String, String)> {
        let mut headers = vec![("Accept".to_owned(), "application/json".to_owned())];
        if route.operation != Operation::IssueToken
            && let Some(c) = &self.credential
        {
            headers.push(("Authorization".to_owned(), format!("Bearer {c}")));
        }
        for h in self.folder.manifest.required_headers_of(route) {
            headers.push((h, self.world.uuid()));
        }
        headers
    }

    /// Sends, classifies, and sends once more with the headers a 400 said are required.
    /// A `GET` of `path` with the route's headers, expecting 200: the list and the read.
    async fn probe_get(
        &self,
        sender: &Sender<'_>,
        route: &RouteSpec,
        path: &str,
        name: String,
    ) -> ProbeOutcome {
        let out = Outgoing {
            method: reqwest::Method::GET,
            url: format!("{}{path}", self.url),
            headers: self.headers(route),
            body: None,
        };
        self.probe(sender, route, name, out, 200).await
    }

    async fn probe(
        &self,
        sender: &Sender<'_>,
        route: &RouteSpec,
        name: String,
        mut out: Outgoing,
        expected: u16,
    ) -> ProbeOutcome {
        let mut outcome = ProbeOutcome {
            name,
            attempts: Vec::new(),
            drifts: Vec::new(),
            bank_failed: false,
        };
        for round in 0..2 {
            let ex = sender.send(&out).await;
            let classified = match ex.status {
                Some(status) => {
                    let body = match &out.body {
                        Some(Body::Json(v)) => Some(v.clone()),
                        _ => None,
                    };
                    let query = query_pairs(&out.url);
                    classify(
                        self.folder,
                        route,
                        expected,
                        &Sent {
                            headers: &out.headers,
                            body: body.as_ref(),
                            query: &query,
                        },
                        &Answer {
                            status,
                            headers: &ex.headers,
                            body: &ex.body,
                        },
                    )
                }
                None => Classified::default(),
            };
            outcome.drifts.extend(classified.drifts);
            outcome.bank_failed = classified.bank_failed;
            let retry = round == 0 && !classified.missing_headers.is_empty();
            let next = out.clone();
            outcome.attempts.push((out, ex));
            if !retry {
                break;
            }
            out = next;
            for h in classified.missing_headers {
                out.headers.push((h, self.world.uuid()));
            }
        }
        outcome
    }

    async fn token(
        &mut self,
        sender: &Sender<'_>,
        route: &RouteSpec,
        redactor: &mut Redactor,
    ) -> RouteOutcome {
        let BankAuth::Client { id, secret } = &self.bank.auth else {
            return skipped(route, "the environment gives no OAuth client credentials");
        };
        let form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            (
                "client_id".to_owned(),
                self.world.secret(id).unwrap_or_default(),
            ),
            (
                "client_secret".to_owned(),
                self.world.secret(secret).unwrap_or_default(),
            ),
        ];
        let out = Outgoing {
            method: reqwest::Method::POST,
            url: format!("{}{}", self.url, route.path),
            headers: self.headers(route),
            body: Some(Body::Form(form)),
        };
        let probe = self
            .probe(
                sender,
                route,
                "client credentials token".to_owned(),
                out,
                200,
            )
            .await;
        if let Some((_, ex)) = probe.attempts.last()
            && ex.status == Some(200)
            && let Ok(body) = serde_json::from_str::<Value>(&ex.body)
            && let Some(token) = body.get("access_token").and_then(Value::as_str)
        {
            redactor.add(token.to_owned());
            crate::panic::mask(&[token.to_owned()]);
            self.credential = Some(token.to_owned());
        }
        RouteOutcome {
            route: route.clone(),
            probes: vec![probe],
            skipped: None,
        }
    }

    async fn list(&mut self, sender: &Sender<'_>, route: &RouteSpec) -> RouteOutcome {
        let probe = self
            .probe_get(
                sender,
                route,
                &route.path,
                format!("{} {}", route.method, route.path),
            )
            .await;
        if let Some((_, ex)) = probe.attempts.last()
            && ex.status == Some(200)
            && let Ok(body) = serde_json::from_str::<Value>(&ex.body)
        {
            collect_ids(&body, &mut self.listed, 0);
        }
        RouteOutcome {
            route: route.clone(),
            probes: vec![probe],
            skipped: None,
        }
    }

    async fn create(&mut self, sender: &Sender<'_>, route: &RouteSpec) -> RouteOutcome {
        if !self.bank.writes {
            return skipped(
                route,
                "creating payments needs `contract: { writes: true }` (a sandbox where test payments are allowed)",
            );
        }
        let examples = self.examples(route);
        if examples.is_empty() {
            return skipped(
                route,
                "the version folder has no example request for it (examples/*.json)",
            );
        }
        let success = route
            .responses
            .keys()
            .find(|s| s.starts_with('2'))
            .and_then(|s| s.parse().ok())
            .unwrap_or(201);
        let mut probes = Vec::new();
        for (file, body) in examples {
            let out = Outgoing {
                method: reqwest::Method::POST,
                url: format!("{}{}", self.url, route.path),
                headers: self.headers(route),
                body: Some(Body::Json(body)),
            };
            let probe = self
                .probe(
                    sender,
                    route,
                    format!("{} {} with {file}", route.method, route.path),
                    out,
                    success,
                )
                .await;
            if let Some((_, ex)) = probe.attempts.last()
                && ex.status == Some(success)
                && let Ok(body) = serde_json::from_str::<Value>(&ex.body)
                && let Some(id) = body.get("id").and_then(Value::as_str)
            {
                self.created.push(id.to_owned());
            }
            probes.push(probe);
        }
        RouteOutcome {
            route: route.clone(),
            probes,
            skipped: None,
        }
    }

    async fn get(&mut self, sender: &Sender<'_>, route: &RouteSpec) -> RouteOutcome {
        let (id, from) = if let Some(id) = self.created.first() {
            (id.clone(), "a payment this check created")
        } else if let Some(id) = self.listed.first() {
            (id.clone(), "a payment the list gave")
        } else if let Some(id) = &self.bank.payment_id {
            (id.clone(), "`contract.payment_id`")
        } else {
            return skipped(
                route,
                "no payment id to read (set `bank.contract.payment_id`, or `writes: true`)",
            );
        };
        let path = replace_param(&route.path, &id);
        let probe = self
            .probe_get(
                sender,
                route,
                &path,
                format!("{} {} ({from})", route.method, route.path),
            )
            .await;
        RouteOutcome {
            route: route.clone(),
            probes: vec![probe],
            skipped: None,
        }
    }

    /// The example bodies that fit the route's request schema (all of them when it has
    /// none), by file name.
    fn examples(&self, route: &RouteSpec) -> Vec<(String, Value)> {
        let schema = route
            .request_schema
            .as_deref()
            .and_then(|f| self.folder.json(f));
        self.folder
            .files()
            .filter_map(|(rel, text)| {
                let name = rel.strip_prefix("examples/")?;
                let body: Value = serde_json::from_str(text).ok()?;
                let fits = schema
                    .as_ref()
                    .is_none_or(|s| instance_drifts(s, &body, "").iter().all(|d| !d.breaking));
                fits.then(|| (name.to_owned(), body))
            })
            .collect()
    }
}

fn skipped(route: &RouteSpec, why: &str) -> RouteOutcome {
    RouteOutcome {
        route: route.clone(),
        probes: Vec::new(),
        skipped: Some(why.to_owned()),
    }
}

/// `/v2/payments/{id}` with its parameter filled in (percent-encoded).
fn replace_param(path: &str, id: &str) -> String {
    let encoded: String = id
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                encoded.as_str()
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn query_pairs(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `id`s of the objects in the first arrays of a list body.
fn collect_ids(value: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 4 || out.len() >= 10 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    out.push(id.to_owned());
                }
            }
        }
        Value::Object(map) => map.values().for_each(|v| collect_ids(v, out, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_filled_in_encoded() {
        assert_eq!(
            replace_param("/v2/payments/{id}", "pay_1"),
            "/v2/payments/pay_1"
        );
        assert_eq!(
            replace_param("/v2/payments/{id}", "a/b c"),
            "/v2/payments/a%2Fb%20c"
        );
    }

    #[test]
    fn ids_come_from_the_list_body() {
        let mut ids = Vec::new();
        collect_ids(
            &serde_json::json!({"data": [{"id": "trf_1"}, {"id": "trf_2"}], "next_cursor": null}),
            &mut ids,
            0,
        );
        assert_eq!(ids, ["trf_1", "trf_2"]);
    }
}
