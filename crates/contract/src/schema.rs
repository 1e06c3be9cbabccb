//! Reading a JSON Schema the way drift classification needs: local `$ref`s followed, the
//! types a node allows, its enum, properties and required fields. Only the keywords the
//! version folders use are understood; anything else counts as "any value".

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// How many `$ref`s in a row are followed (a cycle stops there).
const MAX_REFS: usize = 32;
/// How deep a schema is walked.
pub(crate) const MAX_DEPTH: usize = 64;

/// A schema document, for resolving its `$ref`s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Doc<'s> {
    root: &'s Value,
}

impl<'s> Doc<'s> {
    pub(crate) fn new(root: &'s Value) -> Self {
        Self { root }
    }

    /// `node` with its local `$ref`s followed (`#/$defs/party`); a remote or broken ref is
    /// left as it is (and so allows anything).
    pub(crate) fn resolve(&self, mut node: &'s Value) -> &'s Value {
        for _ in 0..MAX_REFS {
            let Some(target) = node.get("$ref").and_then(Value::as_str) else {
                return node;
            };
            let Some(pointer) = target.strip_prefix('#') else {
                return node;
            };
            match self.root.pointer(pointer) {
                Some(next) => node = next,
                None => return node,
            }
        }
        node
    }

    /// The branches of `anyOf`/`oneOf`, resolved.
    pub(crate) fn branches(&self, node: &'s Value) -> Option<Vec<&'s Value>> {
        let list = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)?;
        Some(list.iter().map(|b| self.resolve(b)).collect())
    }

    /// The JSON types `node` allows (`None`: any). From `type`, else from `enum`/`const`
    /// values, else the union of `anyOf`/`oneOf` branches (`None` if a branch allows any).
    pub(crate) fn types(&self, node: &'s Value) -> Option<BTreeSet<&'static str>> {
        if let Some(t) = node.get("type") {
            let names: Vec<&str> = match t {
                Value::String(s) => vec![s.as_str()],
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                _ => return None,
            };
            return Some(names.into_iter().filter_map(type_name).collect());
        }
        if let Some(values) = enum_values(node) {
            return Some(
                values
                    .iter()
                    .map(crate::drift::json_type)
                    .map(widen)
                    .collect(),
            );
        }
        if let Some(branches) = self.branches(node) {
            let mut all = BTreeSet::new();
            for b in branches {
                all.extend(self.types(b)?);
            }
            return Some(all);
        }
        None
    }
}

/// The values of `enum`, or the one of `const`.
pub(crate) fn enum_values(node: &Value) -> Option<Vec<Value>> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Some(values.clone());
    }
    node.get("const").map(|c| vec![c.clone()])
}

/// `properties`, when there are any.
pub(crate) fn properties(node: &Value) -> Option<&Map<String, Value>> {
    node.get("properties").and_then(Value::as_object)
}

/// `required`.
pub(crate) fn required(node: &Value) -> BTreeSet<&str> {
    node.get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether `additionalProperties: false`.
pub(crate) fn closed(node: &Value) -> bool {
    node.get("additionalProperties") == Some(&Value::Bool(false))
}

/// A value's type counts as allowed by `allowed` (an integer is a number).
pub(crate) fn allows(allowed: &BTreeSet<&'static str>, value: &Value) -> bool {
    let t = crate::drift::json_type(value);
    allowed.contains(t)
        || (t == "integer" && allowed.contains("number"))
        || (t == "number" && allowed.contains("integer") && is_whole(value))
}

fn is_whole(value: &Value) -> bool {
    value
        .as_f64()
        .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
}

/// Enum values compare as JSON types go: `integer` and `number` are both `number`.
fn widen(t: &'static str) -> &'static str {
    if t == "integer" { "number" } else { t }
}

fn type_name(t: &str) -> Option<&'static str> {
    Some(match t {
        "null" => "null",
        "boolean" => "boolean",
        "integer" => "integer",
        "number" => "number",
        "string" => "string",
        "array" => "array",
        "object" => "object",
        _ => return None,
    })
}

/// `string`, `string or null`.
pub(crate) fn describe_types(types: &BTreeSet<&str>) -> String {
    types.iter().copied().collect::<Vec<_>>().join(" or ")
}

/// A value for a message, cut to 60 characters.
pub(crate) fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn types_come_from_type_enum_and_branches_through_refs() {
        let root = json!({
            "$defs": {"when": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            "properties": {
                "at": {"$ref": "#/$defs/when"},
                "status": {"enum": ["a", "b", null]},
                "n": {"type": ["integer"]},
                "any": {}
            }
        });
        let doc = Doc::new(&root);
        let props = properties(&root).unwrap();
        let t = |k: &str| doc.types(doc.resolve(&props[k]));
        assert_eq!(describe_types(&t("at").unwrap()), "null or string");
        assert_eq!(describe_types(&t("status").unwrap()), "null or string");
        assert!(allows(&t("n").unwrap(), &json!(3)));
        assert!(!allows(&t("n").unwrap(), &json!("3")));
        assert_eq!(t("any"), None);
        // A $ref cycle stops.
        let cyc = json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"});
        let _ = Doc::new(&cyc).resolve(&cyc);
    }
}
