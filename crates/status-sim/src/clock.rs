//! Clocks: the wall clock and a virtual clock that runs cron jobs and timers as it advances.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use crate::Error;
use crate::sync::lock;

/// A source of "now". One method, so a closure-backed or fixed clock is easy to write.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant, UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Identifies a job or timer scheduled on a [`VirtualClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(u64);

/// One job run during an [`VirtualClock::advance`] or [`VirtualClock::set`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tick {
    /// The job's name.
    pub job: String,
    /// The virtual instant it ran at.
    pub at: DateTime<Utc>,
}

/// What an advance did: where the clock was, where it is, and the jobs it ran in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advance {
    /// The instant before.
    pub from: DateTime<Utc>,
    /// The instant after.
    pub to: DateTime<Utc>,
    /// Jobs run, in time order.
    pub ticks: Vec<Tick>,
}

type CronFn = Arc<dyn Fn(DateTime<Utc>) + Send + Sync>;
type TimerFn = Box<dyn FnOnce(DateTime<Utc>) + Send>;

enum Work {
    Cron { cron: Box<Cron>, run: CronFn },
    Timer(Option<TimerFn>),
}

struct Job {
    id: JobId,
    name: String,
    next: Option<DateTime<Utc>>,
    work: Work,
}

struct State {
    now: DateTime<Utc>,
    next_id: u64,
    jobs: Vec<Job>,
}

/// A controllable clock, shared behind an `Arc`, with a scheduler of cron jobs and one-shot
/// timers on virtual time.
///
/// [`advance`](Self::advance) runs every job that falls due in the span, in time order (ties:
/// in the order they were scheduled), setting the clock to each tick before running it, and
/// ends at `now + by`. Nothing here reads the wall clock or sleeps, so the same start and the
/// same calls always give the same history.
///
/// Cron expressions are the 6-field ones of tokio-cron-scheduler (`sec min hour day month
/// weekday`), parsed with croner, evaluated in UTC.
///
/// Jobs run on the thread that advances the clock, with no lock held: they may read the clock,
/// schedule timers and cancel jobs, but must not advance or set it (that would deadlock).
pub struct VirtualClock {
    state: Mutex<State>,
    /// Serialises advances so ticks never interleave.
    advancing: Mutex<()>,
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("VirtualClock")
            .field("now", &state.now)
            .field("jobs", &state.jobs.len())
            .finish()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        VirtualClock::now(self)
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new(Self::default_start())
    }
}

/// Parse a 6-field cron expression the way tokio-cron-scheduler does.
pub fn parse_cron(expr: &str) -> Result<Cron, Error> {
    CronParser::builder()
        .seconds(Seconds::Required)
        .build()
        .parse(expr)
        .map_err(|e| Error::InvalidCron {
            expr: expr.to_owned(),
            reason: e.to_string(),
        })
}

fn next_after(cron: &Cron, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after, false).ok()
}

fn to_delta(by: Duration) -> TimeDelta {
    TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX)
}

