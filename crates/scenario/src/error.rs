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
    named: Option<Box<NamedSource<SourceRef>>>,
}

impl Problem {
    /// A problem at a place.
    pub fn new(message: impl Into<String>, span: Option<&Span>) -> Self {
        Self {
            message: message.into(),
            help: None,
            span: span.cloned(),
            label: None,
            named: span.map(|s| {
                Box::new(
                    NamedSource::new(
                        s.source.path().display().to_string(),
                        SourceRef(Arc::clone(&s.source)),
                    )
                    .with_language("yaml"),
                )
            }),
        }
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
        self.named.as_deref().map(|n| n as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone().unwrap_or_else(|| "here".to_owned())),
            span.source_span(),
        ))))
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
        let inner = self
            .0
            .text()
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new(
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
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
