//! Values written in YAML whose strings may hold templates, with a position for each.

use std::fmt;

use serde::de::{self, Deserialize, MapAccess, SeqAccess, Visitor};

use crate::span::{Span, Spanned};

/// A YAML value whose strings may hold `{{ … }}` templates. Every node keeps its position
/// so that an error inside a JSON body points at the very string.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What the value is.
    pub kind: ValueKind,
    /// Where it was written.
    pub span: Option<Span>,
}

/// The shape of a [`Value`].
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// `null` or `~`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (integers stay integers).
    Number(serde_json::Number),
    /// A string; may hold templates.
    String(String),
    /// A list.
    Array(Vec<Value>),
    /// A mapping, in the order written.
    Object(Vec<(Spanned<String>, Value)>),
}

impl Value {
    /// A value built in code.
    pub fn from_json(json: &serde_json::Value) -> Self {
        let kind = match json {
            serde_json::Value::Null => ValueKind::Null,
            serde_json::Value::Bool(b) => ValueKind::Bool(*b),
            serde_json::Value::Number(n) => ValueKind::Number(n.clone()),
            serde_json::Value::String(s) => ValueKind::String(s.clone()),
            serde_json::Value::Array(a) => {
                ValueKind::Array(a.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => ValueKind::Object(
                o.iter()
                    .map(|(k, v)| (Spanned::new(k.clone()), Value::from_json(v)))
                    .collect(),
            ),
        };
        Self { kind, span: None }
    }

    /// The value as JSON, strings left as written (templates not rendered).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Number(n) => serde_json::Value::Number(n.clone()),
            ValueKind::String(s) => serde_json::Value::String(s.clone()),
            ValueKind::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_json).collect()),
            ValueKind::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| (k.value.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Calls `f` on every string in the value, with its position.
    pub fn for_each_string(&self, f: &mut dyn FnMut(&str, Option<&Span>)) {
        match &self.kind {
            ValueKind::String(s) => f(s, self.span.as_ref()),
            ValueKind::Array(a) => a.iter().for_each(|v| v.for_each_string(f)),
            ValueKind::Object(o) => o.iter().for_each(|(_, v)| v.for_each_string(f)),
            _ => {}
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl schemars::JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AnyValue".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "description": "any YAML value; strings may hold {{ templates }}" })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<Inner>::deserialize(d)?;
        Ok(Value {
            kind: s.value.0,
            span: s.span,
        })
    }
}

struct Inner(ValueKind);

impl<'de> Deserialize<'de> for Inner {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Inner;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            /// Another deserializer than ours: any value.
            fn visit_newtype_struct<D: de::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Inner, D::Error> {
                d.deserialize_any(self)
            }
            /// Ours: a number's exact digits (already in JSON's grammar).
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Inner, E> {
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<serde_json::Number>().ok())
                    .map(|n| Inner(ValueKind::Number(n)))
                    .ok_or_else(|| E::custom("invalid number"))
            }
            fn visit_unit<E>(self) -> Result<Inner, E> {
                Ok(Inner(ValueKind::Null))
            }
            fn visit_none<E>(self) -> Result<Inner, E> {
                Ok(Inner(ValueKind::Null))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Inner, E> {
                Ok(Inner(ValueKind::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Inner, E> {
                Ok(Inner(ValueKind::Number(v.into())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Inner, E> {
                Ok(Inner(ValueKind::Number(v.into())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Inner, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| Inner(ValueKind::Number(n)))
                    .ok_or_else(|| E::custom("a number must be finite"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Inner, E> {
                Ok(Inner(ValueKind::String(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Inner, E> {
                Ok(Inner(ValueKind::String(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Inner, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(Inner(ValueKind::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Inner, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, Value>()? {
                    entries.push((k, v));
                }
                Ok(Inner(ValueKind::Object(entries)))
            }
        }
        // The node deserializer answers with a number's exact digits (see
        // `node::EXACT_NUMBER_MAGIC`); others with any value.
        d.deserialize_newtype_struct(crate::node::EXACT_NUMBER_MAGIC, V)
    }
}

/// A mapping that keeps the position of each key, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct SpannedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for SpannedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> SpannedMap<V> {
    /// Iterates over keys and values.
    pub fn iter(&self) -> impl Iterator<Item = (&Spanned<String>, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SpannedMap<V> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = SpannedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(SpannedMap(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, V>()? {
                    entries.push((k, v));
                }
                Ok(SpannedMap(entries))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

impl<V: serde::Serialize> serde::Serialize for SpannedMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(&k.value, v)?;
        }
        m.end()
    }
}

impl<V: schemars::JsonSchema> schemars::JsonSchema for SpannedMap<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let inner = generator.subschema_for::<V>();
        schemars::json_schema!({ "type": "object", "additionalProperties": inner })
    }
}
