//! Loading and checking: files → nodes → model → [`Scenario`]s, with every problem found
//! before the first request.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde_json::Value as Json;
use serde_json_path::JsonPath;

use crate::error::{Problem, Problems};
use crate::matcher::{JsonType, Matcher, OPERATORS, Op};
use crate::model::{
    ApprovalMode, CheckDef, ClockKind, DecisionDef, EnvironmentFile, ExpectDef, FragmentFile,
    IncludeDef, PollDef, RequestDef, ScenarioFile, StepDef,
};
use crate::node::{self, DecodeError, did_you_mean};
use crate::plan::{
    Action, Approval, Body, Capture, CaptureFrom, Check, CheckKind, Decision, Environment, Expect,
    HeaderCheck, Job, JsonCheck, Poll, Request, Scenario, SchemaCheck, StatusMatch, StatusPattern,
    Step, Tls,
};
use crate::span::{SourceFile, Span, Spanned};
use crate::template::{FUNCTIONS, Templates, Tpl, TplValue};
use crate::value::{SpannedMap, Value, ValueKind};

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Reads a file into a shared source, as a problem when it cannot be read.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Problem> {
    std::fs::read_to_string(path)
        .map(|text| SourceFile::new(path, text))
        .map_err(|e| {
            Problem::new(format!("failed to read {}: {e}", path.display()), None)
                .with_help("check the path; scenario files end in .yaml or .yml")
        })
}

fn decode_problem(e: DecodeError) -> Problem {
    Problem::new(e.message, e.span.as_ref()).with_help_opt(e.help)
}

fn parse_as<T: serde::de::DeserializeOwned>(source: &Arc<SourceFile>) -> Result<T, Problem> {
    let node = node::parse(source).map_err(|e| {
        Problem::new(format!("invalid YAML: {}", e.message), Some(&e.span))
            .with_help("fix the YAML syntax (indentation, quotes, `key: value`)")
    })?;
    if !matches!(node.kind, node::Kind::Map(_)) {
        return Err(Problem::new(
            format!(
                "expected a mapping at the top of the file, found {}",
                node.type_name()
            ),
            Some(&node.span),
        )
        .with_help("a scenario starts with `name:` and `steps:`"));
    }
    node::decode::<T>(&node).map_err(decode_problem)
}

/// Loads an environment file; its templates are compiled into `templates`.
pub fn load_environment(
    path: &Path,
    name: &str,
    templates: &mut Templates,
) -> Result<Environment, Problems> {
    let source = read_source(path).map_err(|p| Problems(vec![p]))?;
    let file: EnvironmentFile = parse_as(&source).map_err(|p| Problems(vec![p]))?;
    let mut problems = Problems::default();
    let mut env = Environment::new(name);
    env.path = Some(path.to_owned());
    env.description = file.description;
    let mut known: Vec<String> = Vec::new();
    for (k, v) in file.vars.iter() {
        let value = compile_value(v, templates, &known, &mut problems);
        known.push(k.value.clone());
        env.vars.push((k.value.clone(), value));
    }
    for s in &file.secrets {
        if !s
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            || s.value.is_empty()
        {
            problems.push(
                Problem::new(
                    format!("`{}` is not a valid secret name", s.value),
                    s.span.as_ref(),
                )
                .with_help("a secret is named like an environment variable: BANK_API_KEY"),
            );
        }
        env.secrets.push(s.value.clone());
    }
    if let Some(t) = file.timeouts {
        if let Some(d) = t.request {
            env.request_timeout = d.value.0;
        }
        if let Some(d) = t.poll {
            env.poll_timeout = d.value.0;
        }
    }
    if let Some(tls) = file.tls {
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Option<String>, what: &str, problems: &mut Problems| {
            p.as_ref().map(|p| {
                let full = dir.join(p);
                if !full.is_file() {
                    problems.push(
                        Problem::new(format!("{what} `{p}` does not exist"), tls.span.as_ref())
                            .with_help(format!("paths are relative to {}", dir.display())),
                    );
                }
                full
            })
        };
        env.tls = Tls {
            ca_file: resolve(&tls.value.ca_file, "CA file", &mut problems),
            client_cert: resolve(&tls.value.client_cert, "client certificate", &mut problems),
            client_key: resolve(&tls.value.client_key, "client key", &mut problems),
        };
        if env.tls.client_cert.is_some() != env.tls.client_key.is_some() {
            problems.push(
                Problem::new(
                    "mTLS needs both `client_cert` and `client_key`",
                    tls.span.as_ref(),
                )
                .with_help("add the missing one, or remove both"),
            );
        }
    }
    env.protected = file.protected;
    env.retries = file.retries;
    if let Some(c) = &file.clock {
        env.clock = c.value;
    }
    if let Some(a) = &file.approvals {
        env.approvals = a.value.mode.value;
    }
    if env.clock == ClockKind::Virtual && !known.iter().any(|k| k == "bank_admin") {
        problems.push(
            Problem::new(
                "a virtual clock is driven through the bank's admin API, but no var `bank_admin` is set",
                file.clock.as_ref().and_then(|c| c.span.as_ref()),
            )
            .with_help("add `bank_admin: http://…/__admin` under `vars:`"),
        );
    }
    for j in &file.jobs {
        if let Err(e) = parse_cron(&j.value.cron.value) {
            problems.push(
                Problem::new(
                    format!("invalid cron `{}`: {e}", j.value.cron.value),
                    j.value.cron.span.as_ref(),
                )
                .with_help("6 fields: sec min hour day month weekday, e.g. \"0 */5 * * * *\""),
            );
        }
        let trigger = Value {
            kind: ValueKind::String(j.value.trigger.value.clone()),
            span: j.value.trigger.span.clone(),
        };
        let trigger = match compile_value(&trigger, templates, &known, &mut problems) {
            TplValue::Str(t) => t,
            _ => Tpl::literal(j.value.trigger.value.clone()),
        };
        env.jobs.push(Job {
            name: j.value.name.clone(),
            cron: j.value.cron.value.clone(),
            trigger,
        });
    }
    // Checks and the approval request are compiled with the environment's vars known.
    {
        let snapshot = env.clone();
        let mut ctx = Ctx::for_environment(&known, path);
        let mut compiler = Compiler::new(&snapshot, "fixtures", templates);
        let checks: Vec<Check> = file
            .checks
            .iter()
            .filter_map(|c| compiler.check(c, &mut ctx))
            .collect();
        let mut approval_request = None;
        let mut approval_instructions = None;
        if let Some(a) = &file.approvals {
            for v in ["reference", "decision", "note", "amount"] {
                ctx.known.push(v.to_owned());
            }
            if let Some(r) = &a.value.request {
                let request = compiler.request(&r.value, r.span.as_ref(), &mut ctx);
                let mut expect = a
                    .value
                    .expect
                    .as_ref()
                    .map(|e| compiler.expect(&e.value, &mut ctx))
                    .unwrap_or_default();
                if expect.status.is_none() {
                    expect.status = Some(StatusMatch::below_400());
                }
                approval_request = Some((request, expect));
            } else if a.value.mode.value == ApprovalMode::Http {
                ctx.problems.push(
                    Problem::new("`mode: http` needs a `request:` to send to the reviewer API", a.span.as_ref())
                        .with_help("add `request: { method: POST, url: \"{{ bank_sandbox }}/reviews/{{ reference }}/decision\", json: { decision: \"{{ decision }}\" } }`"),
                );
            }
            approval_instructions = a
                .value
                .instructions
                .as_ref()
                .map(|i| compiler.text(i, &mut ctx));
            if let Some(t) = &a.value.timeout {
                env.approval_timeout = t.value.0;
            }
        }
        problems.0.extend(ctx.problems.0);
        env.checks = checks;
        env.approval_request = approval_request;
        env.approval_instructions = approval_instructions;
    }
    if problems.is_empty() {
        Ok(env)
    } else {
        Err(problems)
    }
}

