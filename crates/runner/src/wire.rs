//! A lean HTTP/1.1 exchange for plain `http://` requests: one kept connection per host and
//! port, the request written in one system call, the response head parsed by `httparse`
//! and its body read by `Content-Length`, chunks or until the connection closes.
//!
//! Why: a sequential flow on loopback spends most of its time per request in reqwest's
//! layers (tower services, hyper's dispatcher, the URL parsed again into a `Uri`): ~65,000
//! instructions a request, where this path takes a few thousand (#10, docs/BENCHMARKS.md).
//! Everything unusual goes to reqwest instead (see [`eligible`]): https, a proxy in the
//! environment, credentials in the URL, a streamed body, or a header that frames the
//! message itself. The bytes on the wire are those hyper would write: the same header
//! names (lowercase), the same defaults (`user-agent`, `accept: */*`, `host` last).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::decode::{MAX_BODY, over_limit};

/// The `user-agent` every request carries unless it sets its own (as `http.rs` gives
/// reqwest).
pub(crate) const USER_AGENT: &str = concat!("rehearse/", env!("CARGO_PKG_VERSION"));

/// A connection idle longer than this is not reused (reqwest's pool: the same 30 s).
const IDLE: Duration = Duration::from_secs(30);
/// Idle connections kept per host and port.
const MAX_IDLE: usize = 256;
/// A response head larger than this is not HTTP we can use.
const MAX_HEAD: usize = 256 * 1024;
/// Response headers at most (hyper's limit is 100).
const MAX_HEADERS: usize = 128;

/// How long a lone exchange polls its socket for the reply before it parks (see
/// [`Spin`]). Loopback replies from a local stack come in 20-100 µs here.
const SPIN: Duration = Duration::from_micros(200);
/// Replies in a row that took longer than [`SPIN`] before a connection stops polling...
const MISSES: u8 = 3;
/// ...for this many requests, then tries again.
const REST: u16 = 64;

/// Request headers this path leaves to reqwest: they frame or route the message.
const FRAMING: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
    "te",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
];

/// The proxy variables reqwest reads for an `http://` URL: when one is set, every request
/// goes through reqwest so that the proxy is used.
const PROXY_VARS: &[&str] = &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/// Kept connections, by `host:port`.
#[derive(Debug, Default)]
pub(crate) struct Wire {
    idle: Mutex<HashMap<String, Vec<(Conn, Instant)>>>,
    /// Exchanges under way: only a lone one polls for its reply ([`Spin`]).
    busy: AtomicUsize,
    /// Scenarios under way ([`Wire::scenario`]): while more than one runs, none polls.
    scenarios: AtomicUsize,
}

/// A connection and what it has learnt about its server's replies.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    spin: Spin,
}

/// Whether to poll the socket for a reply before parking the task.
///
/// Why: parking means the thread sleeps in `epoll_wait` and the core goes idle; waking it
/// again when the reply lands costs more than the reply itself on loopback (on this VM a
/// 1,000-request flow against a local server took 125 ms parked and 80 ms polling, of
/// which the server needs ~50; #10, docs/BENCHMARKS.md). So an exchange that is the only
/// one in flight reads its socket in a loop for up to [`SPIN`] before it waits as usual.
/// A server that is farther away is learnt per connection: after [`MISSES`] slow replies
/// in a row the connection stops polling for [`REST`] requests, so a remote staging host
/// costs at most a few polls a connection. Nothing polls while two scenarios run (their
/// timers and steps need the thread: [`Wire::scenario`]), nor on a machine with one core.
#[derive(Debug, Default)]
struct Spin {
    misses: u8,
    rest: u16,
}

impl Spin {
    fn wanted(&mut self) -> bool {
        if self.rest > 0 {
            self.rest -= 1;
            return false;
        }
        true
    }

    fn missed(&mut self) {
        self.misses += 1;
        if self.misses >= MISSES {
            self.misses = 0;
            self.rest = REST;
        }
    }
}

/// Whether polling can help: on one core the poll would hold the core the server (a
/// local stack, another process) needs to answer.
fn spare_core() -> bool {
    static SPARE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SPARE.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Counts an exchange (or a scenario) under way until dropped.
pub(crate) struct Busy<'w>(&'w AtomicUsize);

