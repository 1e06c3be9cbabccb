//! How the runner acts on the world beyond plain requests: a bank reviewer's decision
//! ([`Approver`]) and the bank's clock ([`ClockControl`]). Each is a one-method trait; the
//! built-in implementations talk HTTP to the bank mock's back office, so they work for the
//! embedded stack and for a mock started as a separate process alike.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use rehearse_scenario::{Decision, parse_cron};

/// A reviewer's decision the runner needs carried out.
#[derive(Debug, Clone)]
pub struct ApprovalRequest {
    /// The bank's id of the payment.
    pub reference: String,
    /// Approve or reject.
    pub decision: Decision,
    /// The reviewer's note.
    pub note: Option<String>,
    /// The amount, when the step gives it (for prompts).
    pub amount: Option<String>,
    /// What the operator must do (`prompt` mode), rendered.
    pub instructions: Option<String>,
    /// The scenario asking (for prompts).
    pub scenario: String,
    /// The step asking.
    pub step: String,
}

/// Carries out `approve` steps.
pub trait Approver: Send + Sync + fmt::Debug {
    /// Carries out the decision; `Ok` holds a one-line account of what happened, `Err`
    /// says why it could not be done.
    fn approve<'a>(&'a self, request: &'a ApprovalRequest)
    -> BoxFuture<'a, Result<String, String>>;
}

/// Moves the bank's clock (only where it is virtual).
pub trait ClockControl: Send + Sync + fmt::Debug {
    /// Advances by `by`, firing what falls due in time order; `Ok` holds a one-line
    /// account (the new bank time, the jobs fired).
    fn advance(&self, by: Duration) -> BoxFuture<'_, Result<String, String>>;

    /// Advances to the next moment something is due (the next tick of a platform job)
    /// and runs it: what a `poll` does between attempts on a virtual clock, instead of
    /// sleeping. `Ok` holds a one-line account.
    fn next_tick(&self) -> BoxFuture<'_, Result<String, String>>;
}

/// How long a back-office call may take unless told otherwise: the default of an
/// environment's `timeouts.request`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a back-office answer that is read: its answers are a few hundred bytes.
const MAX_ANSWER: usize = 1 << 20;

/// Approves through the bank mock's back office:
/// `POST {admin}/reviews/{reference}/decision`.
#[derive(Debug, Clone)]
pub struct MockApprover {
    client: reqwest::Client,
    admin: String,
    timeout: Duration,
}

impl MockApprover {
    /// An approver for the back office at `admin` (`http://…/__admin`), each call within
    /// 30 s (the default of `timeouts.request`).
    pub fn new(client: reqwest::Client, admin: impl Into<String>) -> Self {
        Self {
            client,
            admin: admin.into().trim_end_matches('/').to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Each call to the back office within `timeout` (the environment's
    /// `timeouts.request`).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A back-office call that got no answer, in plain words: "timed out" when its time ran
/// out.
fn unanswered(url: &str, e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!(
            "{url} timed out: no answer within {}",
            humantime::format_duration(timeout)
        )
    } else {
        format!(
            "{url} did not answer: {}",
            crate::neterr::describe(e, timeout)
        )
    }
}

/// The answer's status and text, at most [`MAX_ANSWER`] bytes of it, within the call's
/// timeout (reqwest's covers the body too).
async fn answer(
    url: &str,
    mut resp: reqwest::Response,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, String), String> {
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| unanswered(url, &e, timeout))?
    {
        if body.len().saturating_add(chunk.len()) > MAX_ANSWER {
            return Err(format!(
                "{url} answered {} with a body over {MAX_ANSWER} bytes",
                status.as_u16()
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

impl Approver for MockApprover {
    fn approve<'a>(&'a self, r: &'a ApprovalRequest) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let url = format!("{}/reviews/{}/decision", self.admin, r.reference);
            let body = serde_json::json!({
                "decision": r.decision.as_str(),
                "note": r.note.clone().unwrap_or_else(|| format!("{} by rehearse", r.decision.as_str())),
            });
            let resp = self
                .client
                .post(&url)
                .json(&body)
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "the bank's back office at {}",
                        unanswered(&url, &e, self.timeout)
                    )
                })?;
            let (status, text) = answer(&url, resp, self.timeout).await?;
            if status.is_success() {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                Ok(format!(
                    "{} {}: bank status {}",
                    r.decision.as_str(),
                    r.reference,
                    v["status"].as_str().unwrap_or("unknown")
                ))
            } else {
                Err(format!(
                    "the bank's back office refused to {} {}: {} {}",
                    r.decision.as_str(),
                    r.reference,
                    status.as_u16(),
                    rehearse_scenario::excerpt(&text, 200)
                ))
            }
        })
    }
}

/// For environments where someone else approves: the step passes at once and a later
/// `poll` waits for the bank's status.
#[derive(Debug, Clone, Default)]
pub struct WaitApprover;

impl Approver for WaitApprover {
    fn approve<'a>(&'a self, r: &'a ApprovalRequest) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            Ok(format!(
                "waiting for someone else to {} {} (approval mode `wait`)",
                r.decision.as_str(),
                r.reference
            ))
        })
    }
}

