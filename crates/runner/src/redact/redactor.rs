//! The `Redactor`: every known secret value, in every form it takes on the way out
//! (`forms.rs`), found in one pass over a text and replaced by `***`.

use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::forms::forms;

/// The shortest value that is masked.
pub const MIN_SECRET_LEN: usize = 4;

/// What a secret is shown as.
pub const MASK: &str = "***";

/// What an excerpt ends with where it was cut (`rehearse_scenario::excerpt`).
const CUT: char = '…';

/// The shortest head of a secret (in any of its forms) masked right before a cut: one
/// character tells nothing, and masking it would blank the end of most excerpts.
const MIN_CUT_HEAD: usize = 2;

/// Cut marks looked at in one text, from its end (a text full of `…` costs no more).
const MAX_CUTS: usize = 16;

/// Replaces every known secret value, in every form it travels in, with `***`.
///
/// A secret is masked as written and in the forms it takes in a request, a response or a
/// report: JSON-escaped (nested, `\u` escapes), HTML-escaped, percent-encoded, base64 (also
/// inside a longer base64 text, as in Basic auth) and hex; wherever occurrences overlap,
/// all of them are masked. A head of a secret left right before a cut mark (`…`), where a
/// message was cut before it was masked, is masked too.
#[derive(Clone, Default)]
pub struct Redactor {
    /// The values added, as given.
    values: Vec<String>,
    /// Every form of every value.
    forms: Vec<String>,
    /// The text forms (not base64 or hex), whose heads are masked before a cut mark.
    heads: Vec<String>,
    /// The automaton over `forms`, built when first needed after a change.
    matcher: OnceLock<Option<AhoCorasick>>,
}

impl fmt::Debug for Redactor {
    /// Counts only: a redactor's values are the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("values", &self.values.len())
            .field("forms", &self.forms.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor that masks nothing yet.
    pub const fn empty() -> Self {
        Self {
            values: Vec::new(),
            forms: Vec::new(),
            heads: Vec::new(),
            matcher: OnceLock::new(),
        }
    }

    /// A redactor for these secret values (values shorter than [`MIN_SECRET_LEN`] are
    /// ignored).
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut r = Self::default();
        for v in values {
            r.add(v);
        }
        // Built now, so that the clones (one per scenario) share it.
        r.matcher();
        r
    }

    /// Adds a value to mask (a token captured from a response to a request that carried a
    /// secret, say). Values shorter than [`MIN_SECRET_LEN`] are not masked: replacing every
    /// `1` or `ok` would make output unreadable, and they hide nothing. The logs learn it
    /// too ([`super::mask_log`]).
    pub fn add(&mut self, value: String) {
        if self.learn(&value) {
            super::log::learn(&value);
        }
    }

    /// Adds a value; false when it was known or too short.
    pub(super) fn learn(&mut self, value: &str) -> bool {
        if value.chars().count() < MIN_SECRET_LEN || self.values.iter().any(|v| v == value) {
            return false;
        }
        // Forms two values share are kept twice: harmless, and checking for them would
        // cost a pass over every form for each new one.
        let (all, text) = forms(value, MIN_SECRET_LEN);
        self.heads.extend(all[..text].iter().cloned());
        self.forms.extend(all);
        self.values.push(value.to_owned());
        self.matcher = OnceLock::new();
        true
    }

