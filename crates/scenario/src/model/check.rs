//! Pre-flight checks as written (`requires:` and `checks:`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::duration::Dur;
use crate::span::Spanned;

/// A pre-flight check: is this part of the environment ready, and if not, who fixes what.
/// Exactly one of `request`, `job_heartbeat`, `version`, `secret_present`, `reachable`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// What is checked, as a sentence: "platform has bank credentials".
    pub name: Spanned<String>,
    /// Who fixes it when it fails (a team or a person).
    #[serde(default)]
    pub owner: Option<String>,
    /// What to do when it fails.
    #[serde(default)]
    pub hint: Option<String>,
    /// The ticket raised for it (an http or https URL): reports link it.
    #[serde(default)]
    pub ticket: Option<Spanned<String>>,
    /// Any HTTP check: a request and what its response must look like.
    #[serde(default)]
    pub request: Option<Spanned<RequestDef>>,
    /// With `request`: what the response must look like (default: nothing is checked but
    /// that a response came; a pre-flight check tests only what it says).
    #[serde(default)]
    pub expect: Option<Spanned<ExpectDef>>,
    /// A job's last successful run is recent enough.
    #[serde(default)]
    pub job_heartbeat: Option<Spanned<HeartbeatDef>>,
    /// The deployed version is the expected one.
    #[serde(default)]
    pub version: Option<Spanned<VersionDef>>,
    /// A secret the environment needs is set for the harness.
    #[serde(default)]
    pub secret_present: Option<Spanned<String>>,
    /// DNS resolves and a TCP connection opens (a URL or host:port).
    #[serde(default)]
    pub reachable: Option<Spanned<ReachableDef>>,
}

/// `job_heartbeat:` — the sample platform's `/internal/jobs/{name}` works out of the box.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatDef {
    /// URL of the job's status (templates allowed).
    pub url: Spanned<String>,
    /// JSONPath to the time of the last successful run (default `$.last_success`).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The last success must be younger than this.
    pub max_age: Spanned<Dur>,
}

/// `version:` — the deployed version.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDef {
    /// URL that reports the version (templates allowed).
    pub url: Spanned<String>,
    /// JSONPath to the version (default `$.version`).
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// The expected version (templates allowed); `--expect-version` when left out.
    #[serde(default)]
    pub equals: Option<Spanned<String>>,
}

/// `reachable:` — a URL or `host:port`, or the mapping form with a timeout.
#[derive(Debug, JsonSchema)]
pub struct ReachableDef {
    /// `https://host[:port]/…` or `host:port` (templates allowed).
    pub target: Spanned<String>,
    /// Time allowed for DNS and the TCP connection (default 5s).
    pub timeout: Option<Spanned<Dur>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReachableFull {
    target: Spanned<String>,
    #[serde(default)]
    timeout: Option<Spanned<Dur>>,
}

impl<'de> Deserialize<'de> for ReachableDef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ReachableDef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a URL, host:port, or `{target, timeout}`")
            }
            fn visit_str<E>(self, v: &str) -> Result<ReachableDef, E> {
                Ok(ReachableDef {
                    target: Spanned::new(v.to_owned()),
                    timeout: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<ReachableDef, A::Error> {
                let full =
                    ReachableFull::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ReachableDef {
                    target: full.target,
                    timeout: full.timeout,
                })
            }
        }
        d.deserialize_any(V)
    }
}
