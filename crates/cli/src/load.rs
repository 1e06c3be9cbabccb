//! Loading what a command needs: the environment, the secrets, the scenarios.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rehearse_runner::World;
use rehearse_scenario::{
    Compiler, Environment, Problem, Problems, Resolve, Scenario, Templates, TplValue, discover,
    load_environment,
};

use crate::args::SelectArgs;

/// Templates are compiled before the secrets are read (the environment file says which
/// secrets exist), so the engine asks a world that is filled in afterwards.
#[derive(Debug, Default)]
pub(crate) struct LateWorld(OnceLock<World>);

impl LateWorld {
    pub(crate) fn set(&self, world: World) {
        let _ = self.0.set(world);
    }
}

impl Resolve for LateWorld {
    fn secret(&self, name: &str) -> Option<String> {
        self.0.get()?.secret(name)
    }
    fn env(&self, name: &str) -> Option<String> {
        match self.0.get() {
            Some(w) => w.env(name),
            None => std::env::var(name).ok(),
        }
    }
    fn now(&self) -> String {
        World::default().now()
    }
    fn uuid(&self) -> String {
        World::default().uuid()
    }
}

/// Everything loaded and checked.
pub(crate) struct Loaded {
    pub(crate) environment: Environment,
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) templates: Templates,
    pub(crate) world: Arc<LateWorld>,
    /// True for the built-in `local` environment: the embedded stack must be started.
    pub(crate) embedded: bool,
    /// The suite's owners (`owners.yaml` at its root), when the file exists.
    pub(crate) owners: Option<rehearse_owners::Owners>,
}

/// Folders that mark the root of a suite.
const MARKERS: [&str; 2] = ["scenarios", "environments"];

/// The suite's root, as a path usable from the current folder (`.` when it is the
/// current folder): `--root`, else the nearest folder upward from the first scenario path
/// given (or from the current folder) that holds `scenarios/` or `environments/`, else
/// the current folder.
pub(crate) fn suite_root(args: &SelectArgs) -> PathBuf {
    if let Some(root) = &args.root {
        return root.clone();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return PathBuf::from(".");
    };
    let start = match args.paths.first() {
        Some(p) => {
            let p = cwd.join(p);
            if p.is_dir() {
                p
            } else {
                p.parent().map_or_else(|| cwd.clone(), Path::to_owned)
            }
        }
        None => cwd.clone(),
    };
    let start = start.canonicalize().unwrap_or(start);
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    start
        .ancestors()
        .find(|d| MARKERS.iter().any(|m| d.join(m).is_dir()))
        .map_or_else(|| PathBuf::from("."), |root| relative(root, &cwd))
}

/// `root` as seen from `cwd`: `.`, `../..`, `sub/dir`, or absolute.
fn relative(root: &Path, cwd: &Path) -> PathBuf {
    if let Ok(down) = cwd.strip_prefix(root) {
        let ups = down.components().count();
        if ups == 0 {
            return PathBuf::from(".");
        }
        return std::iter::repeat_n("..", ups).collect();
    }
    match root.strip_prefix(cwd) {
        Ok(sub) => sub.to_owned(),
        Err(_) => root.to_owned(),
    }
}

/// `rel` inside the suite's root; `scenarios`, not `./scenarios`, at the current folder.
pub(crate) fn in_root(root: &Path, rel: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(rel)
    } else {
        root.join(rel)
    }
}

/// True when `name` means the built-in embedded stack (no environments/local.yaml in the
/// suite's root).
pub(crate) fn is_embedded(name: &str, root: &Path) -> bool {
    name == crate::stack::LOCAL
        && !in_root(root, "environments/local.yaml").is_file()
        && !in_root(root, "environments/local.yml").is_file()
}

