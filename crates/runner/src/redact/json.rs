//! JSON whose strings hold a secret only once decoded: `"p\u00e4ss"` is `päss`, and a
//! report that pretty-prints the body would print it so. The text is parsed, every string
//! (keys too) is masked as decoded, a string that is itself JSON (an echoed body) is
//! looked into the same way, and the JSON is written again when anything changed.

use serde_json::{Map, Value};

use super::Redactor;

/// How deep JSON held in strings is looked into (the parse itself stops at serde_json's
/// nesting limit of 128, which bounds the walk).
const MAX_STRING_DEPTH: usize = 4;

/// `text` (masked already), with the strings of its JSON masked as decoded; as it is when
/// it is not a JSON object or array, or holds no secret once decoded.
pub(super) fn mask_strings(r: &Redactor, text: String) -> String {
    mask_at(r, text, 0)
}

fn mask_at(r: &Redactor, text: String, depth: usize) -> String {
    let head = text.trim_start();
    if !(head.starts_with('{') || head.starts_with('[')) {
        return text;
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
        return text;
    };
    if walk(r, &mut value, depth) {
        serde_json::to_string(&value).unwrap_or(text)
    } else {
        text
    }
}

/// Masks the strings of `v`; true when one changed.
fn walk(r: &Redactor, v: &mut Value, depth: usize) -> bool {
    match v {
        Value::String(s) => mask_string(r, s, depth),
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, x| walk(r, x, depth) | changed),
        Value::Object(map) => {
            let mut changed = false;
            if map.keys().any(|k| r.contains_secret(k)) {
                let old = std::mem::take(map);
                *map = old
                    .into_iter()
                    .map(|(k, x)| (r.mask(&k), x))
                    .collect::<Map<_, _>>();
                changed = true;
            }
            map.values_mut()
                .fold(changed, |changed, x| walk(r, x, depth) | changed)
        }
        _ => false,
    }
}

fn mask_string(r: &Redactor, s: &mut String, depth: usize) -> bool {
    let mut changed = false;
    if r.contains_secret(s) {
        *s = r.mask(s);
        changed = true;
    }
    if depth < MAX_STRING_DEPTH {
        let nested = mask_at(r, s.clone(), depth + 1);
        if nested != *s {
            *s = nested;
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new(["pässwörd".to_owned()])
    }

    #[test]
    fn a_secret_written_with_unusual_escapes_is_masked_as_decoded() {
        // `\u0070` is `p`: no form of the secret foresees it, the decoded string holds it.
        let text = r#"{"a":"\u0070\u00e4ssw\u00f6rd","b":1}"#.to_owned();
        assert_eq!(r().mask_json(text), r#"{"a":"***","b":1}"#);
    }

    #[test]
    fn json_in_a_string_is_looked_into_and_keys_are_masked() {
        let text = r#"{"body":"{\"p\":\"\\u0070\\u00e4ssw\\u00f6rd\"}","\u0070ässwörd":2}"#;
        assert_eq!(
            r().mask_json(text.to_owned()),
            r#"{"body":"{\"p\":\"***\"}","***":2}"#
        );
    }

    #[test]
    fn other_text_is_left_as_it_is() {
        for text in [r#"{ "a": 1 }"#, "not json pässwörd", r#"{"cut": "…"#] {
            assert_eq!(r().mask_json(text.to_owned()), text);
        }
    }
}
