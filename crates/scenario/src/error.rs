//! Problems found in scenario and environment files, rendered with miette.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan,
    SpanContents,
};

use crate::span::{SourceFile, Span};

/// One problem in an input file: what is wrong, where, and what to do.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Where (absent for problems not tied to a place, such as a missing file).
    pub span: Option<Span>,
    /// Text shown under the underline.
    pub label: Option<String>,
    /// Boxed, so that a `Result<_, Problem>` stays small (clippy's `result_large_err`).
    extra: Option<Box<Extra>>,
}

/// What few problems carry: the file for miette's snippet, or the count of problems
/// left out that a line stands for.
#[derive(Debug, Clone)]
struct Extra {
    named: Option<NamedSource<SourceRef>>,
    /// For the line that stands for problems left out (`N more problems … are not
    /// shown`): how many it stands for.
    stands_for: usize,
}

impl Problem {
    /// A problem at a place.
    pub fn new(message: impl Into<String>, span: Option<&Span>) -> Self {
        Self {
            message: message.into(),
            help: None,
            span: span.cloned(),
            label: None,
            extra: span.map(|s| {
                Box::new(Extra {
                    named: Some(
                        NamedSource::new(
                            s.source.path().display().to_string(),
                            SourceRef(Arc::clone(&s.source)),
                        )
                        .with_language("yaml"),
                    ),
                    stands_for: 0,
                })
            }),
        }
    }

    /// The line that stands for `n` problems left out: not itself a problem, so counts
    /// ([`Problems::count`]) add `n` for it, not 1.
    pub fn left_out(message: impl Into<String>, n: usize) -> Self {
        let mut p = Self::new(message, None);
        p.extra = Some(Box::new(Extra {
            named: None,
            stands_for: n,
        }));
        p
    }

    /// Adds what to do.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help only when there is one.
    #[must_use]
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help.or(self.help);
        self
    }

    /// Adds a label under the underlined text.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// `file:line:col: message` on one line, for logs and reports.
    pub fn one_line(&self) -> String {
        match &self.span {
            Some(span) => format!("{span}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        None
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.extra
            .as_ref()
            .and_then(|e| e.named.as_ref())
            .map(|n| n as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.as_ref()?;
        let label = self.label.clone().unwrap_or_else(|| "here".to_owned());
        // The underline stays on the line it starts on, and inside the part of a long
        // line that is shown (see `SourceRef`).
        let line = span.source.line_range(span.source.line_of(span.offset));
        let (label, end) = match clip(&span.source, span.offset) {
            Some(window) => (format!("{label} (a long line, shown in part)"), window.end),
            None => (label, line.end),
        };
        let len = span.byte_len().min(end.saturating_sub(span.offset));
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label),
            (span.offset, len),
        ))))
    }
}

/// Lines longer than this many bytes are shown in part around the problem: miette cannot
/// underline past column 65,535 (it panics), and a screen shows about a hundred columns.
const MAX_SNIPPET_LINE_BYTES: usize = 300;

/// Bytes shown before the problem on a long line, and in all.
const CLIP_BEFORE: usize = 40;
const CLIP_WIDTH: usize = 120;

/// The part of a long line shown around `offset`, or `None` when its line is short.
fn clip(source: &SourceFile, offset: usize) -> Option<std::ops::Range<usize>> {
    let line = source.line_range(source.line_of(offset));
    if line.len() <= MAX_SNIPPET_LINE_BYTES {
        return None;
    }
    let text = source.text();
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(offset.saturating_sub(CLIP_BEFORE).max(line.start));
    let end = floor((start + CLIP_WIDTH).min(line.end)).max(offset.min(line.end));
    Some(start..end)
}

/// True when the 1-based line `n` exists and is too long to show as context.
fn long_line(source: &SourceFile, n: usize) -> bool {
    n >= 1 && source.line_range(n).len() > MAX_SNIPPET_LINE_BYTES
}

