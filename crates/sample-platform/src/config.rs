//! The platform's configuration, read from environment variables like a twelve-factor service.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The default poll schedule: every five minutes, on second 0.
pub const DEFAULT_POLL_SCHEDULE: &str = "0 */5 * * * *";
/// The default timeout of one call to the bank.
pub const DEFAULT_BANK_TIMEOUT: Duration = Duration::from_secs(10);

/// Which bank API the platform speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BankApiVersion {
    /// `POST /v1/payments`, amounts in cents, API key.
    V1,
    /// `POST /v2/payments`, decimal amounts, API key and `Idempotency-Key`.
    #[default]
    V2,
    /// `POST /v3/transfers`, amount objects, OAuth client-credentials tokens.
    V3,
    /// `POST /v4/payments`, ISO 20022 status codes, `instructed_amount` objects, OAuth
    /// client-credentials tokens from `/v4/oauth/token`.
    V4,
}

impl BankApiVersion {
    /// `"v1"` … `"v4"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
            Self::V3 => "v3",
            Self::V4 => "v4",
        }
    }

    /// Whether the version authenticates with OAuth client credentials (v3, v4) rather
    /// than an API key.
    pub fn uses_oauth(self) -> bool {
        matches!(self, Self::V3 | Self::V4)
    }
}

impl fmt::Display for BankApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BankApiVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" => Ok(Self::V1),
            "v2" | "2" => Ok(Self::V2),
            "v3" | "3" => Ok(Self::V3),
            "v4" | "4" => Ok(Self::V4),
            _ => Err("expected v1, v2, v3 or v4".to_owned()),
        }
    }
}

/// An environment variable with a value the platform cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("read {var}=`{value}`: {expected}")]
pub struct ConfigError {
    /// The variable (or [`Config`] field) at fault, e.g. `POLL_SCHEDULE`.
    pub var: &'static str,
    /// The value found.
    pub value: String,
    /// What was expected instead.
    pub expected: String,
}

/// Everything the platform needs to run. [`Config::default`] is a platform with no bank
/// configured (it starts, and `/readyz` says what is missing); [`Config::from_env`] reads the
/// environment.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The bank's API root, e.g. `http://127.0.0.1:8081` (`BANK_BASE_URL`).
    pub bank_base_url: Option<String>,
    /// API key for bank API v1 and v2 (`BANK_API_KEY`).
    pub bank_api_key: Option<String>,
    /// OAuth client id for bank API v3 and v4 (`BANK_CLIENT_ID`).
    pub bank_client_id: Option<String>,
    /// OAuth client secret for bank API v3 and v4 (`BANK_CLIENT_SECRET`).
    pub bank_client_secret: Option<String>,
    /// The bank API version to speak (`BANK_API_VERSION`, default v2).
    pub bank_api_version: BankApiVersion,
    /// When the status poller runs: 6-field cron, seconds first (`POLL_SCHEDULE`).
    pub poll_schedule: String,
    /// TCP port to listen on; 0 picks a free one (`PORT`).
    pub port: u16,
    /// Do not register the status poller (`DISABLE_POLLER`).
    pub disable_poller: bool,
    /// Reported by `GET /version` (`PLATFORM_VERSION`, default the crate version).
    pub platform_version: String,
    /// Reported by `GET /version` (`PLATFORM_COMMIT`, or the build's `PLATFORM_COMMIT`).
    pub commit: Option<String>,
    /// Address to bind (`BIND_ADDRESS`, default 127.0.0.1).
    pub bind_address: IpAddr,
    /// Timeout of one call to the bank (`BANK_TIMEOUT`: `10s`, `500ms` or whole seconds).
    pub bank_timeout: Duration,
    /// The secret the bank signs its webhooks with (`BANK_WEBHOOK_SECRET`); without it
    /// `POST /webhooks/bank` refuses every event (401).
    pub bank_webhook_secret: Option<String>,
    /// This platform's own public URL of `POST /webhooks/bank`
    /// (`BANK_WEBHOOK_URL`): when set with the secret, the platform registers it with the
    /// bank at start (`POST /{version}/webhooks`).
    pub bank_webhook_url: Option<String>,
    /// Where spans go: an OTLP/HTTP traces URL (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, as it
    /// is) or base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`, `/v1/traces` appended). None: no
    /// span is recorded, the trace context is still passed on to the bank.
    pub otlp_endpoint: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bank_base_url: None,
            bank_api_key: None,
            bank_client_id: None,
            bank_client_secret: None,
            bank_api_version: BankApiVersion::default(),
            poll_schedule: DEFAULT_POLL_SCHEDULE.to_owned(),
            port: 0,
            disable_poller: false,
            platform_version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: option_env!("PLATFORM_COMMIT").map(str::to_owned),
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            bank_timeout: DEFAULT_BANK_TIMEOUT,
            bank_webhook_secret: None,
            bank_webhook_url: None,
            otlp_endpoint: None,
        }
    }
}

