//! The subscriptions, the queue of deliveries on bank time, and the task that sends them.
//!
//! A status change (seen through the simulator's observer, under its lock) only queues one
//! delivery per subscription of the payment's version, due at the change's bank instant,
//! and wakes the task. The task sends, in due order, every delivery whose due instant the
//! bank clock has reached, one at a time over real HTTP (each with a timeout), and
//! schedules a failed one's retry on the bank clock as a one-shot timer: on a virtual clock
//! it fires when the clock is advanced past it (like a settlement batch), on a real one on
//! time. The back office waits for the task to send what is due (bounded) before it answers
//! an advance, a set or a review decision, so a scenario sees the platform's reaction in
//! its next step.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rehearse_status_sim::{Payment, VirtualClock};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::ApiVersion;
use crate::contract::{Contract, WebhookContract};
use crate::engine::{Engine, lock, ts};
use crate::faults::FaultKind;
use crate::template::render;

use super::signature::sign;

/// Bank time from a failed attempt to the next: attempt 2 after 10 s, … attempt 5 after
/// 30 min more; after the fifth failure the delivery is given up.
pub(crate) const RETRY_SCHEDULE: [Duration; 4] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
];

/// One attempt's timeout (connect and answer), in real time.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the back office waits for due deliveries before it answers anyway.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// Subscriptions the bank keeps.
const MAX_SUBSCRIPTIONS: usize = 100;
/// Deliveries the journal keeps.
const JOURNAL_CAPACITY: usize = 5_000;
/// Deliveries waiting (queued or held) at most; beyond, new events are journaled as
/// `overflow` and not sent, so a platform that never answers cannot grow the bank.
const MAX_PENDING: usize = 50_000;
/// The longest URL and secret a registration may give.
pub(crate) const MAX_URL: usize = 2_048;
pub(crate) const MAX_SECRET: usize = 256;

/// Where events go.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) version: ApiVersion,
    pub(crate) url: String,
    secret: String,
    pub(crate) created_at: DateTime<Utc>,
    /// Registered through the API (`api`) or configured when the bank started (`config`).
    pub(crate) origin: &'static str,
}

impl Subscription {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "version": self.version,
            "url": self.url,
            "created_at": ts(self.created_at),
            "origin": self.origin,
        })
    }
}

#[derive(Debug, Clone)]
struct Delivery {
    order: u64,
    event_id: String,
    subscription: String,
    version: ApiVersion,
    payment_id: String,
    status: String,
    sequence: u64,
    body: Arc<[u8]>,
    /// What a fault's `where` sees.
    view: Value,
    attempt: u32,
    due: DateTime<Utc>,
    faults_checked: bool,
    /// The fault that shaped this delivery, shown on each of its attempts.
    fault: Option<&'static str>,
}

/// One attempt (or a dropped event), as `GET /__admin/webhooks` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Attempt {
    pub(crate) seq: u64,
    pub(crate) event_id: String,
    pub(crate) subscription: String,
    pub(crate) url: String,
    pub(crate) payment_id: String,
    pub(crate) status: String,
    pub(crate) sequence: u64,
    pub(crate) attempt: u32,
    /// Bank time of the attempt.
    pub(crate) at: String,
    /// The receiver's answer; `null` when nothing answered (or nothing was sent).
    pub(crate) status_code: Option<u16>,
    /// `delivered`, `failed` (a retry is scheduled), `given_up`, `dropped`.
    pub(crate) outcome: &'static str,
    pub(crate) error: Option<String>,
    pub(crate) next_attempt_at: Option<String>,
    pub(crate) fault: Option<&'static str>,
}

#[derive(Debug, Default)]
struct State {
    next_subscription: u64,
    next_event: u64,
    next_order: u64,
    subscriptions: Vec<Subscription>,
    queue: BTreeMap<(DateTime<Utc>, u64), Delivery>,
    /// Out-of-order events, by subscription and payment, sent after the next one.
    held: HashMap<(String, String), Vec<Delivery>>,
    journal: VecDeque<Attempt>,
    total: u64,
}

