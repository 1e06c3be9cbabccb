//! Reading the files a suite names — scenario files, fragments, fixtures, schemas, TLS
//! material: regular files only (never a device, a pipe or a folder), within a size cap,
//! and, for fixtures and fragments, inside the folder they belong to.
//!
//! The runner reads fixture files again when it sends them, through [`fixture_len`], so
//! the rule holds at run time too.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

/// The most bytes read from one file: a scenario, fragment, environment, fixture, schema or
/// TLS file. The largest shipped scenario is a few kilobytes; a larger body belongs in a
/// file sent as bytes (`body: { file }`), which is streamed and has no cap.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The longest path accepted as written in a scenario (a path is user input).
pub(crate) const MAX_PATH_BYTES: usize = 1024;

/// Why a file named by a suite cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Nothing at that path.
    #[error("no such file")]
    NotFound,
    /// A folder, a device (`/dev/zero`), a pipe or a socket.
    #[error("not a regular file")]
    NotAFile,
    /// Larger than the cap.
    #[error("more than {cap} bytes, the most rehearse reads from one file")]
    TooLarge {
        /// The cap, in bytes.
        cap: u64,
    },
    /// The path is absolute, or leads out of its folder (`..`, a symbolic link).
    #[error("`{path}` is outside {}", folder.display())]
    Outside {
        /// The path as written.
        path: String,
        /// The folder it must stay in.
        folder: PathBuf,
    },
    /// Any other failure to read.
    #[error("{0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            Self::NotFound
        } else {
            Self::Io(e)
        }
    }
}

/// Reads a regular file of at most `cap` bytes. A file that says it is empty but is not
/// (`/proc/self/environ`) or that grows while read is cut at `cap + 1` bytes and refused.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    // Checked before opening: opening a pipe waits for a writer.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(FileError::NotAFile);
    }
    if meta.len() > cap {
        return Err(FileError::TooLarge { cap });
    }
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(FileError::NotAFile);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(FileError::TooLarge { cap });
    }
    Ok(bytes)
}

/// True when `rel` is a plain relative path: no root, no drive, no `..`, not empty, not
/// too long.
pub(crate) fn is_plain_relative(rel: &str) -> bool {
    !rel.is_empty()
        && rel.len() <= MAX_PATH_BYTES
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// The real path of `path` (symbolic links resolved), when it is inside one of `folders`
/// (real paths too).
pub(crate) fn inside(
    path: &Path,
    written: &str,
    folders: &[PathBuf],
) -> Result<PathBuf, FileError> {
    let real = std::fs::canonicalize(path)?;
    if folders.iter().any(|f| real.starts_with(f)) {
        Ok(real)
    } else {
        Err(FileError::Outside {
            path: written.to_owned(),
            folder: folders.first().cloned().unwrap_or_default(),
        })
    }
}

/// A fixture's path: `rel` (as written, relative to the fixtures folder `dir`) must be a
/// plain relative path, and what it names a regular file inside `dir` once symbolic links
/// are resolved. Returns its real path.
pub fn fixture_path(dir: &Path, rel: &str) -> Result<PathBuf, FileError> {
    let folder = || std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    if !is_plain_relative(rel) {
        return Err(FileError::Outside {
            path: rel.to_owned(),
            folder: folder(),
        });
    }
    let real_dir = std::fs::canonicalize(dir).map_err(|_| FileError::NotFound)?;
    let real =
        inside(&dir.join(rel), rel, std::slice::from_ref(&real_dir)).map_err(|e| match e {
            FileError::Outside { path, .. } => FileError::Outside {
                path,
                folder: folder(),
            },
            other => other,
        })?;
    if !std::fs::metadata(&real)?.is_file() {
        return Err(FileError::NotAFile);
    }
    Ok(real)
}

/// The size of a fixture file sent as bytes, checked again by [`fixture_path`] when the
/// request is sent (the file may have changed since validation).
pub fn fixture_len(file: &crate::plan::FixtureFile) -> Result<u64, FileError> {
    let real = fixture_path(&file.dir, &file.rel)?;
    Ok(std::fs::metadata(real)?.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_not_read() {
        let err = read_capped(Path::new("/dev/zero"), 10).expect_err("a device");
        assert!(matches!(err, FileError::NotAFile), "{err}");
    }

    #[test]
    fn a_file_that_claims_to_be_empty_is_still_capped() {
        // /proc files report a length of 0 but have content.
        if let Ok(meta) = std::fs::metadata("/proc/self/status") {
            assert_eq!(meta.len(), 0);
            let err = read_capped(Path::new("/proc/self/status"), 8).expect_err("capped");
            assert!(matches!(err, FileError::TooLarge { cap: 8 }), "{err}");
        }
    }

    #[test]
    fn a_file_larger_than_the_cap_is_refused_and_one_at_the_cap_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped(&p, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&p, 4),
            Err(FileError::TooLarge { cap: 4 })
        ));
    }

    #[test]
    fn fixtures_stay_in_their_folder() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = dir.path().join("fixtures");
        std::fs::create_dir_all(fixtures.join("sub")).unwrap();
        std::fs::write(fixtures.join("sub/a.json"), "1").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s").unwrap();
        assert!(fixture_path(&fixtures, "sub/a.json").is_ok());
        assert!(fixture_path(&fixtures, "./sub/a.json").is_ok());
        for rel in [
            "../secret.txt",
            "/etc/passwd",
            "sub/../../secret.txt",
            "",
            "/dev/zero",
        ] {
            let err = fixture_path(&fixtures, rel).expect_err(rel);
            assert!(matches!(err, FileError::Outside { .. }), "{rel}: {err}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret.txt"), fixtures.join("link"))
                .unwrap();
            let err = fixture_path(&fixtures, "link").expect_err("a link out");
            assert!(matches!(err, FileError::Outside { .. }), "{err}");
        }
        let err = fixture_path(&fixtures, "sub").expect_err("a folder");
        assert!(matches!(err, FileError::NotAFile), "{err}");
        let err = fixture_path(&fixtures, "missing.json").expect_err("missing");
        assert!(matches!(err, FileError::NotFound), "{err}");
    }
}
