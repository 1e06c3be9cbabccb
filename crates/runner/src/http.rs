//! The HTTP client of an environment: one pooled client that follows no redirect (rehearse
//! follows them itself, hop by hop, to keep cookies; see `send.rs`) and decodes no body
//! (`decode.rs` does, so `Content-Encoding` stays visible).

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
    #[error("failed to load {what}: {}", chain(source))]
    Tls {
        /// What was being loaded.
        what: String,
        /// Why.
        source: reqwest::Error,
    },
}

/// The pooled client of an environment (cheap to clone: the pool is shared).
#[derive(Debug, Clone)]
pub struct Clients {
    pub(crate) plain: reqwest::Client,
}

/// The TLS material of an environment, read and parsed once.
#[derive(Debug, Default)]
struct Tls {
    ca: Option<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
}

impl Clients {
    /// Clients for an environment (TLS CA and mTLS identity applied).
    pub fn for_environment(env: &Environment) -> Result<Self, ClientError> {
        let mut tls = Tls::default();
        if let Some(ca) = &env.tls.ca_file {
            let pem = read(ca)?;
            tls.ca =
                Some(
                    reqwest::Certificate::from_pem(&pem).map_err(|source| ClientError::Tls {
                        what: format!("CA file {}", ca.display()),
                        source,
                    })?,
                );
        }
        if let (Some(cert), Some(key)) = (&env.tls.client_cert, &env.tls.client_key) {
            let mut pem = read(cert)?;
            pem.push(b'\n');
            pem.extend(read(key)?);
            tls.identity =
                Some(
                    reqwest::Identity::from_pem(&pem).map_err(|source| ClientError::Tls {
                        what: format!("client certificate {}", cert.display()),
                        source,
                    })?,
                );
        }
        let plain = build(&tls).map_err(|source| ClientError::Tls {
            what: "the HTTP client".to_owned(),
            source,
        })?;
        Ok(Self { plain })
    }
}

fn build(tls: &Tls) -> Result<reqwest::Client, reqwest::Error> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("rehearse/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ca) = &tls.ca {
        b = b.add_root_certificate(ca.clone());
    }
    if let Some(id) = &tls.identity {
        b = b.identity(id.clone());
    }
    b.build()
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
