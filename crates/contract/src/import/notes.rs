//! What an import could not carry over, and what it worked out on its own: shown on stderr
//! and written as `IMPORT-NOTES.md`, so nothing is dropped or guessed silently.

use std::fmt::Write as _;

/// An import's notes, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notes {
    /// Parts of the document the folder does not describe (operations that are none of the
    /// four, webhooks, callbacks, responses without a JSON body…).
    pub not_mapped: Vec<String>,
    /// Optional response properties with no placeholder, left out of a template.
    pub left_out: Vec<String>,
    /// Schema keywords dropped or rewritten on the way to JSON Schema.
    pub schema: Vec<String>,
    /// What was worked out without the mapping naming it, and from what.
    pub inferred: Vec<String>,
}

impl Notes {
    /// Every note with its kind, one a line (`not mapped: …`).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, list) in self.sections() {
            out.extend(list.iter().map(|n| format!("{kind}: {n}")));
        }
        out
    }

    fn sections(&self) -> [(&'static str, &Vec<String>); 4] {
        [
            ("not mapped", &self.not_mapped),
            ("left out", &self.left_out),
            ("schema", &self.schema),
            ("inferred", &self.inferred),
        ]
    }

    /// `IMPORT-NOTES.md`.
    pub(crate) fn markdown(&self, heading: &str, source: &str, regenerate: &str) -> String {
        let mut out =
            format!("# {heading}\n\n{source}\n\nRegenerate with:\n\n```sh\n{regenerate}\n```\n");
        for (title, list) in [
            ("Not mapped", &self.not_mapped),
            ("Left out of the templates", &self.left_out),
            ("Schema keywords dropped or rewritten", &self.schema),
            ("Inferred (not named by the mapping)", &self.inferred),
        ] {
            let _ = write!(out, "\n## {title}\n\n");
            if list.is_empty() {
                out.push_str("Nothing.\n");
            }
            for n in list {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}
