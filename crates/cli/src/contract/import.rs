//! `rehearse contract import OPENAPI --as vN`: a version folder from the bank's OpenAPI
//! document (the import itself is `rehearse_contract::import`).

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;
use rehearse_contract::ApiVersion;
use rehearse_contract::import::{ImportError, ImportRequest, NOTES_FILE, import};

use crate::exit;

/// The largest OpenAPI document or mapping file read.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// `rehearse contract import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bank's OpenAPI 3.0 or 3.1 document, YAML or JSON.
    pub openapi: PathBuf,
    /// The version to make, `v4`.
    #[arg(long = "as", value_name = "VERSION", value_parser = parse_version)]
    pub version: ApiVersion,
    /// The mapping file (YAML; docs/FORMAT.md, "Importing OpenAPI"). Default: NAME.mapping.yaml
    /// beside the document `NAME.yaml`, when there is one.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Where to write the folder. Default: `bank-api/VERSION`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write into a folder that is not empty (files of the same name are replaced, others
    /// kept).
    #[arg(long)]
    pub force: bool,
}

fn parse_version(text: &str) -> Result<ApiVersion, String> {
    text.parse()
}

pub(crate) fn run(args: &ImportArgs) -> u8 {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("bank-api").join(args.version.to_string()));
    let openapi = match read(&args.openapi) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: contract import: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let mapping_path = args.mapping.clone().or_else(|| beside(&args.openapi));
    let mapping = match &mapping_path {
        Some(path) => match read(path) {
            Ok(text) => Some((text, path.display().to_string())),
            Err(e) => {
                eprintln!("error: contract import: {e}");
                return exit::INVALID_INPUT;
            }
        },
        None => None,
    };
    if !args.force && !is_empty(&out) {
        eprintln!(
            "error: contract import: {} is not empty: give --force to write over its files, or another --out",
            out.display()
        );
        return exit::INVALID_INPUT;
    }
    let openapi_name = args.openapi.display().to_string();
    let request = ImportRequest {
        openapi: &openapi,
        openapi_name: &openapi_name,
        mapping: mapping.as_ref().map(|(t, n)| (t.as_str(), n.as_str())),
        version: args.version,
        out: &out,
    };
    let imported = match import(&request) {
        Ok(imported) => imported,
        Err(e) => {
            if let ImportError::Unmapped { notes, .. } = &e {
                for line in notes.lines() {
                    eprintln!("note: {line}");
                }
            }
            eprintln!("error: contract import: {e}");
            if matches!(e, ImportError::Unmapped { .. }) && mapping.is_none() {
                eprintln!(
                    "hint: give a mapping file with --mapping (docs/FORMAT.md, \"Importing OpenAPI\")"
                );
            }
            return exit::INVALID_INPUT;
        }
    };
    for line in imported.notes.lines() {
        eprintln!("note: {line}");
    }
    if let Err(e) = imported.folder.write_to(&out) {
        eprintln!("error: contract import: write {}: {e}", out.display());
        return exit::INTERNAL;
    }
    let files = imported.folder.files().count();
    println!(
        "imported bank API {} from {}: {} ({files} files; {} notes in {})",
        args.version,
        args.openapi.display(),
        out.display(),
        imported.notes.lines().len(),
        out.join(NOTES_FILE).display()
    );
    exit::PASSED
}

/// `NAME.mapping.yaml` beside `NAME.yaml` (or `NAME.json`), when it exists.
fn beside(openapi: &Path) -> Option<PathBuf> {
    let stem = openapi.file_stem()?.to_string_lossy().into_owned();
    let candidate = openapi.with_file_name(format!("{stem}.mapping.yaml"));
    candidate.is_file().then_some(candidate)
}

fn is_empty(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => true,
    }
}

/// A regular file's text, within [`MAX_INPUT_BYTES`].
fn read(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("read {shown}: not a file"));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "read {shown}: {} bytes, more than the {MAX_INPUT_BYTES} bytes read",
            meta.len()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| format!("read {shown} as UTF-8 text: {e}"))?;
    Ok(text)
}
