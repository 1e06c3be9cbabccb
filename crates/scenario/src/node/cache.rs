//! Parsed trees kept between processes, keyed by the file's bytes: a long flow that did
//! not change since the last run or `validate` is not parsed again.
//!
//! Why: reading the YAML text is three quarters of loading a file (granit-parser's events
//! alone about 2,600 instructions each), and loading a 1,000-step flow took a quarter of a
//! 1,000-request run on loopback (#10, docs/BENCHMARKS.md). Decoding a kept tree costs a
//! small part of that; decoding into the model, compiling and every check still run as
//! before, so a kept tree changes no result and no message.
//!
//! - **Which files**: those of at least [`MIN_BYTES`] (a short file parses faster than its
//!   entry can be read) and at most [`MAX_BYTES`], whose parse found no problem (a file with a duplicate key is
//!   parsed every time, so its problem is always reported).
//! - **The key**: SHA-256 of the format's version, this executable's size and modification
//!   time (so any other build of rehearse, which may read YAML differently, has keys of its
//!   own) and the file's bytes. An entry also holds the whole key, the file's length and the
//!   SHA-256 of its own contents: an entry that is not exactly one this build wrote for
//!   these bytes is ignored, and the file parsed.
//! - **Where**: `$REHEARSE_CACHE_DIR`, else `$XDG_CACHE_HOME/rehearse`, else
//!   `~/.cache/rehearse`, in `trees-v1/`. `REHEARSE_CACHE_DIR=off` (or empty) turns it off.
//!   Nothing is written into the suite. Writing is best-effort (a read-only home only costs
//!   the parse) and atomic (a temporary file renamed), and the folder is cut back to
//!   [`KEEP`] entries, the most recently written, when it holds more than [`MAX_ENTRIES`]
//!   (or to 192 MiB when it holds more than [`MAX_FOLDER_BYTES`]).
//! - **Safety**: an entry is input like any other file. Every length, offset and count in
//!   it is checked against the file and the bounds of the parser itself ([`MAX_DEPTH`],
//!   [`MAX_NODES`]); what fails a check is a miss, never a panic.

use std::borrow::Cow;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use super::parse::{MAX_DEPTH, MAX_NODES, Parsed, SyntaxError, parse};
use super::tree::{Kind, Node};
use crate::span::{SourceFile, Span};

/// Files shorter than this are always parsed (about a 100-step flow is 16 KiB).
pub(crate) const MIN_BYTES: usize = 16 * 1024;

/// Files longer than this are always parsed: a scenario is not this long (25,000 steps),
/// and its entry would be tens of megabytes.
pub(crate) const MAX_BYTES: usize = 4 * 1024 * 1024;

/// Entries kept after the folder is cut back...
const KEEP: usize = 384;
/// ...when it holds more than this...
const MAX_ENTRIES: usize = 512;
/// ...or more bytes than this (then cut to three quarters of it).
const MAX_FOLDER_BYTES: u64 = 256 * 1024 * 1024;
/// A temporary entry older than this was left by a process that died writing it.
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(600);

/// The first bytes of an entry; the last byte is the format's version.
const MAGIC: &[u8; 8] = b"RHTREE\0\x01";
/// Magic, key, file length, checksum of the contents.
const HEADER: usize = 8 + 32 + 8 + 32;

/// The folder of the format's entries, or `None` when the cache is off or no folder is
/// known.
fn folder() -> Option<&'static Path> {
    static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOLDER
        .get_or_init(|| {
            build_stamp()?;
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
        })
        .as_deref()
}

/// This executable's version, size and modification time: another build reads with its
/// own keys. `None` when they cannot be known (the binary replaced while it runs): then
/// the cache is off, rather than shared by every build of one version.
fn build_stamp() -> Option<&'static [u8]> {
    static STAMP: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    STAMP
        .get_or_init(|| {
            let meta = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            let mut stamp = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
            stamp.extend_from_slice(&meta.len().to_le_bytes());
            stamp.extend_from_slice(&modified.as_nanos().to_le_bytes());
            Some(stamp)
        })
        .as_deref()
}

