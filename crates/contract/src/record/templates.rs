//! Response templates made from observed answers: the answer as the bank gave it, with the
//! engine's placeholders (`{{id}}`, `{{status}}`, `{{amount_decimal}}`, `$each`…) where a
//! value is one the engine fills in, found by the key (`id`, `status`, `created_at`, the
//! `review` object's fields) or by being the value the request sent (the amount, the
//! currency, the creditor). Every other value is kept as observed, for a person to check.

use serde_json::{Map, Value, json};

use crate::manifest::{AmountFormat, PaymentRequest};

fn ph(name: &str) -> Value {
    Value::String(format!("{{{{{name}}}}}"))
}

/// The payment template from one answer and the create request that got it.
pub(crate) fn payment(answer: &Value, request: Option<&Value>, fields: &PaymentRequest) -> Value {
    let sent = |pointer: &str| request.and_then(|r| r.pointer(pointer)).cloned();
    let known = Known {
        amount: sent(&fields.amount.pointer),
        amount_format: fields.amount.format,
        currency: sent(&fields.currency.pointer),
        creditor: sent(&fields.creditor.pointer),
        debtor: sent(&fields.debtor.pointer),
        reference: sent(&fields.reference.pointer),
    };
    payment_in(answer, &known, None, 0)
}

struct Known {
    amount: Option<Value>,
    amount_format: Option<AmountFormat>,
    currency: Option<Value>,
    creditor: Option<Value>,
    debtor: Option<Value>,
    reference: Option<Value>,
}

fn payment_in(value: &Value, known: &Known, parent: Option<&str>, depth: usize) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    if depth > 16 {
        return value.clone();
    }
    let in_review = parent.is_some_and(|p| p.contains("review"));
    let mut out = Map::new();
    for (k, v) in map {
        let key = k.to_ascii_lowercase();
        let by_key = match key.as_str() {
            "id" if depth == 0 => Some(ph("id")),
            "status" | "state" if depth == 0 && v.is_string() => Some(ph("status")),
            "created_at" | "created" | "creation_time" if depth == 0 => Some(ph("created_at")),
            "updated_at" | "updated" | "last_updated" if depth == 0 => Some(ph("updated_at")),
            "required" | "needed" if in_review => Some(ph("review_required")),
            "reason" if in_review => Some(ph("review_reason")),
            "decision" if in_review => Some(ph("review_decision")),
            "decided_at" if in_review => Some(ph("review_decided_at")),
            "note" | "comment" if in_review => Some(ph("review_note")),
            _ => None,
        };
        let by_value = || -> Option<Value> {
            if known.creditor.as_ref() == Some(v) && v.is_object() {
                return Some(ph("creditor"));
            }
            if known.debtor.as_ref() == Some(v) && v.is_object() {
                return Some(ph("debtor"));
            }
            if known.reference.as_ref() == Some(v) && v.is_string() {
                return Some(ph("reference"));
            }
            if known.currency.as_ref() == Some(v) && v.is_string() {
                return Some(ph("currency"));
            }
            if known.amount.as_ref() == Some(v) {
                return Some(match known.amount_format {
                    Some(AmountFormat::MinorUnits) => ph("amount_minor"),
                    _ => ph("amount_decimal"),
                });
            }
            None
        };
        let history = || -> Option<Value> {
            let Value::Array(items) = v else { return None };
            let Some(Value::Object(first)) = items.first() else {
                return None;
            };
            if !first.contains_key("status") {
                return None;
            }
            let item: Map<String, Value> = first
                .keys()
                .map(|field| {
                    let f = field.to_ascii_lowercase();
                    let value = if f == "status" || f == "state" {
                        ph("status")
                    } else if f == "at" || f.ends_with("_at") || f.contains("time") || f == "date" {
                        ph("at")
                    } else {
                        first[field].clone()
                    };
                    (field.clone(), value)
                })
                .collect();
            Some(json!({"$each": "status_history", "item": item}))
        };
        let rendered = by_key
            .or_else(by_value)
            .or_else(history)
            .unwrap_or_else(|| payment_in(v, known, Some(&key), depth + 1));
        out.insert(k.clone(), rendered);
    }
    Value::Object(out)
}

/// The error template from one error answer (`status` the HTTP status it came with).
pub(crate) fn error(answer: &Value, status: u16) -> Value {
    error_in(answer, status, 0)
}

fn error_in(value: &Value, status: u16, depth: usize) -> Value {
    match value {
        Value::Object(map) if depth <= 8 => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = k.to_ascii_lowercase();
                let rendered = match (key.as_str(), v) {
                    ("status" | "status_code" | "code", Value::Number(n))
                        if n.to_string() == status.to_string() =>
                    {
                        ph("status")
                    }
                    ("code" | "error" | "error_code" | "reason", Value::String(_)) => ph("code"),
                    ("title", Value::String(_)) => ph("title"),
                    (
                        "detail" | "message" | "description" | "error_description",
                        Value::String(_),
                    ) => ph("message"),
                    ("type", Value::String(s)) => match s.rfind('/') {
                        Some(i) => Value::String(format!("{}{{{{code}}}}", &s[..=i])),
                        None => ph("code"),
                    },
                    (_, Value::Array(items)) => {
                        let item = match items.first() {
                            Some(Value::Object(first)) => first
                                .keys()
                                .map(|f| {
                                    let l = f.to_ascii_lowercase();
                                    let v = if l.contains("name")
                                        || l.contains("field")
                                        || l.contains("pointer")
                                        || l == "path"
                                    {
                                        ph("name")
                                    } else {
                                        ph("problem")
                                    };
                                    (f.clone(), v)
                                })
                                .collect(),
                            _ => {
                                let mut m = Map::new();
                                m.insert("name".into(), ph("name"));
                                m.insert("reason".into(), ph("problem"));
                                m
                            }
                        };
                        json!({"$each": "fields", "item": item})
                    }
                    (_, Value::Object(_)) => error_in(v, status, depth + 1),
                    _ => v.clone(),
                };
                out.insert(k.clone(), rendered);
            }
            Value::Object(out)
        }
        _ => json!({"error": "{{code}}", "message": "{{message}}"}),
    }
}

