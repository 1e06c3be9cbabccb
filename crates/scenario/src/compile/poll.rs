//! `poll:` — repeat a request until its expectation holds.

use std::time::Duration;

use super::compiler::{Compiler, Ctx};
use crate::error::Problem;
use crate::model::PollDef;
use crate::plan::Poll;
use crate::span::Span;

impl Compiler<'_> {
    pub(super) fn poll(&mut self, p: &PollDef, span: Option<&Span>, ctx: &mut Ctx<'_>) -> Poll {
        let every = p
            .every
            .as_ref()
            .map_or(Duration::from_secs(1), |d| d.value.0);
        let timeout = p
            .timeout
            .as_ref()
            .map_or(self.env.poll_timeout, |d| d.value.0);
        let backoff = p.backoff.as_ref().map_or(1.0, |b| b.value);
        if !(1.0..=10.0).contains(&backoff) {
            ctx.problems.push(
                Problem::new(
                    format!("backoff {backoff} is out of range"),
                    p.backoff.as_ref().and_then(|b| b.span.as_ref()).or(span),
                )
                .with_help("use a factor between 1 (constant) and 10"),
            );
        }
        if every.is_zero() {
            ctx.problems.push(
                Problem::new(
                    "`every` must be more than zero",
                    p.every.as_ref().and_then(|d| d.span.as_ref()).or(span),
                )
                .with_help("write e.g. `every: 500ms`"),
            );
        }
        Poll {
            every,
            timeout,
            backoff,
            max_every: p.max_every.as_ref().map(|d| d.value.0),
            fail_if: self.json_checks(&p.fail_if, ctx),
        }
    }
}