impl State {
    fn pending(&self) -> usize {
        self.queue.len() + self.held.values().map(Vec::len).sum::<usize>()
    }
}

pub(crate) enum Msg {
    Wake,
    Flush(Box<dyn FnOnce() + Send>),
}

/// The webhook side of the bank. Shared by the engine, the simulator's observer and the
/// delivery task.
pub(crate) struct Webhooks {
    clock: Arc<VirtualClock>,
    seed: u64,
    contracts: HashMap<ApiVersion, WebhookContract>,
    statuses: HashMap<ApiVersion, HashMap<String, String>>,
    state: Mutex<State>,
    wake: mpsc::UnboundedSender<Msg>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("versions", &self.contracts.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Webhooks {
    pub(crate) fn new(
        clock: Arc<VirtualClock>,
        seed: u64,
        contracts: &[Contract],
    ) -> (Self, mpsc::UnboundedReceiver<Msg>) {
        let (wake, rx) = mpsc::unbounded_channel();
        let hooks = Self {
            clock,
            seed,
            contracts: contracts
                .iter()
                .filter_map(|c| c.webhooks.clone().map(|w| (c.version, w)))
                .collect(),
            statuses: contracts
                .iter()
                .map(|c| (c.version, c.statuses.clone()))
                .collect(),
            state: Mutex::new(State::default()),
            wake,
        };
        (hooks, rx)
    }

    /// The version's webhook contract, if it sends webhooks.
    pub(crate) fn contract(&self, version: ApiVersion) -> Option<&WebhookContract> {
        self.contracts.get(&version)
    }

    /// Add a subscription; `Err` when the version sends no webhooks or the bank holds too
    /// many.
    pub(crate) fn subscribe(
        &self,
        version: ApiVersion,
        url: &str,
        secret: &str,
        origin: &'static str,
    ) -> Result<Subscription, String> {
        if !self.contracts.contains_key(&version) {
            return Err(format!(
                "bank API {version} sends no webhooks (its manifest has no `webhooks` section)"
            ));
        }
        check_url(url)?;
        if secret.is_empty() || secret.len() > MAX_SECRET {
            return Err(format!("`secret` must be 1 to {MAX_SECRET} characters"));
        }
        let mut state = lock(&self.state);
        if state.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Err(format!(
                "the bank holds {MAX_SUBSCRIPTIONS} webhook subscriptions already: remove one first"
            ));
        }
        state.next_subscription += 1;
        let subscription = Subscription {
            id: format!("wh_{}", state.next_subscription),
            version,
            url: url.to_owned(),
            secret: secret.to_owned(),
            created_at: self.clock.now(),
            origin,
        };
        state.subscriptions.push(subscription.clone());
        Ok(subscription)
    }

    pub(crate) fn subscriptions(&self, version: Option<ApiVersion>) -> Vec<Subscription> {
        lock(&self.state)
            .subscriptions
            .iter()
            .filter(|s| version.is_none_or(|v| v == s.version))
            .cloned()
            .collect()
    }

    /// Remove a subscription of `version`; whether it was there. Its pending deliveries are
    /// dropped.
    pub(crate) fn unsubscribe(&self, version: ApiVersion, id: &str) -> bool {
        let mut state = lock(&self.state);
        let before = state.subscriptions.len();
        state
            .subscriptions
            .retain(|s| !(s.id == id && s.version == version));
        let removed = state.subscriptions.len() != before;
        if removed {
            state.queue.retain(|_, d| d.subscription != id);
            state.held.retain(|(sub, _), _| sub != id);
        }
        removed
    }

    /// Forget deliveries, held events and the journal (subscriptions stay: they are the
    /// platforms' configuration, like the credentials). Event ids keep counting: a receiver
    /// remembers the ids it took, and a reused one would be ignored as a duplicate.
    pub(crate) fn reset(&self) {
        let mut state = lock(&self.state);
        state.queue.clear();
        state.held.clear();
        state.journal.clear();
        state.total = 0;
    }

    /// The simulator's observer: queue the event of the payment's last change for every
    /// subscription of its version. Runs under the simulator's lock.
    pub(crate) fn on_change(&self, payment: &Payment) {
        let Some(version) = payment
            .details
            .get("version")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<ApiVersion>().ok())
        else {
            return;
        };
        let Some(contract) = self.contracts.get(&version) else {
            return;
        };
        let Some(change) = payment.history.last() else {
            return;
        };
        let mut state = lock(&self.state);
        let targets: Vec<String> = state
            .subscriptions
            .iter()
            .filter(|s| s.version == version)
            .map(|s| s.id.clone())
            .collect();
        if targets.is_empty() {
            return;
        }
        let status = self
            .statuses
            .get(&version)
            .and_then(|s| s.get(change.status.as_str()))
            .cloned()
            .unwrap_or_else(|| change.status.as_str().to_owned());
        let sequence = payment.history.len() as u64;
        let reference = payment
            .details
            .get("reference")
            .cloned()
            .unwrap_or(Value::Null);
        let reason = match change.status {
            rehearse_status_sim::PaymentStatus::Rejected => payment
                .review
                .as_ref()
                .and_then(|r| r.note.clone())
                .map_or(Value::Null, Value::String),
            _ => Value::Null,
        };
        for subscription in targets {
            state.next_event += 1;
            let event_id = format!(
                "evt_{:016x}",
                splitmix(self.seed ^ splitmix(state.next_event))
            );
            let mut vars = Map::new();
            vars.insert("id".into(), event_id.clone().into());
            vars.insert("type".into(), "payment.status_changed".into());
            vars.insert("payment_id".into(), payment.id.clone().into());
            vars.insert("status".into(), status.clone().into());
            vars.insert("sequence".into(), sequence.into());
            vars.insert("occurred_at".into(), ts(change.at).into());
            vars.insert("reference".into(), reference.clone());
            vars.insert("reason".into(), reason.clone());
            let body = serde_json::to_vec(&render(&contract.event, &vars)).unwrap_or_default();
            let view = Value::Object(vars);
            state.next_order += 1;
            let delivery = Delivery {
                order: state.next_order,
                event_id,
                subscription,
                version,
                payment_id: payment.id.clone(),
                status: status.clone(),
                sequence,
                body: body.into(),
                view,
                attempt: 1,
                due: change.at,
                faults_checked: false,
                fault: None,
            };
            if state.pending() >= MAX_PENDING {
                let attempt = attempt_of(&delivery, "", change.at, None, "dropped");
                push_journal(
                    &mut state,
                    Attempt {
                        error: Some(format!(
                            "{MAX_PENDING} deliveries are waiting already: this event is not sent"
                        )),
                        ..attempt
                    },
                );
                continue;
            }
            state.queue.insert((delivery.due, delivery.order), delivery);
        }
        drop(state);
        let _ = self.wake.send(Msg::Wake);
    }

