//! YAML text → node tree, from the parser's events, by our scalar rule:
//!
//! - a mapping key is always a string, exactly as written;
//! - a quoted or block scalar (`"…"`, `'…'`, `|`, `>`) is always a string;
//! - a plain (unquoted) scalar is null when it is `null`, `~` or empty, a boolean when it
//!   is `true` or `false`, a number when it is a number in JSON's grammar (digits kept
//!   exactly, any size), and a string otherwise — so `no`, `on`, `y`, `012345`, `1_000`,
//!   `0x1F`, `.5`, `+1` and `.inf` stay strings, unlike YAML 1.1.
//!
//! Anchors and aliases are expanded here, within a bound on the total number of nodes (a
//! "billion laughs" file is an error, not an out-of-memory), and nesting has a depth limit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle, Tag};

use super::tree::{Kind, Node, NodeId};
use crate::decimal::is_json_number;
use crate::span::{SourceFile, Span};

/// Nesting deeper than this is refused (a scenario is never this deep; a crafted file
/// could be, and the decoder recurses).
pub(crate) const MAX_DEPTH: usize = 128;

/// Nodes in a file, aliases expanded, beyond which it is refused.
pub(crate) const MAX_NODES: usize = 1_000_000;

/// Bytes of text that aliases may repeat, in all: an alias of a long string counts one
/// node but its whole length.
pub(crate) const MAX_ALIASED_BYTES: usize = 64 * 1024 * 1024;

/// A problem in the YAML text itself, at a position.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
    pub(crate) span: Span,
}

/// A parsed file: its tree, and the problems that did not stop reading (duplicate keys).
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    pub(crate) root: Node<'a>,
    pub(crate) problems: Vec<SyntaxError>,
}

enum Frame<'a> {
    Seq {
        span: Span,
        id: NodeId,
        anchor: usize,
        items: Vec<Node<'a>>,
        count: usize,
    },
    Map {
        span: Span,
        id: NodeId,
        anchor: usize,
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
        /// The key just read is a duplicate: its value is dropped.
        skip: bool,
        /// The keys of a large mapping, by text, to the index of their entry (a small
        /// one is searched: a hash map per mapping cost more than the search).
        seen: Option<HashMap<Cow<'a, str>, usize>>,
        count: usize,
    },
}

struct Builder<'a> {
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, (Node<'a>, usize)>,
    root: Option<Node<'a>>,
    nodes: usize,
    aliased_bytes: usize,
    next_id: NodeId,
    problems: Vec<SyntaxError>,
}