impl VirtualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            state: Mutex::new(State {
                now: start,
                next_id: 0,
                jobs: Vec::new(),
            }),
            advancing: Mutex::new(()),
        }
    }

    /// The default start instant: Monday 2025-01-06 09:00:00 UTC.
    pub fn default_start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, 9, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// The current virtual instant.
    pub fn now(&self) -> DateTime<Utc> {
        lock(&self.state).now
    }

    /// Move forward by `by`, running every job that falls due on the way.
    pub fn advance(&self, by: Duration) -> Advance {
        let _advancing = lock(&self.advancing);
        let from = self.now();
        let to = from.checked_add_signed(to_delta(by)).unwrap_or(from);
        self.run_until(from, to)
    }

    /// Move to `to`. Forward, it runs the due jobs like [`advance`](Self::advance); backward, it
    /// only moves the clock and recomputes when each cron job runs next.
    pub fn set(&self, to: DateTime<Utc>) -> Advance {
        let _advancing = lock(&self.advancing);
        let from = self.now();
        if to >= from {
            return self.run_until(from, to);
        }
        let mut state = lock(&self.state);
        state.now = to;
        for job in &mut state.jobs {
            if let Work::Cron { cron, .. } = &job.work {
                job.next = next_after(cron, to);
            }
        }
        Advance {
            from,
            to,
            ticks: Vec::new(),
        }
    }

    /// Run `job` at every tick of the 6-field cron expression `expr`, from now on.
    pub fn schedule_cron(
        &self,
        name: &str,
        expr: &str,
        job: impl Fn(DateTime<Utc>) + Send + Sync + 'static,
    ) -> Result<JobId, Error> {
        let cron = parse_cron(expr)?;
        let mut state = lock(&self.state);
        let next = next_after(&cron, state.now);
        Ok(Self::push(
            &mut state,
            name,
            next,
            Work::Cron {
                cron: Box::new(cron),
                run: Arc::new(job),
            },
        ))
    }

    /// Run `job` once, when the clock reaches `at` (at the next advance if `at` is not after now).
    pub fn schedule_at(
        &self,
        name: &str,
        at: DateTime<Utc>,
        job: impl FnOnce(DateTime<Utc>) + Send + 'static,
    ) -> JobId {
        let mut state = lock(&self.state);
        Self::push(&mut state, name, Some(at), Work::Timer(Some(Box::new(job))))
    }

    /// Remove a job or a pending timer. Returns whether it was there.
    pub fn cancel(&self, id: JobId) -> bool {
        let mut state = lock(&self.state);
        let before = state.jobs.len();
        state.jobs.retain(|job| job.id != id);
        state.jobs.len() != before
    }

    /// When the job runs next, if it is still scheduled.
    pub fn next_run(&self, id: JobId) -> Option<DateTime<Utc>> {
        lock(&self.state)
            .jobs
            .iter()
            .find(|job| job.id == id)
            .and_then(|job| job.next)
    }

    fn push(state: &mut State, name: &str, next: Option<DateTime<Utc>>, work: Work) -> JobId {
        let id = JobId(state.next_id);
        state.next_id += 1;
        state.jobs.push(Job {
            id,
            name: name.to_owned(),
            next,
            work,
        });
        id
    }

    fn run_until(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Advance {
        let mut ticks = Vec::new();
        loop {
            let due = {
                let mut state = lock(&self.state);
                let now = state.now;
                // Earliest due job; ties keep scheduling order because ids grow.
                let next = state
                    .jobs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, job)| job.next.map(|at| (at.max(now), job.id, i)))
                    .filter(|(at, _, _)| *at <= to)
                    .min_by_key(|(at, id, _)| (*at, *id));
                match next {
                    None => {
                        state.now = to;
                        break;
                    }
                    Some((at, _, index)) => {
                        state.now = at;
                        let job = &mut state.jobs[index];
                        ticks.push(Tick {
                            job: job.name.clone(),
                            at,
                        });
                        match &mut job.work {
                            Work::Cron { cron, run } => {
                                job.next = next_after(cron, at);
                                Due::Cron(Arc::clone(run), at)
                            }
                            Work::Timer(run) => {
                                let run = run.take();
                                state.jobs.swap_remove(index);
                                Due::Timer(run, at)
                            }
                        }
                    }
                }
            };
            match due {
                Due::Cron(run, at) => run(at),
                Due::Timer(Some(run), at) => run(at),
                Due::Timer(None, _) => {}
            }
        }
        Advance { from, to, ticks }
    }
}