/// Parses a 6-field cron expression (`sec min hour day month weekday`), the dialect of
/// tokio-cron-scheduler.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

/// Lists the scenario files under the given paths (files are taken as they are; folders are
/// walked for `.yaml`/`.yml`, skipping names that start with `_` or `.`, which hold
/// fragments). Sorted by path.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Problems> {
    let mut out = Vec::new();
    let mut problems = Problems::default();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            problems.push(
                Problem::new(
                    format!("no scenario file or folder at {}", p.display()),
                    None,
                )
                .with_help("give a .yaml file or a folder of them (default: scenarios/)"),
            );
        }
    }
    out.sort();
    out.dedup();
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

/// Compiles scenario files against an environment.
#[derive(Debug)]
pub struct Compiler<'a> {
    env: &'a Environment,
    fixtures_dir: PathBuf,
    templates: &'a mut Templates,
    fixtures: BTreeMap<String, Json>,
    /// `matches` regexes by pattern: suites repeat patterns, and each compile costs about
    /// 100 µs (regex-automata builds its UTF-8 tables per NFA), a fifth of `validate`.
    regexes: HashMap<String, Regex>,
}

struct Ctx<'s> {
    problems: Problems,
    known: Vec<String>,
    later: HashSet<String>,
    names: HashSet<String>,
    include_stack: Vec<PathBuf>,
    file: &'s Path,
}

impl Ctx<'_> {
    fn for_environment<'p>(known: &[String], file: &'p Path) -> Ctx<'p> {
        Ctx {
            problems: Problems::default(),
            known: known.to_vec(),
            later: HashSet::new(),
            names: HashSet::new(),
            include_stack: vec![file.to_owned()],
            file,
        }
    }
}