/// Parses YAML text into a node tree.
pub(crate) fn parse(source: &Arc<SourceFile>) -> Result<Parsed<'_>, SyntaxError> {
    if source.text().trim().is_empty() {
        return Err(SyntaxError {
            message: "the file is empty".to_owned(),
            help: Some("a scenario starts with `name:` and `steps:`".to_owned()),
            span: Span::file_start(source),
        });
    }
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        aliased_bytes: 0,
        next_id: 0,
        problems: Vec::new(),
    };
    let mut documents = 0;
    for next in Parser::new_from_str_with_options(source.text(), options) {
        let (event, ev_span) = next.map_err(|e| {
            let m = e.marker();
            let span = match m.byte_offset() {
                Some(o) => Span::at_offset(source, o),
                None => Span::at(source, m.line().max(1), m.col() + 1),
            };
            SyntaxError {
                message: e.info(),
                help: None,
                span,
            }
        })?;
        let span = Span::at_offset(source, ev_span.start.byte_offset().unwrap_or(0));
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        message: "a second YAML document (`---`) in one file".to_owned(),
                        help: Some(
                            "a file holds one scenario: move this one to its own file".to_owned(),
                        ),
                        span,
                    });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let kind = if b.in_key_position() {
                    Kind::Str {
                        text,
                        plain: style == ScalarStyle::Plain,
                    }
                } else {
                    scalar(text, style, tag.as_deref(), &span)?
                };
                let node = b.node(kind, span)?;
                b.complete(node, anchor, 1)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", &span)?;
                b.open(&span)?;
                let id = b.id();
                b.stack.push(Frame::Seq {
                    span,
                    id,
                    anchor,
                    items: Vec::new(),
                    count: 1,
                });
            }
            Event::MappingStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", &span)?;
                b.open(&span)?;
                let id = b.id();
                b.stack.push(Frame::Map {
                    span,
                    id,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    skip: false,
                    seen: None,
                    count: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, count) = match b.stack.pop() {
                    Some(Frame::Seq {
                        span,
                        id,
                        anchor,
                        items,
                        count,
                    }) => (
                        Node {
                            kind: Kind::Seq(items),
                            span,
                            id,
                        },
                        anchor,
                        count,
                    ),
                    Some(Frame::Map {
                        span,
                        id,
                        anchor,
                        entries,
                        count,
                        ..
                    }) => (
                        Node {
                            kind: Kind::Map(entries),
                            span,
                            id,
                        },
                        anchor,
                        count,
                    ),
                    None => continue,
                };
                b.complete(node, anchor, count)?;
            }
            Event::Alias(anchor) => {
                let name = ev_span
                    .slice(source.text())
                    .unwrap_or("*")
                    .trim_start_matches('*')
                    .to_owned();
                let Some((node, size)) = b.anchors.get(&anchor).cloned() else {
                    return Err(SyntaxError {
                        message: format!("alias `*{name}` refers to the node that contains it"),
                        help: Some(
                            "an alias repeats a node written before it, not one it is part of"
                                .to_owned(),
                        ),
                        span,
                    });
                };
                b.nodes = b.nodes.saturating_add(size);
                b.aliased_bytes = b.aliased_bytes.saturating_add(text_bytes(&node));
                if b.nodes > MAX_NODES || b.aliased_bytes > MAX_ALIASED_BYTES {
                    return Err(SyntaxError {
                        message: format!(
                            "aliases expand this file beyond {MAX_NODES} values or {} MiB of text",
                            MAX_ALIASED_BYTES / (1024 * 1024)
                        ),
                        help: Some(
                            "expand fewer aliases (is `*{name}` repeated by nested aliases?)"
                                .replace("{name}", &name),
                        ),
                        span,
                    });
                }
                let node = if b.in_key_position() {
                    match key_text(&node) {
                        Some(text) => Node {
                            kind: Kind::Str { text, plain: true },
                            span: node.span,
                            id: node.id,
                        },
                        None => {
                            return Err(SyntaxError {
                                message: format!(
                                    "alias `*{name}` stands for a list or a mapping, which cannot be a key"
                                ),
                                help: Some("a mapping key is a name: `key: value`".to_owned()),
                                span,
                            });
                        }
                    }
                } else {
                    node
                };
                b.complete(node, 0, size)?;
            }
            _ => {}
        }
    }
    let root = b.root.ok_or_else(|| SyntaxError {
        message: "the file holds no YAML value".to_owned(),
        help: None,
        span: Span::file_start(source),
    })?;
    Ok(Parsed {
        root,
        problems: b.problems,
    })
}

impl<'a> Builder<'a> {
    fn id(&mut self) -> NodeId {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    fn node(&mut self, kind: Kind<'a>, span: Span) -> Result<Node<'a>, SyntaxError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(SyntaxError {
                message: format!("the file holds more than {MAX_NODES} values"),
                help: Some("split it into several files".to_owned()),
                span,
            });
        }
        Ok(Node {
            kind,
            span,
            id: self.id(),
        })
    }

    fn open(&mut self, span: &Span) -> Result<(), SyntaxError> {
        if self.in_key_position() {
            return Err(SyntaxError {
                message: "a list or a mapping cannot be a key".to_owned(),
                help: Some("a mapping key is a name: `key: value`".to_owned()),
                span: span.clone(),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("values are nested more than {MAX_DEPTH} levels deep"),
                help: Some("flatten the structure".to_owned()),
                span: span.clone(),
            });
        }
        self.nodes += 1;
        Ok(())
    }

