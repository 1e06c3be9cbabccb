//! Background jobs and what they did: the bookkeeping behind `/internal/jobs`, one run at a
//! time per job, and the scheduler that fires them on their cron schedule.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio_cron_scheduler::{Job, JobScheduler};
use uuid::Uuid;

use crate::error::Error;
use crate::payment::{lock, timestamp};
use crate::state::Shared;

/// The name of the status poller job (`/internal/jobs/bank-status-poller`).
pub const POLLER_JOB: &str = "bank-status-poller";

/// How many past runs a job shows in `recent_runs`.
const RECENT_RUNS: usize = 10;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The cron schedule.
    Schedule,
    /// `POST /internal/jobs/{name}/run`.
    Manual,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Manual => "manual",
        }
    }
}

/// One finished run.
#[derive(Debug, Clone)]
struct RunRecord {
    trigger: Trigger,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    error: Option<String>,
    summary: Value,
}

impl RunRecord {
    fn to_json(&self) -> Value {
        json!({
            "trigger": self.trigger.as_str(),
            "started_at": timestamp(self.started_at),
            "finished_at": timestamp(self.finished_at),
            "outcome": if self.error.is_some() { "error" } else { "success" },
            "error": self.error,
            "summary": self.summary,
        })
    }
}

#[derive(Debug, Default)]
struct JobState {
    registered: bool,
    running: bool,
    last_run: Option<DateTime<Utc>>,
    last_success: Option<DateTime<Utc>>,
    last_error: Option<String>,
    runs: u64,
    recent: VecDeque<RunRecord>,
}

/// What one run reports: a summary, and the error that made it fail (if any).
#[derive(Debug, Clone)]
pub(crate) struct RunReport {
    pub(crate) summary: Value,
    pub(crate) error: Option<String>,
}

/// A job's schedule, state and run lock.
#[derive(Debug)]
pub(crate) struct JobRecord {
    name: &'static str,
    schedule: String,
    state: Mutex<JobState>,
    /// One run at a time: a manual run waits for a scheduled one and the other way round.
    run_lock: tokio::sync::Mutex<()>,
}

impl JobRecord {
    pub(crate) fn new(name: &'static str, schedule: String) -> Self {
        Self {
            name,
            schedule,
            state: Mutex::new(JobState::default()),
            run_lock: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn is_registered(&self) -> bool {
        lock(&self.state).registered
    }

    pub(crate) fn set_registered(&self, registered: bool) {
        lock(&self.state).registered = registered;
    }

    /// Waits until no run is in progress.
    pub(crate) async fn wait_idle(&self) {
        drop(self.run_lock.lock().await);
    }

    /// Runs `work` under the job's lock and records the run. A scheduled run finding another
    /// run in progress skips its tick (returns `false`); a manual run waits for its turn.
    pub(crate) async fn run<F>(&self, trigger: Trigger, work: F) -> bool
    where
        F: Future<Output = RunReport>,
    {
        let _guard = match trigger {
            Trigger::Manual => self.run_lock.lock().await,
            Trigger::Schedule if !self.is_registered() => return false,
            Trigger::Schedule => match self.run_lock.try_lock() {
                Ok(guard) => guard,
                Err(_) => {
                    tracing::info!(
                        job = self.name,
                        "previous run still in progress; skipping this tick"
                    );
                    return false;
                }
            },
        };
        let started_at = Utc::now();
        {
            let mut state = lock(&self.state);
            state.running = true;
            state.last_run = Some(started_at);
        }
        tracing::debug!(
            job = self.name,
            trigger = trigger.as_str(),
            "job run started"
        );
        let report = work.await;
        let finished_at = Utc::now();
        let mut state = lock(&self.state);
        state.running = false;
        state.runs += 1;
        match &report.error {
            None => {
                state.last_success = Some(finished_at);
                state.last_error = None;
                tracing::info!(job = self.name, trigger = trigger.as_str(), summary = %report.summary, "job run succeeded");
            }
            Some(error) => {
                state.last_error = Some(error.clone());
                tracing::warn!(job = self.name, trigger = trigger.as_str(), summary = %report.summary, %error, "job run failed");
            }
        }
        if state.recent.len() >= RECENT_RUNS {
            state.recent.pop_front();
        }
        state.recent.push_back(RunRecord {
            trigger,
            started_at,
            finished_at,
            error: report.error,
            summary: report.summary,
        });
        true
    }

    /// The job as `/internal/jobs/{name}` shows it.
    pub(crate) fn to_json(&self, next_run: Option<DateTime<Utc>>) -> Value {
        let state = lock(&self.state);
        let last = state.recent.back();
        json!({
            "name": self.name,
            "schedule": self.schedule,
            "registered": state.registered,
            "running": state.running,
            "last_run": state.last_run.map(timestamp),
            "last_run_finished": last.map(|r| timestamp(r.finished_at)),
            "last_outcome": last.map(|r| if r.error.is_some() { "error" } else { "success" }),
            "last_success": state.last_success.map(timestamp),
            "next_run": if state.registered { next_run.map(timestamp) } else { None },
            "last_error": state.last_error,
            "runs": state.runs,
            "recent_runs": state.recent.iter().rev().map(RunRecord::to_json).collect::<Vec<_>>(),
        })
    }
}

/// The running scheduler and the id of each job in it.
#[derive(Clone)]
pub(crate) struct Scheduled {
    pub(crate) scheduler: JobScheduler,
    pub(crate) poller: Uuid,
}

impl std::fmt::Debug for Scheduled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduled")
            .field("poller", &self.poller)
            .finish_non_exhaustive()
    }
}

impl Scheduled {
    /// When the scheduler will next fire the poller.
    pub(crate) async fn next_poll(&self) -> Option<DateTime<Utc>> {
        let mut scheduler = self.scheduler.clone();
        scheduler
            .next_tick_for_job(self.poller)
            .await
            .ok()
            .flatten()
    }
}

/// Creates a scheduler with the status poller on its cron schedule and starts it. The job
/// holds a weak reference: a dropped platform does not stay alive through its scheduler.
pub(crate) async fn start_scheduler(shared: &Arc<Shared>) -> Result<Scheduled, Error> {
    let scheduler_error = |what: &str, e: tokio_cron_scheduler::JobSchedulerError| {
        Error::Scheduler(format!("{what}: {e:?}"))
    };
    let scheduler = JobScheduler::new()
        .await
        .map_err(|e| scheduler_error("create the scheduler", e))?;
    let weak = Arc::downgrade(shared);
    let job = Job::new_async(
        shared.config.poll_schedule.as_str(),
        move |_id, _scheduler| {
            let weak = weak.clone();
            Box::pin(async move {
                if let Some(shared) = weak.upgrade() {
                    shared.run_poller(Trigger::Schedule).await;
                }
            })
        },
    )
    .map_err(|e| {
        scheduler_error(
            &format!("parse POLL_SCHEDULE `{}`", shared.config.poll_schedule),
            e,
        )
    })?;
    let poller = scheduler
        .add(job)
        .await
        .map_err(|e| scheduler_error("add the status poller", e))?;
    scheduler
        .start()
        .await
        .map_err(|e| scheduler_error("start ticking", e))?;
    Ok(Scheduled { scheduler, poller })
}
