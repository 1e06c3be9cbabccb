//! Where the store is: `--store URL` / `REHEARSE_STORE`, a SQLite file or a PostgreSQL URL.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A store's address. Its `Display` masks a password (`postgres://ci:***@db/rehearse`):
/// print it, never the text it was read from.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// An SQLite database file (created with its folder when missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host:port/db`).
    Postgres(String),
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreUrl({self})")
    }
}

/// A `--store` value that names no store rehearse can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown store `{0}`; give a SQLite file path (e.g. .rehearse/rehearse.db) or a postgres://… URL"
)]
pub struct StoreUrlError(pub String);

impl FromStr for StoreUrl {
    type Err = StoreUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_owned()));
        }
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreUrlError(s.to_owned()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if s.is_empty() || s.contains("://") {
            return Err(StoreUrlError(mask(s)));
        }
        Ok(Self::Sqlite(PathBuf::from(s)))
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "{}", p.display()),
            Self::Postgres(u) => f.write_str(&mask(u)),
        }
    }
}

/// `scheme://user:password@host/…?password=…` with both passwords as `***`.
fn mask(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = match authority.rfind('@') {
        Some(at) => {
            let user_info = &authority[..at];
            let user = user_info.split(':').next().unwrap_or("");
            if user_info.contains(':') {
                format!("{user}:***{}", &authority[at..])
            } else {
                authority.to_owned()
            }
        }
        None => authority.to_owned(),
    };
    let tail = &rest[end..];
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let masked: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}{}", masked.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{}{authority}{tail}", &url[..start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        let u: StoreUrl = "postgres://ci:s3cr3t@127.0.0.1:5432/rehearse?password=s3cr3t&x=1"
            .parse()
            .unwrap();
        let shown = u.to_string();
        assert_eq!(
            shown,
            "postgres://ci:***@127.0.0.1:5432/rehearse?password=***&x=1"
        );
        assert!(!format!("{u:?}").contains("s3cr3t"));
    }

    #[test]
    fn paths_and_schemes() {
        assert_eq!(
            "out/r.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("out/r.db".into())
        );
        assert_eq!(
            "sqlite:///tmp/r.db".parse::<StoreUrl>().unwrap(),
            StoreUrl::Sqlite("/tmp/r.db".into())
        );
        let e = "mysql://u:pw@h/db".parse::<StoreUrl>().unwrap_err();
        assert!(!e.to_string().contains("pw@"), "{e}");
    }
}
