//! The compiler of one scenario file: its context, its steps and their default names.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use regex::Regex;
use serde_json::Value as Json;

use super::known::Known;
use super::source::{parse_as, read_source};
use crate::bounds::MAX_PROBLEMS_PER_FILE;
use crate::error::{Problem, Problems, shorten};
use crate::model::{ApprovalMode, ClockKind, DecisionDef, FragmentFile, ScenarioFile, StepDef};
use crate::plan::{
    Action, Approval, Check, Decision, Environment, Expect, Scenario, StatusMatch, Step,
};
use crate::span::{SourceFile, Span, Spanned};
use crate::template::{Templates, TplValue};
use crate::value::ValueKind;

/// Compiles scenario files against an environment.
#[derive(Debug)]
pub struct Compiler<'a> {
    pub(super) env: &'a Environment,
    pub(super) fixtures_dir: PathBuf,
    pub(super) templates: &'a mut Templates,
    pub(super) fixtures: BTreeMap<String, Json>,
    /// `matches` regexes by pattern: suites repeat patterns, and each compile costs about
    /// 100 µs (regex-automata builds its UTF-8 tables per NFA), a fifth of `validate`.
    pub(super) regexes: HashMap<String, Regex>,
    /// The suite's folder, as a real path: fragments must be inside it (or beside the
    /// scenario that includes them).
    pub(super) root: PathBuf,
    /// The environment's vars by name (the first of a name, as a search would find).
    pub(super) env_vars: HashMap<&'a str, &'a TplValue>,
    /// `schema` validators by fixture path: compiled once however many steps use one.
    pub(super) schemas: HashMap<String, Arc<jsonschema::Validator>>,
    /// JSONPaths without templates, by their text.
    pub(super) json_paths: HashMap<String, serde_json_path::JsonPath>,
    /// Fragments read and parsed without a problem, by real path: read once per suite
    /// however many scenarios include them. Their steps share one source text, so their
    /// spans and templates do too (a 5,000-file suite read and kept its two fragments
    /// 5,000 times: issue #10). A fragment with a problem is read again by each scenario
    /// that includes it, which reports the problem as its own.
    pub(super) fragment_files: HashMap<PathBuf, Rc<FragmentFile>>,
}

pub(super) struct Ctx<'s> {
    pub(super) problems: Problems,
    pub(super) known: Known,
    /// Values of the known variables that are literals (no template): a templated
    /// JSONPath key using only these is checked at validation.
    pub(super) literals: HashMap<String, Json>,
    pub(super) later: HashSet<String>,
    pub(super) names: HashSet<String>,
    /// The files from the scenario down to the fragment being compiled, as written and
    /// as real paths (for cycles).
    pub(super) include_stack: Vec<PathBuf>,
    pub(super) real_stack: Vec<PathBuf>,
    /// Fragments that had problems in this scenario, by real path: reported once however
    /// often it includes them (those without are in [`Compiler::fragment_files`]).
    pub(super) broken_fragments: HashSet<PathBuf>,
    /// Steps compiled so far, fragments expanded (bounded by `MAX_STEPS`).
    pub(super) steps: usize,
    pub(super) file: &'s Path,
    /// Every variable a template of the scenario reads (see [`Scenario::reads`]).
    pub(super) reads: BTreeSet<String>,
}

impl Ctx<'_> {
    pub(super) fn new(known: Known, file: &Path) -> Ctx<'_> {
        Ctx {
            problems: Problems::default(),
            known,
            literals: HashMap::new(),
            later: HashSet::new(),
            names: HashSet::new(),
            include_stack: vec![file.to_owned()],
            real_stack: vec![real_path(file)],
            broken_fragments: HashSet::new(),
            steps: 0,
            file,
            reads: BTreeSet::new(),
        }
    }
}

