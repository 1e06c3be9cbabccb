//! Serving the engine on wiremock: the builder, the running handle, and the bounded-memory
//! re-registration of the engine's mocks.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rehearse_status_sim::{AutoDecide, Decision, Payment, SimConfig, Simulator, VirtualClock};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::contract::{Auth, Catalog, Contract};
use crate::engine::{Engine, EngineConfig, Reply, lock};
use crate::money::parse_decimal;
use crate::{ApiVersion, Error};
use rehearse_contract::Origin;

/// Default API key (v1, v2): `Authorization: Bearer test-api-key`.
pub const DEFAULT_API_KEY: &str = "test-api-key";
/// Default OAuth client id (v3 token endpoint).
pub const DEFAULT_CLIENT_ID: &str = "rehearse-client";
/// Default OAuth client secret (v3 token endpoint).
pub const DEFAULT_CLIENT_SECRET: &str = "rehearse-secret";
/// Default review threshold, in currency units.
pub const DEFAULT_REVIEW_THRESHOLD: &str = "10000.00";
/// Default seed of the bank's references.
pub const DEFAULT_SEED: u64 = 42;

/// How bank time moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClockMode {
    /// Only when told to (`clock().advance`, `POST /__admin/clock/advance`): deterministic,
    /// for tests and the embedded stack.
    #[default]
    Manual,
    /// Follows the wall clock from the start instant (checked every 250 ms), and can still be
    /// advanced by hand: for a standalone mock a platform talks to for hours.
    Realtime,
}

/// The credentials the bank accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// API key for v1 and v2 (`Authorization: Bearer …`).
    pub api_key: String,
    /// OAuth client id for `POST /oauth/token` (v3).
    pub client_id: String,
    /// OAuth client secret for `POST /oauth/token` (v3).
    pub client_secret: String,
}

/// Options of the bank mock. Start with [`BankMock::builder`].
#[derive(Debug, Clone)]
pub struct BankMockBuilder {
    catalog: Catalog,
    versions: Option<Vec<ApiVersion>>,
    host: IpAddr,
    port: u16,
    credentials: Credentials,
    seed: u64,
    review_threshold: String,
    auto_decide: AutoDecide,
    settlement_cron: String,
    start: DateTime<Utc>,
    clock: Option<Arc<VirtualClock>>,
    clock_mode: ClockMode,
    servers: usize,
    recycle_after: u64,
    journal_capacity: usize,
    max_payments: usize,
    token_ttl: Duration,
    webhooks: Vec<(Option<ApiVersion>, String, String)>,
}

/// The bank mock. See the crate docs.
#[derive(Debug)]
pub struct BankMock;

