//! Events the runner sends while it works; reporters consume them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::result::{Attempt, RunResult, ScenarioResult, StepResult};

/// Which part of a scenario a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `steps:`
    Steps,
    /// `cleanup:`
    Cleanup,
}

/// Something that happened during a run. Sent in order for each scenario; scenarios run
/// concurrently, so events of different scenarios interleave (use `scenario` to tell them
/// apart).
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// The run began.
    RunStarted {
        /// The run id.
        run_id: String,
        /// The environment's name.
        environment: String,
        /// How many scenarios were selected.
        scenarios: usize,
    },
    /// A scenario began.
    ScenarioStarted {
        /// Index in the run (stable, by path).
        scenario: usize,
        /// Its file.
        path: String,
        /// Its name.
        name: String,
        /// The W3C trace id every request of the scenario carries in `traceparent`: one
        /// trace per scenario.
        trace_id: String,
        /// When it began (wall clock): step and attempt `offset`s count from here.
        started_at: SystemTime,
    },
    /// A step began.
    StepStarted {
        /// Index of the scenario.
        scenario: usize,
        /// The step's name.
        step: String,
        /// Steps or cleanup.
        phase: Phase,
        /// For a poll: how long it may take.
        poll_timeout: Option<Duration>,
    },
    /// An attempt of a step finished (every poll attempt sends one).
    AttemptFinished {
        /// Index of the scenario.
        scenario: usize,
        /// The step's name.
        step: String,
        /// The attempt.
        attempt: Attempt,
        /// For a poll: time left before its deadline.
        time_left: Option<Duration>,
        /// The parent (span) id its `traceparent` carried, on every redirect hop: the
        /// attempt's span, parent of the system under test's spans for it.
        span_id: String,
    },
    /// A step finished.
    StepFinished {
        /// Index of the scenario.
        scenario: usize,
        /// Steps or cleanup.
        phase: Phase,
        /// Its result.
        result: StepResult,
    },
    /// A scenario finished.
    ScenarioFinished {
        /// Index of the scenario.
        scenario: usize,
        /// Its result.
        result: ScenarioResult,
    },
    /// The run finished; the last event.
    RunFinished {
        /// The whole result, shared with what [`run`](crate::run) returns: a run of
        /// thousands of scenarios would otherwise hold it twice at its end.
        result: Arc<RunResult>,
    },
}
