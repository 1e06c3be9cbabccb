//! An OpenAPI schema as a JSON Schema file the mock's validator reads on its own: the
//! component schemas it references (`#/components/schemas/Party`) copied into its `$defs`
//! (`#/$defs/Party`), OpenAPI-only keywords dropped and listed, 3.0's `nullable` written
//! as a `null` type.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::import::document::Document;

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
const COMPONENT: &str = "#/components/schemas/";
/// How deep a schema may nest (an OpenAPI document is input from outside).
const MAX_DEPTH: usize = 128;

/// A schema ready to be written, and the keywords left out of it.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) schema: Value,
    /// OpenAPI keywords that JSON Schema does not have (`discriminator`, `example`…).
    pub(crate) dropped: BTreeSet<String>,
}

/// The component a schema is, when it is one `$ref` to `#/components/schemas/NAME`.
pub(crate) fn component_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENT))
        .filter(|name| !name.contains('/'))
}

/// `schema` (a schema of `doc`) as a JSON Schema file titled `title` unless it has one.
pub(crate) fn json_schema(doc: &Document, schema: &Value, title: &str) -> Result<Written, String> {
    let root_name = component_name(schema).map(str::to_owned);
    let body = match &root_name {
        Some(name) => doc
            .at(&format!(
                "/components/schemas/{}",
                super::document::token(name)
            ))
            .ok_or_else(|| format!("`$ref: {COMPONENT}{name}` names nothing in the document"))?,
        None => schema,
    };
    let mut walk = Walk {
        is_30: doc.is_30(),
        root: root_name,
        dropped: BTreeSet::new(),
        wanted: Vec::new(),
    };
    let converted = walk.schema(body, 0)?;
    let mut defs = Map::new();
    let mut i = 0;
    while i < walk.wanted.len() {
        let name = walk.wanted[i].clone();
        i += 1;
        let def = doc
            .at(&format!(
                "/components/schemas/{}",
                super::document::token(&name)
            ))
            .ok_or_else(|| format!("`$ref: {COMPONENT}{name}` names nothing in the document"))?;
        let def = walk.schema(def, 0)?;
        defs.insert(name, def);
    }
    let mut out = Map::new();
    out.insert("$schema".into(), DRAFT.into());
    match converted {
        Value::Object(map) => {
            if !map.contains_key("title") {
                out.insert("title".into(), title.into());
            }
            out.extend(map);
        }
        // `true`/`false` schemas: anything / nothing.
        other => {
            out.insert("title".into(), title.into());
            out.insert("allOf".into(), json!([other]));
        }
    }
    if !defs.is_empty() {
        out.insert("$defs".into(), Value::Object(defs));
    }
    Ok(Written {
        schema: Value::Object(out),
        dropped: walk.dropped,
    })
}

struct Walk {
    is_30: bool,
    root: Option<String>,
    dropped: BTreeSet<String>,
    wanted: Vec<String>,
}