fn key_of(text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MAGIC);
    let stamp = build_stamp().unwrap_or_default();
    h.update((stamp.len() as u64).to_le_bytes());
    h.update(stamp);
    h.update(text.as_bytes());
    h.finalize().into()
}

/// Parses `source` as [`parse`] does, through the cache when the file is long enough and
/// the cache is on.
pub(crate) fn parse_cached(source: &Arc<SourceFile>) -> Result<Parsed<'_>, SyntaxError> {
    match folder() {
        Some(dir) if (MIN_BYTES..=MAX_BYTES).contains(&source.text().len()) => {
            parse_in(dir, source)
        }
        _ => parse(source),
    }
}

/// [`parse_cached`] with the cache in `dir`.
pub(crate) fn parse_in<'a>(
    dir: &Path,
    source: &'a Arc<SourceFile>,
) -> Result<Parsed<'a>, SyntaxError> {
    let key = key_of(source.text());
    let path = dir.join(format!("{}.tree", hex::encode(&key[..16])));
    let cap = (source.text().len() as u64).saturating_mul(16) + 4096;
    if let Ok(bytes) = crate::files::read_capped(&path, cap)
        && let Some(root) = decode(&bytes, source, &key)
    {
        return Ok(Parsed {
            root,
            problems: Vec::new(),
        });
    }
    let parsed = parse(source)?;
    // Best-effort: a folder that cannot be written only costs the next run this parse.
    // An entry past the read cap (aliases can repeat a node many times) would never be
    // read: not written.
    if parsed.problems.is_empty()
        && let Some(bytes) = encode(&parsed.root, source, &key)
        && bytes.len() as u64 <= cap
    {
        let _ = store(dir, &path, &bytes);
    }
    Ok(parsed)
}

/// Writes an entry atomically, then cuts the folder back when it holds too many.
fn store(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_stem().and_then(|s| s.to_str()).unwrap_or("entry"),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    // A new file, never one already there (nor what a planted link points to).
    let written = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes));
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    prune(dir);
    Ok(())
}

/// Removes the least recently written entries once there are more than [`MAX_ENTRIES`]
/// or they hold more than [`MAX_FOLDER_BYTES`].
fn prune(dir: &Path) {
    prune_to(dir, MAX_ENTRIES, KEEP, MAX_FOLDER_BYTES);
}

fn prune_to(dir: &Path, max_entries: usize, keep: usize, max_bytes: u64) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
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

// Tags of the nodes in an entry.
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const NUMBER: u8 = 3;
const PLAIN: u8 = 4;
const QUOTED: u8 = 5;
const SEQ: u8 = 6;
const MAP: u8 = 7;

/// An entry for `root`: header, then the nodes in document order. `None` when the tree
/// holds a node that no parse makes (a placeholder of decoding).
pub(crate) fn encode(root: &Node<'_>, source: &SourceFile, key: &[u8; 32]) -> Option<Vec<u8>> {
    let text = source.text();
    let mut body = Vec::with_capacity(text.len());
    node_out(root, text, 0, &mut body)?;
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(key);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    Some(out)
}

/// `None` past [`MAX_DEPTH`]: an alias can nest a tree deeper than the parser lets a file
/// open, and [`decode`] refuses such an entry, so it is not written.
fn node_out(node: &Node<'_>, text: &str, depth: usize, out: &mut Vec<u8>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    let tag = match &node.kind {
        Kind::Null => NULL,
        Kind::Bool(false) => FALSE,
        Kind::Bool(true) => TRUE,
        Kind::Number(_) => NUMBER,
        Kind::Str { plain: true, .. } => PLAIN,
        Kind::Str { plain: false, .. } => QUOTED,
        Kind::Seq(_) => SEQ,
        Kind::Map(_) => MAP,
        Kind::Neutral(_) => return None,
    };
    out.push(tag);
    varint(node.span.offset as u64, out);
    varint(u64::from(node.id), out);
    match &node.kind {
        Kind::Number(s) | Kind::Str { text: s, .. } => text_out(s, text, out),
        Kind::Seq(items) => {
            varint(items.len() as u64, out);
            for item in items {
                node_out(item, text, depth + 1, out)?;
            }
        }
        Kind::Map(entries) => {
            varint(entries.len() as u64, out);
            for (k, v) in entries {
                node_out(k, text, depth + 1, out)?;
                node_out(v, text, depth + 1, out)?;
            }
        }
        _ => {}
    }
    Some(())
}

