//! Resumable runs (issue #12 §2), as the runner sees them: a scenario that can wait (it has
//! an `approve` step or a `poll`) hands its place to the run's [`Checkpointer`] at each of
//! its step boundaries, so a run killed from then on can be continued; a [`Suspension`]
//! asked for (`--suspend-after`, SIGTERM while waiting) stops the run once every scenario
//! still running is waiting, without cleanup; and a run given [`ResumeFrom`] places
//! continues each scenario where it stopped. The runner knows no store: the composition
//! root gives it the checkpointer ([`crate::RunOptions::checkpointer`]).
//!
//! What a checkpoint holds is already masked or harmless: step results (masked as every
//! result is), and the scenario's variables that are neither the environment's (rendered
//! again on resume, secrets read again) nor secret-derived (a token captured from a
//! response to a request that carried a secret, a value holding a secret): those are named
//! in [`Checkpoint::withheld`], never stored.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use futures::future::BoxFuture;
use rehearse_scenario::{Action, Scenario};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::result::{ScenarioResult, StepResult};

/// A scenario's place in a run, as written at a step boundary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The scenario file, as the plan names it.
    pub scenario_path: String,
    /// The index in `steps` of the next step to run.
    pub next_step: usize,
    /// The attempts a `poll` at `next_step` had made when the run was suspended in it (the
    /// resumed poll counts on from there); 0 otherwise.
    pub poll_attempts: u32,
    /// The scenario's values bound so far: its captures and its own vars, neither the
    /// environment's nor secret-derived ones.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// The captures and vars left out because they are secret-derived, by name.
    pub withheld: Vec<String>,
    /// The results of the steps before `next_step` (masked).
    pub steps: Vec<StepResult>,
    /// The scenario's whole result once it ended (steps and cleanup): a resumed run
    /// reports it and runs nothing of it.
    pub finished: Option<ScenarioResult>,
}

/// Keeps the places of a run's scenarios. Each call is awaited at the step boundary where
/// it happens (only scenarios that can wait call it).
pub trait Checkpointer: Send + Sync + fmt::Debug {
    /// Writes the place of the plan's scenario `scenario`.
    fn save<'a>(&'a self, scenario: usize, checkpoint: &'a Checkpoint) -> BoxFuture<'a, ()>;
}

/// Where a resumed run takes up a scenario.
#[derive(Debug, Clone)]
pub enum ResumeFrom {
    /// It ended before: its result is reported again, nothing of it runs.
    Done(ScenarioResult),
    /// It continues at its checkpoint.
    At(Checkpoint),
}

/// Whether a scenario can wait (and so is checkpointed): it has an `approve` step or a
/// `poll`.
pub fn can_wait(scenario: &Scenario) -> bool {
    scenario
        .steps
        .iter()
        .any(|s| s.poll.is_some() || matches!(s.action, Action::Approve(_)))
}

/// A suspension of a run: asked for by the caller ([`Suspension::request`]), it happens
/// once every scenario still running waits (an approval being carried out, a poll between
/// attempts); a scenario that is not waiting goes on to its next wait or its end. From
/// then on the waiting scenarios stop without cleanup and no new scenario starts.
#[derive(Debug, Default)]
pub struct Suspension {
    requested: std::sync::atomic::AtomicBool,
    fired: CancellationToken,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    running: usize,
    waiting: usize,
}

impl Suspension {
    /// A suspension not asked for yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for the suspension: it happens now if every running scenario waits, else as
    /// soon as that holds.
    pub fn request(&self) {
        self.requested
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.check(&self.lock());
    }

    /// Whether it was asked for.
    pub fn is_requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether the run was suspended.
    pub fn suspended(&self) -> bool {
        self.fired.is_cancelled()
    }

    /// Whether a scenario is waiting now.
    pub fn someone_waits(&self) -> bool {
        self.lock().waiting > 0
    }

    /// Completes once the run is suspended.
    pub(crate) async fn fired(&self) {
        self.fired.cancelled().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn check(&self, c: &Counts) {
        if self.is_requested() && c.running > 0 && c.waiting >= c.running {
            self.fired.cancel();
        }
    }

    /// A scenario runs until the guard drops.
    pub(crate) fn running(&self) -> Held<'_> {
        self.lock().running += 1;
        Held {
            of: self,
            waiting: false,
        }
    }

    /// A scenario waits until the guard drops.
    pub(crate) fn waiting(&self) -> Held<'_> {
        let mut c = self.lock();
        c.waiting += 1;
        self.check(&c);
        Held {
            of: self,
            waiting: true,
        }
    }
}

/// A scenario counted as running or waiting.
pub(crate) struct Held<'a> {
    of: &'a Suspension,
    waiting: bool,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut c = self.of.lock();
        if self.waiting {
            c.waiting = c.waiting.saturating_sub(1);
        } else {
            c.running = c.running.saturating_sub(1);
            // One fewer running: those left may all be waiting.
            self.of.check(&c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspension_waits_until_every_running_scenario_waits() {
        let s = Suspension::new();
        let a = s.running();
        let b = s.running();
        let wa = s.waiting();
        s.request();
        assert!(!s.suspended(), "b is not waiting");
        let wb = s.waiting();
        assert!(s.suspended());
        drop((wa, wb, a, b));
    }

    #[test]
    fn a_scenario_ending_lets_the_waiting_one_suspend() {
        let s = Suspension::new();
        let a = s.running();
        let b = s.running();
        let _wa = s.waiting();
        s.request();
        assert!(!s.suspended());
        drop(b);
        assert!(s.suspended());
        drop(a);
    }

    #[test]
    fn nothing_suspends_unless_asked() {
        let s = Suspension::new();
        let _a = s.running();
        let _w = s.waiting();
        assert!(!s.suspended());
        assert!(s.someone_waits());
    }
}
