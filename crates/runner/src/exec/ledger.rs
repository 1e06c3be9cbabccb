//! A scenario's run and the ledger: what a step created is handed to the run's
//! [`Recorder`](crate::Recorder) before the next step starts; the run's own cleanup steps say whether each
//! record was removed. And cleanup steps run again outside a run (`rehearse cleanup`).

use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::ledger::{CreatedResource, step_reads};
use crate::run::RunOptions;

/// A record this scenario made, and how its cleanup went so far.
pub(crate) struct Recorded {
    key: String,
    cleanup: Vec<usize>,
    /// A cleanup step for it failed, was skipped or interrupted: it is not removed.
    spoiled: bool,
}

impl ScenarioRun<'_> {
    /// After step `idx` of `scenario` passed: when it created something (a `2xx` to a
    /// `POST`/`PUT` that captured a value a cleanup step reads), records it.
    pub(super) async fn record_created(
        &mut self,
        scenario: &Scenario,
        idx: usize,
        result: &StepResult,
    ) {
        let Some(recorder) = self.recorder.clone() else {
            return;
        };
        let Some(created) = self.created(scenario, idx, result) else {
            return;
        };
        if let Some(key) = recorder.created(&created).await {
            self.recorded.push(Recorded {
                key,
                cleanup: created.cleanup,
                spoiled: false,
            });
        }
    }

    fn created(
        &self,
        scenario: &Scenario,
        idx: usize,
        result: &StepResult,
    ) -> Option<CreatedResource> {
        let step = scenario.steps.get(idx)?;
        let Action::Request(req) = &step.action else {
            return None;
        };
        if !matches!(req.method.as_str(), "POST" | "PUT") || step.captures.is_empty() {
            return None;
        }
        let attempt = result.attempts.last()?;
        if !(200..300).contains(&attempt.response.as_ref()?.status) {
            return None;
        }
        let reads: Vec<_> = scenario.cleanup.iter().map(step_reads).collect();
        let cleanup: Vec<usize> = reads
            .iter()
            .enumerate()
            .filter(|(_, r)| step.captures.iter().any(|c| r.contains(&c.var)))
            .map(|(i, _)| i)
            .collect();
        if cleanup.is_empty() {
            return None;
        }
        // The environment's vars are rendered again when `rehearse cleanup` runs; a
        // secret-derived value is never recorded (the cleanup is refused instead).
        let env: HashSet<&str> = self
            .plan
            .environment
            .vars
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        let mut captures = BTreeMap::new();
        for name in cleanup.iter().flat_map(|&i| &reads[i]) {
            if env.contains(name.as_str()) {
                continue;
            }
            let Some(value) = self.vars.get(name) else {
                continue;
            };
            let text = capture_text(value);
            if !self.redactor.contains_secret(&text) && self.redactor.mask(&text) == text {
                captures.insert(name.clone(), text);
            }
        }
        // The id: the first of the step's captures that is recorded. A secret-derived id
        // cannot be cleaned up later, so nothing is recorded for it.
        let resource_id = step
            .captures
            .iter()
            .find_map(|c| captures.get(&c.var))?
            .clone();
        Some(CreatedResource {
            scenario_path: scenario.path.display().to_string(),
            scenario_name: scenario.name.clone(),
            step_idx: idx,
            step_name: step.name.clone(),
            method: req.method.clone(),
            url: attempt.request.url.clone(),
            resource_id,
            captures,
            cleanup,
        })
    }

    /// After cleanup step `idx` ended: the records it was for are removed once their last
    /// cleanup step passed with none failing before; a failure is noted on them.
    pub(super) async fn record_cleaned(&mut self, idx: usize, result: &StepResult) {
        let Some(recorder) = self.recorder.clone() else {
            return;
        };
        for r in self
            .recorded
            .iter_mut()
            .filter(|r| r.cleanup.contains(&idx))
        {
            match result.status {
                Status::Passed | Status::Flaky => {
                    if !r.spoiled && r.cleanup.last() == Some(&idx) {
                        recorder.cleaned(&r.key, Ok(())).await;
                    }
                }
                Status::Failed | Status::Error => {
                    r.spoiled = true;
                    let why = result.failure.as_ref().map_or_else(
                        || format!("cleanup step `{}` failed", result.name),
                        |f| {
                            format!(
                                "cleanup step `{}`: {}: expected {}, got {}",
                                result.name, f.check, f.expected, f.actual
                            )
                        },
                    );
                    recorder.cleaned(&r.key, Err(why)).await;
                }
                Status::Skipped | Status::Interrupted => r.spoiled = true,
            }
        }
    }
}

/// See [`crate::ledger::run_cleanup`].
pub(crate) async fn run_cleanup(
    plan: Arc<Plan>,
    scenario: usize,
    steps: &[usize],
    recorded: &BTreeMap<String, String>,
    options: &RunOptions,
    events: UnboundedSender<RunEvent>,
) -> Result<Vec<StepResult>, String> {
    let redactor = Redactor::new(options.secrets.iter().cloned());
    let s = plan
        .scenarios
        .get(scenario)
        .ok_or_else(|| format!("the plan has no scenario {scenario}"))?;
    if let Some(&i) = steps.iter().find(|&&i| i >= s.cleanup.len()) {
        return Err(format!(
            "{} has no cleanup step {} (it has {})",
            s.path.display(),
            i + 1,
            s.cleanup.len()
        ));
    }
    let clients = Clients::for_environment(&plan.environment).map_err(|e| e.to_string())?;
    let vars = environment_vars(&plan).map_err(|e| redactor.mask(&e.message))?;
    let (approver, clock) = crate::run::controls(&plan, &options.run_id, &vars, &clients.plain)
        .map_err(|e| redactor.mask(&e))?;
    let cancel = options.quit.clone();
    let mut run = ScenarioRun {
        index: scenario,
        plan: &plan,
        clients: &clients,
        run_id: &options.run_id,
        events: &events,
        cancel: &cancel,
        quit: &cancel,
        redactor,
        vars,
        approver,
        clock,
        trace_id: crate::trace::trace_id(),
        scenario_name: s.name.clone(),
        started: Instant::now(),
        jar: s.cookies.then(crate::cookies::Jar::default),
        recorder: None,
        recorded: Vec::new(),
        checkpointer: None,
        suspension: None,
        resume_from: None,
        poll_from: 0,
        suspended_at: None,
    };
    if let Some(f) = run.bind_vars(&s.vars) {
        return Err(format!(
            "{}: expected {}, got {}",
            f.check, f.expected, f.actual
        ));
    }
    let vars = Arc::make_mut(&mut run.vars);
    for (k, v) in recorded {
        vars.insert(k.clone(), Json::String(v.clone()));
    }
    let mut results = Vec::with_capacity(steps.len());
    for &i in steps {
        let step = &s.cleanup[i];
        if cancel.is_cancelled() {
            let mut r = skipped(step);
            r.status = Status::Interrupted;
            results.push(r);
            continue;
        }
        let (r, _) = run.guarded_step(step, Phase::Cleanup, &cancel).await;
        results.push(r);
    }
    Ok(results)
}
