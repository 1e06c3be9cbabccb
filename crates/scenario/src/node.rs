//! A YAML document as a tree of nodes that know where they were written, and a serde
//! deserializer over that tree whose errors carry the position of the offending node.
//!
//! serde-saphyr reads the text into [`Node`]s (through its `Spanned` wrapper); the model
//! types then derive `Deserialize` as usual and are decoded from the nodes. Decoding
//! from our own tree (rather than straight from the text) lets every error — an unknown
//! key, a wrong type, a bad duration — point at the exact key or value.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::span::{SPANNED_MAGIC, SourceFile, Span};

/// A YAML value with its position.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) | Kind::UInt(_) => "an integer",
            Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error at a position.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) span: Span,
}

/// Parses YAML text into a node tree.
pub(crate) fn parse(source: &Arc<SourceFile>) -> Result<Node, SyntaxError> {
    if source.text().trim().is_empty() {
        return Err(SyntaxError {
            message: "the file is empty".to_owned(),
            span: Span::file_start(source),
        });
    }
    match serde_saphyr::from_str::<RawNode>(source.text()) {
        Ok(raw) => Ok(raw.into_node(source)),
        Err(err) => {
            let span = err.location().map_or_else(
                || Span::file_start(source),
                |loc| {
                    Span::at(
                        source,
                        usize::try_from(loc.line()).unwrap_or(1).max(1),
                        usize::try_from(loc.column()).unwrap_or(1).max(1),
                    )
                },
            );
            Err(SyntaxError {
                message: plain_message(&err),
                span,
            })
        }
    }
}

/// serde-saphyr renders its own snippet; we render ours, so keep only the message.
fn plain_message(err: &serde_saphyr::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML").trim();
    let first = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim_end_matches(':');
    // Drop "line X column Y: " and " at line X column Y" — the span says it better.
    let first = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(first, |(_, m)| m),
        None => first,
    };
    match first.find(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

/// What serde-saphyr gives us: values wrapped in its `Spanned`.
struct RawNode(serde_saphyr::Spanned<RawKind>);

enum RawKind {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(RawNode, RawNode)>),
}

impl RawNode {
    fn into_node(self, source: &Arc<SourceFile>) -> Node {
        let loc = self.0.referenced;
        let span = Span::at(
            source,
            usize::try_from(loc.line()).unwrap_or(1).max(1),
            usize::try_from(loc.column()).unwrap_or(1).max(1),
        );
        let kind = match self.0.value {
            RawKind::Null => Kind::Null,
            RawKind::Bool(b) => Kind::Bool(b),
            RawKind::Int(i) => Kind::Int(i),
            RawKind::UInt(u) => Kind::UInt(u),
            RawKind::Float(f) => Kind::Float(f),
            RawKind::Str(s) => Kind::Str(s),
            RawKind::Seq(items) => {
                Kind::Seq(items.into_iter().map(|n| n.into_node(source)).collect())
            }
            RawKind::Map(entries) => Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_node(source), v.into_node(source)))
                    .collect(),
            ),
        };
        Node { kind, span }
    }
}

impl<'de> de::Deserialize<'de> for RawNode {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_saphyr::Spanned::<RawKind>::deserialize(d).map(RawNode)
    }
}

