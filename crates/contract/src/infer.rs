//! `SchemaBuilder`: a JSON Schema (draft 2020-12) inferred from observed JSON values, merged
//! over any number of observations.
//!
//! The rules, which docs/FORMAT.md ("Recording a version") repeats for users:
//! - an object's `required` holds the keys present in **every** observation of it; its
//!   `additionalProperties` stays open (a recording sees some of the API, not all);
//! - an array's `items` is the merge of every element seen;
//! - whole numbers are `integer`, others `number`; both seen: `number`. A decimal string
//!   (`"25000.00"`) is a `string` with a pattern, never a number, and is not merged with
//!   free text (a position holding both is a plain `string`);
//! - strings at a key named like an enumeration (`status`, `state`, `decision`…) become an
//!   `enum` of the values seen (at most [`ENUM_MAX`]); elsewhere only when at least two
//!   distinct values were each seen at least twice, so a name that every request repeats
//!   does not become a constant;
//! - `null` beside other types makes a type list (`["string", "null"]`);
//! - nothing deeper than [`MAX_DEPTH`] levels is looked at (such a value is `{}`, anything),
//!   at most [`MAX_KEYS`] keys of an object and [`MAX_ITEMS`] elements of an array are.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The deepest nesting inferred; below it a value is accepted as anything.
pub const MAX_DEPTH: usize = 64;
/// The most distinct strings an `enum` holds.
pub const ENUM_MAX: usize = 8;
/// The most keys of one object position that are tracked.
pub const MAX_KEYS: usize = 512;
/// The most elements of one array that are looked at.
pub const MAX_ITEMS: usize = 1_000;
/// Strings longer than this are never enum values.
const ENUM_VALUE_MAX_LEN: usize = 64;

/// Keys whose string values are an enumeration even when few were seen.
const ENUM_KEYS: [&str; 9] = [
    "status",
    "state",
    "decision",
    "outcome",
    "result",
    "kind",
    "token_type",
    "grant_type",
    "error",
];

/// The JSON Schema dialect written.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Infers a JSON Schema from observations: [`observe`](Self::observe) each value, then
/// [`schema`](Self::schema).
///
/// ```
/// use rehearse_contract::SchemaBuilder;
/// use serde_json::json;
///
/// let mut b = SchemaBuilder::new();
/// b.observe(&json!({"id": "trf_1", "amount": "12.50", "note": null}));
/// b.observe(&json!({"id": "trf_2", "amount": "3.00", "note": "hi", "extra": 1}));
/// let schema = b.schema(Some("transfer"));
/// assert_eq!(schema["required"], json!(["id", "amount", "note"]));
/// assert_eq!(schema["properties"]["note"]["type"], json!(["string", "null"]));
/// assert_eq!(schema["properties"]["amount"]["pattern"], "^-?[0-9]+\\.[0-9]+$");
/// ```
#[derive(Debug, Clone, Default)]
pub struct SchemaBuilder {
    root: Node,
}

#[derive(Debug, Clone, Default)]
struct Node {
    seen: u64,
    null: u64,
    boolean: u64,
    integer: u64,
    number: u64,
    strings: Option<Strings>,
    object: Option<Object>,
    array: Option<Array>,
    too_deep: bool,
}

#[derive(Debug, Clone, Default)]
struct Strings {
    count: u64,
    decimal: u64,
    date_time: u64,
    /// Distinct values and how often each was seen; `None` once more than [`ENUM_MAX`]
    /// (or a long one) were seen.
    distinct: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Clone, Default)]
struct Object {
    count: u64,
    /// Keys in the order first seen, each with how many observations held it.
    keys: Vec<(String, u64, Node)>,
    index: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Default)]
struct Array {
    count: u64,
    items: Box<Node>,
}

impl SchemaBuilder {
    /// A builder that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one observation.
    pub fn observe(&mut self, value: &Value) {
        self.root.observe(value, None, 0);
    }

    /// Adds everything another builder saw (as if each of its observations were made here).
    pub fn merge(&mut self, other: &Self) {
        self.root.merge(&other.root, 0);
    }

    /// How many observations were made.
    pub fn observations(&self) -> u64 {
        self.root.seen
    }

    /// The inferred schema, with `$schema` and (when given) `title`. With no observation it
    /// is `{}` plus those: anything.
    pub fn schema(&self, title: Option<&str>) -> Value {
        let mut out = Map::new();
        out.insert("$schema".into(), DIALECT.into());
        if let Some(title) = title {
            out.insert("title".into(), title.into());
        }
        if let Value::Object(body) = self.root.schema(None) {
            out.extend(body);
        }
        Value::Object(out)
    }
}

