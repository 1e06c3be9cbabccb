//! Where the parsed trees of long scenario files are kept between runs (the scenario
//! crate's `TreeStore`; what an entry holds and how it is checked is there, in
//! `node/cache.rs`): the user's cache folder, never the suite.
//!
//! - **Where**: `$REHEARSE_CACHE_DIR`, else `$XDG_CACHE_HOME/rehearse`, else
//!   `~/.cache/rehearse`, in `trees-v1/`. `REHEARSE_CACHE_DIR=off` (or empty) turns it off.
//! - **The build stamp**: this executable's version, size and modification time, so any
//!   other build has keys of its own; when they cannot be read (the binary replaced while
//!   it runs) the cache is off rather than shared by every build of one version.
//! - **Writing** is best-effort (a read-only home only costs the parse) and atomic (a new
//!   temporary file, renamed), and the folder is cut back to [`KEEP`] entries, the most
//!   recently written, when it holds more than [`MAX_ENTRIES`] (or to 192 MiB when it
//!   holds more than [`MAX_FOLDER_BYTES`]). The folder is looked over at a process's first
//!   write and then after every [`PRUNE_EVERY`] writes or [`PRUNE_BYTES`] written, not at
//!   each: each look stats every entry, and looking at each write made a first `validate`
//!   of 300 long files 1.39 s against 0.80 s with the cache off.
//!
//! Nothing is read from the environment or the disk until a long file is loaded.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use rehearse_scenario::TreeStore;

/// Entries kept after the folder is cut back...
const KEEP: usize = 3072;
/// ...when it holds more than this (a suite with more long files than the folder keeps
/// rewrites entries at every run: 512 made a suite of 600 such files slower cached than
/// not)...
const MAX_ENTRIES: usize = 4096;
/// ...or more bytes than this (then cut to three quarters of it).
const MAX_FOLDER_BYTES: u64 = 256 * 1024 * 1024;
/// A temporary entry older than this was left by a process that died writing it.
const STALE_TMP: Duration = Duration::from_secs(600);
/// Writes of a process between two looks over the folder...
const PRUNE_EVERY: usize = 64;
/// ...or bytes written between them.
const PRUNE_BYTES: u64 = MAX_FOLDER_BYTES / 8;

/// Installs the folder store for this process.
pub(crate) fn install() {
    rehearse_scenario::set_tree_store(Box::new(FolderStore::default()));
}

/// The entries in a folder, found (and the build stamped) on first use.
#[derive(Default)]
struct FolderStore {
    folder: OnceLock<Option<PathBuf>>,
    stamp: OnceLock<Option<Vec<u8>>>,
}

impl FolderStore {
    fn folder(&self) -> Option<&Path> {
        self.folder.get_or_init(default_folder).as_deref()
    }
}

impl TreeStore for FolderStore {
    fn build(&self) -> Option<&[u8]> {
        self.folder()?;
        self.stamp.get_or_init(build_stamp).as_deref()
    }

    fn get(&self, name: &str, cap: u64) -> Option<Vec<u8>> {
        let path = self.folder()?.join(format!("{name}.tree"));
        rehearse_scenario::read_capped(&path, cap).ok()
    }

    fn put(&self, name: &str, bytes: &[u8]) {
        if let Some(dir) = self.folder() {
            let _ = write_entry(dir, name, bytes);
        }
    }
}

fn default_folder() -> Option<PathBuf> {
    let base = match std::env::var_os("REHEARSE_CACHE_DIR") {
        Some(v) if v.is_empty() || v == "off" => return None,
        Some(v) => PathBuf::from(v),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(x) if !x.is_empty() => PathBuf::from(x).join("rehearse"),
            _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?)
                .join(".cache")
                .join("rehearse"),
        },
    };
    Some(base.join("trees-v1"))
}

fn build_stamp() -> Option<Vec<u8>> {
    let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    let mut stamp = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
    stamp.extend_from_slice(&meta.len().to_le_bytes());
    stamp.extend_from_slice(&modified.as_nanos().to_le_bytes());
    Some(stamp)
}

