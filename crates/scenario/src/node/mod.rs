//! A YAML document as a tree of nodes that know where they were written, read by our own
//! scalar rule (docs/FORMAT.md, "YAML: how values are read"), and a serde deserializer
//! over that tree whose errors carry the position of the offending node.
//!
//! `parse` reads the text into [`Node`]s from the YAML parser's events (`cache` reads the
//! tree of a long file back from a [`TreeStore`], keyed by its text); `decode` turns
//! nodes into the model types; `recover` decodes again after each problem, so that a file
//! with four mistakes reports four.

mod cache;
mod decode;
mod parse;
mod recover;
mod tree;

pub(crate) use cache::parse_cached;
pub use cache::{TreeStore, set_tree_store};
pub use decode::did_you_mean;
pub(crate) use decode::{DecodeError, EXACT_NUMBER_MAGIC, current_span};
pub(crate) use parse::SyntaxError;
pub(crate) use recover::decode_all;
pub(crate) use tree::Kind;