/// A platform job to fire at its cron ticks.
#[derive(Debug, Clone)]
pub struct FiredJob {
    /// Its name.
    pub name: String,
    /// Its cron expression.
    pub cron: croner::Cron,
    /// URL that runs it now (POST).
    pub trigger: String,
}

/// Drives the bank mock's virtual clock over its admin API and fires the platform's jobs
/// that fall due, in time order: for each tick the bank's clock is set to the tick (so the
/// bank runs what was due first, e.g. a settlement batch), then the job's trigger URL is
/// called, as the platform's scheduler would have done at that moment.
///
/// Polls waiting at the same time share ticks: a [`next_tick`](ClockControl::next_tick)
/// is served by the first tick that starts after it was asked for, whoever runs it. So 64
/// scenarios polling at once move bank time by one tick, not 64, and each still sees the
/// platform's jobs run after its last attempt.
#[derive(Debug)]
pub struct HttpClock {
    client: reqwest::Client,
    admin: String,
    jobs: Vec<FiredJob>,
    timeout: Duration,
    // Scenarios share the bank's clock: advance one at a time.
    lock: tokio::sync::Mutex<()>,
    ticks: std::sync::Mutex<Ticks>,
}

/// The poll ticks run so far, for sharing them between waiting polls.
#[derive(Debug, Default)]
struct Ticks {
    /// Ticks started.
    started: u64,
    /// Ticks finished; the last one's account.
    finished: u64,
    last: Option<Result<String, String>>,
}

impl HttpClock {
    /// A clock behind the back office at `admin`, firing `jobs`, each call within
    /// 30 s (the default of `timeouts.request`).
    pub fn new(client: reqwest::Client, admin: impl Into<String>, jobs: Vec<FiredJob>) -> Self {
        Self {
            client,
            admin: admin.into().trim_end_matches('/').to_owned(),
            jobs,
            timeout: DEFAULT_TIMEOUT,
            lock: tokio::sync::Mutex::new(()),
            ticks: std::sync::Mutex::new(Ticks::default()),
        }
    }

    /// Each call to the back office and to a job's trigger within `timeout` (the
    /// environment's `timeouts.request`).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn ticks(&self) -> std::sync::MutexGuard<'_, Ticks> {
        self.ticks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Builds the job list from names, cron texts and trigger URLs.
    pub fn jobs(
        specs: impl IntoIterator<Item = (String, String, String)>,
    ) -> Result<Vec<FiredJob>, String> {
        specs
            .into_iter()
            .map(|(name, cron, trigger)| {
                Ok(FiredJob {
                    cron: parse_cron(&cron)
                        .map_err(|e| format!("job {name}: invalid cron `{cron}`: {e}"))?,
                    name,
                    trigger,
                })
            })
            .collect()
    }

    async fn post(
        &self,
        url: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let mut req = self.client.post(url).timeout(self.timeout);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| unanswered(url, &e, self.timeout))?;
        let (status, text) = answer(url, resp, self.timeout).await?;
        if !status.is_success() {
            return Err(format!(
                "{url} answered {}: {}",
                status.as_u16(),
                rehearse_scenario::excerpt(&text, 200)
            ));
        }
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    async fn now(&self) -> Result<DateTime<Utc>, String> {
        let url = format!("{}/clock", self.admin);
        let resp = self
            .client
            .get(&url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| unanswered(&url, &e, self.timeout))?;
        let (status, text) = answer(&url, resp, self.timeout).await?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{url} answered {} with no JSON ({e}): {}",
                status.as_u16(),
                rehearse_scenario::excerpt(&text, 200)
            )
        })?;
        v["now"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| format!("{url} gave no `now`: {v}"))
    }

    async fn set(&self, to: DateTime<Utc>) -> Result<(), String> {
        let to = to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.post(
            &format!("{}/clock/set", self.admin),
            Some(serde_json::json!({ "to": to })),
        )
        .await
        .map(|_| ())
    }
}

