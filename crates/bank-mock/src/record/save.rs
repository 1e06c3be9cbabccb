//! Where the recording goes: the `--out` folder (checked before anything is forwarded),
//! its version, the `--from` version, and writing the built folder in one step (a sibling
//! temporary folder renamed over `--out`), so a reader never sees half a folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rehearse_contract::{ApiVersion, BuildOptions, Catalog, RecordError, Recording, VersionFolder};

use crate::record::args::RecordArgs;
use crate::record::proxy::{RecordFailure, RecordFailureKind};

/// The folder a recording is written to, and what it starts from.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) out: PathBuf,
    pub(crate) version: ApiVersion,
    pub(crate) from: Option<VersionFolder>,
    statuses: BTreeMap<String, String>,
}

fn invalid(message: String) -> RecordFailure {
    RecordFailure::new(RecordFailureKind::Invalid, message)
}

impl Target {
    /// Checks the flags: `--out` is named like a version and is new or empty (or
    /// `--force`), `--from` exists.
    pub(crate) fn prepare(args: &RecordArgs) -> Result<Self, RecordFailure> {
        let out = args.out.clone();
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let version = name
            .parse::<ApiVersion>()
            .ok()
            .filter(|_| name.starts_with(['v', 'V']))
            .ok_or_else(|| {
                invalid(format!(
                    "--out {}: the folder is named like the version it holds, e.g. bank-api/v4",
                    out.display()
                ))
            })?;
        match fs::symlink_metadata(&out) {
            Ok(meta) if !meta.is_dir() => {
                return Err(invalid(format!(
                    "--out {} exists and is not a folder",
                    out.display()
                )));
            }
            Ok(_) => {
                let empty = fs::read_dir(&out)
                    .map(|mut entries| entries.next().is_none())
                    .unwrap_or(false);
                if !empty && !args.force {
                    return Err(invalid(format!(
                        "--out {} is not empty: give a new or empty folder, or --force to replace it",
                        out.display()
                    )));
                }
            }
            Err(_) => {}
        }
        let from = match args.from {
            None => None,
            Some(v) => {
                let mut catalog = Catalog::builtin();
                for dir in &args.versions {
                    catalog = catalog
                        .with_dir(dir)
                        .map_err(|e| invalid(format!("bank API versions: {e}")))?;
                }
                let folder = catalog
                    .require(v)
                    .map_err(|e| invalid(format!("--from: {e}")))?;
                Some(VersionFolder::clone(folder))
            }
        };
        Ok(Self {
            out,
            version,
            from,
            statuses: args.statuses.iter().cloned().collect(),
        })
    }

    /// Builds the folder from `recording` and writes it; the lines to print.
    pub(crate) fn save(
        &self,
        recording: &Recording,
        source: &str,
    ) -> Result<Vec<String>, RecordFailure> {
        let options = BuildOptions {
            version: self.version,
            shown: &self.out,
            from: self.from.as_ref(),
            statuses: self.statuses.clone(),
            source: source.to_owned(),
        };
        let built = recording.build(&options).map_err(|e| {
            let kind = match e {
                RecordError::Nothing(_) => RecordFailureKind::NotReady,
                RecordError::Incomplete(_) => RecordFailureKind::Invalid,
                RecordError::Folder(_) | RecordError::Leak(_) => RecordFailureKind::Internal,
            };
            RecordFailure::new(
                kind,
                format!("nothing written to {}: {e}", self.out.display()),
            )
        })?;
        write_replacing(&built.folder, &self.out).map_err(|e| {
            RecordFailure::new(
                RecordFailureKind::Internal,
                format!("write {}: {e}", self.out.display()),
            )
        })?;
        let mut lines = vec![format!(
            "wrote {} (version {}) from {} exchange(s) on {} route(s): serve it with `rehearse mock-bank --versions {}`",
            self.out.display(),
            self.version,
            recording.exchanges(),
            built.folder.manifest.routes.len(),
            self.out
                .parent()
                .map_or_else(|| ".".to_owned(), |p| p.display().to_string())
        )];
        match &self.from {
            Some(f) => lines.push(format!("changes from {}:", f.version)),
            None => lines.push("routes:".to_owned()),
        }
        lines.extend(built.changes.iter().map(|c| format!("  - {c}")));
        if !built.to_check.is_empty() {
            lines.push("check by hand:".to_owned());
            lines.extend(built.to_check.iter().map(|c| format!("  - {c}")));
        }
        Ok(lines)
    }
}

fn write_replacing(folder: &VersionFolder, out: &Path) -> std::io::Result<()> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let temp = parent.join(format!(".{name}.recording-{}", std::process::id()));
    if temp.exists() {
        fs::remove_dir_all(&temp)?;
    }
    folder.write_to(&temp)?;
    if out.exists() {
        fs::remove_dir_all(out)?;
    }
    fs::rename(&temp, out)
}