impl BankMock {
    /// Options with the documented defaults: all shipped versions, loopback on a free port,
    /// [`DEFAULT_API_KEY`], [`DEFAULT_CLIENT_ID`]/[`DEFAULT_CLIENT_SECRET`], seed 42, review
    /// threshold 10000.00, no auto-decision, hourly settlement, manual clock.
    pub fn builder() -> BankMockBuilder {
        BankMockBuilder {
            catalog: Catalog::builtin(),
            versions: None,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            credentials: Credentials {
                api_key: DEFAULT_API_KEY.to_owned(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            },
            seed: DEFAULT_SEED,
            review_threshold: DEFAULT_REVIEW_THRESHOLD.to_owned(),
            auto_decide: AutoDecide::Never,
            settlement_cron: SimConfig::default().settlement_cron,
            start: VirtualClock::default_start(),
            clock: None,
            clock_mode: ClockMode::Manual,
            servers: std::thread::available_parallelism()
                .map_or(1, usize::from)
                .clamp(1, 4),
            recycle_after: 250,
            journal_capacity: 5_000,
            max_payments: 10_000,
            token_ttl: Duration::from_secs(24 * 3600),
            webhooks: Vec::new(),
        }
    }
}

impl BankMockBuilder {
    /// Which API versions to serve (default: every version of the catalog).
    pub fn versions(mut self, versions: impl IntoIterator<Item = ApiVersion>) -> Self {
        self.versions = Some(versions.into_iter().collect());
        self
    }
    /// Where versions come from (default: the built-in ones, [`Catalog::builtin`]); a
    /// team's folders are added with [`Catalog::with_dir`].
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = catalog;
        self
    }
    /// Address to bind (default 127.0.0.1).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }
    /// Port to bind (default 0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// The API key v1 and v2 accept.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credentials.api_key = key.into();
        self
    }
    /// The OAuth client credentials v3's token endpoint accepts.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials.client_id = id.into();
        self.credentials.client_secret = secret.into();
        self
    }
    /// Seed of the bank's references and tokens (same seed, same calls: same ids).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Payments at or above this amount (currency units, e.g. `"10000.00"`) wait for review.
    pub fn review_threshold(mut self, amount: impl Into<String>) -> Self {
        self.review_threshold = amount.into();
        self
    }
    /// What happens to reviews nobody decides.
    pub fn auto_decide(mut self, policy: AutoDecide) -> Self {
        self.auto_decide = policy;
        self
    }
    /// When settlement batches run (6-field cron, default every hour on the hour).
    pub fn settlement_cron(mut self, expr: impl Into<String>) -> Self {
        self.settlement_cron = expr.into();
        self
    }
    /// The bank's start instant (default Monday 2025-01-06 09:00 UTC).
    pub fn start_at(mut self, start: DateTime<Utc>) -> Self {
        self.start = start;
        self
    }
    /// Run on this clock instead of a new one (e.g. a clock shared with other simulated parts).
    pub fn clock(mut self, clock: Arc<VirtualClock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// Manual (default) or wall-clock-following bank time.
    pub fn clock_mode(mut self, mode: ClockMode) -> Self {
        self.clock_mode = mode;
        self
    }
    /// How many wiremock servers share the listening socket (default: the number of cores, at
    /// most 4). Each wiremock server is single-threaded.
    pub fn servers(mut self, n: usize) -> Self {
        self.servers = n.max(1);
        self
    }
    /// After this many requests on one server, its mocks are re-registered to free what
    /// wiremock keeps of matched requests (default 250: each kept request also pins the
    /// connection's read buffer, about 8 KB; at 1,000 that was 18 MB of a mock holding
    /// 10,000 payments, and recycling more often costs no measurable throughput).
    pub fn recycle_after(mut self, requests: u64) -> Self {
        self.recycle_after = requests.max(1);
        self
    }
    /// How many requests the journal keeps (default 5,000; older ones are dropped).
    pub fn journal_capacity(mut self, entries: usize) -> Self {
        self.journal_capacity = entries;
        self
    }
    /// How many payments (and idempotency keys) the bank remembers (default 10,000; the oldest
    /// are forgotten and answer 404).
    pub fn max_payments(mut self, n: usize) -> Self {
        self.max_payments = n;
        self
    }
    /// Lifetime of v3 access tokens in bank time (default 24 h).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Send the status-change webhooks of `version` (`None`: of every version served that
    /// sends webhooks) to `url`, signed with `secret`, from the start: what a platform would
    /// register through the version's registration route. Repeatable.
    pub fn webhook(
        mut self,
        version: Option<ApiVersion>,
        url: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.webhooks.push((version, url.into(), secret.into()));
        self
    }

    /// Bind, mount the engine and serve. Needs a tokio runtime.
    pub async fn start(self) -> Result<RunningBank, Error> {
        let versions = self
            .versions
            .clone()
            .unwrap_or_else(|| self.catalog.versions());
        if versions.is_empty() {
            return Err(Error::Config("serve at least one API version".to_owned()));
        }
        let threshold = parse_decimal(self.review_threshold.trim()).ok_or_else(|| {
            Error::Config(format!(
                "review threshold `{}` is not an amount like 10000.00",
                self.review_threshold
            ))
        })?;
        let mut origins = Vec::new();
        let contracts = versions
            .iter()
            .map(|v| {
                let folder = self.catalog.require(*v).map_err(Error::UnknownVersion)?;
                origins.push((*v, folder.origin.clone()));
                Contract::load(folder)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let clock = match &self.clock {
            Some(clock) => Arc::clone(clock),
            None => Arc::new(VirtualClock::new(self.start)),
        };
        let sim = Simulator::new(
            Arc::clone(&clock),
            SimConfig {
                review_threshold_minor: threshold,
                auto_decide: self.auto_decide,
                settlement_cron: self.settlement_cron.clone(),
                max_payments: self.max_payments,
            },
        )?;
        let (webhooks, webhook_rx) =
            crate::webhooks::Webhooks::new(Arc::clone(&clock), self.seed, &contracts);
        let webhooks = Arc::new(webhooks);
        for (version, url, secret) in &self.webhooks {
            let targets: Vec<ApiVersion> = match version {
                Some(v) => vec![*v],
                None => contracts
                    .iter()
                    .filter(|c| c.webhooks.is_some())
                    .map(|c| c.version)
                    .collect(),
            };
            for v in targets {
                webhooks
                    .subscribe(v, url, secret, "config")
                    .map_err(Error::Config)?;
            }
        }
        let observer = Arc::downgrade(&webhooks);
        sim.observe(move |payment| {
            if let Some(hooks) = observer.upgrade() {
                hooks.on_change(payment);
            }
        });
        let engine = Arc::new(Engine::new(
            EngineConfig {
                api_key: self.credentials.api_key.clone(),
                client_id: self.credentials.client_id.clone(),
                client_secret: self.credentials.client_secret.clone(),
                token_ttl: self.token_ttl,
                seed: self.seed,
                journal_capacity: self.journal_capacity,
                start: clock.now(),
                max_payments: self.max_payments,
            },
            contracts,
            sim,
            Arc::clone(&clock),
            webhooks,
        ));

        let addr = SocketAddr::new(self.host, self.port);
        let listener = TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| Error::Bind { addr, source })?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut servers = Vec::with_capacity(self.servers);
        for slot in 0..self.servers {
            // Every server accepts from a duplicate of the one listening socket: the kernel
            // queue is shared, so no connection is lost whichever server takes it.
            let listener = listener
                .try_clone()
                .map_err(|source| Error::Bind { addr, source })?;
            let server = MockServer::builder()
                .listener(listener)
                .disable_request_recording()
                .start()
                .await;
            for mock in mocks(&engine, slot, self.recycle_after, &tx) {
                server.register(mock).await;
            }
            servers.push(server);
        }
        drop(listener);
        let servers = Arc::new(servers);
        let mut tasks = vec![tokio::spawn(crate::webhooks::run(
            Arc::clone(&engine),
            webhook_rx,
        ))];
        tasks.push(tokio::spawn(recycler(
            Arc::clone(&servers),
            Arc::clone(&engine),
            self.recycle_after,
            tx,
            rx,
        )));
        if self.clock_mode == ClockMode::Realtime {
            tasks.push(tokio::spawn(follow_wall_clock(Arc::clone(&clock))));
        }
        Ok(RunningBank {
            base_url: format!("http://{local}"),
            address: local,
            credentials: self.credentials,
            engine,
            origins,
            servers: Some(servers),
            tasks,
        })
    }
}

async fn follow_wall_clock(clock: Arc<VirtualClock>) {
    let mut interval = tokio::time::interval(Duration::from_millis(250));
    let mut last = tokio::time::Instant::now();
    loop {
        interval.tick().await;
        let now = tokio::time::Instant::now();
        clock.advance(now - last);
        last = now;
    }
}

/// A running bank mock. Dropping it stops the servers; [`shutdown`](Self::shutdown) does the
/// same explicitly.
#[derive(Debug)]
pub struct RunningBank {
    base_url: String,
    address: SocketAddr,
    credentials: Credentials,
    engine: Arc<Engine>,
    origins: Vec<(ApiVersion, Origin)>,
    servers: Option<Arc<Vec<MockServer>>>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningBank {
    /// Each version served and where its folder came from (built in, or a folder).
    pub fn origins(&self) -> &[(ApiVersion, Origin)] {
        &self.origins
    }
    /// How each version served authenticates.
    pub fn auth(&self, version: ApiVersion) -> Option<Auth> {
        self.engine
            .contracts
            .iter()
            .find(|c| c.version == version)
            .map(|c| c.auth)
    }
    /// The bank API root, e.g. `http://127.0.0.1:41234` (v2 lives at `{base}/v2/…`, the token
    /// endpoint at `{base}/oauth/token`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The back-office admin API root: `{base}/__admin`.
    pub fn admin_url(&self) -> String {
        format!("{}/__admin", self.base_url)
    }
    /// The root of one version, e.g. `{base}/v2`.
    pub fn api_url(&self, version: ApiVersion) -> String {
        format!("{}/{version}", self.base_url)
    }
    /// The OAuth token endpoint (v3).
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base_url)
    }
    /// The socket address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
    /// The versions served.
    pub fn versions(&self) -> Vec<ApiVersion> {
        self.engine.versions()
    }
    /// The credentials accepted.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }
    /// The bank's clock: advancing it runs settlement batches and auto-decisions.
    pub fn clock(&self) -> Arc<VirtualClock> {
        Arc::clone(&self.engine.clock)
    }
    /// Decide a review in-process (what `POST /__admin/reviews/{id}/decision` does).
    pub fn decide(
        &self,
        payment_id: &str,
        decision: Decision,
        note: Option<String>,
    ) -> Result<Payment, rehearse_status_sim::Error> {
        self.engine.sim.decide(payment_id, decision, note)
    }
    /// A payment as the bank sees it.
    pub fn payment(&self, payment_id: &str) -> Option<Payment> {
        self.engine.sim.get(payment_id)
    }
    /// Send `version`'s status-change webhooks to `url` signed with `secret` (what
    /// `POST {registration}` does); the subscription's id.
    pub fn add_webhook(
        &self,
        version: ApiVersion,
        url: &str,
        secret: &str,
    ) -> Result<String, Error> {
        self.engine
            .webhooks
            .subscribe(version, url, secret, "config")
            .map(|s| s.id)
            .map_err(Error::Config)
    }
    /// Whether `version` sends webhooks (its manifest has a `webhooks` section).
    pub fn sends_webhooks(&self, version: ApiVersion) -> bool {
        self.engine.webhooks.contract(version).is_some()
    }
    /// Send every webhook delivery that is due on the bank clock now, and wait for them
    /// (at most 10 s). In-process advances of [`clock`](Self::clock) queue deliveries that
    /// are sent soon after; the admin API's advance waits for them itself.
    pub async fn deliver_webhooks(&self) {
        self.engine.webhooks.flush().await;
    }
    /// How many times a server's mocks were re-registered to free memory.
    pub fn recycles(&self) -> u64 {
        self.engine.recycles.load(Ordering::Relaxed)
    }
    /// Stop serving. Requests in flight on a closing connection may be cut.
    pub async fn shutdown(mut self) {
        self.stop();
        tokio::task::yield_now().await;
    }

    fn stop(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        // Dropping a MockServer stops its thread.
        self.servers.take();
    }
}

