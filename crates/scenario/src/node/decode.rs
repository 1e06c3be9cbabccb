//! A serde deserializer over the node tree whose errors carry the position of the
//! offending node, in plain words ("expected a whole number, got `many`").
//!
//! The model types derive `Deserialize` as usual and are decoded from the nodes. Decoding
//! from our own tree (rather than straight from the text) lets every error — an unknown
//! key, a wrong type, a bad duration — point at the exact key or value, and lets
//! [`super::recover`] set a bad node aside and decode again to find the next problem.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::tree::{Kind, Node, NodeId};
use crate::decimal::Decimal;
use crate::span::{SPANNED_MAGIC, Span};

/// Name of the newtype through which [`crate::Value`] asks for a number's exact digits
/// (handed over as bytes, which no other node produces).
pub(crate) const EXACT_NUMBER_MAGIC: &str = "$__rehearse_exact_number";

/// What kind of problem a decode error is, which says how to set it aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrKind {
    /// A key the type does not know: drop the entry.
    UnknownKey,
    /// A required key is absent: add it with a neutral value.
    MissingKey(&'static str),
    /// The node itself is wrong: replace it with a neutral value.
    Other,
}

/// An error found while decoding a node into a model type.
#[derive(Debug, Clone)]
pub(crate) struct DecodeError {
    pub(crate) message: String,
    pub(crate) help: Option<String>,
    pub(crate) span: Option<Span>,
    pub(crate) node: Option<NodeId>,
    pub(crate) kind: ErrKind,
}

impl DecodeError {
    fn new(message: String, help: Option<&str>) -> Self {
        Self {
            message,
            help: help.map(str::to_owned),
            span: None,
            node: None,
            kind: ErrKind::Other,
        }
    }

    /// Attributes the error to the innermost node it came from.
    fn at(mut self, node: &Node<'_>) -> Self {
        if self.node.is_none() {
            self.node = Some(node.id);
            self.span = Some(node.span.clone());
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
        Self::new(msg.to_string(), None)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = unknown("key", field, expected);
        e.kind = ErrKind::UnknownKey;
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        unknown("value", variant, expected)
    }

    fn missing_field(field: &'static str) -> Self {
        Self {
            message: format!("missing key `{field}`"),
            help: Some(format!("add `{field}:` here")),
            span: None,
            node: None,
            kind: ErrKind::MissingKey(field),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "expected {}, got {}",
            plain_expected(&exp.to_string()),
            plain_unexpected(&unexp)
        ))
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }
}

/// serde's names of types, in words a scenario author knows.
fn plain_expected(exp: &str) -> String {
    match exp {
        "a sequence" => "a list".to_owned(),
        "a map" | "map" => "a mapping".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a string" | "a borrowed string" => "text".to_owned(),
        e if e.starts_with("struct ") => "a mapping (`key: value` lines)".to_owned(),
        e if e.starts_with(['u', 'i']) && e[1..].parse::<u8>().is_ok() => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        e => e.to_owned(),
    }
}

fn plain_unexpected(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("`{b}`"),
        U::Unsigned(n) => format!("`{n}`"),
        U::Signed(n) => format!("`{n}`"),
        U::Float(n) => format!("`{n}`"),
        U::Char(c) => format!("`{c}`"),
        U::Str(s) => format!("`{}`", crate::matcher::excerpt(s, 40)),
        U::Unit | U::Option => "null".to_owned(),
        U::Seq => "a list".to_owned(),
        U::Map => "a mapping".to_owned(),
        other => other.to_string(),
    }
}

/// `unknown key `x``, with "did you mean" or the list of what is known.
fn unknown(what: &str, written: &str, expected: &[&str]) -> DecodeError {
    let help = did_you_mean(written, expected.iter().copied()).unwrap_or_else(|| {
        let list: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
        format!("expected one of {}", list.join(", "))
    });
    DecodeError::new(format!("unknown {what} `{written}`"), Some(&help))
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
pub(crate) fn decode<'de, T: de::Deserialize<'de>>(node: &'de Node<'_>) -> Result<T, DecodeError> {
    T::deserialize(node)
}

fn mismatch(node: &Node<'_>, expected: &str, help: Option<&str>) -> DecodeError {
    DecodeError::new(format!("expected {expected}, got {}", node.got()), help)
}

/// Words YAML 1.1 read as booleans; here they are text, and where a boolean is wanted
/// they get a hint.
const YAML11_BOOLS: &[&str] = &["yes", "no", "on", "off", "y", "n"];

impl Node<'_> {
    /// A whole number in `[min, max]`, visited as the narrowest serde integer.
    fn whole<'de, V: Visitor<'de>>(
        &'de self,
        v: V,
        min: i128,
        max: i128,
    ) -> Result<V::Value, DecodeError> {
        let n = match &self.kind {
            Kind::Neutral(_) => 0,
            Kind::Number(raw) => match Decimal::parse(raw).and_then(|d| d.to_i128()) {
                Some(n) if (min..=max).contains(&n) => n,
                Some(_) | None if Decimal::parse(raw).is_some_and(|d| d.is_integer()) => {
                    return Err(mismatch(
                        self,
                        &format!("a whole number from {min} to {max}"),
                        None,
                    ));
                }
                _ => return Err(mismatch(self, "a whole number", None)),
            },
            _ => return Err(mismatch(self, "a whole number", None)),
        };
        if let Ok(i) = i64::try_from(n) {
            v.visit_i64(i)
        } else if let Ok(u) = u64::try_from(n) {
            v.visit_u64(u)
        } else {
            v.visit_i128(n)
        }
    }

    fn float<'de, V: Visitor<'de>>(&'de self, v: V) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Neutral(_) => v.visit_f64(0.0),
            Kind::Number(raw) => match raw.parse::<f64>() {
                Ok(f) if f.is_finite() => v.visit_f64(f),
                _ => Err(mismatch(self, "a number", None)),
            },
            _ => Err(mismatch(self, "a number", None)),
        }
    }
}