/// User text quoted in a message, cut after 80 characters: a message names what is wrong,
/// the snippet shows it.
pub(crate) fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]).into(),
        None => text.into(),
    }
}

/// A shared source file as miette source code.
#[derive(Debug, Clone)]
pub(crate) struct SourceRef(pub(crate) Arc<SourceFile>);

impl SourceCode for SourceRef {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // miette's reader scans the text from its start; ours starts at the first line
        // shown, so rendering a problem costs its lines, not the whole file.
        let source = &*self.0;
        let text = source.text();
        let offset = span.offset().min(text.len());
        let line = source.line_of(offset);
        let line_range = source.line_range(line);
        // The slice handed to miette: from the first line shown (the start of the part
        // shown, on a long line) to the end of the text, or of the line when the next one
        // is too long to show.
        let (base, end, skipped) = match clip(source, offset) {
            Some(window) => (window.start, window.end, 0),
            None => {
                let before = if long_line(source, line.saturating_sub(1)) {
                    0
                } else {
                    context_lines_before.min(line - 1)
                };
                let end = if long_line(source, line + 1) {
                    line_range.end
                } else {
                    text.len()
                };
                (source.line_range(line - before).start, end, before)
            }
        };
        let len = span.len().min(end.saturating_sub(offset));
        let inner = text[base..end].read_span(
            &(offset - base, len).into(),
            context_lines_before,
            context_lines_after,
        )?;
        let column = if context_lines_before == 0 {
            inner.column() + (base - line_range.start)
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            (inner.span().offset() + base, inner.span().len()).into(),
            inner.line() + (line - 1 - skipped),
            column,
            inner.line_count(),
        )))
    }
}

/// Every problem found in the input files; loading reports them all at once.
#[derive(Debug, Clone, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, p: Problem) {
        self.0.push(p);
    }
    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The problems.
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    /// How many problems there are, those left out of the list included (a line saying
    /// "N more are not shown" counts N, not 1).
    pub fn count(&self) -> usize {
        self.0
            .iter()
            .map(|p| match &p.extra {
                Some(e) if e.stands_for > 0 => e.stands_for,
                _ => 1,
            })
            .sum()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{}", p.one_line())?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Renders a problem as the CLI shows it (no colour), for logs and snapshots.
pub fn render_problem(problem: &Problem, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, problem).is_err() {
        return problem.one_line();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a problem past column 65,535 panicked inside miette's renderer (exit
    /// 101, every other problem lost). The line is shown in part, the position in full.
    #[test]
    fn a_problem_at_column_70000_renders_the_part_of_the_line_around_it() {
        let text = format!(
            "name: a\nsteps:\n  - request: {{ url: 'http://h/{}', bogus: 1 }}\n",
            "x".repeat(70_000)
        );
        let source = SourceFile::new("long.yaml", text);
        let at = source.text().find("bogus").unwrap();
        let problem = Problem::new("unknown key `bogus`", Some(&Span::at_offset(&source, at)))
            .with_help("remove it");
        insta::assert_snapshot!(render_problem(&problem, false), @r"
             × unknown key `bogus`
              ╭─[long.yaml:3:70034]
            3 │ xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', bogus: 1 }
              ·                                         ──┬──
              ·                                           ╰── here (a long line, shown in part)
              ╰────
             help: remove it
        ");
    }

    /// The lines around a problem are shown unless they are long.
    #[test]
    fn a_long_line_beside_a_problem_is_not_shown() {
        let text = format!("a: {}\nb: 1\nc: {}\n", "x".repeat(5000), "y".repeat(5000));
        let source = SourceFile::new("beside.yaml", text);
        let at = source.text().find("b:").unwrap();
        let problem = Problem::new("unknown key `b`", Some(&Span::at_offset(&source, at)));
        insta::assert_snapshot!(render_problem(&problem, false), @r"
             × unknown key `b`
              ╭─[beside.yaml:2:1]
            2 │ b: 1
              · ┬
              · ╰── here
              ╰────
        ");
    }
}