/// The ticks of `jobs` in `(from, to]`, in time order (ties: in the order jobs are listed).
pub fn due_ticks(
    jobs: &[FiredJob],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, usize)> {
    let mut ticks = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let mut after = from;
        while let Ok(next) = job.cron.find_next_occurrence(&after, false) {
            if next > to {
                break;
            }
            ticks.push((next, i));
            after = next;
        }
    }
    ticks.sort();
    ticks
}

impl HttpClock {
    /// One poll tick: to the next moment a job is due, running what is due then.
    async fn tick(&self) -> Result<String, String> {
        let from = self.now().await?;
        let next = self
            .jobs
            .iter()
            .filter_map(|j| j.cron.find_next_occurrence(&from, false).ok())
            .min()
            .ok_or_else(|| {
                "the environment declares no platform jobs to advance the clock to".to_owned()
            })?;
        self.set(next).await?;
        let mut fired = Vec::new();
        for job in &self.jobs {
            if job.cron.find_next_occurrence(&from, false).ok() == Some(next) {
                self.post(&job.trigger, None)
                    .await
                    .map_err(|e| format!("job `{}` at {next}: {e}", job.name))?;
                fired.push(job.name.as_str());
            }
        }
        Ok(format!(
            "bank time {} ({})",
            next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            fired.join(", ")
        ))
    }
}