macro_rules! whole {
    ($($method:ident $ty:ty),*) => {
        $(
            fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
                self.whole(v, i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))
                    .map_err(|e| e.at(self))
            }
        )*
    };
}

impl<'de, 's> de::Deserializer<'de> for &'de Node<'s> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        let r = match &self.kind {
            Kind::Null => v.visit_unit(),
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Number(raw) => {
                if let Ok(i) = raw.parse::<i64>() {
                    v.visit_i64(i)
                } else if let Ok(u) = raw.parse::<u64>() {
                    v.visit_u64(u)
                } else {
                    // Exact digits go to `Value` through `EXACT_NUMBER_MAGIC`; a type that
                    // asks for "anything" gets the nearest float.
                    self.float(v)
                }
            }
            Kind::Str { text, .. } => v.visit_borrowed_str(text),
            Kind::Seq(items) => v.visit_seq(NodeSeq { iter: items.iter() }),
            Kind::Map(entries) => v.visit_map(NodeMap {
                iter: entries.iter(),
                value: None,
            }),
            Kind::Neutral(stage) => match stage {
                0 => v.visit_str(""),
                1 => v.visit_u64(0),
                2 => v.visit_unit(),
                3 => v.visit_map(NodeMap {
                    iter: [].iter(),
                    value: None,
                }),
                _ => v.visit_seq(NodeSeq { iter: [].iter() }),
            },
        };
        r.map_err(|e| e.at(self))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Bool(b) => v.visit_bool(*b),
            Kind::Neutral(_) => v.visit_bool(false),
            Kind::Str { text, plain: true }
                if YAML11_BOOLS.contains(&text.to_ascii_lowercase().as_str()) =>
            {
                Err(DecodeError::new(
                    format!(
                        "expected true or false, got `{text}` (which is text here, not a boolean)"
                    ),
                    Some("write true or false"),
                ))
            }
            _ => Err(mismatch(self, "true or false", Some("write true or false"))),
        }
        .map_err(|e| e.at(self))
    }

    whole!(deserialize_i8 i8, deserialize_i16 i16, deserialize_i32 i32, deserialize_i64 i64,
        deserialize_u8 u8, deserialize_u16 u16, deserialize_u32 u32, deserialize_u64 u64);

    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.whole(v, i128::MIN, i128::MAX).map_err(|e| e.at(self))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.whole(v, 0, i128::MAX).map_err(|e| e.at(self))
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.float(v).map_err(|e| e.at(self))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.float(v).map_err(|e| e.at(self))
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        // YAML users write `status: 200` or `version: 1.20` where text is wanted: a
        // scalar is its text, exactly as written.
        match &self.kind {
            Kind::Str { text, .. } | Kind::Number(text) => v.visit_borrowed_str(text),
            Kind::Bool(b) => v.visit_str(if *b { "true" } else { "false" }),
            Kind::Neutral(_) => v.visit_str(""),
            Kind::Null => Err(mismatch(
                self,
                "text",
                Some("write the text, or leave the key out"),
            )),
            Kind::Seq(_) | Kind::Map(_) => Err(mismatch(
                self,
                "text",
                Some("quote text that holds `: `, or starts with `[`, `{`, `-`, `&`, `*` or `!`"),
            )),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_any(v)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_any(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match self.kind {
            Kind::Null | Kind::Neutral(_) => v.visit_none(),
            _ => v.visit_some(self),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_any(v)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_any(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        match (&self.kind, name) {
            (_, SPANNED_MAGIC) => {
                CURRENT_SPAN.with(|c| *c.borrow_mut() = Some(self.span.clone()));
                v.visit_newtype_struct(self)
            }
            (Kind::Number(raw), EXACT_NUMBER_MAGIC) => v.visit_borrowed_bytes(raw.as_bytes()),
            (_, EXACT_NUMBER_MAGIC) => return self.deserialize_any(v),
            _ => v.visit_newtype_struct(self),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Seq(items) => v.visit_seq(NodeSeq { iter: items.iter() }),
            Kind::Neutral(_) => v.visit_seq(NodeSeq { iter: [].iter() }),
            Kind::Null => v.visit_unit(),
            _ => Err(mismatch(
                self,
                "a list",
                Some("write each item on its own line, starting with `- `"),
            )),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DecodeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Map(entries) => v.visit_map(NodeMap {
                iter: entries.iter(),
                value: None,
            }),
            Kind::Neutral(_) => v.visit_map(NodeMap {
                iter: [].iter(),
                value: None,
            }),
            Kind::Null => v.visit_unit(),
            _ => Err(mismatch(self, "a mapping (`key: value` lines)", None)),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Map(entries) => v.visit_map(NodeMap {
                iter: entries.iter(),
                value: None,
            }),
            // Every field neutral, so that no "missing key" follows from a node that was
            // already reported.
            Kind::Neutral(_) => v.visit_map(NeutralFields {
                fields: fields.iter(),
            }),
            _ => Err(mismatch(self, "a mapping (`key: value` lines)", None)),
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        match &self.kind {
            Kind::Str { text, .. } => v.visit_enum(text.as_ref().into_deserializer()),
            Kind::Map(entries) if entries.len() == 1 => v.visit_enum(NodeEnum {
                key: &entries[0].0,
                value: &entries[0].1,
            }),
            Kind::Neutral(_) => v.visit_enum(NeutralEnum {
                variant: variants.first().copied().unwrap_or(""),
            }),
            _ => {
                let list: Vec<String> = variants.iter().map(|k| format!("`{k}`")).collect();
                Err(mismatch(self, &format!("one of {}", list.join(", ")), None))
            }
        }
        .map_err(|e| e.at(self))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        self.deserialize_string(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DecodeError> {
        v.visit_unit()
    }
}

struct NodeSeq<'de, 's> {
    iter: std::slice::Iter<'de, Node<'s>>,
}

impl<'de, 's> SeqAccess<'de> for NodeSeq<'de, 's> {
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

struct NodeMap<'de, 's> {
    iter: std::slice::Iter<'de, (Node<'s>, Node<'s>)>,
    value: Option<&'de Node<'s>>,
}

impl<'de, 's> MapAccess<'de> for NodeMap<'de, 's> {
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

/// The fields of a struct, each with a neutral value.
struct NeutralFields {
    fields: std::slice::Iter<'static, &'static str>,
}

/// The neutral value of a field of a neutral struct. Its first shape for "anything" is
/// `0` (a duration's), not the empty string, since text fields take `""` either way.
static NEUTRAL: std::sync::LazyLock<Node<'static>> = std::sync::LazyLock::new(|| Node {
    kind: Kind::Neutral(1),
    span: Span::file_start(&crate::span::SourceFile::new("", "")),
    id: NodeId::MAX,
});

impl<'de> MapAccess<'de> for NeutralFields {
    type Error = DecodeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        match self.fields.next() {
            Some(f) => seed
                .deserialize(de::value::StrDeserializer::<DecodeError>::new(f))
                .map(Some),
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let neutral: &'de Node<'static> = &NEUTRAL;
        seed.deserialize(neutral)
    }
}

struct NeutralEnum {
    variant: &'static str,
}

impl<'de> de::EnumAccess<'de> for NeutralEnum {
    type Error = DecodeError;
    type Variant = NodeVariant<'de, 'static>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeVariant<'de, 'static>), DecodeError> {
        let name = de::value::StrDeserializer::<DecodeError>::new(self.variant);
        let v = seed.deserialize(name)?;
        let value: &'de Node<'static> = &NEUTRAL;
        Ok((v, NodeVariant { value }))
    }
}

struct NodeEnum<'de, 's> {
    key: &'de Node<'s>,
    value: &'de Node<'s>,
}

impl<'de, 's> de::EnumAccess<'de> for NodeEnum<'de, 's> {
    type Error = DecodeError;
    type Variant = NodeVariant<'de, 's>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeVariant<'de, 's>), DecodeError> {
        let v = seed.deserialize(self.key).map_err(|e| e.at(self.key))?;
        Ok((v, NodeVariant { value: self.value }))
    }
}

struct NodeVariant<'de, 's> {
    value: &'de Node<'s>,
}

impl<'de, 's> de::VariantAccess<'de> for NodeVariant<'de, 's> {
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
        de::Deserializer::deserialize_seq(self.value, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DecodeError> {
        de::Deserializer::deserialize_struct(self.value, "", fields, v)
    }
}