impl<'w> Busy<'w> {
    /// The guard, and whether nothing else it counts was under way.
    fn enter(count: &'w AtomicUsize) -> (Self, bool) {
        let before = count.fetch_add(1, Ordering::Relaxed);
        (Self(count), before == 0)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A whole response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    /// Names lowercase, values of one name together, in the order first seen (as
    /// reqwest's `HeaderMap` yields them).
    pub(crate) headers: Vec<(String, String)>,
    /// As sent (before `Content-Encoding` is undone).
    pub(crate) body: Vec<u8>,
}

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) enum WireError {
    /// The host name did not resolve.
    Dns,
    /// Connecting failed.
    Connect(io::Error),
    /// Writing or reading failed; `body`: while reading the body.
    Io { error: io::Error, body: bool },
    /// The peer closed the connection before a whole response.
    Closed { body: bool },
    /// The bytes that came back are not an HTTP/1 response.
    NotHttp(String),
    /// A complete message for the step (a body over the cap).
    Message(String),
}

impl Wire {
    /// A pool, or none when a proxy variable is set (reqwest then sends every request).
    pub(crate) fn for_this_process() -> Option<Self> {
        let proxied = PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
        (!proxied).then(Self::default)
    }

    /// Counts a scenario of the run as under way until the guard is dropped. While more
    /// than one is, no exchange polls for its reply: an exchange that is alone on the wire
    /// for a moment would hold the run's thread while the other scenarios' timers come due
    /// (at `--jobs 64` on the embedded stack, 1,000 payment scenarios took 26 % longer).
    pub(crate) fn scenario(&self) -> Busy<'_> {
        Busy::enter(&self.scenarios).0
    }

    /// Sends one request and reads its whole response. `headers` are the request's own
    /// (names as given); the defaults and `host` are added here. No timeout: the caller
    /// bounds the future.
    pub(crate) async fn exchange(
        &self,
        method: &str,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: Option<&Bytes>,
    ) -> Result<Reply, WireError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let key = format!("{host}:{port}");
        let request = encode(method, url, &key, headers, body);
        let head_only = method.eq_ignore_ascii_case("HEAD");
        let (_busy, alone) = Busy::enter(&self.busy);
        let alone = alone && self.scenarios.load(Ordering::Relaxed) <= 1;
        // A kept connection may have been closed by the server while idle: when it
        // fails before a byte of the response arrives, the request goes again on a new
        // one (as browsers, curl and hyper do).
        if let Some(conn) = self.take(&key) {
            match round_trip(conn, &request, head_only, alone).await {
                Ok((reply, keep)) => {
                    self.give_back(key, keep);
                    return Ok(reply);
                }
                Err(Trip::Stale) => {}
                Err(Trip::Failed(e)) => return Err(e),
            }
        }
        let conn = Conn {
            stream: connect(url, port).await?,
            spin: Spin::default(),
        };
        match round_trip(conn, &request, head_only, alone).await {
            Ok((reply, keep)) => {
                self.give_back(key, keep);
                Ok(reply)
            }
            Err(Trip::Stale) => Err(WireError::Closed { body: false }),
            Err(Trip::Failed(e)) => Err(e),
        }
    }

    fn take(&self, key: &str) -> Option<Conn> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = idle.get_mut(key)?;
        while let Some((conn, since)) = list.pop() {
            if since.elapsed() < IDLE {
                return Some(conn);
            }
        }
        None
    }

    fn give_back(&self, key: String, conn: Option<Conn>) {
        let Some(conn) = conn else { return };
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = idle.entry(key).or_default();
        if list.len() < MAX_IDLE {
            list.push((conn, Instant::now()));
        }
    }
}

