//! A scenario's run and resumable runs: its place handed to the run's
//! [`Checkpointer`](crate::resume::Checkpointer) at each step boundary, and a resumed
//! scenario's stored values bound over its own.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::resume::Checkpoint;

impl ScenarioRun<'_> {
    /// After step `next - 1` passed (its result `last`, not yet in `steps`): the scenario
    /// goes on at `next`.
    pub(super) async fn checkpoint(
        &self,
        scenario: &Scenario,
        next: usize,
        attempts: u32,
        steps: &[StepResult],
        last: &StepResult,
        base: &Vars,
    ) {
        let mut done = steps.to_vec();
        done.push(last.clone());
        self.save(scenario, next, attempts, done, None, base).await;
    }

    /// The run was suspended in step `at`, a poll after `attempts` attempts.
    pub(super) async fn checkpoint_at(
        &self,
        scenario: &Scenario,
        at: usize,
        attempts: u32,
        steps: &[StepResult],
        base: &Vars,
    ) {
        self.save(scenario, at, attempts, steps.to_vec(), None, base)
            .await;
    }

    /// The scenario ended, cleanup included.
    pub(super) async fn checkpoint_finished(&self, scenario: &Scenario, result: &ScenarioResult) {
        let base = Arc::new(HashMap::new());
        self.save(
            scenario,
            scenario.steps.len(),
            0,
            Vec::new(),
            Some(result.clone()),
            &base,
        )
        .await;
    }

    async fn save(
        &self,
        scenario: &Scenario,
        next: usize,
        attempts: u32,
        steps: Vec<StepResult>,
        finished: Option<ScenarioResult>,
        base: &Vars,
    ) {
        let Some(checkpointer) = self.checkpointer.clone() else {
            return;
        };
        let (vars, withheld) = if finished.is_some() {
            (BTreeMap::new(), Vec::new())
        } else {
            self.storable_vars(base)
        };
        let c = Checkpoint {
            scenario_path: scenario.path.display().to_string(),
            next_step: next,
            poll_attempts: attempts,
            vars,
            withheld,
            steps,
            finished,
        };
        checkpointer.save(self.index, &c).await;
    }

    /// The values bound since the environment's (`base`): those that may be stored, and
    /// the names of the secret-derived ones, which may not.
    fn storable_vars(&self, base: &Vars) -> (BTreeMap<String, Json>, Vec<String>) {
        let mut vars = BTreeMap::new();
        let mut withheld = Vec::new();
        for (k, v) in self.vars.iter() {
            if base.get(k) == Some(v) {
                continue;
            }
            let text = v.to_string();
            let shown = capture_text(v);
            if self.redactor.contains_secret(&text)
                || self.redactor.contains_secret(&shown)
                || self.redactor.mask(&shown) != shown
            {
                withheld.push(k.clone());
            } else {
                vars.insert(k.clone(), v.clone());
            }
        }
        withheld.sort();
        (vars, withheld)
    }

    /// A resumed scenario: its stored values over those just bound; a failure when a step
    /// still to run (from `first`, or a cleanup step) reads a secret-derived capture, which
    /// was never stored.
    pub(super) fn resumed_vars(
        &mut self,
        scenario: &Scenario,
        first: usize,
        stored: BTreeMap<String, Json>,
        withheld: &[String],
    ) -> Option<Failure> {
        let vars = Arc::make_mut(&mut self.vars);
        for (k, v) in stored {
            vars.insert(k, v);
        }
        // A scenario var holding a secret was rendered again just now: only captures are
        // missing.
        let own: BTreeSet<&str> = scenario.vars.iter().map(|(k, _)| k.as_str()).collect();
        let missing: BTreeSet<&str> = withheld
            .iter()
            .map(String::as_str)
            .filter(|w| !own.contains(w))
            .collect();
        if missing.is_empty() {
            return None;
        }
        let reads: BTreeSet<String> = scenario
            .steps
            .iter()
            .skip(first)
            .chain(&scenario.cleanup)
            .flat_map(crate::ledger::step_reads)
            .collect();
        let needed: Vec<String> = missing
            .into_iter()
            .filter(|m| reads.contains(*m))
            .map(|m| format!("`{m}`"))
            .collect();
        if needed.is_empty() {
            return None;
        }
        Some(check::failure(
            "resume",
            "every value the remaining steps read".to_owned(),
            format!(
                "{} captured before the suspension from a response to a request carrying a secret; such a value is never stored, so a resumed run cannot read it (capture it again after the wait, or compute it from {{{{ secret('NAME') }}}})",
                needed.join(", ")
            ),
            Some(&scenario.span),
        ))
    }
}