    /// Ask the task to send what is due and wait for it, at most [`FLUSH_TIMEOUT`]. Blocks:
    /// for the back office, which runs on a wiremock server's own thread.
    pub(crate) fn flush_blocking(&self) {
        if self.contracts.is_empty() || lock(&self.state).subscriptions.is_empty() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let sent = self.wake.send(Msg::Flush(Box::new(move || {
            let _ = tx.send(());
        })));
        if sent.is_ok() {
            let _ = rx.recv_timeout(FLUSH_TIMEOUT);
        }
    }

    /// Ask the task to send what is due; resolves when it has (or after [`FLUSH_TIMEOUT`]).
    pub(crate) async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.wake.send(Msg::Flush(Box::new(move || {
            let _ = tx.send(());
        })));
        if sent.is_ok() {
            let _ = tokio::time::timeout(FLUSH_TIMEOUT, rx).await;
        }
    }

    /// Deliveries of the journal, oldest first, that match `payment_id` and `event_id` when
    /// given: the newest `limit`.
    pub(crate) fn journal(
        &self,
        payment_id: Option<&str>,
        event_id: Option<&str>,
        limit: usize,
    ) -> (u64, usize, usize, Vec<Attempt>) {
        let state = lock(&self.state);
        let mut found: Vec<Attempt> = state
            .journal
            .iter()
            .rev()
            .filter(|a| payment_id.is_none_or(|p| p == a.payment_id))
            .filter(|a| event_id.is_none_or(|e| e == a.event_id))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        let held = state.held.values().map(Vec::len).sum();
        (state.total, state.queue.len(), held, found)
    }

    /// The earliest queued delivery the clock has reached.
    fn pop_due(&self) -> Option<Delivery> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let key = *state.queue.keys().next()?;
        if key.0 > now {
            return None;
        }
        state.queue.remove(&key)
    }

    fn requeue(&self, delivery: Delivery, timer: &str) {
        let due = delivery.due;
        lock(&self.state)
            .queue
            .insert((delivery.due, delivery.order), delivery);
        let wake = self.wake.clone();
        self.clock.schedule_at(timer, due, move |_| {
            let _ = wake.send(Msg::Wake);
        });
    }

    fn subscription(&self, id: &str) -> Option<Subscription> {
        lock(&self.state)
            .subscriptions
            .iter()
            .find(|s| s.id == id)
            .cloned()
    }

    fn record(&self, attempt: Attempt) {
        push_journal(&mut lock(&self.state), attempt);
    }

    fn take_held(&self, subscription: &str, payment_id: &str) -> Vec<Delivery> {
        lock(&self.state)
            .held
            .remove(&(subscription.to_owned(), payment_id.to_owned()))
            .unwrap_or_default()
    }
}