/// Whether a request can take this path: plain `http://`, no credentials in the URL, a
/// body in memory, and headers that are valid and do not frame the message.
pub(crate) fn eligible(url: &reqwest::Url, method: &str, headers: &[(&str, &str)]) -> bool {
    url.scheme() == "http"
        && url.username().is_empty()
        && url.password().is_none()
        && url.host_str().is_some_and(|h| !h.is_empty())
        && is_token(method)
        && !method.eq_ignore_ascii_case("CONNECT")
        && headers.iter().all(|(k, v)| {
            is_token(k) && valid_value(v) && !FRAMING.iter().any(|f| k.eq_ignore_ascii_case(f))
        })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// What `HeaderValue` accepts: no control character but tab.
fn valid_value(s: &str) -> bool {
    s.bytes().all(|b| (b >= 32 && b != 127) || b == b'\t')
}

/// The request's bytes: request line, headers (lowercase names, one name's values
/// together), defaults, `host` last, then the body.
fn encode(
    method: &str,
    url: &reqwest::Url,
    authority: &str,
    headers: &[(&str, &str)],
    body: Option<&Bytes>,
) -> Vec<u8> {
    let body_len = body.map_or(0, Bytes::len);
    let mut out = Vec::with_capacity(256 + headers.len() * 48 + body_len);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(q) = url.query() {
        out.push(b'?');
        out.extend_from_slice(q.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let mut written = vec![false; headers.len()];
    for i in 0..headers.len() {
        if written[i] {
            continue;
        }
        let name = headers[i].0;
        for j in i..headers.len() {
            if !written[j] && headers[j].0.eq_ignore_ascii_case(name) {
                written[j] = true;
                line(&mut out, name, headers[j].1);
            }
        }
    }
    let has = |n: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if body_len > 0 {
        line(&mut out, "content-length", &body_len.to_string());
    }
    if !has("user-agent") {
        line(&mut out, "user-agent", USER_AGENT);
    }
    if !has("accept") {
        line(&mut out, "accept", "*/*");
    }
    // `host:port` without a default port, as hyper writes it (the URL has dropped :80).
    let host = match url.port() {
        Some(_) => authority,
        None => url.host_str().unwrap_or(authority),
    };
    line(&mut out, "host", host);
    out.extend_from_slice(b"\r\n");
    if let Some(b) = body {
        out.extend_from_slice(b);
    }
    out
}

fn line(out: &mut Vec<u8>, name: &str, value: &str) {
    for b in name.bytes() {
        out.push(b.to_ascii_lowercase());
    }
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

async fn connect(url: &reqwest::Url, port: u16) -> Result<TcpStream, WireError> {
    // `host_str` brackets an IPv6 address; an IP literal needs no lookup.
    let host = url.host_str().unwrap_or_default();
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse::<std::net::IpAddr>();
    let addrs: Vec<SocketAddr> = match literal {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| WireError::Dns)?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(WireError::Dns);
    }
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(WireError::Connect(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::NotConnected, "no address")
    })))
}

enum Trip {
    /// Nothing came back on a reused connection: send again on a new one.
    Stale,
    Failed(WireError),
}

/// One request and its response on `conn`; the connection back when it can be reused.
async fn round_trip(
    mut conn: Conn,
    request: &[u8],
    head_only: bool,
    alone: bool,
) -> Result<(Reply, Option<Conn>), Trip> {
    if let Err(e) = conn.stream.write_all(request).await {
        return Err(if is_stale(&e) {
            Trip::Stale
        } else {
            Trip::Failed(WireError::Io {
                error: e,
                body: false,
            })
        });
    }
    let mut buf = Vec::with_capacity(8 * 1024);
    // Polled for once: the wait for the first bytes of the reply.
    let mut spin = (alone && spare_core() && conn.spin.wanted()).then_some(&mut conn.spin);
    loop {
        // The head, skipping informational (1xx) responses but 101.
        let (status, headers, version, head_len) = loop {
            if let Some(parsed) = parse_head(&buf).map_err(Trip::Failed)? {
                break parsed;
            }
            if buf.len() > MAX_HEAD {
                return Err(Trip::Failed(WireError::NotHttp(
                    "message head is too large".to_owned(),
                )));
            }
            let got = match spin.take().map(|spin| (poll(&conn.stream, &mut buf), spin)) {
                Some((Ok(Some(n)), spin)) => {
                    spin.misses = 0;
                    Ok(n)
                }
                Some((Ok(None), spin)) => {
                    spin.missed();
                    fill(&mut conn.stream, &mut buf).await
                }
                Some((Err(e), _)) => Err(e),
                None => fill(&mut conn.stream, &mut buf).await,
            };
            match got {
                Ok(0) if buf.is_empty() => return Err(Trip::Stale),
                Ok(0) => return Err(Trip::Failed(WireError::Closed { body: false })),
                Ok(_) => {}
                Err(e) if buf.is_empty() && is_stale(&e) => return Err(Trip::Stale),
                Err(e) => {
                    return Err(Trip::Failed(WireError::Io {
                        error: e,
                        body: false,
                    }));
                }
            }
        };
        if (100..200).contains(&status) && status != 101 {
            buf.drain(..head_len);
            continue;
        }
        buf.drain(..head_len);
        let (body, reusable) =
            read_body(&mut conn.stream, buf, status, &headers, version, head_only)
                .await
                .map_err(Trip::Failed)?;
        let reply = Reply {
            status,
            headers: grouped(headers),
            body,
        };
        return Ok((reply, reusable.then_some(conn)));
    }
}

