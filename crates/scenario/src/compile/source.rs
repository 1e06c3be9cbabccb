//! Reading a file and decoding it into a model type, every problem with a position.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Problem, Problems};
use crate::files::{FileError, MAX_FILE_BYTES, read_capped};
use crate::node::{self, DecodeError, SyntaxError};
use crate::span::{SourceFile, Span};

/// Reads a file into a shared source, as a problem when it cannot be read: a regular file
/// of at most [`MAX_FILE_BYTES`] (so `/dev/zero` is refused, not read until memory runs
/// out).
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>, Problem> {
    let bytes = read_capped(path, MAX_FILE_BYTES).map_err(|e| match e {
        FileError::TooLarge { cap } => Problem::new(
            format!(
                "{} is more than the {cap} bytes a scenario or environment file may have",
                path.display()
            ),
            None,
        )
        .with_help("move large bodies into fixture files: `json: \"{{ fixture('big.json') }}\"`"),
        e => Problem::new(format!("failed to read {}: {e}", path.display()), None)
            .with_help("check the path; scenario files end in .yaml or .yml"),
    })?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes().get(at).copied().unwrap_or(0);
            // The text up to the bad byte is intact, so its position is exact; the rest is
            // shown with replacement characters.
            let source = SourceFile::new(path, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let span = Span::at_offset(&source, at);
            Err(Problem::new(
                format!(
                    "the file is not valid UTF-8: byte 0x{bad:02X} at line {}, column {}",
                    span.line(),
                    span.column()
                ),
                Some(&span),
            )
            .with_help("save the file as UTF-8 (it may be in Latin-1 or UTF-16)"))
        }
    }
}

pub(super) fn decode_problem(e: DecodeError) -> Problem {
    Problem::new(e.message, e.span.as_ref()).with_help_opt(e.help)
}

fn syntax_problem(e: SyntaxError, invalid: bool) -> Problem {
    let message = if invalid {
        format!("invalid YAML: {}", e.message)
    } else {
        e.message
    };
    Problem::new(message, Some(&e.span)).with_help(
        e.help.unwrap_or_else(|| {
            "fix the YAML syntax (indentation, quotes, `key: value`)".to_owned()
        }),
    )
}

/// Parses and decodes a file into `T`: every problem of the file at once (duplicate keys,
/// unknown keys, wrong types), or the first syntax error.
pub(super) fn parse_as<T: serde::de::DeserializeOwned>(
    source: &Arc<SourceFile>,
) -> Result<T, Problems> {
    let parsed = node::parse_cached(source).map_err(|e| Problems(vec![syntax_problem(e, true)]))?;
    let mut problems: Vec<Problem> = parsed
        .problems
        .into_iter()
        .map(|e| syntax_problem(e, false))
        .collect();
    if !matches!(parsed.root.kind, node::Kind::Map(_)) {
        problems.push(
            Problem::new(
                format!(
                    "expected a mapping at the top of the file, got {}",
                    parsed.root.got()
                ),
                Some(&parsed.root.span),
            )
            .with_help("a scenario starts with `name:` and `steps:`"),
        );
        return Err(Problems(problems));
    }
    match node::decode_all::<T>(parsed.root) {
        Ok(v) if problems.is_empty() => Ok(v),
        Ok(_) => Err(Problems(problems)),
        Err(es) => {
            problems.extend(es.into_iter().map(decode_problem));
            Err(Problems(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnvironmentFile, ScenarioFile};

    /// Nothing a user writes may panic: every prefix of real files (cut anywhere, so
    /// unclosed quotes, brackets and half keys), and every one of them with a byte
    /// replaced by a YAML indicator, loads or is a problem.
    #[test]
    fn any_prefix_of_a_real_file_loads_or_is_a_problem_never_a_panic() {
        let files = [
            include_str!("../../../../scenarios/payments/small-payment.yaml"),
            include_str!("../../../../environments/staging.example.yaml"),
        ];
        for text in files {
            for (i, (cut, _)) in text.char_indices().enumerate() {
                let src = SourceFile::new("p.yaml", &text[..cut]);
                let _ = parse_as::<ScenarioFile>(&src);
                let _ = parse_as::<EnvironmentFile>(&src);
                let indicator = ["&", "*", "!", "|", "[", "{", "-", ":", "\r", "\t"][i % 10];
                let mut t = text[..cut].to_owned();
                t.push_str(indicator);
                t.push_str(&text[cut..]);
                let _ = parse_as::<ScenarioFile>(&SourceFile::new("p.yaml", t));
            }
        }
    }
}