fn check_url(url: &str) -> Result<(), String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= MAX_URL
        && reqwest::Url::parse(url).is_ok_and(|u| u.host_str().is_some());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`url` must be an absolute http(s) URL of at most {MAX_URL} characters, e.g. http://127.0.0.1:8080/webhooks/bank"
        ))
    }
}

fn push_journal(state: &mut State, mut attempt: Attempt) {
    state.total += 1;
    attempt.seq = state.total;
    if state.journal.len() >= JOURNAL_CAPACITY {
        state.journal.pop_front();
    }
    state.journal.push_back(attempt);
}

fn attempt_of(
    d: &Delivery,
    url: &str,
    at: DateTime<Utc>,
    status_code: Option<u16>,
    outcome: &'static str,
) -> Attempt {
    Attempt {
        seq: 0,
        event_id: d.event_id.clone(),
        subscription: d.subscription.clone(),
        url: url.to_owned(),
        payment_id: d.payment_id.clone(),
        status: d.status.clone(),
        sequence: d.sequence,
        attempt: d.attempt,
        at: ts(at),
        status_code,
        outcome,
        error: None,
        next_attempt_at: None,
        fault: d.fault,
    }
}

fn later(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    at.checked_add_signed(TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX))
        .unwrap_or(at)
}

/// The delivery task: runs until the bank stops (its handle is aborted).
pub(crate) async fn run(engine: Arc<Engine>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let http = match reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("rehearse-bank-mock webhooks")
        .build()
    {
        Ok(http) => http,
        Err(_) => reqwest::Client::new(),
    };
    while let Some(msg) = rx.recv().await {
        let mut waiting = Vec::new();
        if let Msg::Flush(done) = msg {
            waiting.push(done);
        }
        // Coalesce what queued up meanwhile: one pass sends everything due.
        while let Ok(more) = rx.try_recv() {
            if let Msg::Flush(done) = more {
                waiting.push(done);
            }
        }
        while let Some(delivery) = engine.webhooks.pop_due() {
            process(&engine, &http, delivery).await;
        }
        for done in waiting {
            done();
        }
    }
}

