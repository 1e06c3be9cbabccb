//! Masks secret values in everything the runner emits.

/// Replaces every known secret value with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

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
    /// secret, say).
    pub fn add(&mut self, value: String) {
        if value.is_empty() || self.values.contains(&value) {
            return;
        }
        self.values.push(value);
        // Longest first, so that a secret containing another is masked whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_first_and_ignores_empty() {
        let r = Redactor::new(["abc".to_owned(), "abcdef".to_owned(), String::new()]);
        assert_eq!(r.mask("x abcdef y abc"), "x *** y ***");
        assert!(r.contains_secret("..abc.."));
        assert!(!r.contains_secret("ab"));
    }
}