    fn in_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    /// A node is complete: remember it under its anchor and give it to its parent.
    fn complete(&mut self, node: Node<'a>, anchor: usize, size: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, count, .. }) => {
                *count = count.saturating_add(size);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                skip,
                seen,
                count,
                ..
            }) => {
                *count = count.saturating_add(size);
                match key.take() {
                    None => {
                        let Kind::Str { text, .. } = &node.kind else {
                            return Ok(());
                        };
                        let first = match seen {
                            Some(seen) => seen.get(text).copied(),
                            None => entries.iter().position(|(k, _)| key_is(k, text)),
                        };
                        if let Some(first) = first {
                            let first = &entries[first].0.span;
                            self.problems.push(SyntaxError {
                                message: format!(
                                    "duplicate key `{text}` (first written at {first})"
                                ),
                                help: Some(
                                    "remove one of the two; a key is written once per mapping"
                                        .to_owned(),
                                ),
                                span: node.span.clone(),
                            });
                            *skip = true;
                        } else {
                            let index = entries.len();
                            if index >= SEARCHED_KEYS && seen.is_none() {
                                *seen = Some(
                                    entries
                                        .iter()
                                        .enumerate()
                                        .filter_map(|(i, (k, _))| match &k.kind {
                                            Kind::Str { text, .. } => Some((text.clone(), i)),
                                            _ => None,
                                        })
                                        .collect(),
                                );
                            }
                            if let Some(seen) = seen {
                                seen.insert(text.clone(), index);
                            }
                            *skip = false;
                        }
                        *key = Some(node);
                    }
                    Some(k) => {
                        if !std::mem::take(skip) {
                            entries.push((k, node));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Keys of a mapping searched one by one for a duplicate; a larger mapping indexes them.
const SEARCHED_KEYS: usize = 16;

/// True when a key node's text is `text`.
fn key_is(key: &Node<'_>, text: &str) -> bool {
    matches!(&key.kind, Kind::Str { text: t, .. } if t.as_ref() == text)
}

/// The bytes of text in a node (its scalars, keys included).
fn text_bytes(node: &Node<'_>) -> usize {
    match &node.kind {
        Kind::Str { text, .. } | Kind::Number(text) => text.len(),
        Kind::Seq(items) => items.iter().map(text_bytes).sum(),
        Kind::Map(entries) => entries
            .iter()
            .map(|(k, v)| text_bytes(k) + text_bytes(v))
            .sum(),
        _ => 0,
    }
}

/// The text of a scalar node used as a key through an alias.
fn key_text<'a>(node: &Node<'a>) -> Option<Cow<'a, str>> {
    match &node.kind {
        Kind::Str { text, .. } | Kind::Number(text) => Some(text.clone()),
        Kind::Bool(b) => Some(Cow::Owned(b.to_string())),
        Kind::Null => Some(Cow::Borrowed("")),
        _ => None,
    }
}

/// A value scalar by our rule (see the module doc); a core-schema tag (`!!str 1`) decides
/// instead, and any other tag is refused.
fn scalar<'a>(
    text: Cow<'a, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    span: &Span,
) -> Result<Kind<'a>, SyntaxError> {
    let Some(tag) = tag else {
        return Ok(if style == ScalarStyle::Plain {
            plain(text)
        } else {
            Kind::Str { text, plain: false }
        });
    };
    let bad = |what: &str| SyntaxError {
        message: format!("`{text}` is not {what} (it is tagged `{tag}`)"),
        help: Some("remove the tag".to_owned()),
        span: span.clone(),
    };
    match tag.core_suffix() {
        Some("str") => Ok(Kind::Str { text, plain: false }),
        Some("null") => match plain(text.clone()) {
            Kind::Null => Ok(Kind::Null),
            _ => Err(bad("null")),
        },
        Some("bool") => match plain(text.clone()) {
            Kind::Bool(b) => Ok(Kind::Bool(b)),
            _ => Err(bad("`true` or `false`")),
        },
        Some("int" | "float") => {
            if is_json_number(&text) {
                Ok(Kind::Number(text))
            } else {
                Err(bad("a number"))
            }
        }
        _ if tag.handle() == "!" && tag.suffix().is_empty() => Ok(Kind::Str { text, plain: false }),
        _ => Err(unsupported_tag(tag, span)),
    }
}

fn check_collection_tag(tag: Option<&Tag>, core: &str, span: &Span) -> Result<(), SyntaxError> {
    match tag {
        None => Ok(()),
        Some(t) if t.core_suffix() == Some(core) => Ok(()),
        Some(t) => Err(unsupported_tag(t, span)),
    }
}

fn unsupported_tag(tag: &Tag, span: &Span) -> SyntaxError {
    SyntaxError {
        message: format!("unsupported YAML tag `{}`", tag.original()),
        help: Some("remove the tag; to make a value text, quote it: \"…\"".to_owned()),
        span: span.clone(),
    }
}

