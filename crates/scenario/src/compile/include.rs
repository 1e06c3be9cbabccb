//! `include:` steps: fragments (inside the suite, read once per suite), their
//! parameters, and the include chain (no cycle, at most `MAX_INCLUDE_DEPTH` deep, at most
//! `MAX_STEPS` steps in all).

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::compiler::collect_captures;
use super::compiler::{Compiler, Ctx};
use super::source::{parse_as, read_source};
use crate::bounds::{MAX_INCLUDE_DEPTH, MAX_STEPS};
use crate::error::{Problem, shorten};
use crate::files::{FileError, MAX_PATH_BYTES, inside};
use crate::model::{FragmentFile, IncludeDef};
use crate::node::did_you_mean;
use crate::plan::{Action, Expect, Step};
use crate::span::{Span, Spanned};
use crate::value::ValueKind;

impl Ctx<'_> {
    /// Counts one more step; past [`MAX_STEPS`] it says so once, naming the chain of
    /// fragments being expanded, and every further step is skipped.
    pub(super) fn count_step(&mut self, at: &Span) -> bool {
        self.steps += 1;
        if self.steps == MAX_STEPS + 1 {
            // First: it explains the problems that follow from it (repeated step names).
            self.problems.0.insert(
                0,
                Problem::new(
                    format!("the scenario expands to more than {MAX_STEPS} steps"),
                    Some(at),
                )
                .with_help(format!(
                    "a fragment included several times, by fragments included several times, multiplies its steps; this one is reached through {}",
                    chain(&self.include_stack, None)
                )),
            );
        }
        self.steps <= MAX_STEPS
    }
}

/// `a.yaml → _f/b.yaml → …`, the middle of a long chain left out.
fn chain(stack: &[PathBuf], last: Option<&Path>) -> String {
    let names: Vec<String> = stack
        .iter()
        .map(|p| p.display().to_string())
        .chain(last.map(|p| p.display().to_string()))
        .collect();
    if names.len() <= 8 {
        return names.join(" → ");
    }
    format!(
        "{} → … ({} more) → {}",
        names[..3].join(" → "),
        names.len() - 6,
        names[names.len() - 3..].join(" → ")
    )
}

impl Compiler<'_> {
    /// The fragment an include names, read once per suite: `None` after a problem
    /// (pushed).
    fn fragment(
        &mut self,
        written: &str,
        path: &Path,
        at: &Span,
        ctx: &mut Ctx<'_>,
    ) -> Option<(PathBuf, Rc<FragmentFile>)> {
        let folder = self.root.display().to_string();
        if Path::new(written).has_root() || written.len() > MAX_PATH_BYTES {
            ctx.problems.push(
                Problem::new(
                    format!("fragment path `{}` is absolute", shorten(written)),
                    Some(at),
                )
                .with_help(format!(
                    "write the path relative to the including file, inside the suite ({folder})"
                )),
            );
            return None;
        }
        // Fragments are inside the suite, or beside (or under) the scenario itself.
        let mut folders = vec![self.root.clone()];
        if let Some(dir) = ctx.real_stack.first().and_then(|p| p.parent()) {
            folders.push(dir.to_owned());
        }
        let real = match inside(path, written, &folders) {
            Ok(real) => real,
            Err(FileError::Outside { .. }) => {
                ctx.problems.push(
                    Problem::new(
                        format!("fragment `{written}` is outside the suite ({folder})"),
                        Some(at),
                    )
                    .with_help("keep fragments in the suite, e.g. scenarios/_fragments/; a symbolic link must not point outside it"),
                );
                return None;
            }
            Err(e) => {
                ctx.problems.push(
                    Problem::new(format!("fragment `{written}` does not exist"), Some(at))
                        .with_help(format!(
                            "failed to read {}: {e} (paths are relative to the including file)",
                            path.display()
                        )),
                );
                return None;
            }
        };
        if ctx.real_stack.contains(&real) {
            ctx.problems.push(
                Problem::new(
                    format!("include cycle: {}", chain(&ctx.include_stack, Some(path))),
                    Some(at),
                )
                .with_help("a fragment must not include itself, directly or through others"),
            );
            return None;
        }
        if ctx.include_stack.len() > MAX_INCLUDE_DEPTH {
            ctx.problems.push(
                Problem::new(
                    format!(
                        "fragments are included more than {MAX_INCLUDE_DEPTH} deep: {}",
                        chain(&ctx.include_stack, Some(path))
                    ),
                    Some(at),
                )
                .with_help("flatten the chain: a fragment may include others, but not without end"),
            );
            return None;
        }
        if let Some(f) = self.fragment_files.get(&real) {
            return Some((real, Rc::clone(f)));
        }
        if ctx.broken_fragments.contains(&real) {
            return None;
        }
        match read_source(path) {
            Ok(source) => match parse_as::<FragmentFile>(&source) {
                Ok(f) => {
                    let f = Rc::new(f);
                    self.fragment_files.insert(real.clone(), Rc::clone(&f));
                    return Some((real, f));
                }
                Err(ps) => ctx.problems.0.extend(ps.0),
            },
            // Read but unreadable (not UTF-8): the problem names its own position.
            Err(p) if p.span.is_some() => ctx.problems.push(p),
            Err(p) => ctx
                .problems
                .push(Problem::new(p.message, Some(at)).with_help_opt(p.help)),
        }
        ctx.broken_fragments.insert(real);
        None
    }

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
        let Some((real, frag)) = self.fragment(&inc.value.file, &path, at, ctx) else {
            return;
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
        ctx.real_stack.push(real);
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
        ctx.real_stack.pop();
    }
}
