//! A response body against the JSON Schema its version gives it: each difference classified
//! (`field_missing`, `new_field`, `type_changed`, `new_enum_value`, `constraint_violated`),
//! with the JSON pointer of the value. What `rehearse contract check` sees of a bank.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::drift::{Drift, DriftKind, json_type, push_pointer};
use crate::schema::{
    Doc, MAX_DEPTH, allows, describe_types, enum_values, excerpt, properties, required,
};

/// The drifts of `instance` from `schema` (a whole schema document), on `route`. Array
/// items report the first item that drifts in each way (not one per item); a field that is
/// missing next to a new field of the same type is said to be perhaps renamed.
pub fn instance_drifts(schema: &Value, instance: &Value, route: &str) -> Vec<Drift> {
    let doc = Doc::new(schema);
    let mut walk = Walk {
        doc,
        route,
        out: Vec::new(),
        seen: BTreeSet::new(),
    };
    walk.node(schema, instance, "", 0);
    let mut out = walk.out;
    other_rules(schema, instance, route, &mut out);
    renames(&mut out);
    out
}

struct Walk<'s, 'r> {
    doc: Doc<'s>,
    route: &'r str,
    out: Vec<Drift>,
    /// (kind, pointer with array indices as `*`): one drift per shape, not per item.
    seen: BTreeSet<(DriftKind, String)>,
}