impl<'a> Compiler<'a> {
    /// Why a scenario with these needs cannot run on this environment.
    fn unmet(&self, needs: Option<&crate::model::NeedsDef>) -> Option<String> {
        let needs = needs?;
        if needs.clock == Some(ClockKind::Virtual) && self.env.clock != ClockKind::Virtual {
            return Some(format!(
                "it needs a virtual clock; environment `{}` runs on real time",
                self.env.name
            ));
        }
        let missing: Vec<&str> = needs
            .vars
            .iter()
            .filter(|v| !self.env.vars.iter().any(|(k, _)| k == *v))
            .map(String::as_str)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "it needs var{} {} that environment `{}` does not define",
                if missing.len() == 1 { "" } else { "s" },
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.env.name
            )
        })
    }

    /// Compiles a pre-flight check.
    fn check(&mut self, def: &Spanned<CheckDef>, ctx: &mut Ctx<'_>) -> Option<Check> {
        let c = &def.value;
        let span = def
            .span
            .clone()
            .or_else(|| c.name.span.clone())
            .unwrap_or_else(|| Span::file_start(&SourceFile::new(ctx.file, String::new())));
        let kinds = [
            c.request.is_some(),
            c.job_heartbeat.is_some(),
            c.version.is_some(),
            c.secret_present.is_some(),
            c.reachable.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            ctx.problems.push(
                Problem::new(
                    format!("check `{}` needs exactly one of `request`, `job_heartbeat`, `version`, `secret_present`, `reachable`", c.name.value),
                    Some(&span),
                )
                .with_help("split it into several checks"),
            );
            return None;
        }
        if c.expect.is_some() && c.request.is_none() {
            ctx.problems.push(
                Problem::new("`expect` only goes with a `request` check", Some(&span))
                    .with_help("move `expect` next to the `request`"),
            );
        }
        let path_or = |p: &Option<Spanned<String>>, default: &str, problems: &mut Problems| {
            let text = p.as_ref().map_or_else(
                || Spanned::new(default.to_owned()),
                |p| Spanned {
                    value: p.value.clone(),
                    span: p.span.clone(),
                },
            );
            json_path(&text, problems).map(|j| (j, text.value))
        };
        let kind = if let Some(r) = &c.request {
            let request = self.request(&r.value, r.span.as_ref(), ctx);
            let expect = c
                .expect
                .as_ref()
                .map(|e| self.expect(&e.value, ctx))
                .unwrap_or_default();
            CheckKind::Request {
                request: Box::new(request),
                expect,
            }
        } else if let Some(h) = &c.job_heartbeat {
            let url = self.text(&h.value.url, ctx);
            let (path, path_text) = path_or(&h.value.path, "$.last_success", &mut ctx.problems)?;
            CheckKind::Heartbeat {
                url,
                path,
                path_text,
                max_age: h.value.max_age.value.0,
            }
        } else if let Some(v) = &c.version {
            let url = self.text(&v.value.url, ctx);
            let (path, path_text) = path_or(&v.value.path, "$.version", &mut ctx.problems)?;
            let equals = v.value.equals.as_ref().map(|e| self.text(e, ctx));
            CheckKind::Version {
                url,
                path,
                path_text,
                equals,
            }
        } else if let Some(sp) = &c.secret_present {
            if !self.env.secrets.contains(&sp.value) {
                ctx.problems.push(
                    Problem::new(
                        format!(
                            "secret `{}` is not declared by environment `{}`",
                            sp.value, self.env.name
                        ),
                        sp.span.as_ref().or(Some(&span)),
                    )
                    .with_help(format!(
                        "add `{}` to `secrets:` of the environment file",
                        sp.value
                    )),
                );
            }
            CheckKind::SecretPresent(sp.value.clone())
        } else if let Some(r) = &c.reachable {
            let target = self.text(&r.value.target, ctx);
            let timeout = r
                .value
                .timeout
                .as_ref()
                .map_or(Duration::from_secs(5), |t| t.value.0);
            CheckKind::Reachable { target, timeout }
        } else {
            return None;
        };
        Some(Check {
            name: c.name.value.clone(),
            owner: c.owner.clone(),
            hint: c.hint.clone(),
            span,
            kind,
        })
    }

    /// A compiler for scenarios that will run in `env`, reading fixtures under
    /// `fixtures_dir` and compiling templates into `templates`.
    pub fn new(
        env: &'a Environment,
        fixtures_dir: impl Into<PathBuf>,
        templates: &'a mut Templates,
    ) -> Self {
        Self {
            env,
            fixtures_dir: fixtures_dir.into(),
            templates,
            fixtures: BTreeMap::new(),
            regexes: HashMap::new(),
        }
    }

    /// Loads and checks one scenario file; every problem in it is reported.
    pub fn compile_file(&mut self, path: &Path) -> Result<Scenario, Problems> {
        let source = read_source(path).map_err(|p| Problems(vec![p]))?;
        let file: ScenarioFile = parse_as(&source).map_err(|p| Problems(vec![p]))?;
        let span0 = file
            .name
            .span
            .clone()
            .unwrap_or_else(|| Span::file_start(&source));
        if let Some(reason) = self.unmet(file.needs.as_ref()) {
            return Ok(Scenario {
                path: path.to_owned(),
                name: file.name.value,
                description: file.description,
                tags: file.tags,
                owner: file.owner,
                exclusive: file.exclusive,
                requires: Vec::new(),
                left_out: Some(reason),
                vars: Vec::new(),
                steps: Vec::new(),
                cleanup: Vec::new(),
                span: span0,
            });
        }
        let mut ctx = Ctx {
            problems: Problems::default(),
            known: self.env.vars.iter().map(|(k, _)| k.clone()).collect(),
            later: HashSet::new(),
            names: HashSet::new(),
            include_stack: vec![path.to_owned()],
            file: path,
        };
        collect_captures(&file.steps.value, &mut ctx.later);
        // Pre-flight checks see the environment's vars only: they run once for the whole
        // run, before any scenario binds its own.
        let requires: Vec<Check> = file
            .requires
            .iter()
            .filter_map(|c| self.check(c, &mut ctx))
            .collect();
        let mut vars = Vec::new();
        for (k, v) in file.vars.iter() {
            let value = self.value(v, &mut ctx);
            ctx.known.push(k.value.clone());
            vars.push((k.value.clone(), value));
        }
        let span = file
            .name
            .span
            .clone()
            .unwrap_or_else(|| Span::file_start(&source));
        if file.steps.value.is_empty() {
            ctx.problems.push(
                Problem::new(
                    "a scenario needs at least one step",
                    file.steps.span.as_ref(),
                )
                .with_help("add a `request:` step under `steps:`"),
            );
        }
        let mut steps = Vec::new();
        for s in &file.steps.value {
            self.step(s, &mut ctx, &mut steps, "");
        }
        // Cleanup may use anything the steps captured (it runs after a failure too, when a
        // capture may be missing: that is reported at run time).
        let mut cleanup = Vec::new();
        for s in &file.cleanup {
            self.step(s, &mut ctx, &mut cleanup, "");
        }
        if !ctx.problems.is_empty() {
            return Err(ctx.problems);
        }
        Ok(Scenario {
            path: path.to_owned(),
            name: file.name.value,
            description: file.description,
            tags: file.tags,
            owner: file.owner,
            exclusive: file.exclusive,
            requires,
            left_out: None,
            vars,
            steps,
            cleanup,
            span,
        })
    }

    fn step(
        &mut self,
        def: &Spanned<StepDef>,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Step>,
        prefix: &str,
    ) {
        let s = &def.value;
        let span = def
            .span
            .clone()
            .unwrap_or_else(|| Span::file_start(&SourceFile::new(ctx.file, String::new())));
        let actions = [
            s.request.is_some(),
            s.wait.is_some(),
            s.include.is_some(),
            s.approve.is_some(),
            s.advance_clock.is_some(),
        ];
        let count = actions.iter().filter(|a| **a).count();
        if count != 1 {
            let msg = if count == 0 {
                "a step needs an action: `request`, `wait`, `include`, `approve` or `advance_clock`"
            } else {
                "a step has one action (`request`, `wait`, `include`, `approve` or `advance_clock`), not several"
            };
            ctx.problems
                .push(Problem::new(msg, Some(&span)).with_help("split it into separate steps"));
            return;
        }
        let name = match &s.name {
            Some(n) => n.value.clone(),
            None => default_name(s),
        };
        let full_name = format!("{prefix}{name}");
        if !ctx.names.insert(full_name.clone()) {
            let at = s
                .name
                .as_ref()
                .and_then(|n| n.span.as_ref())
                .unwrap_or(&span);
            ctx.problems.push(
                Problem::new(format!("duplicate step name `{full_name}`"), Some(at))
                    .with_help("give each step of a scenario its own `name:`"),
            );
        }
        if s.request.is_none() {
            for (key, present) in [
                ("expect", s.expect.is_some()),
                ("capture", !s.capture.is_empty()),
                ("poll", s.poll.is_some()),
            ] {
                if present {
                    ctx.problems.push(
                        Problem::new(
                            format!("`{key}` only goes with a `request` step"),
                            Some(&span),
                        )
                        .with_help(format!("move `{key}` to the request it belongs to")),
                    );
                }
            }
        }
        if let Some(w) = &s.wait {
            out.push(Step {
                name: full_name,
                span,
                action: Action::Wait(w.value.0),
                expect: Expect::default(),
                captures: Vec::new(),
                poll: None,
            });
            return;
        }
        if let Some(inc) = &s.include {
            self.include(inc, &span, ctx, out, &full_name);
            return;
        }
        if let Some(by) = &s.advance_clock {
            if self.env.clock != ClockKind::Virtual {
                ctx.problems.push(
                    Problem::new(
                        format!(
                            "step `{full_name}` advances the clock, but environment `{}` runs on real time",
                            self.env.name
                        ),
                        by.span.as_ref().or(Some(&span)),
                    )
                    .with_help("`advance_clock` needs a virtual clock (the local stack): declare `clock: virtual` on the scenario to leave it out on real-time environments, or `poll` for the status instead"),
                );
            }
            out.push(Step {
                name: full_name,
                span,
                action: Action::AdvanceClock(by.value.0),
                expect: Expect::default(),
                captures: Vec::new(),
                poll: None,
            });
            return;
        }
        if let Some(a) = &s.approve {
            if self.env.approvals == ApprovalMode::Mock
                && !ctx.known.iter().any(|k| k == "bank_admin")
            {
                ctx.problems.push(
                    Problem::new(
                        format!("step `{full_name}` approves through the bank mock, but environment `{}` has no var `bank_admin`", self.env.name),
                        a.span.as_ref().or(Some(&span)),
                    )
                    .with_help("set `bank_admin` in the environment's vars, or choose another `approvals: { mode: … }`"),
                );
            }
            let reference = self.text(&a.value.reference, ctx);
            let note = a.value.note.as_ref().map(|n| self.text(n, ctx));
            let amount = a.value.amount.as_ref().map(|n| self.text(n, ctx));
            let decision = match a.value.decision.as_ref().map(|d| d.value) {
                Some(DecisionDef::Reject) => Decision::Reject,
                _ => Decision::Approve,
            };
            out.push(Step {
                name: full_name,
                span,
                action: Action::Approve(Approval {
                    reference,
                    decision,
                    note,
                    amount,
                }),
                expect: Expect::default(),
                captures: Vec::new(),
                poll: None,
            });
            return;
        }
        let Some(req) = &s.request else { return };
        let request = self.request(&req.value, req.span.as_ref(), ctx);
        let mut expect = match &s.expect {
            Some(e) => self.expect(&e.value, ctx),
            None => Expect::default(),
        };
        if expect.status.is_none() {
            expect.status = Some(StatusMatch::below_400());
        }
        let poll = s
            .poll
            .as_ref()
            .map(|p| self.poll(&p.value, p.span.as_ref(), ctx));
        if poll.is_some() && s.expect.is_none() {
            ctx.problems.push(
                Problem::new("`poll` needs an `expect` to know when to stop", Some(&span))
                    .with_help("add `expect:` with the state you wait for"),
            );
        }
        // Captures become known after the request, for the steps that follow.
        let captures = self.captures(&s.capture, ctx);
        out.push(Step {
            name: full_name,
            span,
            action: Action::Request(request),
            expect,
            captures,
            poll,
        });
    }

    fn include(
        &mut self,
        inc: &Spanned<IncludeDef>,
        step_span: &Span,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Step>,
        name: &str,
    ) {
        let at = inc.span.as_ref().unwrap_or(step_span);
        let base = ctx
            .include_stack
            .last()
            .and_then(|p| p.parent())
            .unwrap_or(Path::new("."));
        let path = base.join(&inc.value.file);
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if ctx
            .include_stack
            .iter()
            .any(|p| p.canonicalize().unwrap_or_else(|_| p.clone()) == canonical)
        {
            let chain: Vec<String> = ctx
                .include_stack
                .iter()
                .map(|p| p.display().to_string())
                .chain([path.display().to_string()])
                .collect();
            ctx.problems.push(
                Problem::new(format!("include cycle: {}", chain.join(" → ")), Some(at))
                    .with_help("a fragment must not include itself, directly or through others"),
            );
            return;
        }
        let source = match read_source(&path) {
            Ok(s) => s,
            Err(p) => {
                ctx.problems.push(
                    Problem::new(
                        format!("fragment `{}` does not exist", inc.value.file),
                        Some(at),
                    )
                    .with_help(format!(
                        "{} (paths are relative to the including file)",
                        p.message
                    )),
                );
                return;
            }
        };
        let frag: FragmentFile = match parse_as(&source) {
            Ok(f) => f,
            Err(p) => {
                ctx.problems.push(p);
                return;
            }
        };
        // Parameters: every `with` key must be declared; declared ones without default must
        // be given.
        let declared: Vec<&str> = frag.params.iter().map(|(k, _)| k.value.as_str()).collect();
        let mut binds = Vec::new();
        for (k, v) in inc.value.params.iter() {
            if !declared.contains(&k.value.as_str()) {
                ctx.problems.push(
                    Problem::new(
                        format!("`{}` is not a parameter of {}", k.value, inc.value.file),
                        k.span.as_ref().or(Some(at)),
                    )
                    .with_help(
                        did_you_mean(&k.value, declared.iter().copied()).unwrap_or_else(|| {
                            format!("its parameters are: {}", declared.join(", "))
                        }),
                    ),
                );
                continue;
            }
            let value = self.value(v, ctx);
            binds.push((k.value.clone(), value));
        }
        for (k, default) in frag.params.iter() {
            if binds.iter().any(|(b, _)| *b == k.value) {
                continue;
            }
            if matches!(default.kind, ValueKind::Null) {
                // Known from here on, so that one missing parameter is one problem.
                ctx.known.push(k.value.clone());
                ctx.problems.push(
                    Problem::new(
                        format!("{} needs the parameter `{}`", inc.value.file, k.value),
                        Some(at),
                    )
                    .with_help(format!("add `with: {{ {}: … }}`", k.value)),
                );
            } else {
                let value = self.value(default, ctx);
                binds.push((k.value.clone(), value));
            }
        }
        for (k, _) in &binds {
            ctx.known.push(k.clone());
        }
        out.push(Step {
            name: name.to_owned(),
            span: step_span.clone(),
            action: Action::Bind(binds),
            expect: Expect::default(),
            captures: Vec::new(),
            poll: None,
        });
        collect_captures(&frag.steps.value, &mut ctx.later);
        ctx.include_stack.push(path);
        // Steps of the fragment read "login › POST /auth": the include step's own name
        // when it has one, else the fragment's file stem.
        let (parent, last) = match name.rsplit_once(" › ") {
            Some((p, l)) => (format!("{p} › "), l),
            None => (String::new(), name),
        };
        let label = last.strip_prefix("include ").unwrap_or(last);
        let prefix = format!("{parent}{label} › ");
        for s in &frag.steps.value {
            self.step(s, ctx, out, &prefix);
        }
        ctx.include_stack.pop();
    }

    fn request(&mut self, r: &RequestDef, span: Option<&Span>, ctx: &mut Ctx<'_>) -> Request {
        let method = match &r.method {
            Some(m) => {
                let upper = m.value.to_ascii_uppercase();
                if !METHODS.contains(&upper.as_str()) {
                    ctx.problems.push(
                        Problem::new(
                            format!("unknown HTTP method `{}`", m.value),
                            m.span.as_ref(),
                        )
                        .with_help_opt(did_you_mean(&upper, METHODS.iter().copied()))
                        .with_help_opt(Some(format!("use one of {}", METHODS.join(", ")))),
                    );
                }
                upper
            }
            None => "GET".to_owned(),
        };
        let url = self.text(&r.url, ctx);
        if url.is_literal()
            && !(url.source.starts_with("http://") || url.source.starts_with("https://"))
        {
            ctx.problems.push(
                Problem::new(
                    format!("`{}` is not an absolute http(s) URL", url.source),
                    r.url.span.as_ref(),
                )
                .with_help(
                    "write the full URL, usually from a variable: \"{{ platform }}/payments\"",
                ),
            );
        }
        let headers = self.string_map(&r.headers, ctx);
        let query = self.string_map(&r.query, ctx);
        let bodies = [r.json.is_some(), r.body.is_some(), r.form.is_some()];
        if bodies.iter().filter(|b| **b).count() > 1 {
            ctx.problems.push(
                Problem::new("a request has one body: `json`, `body` or `form`", span)
                    .with_help("keep only one of them"),
            );
        }
        let body = if let Some(j) = &r.json {
            Body::Json(self.value(j, ctx))
        } else if let Some(b) = &r.body {
            Body::Text(self.text(b, ctx))
        } else if let Some(f) = &r.form {
            Body::Form(self.string_map(f, ctx))
        } else {
            Body::None
        };
        Request {
            method,
            url,
            headers,
            query,
            body,
            timeout: r.timeout.as_ref().map(|t| t.value.0),
            follow_redirects: r.follow_redirects.unwrap_or(false),
            retries: r.retries,
        }
    }

    fn string_map(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<(String, Tpl)> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            let text = match &v.kind {
                ValueKind::String(s) => s.clone(),
                ValueKind::Number(n) => n.to_string(),
                ValueKind::Bool(b) => b.to_string(),
                _ => {
                    ctx.problems.push(
                        Problem::new(
                            format!(
                                "`{}` must be a string, found {}",
                                k.value,
                                kind_name(&v.kind)
                            ),
                            v.span.as_ref().or(k.span.as_ref()),
                        )
                        .with_help("quote the value"),
                    );
                    continue;
                }
            };
            let t = self.text(
                &Spanned {
                    value: text,
                    span: v.span.clone(),
                },
                ctx,
            );
            out.push((k.value.clone(), t));
        }
        out
    }

    fn expect(&mut self, e: &ExpectDef, ctx: &mut Ctx<'_>) -> Expect {
        let status = e.status.as_ref().and_then(|s| status(s, &mut ctx.problems));
        let headers = e
            .headers
            .iter()
            .map(|(k, v)| HeaderCheck {
                name: k.value.to_ascii_lowercase(),
                matcher: self.matcher(v, ctx),
                span: k.span.clone(),
            })
            .collect();
        let json = self.json_checks(&e.json, ctx);
        let body_contains = match &e.body_contains {
            None => Vec::new(),
            Some(v) => match &v.kind {
                ValueKind::String(s) => {
                    vec![self.text(
                        &Spanned {
                            value: s.clone(),
                            span: v.span.clone(),
                        },
                        ctx,
                    )]
                }
                ValueKind::Array(items) => items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        ValueKind::String(s) => Some(self.text(
                            &Spanned {
                                value: s.clone(),
                                span: i.span.clone(),
                            },
                            ctx,
                        )),
                        _ => {
                            ctx.problems.push(
                                Problem::new("`body_contains` takes strings", i.span.as_ref())
                                    .with_help("quote the value"),
                            );
                            None
                        }
                    })
                    .collect(),
                _ => {
                    ctx.problems.push(
                        Problem::new(
                            "`body_contains` takes a string or a list of strings",
                            v.span.as_ref(),
                        )
                        .with_help("write `body_contains: \"text\"`"),
                    );
                    Vec::new()
                }
            },
        };
        let schema = e.schema.as_ref().and_then(|s| self.schema(s, ctx));
        Expect {
            status,
            headers,
            json,
            body_contains,
            duration_lt: e.duration_lt.as_ref().map(|d| d.value.0),
            schema,
        }
    }

    fn schema(&mut self, s: &Spanned<String>, ctx: &mut Ctx<'_>) -> Option<SchemaCheck> {
        let json = self.fixture(&s.value, s.span.as_ref(), ctx)?;
        match jsonschema::validator_for(&json) {
            Ok(v) => Some(SchemaCheck {
                fixture: s.value.clone(),
                validator: Arc::new(v),
                span: s.span.clone(),
            }),
            Err(e) => {
                ctx.problems.push(
                    Problem::new(
                        format!("fixture `{}` is not a valid JSON Schema: {e}", s.value),
                        s.span.as_ref(),
                    )
                    .with_help("fix the schema file"),
                );
                None
            }
        }
    }

    fn fixture(&mut self, rel: &str, span: Option<&Span>, ctx: &mut Ctx<'_>) -> Option<Json> {
        if let Some(j) = self.fixtures.get(rel) {
            return Some(j.clone());
        }
        let path = self.fixtures_dir.join(rel);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) => {
                ctx.problems.push(
                    Problem::new(format!("unknown fixture file `{rel}`"), span).with_help(format!(
                        "fixtures are read from {}",
                        self.fixtures_dir.display()
                    )),
                );
                return None;
            }
        };
        let json = if rel.ends_with(".json") {
            match serde_json::from_str(&text) {
                Ok(j) => j,
                Err(e) => {
                    ctx.problems.push(
                        Problem::new(format!("fixture `{rel}` is not valid JSON: {e}"), span)
                            .with_help("fix the fixture file"),
                    );
                    return None;
                }
            }
        } else {
            Json::String(text)
        };
        self.fixtures.insert(rel.to_owned(), json.clone());
        self.templates.add_fixture(rel, json.clone());
        Some(json)
    }

    fn json_checks(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<JsonCheck> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            let matcher = self.matcher(v, ctx);
            if let Some(path) = json_path(k, &mut ctx.problems) {
                out.push(JsonCheck {
                    path,
                    path_text: k.value.clone(),
                    matcher,
                    span: k.span.clone(),
                });
            }
        }
        out
    }

    /// A regex, compiled once per pattern.
    fn regex(&mut self, pattern: &str) -> Result<Regex, regex::Error> {
        if let Some(re) = self.regexes.get(pattern) {
            return Ok(re.clone());
        }
        let re = Regex::new(pattern)?;
        self.regexes.insert(pattern.to_owned(), re.clone());
        Ok(re)
    }

    fn matcher(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> Matcher {
        let ValueKind::Object(entries) = &v.kind else {
            return Matcher::eq(self.value(v, ctx));
        };
        let mut ops = Vec::new();
        for (k, arg) in entries {
            let at = k.span.as_ref().or(v.span.as_ref());
            let bad = |message: String, help: String| {
                Err(Problem::new(message, arg.span.as_ref()).with_help(help))
            };
            let op = match (k.value.as_str(), &arg.kind) {
                ("eq", _) => Ok(Op::Eq(self.value(arg, ctx))),
                ("ne", _) => Ok(Op::Ne(self.value(arg, ctx))),
                ("gt", _) => Ok(Op::Gt(self.value(arg, ctx))),
                ("gte", _) => Ok(Op::Gte(self.value(arg, ctx))),
                ("lt", _) => Ok(Op::Lt(self.value(arg, ctx))),
                ("lte", _) => Ok(Op::Lte(self.value(arg, ctx))),
                ("contains", _) => Ok(Op::Contains(self.value(arg, ctx))),
                ("len", _) => Ok(Op::Len(Box::new(self.matcher(arg, ctx)))),
                ("matches", ValueKind::String(s)) => match self.regex(s) {
                    Ok(re) => Ok(Op::Matches(re)),
                    Err(e) => bad(
                        format!("invalid regex: {}", regex_message(&e)),
                        "regexes use Rust syntax; escape `\\` in YAML double quotes or use single quotes".to_owned(),
                    ),
                },
                ("matches", _) => bad("`matches` takes a regex string".to_owned(), "quote the regex".to_owned()),
                ("exists", ValueKind::Bool(b)) => Ok(Op::Exists(*b)),
                ("exists", _) => bad("`exists` takes true or false".to_owned(), "write `exists: true`".to_owned()),
                ("type", _) => match json_type(arg) {
                    Some(t) => Ok(Op::Type(t)),
                    None => bad(
                        format!("unknown type {}", arg.to_json()),
                        format!("use one of {}", JsonType::NAMES.join(", ")),
                    ),
                },
                ("one_of", ValueKind::Array(items)) => {
                    Ok(Op::OneOf(items.iter().map(|i| self.value(i, ctx)).collect()))
                }
                ("one_of", _) => bad("`one_of` takes a list".to_owned(), "write `one_of: [a, b]`".to_owned()),
                (other, _) => Err(Problem::new(format!("unknown matcher `{other}`"), at).with_help(
                    did_you_mean(other, OPERATORS.iter().copied()).unwrap_or_else(|| {
                        format!(
                            "use one of {}; to compare with an object write `eq: {{…}}`",
                            OPERATORS.join(", ")
                        )
                    }),
                )),
            };
            match op {
                Ok(op) => ops.push(op),
                Err(problem) => ctx.problems.push(problem),
            }
        }
        Matcher { ops }
    }

    fn poll(&mut self, p: &PollDef, span: Option<&Span>, ctx: &mut Ctx<'_>) -> Poll {
        let every = p
            .every
            .as_ref()
            .map_or(Duration::from_secs(1), |d| d.value.0);
        let timeout = p
            .timeout
            .as_ref()
            .map_or(self.env.poll_timeout, |d| d.value.0);
        let backoff = p.backoff.as_ref().map_or(1.0, |b| b.value);
        if !(1.0..=10.0).contains(&backoff) {
            ctx.problems.push(
                Problem::new(
                    format!("backoff {backoff} is out of range"),
                    p.backoff.as_ref().and_then(|b| b.span.as_ref()).or(span),
                )
                .with_help("use a factor between 1 (constant) and 10"),
            );
        }
        if every.is_zero() {
            ctx.problems.push(
                Problem::new(
                    "`every` must be more than zero",
                    p.every.as_ref().and_then(|d| d.span.as_ref()).or(span),
                )
                .with_help("write e.g. `every: 500ms`"),
            );
        }
        Poll {
            every,
            timeout,
            backoff,
            max_every: p.max_every.as_ref().map(|d| d.value.0),
            fail_if: self.json_checks(&p.fail_if, ctx),
        }
    }

    fn captures(&mut self, map: &SpannedMap<Value>, ctx: &mut Ctx<'_>) -> Vec<Capture> {
        let mut out = Vec::new();
        for (k, v) in map.iter() {
            if !is_identifier(&k.value) {
                ctx.problems.push(
                    Problem::new(
                        format!("`{}` is not a valid variable name", k.value),
                        k.span.as_ref(),
                    )
                    .with_help("use letters, digits and `_`, starting with a letter: payment_id"),
                );
            }
            if let Some(from) = capture_from(v, &mut ctx.problems) {
                let secret = match &v.kind {
                    ValueKind::Object(entries) => entries
                        .iter()
                        .find(|(k, _)| k.value == "secret")
                        .and_then(|(_, b)| b.to_json().as_bool()),
                    _ => None,
                };
                out.push(Capture {
                    var: k.value.clone(),
                    from,
                    secret,
                    span: k.span.clone(),
                });
            }
            ctx.known.push(k.value.clone());
        }
        out
    }

    fn text(&mut self, s: &Spanned<String>, ctx: &mut Ctx<'_>) -> Tpl {
        match self.templates.compile(&s.value, s.span.as_ref()) {
            Ok((tpl, used)) => {
                self.check_vars(&used, s.span.as_ref(), ctx);
                self.check_calls(&s.value, s.span.as_ref(), ctx);
                tpl
            }
            Err(e) => {
                ctx.problems.push(
                    Problem::new(format!("invalid template: {e}"), s.span.as_ref())
                        .with_help("templates look like {{ name }} or {{ secret('NAME') }}"),
                );
                Tpl::literal(s.value.clone())
            }
        }
    }

    fn value(&mut self, v: &Value, ctx: &mut Ctx<'_>) -> TplValue {
        match &v.kind {
            ValueKind::String(s) => {
                let tpl = self.text(
                    &Spanned {
                        value: s.clone(),
                        span: v.span.clone(),
                    },
                    ctx,
                );
                if tpl.is_literal() {
                    TplValue::Json(Json::String(s.clone()))
                } else {
                    TplValue::Str(tpl)
                }
            }
            ValueKind::Array(items) => {
                let items: Vec<TplValue> = items.iter().map(|i| self.value(i, ctx)).collect();
                if items.iter().all(|i| matches!(i, TplValue::Json(_))) {
                    TplValue::Json(v.to_json())
                } else {
                    TplValue::Array(items)
                }
            }
            ValueKind::Object(entries) => {
                let items: Vec<(String, TplValue)> = entries
                    .iter()
                    .map(|(k, i)| (k.value.clone(), self.value(i, ctx)))
                    .collect();
                if items.iter().all(|(_, i)| matches!(i, TplValue::Json(_))) {
                    TplValue::Json(v.to_json())
                } else {
                    TplValue::Object(items)
                }
            }
            _ => TplValue::Json(v.to_json()),
        }
    }

    fn check_vars(&self, used: &[String], span: Option<&Span>, ctx: &mut Ctx<'_>) {
        for var in used {
            if ctx.known.iter().any(|k| k == var) {
                continue;
            }
            let help = if ctx.later.contains(var) {
                format!("`{var}` is captured by a later step; move this step after it")
            } else {
                did_you_mean(var, ctx.known.iter().map(String::as_str).chain(FUNCTIONS.iter().copied()))
                    .unwrap_or_else(|| {
                        format!(
                            "define it in `vars:` of the scenario or of environment `{}`, or capture it in an earlier step",
                            self.env.name
                        )
                    })
            };
            ctx.problems.push(
                Problem::new(format!("variable `{var}` is not defined here"), span).with_help(help),
            );
        }
    }

    fn check_calls(&mut self, text: &str, span: Option<&Span>, ctx: &mut Ctx<'_>) {
        for (func, arg) in literal_calls(text) {
            match func {
                "secret" if !self.env.secrets.iter().any(|s| s == arg) => {
                    ctx.problems.push(
                        Problem::new(
                            format!(
                                "secret `{arg}` is not declared by environment `{}`",
                                self.env.name
                            ),
                            span,
                        )
                        .with_help_opt(did_you_mean(
                            arg,
                            self.env.secrets.iter().map(String::as_str),
                        ))
                        .with_help_opt(Some(format!(
                            "add `{arg}` to `secrets:` of the environment file"
                        ))),
                    );
                }
                "fixture" => {
                    self.fixture(arg, span, ctx);
                }
                _ => {}
            }
        }
    }
}