/// The token template from a token answer: the token and its lifetime are the engine's.
pub(crate) fn token(answer: &Value) -> Value {
    let Value::Object(map) = answer else {
        return json!({"access_token": "{{access_token}}", "token_type": "Bearer", "expires_in": "{{expires_in}}"});
    };
    map.iter()
        .map(|(k, v)| {
            let value = match k.as_str() {
                "access_token" => ph("access_token"),
                "expires_in" => ph("expires_in"),
                other if crate::infer::is_secret_key(other) => {
                    Value::String(crate::record::redact::REDACTED.to_owned())
                }
                _ => v.clone(),
            };
            (k.clone(), value)
        })
        .collect::<Map<String, Value>>()
        .into()
}

/// The OAuth error template from a token endpoint's error answer.
pub(crate) fn oauth_error(answer: Option<&Value>) -> Value {
    match answer {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| {
                let value = match k.as_str() {
                    "error" => ph("code"),
                    "error_description" | "message" | "detail" => ph("message"),
                    _ => v.clone(),
                };
                (k.clone(), value)
            })
            .collect::<Map<String, Value>>()
            .into(),
        _ => json!({"error": "{{code}}", "error_description": "{{message}}"}),
    }
}

/// The list template from a list answer: the array of payments is `{{items}}`, a cursor
/// is `{{next_cursor}}`.
pub(crate) fn list(answer: &Value) -> Value {
    match answer {
        Value::Array(_) => ph("items"),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let key = k.to_ascii_lowercase();
                let value = if v.is_array() {
                    ph("items")
                } else if key.contains("cursor") || key.starts_with("next") {
                    ph("next_cursor")
                } else {
                    v.clone()
                };
                (k.clone(), value)
            })
            .collect::<Map<String, Value>>()
            .into(),
        _ => json!({"data": "{{items}}", "next_cursor": "{{next_cursor}}"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Field;

    fn fields() -> PaymentRequest {
        let f = |p: &str| Field {
            pointer: p.into(),
            format: None,
        };
        PaymentRequest {
            amount: Field {
                pointer: "/amount/value".into(),
                format: Some(AmountFormat::DecimalString),
            },
            currency: f("/amount/currency"),
            creditor: f("/creditor"),
            debtor: f("/debtor"),
            reference: f("/remittance_information"),
        }
    }

    #[test]
    fn a_payment_answer_becomes_the_engines_template() {
        let request = json!({
            "amount": {"value": "140.00", "currency": "EUR"},
            "creditor": {"name": "ACME", "iban": "GB33"},
            "debtor": {"name": "Demo", "iban": "DE89"},
            "remittance_information": "rehearse 1a2b"
        });
        let answer = json!({
            "id": "trf_1", "status": "approved",
            "amount": {"value": "140.00", "currency": "EUR"},
            "creditor": {"name": "ACME", "iban": "GB33"},
            "debtor": {"name": "Demo", "iban": "DE89"},
            "remittance_information": "rehearse 1a2b",
            "review": {"required": false, "reason": null, "decision": null, "decided_at": null},
            "history": [{"status": "submitted", "at": "2025-01-06T09:00:00Z"}],
            "bank": "Example Bank",
            "created_at": "2025-01-06T09:00:00Z"
        });
        assert_eq!(
            payment(&answer, Some(&request), &fields()),
            json!({
                "id": "{{id}}", "status": "{{status}}",
                "amount": {"value": "{{amount_decimal}}", "currency": "{{currency}}"},
                "creditor": "{{creditor}}", "debtor": "{{debtor}}",
                "remittance_information": "{{reference}}",
                "review": {"required": "{{review_required}}", "reason": "{{review_reason}}",
                           "decision": "{{review_decision}}", "decided_at": "{{review_decided_at}}"},
                "history": {"$each": "status_history", "item": {"status": "{{status}}", "at": "{{at}}"}},
                "bank": "Example Bank",
                "created_at": "{{created_at}}"
            })
        );
    }

    #[test]
    fn error_answers_become_error_templates() {
        let problem = json!({
            "type": "https://bank.example/problems/not_found", "title": "Not Found",
            "status": 404, "detail": "no transfer x", "invalid_params": []
        });
        assert_eq!(
            error(&problem, 404),
            json!({
                "type": "https://bank.example/problems/{{code}}", "title": "{{title}}",
                "status": "{{status}}", "detail": "{{message}}",
                "invalid_params": {"$each": "fields", "item": {"name": "{{name}}", "reason": "{{problem}}"}}
            })
        );
        assert_eq!(
            error(
                &json!({"error": {"code": "not_found", "message": "no"}}),
                404
            ),
            json!({"error": {"code": "{{code}}", "message": "{{message}}"}})
        );
        assert_eq!(
            token(
                &json!({"access_token": "tok_x", "token_type": "Bearer", "expires_in": 60, "refresh_token": "r"})
            ),
            json!({"access_token": "{{access_token}}", "token_type": "Bearer", "expires_in": "{{expires_in}}", "refresh_token": "REDACTED"})
        );
    }
}