impl<'s> Walk<'s, '_> {
    fn push(&mut self, drift: Drift) {
        let shape = drift
            .pointer
            .split('/')
            .map(|t| {
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    t
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        if self.seen.insert((drift.kind, shape)) {
            self.out.push(drift);
        }
    }

    fn node(&mut self, node: &'s Value, value: &Value, pointer: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let node = self.doc.resolve(node);
        if let Some(branches) = self.doc.branches(node) {
            let pick = branches
                .iter()
                .find(|b| self.doc.types(b).is_none_or(|t| allows(&t, value)));
            match pick {
                Some(branch) => self.node(branch, value, pointer, depth + 1),
                None => {
                    let expected = self
                        .doc
                        .types(node)
                        .map_or_else(|| "another type".to_owned(), |t| describe_types(&t));
                    self.type_changed(pointer, expected, value);
                }
            }
            return;
        }
        if let Some(values) = enum_values(node) {
            if !values.contains(value) {
                let same_type = values
                    .iter()
                    .any(|v| json_type(v) == json_type(value) && !value.is_null());
                let list = values.iter().map(excerpt).collect::<Vec<_>>().join(", ");
                if same_type {
                    self.push(Drift::new(
                        DriftKind::NewEnumValue,
                        self.route,
                        pointer,
                        format!("one of {list}"),
                        excerpt(value),
                    ));
                } else {
                    self.type_changed(pointer, format!("one of {list}"), value);
                }
            }
            return;
        }
        if let Some(types) = self.doc.types(node)
            && !allows(&types, value)
        {
            self.type_changed(pointer, describe_types(&types), value);
            return;
        }
        match value {
            Value::Object(map) => {
                for name in required(node) {
                    if !map.contains_key(name) {
                        self.push(Drift::new(
                            DriftKind::FieldMissing,
                            self.route,
                            push_pointer(pointer, name),
                            format!("field `{name}` (required)"),
                            "no such field",
                        ));
                    }
                }
                let props = properties(node);
                let extra = node.get("additionalProperties").filter(|a| a.is_object());
                for (name, v) in map {
                    let at = push_pointer(pointer, name);
                    match props.and_then(|p| p.get(name)).or(extra) {
                        Some(sub) => self.node(sub, v, &at, depth + 1),
                        None => self.push(Drift::new(
                            DriftKind::NewField,
                            self.route,
                            at,
                            format!("no field `{name}`"),
                            format!("{} {}", json_type(v), excerpt(v)),
                        )),
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = node.get("items").filter(|i| i.is_object()) {
                    for (i, v) in items.iter().enumerate() {
                        self.node(item, v, &format!("{pointer}/{i}"), depth + 1);
                    }
                }
            }
            _ => {}
        }
    }

    fn type_changed(&mut self, pointer: &str, expected: String, value: &Value) {
        self.push(Drift::new(
            DriftKind::TypeChanged,
            self.route,
            pointer,
            expected,
            format!("{} {}", json_type(value), excerpt(value)),
        ));
    }
}

/// What the schema's other rules (pattern, format, lengths, ranges) say, where no drift
/// above already covers the value.
fn other_rules(schema: &Value, instance: &Value, route: &str, out: &mut Vec<Drift>) {
    use jsonschema::error::ValidationErrorKind as K;
    let Ok(validator) = jsonschema::validator_for(schema) else {
        return;
    };
    let mut extra = Vec::new();
    for error in validator.iter_errors(instance).take(100) {
        if matches!(
            error.kind(),
            K::Required { .. }
                | K::AdditionalProperties { .. }
                | K::Type { .. }
                | K::Enum { .. }
                | K::Constant { .. }
                | K::AnyOf { .. }
                | K::OneOfNotValid { .. }
                | K::FalseSchema
                | K::UnevaluatedProperties { .. }
        ) {
            continue;
        }
        let pointer = error.instance_path().as_str().to_owned();
        let covered = out.iter().chain(&extra).any(|d: &Drift| {
            pointer == d.pointer || pointer.starts_with(&format!("{}/", d.pointer))
        });
        if covered {
            continue;
        }
        let value = instance.pointer(&pointer).unwrap_or(&Value::Null);
        extra.push(Drift::new(
            DriftKind::ConstraintViolated,
            route,
            pointer,
            "a value the schema allows",
            format!("{}: {}", excerpt(value), error),
        ));
    }
    out.extend(extra);
}

/// A missing field beside a new field of its object: say it may have been renamed.
fn renames(out: &mut [Drift]) {
    let parent = |p: &str| {
        p.rsplit_once('/')
            .map_or(String::new(), |(a, _)| a.to_owned())
    };
    let new_fields: Vec<(String, String)> = out
        .iter()
        .filter(|d| d.kind == DriftKind::NewField)
        .map(|d| (parent(&d.pointer), d.pointer.clone()))
        .collect();
    for d in out.iter_mut().filter(|d| d.kind == DriftKind::FieldMissing) {
        let here = parent(&d.pointer);
        let candidates: Vec<&str> = new_fields
            .iter()
            .filter(|(p, _)| *p == here)
            .map(|(_, f)| f.rsplit('/').next().unwrap_or(f))
            .collect();
        if let [one] = candidates.as_slice() {
            d.actual = format!("no such field (renamed to `{one}`?)");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{ApiVersion, Catalog};

    fn v2_payment() -> Value {
        let catalog = Catalog::builtin();
        catalog
            .get(ApiVersion::V2)
            .and_then(|f| f.json("schemas/payment.json"))
            .unwrap_or_default()
    }

    fn payment() -> Value {
        json!({
            "id": "pay_0123456789abcdef", "status": "received", "amount": "1250.50",
            "currency": "USD", "creditor": {"name": "A", "iban": "GB33"},
            "debtor": {"name": "B", "iban": "DE89"}, "reference": "INV-1",
            "review": {"required": false, "reason": null, "decision": null, "decided_at": null, "note": null},
            "status_history": [{"status": "received", "at": "2025-01-06T09:00:00Z"}],
            "created_at": "2025-01-06T09:00:00Z", "updated_at": "2025-01-06T09:00:00Z"
        })
    }

    fn kinds(drifts: &[Drift]) -> Vec<String> {
        drifts
            .iter()
            .map(|d| format!("{} {} {}", d.kind, d.pointer, d.breaking))
            .collect()
    }

    #[test]
    fn a_body_that_follows_its_schema_has_no_drift() {
        assert_eq!(
            instance_drifts(&v2_payment(), &payment(), "GET /v2/payments/{id}"),
            []
        );
    }

    #[test]
    fn each_change_is_classified_with_its_pointer() {
        let mut body = payment();
        let reference = body["reference"].take();
        let map = body.as_object_mut().unwrap();
        map.remove("reference");
        map.insert("payment_reference".into(), reference);
        map.insert("amount".into(), json!(125050));
        map.insert("status".into(), json!("queued"));
        body["status_history"] = json!([
            {"status": "queued", "at": "2025-01-06T09:00:00Z"},
            {"status": "queued", "at": "2025-01-06T09:00:01Z"}
        ]);
        body["review"]["decided_at"] = json!(12);
        body["id"] = json!("pmt_1");
        let drifts = instance_drifts(&v2_payment(), &body, "GET /v2/payments/{id}");
        insta::assert_snapshot!(drifts.iter().map(Drift::line).collect::<Vec<_>>().join("\n"), @r#"
        breaking field_missing at /reference (GET /v2/payments/{id}): expected field `reference` (required), got no such field (renamed to `payment_reference`?)
        breaking new_enum_value at /status (GET /v2/payments/{id}): expected one of "received", "pending_review", "accepted", "rejected", "settled", got "queued"
        breaking type_changed at /amount (GET /v2/payments/{id}): expected string, got integer 125050
        breaking type_changed at /review/decided_at (GET /v2/payments/{id}): expected null or string, got integer 12
        breaking new_enum_value at /status_history/0/status (GET /v2/payments/{id}): expected one of "received", "pending_review", "accepted", "rejected", "settled", got "queued"
        additive new_field at /payment_reference (GET /v2/payments/{id}): expected no field `payment_reference`, got string "INV-1"
        breaking constraint_violated at /id (GET /v2/payments/{id}): expected a value the schema allows, got "pmt_1": "pmt_1" does not match "^pay_[0-9a-f]{16}$"
        "#);
        assert!(kinds(&drifts).contains(&"new_field /payment_reference false".to_owned()));
    }

    #[test]
    fn deep_or_cyclic_schemas_end() {
        let cyc = json!({"$defs": {"n": {"type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"});
        let mut body = json!(1);
        for _ in 0..200 {
            body = json!({"next": body});
        }
        let drifts = instance_drifts(&cyc, &body, "GET /x");
        assert!(drifts.len() <= 2, "{drifts:?}");
    }
}
