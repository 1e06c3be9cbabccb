//! `ApiVersion`: a version's name, `v1`, `v2`…

use std::fmt;
use std::str::FromStr;

/// A version of the bank API, such as `v2`: a folder `vN/` of a [`Catalog`](crate::Catalog).
/// `V1`, `V2` and `V3` are built in; a team adds its own with `--versions DIR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiVersion(u16);

impl ApiVersion {
    /// Payments in cents, UPPERCASE statuses, API key.
    pub const V1: Self = Self(1);
    /// Decimal amounts, lowercase statuses, review object, `Idempotency-Key` required.
    pub const V2: Self = Self(2);
    /// Transfers, OAuth client-credentials tokens, renamed statuses, cursor pagination.
    pub const V3: Self = Self(3);
    /// ISO 20022 status codes, `instructed_amount`, webhooks (made from an OpenAPI document).
    pub const V4: Self = Self(4);

    /// The version numbered `n` (`None` for 0).
    pub fn new(n: u16) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    /// The number, e.g. 2.
    pub fn number(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// `v2`, `V2` or `2`. Whether a catalog has that version is the catalog's question.
impl FromStr for ApiVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches(['v', 'V']);
        digits
            .parse::<u16>()
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| format!("`{s}` is not an API version such as v2"))
    }
}

impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_refuses_zero() {
        assert_eq!("V2".parse(), Ok(ApiVersion::V2));
        assert_eq!("3".parse(), Ok(ApiVersion::V3));
        assert_eq!(
            "v0".parse::<ApiVersion>(),
            Err("`v0` is not an API version such as v2".to_owned())
        );
        assert!("two".parse::<ApiVersion>().is_err());
        assert_eq!(
            ApiVersion::new(12).map(|v| v.to_string()),
            Some("v12".into())
        );
    }
}