impl<'a> Compiler<'a> {
    /// Why a scenario with these needs cannot run on this environment.
    pub(super) fn unmet(&self, needs: Option<&crate::model::NeedsDef>) -> Option<String> {
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

    /// A compiler for scenarios that will run in `env`, reading fixtures under
    /// `fixtures_dir` and compiling templates into `templates`.
    pub fn new(
        env: &'a Environment,
        fixtures_dir: impl Into<PathBuf>,
        templates: &'a mut Templates,
    ) -> Self {
        let fixtures_dir = fixtures_dir.into();
        // By default the suite is the folder that holds `fixtures/`.
        let root = match fixtures_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Self {
            env,
            fixtures_dir,
            templates,
            fixtures: BTreeMap::new(),
            regexes: HashMap::new(),
            root: real_path(&root),
            env_vars: env
                .vars
                .iter()
                .rev()
                .map(|(k, v)| (k.as_str(), v))
                .collect(),
            schemas: HashMap::new(),
            fragment_files: HashMap::new(),
            json_paths: HashMap::new(),
        }
    }

    /// The suite's folder (default: the folder that holds the fixtures folder): an
    /// included fragment must be inside it, or inside the folder of the scenario file.
    #[must_use]
    pub fn with_root(mut self, root: impl AsRef<Path>) -> Self {
        self.root = real_path(root.as_ref());
        self
    }

    /// Loads and checks one scenario file; every problem in it is reported.
    pub fn compile_file(&mut self, path: &Path) -> Result<Scenario, Problems> {
        let source = read_source(path).map_err(|p| Problems(vec![p]))?;
        let file: ScenarioFile = parse_as(&source)?;
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
                cookies: file.cookies.unwrap_or(true),
                reads: Vec::new(),
                span: span0,
            });
        }
        let mut ctx = Ctx::new(
            self.env.vars.iter().map(|(k, _)| k.as_str()).collect(),
            path,
        );
        ctx.literals = literal_values(&self.env.vars);
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
            match &value {
                TplValue::Json(j) => ctx.literals.insert(k.value.clone(), j.clone()),
                _ => ctx.literals.remove(&k.value),
            };
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
        // Room for the steps as written (an include adds more): grown by doubling, a
        // 5,000-step scenario's vector (688 bytes a step) was moved 11 times, 3.4 MB in all.
        let mut steps = Vec::with_capacity(file.steps.value.len());
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
            return Err(cap_problems(ctx.problems, path));
        }
        // A step is about a kilobyte: no spare capacity in plans of thousands of files.
        steps.shrink_to_fit();
        cleanup.shrink_to_fit();
        Ok(Scenario {
            path: path.to_owned(),
            name: file.name.value,
            description: file.description,
            tags: file.tags,
            owner: file.owner,
            exclusive: file.exclusive,
            requires,
            left_out: None,
            cookies: file.cookies.unwrap_or(true),
            vars,
            steps,
            cleanup,
            reads: ctx.reads.into_iter().collect(),
            span,
        })
    }

    pub(super) fn step(
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
        if !ctx.count_step(&span) {
            return;
        }
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
                Problem::new(
                    format!("duplicate step name `{}`", shorten(&full_name)),
                    Some(at),
                )
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
            if self.env.approvals == ApprovalMode::Mock && !ctx.known.contains("bank_admin") {
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
}

/// The first [`MAX_PROBLEMS_PER_FILE`] problems of a file, and a line saying how many more
/// there are: a file with 100,000 duplicate step names took half a minute to print.
fn cap_problems(mut problems: Problems, path: &Path) -> Problems {
    let n = problems.0.len();
    if n > MAX_PROBLEMS_PER_FILE {
        problems.0.truncate(MAX_PROBLEMS_PER_FILE);
        problems.push(
            Problem::left_out(
                format!(
                    "{} more problems in {} are not shown",
                    n - MAX_PROBLEMS_PER_FILE,
                    path.display()
                ),
                n - MAX_PROBLEMS_PER_FILE,
            )
            .with_help("fix these first; the others are shown when these are gone"),
        );
    }
    problems
}

/// A path with its symbolic links resolved, or absolute when it does not exist.
pub(super) fn real_path(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.to_owned()))
}

/// The variables whose value is a literal, by name.
pub(super) fn literal_values(vars: &[(String, TplValue)]) -> HashMap<String, Json> {
    let mut out = HashMap::new();
    for (k, v) in vars {
        match v {
            TplValue::Json(j) => out.insert(k.clone(), j.clone()),
            _ => out.remove(k),
        };
    }
    out
}

pub(super) fn collect_captures(steps: &[Spanned<StepDef>], out: &mut HashSet<String>) {
    for s in steps {
        for (k, _) in s.value.capture.iter() {
            out.insert(k.value.clone());
        }
    }
}

pub(super) fn fragment_stem(file: &str) -> &str {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.strip_suffix(".yaml")
        .or_else(|| base.strip_suffix(".yml"))
        .unwrap_or(base)
}

pub(super) fn default_name(s: &StepDef) -> String {
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

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn kind_name(k: &ValueKind) -> &'static str {
    match k {
        ValueKind::Null => "null",
        ValueKind::Bool(_) => "a boolean",
        ValueKind::Number(_) => "a number",
        ValueKind::String(_) => "a string",
        ValueKind::Array(_) => "a list",
        ValueKind::Object(_) => "a mapping",
    }
}

pub(super) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_owned()
}
