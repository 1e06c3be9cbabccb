//! Durations written as `500ms`, `30s`, `4h`, `1h 30m`.

use std::fmt;
use std::time::Duration;

/// A duration as written in YAML (`30s`, `4h`, `1h 30m`; a bare number means seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dur(pub Duration);

/// The longest duration a file may write: a year and a day. Longer is surely a typo
/// (`500000000000y`), and the bound keeps every deadline (`now + timeout`) representable.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 60 * 60);

impl Dur {
    /// Parses `500ms`, `30s`, `4h`, `1h 30m`.
    pub fn parse(text: &str) -> Result<Self, String> {
        humantime::parse_duration(text.trim())
            .map_err(|_| {
                format!(
                    "expected a duration such as `500ms`, `30s` or `1h 30m`, got `{}` (units: ms, s, m, h, d; a bare number means seconds)",
                    text.trim()
                )
            })
            .and_then(|d| Self::bounded(d, text.trim()))
    }

    /// `d`, or an error when it is longer than [`MAX_DURATION`].
    fn bounded(d: Duration, written: &str) -> Result<Self, String> {
        if d > MAX_DURATION {
            Err(format!(
                "expected a duration of at most 366 days, got `{written}`"
            ))
        } else {
            Ok(Dur(d))
        }
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl<'de> serde::Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dur, E> {
                Dur::bounded(Duration::from_secs(v), &v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                let secs = u64::try_from(v).map_err(|_| {
                    E::custom(format!(
                        "expected a duration, got `{v}`: a duration cannot be negative"
                    ))
                })?;
                self.visit_u64(secs)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Dur, E> {
                let d = Duration::try_from_secs_f64(v)
                    .map_err(|_| E::custom(format!("expected a duration, got `{v}`")))?;
                Dur::bounded(d, &v.to_string()).map_err(E::custom)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                Dur::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl serde::Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl schemars::JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "a duration: `500ms`, `30s`, `4h`, `1h 30m`, or a number of seconds",
            "type": ["string", "number"]
        })
    }
}
