//! Loading what a command needs: the environment, the secrets, the scenarios.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rehearse_runner::World;
use rehearse_scenario::{
    Compiler, Environment, Problem, Problems, Resolve, Scenario, Templates, discover,
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
}

/// True when `name` means the built-in embedded stack (no environments/local.yaml here).
pub(crate) fn is_embedded(name: &str) -> bool {
    name == crate::stack::LOCAL
        && !Path::new("environments/local.yaml").is_file()
        && !Path::new("environments/local.yml").is_file()
}

/// Where an environment named on the command line lives.
pub(crate) fn environment_path(name: &str) -> Result<PathBuf, Problem> {
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
    for ext in ["yaml", "yml"] {
        let p = Path::new("environments").join(format!("{name}.{ext}"));
        if p.is_file() {
            return Ok(p);
        }
    }
    let known = known_environments();
    let help = match rehearse_scenario::did_you_mean(name, known.iter().map(String::as_str)) {
        Some(d) => d,
        None if known.is_empty() => {
            "there is no environments/ folder here; run rehearse from your project's root, give --env PATH, or use the built-in `local`".to_owned()
        }
        None => format!("known environments: local (built in), {}", known.join(", ")),
    };
    Err(Problem::new(
        format!("unknown environment `{name}` (no environments/{name}.yaml)"),
        None,
    )
    .with_help(help))
}

fn known_environments() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("environments")
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

/// Reads a dotenv file.
pub(crate) fn read_env_file(path: &Path) -> Result<HashMap<String, String>, Problem> {
    let iter = dotenvy::from_path_iter(path).map_err(|e| {
        Problem::new(
            format!("failed to read env file {}: {e}", path.display()),
            None,
        )
        .with_help("give a dotenv file: NAME=value lines")
    })?;
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

/// Loads the environment and every selected scenario; all problems at once.
pub(crate) fn load(args: &SelectArgs) -> Result<Loaded, Problems> {
    let world = Arc::new(LateWorld::default());
    let mut templates = Templates::new(Arc::clone(&world) as Arc<dyn Resolve>);
    let embedded = is_embedded(&args.env);
    let environment = if embedded {
        crate::stack::local_environment()
    } else {
        let env_path = environment_path(&args.env).map_err(|p| Problems(vec![p]))?;
        let env_name = env_path
            .file_stem()
            .map_or_else(|| args.env.clone(), |s| s.to_string_lossy().into_owned());
        load_environment(&env_path, &env_name, &mut templates)?
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        args.paths.clone()
    };
    let files = discover(&paths)?;
    let mut problems = Problems::default();
    let mut scenarios = Vec::new();
    {
        let mut compiler = Compiler::new(&environment, &args.fixtures, &mut templates);
        for f in &files {
            match compiler.compile_file(f) {
                Ok(s) => scenarios.push(s),
                Err(p) => problems.0.extend(p.0),
            }
        }
    }
    if files.is_empty() {
        problems.0.push(
            Problem::new(
                format!(
                    "no scenario files found in {}",
                    paths
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None,
            )
            .with_help("scenario files end in .yaml; names starting with `_` hold fragments"),
        );
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
    })
}
