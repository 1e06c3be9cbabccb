//! The heading of a scenario file (name, tags, owner), read without an environment: what
//! `rehearse list` shows. Read by the same YAML rule as everything else (`no` stays text).

use std::sync::Arc;

use serde::Deserialize;

use super::source::parse_as;
use crate::error::Problems;
use crate::span::SourceFile;

/// Name, tags and owner of a scenario file; its other keys are not looked at.
#[derive(Debug, Clone, Deserialize)]
pub struct Heading {
    /// What the flow proves.
    pub name: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The owning team.
    #[serde(default)]
    pub owner: Option<String>,
}

/// Reads the heading of a scenario file; other keys are not checked (`validate` does).
pub fn read_heading(source: &Arc<SourceFile>) -> Result<Heading, Problems> {
    parse_as::<Heading>(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_read_by_our_rule_not_yaml_1_1() {
        let source = SourceFile::new(
            std::path::Path::new("a.yaml"),
            "name: n\ntags: [no, on, 012]\nsteps: whatever\n".to_owned(),
        );
        let h = read_heading(&source).unwrap();
        assert_eq!(h.tags, ["no", "on", "012"]);
        assert_eq!(h.name, "n");
    }
}
