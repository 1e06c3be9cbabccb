//! The ledger of test data (issue #12 §3), as the runner sees it: a [`Recorder`] the run
//! awaits at step boundaries, so that what a step created is recorded before the next step
//! of its scenario starts (a SIGKILL right after the create step leaves the record), and
//! told when the run's own cleanup removed it. The runner knows no store: the composition
//! root gives it a recorder ([`crate::RunOptions::recorder`]).
//!
//! What counts as created: a `2xx` to a `POST` or `PUT` that captured a value a cleanup
//! step of its scenario reads. The values recorded are those the cleanup steps read that
//! are not the environment's and not secret-derived (captured from a response to a request
//! carrying a secret, or holding a secret's value); secrets are re-read from the
//! environment when `rehearse cleanup` runs the steps again ([`run_cleanup`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use rehearse_scenario::{Action, Body, PartContent, Step, Tpl, TplValue};
use tokio::sync::mpsc::UnboundedSender;

use crate::event::RunEvent;
use crate::result::StepResult;
use crate::run::{Plan, RunOptions};

/// A resource a step created, as the run records it (every text already masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedResource {
    /// The scenario file, as the plan names it.
    pub scenario_path: String,
    /// The scenario's name.
    pub scenario_name: String,
    /// The creating step's index in `steps`.
    pub step_idx: usize,
    /// The creating step's name.
    pub step_name: String,
    /// `POST` or `PUT`.
    pub method: String,
    /// The request's URL, masked.
    pub url: String,
    /// The first value the step captured that a cleanup step reads.
    pub resource_id: String,
    /// The values the cleanup steps read, by variable: captures and the scenario's own
    /// vars, neither the environment's nor secret-derived ones.
    pub captures: BTreeMap<String, String>,
    /// The cleanup steps that read a value the step captured, by index in `cleanup`.
    pub cleanup: Vec<usize>,
}

/// Records created resources for a run. Each call is awaited where it happens: a slow
/// recorder slows the scenario that calls it (only steps that created something call it).
pub trait Recorder: Send + Sync + fmt::Debug {
    /// Records what a step created, before the scenario's next step starts. Returns the
    /// record's key for [`Recorder::cleaned`], or `None` when it could not be recorded.
    fn created<'a>(&'a self, created: &'a CreatedResource) -> BoxFuture<'a, Option<String>>;

    /// The run's own cleanup of a record ended: `Ok` when every cleanup step for it
    /// passed, `Err` with the first failure (masked) when one failed. A cleanup step that
    /// was skipped or interrupted calls nothing: the record stays as it was.
    fn cleaned<'a>(&'a self, key: &'a str, outcome: Result<(), String>) -> BoxFuture<'a, ()>;
}

/// Every variable a step's templates read: its request (URL, headers, query, auth, body,
/// cookies), an approval's fields, a binding's values, and the texts its expectation
/// looks for.
pub fn step_reads(step: &Step) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut tpl = |t: &Tpl| out.extend(t.vars().iter().cloned());
    match &step.action {
        Action::Request(r) => {
            tpl(&r.url);
            for (k, v) in &r.headers {
                tpl(k);
                tpl(v);
            }
            for (_, v) in r.query.iter().chain(&r.cookies) {
                tpl(v);
            }
            match r.auth.as_deref() {
                Some(rehearse_scenario::Auth::Basic { user, password }) => {
                    tpl(user);
                    tpl(password);
                }
                Some(rehearse_scenario::Auth::Bearer(t)) => tpl(t),
                None => {}
            }
            match &r.body {
                Body::Json(v) => value_reads(v, &mut tpl),
                Body::Text(t) => tpl(t),
                Body::Form(fields) => fields.iter().for_each(|(_, t)| tpl(t)),
                Body::Multipart(parts) => {
                    for p in parts {
                        if let PartContent::Text(t) = &p.content {
                            tpl(t);
                        }
                    }
                }
                Body::None | Body::File(_) => {}
            }
        }
        Action::Approve(a) => {
            tpl(&a.reference);
            a.note.iter().chain(&a.amount).for_each(&mut tpl);
        }
        Action::Bind(binds) => binds.iter().for_each(|(_, v)| value_reads(v, &mut tpl)),
        Action::Wait(_) | Action::AdvanceClock(_) => {}
    }
    step.expect.body_contains.iter().for_each(&mut tpl);
    out
}

fn value_reads(v: &TplValue, tpl: &mut impl FnMut(&Tpl)) {
    match v {
        TplValue::Json(_) => {}
        TplValue::Str(t) => tpl(t),
        TplValue::Array(items) => items.iter().for_each(|i| value_reads(i, tpl)),
        TplValue::Object(fields) => fields.iter().for_each(|(_, i)| value_reads(i, tpl)),
    }
}

/// Runs cleanup steps of one scenario of `plan` again, outside a run (`rehearse cleanup`):
/// the environment's vars rendered as a run renders them (secrets read from the plan's
/// world), the scenario's vars bound, then `recorded` over them; each step in `steps`
/// (indexes into the scenario's `cleanup`) is sent through the run's own path (timeouts,
/// retries, masking) and its result returned in order. `options.quit` stops the steps in
/// flight (those not begun are reported `interrupted`). `Err` says why nothing could run
/// (an environment var that does not render, a TLS file, a scenario var, an index that is
/// not a cleanup step), masked.
pub async fn run_cleanup(
    plan: Arc<Plan>,
    scenario: usize,
    steps: &[usize],
    recorded: &BTreeMap<String, String>,
    options: &RunOptions,
    events: UnboundedSender<RunEvent>,
) -> Result<Vec<StepResult>, String> {
    crate::exec::run_cleanup(plan, scenario, steps, recorded, options, events).await
}
