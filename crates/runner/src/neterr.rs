//! Network errors in plain words: what went wrong, with which host, and what to check.
//!
//! reqwest reports a failure as a chain ("error sending request for url (…): client error
//! (Connect): tcp connect error: Connection refused (os error 111)"). A person wants the
//! last link and the host: "connection refused by 127.0.0.1:2 (is the service running?)".
//! The whole chain is logged at debug level (`-vvv`) for when the short form is not enough.

use std::error::Error as _;
use std::io;
use std::time::Duration;

/// What a failed exchange came to, in the order it is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// The request or the body did not complete in time.
    Timeout { connecting: bool },
    /// The host name has no address.
    Dns,
    /// Nothing listens on the port.
    Refused,
    /// The peer sent a TCP reset.
    Reset,
    /// The peer closed the connection before a whole response.
    Closed,
    /// Bytes came back, but not an HTTP response.
    NotHttp(String),
    /// An `https://` URL on a port that speaks plain HTTP.
    TlsToPlain,
    /// The server's certificate is not trusted (or not for this name).
    Certificate(String),
    /// Some other TLS failure.
    Tls(String),
    /// Anything else: the most specific message of the chain.
    Other(String),
}

/// One failure of `send`, in plain words. `timeout` is the request's, for "no response
/// within 2s".
pub(crate) fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    let chain = chain(e);
    tracing::debug!(error = %chain.join(": "), "request failed");
    let host = e.url().map_or_else(|| "the server".to_owned(), host_port);
    let name = e
        .url()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| host.clone());
    let reading = e.is_body() || e.is_decode();
    render(classify(e, &chain), &host, &name, timeout, reading)
}

/// One failure of the lean HTTP/1.1 path (`wire.rs`), in the same words as reqwest's.
pub(crate) fn describe_wire(
    e: &crate::wire::WireError,
    url: &reqwest::Url,
    timeout: Duration,
) -> String {
    use crate::wire::WireError as W;
    tracing::debug!(error = ?e, "request failed");
    let host = host_port(url);
    let name = url.host_str().unwrap_or_default().to_owned();
    let (kind, reading) = match e {
        W::Message(m) => return m.clone(),
        W::Dns => (Kind::Dns, false),
        W::Connect(io)
        | W::Io {
            error: io,
            body: false,
        } => (io_error(io), false),
        W::Io { error, body: true } => (io_error(error), true),
        W::Closed { body } => (Kind::Closed, *body),
        W::NotHttp(detail) => (Kind::NotHttp(detail.clone()), false),
    };
    render(kind, &host, &name, timeout, reading)
}

fn io_error(e: &io::Error) -> Kind {
    match e.kind() {
        io::ErrorKind::TimedOut => Kind::Timeout { connecting: false },
        io::ErrorKind::ConnectionRefused => Kind::Refused,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Kind::Reset,
        io::ErrorKind::UnexpectedEof => Kind::Closed,
        _ => Kind::Other(e.to_string()),
    }
}

fn render(kind: Kind, host: &str, name: &str, timeout: Duration, reading: bool) -> String {
    let within = humantime::format_duration(timeout);
    let reading = if reading {
        "while reading the response body, "
    } else {
        ""
    };
    match kind {
        Kind::Timeout { connecting: true } => {
            format!("could not connect to {host} within {within} (is it reachable from here?)")
        }
        Kind::Timeout { connecting: false } => format!("no response within {within}"),
        Kind::Dns => format!("could not resolve host `{name}` (check the host name in the URL)"),
        Kind::Refused => format!("connection refused by {host} (is the service running?)"),
        Kind::Reset => {
            format!("{reading}connection reset by {host} (the server or a proxy dropped it)")
        }
        Kind::Closed => {
            format!("{reading}connection closed by {host} before a complete response")
        }
        Kind::NotHttp(detail) => {
            format!("{host} did not answer in HTTP ({detail}); is this the right port?")
        }
        Kind::TlsToPlain => format!(
            "TLS handshake with {host} failed: the server answered in plain HTTP (use http://, or the port that serves HTTPS)"
        ),
        Kind::Certificate(detail) => format!(
            "TLS handshake with {host} failed: its certificate is not trusted ({detail}); give the CA under `tls` in the environment"
        ),
        Kind::Tls(detail) => format!("TLS handshake with {host} failed: {detail}"),
        Kind::Other(detail) => format!("{reading}request to {host} failed: {detail}"),
    }
}

/// Each message of the chain, outermost first, repeats left out.
fn chain(e: &reqwest::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push(text);
        }
        cause = c.source();
    }
    out
}

