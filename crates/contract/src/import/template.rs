//! Response templates from response schemas: each property of the schema gets what the
//! mock's engine puts there (`"{{id}}"`, `{"$each": "status_history", …}`, a constant), as
//! the mapping says, or as the request's mapped fields, the schema's `const` or the
//! property's name make plain. What is none of these is listed, never guessed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::import::document::{Document, token};
use crate::import::mapping::Slot;

const MAX_DEPTH: usize = 64;

/// The templates the engine renders, and what it knows when it renders each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Payment,
    Error,
    List,
    Token,
    OauthError,
    /// A status-change webhook's body (the manifest's `webhooks.event_template`).
    Event,
}

/// A placeholder, and for a list of objects the placeholders of each item.
type Var = (&'static str, &'static [&'static str]);

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Error => "error",
            Self::List => "list",
            Self::Token => "token",
            Self::OauthError => "oauth_error",
            Self::Event => "event",
        }
    }

    pub(crate) fn file(self) -> &'static str {
        match self {
            Self::Payment => "templates/payment.json",
            Self::Error => "templates/error.json",
            Self::List => "templates/list.json",
            Self::Token => "templates/token.json",
            Self::OauthError => "templates/oauth-error.json",
            Self::Event => "templates/event.json",
        }
    }

    /// The engine's placeholders (`crates/bank-mock`: `payment_view.rs`, `engine.rs`).
    pub(crate) fn vars(self) -> &'static [Var] {
        match self {
            Self::Payment => &[
                ("id", &[]),
                ("status", &[]),
                ("amount_minor", &[]),
                ("amount_decimal", &[]),
                ("currency", &[]),
                ("creditor", &[]),
                ("debtor", &[]),
                ("reference", &[]),
                ("created_at", &[]),
                ("updated_at", &[]),
                ("review_required", &[]),
                ("review_reason", &[]),
                ("review_decision", &[]),
                ("review_note", &[]),
                ("review_decided_at", &[]),
                ("status_history", &["status", "at"]),
            ],
            Self::Error => &[
                ("status", &[]),
                ("code", &[]),
                ("title", &[]),
                ("message", &[]),
                ("field_names", &[]),
                ("fields", &["name", "problem"]),
            ],
            Self::List => &[("items", &[]), ("next_cursor", &[])],
            Self::Token => &[("access_token", &[]), ("expires_in", &[])],
            Self::OauthError => &[("code", &[]), ("message", &[])],
            // `crates/bank-mock/src/webhooks/dispatch.rs`.
            Self::Event => &[
                ("id", &[]),
                ("type", &[]),
                ("payment_id", &[]),
                ("status", &[]),
                ("sequence", &[]),
                ("occurred_at", &[]),
                ("reference", &[]),
                ("reason", &[]),
            ],
        }
    }

    pub(crate) fn all() -> [Self; 6] {
        [
            Self::Payment,
            Self::Error,
            Self::List,
            Self::Token,
            Self::OauthError,
            Self::Event,
        ]
    }
}

/// A generated template and what was found on the way.
#[derive(Debug, Default)]
pub(crate) struct Generated {
    pub(crate) template: Value,
    /// What was filled in without the mapping naming it, and why.
    pub(crate) inferred: Vec<String>,
    /// Optional properties with no placeholder, left out of the template.
    pub(crate) left_out: Vec<String>,
    /// Required properties with no placeholder, and mapping entries that fit nothing.
    pub(crate) problems: Vec<String>,
    /// Where each placeholder was put, with the property's schema (for the statuses' enum
    /// and the id's pattern).
    pub(crate) placed: BTreeMap<String, Value>,
}

/// The template of `kind` for a response `schema` of `doc`. `slots` is the mapping's
/// section for this template; `derived` are pointers the engine's vars are known to be at
/// (the payment request's mapped fields, echoed in the payment).
pub(crate) fn generate(
    doc: &Document,
    kind: Kind,
    schema: &Value,
    slots: &BTreeMap<String, Slot>,
    derived: &[(String, &'static str)],
) -> Generated {
    let mut g = Gen {
        doc,
        kind,
        slots,
        derived,
        used: BTreeSet::new(),
        out: Generated::default(),
    };
    let scope: Vec<Var> = kind.vars().to_vec();
    g.out.template = match g.object(schema, "", &scope, 0) {
        Some(t) => t,
        None => {
            g.out.problems.push(format!(
                "the {} response's schema is not an object with properties: there is nothing to build the `{}` template from",
                kind.name(),
                kind.name()
            ));
            Value::Null
        }
    };
    for pointer in slots.keys() {
        if !g.used.contains(pointer) {
            g.out.problems.push(format!(
                "mapping `templates.{}.{pointer}`: the response schema has no property there (pointers look like /review/reason, /history/*/status)",
                kind.name()
            ));
        }
    }
    g.out
}

struct Gen<'a> {
    doc: &'a Document,
    kind: Kind,
    slots: &'a BTreeMap<String, Slot>,
    derived: &'a [(String, &'static str)],
    used: BTreeSet<String>,
    out: Generated,
}