fn is_enum_key(key: Option<&str>) -> bool {
    key.is_some_and(|k| {
        let k = k.to_ascii_lowercase();
        ENUM_KEYS.contains(&k.as_str()) || k.ends_with("_status") || k.ends_with("_state")
    })
}

/// Keys whose values are secrets: never enum values, whatever was seen.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // `token_type`, `key_id`, `expires_in`: about a secret, not one.
    if words.last().is_some_and(|w| {
        matches!(
            *w,
            "type" | "kind" | "id" | "in" | "at" | "url" | "uri" | "status"
        )
    }) {
        return false;
    }
    words.iter().any(|w| {
        matches!(
            *w,
            "secret"
                | "token"
                | "password"
                | "passwd"
                | "pwd"
                | "key"
                | "apikey"
                | "credential"
                | "credentials"
                | "authorization"
                | "cookie"
                | "pin"
                | "cvv"
                | "otp"
                | "signature"
        )
    }) || ["secret", "token", "password", "apikey", "accesskey"]
        .iter()
        .any(|s| lower.replace(['_', '-'], "").contains(s))
}

/// `"25000.00"`, `"-0.5"`: digits, a point, digits.
pub(crate) fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    match digits.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && !frac.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// `2025-01-06T09:00:00Z`, `2025-01-06T09:00:00.123+01:00`: RFC 3339's shape.
pub(crate) fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

/// Whether a JSON number is whole, by its text (with `arbitrary_precision` a number keeps
/// its digits: `1.0` is not whole, `10000000000000000365` is).
fn is_integer(n: &serde_json::Number) -> bool {
    !n.to_string().contains(['.', 'e', 'E'])
}

impl Node {
    fn observe(&mut self, value: &Value, key: Option<&str>, depth: usize) {
        self.seen = self.seen.saturating_add(1);
        if depth >= MAX_DEPTH {
            self.too_deep = true;
            return;
        }
        match value {
            Value::Null => self.null = self.null.saturating_add(1),
            Value::Bool(_) => self.boolean = self.boolean.saturating_add(1),
            Value::Number(n) if is_integer(n) => self.integer = self.integer.saturating_add(1),
            Value::Number(_) => self.number = self.number.saturating_add(1),
            Value::String(s) => {
                let strings = self.strings.get_or_insert_with(|| Strings {
                    distinct: Some(BTreeMap::new()),
                    ..Strings::default()
                });
                strings.count = strings.count.saturating_add(1);
                if is_decimal(s) {
                    strings.decimal = strings.decimal.saturating_add(1);
                } else if is_date_time(s) {
                    strings.date_time = strings.date_time.saturating_add(1);
                }
                let secret = key.is_some_and(is_secret_key);
                if let Some(distinct) = &mut strings.distinct {
                    if secret || s.chars().count() > ENUM_VALUE_MAX_LEN {
                        strings.distinct = None;
                    } else {
                        let n = distinct.entry(s.clone()).or_insert(0);
                        *n = n.saturating_add(1);
                        if distinct.len() > ENUM_MAX {
                            strings.distinct = None;
                        }
                    }
                }
            }
            Value::Array(items) => {
                let array = self.array.get_or_insert_with(Array::default);
                array.count = array.count.saturating_add(1);
                for item in items.iter().take(MAX_ITEMS) {
                    array.items.observe(item, key, depth + 1);
                }
            }
            Value::Object(map) => {
                let object = self.object.get_or_insert_with(Object::default);
                object.count = object.count.saturating_add(1);
                for (k, v) in map {
                    if let Some(node) = object.entry(k) {
                        node.observe(v, Some(k), depth + 1);
                    }
                }
            }
        }
    }