impl ClockControl for HttpClock {
    fn next_tick(&self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            // The first tick to start from now on serves this poll.
            let wanted = self.ticks().started + 1;
            let _one_at_a_time = self.lock.lock().await;
            {
                let mut ticks = self.ticks();
                if ticks.finished >= wanted
                    && let Some(last) = &ticks.last
                {
                    return last.clone();
                }
                ticks.started += 1;
            }
            let result = self.tick().await;
            let mut ticks = self.ticks();
            ticks.finished = ticks.started;
            ticks.last = Some(result.clone());
            result
        })
    }

    fn advance(&self, by: Duration) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let _one_at_a_time = self.lock.lock().await;
            let from = self.now().await?;
            // Checked: the bank's time comes from its answer, and may be near the end of
            // what a date can hold.
            let to = chrono::Duration::from_std(by)
                .ok()
                .and_then(|by| from.checked_add_signed(by))
                .ok_or_else(|| {
                    format!(
                        "bank time {} cannot move {} further",
                        from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        humantime::format_duration(by)
                    )
                })?;
            let ticks = due_ticks(&self.jobs, from, to);
            for (at, job) in &ticks {
                self.set(*at).await?;
                let job = &self.jobs[*job];
                self.post(&job.trigger, None)
                    .await
                    .map_err(|e| format!("job `{}` at {at}: {e}", job.name))?;
            }
            self.set(to).await?;
            Ok(format!(
                "bank time {} → {} ({} job run{})",
                from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                to.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                ticks.len(),
                if ticks.len() == 1 { "" } else { "s" }
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_of_several_jobs_come_in_time_order() {
        let jobs = HttpClock::jobs([
            (
                "a".to_owned(),
                "0 */30 * * * *".to_owned(),
                "http://a".to_owned(),
            ),
            (
                "b".to_owned(),
                "0 0 * * * *".to_owned(),
                "http://b".to_owned(),
            ),
        ])
        .unwrap();
        let from = DateTime::parse_from_rfc3339("2026-01-05T09:10:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let to = from + chrono::Duration::hours(1);
        let ticks: Vec<String> = due_ticks(&jobs, from, to)
            .into_iter()
            .map(|(t, j)| format!("{} {}", t.format("%H:%M"), jobs[j].name))
            .collect();
        assert_eq!(ticks, vec!["09:30 a", "10:00 a", "10:00 b"]);
    }

    /// A back office at a fixed bank time whose one job counts its runs.
    async fn back_office() -> (wiremock::MockServer, HttpClock) {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, ResponseTemplate};
        let server = wiremock::MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/__admin/clock"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"now": "2026-01-05T09:00:00Z"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/__admin/clock/set"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/poller/run"))
            .respond_with(
                ResponseTemplate::new(200)
                    // Long enough for every poll to arrive while the first tick runs.
                    .set_delay(Duration::from_millis(200))
                    .set_body_json(serde_json::json!({})),
            )
            .mount(&server)
            .await;
        let jobs = HttpClock::jobs([(
            "poller".to_owned(),
            "0 */5 * * * *".to_owned(),
            format!("{}/poller/run", server.uri()),
        )])
        .unwrap();
        let clock = HttpClock::new(
            reqwest::Client::new(),
            format!("{}/__admin", server.uri()),
            jobs,
        );
        (server, clock)
    }

    async fn job_runs(server: &wiremock::MockServer) -> usize {
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/poller/run")
            .count()
    }

    #[tokio::test]
    async fn polls_waiting_at_once_share_ticks() {
        let (server, clock) = back_office().await;

        let results = futures::future::join_all((0..10).map(|_| clock.next_tick())).await;

        for r in &results {
            assert_eq!(r.as_deref(), Ok("bank time 2026-01-05T09:05:00Z (poller)"));
        }
        // The first poll's tick, then one more for all that came while it ran.
        let runs = job_runs(&server).await;
        assert!((1..=2).contains(&runs), "{runs} job runs for 10 polls");
    }

    #[tokio::test]
    async fn a_poll_after_a_tick_gets_a_tick_of_its_own() {
        let (server, clock) = back_office().await;

        for _ in 0..3 {
            clock.next_tick().await.unwrap();
        }

        assert_eq!(job_runs(&server).await, 3);
    }
}

/// Approves with a request template against the bank sandbox's reviewer API (`http`
/// mode). The template sees the environment's vars and `reference`, `decision`, `note`,
/// `amount`.
#[derive(Debug)]
pub struct HttpApprover {
    plan: std::sync::Arc<crate::run::Plan>,
    client: reqwest::Client,
    vars: rehearse_scenario::Vars,
    run_id: String,
}

impl HttpApprover {
    /// An approver sending the environment's approval request.
    pub(crate) fn new(
        plan: std::sync::Arc<crate::run::Plan>,
        client: reqwest::Client,
        vars: rehearse_scenario::Vars,
        run_id: String,
    ) -> Self {
        Self {
            plan,
            client,
            vars,
            run_id,
        }
    }
}

impl Approver for HttpApprover {
    fn approve<'a>(&'a self, r: &'a ApprovalRequest) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let Some((request, expect)) = &self.plan.environment.approval_request else {
                return Err("approval mode `http` has no request in the environment".to_owned());
            };
            let mut vars = (*self.vars).clone();
            vars.insert("reference".to_owned(), r.reference.clone().into());
            vars.insert("decision".to_owned(), r.decision.as_str().into());
            vars.insert(
                "note".to_owned(),
                r.note.clone().map_or(serde_json::Value::Null, Into::into),
            );
            vars.insert(
                "amount".to_owned(),
                r.amount.clone().map_or(serde_json::Value::Null, Into::into),
            );
            let vars = std::sync::Arc::new(vars);
            let prepared = crate::prepare::prepare(&self.plan.templates, request, &vars)
                .map_err(|e| e.message)?;
            let timeout = request
                .timeout
                .unwrap_or(self.plan.environment.request_timeout);
            let trace = crate::trace::trace_id();
            let exchange =
                crate::send::send(&self.client, &prepared, timeout, &trace, &self.run_id).await;
            // What `auth` put on the wire is masked like a secret (a response may echo it).
            let creds = crate::redact::Redactor::new(prepared.credentials.iter().cloned());
            let resp = exchange.outcome.map_err(|e| creds.mask(&e))?;
            let failures = crate::check::expect(
                expect,
                &resp,
                exchange.duration,
                &self.plan.templates,
                &vars,
            );
            if failures.is_empty() {
                Ok(format!(
                    "{} {}: reviewer API answered {}",
                    r.decision.as_str(),
                    r.reference,
                    resp.status
                ))
            } else {
                Err(creds.mask(
                    &failures
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ))
            }
        })
    }
}
