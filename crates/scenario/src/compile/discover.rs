//! Finding scenario files under folders.

use std::path::{Path, PathBuf};

use crate::error::{Problem, Problems};

/// Lists the scenario files under the given paths (files are taken as they are; folders are
/// walked for `.yaml`/`.yml`, skipping names that start with `_` or `.`, which hold
/// fragments). Sorted by path.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Problems> {
    let mut out = Vec::new();
    let mut problems = Problems::default();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            problems.push(
                Problem::new(
                    format!("no scenario file or folder at {}", p.display()),
                    None,
                )
                .with_help("give a .yaml file or a folder of them (default: scenarios/)"),
            );
        }
    }
    out.sort();
    out.dedup();
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

pub(super) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}
