//! Executes compiled scenarios over HTTP: requests, captures, assertions, polling,
//! cleanup. It sends [`RunEvent`]s on a channel and returns a [`RunResult`]; it never
//! prints.
//!
//! Every request carries a W3C `traceparent` (one trace per scenario, one span per
//! attempt) and `X-Rehearse-Run: <run id>`. Secret values, and values captured from
//! responses to requests that carried a secret, are masked as `***` in every event.

mod check;
mod control;
mod cookies;
mod decode;
mod event;
mod exec;
mod http;
mod ledger;
mod neterr;
mod preflight;
mod prepare;
mod redact;
mod response;
mod result;
mod resume;
mod run;
mod select;
mod send;
mod tls;
mod trace;
mod wire;
mod world;

pub use control::{
    ApprovalRequest, Approver, ClockControl, FiredJob, HttpApprover, HttpClock, MockApprover,
    WaitApprover, due_ticks,
};
pub use event::{Phase, RunEvent};
pub use http::{ClientError, Clients};
pub use ledger::{CreatedResource, Recorder, run_cleanup, step_reads};
pub use preflight::{PreflightOptions, checks_of, preflight};
pub use redact::{MASK, MIN_SECRET_LEN, Redactor, mask_log};
pub use result::{
    Aborted, Attempt, CheckResult, Counts, Failure, INTERNAL_ERROR, RequestRecord, ResponseRecord,
    RunResult, ScenarioResult, Status, StepResult,
};
pub use resume::{Checkpoint, Checkpointer, ResumeFrom, Suspension, can_wait};
pub use run::{Plan, RunOptions, new_run_id, not_started, run};
pub use select::{Selection, Shard};
pub use world::World;
