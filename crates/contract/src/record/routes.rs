//! Routes from observed paths: which segments are ids (`{id}`), what a route does, and how
//! an observed path matches a route of an existing version (`--from`), even under a new
//! version prefix (`/v5/transfers` for `/v3/transfers`).

use crate::manifest::Operation;

/// A path segment of a recorded route.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    /// Written as is.
    Literal(String),
    /// An id, written `{id}` (or the name an existing route gave it).
    Param(String),
}

/// A route's shape: method and segments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Shape {
    pub(crate) method: String,
    pub(crate) segments: Vec<Seg>,
}

impl Shape {
    /// The shape of a manifest path, `/v3/transfers/{id}`.
    pub(crate) fn of_template(method: &str, path: &str) -> Self {
        let segments = split(path)
            .map(
                |s| match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                    Some(name) => Seg::Param(name.to_owned()),
                    None => Seg::Literal(s.to_owned()),
                },
            )
            .collect();
        Self {
            method: method.to_ascii_uppercase(),
            segments,
        }
    }

    /// The shape of an observed path: segments shaped like ids are `{id}`.
    pub(crate) fn of_path(method: &str, path: &str) -> Self {
        let segments = split(path)
            .map(|s| {
                if is_id_like(s) {
                    Seg::Param("id".to_owned())
                } else {
                    Seg::Literal(s.to_owned())
                }
            })
            .collect();
        Self {
            method: method.to_ascii_uppercase(),
            segments,
        }
    }

    /// `/v3/transfers/{id}`.
    pub(crate) fn path(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            out.push('/');
            match s {
                Seg::Literal(l) => out.push_str(l),
                Seg::Param(p) => {
                    out.push('{');
                    out.push_str(p);
                    out.push('}');
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// A file-name stem: `get-v3-transfers-id`.
    pub(crate) fn slug(&self) -> String {
        let mut out = self.method.to_ascii_lowercase();
        for s in &self.segments {
            out.push('-');
            let text = match s {
                Seg::Literal(l) => l.as_str(),
                Seg::Param(p) => p.as_str(),
            };
            out.extend(text.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            }));
        }
        out.chars().take(80).collect()
    }

    /// Whether `path` (observed, raw) has this shape: same literals, anything non-empty at
    /// a parameter. A literal `vN` of `from_version` also matches any other `vM`.
    pub(crate) fn matches(&self, method: &str, path: &str, from_version: Option<&str>) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let parts: Vec<&str> = split(path).collect();
        parts.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Seg::Param(_) => !part.is_empty(),
                    Seg::Literal(l) => {
                        l == part || (Some(l.as_str()) == from_version && is_version_like(part))
                    }
                })
    }

    /// The operation a route of this shape most likely has in the mock's engine: `POST
    /// …/token` issues tokens, `POST` on a collection creates, `GET` on `{id}` reads one,
    /// `GET` on a collection lists. Anything else is not an operation the engine has.
    pub(crate) fn operation(&self) -> Option<Operation> {
        let last = self.segments.last()?;
        match (self.method.as_str(), last) {
            ("POST", Seg::Literal(l)) if l == "token" => Some(Operation::IssueToken),
            ("POST", Seg::Literal(_)) => Some(Operation::CreatePayment),
            ("GET", Seg::Param(_)) => Some(Operation::GetPayment),
            ("GET", Seg::Literal(_)) => Some(Operation::ListPayments),
            _ => None,
        }
    }

    /// Whether two shapes of one method and length differ in exactly one segment, where
    /// that segment can be an id (a parameter in one, or two literals of which one has a
    /// digit; never a version segment such as `v2`). Returns the merged shape.
    pub(crate) fn merged_with(&self, other: &Self) -> Option<Self> {
        if self.method != other.method || self.segments.len() != other.segments.len() {
            return None;
        }
        let diffs: Vec<usize> = (0..self.segments.len())
            .filter(|&i| self.segments[i] != other.segments[i])
            .collect();
        let [i] = diffs.as_slice() else { return None };
        let mergeable = match (&self.segments[*i], &other.segments[*i]) {
            (Seg::Param(_), Seg::Literal(l)) | (Seg::Literal(l), Seg::Param(_)) => {
                !is_version_like(l)
            }
            (Seg::Literal(a), Seg::Literal(b)) => {
                !is_version_like(a)
                    && !is_version_like(b)
                    && (a.bytes().any(|c| c.is_ascii_digit())
                        || b.bytes().any(|c| c.is_ascii_digit()))
            }
            (Seg::Param(_), Seg::Param(_)) => false,
        };
        if !mergeable {
            return None;
        }
        let mut merged = self.clone();
        merged.segments[*i] = match (&self.segments[*i], &other.segments[*i]) {
            (Seg::Param(p), _) | (_, Seg::Param(p)) => Seg::Param(p.clone()),
            _ => Seg::Param("id".to_owned()),
        };
        Some(merged)
    }

    /// The shape with every literal `from` segment (`v3`) replaced by `to` (`v5`).
    pub(crate) fn reprefixed(&self, from: &str, to: &str) -> Self {
        let mut out = self.clone();
        for s in &mut out.segments {
            if matches!(s, Seg::Literal(l) if l == from) {
                *s = Seg::Literal(to.to_owned());
            }
        }
        out
    }

    /// The version segment (`v5`) of an observed path where this shape (of a `--from`
    /// route) has `from_version`.
    pub(crate) fn version_in<'p>(&self, path: &'p str, from_version: &str) -> Option<&'p str> {
        self.segments
            .iter()
            .zip(split(path))
            .find(|(seg, _)| matches!(seg, Seg::Literal(l) if l == from_version))
            .map(|(_, part)| part)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_matches('/').split('/').filter(|s| !s.is_empty())
}

