//! Fixture files under the suite's `fixtures/`.

use serde_json::Value as Json;

use super::compiler::{Compiler, Ctx};
use crate::error::Problem;
use crate::span::Span;

impl Compiler<'_> {
    pub(super) fn fixture(
        &mut self,
        rel: &str,
        span: Option<&Span>,
        ctx: &mut Ctx<'_>,
    ) -> Option<Json> {
        if let Some(j) = self.fixtures.get(rel) {
            return Some(j.clone());
        }
        let path = self.fixtures_dir.join(rel);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                // Absolute: a relative folder means nothing when the current folder is not
                // the one the user thinks.
                let dir = std::path::absolute(&self.fixtures_dir)
                    .unwrap_or_else(|_| self.fixtures_dir.clone());
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "no such file".to_owned()
                } else {
                    e.to_string()
                };
                ctx.problems.push(
                    Problem::new(
                        format!("unknown fixture file `{rel}`: {why} in {}", dir.display()),
                        span,
                    )
                    .with_help(format!(
                        "fixtures are read from {}; put the file there or fix the path",
                        dir.display()
                    )),
                );
                return None;
            }
        };
        let json = if rel.ends_with(".json") {
            match serde_json::from_str(&text) {
                Ok(j) => j,
                Err(e) => {
                    ctx.problems.push(
                        Problem::new(format!("fixture `{rel}` is not valid JSON: {e}"), span)
                            .with_help("fix the fixture file"),
                    );
                    return None;
                }
            }
        } else {
            Json::String(text)
        };
        self.fixtures.insert(rel.to_owned(), json.clone());
        self.templates.add_fixture(rel, json.clone());
        Some(json)
    }
}

/// The longest fixture path accepted (a path is user input).
const MAX_FIXTURE_PATH: usize = 1024;

impl Compiler<'_> {
    /// A fixture file sent as bytes (a `body: { file }` or a multipart file): checked to
    /// exist under `fixtures/` now, read when the request is sent.
    pub(super) fn fixture_file(
        &mut self,
        rel: &str,
        span: Option<&Span>,
        ctx: &mut Ctx<'_>,
    ) -> Option<crate::plan::FixtureFile> {
        let escapes = rel.len() > MAX_FIXTURE_PATH
            || std::path::Path::new(rel).components().any(|c| {
                !matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            });
        if rel.is_empty() || escapes {
            ctx.problems.push(
                Problem::new(
                    format!("fixture path `{rel}` leaves the fixtures folder"),
                    span,
                )
                .with_help("write a path relative to fixtures/, without `..` or a leading `/`"),
            );
            return None;
        }
        let joined = self.fixtures_dir.join(rel);
        let path = std::fs::canonicalize(&joined).unwrap_or(joined);
        // Absolute, as for `fixture()`: a relative folder means nothing when the current
        // folder is not the one the user thinks.
        let dir =
            std::path::absolute(&self.fixtures_dir).unwrap_or_else(|_| self.fixtures_dir.clone());
        let why = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                return Some(crate::plan::FixtureFile {
                    rel: rel.to_owned(),
                    path: std::path::absolute(&path).unwrap_or(path),
                });
            }
            Ok(_) => "not a file".to_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file".to_owned(),
            Err(e) => e.to_string(),
        };
        ctx.problems.push(
            Problem::new(
                format!("unknown fixture file `{rel}`: {why} in {}", dir.display()),
                span,
            )
            .with_help(format!(
                "fixtures are read from {}; put the file there or fix the path",
                dir.display()
            )),
        );
        None
    }
}