/// A scalar's text: where it lies in the file when it is a slice of it (an owned text
/// never is: its own allocation), else its bytes.
fn text_out(s: &str, text: &str, out: &mut Vec<u8>) {
    let base = text.as_ptr() as usize;
    let at = s.as_ptr() as usize;
    if at >= base && at - base + s.len() <= text.len() {
        varint((s.len() as u64) << 1, out);
        varint((at - base) as u64, out);
    } else {
        varint(((s.len() as u64) << 1) | 1, out);
        out.extend_from_slice(s.as_bytes());
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The tree of an entry, when it is exactly one written for `key` and `source`.
pub(crate) fn decode<'a>(
    bytes: &[u8],
    source: &'a Arc<SourceFile>,
    key: &[u8; 32],
) -> Option<Node<'a>> {
    let text = source.text();
    if bytes.len() < HEADER
        || &bytes[..8] != MAGIC
        || &bytes[8..40] != key
        || bytes[40..48] != (text.len() as u64).to_le_bytes()
    {
        return None;
    }
    let body = &bytes[HEADER..];
    if Sha256::digest(body).as_slice() != &bytes[48..80] {
        return None;
    }
    let mut r = Reader {
        body,
        at: 0,
        source,
        nodes: 0,
        declared: 0,
    };
    let root = r.node(0)?;
    (r.at == body.len()).then_some(root)
}

struct Reader<'b, 'a> {
    body: &'b [u8],
    at: usize,
    source: &'a Arc<SourceFile>,
    nodes: usize,
    /// Children announced by the counts read so far.
    declared: usize,
}