    fn merge(&mut self, other: &Node, depth: usize) {
        self.seen = self.seen.saturating_add(other.seen);
        self.null = self.null.saturating_add(other.null);
        self.boolean = self.boolean.saturating_add(other.boolean);
        self.integer = self.integer.saturating_add(other.integer);
        self.number = self.number.saturating_add(other.number);
        self.too_deep |= other.too_deep;
        if depth >= MAX_DEPTH {
            self.too_deep |=
                other.strings.is_some() || other.object.is_some() || other.array.is_some();
            return;
        }
        if let Some(theirs) = &other.strings {
            let mine = self.strings.get_or_insert_with(|| Strings {
                distinct: Some(BTreeMap::new()),
                ..Strings::default()
            });
            mine.count = mine.count.saturating_add(theirs.count);
            mine.decimal = mine.decimal.saturating_add(theirs.decimal);
            mine.date_time = mine.date_time.saturating_add(theirs.date_time);
            match (&mut mine.distinct, &theirs.distinct) {
                (Some(d), Some(t)) => {
                    for (s, n) in t {
                        let e = d.entry(s.clone()).or_insert(0);
                        *e = e.saturating_add(*n);
                    }
                    if d.len() > ENUM_MAX {
                        mine.distinct = None;
                    }
                }
                _ => mine.distinct = None,
            }
        }
        if let Some(theirs) = &other.array {
            let mine = self.array.get_or_insert_with(Array::default);
            mine.count = mine.count.saturating_add(theirs.count);
            mine.items.merge(&theirs.items, depth + 1);
        }
        if let Some(theirs) = &other.object {
            let mine = self.object.get_or_insert_with(Object::default);
            mine.count = mine.count.saturating_add(theirs.count);
            for (k, present, node) in &theirs.keys {
                if let Some(index) = mine.index_of(k) {
                    let entry = &mut mine.keys[index];
                    entry.1 = entry.1.saturating_add(*present);
                    entry.2.merge(node, depth + 1);
                }
            }
        }
    }

    fn schema(&self, key: Option<&str>) -> Value {
        if self.too_deep {
            return json!({"description": format!("nested deeper than {MAX_DEPTH} levels: not inferred")});
        }
        let mut types: Vec<&str> = Vec::new();
        let mut out = Map::new();
        if let Some(object) = &self.object {
            types.push("object");
            let mut properties = Map::new();
            let mut required = Vec::new();
            for (k, present, node) in &object.keys {
                properties.insert(k.clone(), node.schema(Some(k)));
                if *present == object.count {
                    required.push(Value::String(k.clone()));
                }
            }
            out.insert("properties".into(), Value::Object(properties));
            if !required.is_empty() {
                out.insert("required".into(), Value::Array(required));
            }
        }
        if let Some(array) = &self.array {
            types.push("array");
            if array.items.seen > 0 {
                out.insert("items".into(), array.items.schema(key));
            }
        }
        if let Some(strings) = &self.strings {
            // Only strings (and null) here: an enum. Beside other types, a type list.
            let only_strings =
                types.is_empty() && self.boolean == 0 && self.integer == 0 && self.number == 0;
            if only_strings && let Some(mut values) = self.enum_values(strings, key) {
                if self.null > 0 {
                    values.push(Value::Null);
                }
                return json!({ "enum": values });
            }
            types.push("string");
            if strings.decimal == strings.count {
                out.insert("pattern".into(), "^-?[0-9]+\\.[0-9]+$".into());
            } else if strings.date_time == strings.count {
                out.insert("format".into(), "date-time".into());
            }
        }
        if self.integer > 0 && self.number == 0 {
            types.push("integer");
        } else if self.number > 0 {
            types.push("number");
        }
        if self.boolean > 0 {
            types.push("boolean");
        }
        if self.null > 0 {
            types.push("null");
        }
        match types.as_slice() {
            [] => {}
            [one] => {
                out.insert("type".into(), (*one).into());
            }
            many => {
                out.insert(
                    "type".into(),
                    Value::Array(many.iter().map(|t| Value::String((*t).into())).collect()),
                );
            }
        }
        let mut ordered = Map::new();
        for k in [
            "type",
            "pattern",
            "format",
            "required",
            "properties",
            "items",
        ] {
            if let Some(v) = out.remove(k) {
                ordered.insert(k.into(), v);
            }
        }
        ordered.extend(out);
        Value::Object(ordered)
    }

    fn enum_values(&self, strings: &Strings, key: Option<&str>) -> Option<Vec<Value>> {
        let distinct = strings.distinct.as_ref()?;
        if distinct.is_empty() || strings.decimal > 0 || strings.date_time > 0 {
            return None;
        }
        let by_key = is_enum_key(key);
        let repeated = distinct.len() >= 2 && distinct.values().all(|n| *n >= 2);
        (by_key || repeated).then(|| distinct.keys().map(|s| Value::String(s.clone())).collect())
    }
}

