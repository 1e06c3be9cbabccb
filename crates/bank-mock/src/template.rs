//! Response templates: JSON with `"{{var}}"` placeholders and `{"$each": "var", "item": …}`.
//!
//! A string that is exactly one placeholder takes the variable's JSON value (a number stays a
//! number, `null` stays `null`); placeholders inside longer strings are interpolated as text.

use serde_json::{Map, Value};

fn lookup<'v>(scopes: &[&'v Map<String, Value>], name: &str) -> Option<&'v Value> {
    scopes.iter().rev().find_map(|scope| scope.get(name))
}

fn render_str(s: &str, scopes: &[&Map<String, Value>]) -> Value {
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

fn render_in(template: &Value, scopes: &mut Vec<&Map<String, Value>>) -> Value {
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
pub(crate) fn render(template: &Value, vars: &Map<String, Value>) -> Value {
    render_in(template, &mut vec![vars])
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
}
