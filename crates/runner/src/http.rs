//! The HTTP client of an environment: one pooled client per redirect policy.

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
    #[error("failed to load {what}: {source}")]
    Tls {
        /// What was being loaded.
        what: String,
        /// Why.
        source: reqwest::Error,
    },
}

/// Two pooled clients: one that follows redirects and one that does not.
#[derive(Debug, Clone)]
pub struct Clients {
    pub(crate) plain: reqwest::Client,
    pub(crate) follow: reqwest::Client,
}

impl Clients {
    /// Clients for an environment (TLS CA and mTLS identity applied).
    pub fn for_environment(env: &Environment) -> Result<Self, ClientError> {
        let build = |follow: bool| -> Result<reqwest::Client, ClientError> {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("rehearse/", env!("CARGO_PKG_VERSION")))
                .pool_idle_timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .redirect(if follow {
                    reqwest::redirect::Policy::limited(10)
                } else {
                    reqwest::redirect::Policy::none()
                });
            if let Some(ca) = &env.tls.ca_file {
                let pem = read(ca)?;
                let cert =
                    reqwest::Certificate::from_pem(&pem).map_err(|source| ClientError::Tls {
                        what: format!("CA file {}", ca.display()),
                        source,
                    })?;
                b = b.add_root_certificate(cert);
            }
            if let (Some(cert), Some(key)) = (&env.tls.client_cert, &env.tls.client_key) {
                let mut pem = read(cert)?;
                pem.push(b'\n');
                pem.extend(read(key)?);
                let id = reqwest::Identity::from_pem(&pem).map_err(|source| ClientError::Tls {
                    what: format!("client certificate {}", cert.display()),
                    source,
                })?;
                b = b.identity(id);
            }
            b.build().map_err(|source| ClientError::Tls {
                what: "the HTTP client".to_owned(),
                source,
            })
        };
        Ok(Self {
            plain: build(false)?,
            follow: build(true)?,
        })
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::Read {
        path: path.display().to_string(),
        source,
    })
}
