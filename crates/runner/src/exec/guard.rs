//! A step run so that a panic inside it (a bug in rehearse, or in an [`Approver`] or
//! [`ClockControl`] given to the runner) becomes that step's error, with the panic's
//! message, instead of taking the scenario down: the scenario stops as after any error,
//! its cleanup still runs, and the run's result says an internal error happened (the
//! binary exits 4).

use std::any::Any;
use std::panic::AssertUnwindSafe;

use futures::FutureExt as _;

use super::*;
use crate::result::INTERNAL_ERROR;

impl ScenarioRun<'_> {
    /// [`ScenarioRun::step`], with a panic caught and reported as the step's error.
    pub(super) async fn guarded_step(
        &mut self,
        step: &Step,
        phase: Phase,
        cancel: &CancellationToken,
    ) -> (StepResult, Outcome) {
        let started = Instant::now();
        let caught = AssertUnwindSafe(self.step(step, phase, cancel))
            .catch_unwind()
            .await;
        let payload = match caught {
            Ok(done) => return done,
            Err(payload) => payload,
        };
        let mut result = skipped(step);
        result.offset = Some(started.saturating_duration_since(self.started));
        result.status = Status::Error;
        result.duration = started.elapsed();
        result.failure = Some(step_failure(
            step,
            INTERNAL_ERROR,
            "the step to run to its end".to_owned(),
            self.redactor.mask(&format!(
                "rehearse panicked: {} (a bug: please report it)",
                panic_message(payload.as_ref())
            )),
        ));
        let _ = self.events.send(RunEvent::StepFinished {
            scenario: self.index,
            phase,
            result: result.clone(),
        });
        (result, Outcome::Failed)
    }
}

/// The text a panic was raised with (`panic!("…")`, `expect("…")`, an overflow's message).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