impl Walk {
    fn schema(&mut self, value: &Value, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("a schema nests deeper than {MAX_DEPTH} levels"));
        }
        let Value::Object(map) = value else {
            return Ok(value.clone());
        };
        let mut out = Map::new();
        let mut nullable = false;
        for (key, v) in map {
            let converted = match key.as_str() {
                "$ref" => Value::String(self.reference(v)?),
                "nullable" if self.is_30 => {
                    nullable = v == &Value::Bool(true);
                    continue;
                }
                "nullable" | "discriminator" | "xml" | "externalDocs" | "example" => {
                    self.dropped.insert(key.clone());
                    continue;
                }
                "properties" | "patternProperties" | "$defs" | "definitions"
                | "dependentSchemas" => match v {
                    Value::Object(children) => {
                        let mut m = Map::new();
                        for (name, child) in children {
                            m.insert(name.clone(), self.schema(child, depth + 1)?);
                        }
                        Value::Object(m)
                    }
                    other => other.clone(),
                },
                "items"
                | "additionalProperties"
                | "not"
                | "contains"
                | "if"
                | "then"
                | "else"
                | "propertyNames"
                | "unevaluatedItems"
                | "unevaluatedProperties"
                | "additionalItems" => self.schema(v, depth + 1)?,
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => match v {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| self.schema(i, depth + 1))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => other.clone(),
                },
                _ => v.clone(),
            };
            out.insert(key.clone(), converted);
        }
        if nullable {
            return Ok(null_allowed(out));
        }
        Ok(Value::Object(out))
    }

    fn reference(&mut self, v: &Value) -> Result<String, String> {
        let Some(target) = v.as_str() else {
            return Err(format!("`$ref: {v}` is not a string"));
        };
        let Some(rest) = target.strip_prefix(COMPONENT) else {
            if target == "#" || target.starts_with("#/$defs/") {
                return Ok(target.to_owned());
            }
            return Err(format!(
                "`$ref: {target}`: a schema may only reference #/components/schemas/… (bundle external files first)"
            ));
        };
        let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("/{tail}")
        };
        if self.root.as_deref() == Some(name) {
            return Ok(format!("#{tail}"));
        }
        if !self.wanted.iter().any(|w| w == name) {
            self.wanted.push(name.to_owned());
        }
        Ok(format!("#/$defs/{name}{tail}"))
    }
}

/// OpenAPI 3.0's `nullable: true`: `null` is allowed too.
fn null_allowed(mut out: Map<String, Value>) -> Value {
    match out.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => {
            if !types.contains(&Value::from("null")) {
                types.push("null".into());
            }
        }
        _ => {
            if let Some(Value::Array(values)) = out.get_mut("enum") {
                values.push(Value::Null);
            } else {
                return json!({"anyOf": [Value::Object(out), {"type": "null"}]});
            }
        }
    }
    if let Some(Value::Array(values)) = out.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> Document {
        match Document::parse(yaml) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn components_become_defs_and_openapi_keywords_are_dropped() {
        let d = doc(r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Payment:
      type: object
      discriminator: {propertyName: kind}
      properties:
        creditor: {$ref: "#/components/schemas/Party"}
        next: {$ref: "#/components/schemas/Payment"}
    Party:
      type: object
      example: {name: x}
      properties: {name: {type: string}}
"##);
        let w = json_schema(
            &d,
            &json!({"$ref": "#/components/schemas/Payment"}),
            "v9 payment",
        )
        .unwrap();
        assert_eq!(
            w.schema,
            json!({
                "$schema": DRAFT, "title": "v9 payment", "type": "object",
                "properties": {"creditor": {"$ref": "#/$defs/Party"}, "next": {"$ref": "#"}},
                "$defs": {"Party": {"type": "object", "properties": {"name": {"type": "string"}}}}
            })
        );
        assert_eq!(
            w.dropped.into_iter().collect::<Vec<_>>(),
            ["discriminator", "example"]
        );
        assert!(jsonschema::validator_for(&w.schema).is_ok());
    }

    #[test]
    fn a_30_nullable_allows_null() {
        let d = doc("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n");
        let s = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"enum": ["x"], "nullable": true},
            "c": {"$ref": "#/components/schemas/X", "nullable": true},
            "d": {"type": "string", "nullable": false}
        }});
        let w = json_schema(&d, &s, "t").unwrap_err();
        assert!(w.contains("names nothing"), "{w}");
        let s = json!({"type": "object", "properties": {
            "a": {"type": "string", "nullable": true},
            "b": {"enum": ["x"], "nullable": true},
            "d": {"type": "string", "nullable": false}
        }});
        let w = json_schema(&d, &s, "t").unwrap();
        assert_eq!(
            w.schema["properties"]["a"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(w.schema["properties"]["b"]["enum"], json!(["x", null]));
        assert_eq!(w.schema["properties"]["d"], json!({"type": "string"}));
    }

    #[test]
    fn external_refs_are_refused() {
        let d = doc("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n");
        let e = json_schema(&d, &json!({"$ref": "common.yaml#/Party"}), "t").unwrap_err();
        assert!(e.contains("bundle"), "{e}");
    }
}
