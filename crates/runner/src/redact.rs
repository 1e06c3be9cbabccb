//! Masks secret values in everything the runner emits.

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

#[cfg(test)]
mod tests {
    use super::*;

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