    /// True when there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn matcher(&self) -> Option<&AhoCorasick> {
        self.matcher
            .get_or_init(|| {
                if self.forms.is_empty() {
                    return None;
                }
                // A contiguous NFA: quick to build (a scenario that learns a token builds
                // its own), and a search is one pass whatever the number of forms.
                AhoCorasickBuilder::new()
                    .kind(Some(AhoCorasickKind::ContiguousNFA))
                    .match_kind(MatchKind::Standard)
                    .build(&self.forms)
                    .ok()
            })
            .as_ref()
    }

    /// True when `text` holds a secret, in any of its forms.
    pub fn contains_secret(&self, text: &str) -> bool {
        self.matcher().is_some_and(|m| m.is_match(text))
    }

    /// `text` with every secret replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let spans = self.spans(text);
        if spans.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Like [`Redactor::mask`], for text the caller owns: returned as it is (no copy)
    /// when it holds no secret.
    pub fn mask_owned(&self, text: String) -> String {
        if self.spans(&text).is_empty() {
            text
        } else {
            self.mask(&text)
        }
    }

    /// JSON text (masked already) whose strings, once decoded, still hold a secret (an
    /// escape no form foresaw): those strings masked, and the JSON written again. A
    /// report that decodes and pretty-prints a body then shows no secret. Any other text
    /// is returned as it is.
    pub(crate) fn mask_json(&self, text: String) -> String {
        if self.is_empty() {
            return text;
        }
        super::json::mask_strings(self, text)
    }

    /// The byte ranges to mask, sorted, overlaps merged: every occurrence of every form,
    /// and heads of forms right before a cut mark.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(m) = self.matcher() else {
            return Vec::new();
        };
        let mut spans: Vec<(usize, usize)> = m
            .find_overlapping_iter(text)
            .map(|f| (f.start(), f.end()))
            .collect();
        for (cut, _) in text.rmatch_indices(CUT).take(MAX_CUTS) {
            if let Some(len) = self.head_before(&text[..cut]) {
                spans.push((cut - len, cut));
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// The length in bytes of the longest head of a text form (at least
    /// [`MIN_CUT_HEAD`] characters, not all of it) that `before` ends with.
    fn head_before(&self, before: &str) -> Option<usize> {
        let mut best = None;
        for form in &self.heads {
            let ends: Vec<usize> = form
                .char_indices()
                .map(|(i, _)| i)
                .skip(MIN_CUT_HEAD)
                .collect();
            if let Some(&len) = ends
                .iter()
                .rev()
                .find(|&&len| before.ends_with(&form[..len]))
                && best.is_none_or(|b| len > b)
            {
                best = Some(len);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

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
            "p%40ss%20w%22rd%2f%2b".to_owned(),
            r#"p@ss w\"rd/+"#.to_owned(),
            r#"p@ss w\\\"rd/+"#.to_owned(),
            r#"p@ss w\"rd\/+"#.to_owned(),
            "p@ss w&quot;rd/+".to_owned(),
            hex::encode("p@ss w\"rd/+"),
        ] {
            let out = r.mask(&format!("before {shown} after"));
            assert_eq!(out, "before *** after", "{shown}");
        }
    }

    #[test]
    fn basic_auth_of_user_and_secret_is_masked_but_for_a_few_characters() {
        let r = Redactor::new(["pa\"ss word&CANARY".to_owned()]);
        for user in ["alice", "bo", "c"] {
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:pa\"ss word&CANARY"));
            let out = r.mask(&b64);
            let left = out.replace(MASK, "");
            assert!(out.contains(MASK), "{user}: {out}");
            assert!(left.len() <= user.len() * 4 / 3 + 3 + 3, "{user}: {out}");
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

    #[test]
    fn overlapping_secrets_are_masked_together() {
        let r = Redactor::new(["abcd1".to_owned(), "cd1234".to_owned()]);
        assert_eq!(r.mask("x abcd1234 y"), "x *** y");
    }

    #[test]
    fn the_head_of_a_secret_before_a_cut_is_masked() {
        let r = Redactor::new(["pa\"ss word&CANARY".to_owned()]);
        assert_eq!(r.mask("status 500 xxx pa\"ss wo…"), "status 500 xxx ***…");
        assert_eq!(r.mask(r#"got "pa\"ss…"#), r#"got "***…"#);
        // One character, or text that is not a secret's head, stays.
        assert_eq!(r.mask("xxx p…"), "xxx p…");
        assert_eq!(r.mask("xxx word…"), "xxx word…");
    }

    #[test]
    fn debug_shows_no_value() {
        let r = Redactor::new(["hunter22".to_owned()]);
        let shown = format!("{r:?}");
        assert!(!shown.contains("hunter22"), "{shown}");
    }
}
