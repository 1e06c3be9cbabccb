//! Parsed trees kept between processes, keyed by the file's text: a long flow that did not
//! change since the last run or `validate` is not parsed again.
//!
//! Why: reading the YAML text is three quarters of loading a file (granit-parser's events
//! alone about 2,600 instructions each), and loading a 1,000-step flow took a quarter of a
//! 1,000-request run on loopback (#10, docs/BENCHMARKS.md). Decoding a kept tree costs a
//! small part of that; decoding into the model, compiling and every check still run as
//! before, so a kept tree changes no result and no message.
//!
//! This module makes, checks and reads entries; where they are kept is the application's
//! business, behind [`TreeStore`] (the CLI keeps them in the user's cache folder). With
//! no store installed ([`set_tree_store`]) every file is parsed.
//!
//! - **Which files**: those of at least [`MIN_BYTES`] (a short file parses faster than its
//!   entry can be read) and at most [`MAX_BYTES`], whose parse found no problem (a file
//!   with a duplicate key is parsed every time, so its problem is always reported).
//! - **The key**: SHA-256 of the format's version, the store's build stamp (so another
//!   build of rehearse, which may read YAML differently, has keys of its own) and the
//!   file's text. An entry also holds the whole key, the text's length and the SHA-256 of
//!   its own contents: an entry that is not exactly one written for this text is ignored,
//!   and the file parsed.
//! - **Safety**: an entry is input like any other file. Every length, offset and count in
//!   it is checked against the file and the bounds of the parser itself ([`MAX_DEPTH`],
//!   [`MAX_NODES`]); what fails a check is a miss, never a panic.

use std::borrow::Cow;
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

/// The first bytes of an entry; the last byte is the format's version.
const MAGIC: &[u8; 8] = b"RHTREE\0\x01";
/// Magic, key, file length, checksum of the contents.
const HEADER: usize = 8 + 32 + 8 + 32;

/// Where the entries of parsed trees are kept between processes.
pub trait TreeStore: Send + Sync {
    /// What tells this build of rehearse from another, folded into every key; `None`
    /// turns the cache off.
    fn build(&self) -> Option<&[u8]>;
    /// The entry kept under `name`, when there is one of at most `cap` bytes.
    fn get(&self, name: &str, cap: u64) -> Option<Vec<u8>>;
    /// Keeps `bytes` under `name`; best-effort (a store that cannot only costs the next
    /// process this parse).
    fn put(&self, name: &str, bytes: &[u8]);
}

static STORE: OnceLock<Box<dyn TreeStore>> = OnceLock::new();

/// Installs this process's store of parsed trees; a second call is ignored.
pub fn set_tree_store(store: Box<dyn TreeStore>) {
    let _ = STORE.set(store);
}

fn key_of(build: &[u8], text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update((build.len() as u64).to_le_bytes());
    h.update(build);
    h.update(text.as_bytes());
    h.finalize().into()
}

/// Parses `source` as [`parse`] does, through the installed store when the file is long
/// enough.
pub(crate) fn parse_cached(source: &Arc<SourceFile>) -> Result<Parsed<'_>, SyntaxError> {
    match STORE.get() {
        Some(store) if (MIN_BYTES..=MAX_BYTES).contains(&source.text().len()) => {
            parse_with(store.as_ref(), source)
        }
        _ => parse(source),
    }
}

