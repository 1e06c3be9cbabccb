//! `include:` steps: fragments, their parameters and the include chain.

use std::path::Path;

use super::compiler::collect_captures;
use super::compiler::{Compiler, Ctx};
use super::source::{parse_as, read_source};
use crate::error::Problem;
use crate::model::{FragmentFile, IncludeDef};
use crate::node::did_you_mean;
use crate::plan::{Action, Expect, Step};
use crate::span::{Span, Spanned};
use crate::value::ValueKind;

impl Compiler<'_> {
    pub(super) fn include(
        &mut self,
        inc: &Spanned<IncludeDef>,
        step_span: &Span,
        ctx: &mut Ctx<'_>,
        out: &mut Vec<Step>,
        name: &str,
    ) {
        let at = inc.span.as_ref().unwrap_or(step_span);
        let base = ctx
            .include_stack
            .last()
            .and_then(|p| p.parent())
            .unwrap_or(Path::new("."));
        let path = base.join(&inc.value.file);
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if ctx
            .include_stack
            .iter()
            .any(|p| p.canonicalize().unwrap_or_else(|_| p.clone()) == canonical)
        {
            let chain: Vec<String> = ctx
                .include_stack
                .iter()
                .map(|p| p.display().to_string())
                .chain([path.display().to_string()])
                .collect();
            ctx.problems.push(
                Problem::new(format!("include cycle: {}", chain.join(" → ")), Some(at))
                    .with_help("a fragment must not include itself, directly or through others"),
            );
            return;
        }
        let source = match read_source(&path) {
            Ok(s) => s,
            // Read but unreadable (not UTF-8): the problem names its own position.
            Err(p) if p.span.is_some() => {
                ctx.problems.push(p);
                return;
            }
            Err(p) => {
                ctx.problems.push(
                    Problem::new(
                        format!("fragment `{}` does not exist", inc.value.file),
                        Some(at),
                    )
                    .with_help(format!(
                        "{} (paths are relative to the including file)",
                        p.message
                    )),
                );
                return;
            }
        };
        let frag: FragmentFile = match parse_as(&source) {
            Ok(f) => f,
            Err(ps) => {
                ctx.problems.0.extend(ps.0);
                return;
            }
        };
        // Parameters: every `with` key must be declared; declared ones without default must
        // be given.
        let declared: Vec<&str> = frag.params.iter().map(|(k, _)| k.value.as_str()).collect();
        let mut binds = Vec::new();
        for (k, v) in inc.value.params.iter() {
            if !declared.contains(&k.value.as_str()) {
                ctx.problems.push(
                    Problem::new(
                        format!("`{}` is not a parameter of {}", k.value, inc.value.file),
                        k.span.as_ref().or(Some(at)),
                    )
                    .with_help(
                        did_you_mean(&k.value, declared.iter().copied()).unwrap_or_else(|| {
                            format!("its parameters are: {}", declared.join(", "))
                        }),
                    ),
                );
                continue;
            }
            let value = self.value(v, ctx);
            binds.push((k.value.clone(), value));
        }
        for (k, default) in frag.params.iter() {
            if binds.iter().any(|(b, _)| *b == k.value) {
                continue;
            }
            if matches!(default.kind, ValueKind::Null) {
                // Known from here on, so that one missing parameter is one problem.
                ctx.known.push(k.value.clone());
                ctx.literals.remove(&k.value);
                ctx.problems.push(
                    Problem::new(
                        format!("{} needs the parameter `{}`", inc.value.file, k.value),
                        Some(at),
                    )
                    .with_help(format!("add `with: {{ {}: … }}`", k.value)),
                );
            } else {
                let value = self.value(default, ctx);
                binds.push((k.value.clone(), value));
            }
        }
        for (k, _) in &binds {
            ctx.known.push(k.clone());
            ctx.literals.remove(k);
        }
        out.push(Step {
            name: name.to_owned(),
            span: step_span.clone(),
            action: Action::Bind(binds),
            expect: Expect::default(),
            captures: Vec::new(),
            poll: None,
        });
        collect_captures(&frag.steps.value, &mut ctx.later);
        ctx.include_stack.push(path);
        // Steps of the fragment read "login › POST /auth": the include step's own name
        // when it has one, else the fragment's file stem.
        let (parent, last) = match name.rsplit_once(" › ") {
            Some((p, l)) => (format!("{p} › "), l),
            None => (String::new(), name),
        };
        let label = last.strip_prefix("include ").unwrap_or(last);
        let prefix = format!("{parent}{label} › ");
        for s in &frag.steps.value {
            self.step(s, ctx, out, &prefix);
        }
        ctx.include_stack.pop();
    }
}