async fn process(engine: &Engine, http: &reqwest::Client, mut d: Delivery) {
    let hooks = &engine.webhooks;
    let mut duplicate = false;
    let mut bad_signature = false;
    if !d.faults_checked {
        d.faults_checked = true;
        if let Some(fault) = engine.take_webhook_fault(d.version, &d.view) {
            d.fault = Some(fault.kind.name());
            match fault.kind {
                FaultKind::WebhookDropped => {
                    let url = hooks.subscription(&d.subscription).map(|s| s.url);
                    hooks.record(attempt_of(
                        &d,
                        url.as_deref().unwrap_or_default(),
                        d.due,
                        None,
                        "dropped",
                    ));
                    return;
                }
                FaultKind::WebhookDelayed => {
                    d.due = later(d.due, fault.delay.unwrap_or_default());
                    hooks.requeue(d, "webhook delivery (delayed)");
                    return;
                }
                FaultKind::WebhookOutOfOrder => {
                    lock(&hooks.state)
                        .held
                        .entry((d.subscription.clone(), d.payment_id.clone()))
                        .or_default()
                        .push(d);
                    return;
                }
                FaultKind::WebhookDuplicate => duplicate = true,
                FaultKind::WebhookBadSignature => bad_signature = true,
                _ => {}
            }
        }
    }
    let subscription = d.subscription.clone();
    let payment_id = d.payment_id.clone();
    let first = d.attempt == 1;
    send(hooks, http, d.clone(), bad_signature).await;
    if duplicate {
        send(hooks, http, d, false).await;
    }
    if first {
        for mut held in hooks.take_held(&subscription, &payment_id) {
            // Its own instant has passed: it goes out now, after the newer event.
            held.faults_checked = true;
            send(hooks, http, held, false).await;
        }
    }
}

/// One attempt; a failure schedules the next one on the bank clock.
async fn send(hooks: &Webhooks, http: &reqwest::Client, mut d: Delivery, bad_signature: bool) {
    let Some(subscription) = hooks.subscription(&d.subscription) else {
        return;
    };
    let contract = hooks.contract(d.version);
    let header = contract.map_or("bank-signature", |c| c.signature_header.as_str());
    // Bank time: the instant it was due (the clock may have run on since).
    let at = d.due;
    let secret = if bad_signature {
        format!("not-{}", subscription.secret)
    } else {
        subscription.secret.clone()
    };
    let signature = sign(&secret, at.timestamp(), &d.body);
    let result = http
        .post(&subscription.url)
        .header("content-type", "application/json")
        .header(header, signature)
        .body(d.body.to_vec())
        .send()
        .await;
    let (status_code, error) = match result {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(e) => (None, Some(describe(&e))),
    };
    let ok = status_code.is_some_and(|s| (200..300).contains(&s));
    let mut attempt = attempt_of(&d, &subscription.url, at, status_code, "delivered");
    if !ok && error.is_none() {
        attempt.error = status_code.map(|s| format!("the receiver answered {s}"));
    } else {
        attempt.error = error;
    }
    if ok {
        hooks.record(attempt);
        return;
    }
    let retry = RETRY_SCHEDULE.get((d.attempt as usize).saturating_sub(1));
    match retry {
        Some(after) => {
            let next = later(at, *after);
            attempt.outcome = "failed";
            attempt.next_attempt_at = Some(ts(next));
            hooks.record(attempt);
            d.attempt += 1;
            d.due = next;
            hooks.requeue(d, "webhook retry");
        }
        None => {
            attempt.outcome = "given_up";
            hooks.record(attempt);
        }
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {}s", ATTEMPT_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect to the receiver".to_owned()
    } else {
        "the connection failed before an answer".to_owned()
    }
}