/// Where an environment named on the command line lives: a path as typed (relative to
/// the current folder), or a name under the suite root's environments/.
pub(crate) fn environment_path(name: &str, root: &Path) -> Result<PathBuf, Problem> {
    let as_path = Path::new(name);
    if name.ends_with(".yaml") || name.ends_with(".yml") || name.contains('/') {
        return if as_path.is_file() {
            Ok(as_path.to_owned())
        } else {
            Err(
                Problem::new(format!("environment file {name} does not exist"), None)
                    .with_help("give a name under environments/ or the path of a YAML file"),
            )
        };
    }
    let dir = in_root(root, "environments");
    for ext in ["yaml", "yml"] {
        let p = dir.join(format!("{name}.{ext}"));
        if p.is_file() {
            return Ok(p);
        }
    }
    let known = known_environments(&dir);
    let help = match rehearse_scenario::did_you_mean(name, known.iter().map(String::as_str)) {
        Some(d) => d,
        None if known.is_empty() => format!(
            "there is no environments/ folder in the suite's root ({}); run rehearse inside your suite, give --root DIR or --env PATH, or use the built-in `local`",
            absolute(root).display()
        ),
        None => format!("known environments: local (built in), {}", known.join(", ")),
    };
    Err(Problem::new(
        format!(
            "unknown environment `{name}` (no {})",
            dir.join(format!("{name}.yaml")).display()
        ),
        None,
    )
    .with_help(help))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

fn known_environments(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".yaml")
                .or_else(|| n.strip_suffix(".yml"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// Puts `--var` values in the environment, over its vars of the same name.
pub(crate) fn apply_vars(env: &mut Environment, vars: &[(String, String)]) {
    for (name, value) in vars {
        let value = string_value(value);
        match env.vars.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => env.vars.push((name.clone(), value)),
        }
    }
}

fn string_value(s: &str) -> TplValue {
    TplValue::Json(serde_json::Value::String(s.to_owned()))
}

/// The largest `--env-file` read: a dotenv file of secrets is a few kilobytes.
const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a dotenv file: a regular file of at most 1 MiB (`/dev/zero`, a pipe or a huge
/// file is refused before it is read).
pub(crate) fn read_env_file(path: &Path) -> Result<HashMap<String, String>, Problem> {
    let bytes = rehearse_scenario::read_capped(path, MAX_ENV_FILE_BYTES).map_err(|e| {
        Problem::new(
            format!("failed to read env file {}: {e}", path.display()),
            None,
        )
        .with_help("give a dotenv file: NAME=value lines")
    })?;
    let iter = dotenvy::from_read_iter(bytes.as_slice());
    let mut out = HashMap::new();
    for (i, item) in iter.enumerate() {
        match item {
            Ok((k, v)) => {
                out.insert(k, v);
            }
            Err(e) => {
                // Never echo the line: it may hold a secret.
                let _ = e;
                return Err(Problem::new(
                    format!(
                        "failed to parse env file {} near entry {}",
                        path.display(),
                        i + 1
                    ),
                    None,
                )
                .with_help("each line is NAME=value; quote values with spaces"));
            }
        }
    }
    Ok(out)
}

/// What to load besides the flags.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoadOptions {
    /// No scenario file is fine (`preflight`: the environment's checks run alone) when no
    /// path was given.
    pub(crate) scenarios_optional: bool,
}

/// Loads only an environment (`rehearse contract check`): a name under environments/ in
/// the suite's root (`root`, else found from the current folder) or a path; `--var` values
/// applied. The templates ask `world` for secrets once it is set.
pub(crate) fn environment_only(
    name: &str,
    root: Option<&Path>,
    vars: &[(String, String)],
) -> Result<(Environment, Templates, Arc<LateWorld>), Problems> {
    let args = SelectArgs {
        paths: Vec::new(),
        env: Some(name.to_owned()),
        root: root.map(Path::to_owned),
        vars: vars.to_vec(),
        tag: Vec::new(),
        name: Vec::new(),
        shard: None,
        fixtures: None,
    };
    let root = suite_root(&args);
    if is_embedded(name, &root) {
        return Err(Problems(vec![Problem::new(
            "the built-in `local` environment has no bank sandbox to check",
            None,
        )
        .with_help("give --env NAME of an environment file with a `bank:` key (docs/FORMAT.md, \"Environment files\")")]));
    }
    let world = Arc::new(LateWorld::default());
    let mut templates = Templates::new(Arc::clone(&world) as Arc<dyn Resolve>);
    let env_path = environment_path(name, &root).map_err(|p| Problems(vec![p]))?;
    let env_name = env_path
        .file_stem()
        .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
    let mut environment = load_environment(&env_path, &env_name, &mut templates)?;
    apply_vars(&mut environment, vars);
    check_bank_versions(&environment)?;
    Ok((environment, templates, world))
}

/// The version folders an environment's `bank.versions` names are read and checked whole:
/// a broken one is invalid input naming the file and the field.
fn check_bank_versions(environment: &Environment) -> Result<(), Problems> {
    let Some(bank) = &environment.bank else {
        return Ok(());
    };
    let Some(dir) = &bank.versions else {
        return Ok(());
    };
    if !dir.is_dir() {
        // The environment's own check said so already.
        return Ok(());
    }
    match rehearse_contract::Catalog::builtin().with_dir(dir) {
        Ok(_) => Ok(()),
        Err(e) => Err(Problems(vec![
            Problem::new(format!("bank API versions: {e}"), bank.span.as_ref()).with_help(
                "fix the version folder named by `bank.versions` (docs/FORMAT.md, \"Bank API versions\")",
            ),
        ])),
    }
}

/// Loads the environment and every selected scenario; all problems at once.
pub(crate) fn load(args: &SelectArgs, options: LoadOptions) -> Result<Loaded, Problems> {
    let root = suite_root(args);
    let world = Arc::new(LateWorld::default());
    let mut templates = Templates::new(Arc::clone(&world) as Arc<dyn Resolve>);
    let name = args.env_name();
    let embedded = is_embedded(name, &root);
    let mut environment = if embedded {
        crate::stack::local_environment()
    } else {
        let env_path = environment_path(name, &root).map_err(|p| Problems(vec![p]))?;
        let env_name = env_path
            .file_stem()
            .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
        load_environment(&env_path, &env_name, &mut templates)?
    };
    apply_vars(&mut environment, &args.vars);
    check_bank_versions(&environment)?;
    let default_folder = in_root(&root, "scenarios");
    let paths = if args.paths.is_empty() {
        vec![default_folder.clone()]
    } else {
        args.paths.clone()
    };
    let optional = options.scenarios_optional && args.paths.is_empty();
    let files = if optional && !default_folder.is_dir() {
        Vec::new()
    } else {
        discover(&paths)?
    };
    let fixtures = args
        .fixtures
        .clone()
        .unwrap_or_else(|| in_root(&root, "fixtures"));
    let mut problems = Problems::default();
    let mut scenarios = Vec::new();
    {
        let mut compiler = Compiler::new(&environment, &fixtures, &mut templates).with_root(&root);
        for f in &files {
            match compiler.compile_file(f) {
                Ok(s) => scenarios.push(s),
                Err(p) => problems.0.extend(p.0),
            }
        }
    }
    for s in &mut scenarios {
        override_scenario_vars(s, &args.vars);
    }
    if files.is_empty() && !optional {
        problems.0.push(
            Problem::new(
                format!(
                    "no scenario files found in {}",
                    paths
                        .iter()
                        .map(|p| absolute(p).display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            )
            .with_help(
                "scenario files end in .yaml; names starting with `_` hold fragments; give --root DIR when the suite is elsewhere",
            ),
        );
    }
    let owners = match load_suite_owners(&root) {
        Ok(owners) => owners,
        Err(p) => {
            problems.0.extend(p.0);
            None
        }
    };
    if let Some(owners) = &owners {
        problems
            .0
            .extend(unknown_owners(owners, &environment, &scenarios));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        environment,
        scenarios,
        templates,
        world,
        embedded,
        owners,
    })
}

/// The suite's owners file (`owners.yaml` at its root): `None` when there is none.
pub(crate) fn load_suite_owners(root: &Path) -> Result<Option<rehearse_owners::Owners>, Problems> {
    let path = in_root(root, rehearse_scenario::OWNERS_FILE);
    if !path.exists() {
        return Ok(None);
    }
    rehearse_scenario::load_owners(&path).map(Some)
}

/// Every `owner:` of the environment (its checks, `bank.owner`) and of the scenarios (and
/// their `requires:`) that the owners file does not name, as problems with "did you mean".
fn unknown_owners(
    owners: &rehearse_owners::Owners,
    environment: &Environment,
    scenarios: &[Scenario],
) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut check = |name: &Option<String>, span: Option<&rehearse_scenario::Span>| {
        if let Some(name) = name
            && owners.get(name).is_none()
        {
            out.push(rehearse_scenario::unknown_owner(name, span, owners.names()));
        }
    };
    for c in &environment.checks {
        check(&c.owner, Some(&c.span));
    }
    if let Some(bank) = &environment.bank {
        check(&bank.owner, bank.span.as_ref());
    }
    for s in scenarios {
        check(&s.owner, Some(&s.span));
        for c in &s.requires {
            check(&c.owner, Some(&c.span));
        }
    }
    out
}

/// `--var` wins over a scenario's own var of the same name.
fn override_scenario_vars(s: &mut Scenario, vars: &[(String, String)]) {
    for (name, value) in vars {
        for (k, v) in &mut s.vars {
            if k == name {
                *v = string_value(value);
            }
        }
    }
}

/// The scenarios under the selected paths as `rehearse list` shows them when no
/// environment is named: their name, tags and owner, not checked against any environment
/// (`rehearse validate` does that).
pub(crate) fn headings(args: &SelectArgs) -> Result<Vec<Scenario>, Problems> {
    let root = suite_root(args);
    let paths = if args.paths.is_empty() {
        vec![in_root(&root, "scenarios")]
    } else {
        args.paths.clone()
    };
    let files = discover(&paths)?;
    let mut problems = Problems::default();
    let mut out = Vec::new();
    for f in &files {
        let source = match rehearse_scenario::read_source(f) {
            Ok(s) => s,
            Err(p) => {
                problems.0.push(p);
                continue;
            }
        };
        let span = rehearse_scenario::Span::file_start(&source);
        match rehearse_scenario::read_heading(&source) {
            Ok(h) => {
                out.push(Scenario {
                    path: f.clone(),
                    name: h.name,
                    description: None,
                    tags: h.tags,
                    owner: h.owner,
                    exclusive: false,
                    requires: Vec::new(),
                    left_out: None,
                    vars: Vec::new(),
                    steps: Vec::new(),
                    cleanup: Vec::new(),
                    cookies: true,
                    reads: Vec::new(),
                    span,
                });
            }
            Err(p) => problems.0.extend(p.0),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
