//! The node tree: YAML values with their positions, read by our scalar rule.

use std::borrow::Cow;

use crate::span::Span;

/// Identifies a node of one parse, so that a problem found while decoding can be traced
/// back to it (and the node set aside to look for the next problem).
pub(crate) type NodeId = u32;

/// A YAML value with its position. Its text borrows the file's where it can (a scalar
/// with no escape or folding), so that reading a file copies few of its strings.
#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    pub(crate) kind: Kind<'a>,
    pub(crate) span: Span,
    pub(crate) id: NodeId,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind<'a> {
    Null,
    Bool(bool),
    /// A number in JSON's grammar, its digits exactly as written (any size).
    Number(Cow<'a, str>),
    /// Text; `plain` when it was written unquoted (so `yes` can get a hint where a
    /// boolean is wanted).
    Str {
        text: Cow<'a, str>,
        plain: bool,
    },
    Seq(Vec<Node<'a>>),
    Map(Vec<(Node<'a>, Node<'a>)>),
    /// Stands in for a node that failed to decode, so that decoding can go on and report
    /// the next problem. It decodes as the neutral value of whatever type is asked for;
    /// where a type accepts several shapes, the stage says which one to try next.
    Neutral(u8),
}

impl Node<'_> {
    /// What was written, for "expected …, got …": a scalar as written, a collection by
    /// its shape.
    pub(crate) fn got(&self) -> String {
        match &self.kind {
            Kind::Null => "null".to_owned(),
            Kind::Bool(b) => format!("`{b}`"),
            Kind::Number(n) => format!("`{}`", crate::matcher::excerpt(n, 40)),
            Kind::Str { text, .. } if text.is_empty() => "an empty string".to_owned(),
            Kind::Str { text, .. } => format!("`{}`", crate::matcher::excerpt(text, 40)),
            Kind::Seq(_) => "a list".to_owned(),
            Kind::Map(_) => "a mapping".to_owned(),
            Kind::Neutral(_) => "a value".to_owned(),
        }
    }
}