/// `v2`, `V10`.
pub(crate) fn is_version_like(s: &str) -> bool {
    s.strip_prefix(['v', 'V'])
        .is_some_and(|d| !d.is_empty() && d.len() <= 4 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A segment shaped like an id: digits, a UUID, `prefix_` and an opaque tail with a digit
/// (`trf_0a1b2c3d`), or a long opaque token of letters and digits.
pub(crate) fn is_id_like(s: &str) -> bool {
    if s.is_empty() || is_version_like(s) {
        return false;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let b = s.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid {
        return true;
    }
    let has_digit = s.bytes().any(|c| c.is_ascii_digit());
    if let Some((prefix, tail)) = s.split_once('_')
        && (1..=10).contains(&prefix.len())
        && prefix.bytes().all(|c| c.is_ascii_alphabetic())
        && tail.len() >= 6
        && tail.bytes().all(|c| c.is_ascii_alphanumeric())
        && has_digit
    {
        return true;
    }
    s.len() >= 16
        && has_digit
        && s.bytes().any(|c| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recognised_by_shape_and_versions_never_are() {
        for id in [
            "trf_0123456789abcdef",
            "pay_9f8e7d6c",
            "12345",
            "3f2b8c1e-9d4a-4e1b-8c7d-2a1b3c4d5e6f",
            "AbC123dEf456GhI789",
        ] {
            assert!(is_id_like(id), "{id}");
        }
        for word in [
            "v3",
            "transfers",
            "oauth",
            "token",
            "__readyz",
            "payments_v2",
        ] {
            assert!(!is_id_like(word), "{word}");
        }
    }

    #[test]
    fn shapes_template_ids_and_infer_operations() {
        let get = Shape::of_path("get", "/v3/transfers/trf_0123456789abcdef");
        assert_eq!(get.path(), "/v3/transfers/{id}");
        assert_eq!(get.slug(), "get-v3-transfers-id");
        assert_eq!(get.operation(), Some(Operation::GetPayment));
        assert_eq!(
            Shape::of_path("POST", "/oauth/token").operation(),
            Some(Operation::IssueToken)
        );
        assert_eq!(
            Shape::of_path("POST", "/v3/transfers").operation(),
            Some(Operation::CreatePayment)
        );
        assert_eq!(
            Shape::of_path("GET", "/v3/transfers").operation(),
            Some(Operation::ListPayments)
        );
        assert_eq!(
            Shape::of_path("DELETE", "/v3/transfers/1").operation(),
            None
        );
    }

    #[test]
    fn a_literal_beside_an_id_route_merges_into_it_but_versions_do_not() {
        let id = Shape::of_path("GET", "/v3/transfers/trf_0123456789abcdef");
        let probe = Shape::of_path("GET", "/v3/transfers/__readyz");
        assert_eq!(probe.merged_with(&id), Some(id.clone()));
        let v2 = Shape::of_path("GET", "/v2/payments");
        let v1 = Shape::of_path("GET", "/v1/payments");
        assert_eq!(v1.merged_with(&v2), None);
        let token = Shape::of_path("POST", "/oauth/token");
        let revoke = Shape::of_path("POST", "/oauth/revoke");
        assert_eq!(token.merged_with(&revoke), None);
        let a = Shape::of_path("GET", "/accounts/acc1");
        let b = Shape::of_path("GET", "/accounts/acc2");
        assert_eq!(
            a.merged_with(&b).map(|s| s.path()),
            Some("/accounts/{id}".into())
        );
    }

    #[test]
    fn routes_of_an_existing_version_match_under_a_new_prefix() {
        // (see also recording.rs: a literal under an observed collection is an item)
        let from = Shape::of_template("GET", "/v3/transfers/{id}");
        assert!(from.matches("GET", "/v3/transfers/x", Some("v3")));
        assert!(from.matches("get", "/v5/transfers/x", Some("v3")));
        assert!(!from.matches("GET", "/v5/transfers/x", None));
        assert!(!from.matches("POST", "/v3/transfers/x", Some("v3")));
        assert!(!from.matches("GET", "/v3/transfers", Some("v3")));
        assert_eq!(from.version_in("/v5/transfers/x", "v3"), Some("v5"));
        assert_eq!(from.reprefixed("v3", "v5").path(), "/v5/transfers/{id}");
    }
}