/// `secret('X')`, `fixture("a/b.json")`, `env('Y')` calls with a literal argument.
fn literal_calls(text: &str) -> Vec<(&str, &str)> {
    static RE: std::sync::LazyLock<Option<Regex>> = std::sync::LazyLock::new(|| {
        Regex::new(r#"\b(secret|fixture|env)\(\s*['"]([^'"]+)['"]"#).ok()
    });
    let Some(re) = RE.as_ref() else {
        return Vec::new();
    };
    re.captures_iter(text)
        .filter_map(|c| {
            let f = c.get(1)?.as_str();
            let a = c.get(2)?.as_str();
            Some((f, a))
        })
        .collect()
}

fn collect_captures(steps: &[Spanned<StepDef>], out: &mut HashSet<String>) {
    for s in steps {
        for (k, _) in s.value.capture.iter() {
            out.insert(k.value.clone());
        }
    }
}

fn fragment_stem(file: &str) -> &str {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.strip_suffix(".yaml")
        .or_else(|| base.strip_suffix(".yml"))
        .unwrap_or(base)
}

fn default_name(s: &StepDef) -> String {
    if let Some(r) = &s.request {
        let method = r
            .value
            .method
            .as_ref()
            .map_or("GET".to_owned(), |m| m.value.to_ascii_uppercase());
        format!("{method} {}", r.value.url.value)
    } else if let Some(w) = &s.wait {
        format!("wait {}", w.value)
    } else if let Some(i) = &s.include {
        format!("include {}", fragment_stem(&i.value.file))
    } else if let Some(a) = &s.approve {
        let d = match a.value.decision.as_ref().map(|d| d.value) {
            Some(DecisionDef::Reject) => "reject",
            _ => "approve",
        };
        format!("{d} {}", a.value.reference.value)
    } else if let Some(by) = &s.advance_clock {
        format!("advance clock {}", by.value)
    } else {
        "step".to_owned()
    }
}

fn status(v: &Value, problems: &mut Problems) -> Option<StatusMatch> {
    let one = |v: &Value, problems: &mut Problems| -> Option<StatusPattern> {
        let bad = |problems: &mut Problems| {
            problems.push(
                Problem::new(format!("invalid status `{}`", v.to_json()), v.span.as_ref())
                    .with_help("write a code (200), a class (2xx) or a list: [200, 201]"),
            );
            None
        };
        match &v.kind {
            ValueKind::Number(n) => match n.as_u64() {
                Some(c @ 100..=599) => u16::try_from(c).ok().map(StatusPattern::Code),
                _ => bad(problems),
            },
            ValueKind::String(s) => {
                let b = s.as_bytes();
                if b.len() == 3
                    && (b'1'..=b'5').contains(&b[0])
                    && s[1..].eq_ignore_ascii_case("xx")
                {
                    Some(StatusPattern::Class(u16::from(b[0] - b'0')))
                } else if let Ok(c @ 100..=599) = s.parse::<u16>() {
                    Some(StatusPattern::Code(c))
                } else {
                    bad(problems)
                }
            }
            _ => bad(problems),
        }
    };
    let patterns: Vec<StatusPattern> = match &v.kind {
        ValueKind::Array(items) => items.iter().filter_map(|i| one(i, problems)).collect(),
        _ => one(v, problems).into_iter().collect(),
    };
    (!patterns.is_empty()).then(|| StatusMatch {
        patterns,
        span: v.span.clone(),
    })
}

fn json_path(k: &Spanned<String>, problems: &mut Problems) -> Option<JsonPath> {
    match JsonPath::parse(&k.value) {
        Ok(p) => Some(p),
        Err(e) => {
            let hint = if k.value.starts_with('$') {
                "JSONPath follows RFC 9535: `$.status`, `$.items[0].id`, `$['odd key']`".to_owned()
            } else {
                format!("a JSONPath starts with `$`: did you mean `$.{}`?", k.value)
            };
            problems.push(
                Problem::new(
                    format!(
                        "invalid JSONPath `{}`: {}",
                        k.value,
                        first_line(&e.to_string())
                    ),
                    k.span.as_ref(),
                )
                .with_help(hint),
            );
            None
        }
    }
}

fn capture_from(v: &Value, problems: &mut Problems) -> Option<CaptureFrom> {
    match &v.kind {
        ValueKind::String(s) => json_path(
            &Spanned {
                value: s.clone(),
                span: v.span.clone(),
            },
            problems,
        )
        .map(|p| CaptureFrom::Json(p, s.clone())),
        ValueKind::Object(entries) => {
            let get = |key: &str| entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v);
            for (k, _) in entries {
                if !["json", "header", "regex", "group", "body", "secret"]
                    .contains(&k.value.as_str())
                {
                    problems.push(
                        Problem::new(format!("unknown capture key `{}`", k.value), k.span.as_ref())
                            .with_help(did_you_mean(&k.value, ["json", "header", "regex", "group", "body", "secret"]).unwrap_or_else(|| "a capture takes `json`, `header`, `regex` (with `group`) or `body: true`".to_owned())),
                    );
                    return None;
                }
            }
            let str_of = |v: &Value| match &v.kind {
                ValueKind::String(s) => Some(Spanned {
                    value: s.clone(),
                    span: v.span.clone(),
                }),
                _ => None,
            };
            if let Some(p) = get("json").and_then(str_of) {
                json_path(&p, problems).map(|j| CaptureFrom::Json(j, p.value))
            } else if let Some(h) = get("header").and_then(str_of) {
                Some(CaptureFrom::Header(h.value.to_ascii_lowercase()))
            } else if let Some(r) = get("regex").and_then(str_of) {
                let group = get("group").and_then(|g| g.to_json().as_u64()).unwrap_or(1);
                match Regex::new(&r.value) {
                    Ok(re) if usize::try_from(group).is_ok_and(|g| g < re.captures_len()) => {
                        Some(CaptureFrom::Regex(re, usize::try_from(group).unwrap_or(1)))
                    }
                    Ok(re) => {
                        problems.push(
                            Problem::new(
                                format!(
                                    "the regex has {} group(s), group {group} was asked for",
                                    re.captures_len() - 1
                                ),
                                r.span.as_ref(),
                            )
                            .with_help("put the part to capture in parentheses: `id=(\\d+)`"),
                        );
                        None
                    }
                    Err(e) => {
                        problems.push(
                            Problem::new(
                                format!("invalid regex: {}", regex_message(&e)),
                                r.span.as_ref(),
                            )
                            .with_help("regexes use Rust syntax"),
                        );
                        None
                    }
                }
            } else if matches!(get("body").map(|b| &b.kind), Some(ValueKind::Bool(true))) {
                Some(CaptureFrom::Body)
            } else {
                problems.push(
                    Problem::new(
                        "a capture needs `json`, `header`, `regex` or `body: true`",
                        v.span.as_ref(),
                    )
                    .with_help("e.g. `payment_id: $.id` or `location: { header: Location }`"),
                );
                None
            }
        }
        _ => {
            problems.push(
                Problem::new("a capture is a JSONPath or a mapping", v.span.as_ref())
                    .with_help("e.g. `payment_id: $.id`"),
            );
            None
        }
    }
}

