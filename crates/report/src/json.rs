//! The JSON report: the whole result, every attempt of every step.

use std::io;
use std::path::Path;

use rehearse_runner::RunResult;

use crate::spec::write_file;

/// The result as pretty JSON, ending with a newline.
pub fn to_json_string(result: &RunResult) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(result)?;
    text.push('\n');
    Ok(text)
}

/// Writes the JSON report to `path`, creating its parent directories.
pub fn write_json(result: &RunResult, path: &Path) -> io::Result<()> {
    write_file(path, to_json_string(result)?.as_bytes())
}