/// [`parse_cached`] through `store`.
fn parse_with<'a>(
    store: &dyn TreeStore,
    source: &'a Arc<SourceFile>,
) -> Result<Parsed<'a>, SyntaxError> {
    let Some(build) = store.build() else {
        return parse(source);
    };
    let key = key_of(build, source.text());
    let name = hex::encode(&key[..16]);
    let cap = (source.text().len() as u64).saturating_mul(16) + 4096;
    if let Some(bytes) = store.get(&name, cap)
        && let Some(root) = decode(&bytes, source, &key)
    {
        return Ok(Parsed {
            root,
            problems: Vec::new(),
        });
    }
    let parsed = parse(source)?;
    // An entry past the read cap (aliases can repeat a node many times) would never be
    // read: not kept.
    if parsed.problems.is_empty()
        && let Some(bytes) = encode(&parsed.root, source, &key)
        && bytes.len() as u64 <= cap
    {
        store.put(&name, &bytes);
    }
    Ok(parsed)
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

    const BUILD: &[u8] = b"test build";

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
        let key = key_of(BUILD, source.text());
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
        assert!(decode(&bytes, &other, &key_of(BUILD, other.text())).is_none());
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
        let key = key_of(BUILD, source.text());
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

    /// A store in memory, counting what is kept.
    #[derive(Default)]
    struct Memory {
        entries: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
        puts: std::sync::atomic::AtomicUsize,
    }

    impl TreeStore for Memory {
        fn build(&self) -> Option<&[u8]> {
            Some(BUILD)
        }
        fn get(&self, name: &str, cap: u64) -> Option<Vec<u8>> {
            let entries = self.entries.lock().unwrap();
            entries.get(name).filter(|b| b.len() as u64 <= cap).cloned()
        }
        fn put(&self, name: &str, bytes: &[u8]) {
            self.puts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut entries = self.entries.lock().unwrap();
            entries.insert(name.to_owned(), bytes.to_vec());
        }
    }

    impl Memory {
        fn puts(&self) -> usize {
            self.puts.load(std::sync::atomic::Ordering::Relaxed)
        }
        fn only_entry(&self) -> Vec<u8> {
            let entries = self.entries.lock().unwrap();
            assert_eq!(entries.len(), 1, "one entry");
            entries.values().next().unwrap().clone()
        }
    }

    #[test]
    fn a_long_file_is_parsed_once_then_read_from_its_entry() {
        let store = Memory::default();
        let source = SourceFile::new("long.yaml", long_text());
        let first = parse_with(&store, &source).unwrap();
        // The entry is one this build reads, and the second parse did not keep it again.
        let key = key_of(BUILD, source.text());
        assert!(decode(&store.only_entry(), &source, &key).is_some());
        let second = parse_with(&store, &source).unwrap();
        assert!(same(&first.root, &second.root));
        assert_eq!(store.puts(), 1);
        // Damaged: parsed again, the same tree, and the entry kept anew.
        let mut bytes = store.only_entry();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        store.put(&hex::encode(&key[..16]), &bytes);
        let third = parse_with(&store, &source).unwrap();
        assert!(same(&first.root, &third.root));
        assert_ne!(store.only_entry(), bytes);
    }

    /// A store with no build stamp: the cache is off, nothing is looked up or kept.
    #[test]
    fn a_store_without_a_build_stamp_is_not_used() {
        struct Unstamped(Memory);
        impl TreeStore for Unstamped {
            fn build(&self) -> Option<&[u8]> {
                None
            }
            fn get(&self, name: &str, cap: u64) -> Option<Vec<u8>> {
                self.0.get(name, cap)
            }
            fn put(&self, name: &str, bytes: &[u8]) {
                self.0.put(name, bytes);
            }
        }
        let store = Unstamped(Memory::default());
        let source = SourceFile::new("long.yaml", long_text());
        assert!(parse_with(&store, &source).unwrap().problems.is_empty());
        assert_eq!(store.0.puts(), 0);
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
        assert!(encode(&parsed.root, &source, &key_of(BUILD, source.text())).is_none());
    }

    #[test]
    fn a_file_with_a_problem_is_parsed_every_time() {
        let store = Memory::default();
        let text = format!("{}name: twice\n", long_text());
        let source = SourceFile::new("dup.yaml", text);
        for _ in 0..2 {
            let parsed = parse_with(&store, &source).unwrap();
            assert_eq!(parsed.problems.len(), 1, "the duplicate `name` each time");
        }
        assert_eq!(store.puts(), 0);
    }
}
