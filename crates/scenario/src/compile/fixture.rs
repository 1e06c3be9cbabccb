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
            Err(_) => {
                ctx.problems.push(
                    Problem::new(format!("unknown fixture file `{rel}`"), span).with_help(format!(
                        "fixtures are read from {}",
                        self.fixtures_dir.display()
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
