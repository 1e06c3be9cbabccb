//! The HTTP client of an environment: one pooled client that follows no redirect (rehearse
//! follows them itself, hop by hop, to keep cookies; see `send.rs`) and decodes no body
//! (`decode.rs` does, so `Content-Encoding` stays visible). Its TLS setup is `tls.rs`: the
//! platform's root certificates are loaded on the first https handshake.

use std::time::Duration;

use rehearse_scenario::Environment;

/// Failed to set up the HTTP client (bad TLS files).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A TLS file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS file is not valid PEM, or the client could not be built.
    #[error("failed to load {what}: {message}")]
    Tls {
        /// What was being loaded.
        what: String,
        /// Why, with its causes.
        message: String,
    },
}

/// The pooled client of an environment (cheap to clone: the pool is shared).
#[derive(Debug, Clone)]
pub struct Clients {
    pub(crate) plain: reqwest::Client,
    /// The lean HTTP/1.1 path for plain `http://` requests (`wire.rs`); none when a proxy
    /// variable is set, so that reqwest sends through the proxy.
    pub(crate) wire: Option<std::sync::Arc<crate::wire::Wire>>,
}

impl Clients {
    /// Clients for an environment (TLS CA and mTLS identity applied). The platform's root
    /// certificates are loaded on the first https handshake, not here (`tls.rs`).
    pub fn for_environment(env: &Environment) -> Result<Self, ClientError> {
        let tls_error = |what: String| {
            move |e: crate::tls::TlsSetupError| ClientError::Tls {
                what,
                message: e.to_string(),
            }
        };
        let mut extra_roots = Vec::new();
        if let Some(ca) = &env.tls.ca_file {
            extra_roots = crate::tls::certificates(&read(ca)?)
                .map_err(tls_error(format!("CA file {}", ca.display())))?;
        }
        let mut identity = None;
        if let (Some(cert), Some(key)) = (&env.tls.client_cert, &env.tls.client_key) {
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            identity = Some(
                crate::tls::identity(&pem)
                    .map_err(tls_error(format!("client certificate {}", cert.display())))?,
            );
        }
        let tls = crate::tls::client_config(extra_roots, identity)
            .map_err(tls_error("the TLS settings".to_owned()))?;
        let plain = build(tls).map_err(|source| ClientError::Tls {
            what: "the HTTP client".to_owned(),
            message: chain(&source),
        })?;
        Ok(Self {
            plain,
            wire: crate::wire::Wire::for_this_process().map(std::sync::Arc::new),
        })
    }

    /// The pooled client itself, for a command that sends its own requests with the
    /// environment's TLS settings (`rehearse contract check`). It follows no redirect and
    /// decodes no body.
    pub fn client(&self) -> &reqwest::Client {
        &self.plain
    }
}

fn build(tls: rustls::ClientConfig) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(crate::wire::USER_AGENT)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .build()
}

/// An error with its causes: reqwest's own message ("builder error") says little.
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    // A regular file within the cap: a CA path of /dev/zero is refused, not read forever.
    rehearse_scenario::read_capped(path, rehearse_scenario::MAX_FILE_BYTES).map_err(|e| {
        ClientError::Read {
            path: path.display().to_string(),
            source: match e {
                rehearse_scenario::FileError::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            },
        }
    })
}