/// A connection the server closed while it sat idle.
fn is_stale(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// Reads what has arrived, trying the socket again for up to [`SPIN`]; `None` when nothing
/// came in that time (then the caller waits as usual). The system call is made on the
/// socket itself: tokio's `try_read` answers from its own readiness flag, which only a
/// park refreshes.
fn poll(conn: &TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
    use std::io::Read as _;
    let socket = socket2::SockRef::from(conn);
    let start = Instant::now();
    let len = buf.len();
    buf.resize(buf.capacity().max(len + 4096), 0);
    let got = loop {
        match (&*socket).read(&mut buf[len..]) {
            Ok(n) => break Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if start.elapsed() >= SPIN {
                    break Ok(None);
                }
                // Yield rather than spin: the report store's writer thread may want this
                // core, and a busy loop cost a run 17 ms of it (docs/BENCHMARKS.md).
                std::thread::yield_now();
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len + got.as_ref().ok().copied().flatten().unwrap_or(0));
    got
}

async fn fill(conn: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(buf.capacity().max(8 * 1024));
    }
    conn.read_buf(buf).await
}

type Head = (u16, Vec<(String, String)>, u8, usize);

fn parse_head(buf: &[u8]) -> Result<Option<Head>, WireError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut slots);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(len)) => {
            let status = resp.code.unwrap_or(0);
            let version = resp.version.unwrap_or(1);
            let headers = resp
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            Ok(Some((status, headers, version, len)))
        }
        Err(e) => Err(WireError::NotHttp(match e {
            httparse::Error::Version => "invalid HTTP version parsed".to_owned(),
            httparse::Error::Status => "invalid HTTP status-code parsed".to_owned(),
            httparse::Error::TooManyHeaders => "too many headers".to_owned(),
            other => format!("invalid HTTP response: {other}"),
        })),
    }
}

/// Values of one name together, names in the order first seen.
fn grouped(headers: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut names: Vec<&str> = Vec::new();
    for (k, _) in &headers {
        if !names.contains(&k.as_str()) {
            names.push(k);
        }
    }
    if names.len() == headers.len() {
        return headers;
    }
    let mut out = Vec::with_capacity(headers.len());
    for n in names {
        out.extend(headers.iter().filter(|(k, _)| k == n).cloned());
    }
    out
}

fn over_cap(announced: Option<usize>) -> WireError {
    WireError::Message(over_limit(announced))
}

/// The body after the head (`buf` holds what was read past it), and whether the
/// connection can carry another request.
async fn read_body(
    conn: &mut TcpStream,
    mut buf: Vec<u8>,
    status: u16,
    headers: &[(String, String)],
    version: u8,
    head_only: bool,
) -> Result<(Vec<u8>, bool), WireError> {
    fn values<'h>(headers: &'h [(String, String)], name: &'h str) -> impl Iterator<Item = &'h str> {
        headers
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    let tokens = |name: &str| {
        values(headers, name)
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let connection = tokens("connection");
    let keep_alive = if version == 0 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };
    if head_only || status == 204 || status == 304 || status == 101 {
        return Ok((Vec::new(), keep_alive && buf.is_empty() && status != 101));
    }
    let chunked = tokens("transfer-encoding")
        .last()
        .is_some_and(|t| t == "chunked");
    if chunked {
        let body = chunks(conn, buf).await?;
        return Ok((body.0, keep_alive && body.1));
    }
    let lengths: Vec<&str> = values(headers, "content-length").collect();
    if let Some(first) = lengths.first() {
        let n: u64 = first
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .parse()
            .map_err(|_| WireError::NotHttp("invalid content-length parsed".to_owned()))?;
        if lengths
            .iter()
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().parse::<u64>().ok() != Some(n))
        {
            return Err(WireError::NotHttp(
                "invalid content-length parsed".to_owned(),
            ));
        }
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > MAX_BODY {
            return Err(over_cap(Some(n)));
        }
        if buf.capacity() < n {
            buf.reserve(n - buf.len());
        }
        while buf.len() < n {
            match conn.read_buf(&mut buf).await {
                Ok(0) => return Err(WireError::Closed { body: true }),
                Ok(_) => {}
                Err(error) => return Err(WireError::Io { error, body: true }),
            }
        }
        // Bytes past the body: the server sent more than one response; do not reuse.
        let clean = buf.len() == n;
        buf.truncate(n);
        return Ok((buf, keep_alive && clean));
    }
    // Neither: the body ends when the connection closes.
    loop {
        if buf.len() > MAX_BODY {
            return Err(over_cap(None));
        }
        match fill(conn, &mut buf).await {
            Ok(0) => return Ok((buf, false)),
            Ok(_) => {}
            Err(error) => return Err(WireError::Io { error, body: true }),
        }
    }
}