impl Gen<'_> {
    /// An object schema's template, `None` when it has no properties.
    fn object(&mut self, schema: &Value, at: &str, scope: &[Var], depth: usize) -> Option<Value> {
        let props = properties(self.doc, schema, depth).ok()?;
        if props.is_empty() {
            return None;
        }
        let mut out = Map::new();
        for (name, prop, required) in props {
            let pointer = format!("{at}/{}", token(&name));
            if let Some(v) = self.property(&pointer, &prop, required, scope, depth) {
                out.insert(name, v);
            }
        }
        Some(Value::Object(out))
    }

    fn property(
        &mut self,
        pointer: &str,
        schema: &Value,
        required: bool,
        scope: &[Var],
        depth: usize,
    ) -> Option<Value> {
        let what = self.kind.name();
        let resolved = self.doc.follow(schema).unwrap_or(schema).clone();
        if let Some(slot) = self.slots.get(pointer) {
            self.used.insert(pointer.to_owned());
            return match slot {
                Slot::Literal(l) if l.omit => None,
                Slot::Literal(l) => Some(l.value.clone().unwrap_or(Value::Null)),
                Slot::Text(text) if text.contains("{{") => {
                    for name in placeholders(text) {
                        if !scope.iter().any(|(v, _)| *v == name) {
                            self.out.problems.push(unknown(what, pointer, &name, scope));
                        }
                    }
                    Some(Value::String(text.clone()))
                }
                Slot::Text(name) => match scope.iter().find(|(v, _)| v == name) {
                    Some(var) => Some(self.place(pointer, &resolved, *var, depth)),
                    None => {
                        self.out.problems.push(unknown(what, pointer, name, scope));
                        None
                    }
                },
            };
        }
        if let Some((_, var)) = self.derived.iter().find(|(p, _)| p == pointer)
            && let Some(var) = scope.iter().find(|(v, _)| v == var)
        {
            self.out.inferred.push(format!(
                "`{what}` template: `{pointer}` is `{{{{{}}}}}`, as the payment request's field at the same pointer",
                var.0
            ));
            return Some(self.place(pointer, &resolved, *var, depth));
        }
        if let Some(constant) = constant(&resolved) {
            self.out.inferred.push(format!(
                "`{what}` template: `{pointer}` is the constant {constant} its schema allows"
            ));
            return Some(constant);
        }
        let name = pointer.rsplit('/').next().unwrap_or_default();
        if let Some(var) = scope.iter().find(|(v, _)| *v == name) {
            self.out.inferred.push(format!(
                "`{what}` template: `{pointer}` is `{{{{{name}}}}}`, by its name"
            ));
            return Some(self.place(pointer, &resolved, *var, depth));
        }
        if depth < MAX_DEPTH
            && let Some(nested) = self.object(&resolved, pointer, scope, depth + 1)
        {
            return Some(nested);
        }
        if required {
            self.out.problems.push(format!(
                "`{what}` template: `{pointer}` is required by the response schema but nothing the mock knows goes there: map it under `templates.{what}` (one of: {}), or give it as `{{const: …}}`",
                names(scope)
            ));
        } else {
            self.out.left_out.push(format!(
                "`{what}` template: optional `{pointer}` has no placeholder and is left out (map it under `templates.{what}` to send it)"
            ));
        }
        None
    }

    /// `"{{var}}"`, or for a list var over an array of objects, `{"$each": var, "item": …}`.
    fn place(&mut self, pointer: &str, schema: &Value, var: Var, depth: usize) -> Value {
        let (name, item_vars) = var;
        if !pointer.contains("/*") {
            self.out
                .placed
                .entry(name.to_owned())
                .or_insert_with(|| schema.clone());
        }
        if !item_vars.is_empty()
            && let Some(items) = schema.get("items")
            && depth < MAX_DEPTH
        {
            let items = self.doc.follow(items).unwrap_or(items).clone();
            let scope: Vec<Var> = item_vars.iter().map(|v| (*v, &[][..])).collect();
            if let Some(item) = self.object(&items, &format!("{pointer}/*"), &scope, depth + 1) {
                let mut each = Map::new();
                each.insert("$each".into(), name.into());
                each.insert("item".into(), item);
                return Value::Object(each);
            }
        }
        Value::String(format!("{{{{{name}}}}}"))
    }
}

fn unknown(what: &str, pointer: &str, name: &str, scope: &[Var]) -> String {
    format!(
        "mapping `templates.{what}.{pointer}`: `{name}` is not a placeholder of the `{what}` template here; it knows {}",
        names(scope)
    )
}

fn names(scope: &[Var]) -> String {
    scope.iter().map(|(v, _)| *v).collect::<Vec<_>>().join(", ")
}

/// The `{{name}}`s of a text.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    out
}

