//! An OpenAPI 3.0 or 3.1 document, YAML or JSON: read through [oas3] for its structure
//! (operations, parameters, security schemes, webhooks), and kept as JSON for its schemas,
//! which are written out as JSON Schemas and so must keep every keyword.

use serde_json::Value;

/// How many `$ref`s a chain may follow before it is taken for a cycle.
const MAX_REF_HOPS: usize = 32;
/// How deep a document may nest (serde's typed reading recurses once per level).
const MAX_NESTING: usize = 128;

/// A parsed document.
#[derive(Debug)]
pub(crate) struct Document {
    /// The document as JSON (3.0 spellings rewritten, see [`Document::parse`]).
    pub(crate) raw: Value,
    /// The same, typed.
    pub(crate) spec: oas3::Spec,
    /// `3.0.3`, `3.1.0`.
    pub(crate) openapi: String,
    /// Rewrites done to read a 3.0 document as 3.1, for the notes.
    pub(crate) rewrites: Vec<String>,
}

impl Document {
    /// Reads `text` (JSON if it starts with `{`, else YAML). A 3.0 document's boolean
    /// `exclusiveMinimum`/`exclusiveMaximum` become 3.1's numbers (oas3 reads 3.1) and a
    /// relative OAuth `tokenUrl` is read against `https://bank.invalid`; `nullable` is
    /// handled when schemas are written ([`crate::import::schema`]).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut raw: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?
        } else {
            serde_saphyr::from_str(text).map_err(|e| format!("not YAML: {e}"))?
        };
        if nesting(&raw) > MAX_NESTING {
            return Err(format!(
                "nests deeper than {MAX_NESTING} levels: is it an OpenAPI document?"
            ));
        }
        let openapi = match raw.get("openapi") {
            Some(Value::String(v)) => v.clone(),
            Some(other) => other.to_string(),
            None => {
                return Err(
                    "no `openapi` field: this is not an OpenAPI 3.0 or 3.1 document (Swagger 2.0 is not read; convert it first)"
                        .to_owned(),
                );
            }
        };
        let is_30 = openapi.starts_with("3.0");
        if !is_30 && !openapi.starts_with("3.1") {
            return Err(format!(
                "`openapi: {openapi}`: only OpenAPI 3.0 and 3.1 documents are read"
            ));
        }
        let mut rewrites = Vec::new();
        if is_30 {
            exclusive_bounds(&mut raw, &mut rewrites, 0);
            if !rewrites.is_empty() {
                rewrites.sort();
                rewrites.dedup();
            }
        }
        relative_token_urls(&mut raw, &mut rewrites);
        let spec: oas3::Spec = serde_json::from_value(raw.clone())
            .map_err(|e| format!("not a valid OpenAPI document: {e}"))?;
        Ok(Self {
            raw,
            spec,
            openapi,
            rewrites,
        })
    }

    /// Whether the document is OpenAPI 3.0 (`nullable`, `example` are its spellings).
    pub(crate) fn is_30(&self) -> bool {
        self.openapi.starts_with("3.0")
    }

    /// The value at a JSON pointer of the document.
    pub(crate) fn at(&self, pointer: &str) -> Option<&Value> {
        self.raw.pointer(pointer)
    }

    /// `value`, or what its `$ref` (a pointer into this document) names, followed until
    /// the value is not a reference.
    pub(crate) fn follow<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value, String> {
        for _ in 0..MAX_REF_HOPS {
            let Some(Value::String(target)) = value.get("$ref") else {
                return Ok(value);
            };
            value = self.target(target)?;
        }
        Err(format!(
            "more than {MAX_REF_HOPS} `$ref`s in a chain: is it a cycle?"
        ))
    }

    /// What a local `$ref` (`#/components/schemas/Payment`) names.
    pub(crate) fn target(&self, reference: &str) -> Result<&Value, String> {
        let Some(pointer) = reference.strip_prefix('#') else {
            return Err(format!(
                "`$ref: {reference}` points outside the document: only local references (#/components/…) are read; bundle the document first"
            ));
        };
        self.at(pointer)
            .ok_or_else(|| format!("`$ref: {reference}` names nothing in the document"))
    }
}

