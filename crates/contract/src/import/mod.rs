//! `contract import`: a version folder from the bank's OpenAPI 3.0 or 3.1 document and a
//! mapping file for what OpenAPI cannot say. Built in memory, checked as a folder read from
//! disk would be, then written by the caller. What cannot be mapped is listed in
//! [`Notes`] (and `IMPORT-NOTES.md` in the folder); a required piece with no mapping is an
//! [`ImportError::Unmapped`] listing every one, and nothing is written.

mod assemble;
mod document;
mod infer;
mod mapping;
mod notes;
mod schema;
mod template;
mod webhooks;

use std::fmt;
use std::path::Path;

use crate::error::FolderError;
use crate::folder::VersionFolder;
use crate::version::ApiVersion;

pub use notes::Notes;

/// The name of the notes file an import writes into the folder.
pub const NOTES_FILE: &str = "IMPORT-NOTES.md";

/// What to import.
#[derive(Debug, Clone, Copy)]
pub struct ImportRequest<'a> {
    /// The OpenAPI document's text (YAML or JSON).
    pub openapi: &'a str,
    /// How to name the document in messages and notes (its file name).
    pub openapi_name: &'a str,
    /// The mapping file's text and name, if there is one.
    pub mapping: Option<(&'a str, &'a str)>,
    /// The version to make, `v4`.
    pub version: ApiVersion,
    /// Where the folder will be written (for the folder check's messages).
    pub out: &'a Path,
}

/// A folder made from a document: checked, not yet written.
#[derive(Debug)]
pub struct Imported {
    /// The folder, `IMPORT-NOTES.md` among its files.
    pub folder: VersionFolder,
    /// What was not mapped, left out, dropped or inferred.
    pub notes: Notes,
}

/// Why no folder was made.
#[derive(Debug)]
pub enum ImportError {
    /// The document cannot be read as OpenAPI 3.0 or 3.1.
    Document(String),
    /// The mapping file cannot be read.
    Mapping(String),
    /// Required pieces have no mapping (each a line saying what to add), with the notes
    /// gathered so far.
    Unmapped {
        /// What is missing.
        problems: Vec<String>,
        /// What else was found.
        notes: Notes,
    },
    /// The folder made is not one the mock can serve (a schema that does not compile…).
    Folder(FolderError),
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Document(e) => write!(f, "read the OpenAPI document: {e}"),
            Self::Mapping(e) => write!(f, "read the mapping file: {e}"),
            Self::Unmapped { problems, .. } => {
                write!(
                    f,
                    "{} required piece{} of the version cannot be mapped:",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                )?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            Self::Folder(e) => write!(f, "the imported folder does not check: {e}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Makes a version folder from an OpenAPI document (see the module doc).
pub fn import(request: &ImportRequest<'_>) -> Result<Imported, ImportError> {
    assemble::assemble(request)
}