impl Drop for RunningBank {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Everything;

impl Match for Everything {
    fn matches(&self, _: &Request) -> bool {
        true
    }
}

/// Matches the requests an armed connection-reset fault applies to (and consumes it).
struct ResetFault(Arc<Engine>);

impl Match for ResetFault {
    fn matches(&self, request: &Request) -> bool {
        self.0.take_reset(request)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection reset by an injected fault")]
struct InjectedReset;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hand {
    Waiting,
    Enqueued,
    Abandoned,
}

/// The responder of a server asks the recycler to re-register, then waits (still holding the
/// server's lock) until the recycler has queued `reset` and `register` on that lock.
struct Handshake {
    state: Mutex<Hand>,
    ready: Condvar,
}

struct RecycleRequest {
    slot: usize,
    handshake: Arc<Handshake>,
}

struct EngineResponder {
    engine: Arc<Engine>,
    slot: usize,
    matched: AtomicU64,
    recycle_after: u64,
    recycle: mpsc::UnboundedSender<RecycleRequest>,
}

impl EngineResponder {
    fn request_recycle(&self) {
        let handshake = Arc::new(Handshake {
            state: Mutex::new(Hand::Waiting),
            ready: Condvar::new(),
        });
        let request = RecycleRequest {
            slot: self.slot,
            handshake: Arc::clone(&handshake),
        };
        if self.recycle.send(request).is_err() {
            return;
        }
        let state = lock(&handshake.state);
        let (mut state, _) = handshake
            .ready
            .wait_timeout_while(state, Duration::from_secs(2), |s| *s == Hand::Waiting)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *state == Hand::Waiting {
            // The recycler did not answer in time; it will see this and do nothing. We try
            // again after the next `recycle_after` requests.
            *state = Hand::Abandoned;
        }
    }
}

impl Respond for EngineResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let reply = self.engine.handle(request);
        let matched = self.matched.fetch_add(1, Ordering::Relaxed) + 1;
        if matched.is_multiple_of(self.recycle_after) {
            self.request_recycle();
        }
        template(reply)
    }
}

fn template(reply: Reply) -> ResponseTemplate {
    let mut template = ResponseTemplate::new(reply.status);
    for (name, value) in reply.headers {
        template = template.insert_header(name.as_str(), value.as_str());
    }
    if !reply.body.is_empty() {
        template = template.set_body_raw(reply.body, reply.content_type);
    }
    if let Some(delay) = reply.delay {
        template = template.set_delay(delay);
    }
    template
}

fn mocks(
    engine: &Arc<Engine>,
    slot: usize,
    recycle_after: u64,
    recycle: &mpsc::UnboundedSender<RecycleRequest>,
) -> Vec<Mock> {
    vec![
        Mock::given(ResetFault(Arc::clone(engine)))
            .respond_with_err(|_: &Request| InjectedReset)
            .with_priority(1)
            .named("bank engine: connection-reset faults"),
        Mock::given(Everything)
            .respond_with(EngineResponder {
                engine: Arc::clone(engine),
                slot,
                matched: AtomicU64::new(0),
                recycle_after,
                recycle: recycle.clone(),
            })
            .named("bank engine"),
    ]
}

/// Poll a future once: queues it on whatever it waits for.
async fn poll_once<F: Future + ?Sized>(mut future: Pin<&mut F>) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
}

