//! Every decode problem of a file, not only the first: serde's derive stops at the first
//! error, so each one found is set aside — an unknown key dropped, a missing key added, a
//! wrong value replaced by a neutral one — and the tree decoded again, within a bound.

use serde::de::DeserializeOwned;

use super::decode::{DecodeError, ErrKind, decode};
use super::tree::{Kind, Node, NodeId};

/// At most this many problems are reported per file.
pub(crate) const MAX_PROBLEMS: usize = 50;

/// Neutral shapes tried for a node before giving up on it (see [`Kind::Neutral`]).
const NEUTRAL_STAGES: u8 = 5;

/// Nodes decoded in all rounds, at most: each round decodes the whole tree again, so a
/// file of a million values with fifty problems took minutes. A large file reports fewer
/// problems (at least the first); the next run shows the others.
const MAX_DECODED_NODES: usize = 5_000_000;

/// Decodes `root` into `T`, or returns every problem found (in the order found).
pub(crate) fn decode_all<T: DeserializeOwned>(mut root: Node<'_>) -> Result<T, Vec<DecodeError>> {
    let mut problems: Vec<DecodeError> = Vec::new();
    let mut next_id = NodeId::MAX - 1;
    // Maps where an unknown key got a "did you mean `x`?": a missing `x` there is the same
    // mistake, not a second one.
    let mut misspelt: Vec<(NodeId, String)> = Vec::new();
    let rounds = (MAX_DECODED_NODES / count(&root).max(1))
        .clamp(1, MAX_PROBLEMS * usize::from(NEUTRAL_STAGES));
    // Each round either reports a problem or moves a neutral node to its next shape.
    for _ in 0..rounds {
        let err = match decode::<T>(&root) {
            Ok(v) if problems.is_empty() => return Ok(v),
            Ok(_) => return Err(problems),
            Err(e) => e,
        };
        let Some(id) = err.node else {
            problems.push(err);
            return Err(problems);
        };
        let report = match fix(&mut root, id, &err.kind, &mut next_id) {
            Fix::Applied(map) => {
                if let (ErrKind::UnknownKey, Some(help)) = (&err.kind, &err.help) {
                    misspelt.push((map, help.clone()));
                }
                match err.kind {
                    ErrKind::MissingKey(field) => !misspelt
                        .iter()
                        .any(|(m, h)| *m == id && *h == format!("did you mean `{field}`?")),
                    _ => true,
                }
            }
            Fix::NextStage => false,
            Fix::Impossible => {
                if problems.is_empty() {
                    problems.push(err);
                }
                return Err(problems);
            }
        };
        if report
            && !problems
                .iter()
                .any(|p| p.span == err.span && p.message == err.message)
        {
            problems.push(err);
            if problems.len() >= MAX_PROBLEMS {
                break;
            }
        }
    }
    Err(problems)
}

enum Fix {
    /// The problem was set aside (in the node with this id); report it.
    Applied(NodeId),
    /// A neutral node did not suit the type: it takes its next shape, unreported (its
    /// own problem was reported when it was set aside).
    NextStage,
    /// Nothing more can be done.
    Impossible,
}

fn fix(node: &mut Node<'_>, id: NodeId, kind: &ErrKind, next_id: &mut NodeId) -> Fix {
    let mut result = Fix::Impossible;
    visit(node, &mut |n| match (&mut n.kind, kind) {
        (Kind::Map(entries), ErrKind::UnknownKey) => {
            let before = entries.len();
            entries.retain(|(k, _)| k.id != id);
            if entries.len() != before {
                result = Fix::Applied(n.id);
            }
        }
        (Kind::Map(entries), ErrKind::MissingKey(field)) if n.id == id => {
            let key = Node {
                kind: Kind::Str {
                    text: std::borrow::Cow::Borrowed(*field),
                    plain: true,
                },
                span: n.span.clone(),
                id: *next_id,
            };
            let value = Node {
                kind: Kind::Neutral(0),
                span: n.span.clone(),
                id: next_id.saturating_sub(1),
            };
            *next_id = next_id.saturating_sub(2);
            entries.push((key, value));
            result = Fix::Applied(n.id);
        }
        (Kind::Neutral(stage), _) if n.id == id && *stage + 1 < NEUTRAL_STAGES => {
            *stage += 1;
            result = Fix::NextStage;
        }
        (Kind::Neutral(_), _) if n.id == id => {}
        (k, ErrKind::Other) if n.id == id => {
            *k = Kind::Neutral(0);
            result = Fix::Applied(id);
        }
        _ => {}
    });
    result
}

/// The nodes of a tree (at most `MAX_DEPTH` deep).
fn count(node: &Node<'_>) -> usize {
    1 + match &node.kind {
        Kind::Seq(items) => items.iter().map(count).sum(),
        Kind::Map(entries) => entries.iter().map(|(k, v)| count(k) + count(v)).sum(),
        _ => 0,
    }
}

/// Calls `f` on every node, parents first (the tree is at most `MAX_DEPTH` deep).
fn visit<'a>(node: &mut Node<'a>, f: &mut dyn FnMut(&mut Node<'a>)) {
    f(node);
    match &mut node.kind {
        Kind::Seq(items) => items.iter_mut().for_each(|n| visit(n, f)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            visit(k, f);
            visit(v, f);
        }),
        _ => {}
    }
}
