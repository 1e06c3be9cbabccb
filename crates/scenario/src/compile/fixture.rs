//! Fixture files under the suite's `fixtures/`: read as values (`fixture()`, `schema`), or
//! checked now and sent as bytes later (`body: { file }`, multipart files). Either way the
//! path stays inside the fixtures folder and names a regular file (`crate::files`).

use std::path::PathBuf;

use serde_json::Value as Json;

use super::compiler::{Compiler, Ctx};
use crate::error::Problem;
use crate::files::{FileError, MAX_FILE_BYTES, fixture_path, read_capped};
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
        let read = fixture_path(&self.fixtures_dir, rel)
            .and_then(|path| read_capped(&path, MAX_FILE_BYTES));
        let bytes = match read {
            Ok(b) => b,
            Err(e) => {
                ctx.problems.push(self.fixture_problem(rel, &e, span));
                return None;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            ctx.problems.push(
                Problem::new(format!("fixture `{rel}` is not UTF-8 text"), span).with_help(
                    "`fixture()` and `schema` read text; send binary files with `body: { file: … }`",
                ),
            );
            return None;
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

    /// A fixture file sent as bytes (a `body: { file }` or a multipart file): checked now,
    /// and again when the request is sent (`crate::files::fixture_len`).
    pub(super) fn fixture_file(
        &mut self,
        rel: &str,
        span: Option<&Span>,
        ctx: &mut Ctx<'_>,
    ) -> Option<crate::plan::FixtureFile> {
        match fixture_path(&self.fixtures_dir, rel) {
            Ok(path) => Some(crate::plan::FixtureFile {
                rel: rel.to_owned(),
                path,
                dir: self.fixtures_folder(),
            }),
            Err(e) => {
                ctx.problems.push(self.fixture_problem(rel, &e, span));
                None
            }
        }
    }

    /// The fixtures folder, absolute: a relative folder means nothing when the current
    /// folder is not the one the user thinks.
    fn fixtures_folder(&self) -> PathBuf {
        std::path::absolute(&self.fixtures_dir).unwrap_or_else(|_| self.fixtures_dir.clone())
    }

    fn fixture_problem(&self, rel: &str, e: &FileError, span: Option<&Span>) -> Problem {
        let dir = self.fixtures_folder();
        let put_there = || {
            format!(
                "fixtures are read from {}; put the file there or fix the path",
                dir.display()
            )
        };
        match e {
            FileError::Outside { .. } => Problem::new(
                format!("fixture path `{rel}` leaves the fixtures folder"),
                span,
            )
            .with_help(format!(
                "write a path relative to {} without `..` or a leading `/`; a symbolic link there must not point outside it",
                dir.display()
            )),
            FileError::TooLarge { cap } => Problem::new(
                format!("fixture `{rel}` is more than the {cap} bytes rehearse reads into memory"),
                span,
            )
            .with_help("send a large file as bytes with `body: { file: … }`, which is streamed"),
            e => Problem::new(
                format!("unknown fixture file `{rel}`: {e} in {}", dir.display()),
                span,
            )
            .with_help(put_there()),
        }
    }
}