impl Object {
    fn index_of(&mut self, key: &str) -> Option<usize> {
        if let Some(i) = self.index.get(key) {
            return Some(*i);
        }
        if self.keys.len() >= MAX_KEYS {
            return None;
        }
        self.keys.push((key.to_owned(), 0, Node::default()));
        self.index.insert(key.to_owned(), self.keys.len() - 1);
        Some(self.keys.len() - 1)
    }

    fn entry(&mut self, key: &str) -> Option<&mut Node> {
        let i = self.index_of(key)?;
        let entry = &mut self.keys[i];
        entry.1 = entry.1.saturating_add(1);
        Some(&mut entry.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(values: &[Value]) -> Value {
        let mut b = SchemaBuilder::new();
        for v in values {
            b.observe(v);
        }
        let mut schema = b.schema(None);
        if let Value::Object(map) = &mut schema {
            map.remove("$schema");
        }
        schema
    }

    fn valid(schema: &Value, value: &Value) -> bool {
        jsonschema::validator_for(schema)
            .map(|v| v.is_valid(value))
            .unwrap_or(false)
    }

    #[test]
    fn required_holds_only_keys_present_in_every_observation() {
        let schema = infer(&[
            json!({"id": "a", "note": "x"}),
            json!({"id": "b"}),
            json!({"id": "c", "note": null, "extra": true}),
        ]);
        assert_eq!(schema["required"], json!(["id"]));
        assert_eq!(
            schema["properties"]["note"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(schema["properties"]["extra"]["type"], "boolean");
        assert!(schema.get("additionalProperties").is_none(), "left open");
        assert!(valid(&schema, &json!({"id": "d", "unseen": 1})));
        assert!(!valid(&schema, &json!({"note": "no id"})));
    }

    #[test]
    fn merging_builders_equals_observing_everything_in_one() {
        let values = [
            json!({"id": "a", "status": "open", "n": 1}),
            json!({"id": "b", "status": "closed"}),
            json!({"id": "c", "status": "open", "n": 2.5}),
        ];
        let mut one = SchemaBuilder::new();
        values.iter().for_each(|v| one.observe(v));
        let mut left = SchemaBuilder::new();
        left.observe(&values[0]);
        let mut right = SchemaBuilder::new();
        right.observe(&values[1]);
        right.observe(&values[2]);
        left.merge(&right);
        assert_eq!(left.schema(None), one.schema(None));
        assert_eq!(left.observations(), 3);
    }

    #[test]
    fn status_like_keys_and_repeated_small_sets_become_enums() {
        let schema = infer(&[
            json!({"status": "in_review", "currency": "EUR", "name": "ACME", "kind": "a"}),
            json!({"status": "approved", "currency": "EUR", "name": "ACME", "kind": "b"}),
            json!({"status": "approved", "currency": "USD", "name": "ACME", "kind": "a"}),
            json!({"status": null, "currency": "USD", "name": "ACME", "kind": "b"}),
        ]);
        // A status key: its values (and null) even when one was seen once.
        assert_eq!(
            schema["properties"]["status"],
            json!({"enum": ["approved", "in_review", null]})
        );
        // Two values, each seen twice: an enum.
        assert_eq!(
            schema["properties"]["currency"],
            json!({"enum": ["EUR", "USD"]})
        );
        // One value every time is not evidence of a constant.
        assert_eq!(schema["properties"]["name"], json!({"type": "string"}));
        assert_eq!(schema["properties"]["kind"], json!({"enum": ["a", "b"]}));
    }

    #[test]
    fn free_text_and_many_values_and_secrets_stay_strings() {
        let refs: Vec<Value> = (0..12)
            .map(|i| json!({"reference": format!("INV-{i}"), "status": format!("s{i}")}))
            .collect();
        let schema = infer(&refs);
        assert_eq!(schema["properties"]["reference"], json!({"type": "string"}));
        assert_eq!(
            schema["properties"]["status"],
            json!({"type": "string"}),
            "more than ENUM_MAX distinct values"
        );
        let tokens = infer(&[
            json!({"access_token": "tok_1", "token_type": "Bearer"}),
            json!({"access_token": "tok_1", "token_type": "Bearer"}),
            json!({"access_token": "tok_2", "token_type": "Bearer"}),
            json!({"access_token": "tok_2", "token_type": "Bearer"}),
        ]);
        assert_eq!(
            tokens["properties"]["access_token"],
            json!({"type": "string"}),
            "a secret is never written as an enum value"
        );
        assert_eq!(
            tokens["properties"]["token_type"],
            json!({"enum": ["Bearer"]})
        );
    }

    #[test]
    fn decimal_strings_integers_and_numbers_are_kept_apart() {
        let schema = infer(&[
            json!({"amount": "25000.00", "cents": 2500000, "rate": 1.5, "mixed": "1.00", "at": "2025-01-06T09:00:00Z"}),
            json!({"amount": "-0.50", "cents": 10000000000000000365_u64, "rate": 2, "mixed": "about ten", "at": "2025-01-06T09:00:01.5+01:00"}),
        ]);
        let p = &schema["properties"];
        assert_eq!(
            p["amount"],
            json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]+$"})
        );
        assert_eq!(p["cents"], json!({"type": "integer"}));
        assert_eq!(p["rate"], json!({"type": "number"}), "2 and 1.5: number");
        assert_eq!(
            p["mixed"],
            json!({"type": "string"}),
            "not merged with free text"
        );
        assert_eq!(p["at"], json!({"type": "string", "format": "date-time"}));
        // With arbitrary_precision, 1.0 is written as a number, not an integer.
        let n: Value = serde_json::from_str(r#"{"x": 1.0}"#).unwrap();
        assert_eq!(infer(&[n])["properties"]["x"], json!({"type": "number"}));
        assert!(valid(&p["amount"], &json!("1.25")));
        assert!(!valid(&p["amount"], &json!(1.25)));
        assert!(!valid(&p["amount"], &json!("1.25 EUR")));
    }

    #[test]
    fn nested_arrays_merge_their_items() {
        let schema = infer(&[
            json!({"history": [{"status": "submitted", "at": "2025-01-06T09:00:00Z"}]}),
            json!({"history": [
                {"status": "submitted", "at": "2025-01-06T09:00:00Z"},
                {"status": "approved", "at": "2025-01-06T09:00:01Z", "by": "x"}
            ], "matrix": [[1, 2], [3], []]}),
            json!({"history": [], "matrix": null}),
        ]);
        let items = &schema["properties"]["history"]["items"];
        assert_eq!(items["required"], json!(["status", "at"]));
        assert_eq!(
            items["properties"]["status"],
            json!({"enum": ["approved", "submitted"]})
        );
        assert_eq!(
            schema["properties"]["matrix"],
            json!({"type": ["array", "null"], "items": {"type": "array", "items": {"type": "integer"}}})
        );
        assert_eq!(schema["required"], json!(["history"]));
    }

    #[test]
    fn nothing_deeper_than_the_bound_is_inferred_and_nothing_panics() {
        let mut deep = json!("bottom");
        for _ in 0..500 {
            deep = json!({ "a": [deep] });
        }
        let mut b = SchemaBuilder::new();
        b.observe(&deep);
        let copy = b.clone();
        b.merge(&copy);
        let schema = b.schema(None);
        let mut node = &schema;
        let mut levels = 0;
        while let Some(next) = node.get("properties").and_then(|p| p.get("a")) {
            node = &next["items"];
            levels += 2;
        }
        assert!(levels <= MAX_DEPTH, "{levels}");
        assert!(
            node["description"]
                .as_str()
                .is_some_and(|d| d.contains("deeper than 64")),
            "{node}"
        );
        // Wide input is bounded too: only MAX_KEYS keys are tracked.
        let wide: Map<String, Value> = (0..5_000).map(|i| (format!("k{i}"), json!(i))).collect();
        let schema = infer(&[Value::Object(wide)]);
        assert_eq!(
            schema["properties"].as_object().map(Map::len),
            Some(MAX_KEYS)
        );
    }

    #[test]
    fn the_schema_compiles_and_accepts_what_it_was_inferred_from() {
        let values = [
            json!({"id": "trf_1", "amount": {"value": "1.00", "currency": "EUR"}, "tags": ["a"], "n": null}),
            json!({"id": "trf_2", "amount": {"value": "2.50", "currency": "USD"}, "tags": [], "n": 3}),
        ];
        let mut b = SchemaBuilder::new();
        values.iter().for_each(|v| b.observe(v));
        let schema = b.schema(Some("t"));
        assert_eq!(schema["$schema"], DIALECT);
        assert_eq!(schema["title"], "t");
        for v in &values {
            assert!(valid(&schema, v), "{v}");
        }
        assert_eq!(
            SchemaBuilder::new().schema(None),
            json!({"$schema": DIALECT})
        );
    }
}
