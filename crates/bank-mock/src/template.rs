//! Response templates: JSON with `"{{var}}"` placeholders and `{"$each": "var", "item": …}`.
//!
//! A string that is exactly one placeholder takes the variable's JSON value (a number stays a
//! number, `null` stays `null`); placeholders inside longer strings are interpolated as text.

use serde_json::{Map, Value};

/// Where placeholders are looked up: a JSON object, or a type that knows its variables
/// without building one (a payment, `payment_view.rs`).
pub(crate) trait Scope {
    /// The variable's value, if the scope has it.
    fn var(&self, name: &str) -> Option<&Value>;
}

impl Scope for Map<String, Value> {
    fn var(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

fn lookup<'v>(scopes: &[&'v dyn Scope], name: &str) -> Option<&'v Value> {
    scopes.iter().rev().find_map(|scope| scope.var(name))
}

fn render_str(s: &str, scopes: &[&dyn Scope]) -> Value {
    if let Some(name) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
        && !name.contains("{{")
    {
        return lookup(scopes, name.trim()).cloned().unwrap_or(Value::Null);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        match lookup(scopes, after[..end].trim()) {
            Some(Value::String(v)) => out.push_str(v),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Value::String(out)
}

fn render_in<'v>(template: &'v Value, scopes: &mut Vec<&'v dyn Scope>) -> Value {
    match template {
        Value::String(s) => render_str(s, scopes),
        Value::Array(items) => Value::Array(items.iter().map(|t| render_in(t, scopes)).collect()),
        Value::Object(obj) => {
            if let Some(Value::String(var)) = obj.get("$each") {
                let item = obj.get("item").unwrap_or(&Value::Null);
                let Some(Value::Array(elements)) = lookup(scopes, var) else {
                    return Value::Array(Vec::new());
                };
                return Value::Array(
                    elements
                        .iter()
                        .map(|element| match element {
                            Value::Object(fields) => {
                                scopes.push(fields);
                                let v = render_in(item, scopes);
                                scopes.pop();
                                v
                            }
                            other => other.clone(),
                        })
                        .collect(),
                );
            }
            Value::Object(
                obj.iter()
                    .map(|(k, v)| (k.clone(), render_in(v, scopes)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// Render `template` with `vars`.
pub(crate) fn render(template: &Value, vars: &dyn Scope) -> Value {
    render_in(template, &mut vec![vars])
}

/// Render `template` with `vars` straight to compact JSON text: the bytes
/// `serde_json::to_vec(&render(template, vars))` gives, without building the value first
/// (half the work of answering a GET of a payment).
pub(crate) fn render_bytes(template: &Value, vars: &dyn Scope) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write_in(template, &mut vec![vars], &mut out);
    out
}

fn write_value(v: &Value, out: &mut Vec<u8>) {
    // Writing JSON into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_in<'v>(template: &'v Value, scopes: &mut Vec<&'v dyn Scope>, out: &mut Vec<u8>) {
    match template {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("{{").and_then(|r| r.strip_suffix("}}"))
                && !name.contains("{{")
            {
                match lookup(scopes, name.trim()) {
                    Some(v) => write_value(v, out),
                    None => out.extend_from_slice(b"null"),
                }
            } else if s.contains("{{") {
                if let Value::String(text) = render_str(s, scopes) {
                    write_str(&text, out);
                }
            } else {
                write_str(s, out);
            }
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, t) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_in(t, scopes, out);
            }
            out.push(b']');
        }
        Value::Object(obj) => {
            if let Some(Value::String(var)) = obj.get("$each") {
                let item = obj.get("item").unwrap_or(&Value::Null);
                out.push(b'[');
                if let Some(Value::Array(elements)) = lookup(scopes, var) {
                    for (i, element) in elements.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        match element {
                            Value::Object(fields) => {
                                scopes.push(fields);
                                write_in(item, scopes, out);
                                scopes.pop();
                            }
                            other => write_value(other, out),
                        }
                    }
                }
                out.push(b']');
                return;
            }
            out.push(b'{');
            for (i, (k, v)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                write_in(v, scopes, out);
            }
            out.push(b'}');
        }
        other => write_value(other, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_placeholders_keep_types_and_partial_ones_interpolate() {
        let tpl = json!({
            "n": "{{n}}", "missing": "{{nope}}", "url": "https://x/{{code}}/{{n}}",
            "list": {"$each": "items", "item": {"s": "{{status}}", "outer": "{{code}}"}}
        });
        let vars = json!({"n": 3, "code": "bad", "items": [{"status": "a"}, {"status": "b"}]});
        let Value::Object(vars) = vars else { panic!() };
        assert_eq!(
            render(&tpl, &vars),
            json!({"n": 3, "missing": null, "url": "https://x/bad/3",
                   "list": [{"s": "a", "outer": "bad"}, {"s": "b", "outer": "bad"}]})
        );
    }

    #[test]
    fn rendering_to_bytes_gives_the_bytes_of_the_rendered_value() {
        let vars = json!({
            "n": 3, "code": "b\"a\\d", "obj": {"k": [1, "x"]}, "none": null,
            "items": [{"status": "a"}, {"status": "b"}, 7], "empty": []
        });
        let Value::Object(vars) = vars else { panic!() };
        let mut templates = vec![json!({
            "n": "{{n}}", "missing": "{{nope}}", "url": "https://x/{{code}}/{{n}}",
            "plain": "text \u{e9}\n", "obj": "{{obj}}", "none": "{{ none }}",
            "nested": {"a": [true, 1.5, "{{n}}", {"b": null}]},
            "list": {"$each": "items", "item": {"s": "{{status}}", "outer": "{{code}}"}},
            "nothing": {"$each": "empty", "item": {}}, "unknown": {"$each": "nope", "item": 1},
            "{{not a key}}": "unclosed {{n"
        })];
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bank-api");
        for version in std::fs::read_dir(root).unwrap().flatten() {
            for file in std::fs::read_dir(version.path().join("templates"))
                .into_iter()
                .flatten()
                .flatten()
            {
                let text = std::fs::read_to_string(file.path()).unwrap();
                templates.push(serde_json::from_str(&text).unwrap());
            }
        }
        assert!(templates.len() > 5, "the shipped templates were found");
        for tpl in &templates {
            assert_eq!(
                String::from_utf8(render_bytes(tpl, &vars)).unwrap(),
                serde_json::to_string(&render(tpl, &vars)).unwrap(),
                "{tpl}"
            );
        }
    }
}