/// A plain scalar by our rule.
fn plain(text: Cow<'_, str>) -> Kind<'_> {
    match text.as_ref() {
        "" | "~" | "null" => Kind::Null,
        "true" => Kind::Bool(true),
        "false" => Kind::Bool(false),
        t if is_json_number(t) => Kind::Number(text),
        _ => Kind::Str { text, plain: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(yaml: &str) -> Vec<(String, String)> {
        let src = SourceFile::new("t.yaml", yaml);
        let parsed = parse(&src).unwrap_or_else(|e| panic!("{}", e.message));
        let Kind::Map(entries) = parsed.root.kind else {
            panic!("a mapping")
        };
        entries
            .into_iter()
            .map(|(k, v)| {
                let Kind::Str { text: key, .. } = k.kind else {
                    panic!("keys are strings")
                };
                let key = key.into_owned();
                let v = match v.kind {
                    Kind::Null => "null".to_owned(),
                    Kind::Bool(b) => format!("bool {b}"),
                    Kind::Number(n) => format!("number {n}"),
                    Kind::Str { text, .. } => format!("string {text}"),
                    other => format!("{other:?}"),
                };
                (key, v)
            })
            .collect()
    }

    #[test]
    fn plain_scalars_follow_our_rule_not_yaml_1_1() {
        let yaml = "a: no\nb: yes\nc: on\nd: off\ne: y\nf: n\ng: 012345\nh: 1_000\ni: 0x1F\nj: .5\nk: +1\nl: .inf\nm: True\nn: 1e3\no: -0.10\np: 10000000000000000000000000365\nq: ~\nr:\ns: null\nt: true\nu: false\nv: \"12\"\nw: 'true'\nx: |\n  012\n";
        let got = kinds(yaml);
        let want = [
            ("a", "string no"),
            ("b", "string yes"),
            ("c", "string on"),
            ("d", "string off"),
            ("e", "string y"),
            ("f", "string n"),
            ("g", "string 012345"),
            ("h", "string 1_000"),
            ("i", "string 0x1F"),
            ("j", "string .5"),
            ("k", "string +1"),
            ("l", "string .inf"),
            ("m", "string True"),
            ("n", "number 1e3"),
            ("o", "number -0.10"),
            ("p", "number 10000000000000000000000000365"),
            ("q", "null"),
            ("r", "null"),
            ("s", "null"),
            ("t", "bool true"),
            ("u", "bool false"),
            ("v", "string 12"),
            ("w", "string true"),
            ("x", "string 012\n"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn keys_are_strings_as_written() {
        let got = kinds("n: 1\ny: 2\nno: 3\n1: 4\nnull: 5\n~: 6\ntrue: 7\n012: 8\n");
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["n", "y", "no", "1", "null", "~", "true", "012"]);
    }

    #[test]
    fn duplicate_keys_name_both_positions() {
        let src = SourceFile::new("d.yaml", "a: 1\nb:\n  x: 1\n  x: 2\n");
        let parsed = parse(&src).unwrap_or_else(|e| panic!("{}", e.message));
        let msgs: Vec<String> = parsed
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.span, p.message))
            .collect();
        assert_eq!(
            msgs,
            ["d.yaml:4:3: duplicate key `x` (first written at d.yaml:3:3)"]
        );
    }

    #[test]
    fn anchors_expand_and_a_billion_laughs_is_refused() {
        let got = kinds("a: &x [1, 2]\nb: *x\n");
        assert_eq!(got[1].0, "b");
        let mut bomb = String::from("a: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let src = SourceFile::new("bomb.yaml", bomb);
        let err = parse(&src).expect_err("a billion laughs must be refused");
        assert!(
            err.message.contains("aliases expand this file"),
            "{}",
            err.message
        );
    }

    #[test]
    fn aliases_of_a_long_string_are_bounded_by_bytes() {
        let long = "x".repeat(1024 * 1024);
        let mut yaml = format!("a: &s {long}\nb: [");
        for _ in 0..100 {
            yaml.push_str("*s, ");
        }
        yaml.push_str("*s]\n");
        let src = SourceFile::new("long.yaml", yaml);
        let err = parse(&src).expect_err("100 MiB of aliased text must be refused");
        assert!(err.message.contains("aliases expand"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        let src = SourceFile::new("deep.yaml", deep);
        let err = parse(&src).expect_err("too deep");
        assert!(
            err.message.contains("nested more than") || err.message.contains("nest"),
            "{}",
            err.message
        );
    }
}
