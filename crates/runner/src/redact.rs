//! Masks secret values in everything the runner emits.
//!
//! A secret is masked in the forms it takes on the wire and in reports: as written,
//! base64 (padded and not: Basic auth, tokens built from it), percent-encoded (in a URL or
//! a form) and JSON-escaped (in a JSON body). What `auth` makes (the base64 of
//! `user:password`, a bearer token) is added as a secret of its own.

use base64::Engine as _;

/// Replaces every known secret value with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

/// The shortest value that is masked.
pub const MIN_SECRET_LEN: usize = 4;

/// What a secret is shown as.
pub const MASK: &str = "***";

impl Redactor {
    /// A redactor for these secret values (empty values are ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut r = Self::default();
        for v in values {
            r.add(v);
        }
        r
    }

    /// Adds a value to mask (a token captured from a response to a request that carried a
    /// secret, say). Values shorter than [`MIN_SECRET_LEN`] are not masked: replacing every
    /// `1` or `ok` would make output unreadable, and they hide nothing.
    pub fn add(&mut self, value: String) {
        if value.chars().count() < MIN_SECRET_LEN || self.values.contains(&value) {
            return;
        }
        for form in encodings(&value) {
            if form != value && !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        self.values.push(value);
        // Longest first, so that a secret containing another is masked whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when `text` holds a secret.
    pub fn contains_secret(&self, text: &str) -> bool {
        self.values.iter().any(|v| text.contains(v.as_str()))
    }

    /// `text` with every secret replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }

    /// Like [`Redactor::mask`], for text the caller owns: returned as it is (no copy)
    /// when it holds no secret.
    pub fn mask_owned(&self, text: String) -> String {
        if self.contains_secret(&text) {
            self.mask(&text)
        } else {
            text
        }
    }
}

/// The encoded forms of a secret that output may hold.
fn encodings(value: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(value);
    let b64_bare = b64.trim_end_matches('=').to_owned();
    let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value);
    let form = serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default();
    let percent = form.replace('+', "%20");
    let json = serde_json::to_string(value)
        .map(|s| s[1..s.len() - 1].to_owned())
        .unwrap_or_default();
    vec![b64, b64_bare, url_b64, form, percent, json]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_masked_in_every_encoding_it_travels_in() {
        let r = Redactor::new(["p@ss w\"rd/+".to_owned()]);
        let b64 = base64::engine::general_purpose::STANDARD.encode("p@ss w\"rd/+");
        for shown in [
            "p@ss w\"rd/+".to_owned(),
            b64.clone(),
            b64.trim_end_matches('=').to_owned(),
            "p%40ss+w%22rd%2F%2B".to_owned(),
            "p%40ss%20w%22rd%2F%2B".to_owned(),
            r#"p@ss w\"rd/+"#.to_owned(),
        ] {
            let out = r.mask(&format!("before {shown} after"));
            assert_eq!(out, "before *** after", "{shown}");
        }
    }

    #[test]
    fn masks_longest_first_and_ignores_empty() {
        let r = Redactor::new([
            "abcd".to_owned(),
            "abcdefgh".to_owned(),
            String::new(),
            "ok".to_owned(),
        ]);
        assert_eq!(r.mask("x abcdefgh y abcd ok"), "x *** y *** ok");
        assert!(r.contains_secret("..abcd.."));
        assert!(!r.contains_secret("abc"));
    }
}