/// A schema that allows one value: `const`, or an `enum` of one.
fn constant(schema: &Value) -> Option<Value> {
    if let Some(c) = schema.get("const") {
        return Some(c.clone());
    }
    match schema.get("enum") {
        Some(Value::Array(values)) if values.len() == 1 => Some(values[0].clone()),
        _ => None,
    }
}

/// An object schema's properties (with those of its `allOf` parts), each with whether it
/// is required.
pub(crate) fn properties(
    doc: &Document,
    schema: &Value,
    depth: usize,
) -> Result<Vec<(String, Value, bool)>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("a schema nests deeper than {MAX_DEPTH} levels"));
    }
    let schema = doc.follow(schema)?;
    let mut out: Vec<(String, Value, bool)> = Vec::new();
    if let Some(Value::Array(parts)) = schema.get("allOf") {
        for part in parts {
            for p in properties(doc, part, depth + 1)? {
                match out.iter_mut().find(|(n, _, _)| *n == p.0) {
                    Some(existing) => existing.2 |= p.2,
                    None => out.push(p),
                }
            }
        }
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, prop) in props {
            let is_required = required.contains(&name.as_str());
            match out.iter_mut().find(|(n, _, _)| n == name) {
                Some(existing) => {
                    existing.1 = prop.clone();
                    existing.2 |= is_required;
                }
                None => out.push((name.clone(), prop.clone(), is_required)),
            }
        }
    }
    for (name, _, is_required) in &mut out {
        if required.contains(&name.as_str()) {
            *is_required = true;
        }
    }
    Ok(out)
}

/// The schema at a JSON pointer into the bodies `schema` describes (`/amount/value`),
/// through `$ref`s and `allOf`.
pub(crate) fn schema_at(doc: &Document, schema: &Value, pointer: &str) -> Option<Value> {
    let mut current = doc.follow(schema).ok()?.clone();
    for part in pointer.split('/').skip(1) {
        let name = part.replace("~1", "/").replace("~0", "~");
        let props = properties(doc, &current, 0).ok()?;
        let (_, prop, _) = props.into_iter().find(|(n, _, _)| *n == name)?;
        current = doc.follow(&prop).ok()?.clone();
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc() -> Document {
        let yaml = r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Payment:
      type: object
      required: [id, status, money, history, kind, review]
      properties:
        id: {type: string, pattern: "^pmt_[0-9a-f]{16}$"}
        status: {enum: [A, B]}
        money: {type: object, required: [amount], properties: {amount: {type: string}}}
        history:
          type: array
          items: {type: object, properties: {status: {type: string}, when: {type: string}}}
        kind: {const: transfer}
        review: {type: object, required: [held], properties: {held: {type: boolean}}}
        colour: {type: string}
"##;
        match Document::parse(yaml) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    fn slots(pairs: &[(&str, &str)]) -> BTreeMap<String, Slot> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Slot::Text((*v).to_owned())))
            .collect()
    }

    #[test]
    fn properties_get_the_mapped_the_derived_the_constant_and_the_named_placeholders() {
        let d = doc();
        let schema = json!({"$ref": "#/components/schemas/Payment"});
        let g = generate(
            &d,
            Kind::Payment,
            &schema,
            &slots(&[
                ("/history", "status_history"),
                ("/history/*/when", "at"),
                ("/review/held", "review_required"),
            ]),
            &[("/money/amount".to_owned(), "amount_decimal")],
        );
        assert_eq!(g.problems, Vec::<String>::new());
        assert_eq!(
            g.template,
            json!({
                "id": "{{id}}", "status": "{{status}}",
                "money": {"amount": "{{amount_decimal}}"},
                "history": {"$each": "status_history", "item": {"status": "{{status}}", "when": "{{at}}"}},
                "kind": "transfer",
                "review": {"held": "{{review_required}}"}
            })
        );
        assert_eq!(g.left_out.len(), 1, "{:?}", g.left_out);
        assert!(g.left_out[0].contains("`/colour`"));
        assert_eq!(g.placed["id"]["pattern"], "^pmt_[0-9a-f]{16}$");
    }

    #[test]
    fn a_required_property_without_a_placeholder_and_a_stray_mapping_are_problems() {
        let d = doc();
        let schema = json!({"$ref": "#/components/schemas/Payment"});
        let g = generate(
            &d,
            Kind::Payment,
            &schema,
            &slots(&[("/nope", "id"), ("/kind", "colour")]),
            &[],
        );
        let text = g.problems.join("\n");
        assert!(text.contains("`/money/amount` is required"), "{text}");
        assert!(text.contains("`/review/held` is required"), "{text}");
        assert!(text.contains("`colour` is not a placeholder"), "{text}");
        assert!(
            text.contains("`templates.payment./nope`: the response schema has no property"),
            "{text}"
        );
    }

    #[test]
    fn schema_at_walks_pointers() {
        let d = doc();
        let schema = json!({"$ref": "#/components/schemas/Payment"});
        assert_eq!(
            schema_at(&d, &schema, "/money/amount"),
            Some(json!({"type": "string"}))
        );
        assert_eq!(schema_at(&d, &schema, "/money/value"), None);
    }
}