/// A chunked body: the data, and whether it ended cleanly (nothing read past it).
async fn chunks(conn: &mut TcpStream, mut buf: Vec<u8>) -> Result<(Vec<u8>, bool), WireError> {
    let bad = |what: &str| WireError::NotHttp(format!("invalid chunked body: {what}"));
    let mut body = Vec::new();
    let mut at = 0usize;
    loop {
        // The size line.
        let line_end = loop {
            if let Some(i) = find_crlf(&buf[at..]) {
                break at + i;
            }
            if buf.len() - at > 4096 {
                return Err(bad("a chunk size line over 4 KiB"));
            }
            more(conn, &mut buf).await?;
        };
        let line = std::str::from_utf8(&buf[at..line_end]).map_err(|_| bad("a size line"))?;
        let hex = line.split(';').next().unwrap_or_default().trim();
        let n = usize::from_str_radix(hex, 16).map_err(|_| bad("a chunk size"))?;
        at = line_end + 2;
        if n == 0 {
            // Trailers, up to an empty line.
            loop {
                let end = loop {
                    if let Some(i) = find_crlf(&buf[at..]) {
                        break at + i;
                    }
                    if buf.len() - at > MAX_HEAD {
                        return Err(bad("trailers too large"));
                    }
                    more(conn, &mut buf).await?;
                };
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Ok((body, at == buf.len()));
                }
            }
        }
        if body.len().saturating_add(n) > MAX_BODY {
            return Err(over_cap(None));
        }
        while buf.len() < at.saturating_add(n).saturating_add(2) {
            more(conn, &mut buf).await?;
        }
        body.extend_from_slice(&buf[at..at + n]);
        if &buf[at + n..at + n + 2] != b"\r\n" {
            return Err(bad("a chunk not followed by CRLF"));
        }
        at += n + 2;
        // Keep the buffer small on a long body.
        if at > 64 * 1024 {
            buf.drain(..at);
            at = 0;
        }
    }
}