/// Re-registers a server's mocks when its responder asks.
///
/// wiremock 0.6.5 keeps a clone of every request a mounted mock matches, and only
/// `MockServer::reset` frees them. A reset followed by a register leaves a gap in which a
/// request finds no mock (404). To close it, the asking responder blocks its server (it runs
/// under the server's write lock) while this task polls `reset` and each `register` once,
/// which queues them, in that order, on the server's fair (FIFO) lock. Only then is the
/// responder released; the queued operations run back to back before any request that
/// arrived meanwhile. No request is refused, none is cut, and memory stays bounded.
async fn recycler(
    servers: Arc<Vec<MockServer>>,
    engine: Arc<Engine>,
    recycle_after: u64,
    tx: mpsc::UnboundedSender<RecycleRequest>,
    mut rx: mpsc::UnboundedReceiver<RecycleRequest>,
) {
    while let Some(RecycleRequest { slot, handshake }) = rx.recv().await {
        let Some(server) = servers.get(slot) else {
            continue;
        };
        let mut reset = Box::pin(server.reset());
        let mut registers: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> =
            mocks(&engine, slot, recycle_after, &tx)
                .into_iter()
                .map(|mock| {
                    Box::pin(server.register(mock)) as Pin<Box<dyn Future<Output = ()> + Send>>
                })
                .collect();
        let mut done = vec![poll_once(reset.as_mut()).await];
        for register in &mut registers {
            done.push(poll_once(register.as_mut()).await);
        }
        let go = {
            let mut state = lock(&handshake.state);
            if *state == Hand::Waiting {
                *state = Hand::Enqueued;
                handshake.ready.notify_all();
                true
            } else {
                false
            }
        };
        if !go {
            // Dropping the queued futures leaves the server as it was.
            continue;
        }
        let mut done = done.into_iter();
        if done.next() != Some(true) {
            reset.await;
        }
        for (register, ready) in registers.into_iter().zip(done) {
            if !ready {
                register.await;
            }
        }
        engine.recycles.fetch_add(1, Ordering::Relaxed);
    }
}