fn classify(e: &reqwest::Error, chain: &[String]) -> Kind {
    let io_kind = io_kind(e);
    let any = |needle: &str| {
        chain
            .iter()
            .any(|m| m.to_ascii_lowercase().contains(needle))
    };
    let last = chain.last().cloned().unwrap_or_default();
    if e.is_timeout() || io_kind == Some(io::ErrorKind::TimedOut) {
        return Kind::Timeout {
            connecting: e.is_connect(),
        };
    }
    if any("dns error") || any("failed to lookup address") {
        return Kind::Dns;
    }
    match io_kind {
        Some(io::ErrorKind::ConnectionRefused) => return Kind::Refused,
        Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
            return Kind::Reset;
        }
        _ => {}
    }
    // rustls, reading an HTTP reply where a TLS record should be.
    if any("invalidcontenttype") || any("corrupt message") || any("wrong version number") {
        return Kind::TlsToPlain;
    }
    if any("invalid peer certificate") || any("certificate verify failed") {
        return Kind::Certificate(last);
    }
    if any("tls") || any("handshake") || any("alert") {
        return Kind::Tls(last);
    }
    if any("connection closed before message completed")
        || any("unexpected eof")
        || any("incomplete")
    {
        return Kind::Closed;
    }
    // hyper's parse errors: "invalid HTTP version parsed", "received unexpected message
    // from connection", "message head is too large".
    if any("parsed") || any("unexpected message") || any("message head") {
        return Kind::NotHttp(last);
    }
    Kind::Other(last)
}

/// The kind of the first `io::Error` in the chain.
fn io_kind(e: &reqwest::Error) -> Option<io::ErrorKind> {
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cause = c.source();
    }
    None
}

/// `127.0.0.1:8080`, `[::1]:443`, `api.example.com:443`.
fn host_port(url: &reqwest::Url) -> String {
    // `host_str` brackets an IPv6 address already.
    let Some(host) = url.host_str() else {
        return url.as_str().to_owned();
    };
    match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    //! Each wording against a real socket on loopback.

    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    async fn fail(url: &str, timeout: Duration) -> String {
        let client = reqwest::Client::builder().build().unwrap();
        let e = client
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .expect_err("the request should fail");
        describe(&e, timeout)
    }

    /// A port nothing listens on: 9 (discard), as the other tests use. A port bound and
    /// closed again could be given to another test's server running alongside.
    const CLOSED_PORT: u16 = 9;

    #[tokio::test]
    async fn refused_on_a_closed_port_names_the_host_and_asks_if_it_runs() {
        let port = CLOSED_PORT;
        let msg = fail(
            &format!("http://127.0.0.1:{port}/x"),
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(
            msg,
            format!("connection refused by 127.0.0.1:{port} (is the service running?)")
        );
    }

    #[tokio::test]
    async fn unknown_host_says_it_could_not_be_resolved() {
        let msg = fail("http://x.invalid/ping", Duration::from_secs(5)).await;
        assert_eq!(
            msg,
            "could not resolve host `x.invalid` (check the host name in the URL)"
        );
    }

    #[tokio::test]
    async fn https_to_a_plain_http_port_says_so() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let msg = fail(
            &format!("https://127.0.0.1:{port}/"),
            Duration::from_secs(2),
        )
        .await;
        assert_eq!(
            msg,
            format!(
                "TLS handshake with 127.0.0.1:{port} failed: the server answered in plain HTTP (use http://, or the port that serves HTTPS)"
            )
        );
    }

    #[tokio::test]
    async fn a_listener_that_never_answers_is_no_response_within_the_timeout() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                open.push(s);
            }
        });
        let msg = fail(
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_millis(300),
        )
        .await;
        hold.abort();
        assert_eq!(msg, "no response within 300ms");
    }

    #[tokio::test]
    async fn a_reset_connection_names_the_host() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                // Read the request, then close with a reset (linger 0) and no reply.
                let mut buf = [0_u8; 1024];
                let _ = s.readable().await;
                let _ = s.try_read(&mut buf);
                s.set_zero_linger().unwrap();
                drop(s);
            }
        });
        let msg = fail(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2)).await;
        assert!(
            msg == format!(
                "connection reset by 127.0.0.1:{port} (the server or a proxy dropped it)"
            ) || msg == format!("connection closed by 127.0.0.1:{port} before a complete response"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_connection_closed_without_a_reply_says_so() {
        let port = replying(b"").await;
        let msg = fail(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2)).await;
        assert_eq!(
            msg,
            format!("connection closed by 127.0.0.1:{port} before a complete response")
        );
    }

    #[tokio::test]
    async fn a_reply_that_is_not_http_says_so() {
        let port = replying(b"SSH-2.0-OpenSSH_9.2\r\n").await;
        let msg = fail(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2)).await;
        assert!(
            msg.starts_with(&format!("127.0.0.1:{port} did not answer in HTTP (")),
            "{msg}"
        );
        assert!(msg.ends_with("); is this the right port?"), "{msg}");
    }

    /// A listener that reads the request, writes `reply`, and closes.
    async fn replying(reply: &'static [u8]) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0_u8; 1024];
                let _ = s.readable().await;
                let _ = s.try_read(&mut buf);
                let _ = s.write_all(reply).await;
                let _ = s.shutdown().await;
            }
        });
        port
    }

    #[test]
    fn host_and_port_of_urls() {
        let hp = |u: &str| host_port(&reqwest::Url::parse(u).unwrap());
        assert_eq!(hp("http://127.0.0.1:2/x"), "127.0.0.1:2");
        assert_eq!(hp("https://api.example.com/x"), "api.example.com:443");
        assert_eq!(hp("http://[::1]:8080/"), "[::1]:8080");
    }
}
