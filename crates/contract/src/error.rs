//! `FolderError`: what is wrong with a version folder, and where.

use std::fmt;
use std::path::PathBuf;

/// A version folder that cannot be served: the file, the field in it (when one is to
/// blame), the line and column (for a file that is not JSON) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderError {
    /// The file, as the user wrote it (`bank-api/v4/manifest.json`), or
    /// `built-in:v2/manifest.json` for a built-in version.
    pub file: PathBuf,
    /// The field, `routes[2].operation`.
    pub field: Option<String>,
    /// 1-based line and column, for text that does not parse.
    pub position: Option<(usize, usize)>,
    /// What is wrong, and the fix.
    pub reason: String,
}

impl FolderError {
    pub(crate) fn new(file: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            field: None,
            position: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for FolderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": `{field}`")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for FolderError {}
