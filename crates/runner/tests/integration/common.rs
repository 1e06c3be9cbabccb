//! Shared arrangements: a project folder in a tempdir, compiled into a [`Plan`], and a run
//! that collects every event.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rehearse_runner::{Plan, RunEvent, RunOptions, RunResult, ScenarioResult, StepResult, World};
use rehearse_scenario::{Compiler, Resolve, Scenario, Templates, load_environment};
use tokio_util::sync::CancellationToken;
use wiremock::{Request, ResponseTemplate};

/// A project written into a tempdir: one environment and some scenario files.
pub struct Project {
    pub dir: tempfile::TempDir,
    env: String,
    secrets: Vec<(String, String)>,
    files: Vec<PathBuf>,
}

impl Project {
    /// A project whose environment has `base` set to `base_url` and a short default
    /// request timeout.
    pub fn new(base_url: &str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            env: format!("vars:\n  base: \"{base_url}\"\ntimeouts:\n  request: 2s\n"),
            secrets: Vec::new(),
            files: Vec::new(),
        }
    }

    /// A project whose environment file is `env_yaml`, as written.
    pub fn with_environment(env_yaml: &str) -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
            env: env_yaml.to_owned(),
            secrets: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Declares a secret and gives it a value (as if exported).
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.secrets.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Writes a scenario file.
    pub fn scenario(mut self, file: &str, yaml: &str) -> Self {
        let path = self.dir.path().join(file);
        std::fs::write(&path, yaml).expect("write scenario");
        self.files.push(path);
        self
    }

    /// The compiled scenarios (the environment loaded from the project's folder).
    pub fn compile(&self) -> (Arc<Plan>, RunOptions) {
        let mut env_yaml = self.env.clone();
        if !self.secrets.is_empty() {
            env_yaml.push_str("secrets:\n");
            for (name, _) in &self.secrets {
                env_yaml.push_str(&format!("  - {name}\n"));
            }
        }
        let env_path = self.dir.path().join("test-env.yaml");
        std::fs::write(&env_path, env_yaml).expect("write environment");
        let declared: Vec<String> = self.secrets.iter().map(|(n, _)| n.clone()).collect();
        let values: HashMap<String, String> = self.secrets.iter().cloned().collect();
        let world = World::new(values, &declared);
        let secret_values = world.secret_values();
        let mut templates = Templates::new(Arc::new(world) as Arc<dyn Resolve>);
        let environment = load_environment(&env_path, "test", &mut templates).unwrap_or_else(|p| {
            panic!("environment does not load:\n{p}");
        });
        let mut scenarios: Vec<Scenario> = Vec::new();
        {
            let mut compiler = Compiler::new(&environment, self.dir.path(), &mut templates);
            for f in &self.files {
                match compiler.compile_file(f) {
                    Ok(s) => scenarios.push(s),
                    Err(p) => panic!("{} does not compile:\n{p}", f.display()),
                }
            }
        }
        let plan = Arc::new(Plan::new(environment, scenarios, templates));
        let mut options = RunOptions::new();
        options.jobs = 2;
        options.secrets = secret_values;
        (plan, options)
    }
}

/// What a run gave: its result and every event, in the order sent.
#[derive(Debug)]
pub struct Ran {
    pub result: RunResult,
    pub events: Vec<RunEvent>,
}

impl Ran {
    /// The only scenario's result.
    pub fn scenario(&self) -> &ScenarioResult {
        assert_eq!(self.result.scenarios.len(), 1, "expected one scenario");
        &self.result.scenarios[0]
    }

    /// A step of the only scenario, by name.
    pub fn step(&self, name: &str) -> &StepResult {
        self.scenario()
            .steps
            .iter()
            .chain(&self.scenario().cleanup)
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step `{name}` in {:#?}", self.scenario()))
    }

    /// How many `AttemptFinished` events were sent for a step.
    pub fn attempt_events(&self, step: &str) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, RunEvent::AttemptFinished { step: s, .. } if s == step))
            .count()
    }
}

/// Runs a project's scenarios to the end.
pub async fn run(project: &Project) -> Ran {
    let (plan, options) = project.compile();
    run_plan(plan, options, |_, _| {}).await
}

/// Runs a plan; `on_event` sees each event as it arrives and may cancel the run.
pub async fn run_plan(
    plan: Arc<Plan>,
    options: RunOptions,
    mut on_event: impl FnMut(&RunEvent, &CancellationToken),
) -> Ran {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(rehearse_runner::run(plan, options, tx, cancel.clone()));
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        on_event(&e, &cancel);
        events.push(e);
    }
    let result = task
        .await
        .expect("runner task panicked")
        .expect("runner could not build its HTTP client");
    // The last event shares it.
    let result = Arc::unwrap_or_clone(result);
    assert!(
        matches!(events.last(), Some(RunEvent::RunFinished { .. })),
        "the last event is RunFinished"
    );
    Ran { result, events }
}

/// A wiremock responder that numbers the requests it answers (from 1) and notes when each
/// one arrived.
#[derive(Clone, Default)]
pub struct Counted {
    count: Arc<AtomicUsize>,
    arrivals: Arc<Mutex<Vec<Instant>>>,
}

impl Counted {
    /// A responder answering request `n` with `f(n)`.
    pub fn responder(
        &self,
        f: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
    ) -> impl Fn(&Request) -> ResponseTemplate + Send + Sync + 'static {
        let count = Arc::clone(&self.count);
        let arrivals = Arc::clone(&self.arrivals);
        move |_req: &Request| {
            arrivals
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Instant::now());
            f(count.fetch_add(1, Ordering::SeqCst) + 1)
        }
    }

    /// Requests answered so far.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A JSON response.
pub fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}