/// The JSON type a `type:` matcher names.
fn json_type(v: &Value) -> Option<JsonType> {
    match &v.kind {
        ValueKind::String(s) => JsonType::parse(s),
        _ => None,
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kind_name(k: &ValueKind) -> &'static str {
    match k {
        ValueKind::Null => "null",
        ValueKind::Bool(_) => "a boolean",
        ValueKind::Number(_) => "a number",
        ValueKind::String(_) => "a string",
        ValueKind::Array(_) => "a list",
        ValueKind::Object(_) => "a mapping",
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}

/// The regex crate puts the useful part (`error: unclosed group`) on its last line.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or(text.clone(), |l| {
            l.trim().trim_start_matches("error: ").to_owned()
        })
}

fn compile_value(
    v: &Value,
    templates: &mut Templates,
    known: &[String],
    problems: &mut Problems,
) -> TplValue {
    let env = Environment::new("environment");
    let mut ctx = Ctx {
        problems: Problems::default(),
        known: known.to_vec(),
        later: HashSet::new(),
        names: HashSet::new(),
        include_stack: Vec::new(),
        file: Path::new(""),
    };
    let mut c = Compiler::new(&env, PathBuf::new(), templates);
    let out = c.value(v, &mut ctx);
    // Environment vars may use functions; only undefined variables matter here.
    for p in ctx.problems.0 {
        if p.message.starts_with("variable ") {
            problems.push(p);
        }
    }
    out
}
