//! What a manifest says that traffic shows: the wire spelling of the canonical statuses,
//! where the payment request's fields are, the payment ids' prefix.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::infer::is_decimal;
use crate::manifest::{AmountFormat, CANONICAL_STATUSES, Field, PaymentRequest};

/// The wire spellings that mean each canonical status (compared in any case).
const SYNONYMS: [(&str, &[&str]); 5] = [
    (
        "received",
        &[
            "received",
            "submitted",
            "created",
            "pending",
            "new",
            "initiated",
        ],
    ),
    (
        "pending_review",
        &[
            "pending_review",
            "in_review",
            "under_review",
            "review",
            "manual_review",
            "held",
            "on_hold",
        ],
    ),
    (
        "accepted",
        &[
            "accepted",
            "approved",
            "authorised",
            "authorized",
            "confirmed",
        ],
    ),
    ("rejected", &["rejected", "declined", "refused", "denied"]),
    (
        "settled",
        &[
            "settled",
            "completed",
            "complete",
            "executed",
            "booked",
            "paid",
            "done",
        ],
    ),
];

/// The canonical status a wire spelling means, when it is one of the known synonyms.
pub(crate) fn canonical(wire: &str) -> Option<&'static str> {
    let lower = wire.to_ascii_lowercase();
    SYNONYMS
        .iter()
        .find(|(_, words)| words.contains(&lower.as_str()))
        .map(|(c, _)| *c)
}

/// Every string at a `status` key of payment answers (the payment's and its history's).
pub(crate) fn wire_statuses(answers: &[&Value], out: &mut Vec<String>) {
    fn walk(v: &Value, depth: usize, out: &mut Vec<String>) {
        if depth > 4 || out.len() >= 50 {
            return;
        }
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::String(s) if k == "status" || k == "state" => {
                            if !out.contains(s) {
                                out.push(s.clone());
                            }
                        }
                        _ => walk(v, depth + 1, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, depth + 1, out)),
            _ => {}
        }
    }
    for a in answers {
        walk(a, 0, out);
    }
}

/// The statuses mapping: `given` (the `--status` flags) first, then what was observed,
/// then `fallback` (the `--from` version's). Returns it with the canonical statuses still
/// missing and the observed spellings that mean none of them.
pub(crate) fn statuses(
    observed: &[String],
    given: &BTreeMap<String, String>,
    fallback: Option<&BTreeMap<String, String>>,
) -> (BTreeMap<String, String>, Vec<&'static str>, Vec<String>) {
    let mut map = BTreeMap::new();
    let mut unknown = Vec::new();
    for wire in observed {
        match canonical(wire) {
            Some(c) => {
                map.entry(c.to_owned()).or_insert_with(|| wire.clone());
            }
            None => {
                if !given.values().any(|g| g == wire) {
                    unknown.push(wire.clone());
                }
            }
        }
    }
    for (c, wire) in given {
        map.insert(c.clone(), wire.clone());
    }
    if let Some(fallback) = fallback {
        for (c, wire) in fallback {
            map.entry(c.clone()).or_insert_with(|| wire.clone());
        }
    }
    let missing = CANONICAL_STATUSES
        .iter()
        .copied()
        .filter(|c| !map.contains_key(*c))
        .collect();
    (map, missing, unknown)
}