async fn more(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), WireError> {
    match fill(conn, buf).await {
        Ok(0) => Err(WireError::Closed { body: true }),
        Ok(_) => Ok(()),
        Err(error) => Err(WireError::Io { error, body: true }),
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    //! Against real sockets on loopback: servers that answer in each framing.

    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request on a connection with the next of `replies`
    /// (then closes when `close`), and reports every request head it read.
    async fn server(
        replies: Vec<&'static [u8]>,
        close: bool,
    ) -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut replies = replies.into_iter();
            while let Ok((mut s, _)) = l.accept().await {
                loop {
                    let mut buf = Vec::new();
                    let mut chunk = [0_u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    if buf.is_empty() {
                        break;
                    }
                    let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
                    let Some(reply) = replies.next() else { return };
                    let _ = s.write_all(reply).await;
                    if close {
                        break;
                    }
                }
            }
        });
        (port, rx)
    }

    /// One request for `/` on a pool of its own.
    async fn once(port: u16, method: &str) -> Result<Reply, WireError> {
        Wire::default()
            .exchange(method, &url(port, "/"), &[], None)
            .await
    }

    fn url(port: u16, path: &str) -> reqwest::Url {
        reqwest::Url::parse(&format!("http://127.0.0.1:{port}{path}")).unwrap()
    }

    #[tokio::test]
    async fn writes_the_request_as_hyper_would_and_reads_a_sized_body() {
        let (port, mut seen) = server(
            vec![b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: 1\r\nSet-Cookie: a=1\r\nx-a: 2\r\n\r\nhello"],
            false,
        )
        .await;
        let body = Bytes::from_static(b"{\"a\":1}");
        let r = Wire::default()
            .exchange(
                "POST",
                &url(port, "/p?q=1#frag"),
                &[("Content-Type", "application/json"), ("X-Trace", "t")],
                Some(&body),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.body, b"hello");
        assert_eq!(
            r.headers,
            [
                ("content-length".to_owned(), "5".to_owned()),
                ("x-a".to_owned(), "1".to_owned()),
                ("x-a".to_owned(), "2".to_owned()),
                ("set-cookie".to_owned(), "a=1".to_owned()),
            ]
        );
        let head = seen.recv().await.unwrap();
        assert_eq!(
            head,
            format!(
                "POST /p?q=1 HTTP/1.1\r\ncontent-type: application/json\r\nx-trace: t\r\ncontent-length: 7\r\nuser-agent: {USER_AGENT}\r\naccept: */*\r\nhost: 127.0.0.1:{port}\r\n\r\n{{\"a\":1}}"
            )
        );
    }

    #[tokio::test]
    async fn keeps_the_connection_and_reads_chunks_and_skips_100_continue() {
        let (port, mut seen) = server(
            vec![
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
                b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
            ],
            false,
        )
        .await;
        let wire = Wire::default();
        let first = wire
            .exchange("GET", &url(port, "/a"), &[], None)
            .await
            .unwrap();
        assert_eq!((first.status, first.body.as_slice()), (200, &b"abc"[..]));
        let second = wire
            .exchange("GET", &url(port, "/b"), &[], None)
            .await
            .unwrap();
        assert_eq!(second.body, b"ok");
        // Both on one connection: the server's loop read both heads.
        assert!(seen.recv().await.unwrap().starts_with("GET /a "));
        assert!(seen.recv().await.unwrap().starts_with("GET /b "));
        assert_eq!(
            wire.idle
                .lock()
                .unwrap()
                .values()
                .map(Vec::len)
                .sum::<usize>(),
            1
        );
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced_and_the_request_sent_again() {
        // Each connection answers once and closes, without saying so.
        let (port, _seen) = server(
            vec![
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n1",
                b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n2",
            ],
            true,
        )
        .await;
        let wire = Wire::default();
        assert_eq!(
            wire.exchange("GET", &url(port, "/"), &[], None)
                .await
                .unwrap()
                .body,
            b"1"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            wire.exchange("GET", &url(port, "/"), &[], None)
                .await
                .unwrap()
                .body,
            b"2"
        );
    }

    #[tokio::test]
    async fn a_body_until_close_and_head_without_body() {
        let (port, _) = server(vec![b"HTTP/1.0 200 OK\r\n\r\nuntil the end"], true).await;
        let r = once(port, "GET").await.unwrap();
        assert_eq!(r.body, b"until the end");
        let (port, _) = server(
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n"],
            false,
        )
        .await;
        let r = once(port, "HEAD").await.unwrap();
        assert_eq!((r.status, r.body.len()), (200, 0));
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused_before_it_is_read() {
        let (port, _) = server(
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 999999999999\r\n\r\n"],
            false,
        )
        .await;
        let e = once(port, "GET").await.unwrap_err();
        let WireError::Message(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.starts_with("a body of 999999999999 bytes, over the limit of"),
            "{m}"
        );
    }

    #[tokio::test]
    async fn a_truncated_body_and_a_reply_that_is_not_http() {
        let (port, _) = server(
            vec![b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"],
            true,
        )
        .await;
        let e = once(port, "GET").await.unwrap_err();
        assert!(matches!(e, WireError::Closed { body: true }), "{e:?}");
        let (port, _) = server(vec![b"SSH-2.0-OpenSSH_9.2\r\n"], true).await;
        let e = once(port, "GET").await.unwrap_err();
        assert!(matches!(e, WireError::NotHttp(_)), "{e:?}");
    }

    #[test]
    fn what_goes_to_reqwest_instead() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(eligible(&u("http://h:1/x"), "GET", &[("x-a", "1")]));
        assert!(!eligible(&u("https://h/x"), "GET", &[]));
        assert!(!eligible(&u("http://user:pw@h/x"), "GET", &[]));
        assert!(!eligible(
            &u("http://h/x"),
            "GET",
            &[("Content-Length", "3")]
        ));
        assert!(!eligible(&u("http://h/x"), "GET", &[("Host", "other")]));
        assert!(!eligible(
            &u("http://h/x"),
            "GET",
            &[("x-a", "1\r\nx-b: 2")]
        ));
        assert!(!eligible(&u("http://h/x"), "GET", &[("bad name", "1")]));
        assert!(!eligible(&u("http://h/x"), "CONNECT", &[]));
    }

    #[tokio::test]
    async fn poll_reads_what_has_arrived_and_gives_up_after_its_budget() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let conn = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut peer, _) = l.accept().unwrap();
        let mut buf = b"HT".to_vec();
        let started = Instant::now();
        assert_eq!(poll(&conn, &mut buf).unwrap(), None);
        assert!(started.elapsed() >= SPIN);
        assert_eq!(buf, b"HT", "nothing read, nothing added");
        std::io::Write::write_all(&mut peer, b"TP/1.1").unwrap();
        assert_eq!(poll(&conn, &mut buf).unwrap(), Some(6));
        assert_eq!(buf, b"HTTP/1.1");
        drop(peer);
        assert_eq!(
            poll(&conn, &mut buf).unwrap(),
            Some(0),
            "closed by the peer"
        );
        assert_eq!(buf, b"HTTP/1.1");
    }

    #[test]
    fn slow_replies_in_a_row_stop_the_polling_for_a_while() {
        let mut spin = Spin::default();
        for _ in 0..MISSES - 1 {
            assert!(spin.wanted());
            spin.missed();
        }
        // A fast reply between slow ones: the count starts again.
        spin.misses = 0;
        for _ in 0..MISSES - 1 {
            assert!(spin.wanted());
            spin.missed();
        }
        assert!(spin.wanted());
        spin.missed();
        for _ in 0..REST {
            assert!(!spin.wanted());
        }
        assert!(spin.wanted(), "tried again after the rest");
    }

    #[test]
    fn only_a_lone_exchange_polls() {
        let count = AtomicUsize::new(0);
        let (first, alone) = Busy::enter(&count);
        assert!(alone);
        let (second, alone) = Busy::enter(&count);
        assert!(!alone, "another exchange is under way");
        drop(first);
        drop(second);
        assert!(Busy::enter(&count).1);
    }

    #[tokio::test]
    async fn a_server_that_cannot_answer_while_polled_is_learnt() {
        // The server runs on this test's one thread: it cannot answer while the exchange
        // polls, so every poll misses and the kept connection then rests.
        let reply: &'static [u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
        let (port, _seen) = server(vec![reply; 4], false).await;
        let wire = Wire::default();
        for _ in 0..MISSES {
            let got = wire.exchange("GET", &url(port, "/"), &[], None).await;
            assert_eq!(got.unwrap().status, 204);
        }
        let conn = wire.take(&format!("127.0.0.1:{port}")).unwrap();
        // On one core nothing polls, so nothing is learnt.
        let rest = if spare_core() { REST } else { 0 };
        assert_eq!((conn.spin.misses, conn.spin.rest), (0, rest));
    }

    #[tokio::test]
    async fn nothing_polls_while_two_scenarios_run() {
        // As above, but with a second scenario under way: had the exchanges polled, the
        // connection would have learnt to rest.
        let reply: &'static [u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
        let (port, _seen) = server(vec![reply; 4], false).await;
        let wire = Wire::default();
        let (one, other) = (wire.scenario(), wire.scenario());
        for _ in 0..MISSES {
            let got = wire.exchange("GET", &url(port, "/"), &[], None).await;
            assert_eq!(got.unwrap().status, 204);
        }
        let conn = wire.take(&format!("127.0.0.1:{port}")).unwrap();
        assert_eq!((conn.spin.misses, conn.spin.rest), (0, 0));
        drop(other);
        assert_eq!(wire.scenarios.load(Ordering::Relaxed), 1);
        drop(one);
        assert_eq!(wire.scenarios.load(Ordering::Relaxed), 0);
    }
}
