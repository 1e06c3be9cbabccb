//! Finding scenario files under folders.

use std::collections::HashSet;
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

/// Folders inside folders, at most this deep.
const MAX_FOLDER_DEPTH: usize = 32;

pub(super) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    walk_within(dir, out, &mut HashSet::new(), 0);
}

/// Walks `dir`, each real folder once (a symbolic link back up, `loop -> ..`, would
/// otherwise walk forever) and at most [`MAX_FOLDER_DEPTH`] deep.
fn walk_within(dir: &Path, out: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>, depth: usize) {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    if depth > MAX_FOLDER_DEPTH || !seen.insert(real) {
        return;
    }
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
            walk_within(&path, out, seen, depth + 1);
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    /// Regression: a folder linking back to its parent was walked until the paths grew
    /// too long (and two such links doubled the walk at every level).
    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_loop_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("scenarios");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::write(s.join("a.yaml"), "name: a\n").unwrap();
        std::os::unix::fs::symlink("..", s.join("up")).unwrap();
        std::os::unix::fs::symlink(".", s.join("here")).unwrap();
        let files = super::discover(std::slice::from_ref(&s)).unwrap();
        assert_eq!(files, [s.join("a.yaml")]);
    }
}
