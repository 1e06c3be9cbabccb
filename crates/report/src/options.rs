//! Console options: colour, verbosity, symbols, terminal.

use std::ffi::OsStr;

/// When to colour console output (`--color`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour, even into a pipe (an explicit choice wins over `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour, reading `NO_COLOR` from the process environment.
    pub fn use_color(self, is_terminal: bool) -> bool {
        self.resolve(std::env::var_os("NO_COLOR").as_deref(), is_terminal)
    }

    /// Whether to colour, given the value of `NO_COLOR` (any non-empty value disables
    /// colour under `Auto`) and whether the output is a terminal.
    pub fn resolve(self, no_color: Option<&OsStr>, is_terminal: bool) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => is_terminal && no_color.is_none_or(OsStr::is_empty),
        }
    }
}

/// How much the console says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: only failures, problems and the summary.
    Quiet,
    /// A header per scenario and a line per step.
    #[default]
    Normal,
    /// `-v`: also the request and response line of every attempt.
    Verbose,
    /// `-vv` and beyond: also headers and body excerpts.
    VeryVerbose,
}

impl Verbosity {
    /// From the CLI's counted flags: `-q` wins, then the number of `-v`.
    pub fn from_flags(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Self::Quiet,
            (false, 0) => Self::Normal,
            (false, 1) => Self::Verbose,
            (false, _) => Self::VeryVerbose,
        }
    }
}

/// Options of the [`ConsoleReporter`](crate::ConsoleReporter), a builder.
///
/// The default suits a pipe: normal verbosity, colour `Auto` (so none), Unicode marks,
/// no spinner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleOptions {
    pub(crate) color: ColorChoice,
    pub(crate) verbosity: Verbosity,
    pub(crate) unicode: bool,
    pub(crate) terminal: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        Self {
            color: ColorChoice::Auto,
            verbosity: Verbosity::Normal,
            unicode: true,
            terminal: false,
        }
    }
}

impl ConsoleOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// When to colour.
    #[must_use]
    pub fn color(mut self, color: ColorChoice) -> Self {
        self.color = color;
        self
    }

    /// How much to say.
    #[must_use]
    pub fn verbosity(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }

    /// `✓`/`✗` when true, `ok`/`FAIL` when false.
    #[must_use]
    pub fn unicode(mut self, unicode: bool) -> Self {
        self.unicode = unicode;
        self
    }

    /// Whether the output is an interactive terminal (stdout): enables the live spinner
    /// and, under [`ColorChoice::Auto`], colour. [`ConsoleReporter::stdout`] sets it by
    /// detection.
    ///
    /// [`ConsoleReporter::stdout`]: crate::ConsoleReporter::stdout
    #[must_use]
    pub fn terminal(mut self, terminal: bool) -> Self {
        self.terminal = terminal;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        let auto = ColorChoice::Auto;
        assert!(auto.resolve(None, true));
        assert!(
            auto.resolve(Some(OsStr::new("")), true),
            "an empty NO_COLOR is ignored"
        );
        assert!(!auto.resolve(Some(OsStr::new("1")), true));
        assert!(!auto.resolve(None, false));
    }

    #[test]
    fn explicit_choices_ignore_no_color_and_terminal() {
        assert!(ColorChoice::Always.resolve(Some(OsStr::new("1")), false));
        assert!(!ColorChoice::Never.resolve(None, true));
    }

    #[test]
    fn verbosity_from_flags() {
        assert_eq!(Verbosity::from_flags(true, 3), Verbosity::Quiet);
        assert_eq!(Verbosity::from_flags(false, 0), Verbosity::Normal);
        assert_eq!(Verbosity::from_flags(false, 1), Verbosity::Verbose);
        assert_eq!(Verbosity::from_flags(false, 2), Verbosity::VeryVerbose);
        assert_eq!(Verbosity::from_flags(false, 7), Verbosity::VeryVerbose);
    }
}
