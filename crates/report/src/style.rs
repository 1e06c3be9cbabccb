//! A few ANSI styles, applied only when colour is on.

use std::fmt::Display;

/// A style of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Pass,
    Fail,
    Skip,
    Dim,
    Bold,
    Location,
}

impl Tone {
    fn code(self) -> &'static str {
        match self {
            Self::Pass => "32",
            Self::Fail => "31",
            Self::Skip => "33",
            Self::Dim => "2",
            Self::Bold => "1",
            Self::Location => "36",
        }
    }
}

/// Paints text when colour is on, passes it through otherwise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Painter {
    pub(crate) color: bool,
}

impl Painter {
    pub(crate) fn paint(self, tone: Tone, text: impl Display) -> String {
        if self.color {
            format!("\x1b[{}m{text}\x1b[0m", tone.code())
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_escape_without_colour() {
        assert_eq!(Painter { color: false }.paint(Tone::Fail, "x"), "x");
        assert_eq!(
            Painter { color: true }.paint(Tone::Fail, "x"),
            "\x1b[31mx\x1b[0m"
        );
    }
}
