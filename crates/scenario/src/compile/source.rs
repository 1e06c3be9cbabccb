//! Reading a file and decoding it into a model type, every problem with a position.

use std::path::Path;
use std::sync::Arc;

use crate::error::Problem;
use crate::node::{self, DecodeError};
use crate::span::SourceFile;

/// Reads a file into a shared source, as a problem when it cannot be read.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Problem> {
    std::fs::read_to_string(path)
        .map(|text| SourceFile::new(path, text))
        .map_err(|e| {
            Problem::new(format!("failed to read {}: {e}", path.display()), None)
                .with_help("check the path; scenario files end in .yaml or .yml")
        })
}

pub(super) fn decode_problem(e: DecodeError) -> Problem {
    Problem::new(e.message, e.span.as_ref()).with_help_opt(e.help)
}

pub(super) fn parse_as<T: serde::de::DeserializeOwned>(
    source: &Arc<SourceFile>,
) -> Result<T, Problem> {
    let node = node::parse(source).map_err(|e| {
        Problem::new(format!("invalid YAML: {}", e.message), Some(&e.span))
            .with_help("fix the YAML syntax (indentation, quotes, `key: value`)")
    })?;
    if !matches!(node.kind, node::Kind::Map(_)) {
        return Err(Problem::new(
            format!(
                "expected a mapping at the top of the file, found {}",
                node.type_name()
            ),
            Some(&node.span),
        )
        .with_help("a scenario starts with `name:` and `steps:`"));
    }
    node::decode::<T>(&node).map_err(decode_problem)
}