/// Where the payment's fields are in a create body, by their names and shapes: the amount
/// (a decimal string, or whole minor units at a key like `amount_cents`), the currency, the
/// creditor, the debtor and the reference. `None` when no amount is found.
pub(crate) fn payment_request(body: &Value) -> Option<PaymentRequest> {
    let mut leaves = Vec::new();
    collect_leaves(body, String::new(), 0, &mut leaves);
    let amount = leaves.iter().find_map(|(pointer, v)| {
        let lower = pointer.to_ascii_lowercase();
        let named = lower.contains("amount") || lower.ends_with("/value");
        match v {
            Value::String(s) if named && is_decimal(s) => Some(Field {
                pointer: pointer.clone(),
                format: Some(AmountFormat::DecimalString),
            }),
            Value::Number(n)
                if (lower.contains("cents")
                    || lower.contains("minor")
                    || lower.contains("amount"))
                    && !n.to_string().contains(['.', 'e', 'E']) =>
            {
                Some(Field {
                    pointer: pointer.clone(),
                    format: Some(AmountFormat::MinorUnits),
                })
            }
            _ => None,
        }
    })?;
    let currency = leaves
        .iter()
        .find(|(p, v)| p.to_ascii_lowercase().contains("currency") && v.is_string())
        .map_or_else(|| "/currency".to_owned(), |(p, _)| p.clone());
    let top = |names: &[&str], default: &str| {
        body.as_object()
            .and_then(|m| {
                m.keys()
                    .find(|k| names.contains(&k.to_ascii_lowercase().as_str()))
            })
            .map_or_else(|| format!("/{default}"), |k| format!("/{}", escape(k)))
    };
    let field = |pointer: String| Field {
        pointer,
        format: None,
    };
    Some(PaymentRequest {
        amount,
        currency: field(currency),
        creditor: field(top(
            &[
                "creditor",
                "beneficiary",
                "payee",
                "recipient",
                "creditor_account",
            ],
            "creditor",
        )),
        debtor: field(top(
            &["debtor", "payer", "originator", "debtor_account"],
            "debtor",
        )),
        reference: field(top(
            &[
                "reference",
                "remittance_information",
                "remittance",
                "description",
                "end_to_end_id",
            ],
            "reference",
        )),
    })
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn collect_leaves(v: &Value, at: String, depth: usize, out: &mut Vec<(String, Value)>) {
    if depth > 8 || out.len() > 500 {
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                collect_leaves(v, format!("{at}/{}", escape(k)), depth + 1, out);
            }
        }
        Value::Array(_) => {}
        other => out.push((at, other.clone())),
    }
}

/// The prefix every id shares up to its last `_` (`trf_`), or `None`.
pub(crate) fn id_prefix<'a>(ids: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut prefix: Option<&str> = None;
    for id in ids {
        let p = &id[..id.rfind('_').map_or(0, |i| i + 1)];
        match prefix {
            None => prefix = Some(p),
            Some(q) if q == p => {}
            Some(_) => return None,
        }
    }
    prefix.filter(|p| !p.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_come_from_flags_then_traffic_then_the_earlier_version() {
        let observed = vec![
            "submitted".into(),
            "in_review".into(),
            "approved".into(),
            "completed".into(),
            "parked".into(),
        ];
        let (map, missing, unknown) = statuses(&observed, &BTreeMap::new(), None);
        assert_eq!(missing, ["rejected"]);
        assert_eq!(unknown, ["parked"]);
        assert_eq!(map["pending_review"], "in_review");
        let given = BTreeMap::from([("rejected".to_owned(), "declined".to_owned())]);
        let (map, missing, _) = statuses(&observed, &given, None);
        assert!(missing.is_empty());
        assert_eq!(map["rejected"], "declined");
        let from = BTreeMap::from([
            ("rejected".to_owned(), "refused".to_owned()),
            ("settled".to_owned(), "booked".to_owned()),
        ]);
        let (map, missing, _) = statuses(&observed, &BTreeMap::new(), Some(&from));
        assert!(missing.is_empty());
        assert_eq!(map["rejected"], "refused");
        assert_eq!(map["settled"], "completed", "what the bank said wins");
    }

    #[test]
    fn payment_fields_are_found_by_name_and_shape() {
        let v3 = json!({"amount": {"value": "1.00", "currency": "EUR"}, "creditor": {}, "debtor": {}, "remittance_information": "x"});
        let found = payment_request(&v3).unwrap();
        assert_eq!(found.amount.pointer, "/amount/value");
        assert_eq!(found.amount.format, Some(AmountFormat::DecimalString));
        assert_eq!(found.currency.pointer, "/amount/currency");
        assert_eq!(found.reference.pointer, "/remittance_information");
        let v1 =
            json!({"amount_cents": 1200, "currency": "EUR", "beneficiary": {}, "reference": "r"});
        let found = payment_request(&v1).unwrap();
        assert_eq!(
            (found.amount.pointer.as_str(), found.amount.format),
            ("/amount_cents", Some(AmountFormat::MinorUnits))
        );
        assert_eq!(found.creditor.pointer, "/beneficiary");
        assert!(payment_request(&json!({"note": "no amount"})).is_none());
        assert_eq!(
            id_prefix(["trf_1", "trf_2"].into_iter()),
            Some("trf_".into())
        );
        assert_eq!(id_prefix(["trf_1", "pay_2"].into_iter()), None);
    }
}