/// How deep `value` nests, found without recursion.
fn nesting(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match v {
            Value::Object(map) => stack.extend(map.values().map(|c| (c, depth + 1))),
            Value::Array(items) => stack.extend(items.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// The escaped JSON pointer token of `key` (`/` → `~1`, `~` → `~0`).
pub(crate) fn token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// OpenAPI 3.0's `exclusiveMinimum: true` (with `minimum`) is 3.1's `exclusiveMinimum: N`.
/// Example values are not schemas and are left as written.
fn exclusive_bounds(value: &mut Value, rewrites: &mut Vec<String>, depth: usize) {
    if depth > 256 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(on)) = map.get(flag).cloned() {
                    map.remove(flag);
                    if on && let Some(n) = map.remove(bound) {
                        map.insert(flag.to_owned(), n);
                    }
                    rewrites.push(format!(
                        "boolean `{flag}` (OpenAPI 3.0) written as JSON Schema's number form"
                    ));
                }
            }
            for (key, child) in map.iter_mut() {
                if !matches!(
                    key.as_str(),
                    "example" | "examples" | "enum" | "const" | "default"
                ) {
                    exclusive_bounds(child, rewrites, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                exclusive_bounds(item, rewrites, depth + 1);
            }
        }
        _ => {}
    }
}

/// oas3 wants an absolute `tokenUrl`; OpenAPI allows one relative to the server. Only its
/// path is used (the mock serves the token endpoint on its own address).
fn relative_token_urls(raw: &mut Value, rewrites: &mut Vec<String>) {
    let Some(Value::Object(schemes)) = raw.pointer_mut("/components/securitySchemes") else {
        return;
    };
    for scheme in schemes.values_mut() {
        let Some(Value::Object(flows)) = scheme.get_mut("flows") else {
            continue;
        };
        for flow in flows.values_mut() {
            for key in ["tokenUrl", "authorizationUrl", "refreshUrl"] {
                if let Some(Value::String(url)) = flow.get_mut(key)
                    && url.starts_with('/')
                {
                    rewrites.push(format!(
                        "relative `{key}` `{url}` read as a path of the bank's address"
                    ));
                    *url = format!("https://bank.invalid{url}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yaml_and_json_and_refuses_other_versions() {
        let yaml = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n";
        let doc = Document::parse(yaml).unwrap();
        assert_eq!(doc.openapi, "3.1.0");
        let json = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}"#;
        assert!(Document::parse(json).unwrap().is_30());
        assert_eq!(
            Document::parse("swagger: '2.0'\n").unwrap_err(),
            "no `openapi` field: this is not an OpenAPI 3.0 or 3.1 document (Swagger 2.0 is not read; convert it first)"
        );
        assert_eq!(
            Document::parse("openapi: 4.0.0\n").unwrap_err(),
            "`openapi: 4.0.0`: only OpenAPI 3.0 and 3.1 documents are read"
        );
    }

    #[test]
    fn a_document_nested_too_deep_is_refused_without_recursing() {
        let deep = format!(
            "openapi: 3.1.0\nx: {}1{}\n",
            "[".repeat(200),
            "]".repeat(200)
        );
        let e = Document::parse(&deep).unwrap_err();
        assert!(
            e.contains("nests deeper than 128 levels") || e.starts_with("not YAML"),
            "{e}"
        );
    }

    #[test]
    fn a_30_boolean_exclusive_bound_becomes_a_number() {
        let yaml = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    N: {type: number, minimum: 0, exclusiveMinimum: true, example: {exclusiveMinimum: true}}\n";
        let doc = Document::parse(yaml).unwrap();
        let n = doc.at("/components/schemas/N").unwrap();
        assert_eq!(n["exclusiveMinimum"], 0);
        assert_eq!(n.get("minimum"), None);
        assert_eq!(n["example"]["exclusiveMinimum"], true);
    }

    #[test]
    fn refs_are_followed_and_cycles_stop() {
        let yaml = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {$ref: '#/components/schemas/B'}\n    B: {type: string}\n    C: {$ref: '#/components/schemas/C'}\n";
        let doc = Document::parse(yaml).unwrap();
        let a = doc.at("/components/schemas/A").unwrap();
        assert_eq!(doc.follow(a).unwrap()["type"], "string");
        let c = doc.at("/components/schemas/C").unwrap();
        assert!(doc.follow(c).unwrap_err().contains("cycle"));
        assert!(doc.target("other.yaml#/x").unwrap_err().contains("outside"));
    }
}