/// Credentials never reach a log line, even through `{:?}`.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn redacted(secret: Option<&String>) -> &'static str {
            if secret.is_some() {
                "<redacted>"
            } else {
                "<unset>"
            }
        }
        f.debug_struct("Config")
            .field("bank_base_url", &self.bank_base_url)
            .field("bank_api_key", &redacted(self.bank_api_key.as_ref()))
            .field("bank_client_id", &self.bank_client_id)
            .field(
                "bank_client_secret",
                &redacted(self.bank_client_secret.as_ref()),
            )
            .field("bank_api_version", &self.bank_api_version)
            .field("poll_schedule", &self.poll_schedule)
            .field("port", &self.port)
            .field("disable_poller", &self.disable_poller)
            .field("platform_version", &self.platform_version)
            .field("commit", &self.commit)
            .field("bind_address", &self.bind_address)
            .field("bank_timeout", &self.bank_timeout)
            .field(
                "bank_webhook_secret",
                &redacted(self.bank_webhook_secret.as_ref()),
            )
            .field("bank_webhook_url", &self.bank_webhook_url)
            .field("otlp_endpoint", &self.otlp_endpoint)
            .finish()
    }
}

impl Config {
    /// Reads the process environment: `BANK_BASE_URL`, `BANK_API_KEY`, `BANK_CLIENT_ID`,
    /// `BANK_CLIENT_SECRET`, `BANK_API_VERSION` (v1|v2|v3|v4), `POLL_SCHEDULE`, `PORT`,
    /// `DISABLE_POLLER`, `PLATFORM_VERSION`, `PLATFORM_COMMIT`, `BIND_ADDRESS`, `BANK_TIMEOUT`,
    /// `BANK_WEBHOOK_SECRET`, `BANK_WEBHOOK_URL`.
    /// Empty values count as unset. A missing credential is not an error (the platform starts
    /// and `/readyz` reports it); a malformed value is.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables (tests, a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let defaults = Self::default();
        let bank_api_version = match get("BANK_API_VERSION") {
            None => defaults.bank_api_version,
            Some(v) => v.parse().map_err(|expected| ConfigError {
                var: "BANK_API_VERSION",
                value: v,
                expected,
            })?,
        };
        let poll_schedule = get("POLL_SCHEDULE").unwrap_or(defaults.poll_schedule);
        validate_schedule(&poll_schedule)?;
        let port = match get("PORT") {
            None => defaults.port,
            Some(v) => v.parse().map_err(|_| ConfigError {
                var: "PORT",
                value: v,
                expected: "expected a TCP port from 0 to 65535 (0 picks a free port)".to_owned(),
            })?,
        };
        let disable_poller = match get("DISABLE_POLLER") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| ConfigError {
                var: "DISABLE_POLLER",
                value: v,
                expected: "expected true or false (also 1/0, yes/no, on/off)".to_owned(),
            })?,
        };
        let bind_address = match get("BIND_ADDRESS") {
            None => defaults.bind_address,
            Some(v) => v.parse().map_err(|_| ConfigError {
                var: "BIND_ADDRESS",
                value: v,
                expected: "expected an IP address such as 127.0.0.1 or 0.0.0.0".to_owned(),
            })?,
        };
        let bank_timeout = match get("BANK_TIMEOUT") {
            None => defaults.bank_timeout,
            Some(v) => parse_duration(&v).ok_or_else(|| ConfigError {
                var: "BANK_TIMEOUT",
                value: v,
                expected: "expected a duration such as 10s, 500ms or 2m".to_owned(),
            })?,
        };
        let bank_base_url = match get("BANK_BASE_URL") {
            None => None,
            Some(v) => Some(validate_base_url(&v)?),
        };
        let bank_webhook_url = match get("BANK_WEBHOOK_URL") {
            None => None,
            Some(v) => Some(validate_webhook_url(&v)?),
        };
        Ok(Self {
            otlp_endpoint: get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                .or_else(|| get("OTEL_EXPORTER_OTLP_ENDPOINT")),
            bank_webhook_secret: get("BANK_WEBHOOK_SECRET"),
            bank_webhook_url,
            bank_base_url,
            bank_api_key: get("BANK_API_KEY"),
            bank_client_id: get("BANK_CLIENT_ID"),
            bank_client_secret: get("BANK_CLIENT_SECRET"),
            bank_api_version,
            poll_schedule,
            port,
            disable_poller,
            platform_version: get("PLATFORM_VERSION").unwrap_or(defaults.platform_version),
            commit: get("PLATFORM_COMMIT").or(defaults.commit),
            bind_address,
            bank_timeout,
        })
    }

    /// Checks what [`from_lookup`](Self::from_lookup) checks, for a `Config` built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_schedule(&self.poll_schedule)?;
        if let Some(url) = &self.bank_base_url {
            validate_base_url(url)?;
        }
        Ok(())
    }

    /// The environment variables naming the credentials the configured bank version needs and
    /// that are not set (empty when all are there).
    pub fn missing_credentials(&self) -> Vec<&'static str> {
        let unset = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        match self.bank_api_version {
            BankApiVersion::V1 | BankApiVersion::V2 => {
                if unset(&self.bank_api_key) {
                    vec!["BANK_API_KEY"]
                } else {
                    Vec::new()
                }
            }
            BankApiVersion::V3 | BankApiVersion::V4 => {
                let mut missing = Vec::new();
                if unset(&self.bank_client_id) {
                    missing.push("BANK_CLIENT_ID");
                }
                if unset(&self.bank_client_secret) {
                    missing.push("BANK_CLIENT_SECRET");
                }
                missing
            }
        }
    }
}