impl<'a> Reader<'_, 'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.body.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    /// A count of children. Every node but the root is announced by exactly one count and
    /// takes at least three bytes, so the counts read so far, together, may announce no
    /// more nodes than [`MAX_NODES`] and than the entry can hold: refused before anything
    /// is allocated for them.
    fn count(&mut self, per: usize) -> Option<usize> {
        let n = self.usize()?;
        self.declared = self.declared.checked_add(n.checked_mul(per)?)?;
        (self.declared <= MAX_NODES && self.declared.checked_mul(3)? <= self.body.len())
            .then_some(n)
    }

    fn text(&mut self) -> Option<Cow<'a, str>> {
        let head = self.varint()?;
        let len = usize::try_from(head >> 1).ok()?;
        if head & 1 == 0 {
            let start = self.usize()?;
            let end = start.checked_add(len)?;
            Some(Cow::Borrowed(self.source.text().get(start..end)?))
        } else {
            let end = self.at.checked_add(len)?;
            let bytes = self.body.get(self.at..end)?;
            self.at = end;
            Some(Cow::Owned(std::str::from_utf8(bytes).ok()?.to_owned()))
        }
    }

    fn node(&mut self, depth: usize) -> Option<Node<'a>> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return None;
        }
        let tag = self.byte()?;
        let offset = self.usize()?;
        if !self.source.text().is_char_boundary(offset) {
            return None;
        }
        let id = u32::try_from(self.varint()?).ok()?;
        let kind = match tag {
            NULL => Kind::Null,
            FALSE => Kind::Bool(false),
            TRUE => Kind::Bool(true),
            NUMBER => Kind::Number(self.text()?),
            PLAIN | QUOTED => Kind::Str {
                text: self.text()?,
                plain: tag == PLAIN,
            },
            SEQ => {
                let n = self.count(1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.node(depth + 1)?);
                }
                Kind::Seq(items)
            }
            MAP => {
                let n = self.count(2)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.node(depth + 1)?;
                    let v = self.node(depth + 1)?;
                    entries.push((k, v));
                }
                Kind::Map(entries)
            }
            _ => return None,
        };
        Some(Node {
            kind,
            span: Span::at_offset(self.source, offset),
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same tree: kinds, texts, positions and ids, all the way down.
    fn same(a: &Node<'_>, b: &Node<'_>) -> bool {
        a.id == b.id
            && a.span.offset == b.span.offset
            && match (&a.kind, &b.kind) {
                (Kind::Null, Kind::Null) => true,
                (Kind::Bool(x), Kind::Bool(y)) => x == y,
                (Kind::Number(x), Kind::Number(y)) => x == y,
                (Kind::Str { text: x, plain: p }, Kind::Str { text: y, plain: q }) => {
                    x == y && p == q
                }
                (Kind::Seq(x), Kind::Seq(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
                }
                (Kind::Map(x), Kind::Map(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((k, v), (l, w))| same(k, l) && same(v, w))
                }
                _ => false,
            }
    }

    const TEXT: &str = "name: \"a \\u00e4 flow\"\n\
        tags: [no, on, 012, -1.5e3, ~, true]\n\
        base: &b { method: GET, url: 'http://x/{{ id }}' }\n\
        steps:\n\
        \x20 - name: first\n\
        \x20   request: *b\n\
        \x20   body: |\n\
        \x20     folded\n\
        \x20     text\n\
        \x20   expect: { status: 200, json: { \"$.a\": null, \"$.b\": false } }\n";

    /// The key and the entry of a file that parses.
    fn entry_of(source: &Arc<SourceFile>) -> ([u8; 32], Vec<u8>) {
        let key = key_of(source.text());
        let bytes = encode(&parse(source).unwrap().root, source, &key).unwrap();
        (key, bytes)
    }

    #[test]
    fn an_entry_gives_back_the_tree_the_parser_made() {
        let source = SourceFile::new("a.yaml", TEXT);
        let (key, bytes) = entry_of(&source);
        let back = decode(&bytes, &source, &key).unwrap();
        assert!(same(&parse(&source).unwrap().root, &back), "{back:#?}");
        // Unescaped scalars are slices of the file, not copies.
        let Kind::Map(entries) = &back.kind else {
            panic!("not a mapping")
        };
        assert!(matches!(
            &entries[0].0.kind,
            Kind::Str {
                text: Cow::Borrowed("name"),
                ..
            }
        ));
        assert!(
            matches!(&entries[0].1.kind, Kind::Str { text: Cow::Owned(t), plain: false } if t == "a ä flow")
        );
    }

    #[test]
    fn an_entry_for_other_bytes_or_damaged_is_not_used_and_never_panics() {
        let source = SourceFile::new("a.yaml", TEXT);
        let (key, bytes) = entry_of(&source);
        // Another file of the same length: another key.
        let other = SourceFile::new("a.yaml", TEXT.replace("first", "frist"));
        assert!(decode(&bytes, &other, &key_of(other.text())).is_none());
        // Every cut and every flipped byte is refused (the checksum), never a panic.
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], &source, &key).is_none());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            assert!(decode(&b, &source, &key).is_none(), "byte {i}");
        }
    }

    /// A body that passes the checksum but lies (a crafted entry): offsets past the file,
    /// a slice through a character, huge counts, deep nesting. Each is a miss.
    #[test]
    fn a_crafted_entry_that_passes_the_checksum_is_checked_node_by_node() {
        let source = SourceFile::new("a.yaml", "k: ä\n");
        let key = key_of(source.text());
        let entry = |body: &[u8]| {
            let mut out = MAGIC.to_vec();
            out.extend_from_slice(&key);
            out.extend_from_slice(&(source.text().len() as u64).to_le_bytes());
            out.extend_from_slice(&Sha256::digest(body));
            out.extend_from_slice(body);
            out
        };
        let bad: Vec<Vec<u8>> = vec![
            vec![PLAIN, 99, 0, 2, 0],                      // offset past the file
            vec![PLAIN, 0, 0, 2 << 1, 5],                  // text past the file
            vec![PLAIN, 0, 0, 1 << 1, 4],                  // inside `ä`
            vec![PLAIN, 0, 0, (2 << 1) | 1, 0xff, 0xfe],   // not UTF-8
            vec![SEQ, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f], // a count no entry holds
            vec![9, 0, 0],                                 // no such tag
            vec![NULL, 0, 0, 0],                           // bytes after the tree
            vec![NULL, 0, 0xff, 0xff, 0xff, 0xff, 0x7f],   // an id beyond u32
        ];
        for body in &bad {
            assert!(decode(&entry(body), &source, &key).is_none(), "{body:?}");
        }
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH + 1 {
            deep.extend_from_slice(&[SEQ, 0, 0, 1]);
        }
        deep.extend_from_slice(&[NULL, 0, 0]);
        assert!(decode(&entry(&deep), &source, &key).is_none());
        assert!(decode(&entry(&[PLAIN, 3, 7, 2 << 1, 3]), &source, &key).is_some());
    }

    fn long_text() -> String {
        let mut t = "name: long\nsteps:\n".to_owned();
        while t.len() < MIN_BYTES {
            t.push_str("  - name: \"step \\t\"\n    request: { method: GET, url: http://h/x }\n");
        }
        t
    }

    #[test]
    fn a_long_file_is_parsed_once_then_read_from_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let source = SourceFile::new("long.yaml", long_text());
        let first = parse_in(dir.path(), &source).unwrap();
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "one entry, no temporary file left");
        let path = entries[0].as_ref().unwrap().path();
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        // The entry is one this build reads, and the second parse did not write it again.
        let key = key_of(source.text());
        assert!(decode(&std::fs::read(&path).unwrap(), &source, &key).is_some());
        let second = parse_in(dir.path(), &source).unwrap();
        assert!(same(&first.root, &second.root));
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            written
        );
        // Damaged on disk: parsed again, the same tree, and the entry written anew.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let third = parse_in(dir.path(), &source).unwrap();
        assert!(same(&first.root, &third.root));
        assert_ne!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn the_folder_is_cut_back_oldest_first_by_count_and_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for i in 0..6u64 {
            let p = dir.path().join(format!("{i}.tree"));
            std::fs::write(&p, vec![0u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(old + std::time::Duration::from_secs(i))
                .unwrap();
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

    /// The deepest tree the parser makes is kept; one nested deeper through an alias is
    /// not written, since no entry that deep is read.
    #[test]
    fn the_deepest_tree_the_parser_allows_is_kept_and_no_deeper() {
        let deepest = format!("{}0{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let source = SourceFile::new("deep.yaml", deepest);
        let (key, bytes) = entry_of(&source);
        assert!(same(
            &parse(&source).unwrap().root,
            &decode(&bytes, &source, &key).unwrap()
        ));
        let half = MAX_DEPTH / 2 + 1;
        let aliased = format!(
            "a: &x {}0{}\nb: {}*x{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        let source = SourceFile::new("alias.yaml", aliased);
        let parsed = parse(&source).expect("each part is within the parser's depth");
        assert!(encode(&parsed.root, &source, &key_of(source.text())).is_none());
    }

    #[test]
    fn a_temporary_entry_left_by_a_dead_process_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - STALE_TMP * 2;
        for (name, when) in [
            (".a.1.0.tmp", old),
            (".b.2.0.tmp", std::time::SystemTime::now()),
        ] {
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

    #[test]
    fn a_file_with_a_problem_is_parsed_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}name: twice\n", long_text());
        let source = SourceFile::new("dup.yaml", text);
        for _ in 0..2 {
            let parsed = parse_in(dir.path(), &source).unwrap();
            assert_eq!(parsed.problems.len(), 1, "the duplicate `name` each time");
        }
        assert_eq!(std::fs::read_dir(dir.path()).map_or(0, Iterator::count), 0);
    }
}