enum Due {
    Cron(CronFn, DateTime<Utc>),
    Timer(Option<TimerFn>, DateTime<Utc>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn advance_runs_cron_ticks_in_order_with_the_clock_set_to_each_tick() {
        let clock = Arc::new(VirtualClock::new(at(9, 10)));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = (Arc::clone(&clock), Arc::clone(&seen));
        clock
            .schedule_cron("hourly", "0 0 * * * *", move |tick| {
                lock(&s).push((tick, c.now()));
            })
            .ok();

        let report = clock.advance(Duration::from_secs(3 * 3600));

        let seen = lock(&seen).clone();
        assert_eq!(
            seen,
            vec![
                (at(10, 0), at(10, 0)),
                (at(11, 0), at(11, 0)),
                (at(12, 0), at(12, 0))
            ]
        );
        assert_eq!(report.to, at(12, 10));
        assert_eq!(clock.now(), at(12, 10));
        assert_eq!(report.ticks.len(), 3);
    }

    #[test]
    fn timers_and_cron_jobs_interleave_by_time_then_by_scheduling_order() {
        let clock = VirtualClock::new(at(9, 0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        clock
            .schedule_cron("half-hourly", "0 */30 * * * *", move |t| {
                lock(&s).push(format!("cron {}", t.format("%H:%M")));
            })
            .ok();
        let s = Arc::clone(&seen);
        clock.schedule_at("timer", at(9, 30), move |t| {
            lock(&s).push(format!("timer {}", t.format("%H:%M")));
        });
        let s = Arc::clone(&seen);
        clock.schedule_at("early", at(9, 5), move |t| {
            lock(&s).push(format!("early {}", t.format("%H:%M")));
        });

        clock.advance(Duration::from_secs(3600));

        assert_eq!(
            lock(&seen).clone(),
            vec!["early 09:05", "cron 09:30", "timer 09:30", "cron 10:00"]
        );
    }

    #[test]
    fn a_tick_exactly_at_the_end_of_the_span_runs_and_one_after_it_does_not() {
        let clock = VirtualClock::new(at(9, 0));
        let id = clock.schedule_cron("hourly", "0 0 * * * *", |_| {});
        let Ok(id) = id else {
            panic!("cron should parse")
        };
        let report = clock.advance(Duration::from_secs(3600));
        assert_eq!(report.ticks.len(), 1);
        assert_eq!(clock.next_run(id), Some(at(11, 0)));
    }

    #[test]
    fn set_backwards_runs_nothing_and_reschedules_cron_from_the_new_instant() {
        let clock = VirtualClock::new(at(12, 0));
        let Ok(id) = clock.schedule_cron("hourly", "0 0 * * * *", |_| {}) else {
            panic!("cron should parse")
        };
        let report = clock.set(at(9, 30));
        assert!(report.ticks.is_empty());
        assert_eq!(clock.next_run(id), Some(at(10, 0)));
    }

    #[test]
    fn cancelled_timer_never_runs() {
        let clock = VirtualClock::new(at(9, 0));
        let ran = Arc::new(Mutex::new(false));
        let r = Arc::clone(&ran);
        let id = clock.schedule_at("t", at(9, 1), move |_| *lock(&r) = true);
        assert!(clock.cancel(id));
        clock.advance(Duration::from_secs(600));
        assert!(!*lock(&ran));
    }

    #[test]
    fn five_field_cron_is_refused_with_the_expected_shape() {
        let clock = VirtualClock::default();
        let err = clock.schedule_cron("bad", "0 * * * *", |_| {});
        let Err(err) = err else {
            panic!("5 fields must be refused")
        };
        assert!(
            err.to_string()
                .starts_with("parse cron expression `0 * * * *`"),
            "{err}"
        );
        assert!(err.to_string().contains("expected 6 fields"), "{err}");
    }

    #[test]
    fn same_calls_give_the_same_history() {
        fn history() -> Vec<Tick> {
            let clock = VirtualClock::default();
            clock.schedule_cron("a", "0 15 * * * *", |_| {}).ok();
            clock.schedule_cron("b", "0 0 */2 * * *", |_| {}).ok();
            clock.schedule_at("c", VirtualClock::default_start(), |_| {});
            let mut ticks = clock.advance(Duration::from_secs(5 * 3600)).ticks;
            ticks.extend(clock.advance(Duration::from_secs(90 * 60)).ticks);
            ticks
        }
        assert_eq!(history(), history());
        assert_eq!(history().len(), 1 + 7 + 3);
    }
}