fn validate_webhook_url(url: &str) -> Result<String, ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(url.to_owned())
        }
        _ => Err(ConfigError {
            var: "BANK_WEBHOOK_URL",
            value: url.to_owned(),
            expected: "expected this platform's public URL of its receiver, e.g. https://payments.example.com/webhooks/bank".to_owned(),
        }),
    }
}

fn validate_base_url(url: &str) -> Result<String, ConfigError> {
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError {
            var: "BANK_BASE_URL",
            value: url.to_owned(),
            expected: "expected an http(s) URL such as http://127.0.0.1:8081".to_owned(),
        }),
    }
}

/// A 6-field cron expression (seconds first), as the scheduler parses it.
pub(crate) fn validate_schedule(expr: &str) -> Result<(), ConfigError> {
    let fields = expr.split_whitespace().count();
    let error = |expected: String| ConfigError {
        var: "POLL_SCHEDULE",
        value: expr.to_owned(),
        expected,
    };
    if fields != 6 {
        return Err(error(format!(
            "expected 6 cron fields (sec min hour day month weekday), found {fields}; e.g. `0 */5 * * * *` for every 5 minutes"
        )));
    }
    tokio_cron_scheduler::Job::new_async(expr, |_, _| Box::pin(async {}))
        .map(drop)
        .map_err(|_| {
            error(
                "expected a valid cron expression (sec min hour day month weekday), e.g. `0 */5 * * * *`"
                    .to_owned(),
            )
        })
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn empty_environment_gives_the_documented_defaults() {
        let config = from(&[]).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.bank_api_version, BankApiVersion::V2);
        assert_eq!(config.poll_schedule, "0 */5 * * * *");
        assert_eq!(config.platform_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(config.missing_credentials(), ["BANK_API_KEY"]);
    }

    #[test]
    fn reads_every_variable() {
        let config = from(&[
            ("BANK_BASE_URL", "http://127.0.0.1:8081/"),
            ("BANK_API_KEY", "k"),
            ("BANK_CLIENT_ID", "id"),
            ("BANK_CLIENT_SECRET", "secret"),
            ("BANK_API_VERSION", "V3"),
            ("POLL_SCHEDULE", "* * * * * *"),
            ("PORT", "8080"),
            ("DISABLE_POLLER", "yes"),
            ("PLATFORM_VERSION", "1.2.3"),
            ("PLATFORM_COMMIT", "abc123"),
            ("BANK_TIMEOUT", "500ms"),
        ])
        .unwrap();
        assert_eq!(
            config.bank_base_url.as_deref(),
            Some("http://127.0.0.1:8081")
        );
        assert_eq!(config.bank_api_version, BankApiVersion::V3);
        assert_eq!(config.port, 8080);
        assert!(config.disable_poller);
        assert_eq!(config.platform_version, "1.2.3");
        assert_eq!(config.commit.as_deref(), Some("abc123"));
        assert_eq!(config.bank_timeout, Duration::from_millis(500));
        assert!(config.missing_credentials().is_empty());
    }

    #[test]
    fn v4_is_read_and_needs_oauth_client_credentials() {
        let config = from(&[("BANK_API_VERSION", "v4"), ("BANK_API_KEY", "k")]).unwrap();
        assert_eq!(config.bank_api_version, BankApiVersion::V4);
        assert_eq!(config.bank_api_version.to_string(), "v4");
        assert!(config.bank_api_version.uses_oauth());
        assert_eq!(
            config.missing_credentials(),
            ["BANK_CLIENT_ID", "BANK_CLIENT_SECRET"]
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = from(&[("BANK_API_KEY", "  "), ("BANK_API_VERSION", "v3")]).unwrap();
        assert_eq!(config.bank_api_key, None);
        assert_eq!(
            config.missing_credentials(),
            ["BANK_CLIENT_ID", "BANK_CLIENT_SECRET"]
        );
    }

    #[test]
    fn invalid_values_are_named_with_what_was_expected() {
        let error = |vars: &[(&str, &str)]| from(vars).unwrap_err().to_string();
        assert_eq!(
            error(&[("BANK_API_VERSION", "v5")]),
            "read BANK_API_VERSION=`v5`: expected v1, v2, v3 or v4"
        );
        assert_eq!(
            error(&[("POLL_SCHEDULE", "*/5 * * * *")]),
            "read POLL_SCHEDULE=`*/5 * * * *`: expected 6 cron fields (sec min hour day month weekday), found 5; e.g. `0 */5 * * * *` for every 5 minutes"
        );
        assert_eq!(
            error(&[("POLL_SCHEDULE", "0 */5 * * * nope")]),
            "read POLL_SCHEDULE=`0 */5 * * * nope`: expected a valid cron expression (sec min hour day month weekday), e.g. `0 */5 * * * *`"
        );
        assert_eq!(
            error(&[("PORT", "http")]),
            "read PORT=`http`: expected a TCP port from 0 to 65535 (0 picks a free port)"
        );
        assert_eq!(
            error(&[("DISABLE_POLLER", "maybe")]),
            "read DISABLE_POLLER=`maybe`: expected true or false (also 1/0, yes/no, on/off)"
        );
        assert_eq!(
            error(&[("BANK_BASE_URL", "127.0.0.1:8081")]),
            "read BANK_BASE_URL=`127.0.0.1:8081`: expected an http(s) URL such as http://127.0.0.1:8081"
        );
        assert_eq!(
            error(&[("BANK_TIMEOUT", "soon")]),
            "read BANK_TIMEOUT=`soon`: expected a duration such as 10s, 500ms or 2m"
        );
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let config = Config {
            bank_api_key: Some("super-secret-key".to_owned()),
            bank_client_secret: Some("super-secret-client".to_owned()),
            ..Config::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("super-secret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }
}