impl<'de> de::Deserialize<'de> for RawKind {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<RawKind, E> {
                Ok(RawKind::Null)
            }
            fn visit_none<E>(self) -> Result<RawKind, E> {
                Ok(RawKind::Null)
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
                <RawKind as de::Deserialize>::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<RawKind, E> {
                Ok(RawKind::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<RawKind, E> {
                Ok(RawKind::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<RawKind, E> {
                Ok(i64::try_from(v).map_or(RawKind::UInt(v), RawKind::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<RawKind, E> {
                Ok(RawKind::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<RawKind, E> {
                Ok(RawKind::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<RawKind, E> {
                Ok(RawKind::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<RawNode>()? {
                    items.push(item);
                }
                Ok(RawKind::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<RawNode, RawNode>()? {
                    entries.push((k, v));
                }
                Ok(RawKind::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// Decoding nodes into model types.

/// An error found while decoding a node into a model type.
#[derive(Debug, Clone)]
pub(crate) struct DecodeError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
    pub(crate) span: Option<Span>,
}

impl DecodeError {
    fn at(mut self, span: &Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span.clone());
        }
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            message: msg.to_string(),
            help: None,
            span: None,
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        unknown("key", field, expected)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        unknown("value", variant, expected)
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            message: format!("missing key `{field}`"),
            help: Some(format!("add `{field}:` here")),
            span: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!("expected {exp}, found {unexp}"))
    }
}

/// `unknown key `x``, with "did you mean" or the list of what is known.
fn unknown(what: &str, written: &str, expected: &[&str]) -> DecodeError {
    let help = did_you_mean(written, expected.iter().copied()).unwrap_or_else(|| {
        let list: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
        format!("expected one of {}", list.join(", "))
    });
    DecodeError {
        message: format!("unknown {what} `{written}`"),
        help: Some(help),
        span: None,
    }
}

/// "did you mean `x`?" when a known name is close to what was written.
pub fn did_you_mean<'a>(written: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(written, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!("did you mean `{k}`?"))
}

thread_local! {
    static CURRENT_SPAN: RefCell<Option<Span>> = const { RefCell::new(None) };
}

/// The span handed over by the node deserializer to [`crate::Spanned`]'s `Deserialize`.
pub(crate) fn current_span() -> Option<Span> {
    CURRENT_SPAN.with(|c| c.borrow_mut().take())
}

/// Decodes a node into `T`, with errors pointing at the offending node.
pub(crate) fn decode<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DecodeError> {
    T::deserialize(node)
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let r = match &self.kind {
            Kind::Null => v.visit_unit(),
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Int(i) => v.visit_i64(*i),
            Kind::UInt(u) => v.visit_u64(*u),
            Kind::Float(f) => v.visit_f64(*f),
            Kind::Str(s) => v.visit_borrowed_str(s),
            Kind::Seq(items) => v.visit_seq(NodeSeq { iter: items.iter() }),
            Kind::Map(entries) => v.visit_map(NodeMap {
                iter: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(&self.span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match self.kind {
            Kind::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
        .map_err(|e| e.at(&self.span))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        if name == SPANNED_MAGIC {
            CURRENT_SPAN.with(|c| *c.borrow_mut() = Some(self.span.clone()));
        }
        v.visit_newtype_struct(self).map_err(|e| e.at(&self.span))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Str(s) => v.visit_enum(s.as_str().into_deserializer()),
            Kind::Map(entries) if entries.len() == 1 => v.visit_enum(NodeEnum {
                key: &entries[0].0,
                value: &entries[0].1,
            }),
            _ => Err(de::Error::custom(format_args!(
                "expected a name or a mapping with one key, found {}",
                self.type_name()
            ))),
        }
        .map_err(|e| e.at(&self.span))
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        // YAML users write `status: 200` or `version: 1.2` where a string is wanted; accept
        // scalars as strings.
        let r: Result<V::Value, DecodeError> = match &self.kind {
            Kind::Int(i) => v.visit_string(i.to_string()),
            Kind::UInt(u) => v.visit_string(u.to_string()),
            Kind::Float(f) => v.visit_string(f.to_string()),
            Kind::Bool(b) => v.visit_string(b.to_string()),
            _ => return self.deserialize_any(v),
        };
        r.map_err(|e| e.at(&self.span))
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct NodeSeq<'de> {
    iter: std::slice::Iter<'de, Node>,
}

impl<'de> SeqAccess<'de> for NodeSeq<'de> {
    type Error = DecodeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        self.iter.next().map(|n| seed.deserialize(n)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct NodeMap<'de> {
    iter: std::slice::Iter<'de, (Node, Node)>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for NodeMap<'de> {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(v),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct NodeEnum<'de> {
    key: &'de Node,
    value: &'de Node,
}

impl<'de> de::EnumAccess<'de> for NodeEnum<'de> {
    type Error = DecodeError;
    type Variant = NodeVariant<'de>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeVariant<'de>), DecodeError> {
        let v = seed
            .deserialize(self.key)
            .map_err(|e| e.at(&self.key.span))?;
        Ok((v, NodeVariant { value: self.value }))
    }
}

struct NodeVariant<'de> {
    value: &'de Node,
}

impl<'de> de::VariantAccess<'de> for NodeVariant<'de> {
    type Error = DecodeError;
    fn unit_variant(self) -> Result<(), DecodeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, DecodeError> {
        seed.deserialize(self.value)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_any(self.value, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_any(self.value, v)
    }
}