/// Writes an entry atomically, then cuts the folder back when it holds too much.
fn write_entry(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    static WRITES: AtomicUsize = AtomicUsize::new(0);
    static SINCE_PRUNE: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    // A new file, never one already there (nor what a planted link points to).
    let written = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes));
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, dir.join(format!("{name}.tree")))) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let since = SINCE_PRUNE.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
    if n.is_multiple_of(PRUNE_EVERY) || since > PRUNE_BYTES {
        SINCE_PRUNE.store(0, Ordering::Relaxed);
        prune_to(dir, MAX_ENTRIES, KEEP, MAX_FOLDER_BYTES);
    }
    Ok(())
}

/// Removes the least recently written entries once there are more than `max_entries`
/// (down to `keep`) or they hold more than `max_bytes` (down to three quarters of it),
/// and temporary entries a dead process left.
fn prune_to(dir: &Path, max_entries: usize, keep: usize, max_bytes: u64) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
    for e in read.filter_map(Result::ok) {
        let (path, Ok(meta)) = (e.path(), e.metadata()) else {
            continue;
        };
        let Ok(modified) = meta.modified() else {
            continue;
        };
        match path.extension().and_then(|x| x.to_str()) {
            Some("tree") => entries.push((modified, meta.len(), path)),
            // Left by a process killed between writing and renaming.
            Some("tmp") if now.duration_since(modified).is_ok_and(|d| d > STALE_TMP) => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
    let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
    if entries.len() <= max_entries && total <= max_bytes {
        return;
    }
    entries.sort();
    let mut left = entries.len();
    for (_, len, p) in &entries {
        if left <= keep && total <= max_bytes / 4 * 3 {
            break;
        }
        if std::fs::remove_file(p).is_ok() {
            total = total.saturating_sub(*len);
        }
        left -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_in(dir: &Path) -> FolderStore {
        let store = FolderStore::default();
        let _ = store.folder.set(Some(dir.to_owned()));
        store
    }

    #[test]
    fn an_entry_is_written_whole_and_read_back_within_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        assert!(store.build().is_some(), "the test binary has a stamp");
        store.put("abc", b"entry bytes");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["abc.tree"], "one entry, no temporary file left");
        assert_eq!(store.get("abc", 100).as_deref(), Some(&b"entry bytes"[..]));
        assert_eq!(store.get("abc", 4), None, "over the cap");
        assert_eq!(store.get("other", 100), None);
        // Off: nothing is stamped, so nothing is looked up.
        let off = FolderStore::default();
        let _ = off.folder.set(None);
        assert!(off.build().is_none());
    }

    #[test]
    fn the_folder_is_cut_back_oldest_first_by_count_and_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        for i in 0..6u64 {
            let p = dir.path().join(format!("{i}.tree"));
            std::fs::write(&p, vec![0u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(old + Duration::from_secs(i)).unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), "not an entry").unwrap();
        let names = || {
            let mut n: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        // Within both bounds: nothing removed.
        prune_to(dir.path(), 6, 4, 600);
        assert_eq!(names().len(), 7);
        // Too many: cut to 4, the oldest first; other files are left alone.
        prune_to(dir.path(), 5, 4, 10_000);
        assert_eq!(
            names(),
            ["2.tree", "3.tree", "4.tree", "5.tree", "other.txt"]
        );
        // Too many bytes (400 > 300): cut to three quarters of them (225), so 2 are left.
        prune_to(dir.path(), 100, 100, 300);
        assert_eq!(names(), ["4.tree", "5.tree", "other.txt"]);
    }

    #[test]
    fn a_temporary_entry_left_by_a_dead_process_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - STALE_TMP * 2;
        for (name, when) in [(".a.1.0.tmp", old), (".b.2.0.tmp", SystemTime::now())] {
            let p = dir.path().join(name);
            std::fs::write(&p, "half an entry").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(when)
                .unwrap();
        }
        prune_to(dir.path(), 10, 10, 1 << 20);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            [".b.2.0.tmp"],
            "a fresh one may still be being written"
        );
    }
}
