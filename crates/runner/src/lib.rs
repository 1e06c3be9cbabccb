//! Executes compiled scenarios over HTTP: requests, captures, assertions, polling,
//! cleanup. It sends [`RunEvent`]s on a channel and returns a [`RunResult`]; it never
//! prints.

mod event;
mod result;

pub use event::{Phase, RunEvent};
pub use result::{
    Aborted, Attempt, Counts, Failure, RequestRecord, ResponseRecord, RunResult, ScenarioResult,
    Status, StepResult,
};
