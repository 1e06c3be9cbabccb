//! Matchers of `expect`: a literal means equality, otherwise a mapping of operators
//! (`eq ne gt gte lt lte matches contains exists type one_of len starts_with ends_with`).

use std::fmt;

use regex::Regex;
use serde_json::Value as Json;

use crate::decimal::Decimal;
use crate::template::{RenderError, Templates, TplValue, Vars};

/// The names of the matcher operators.
pub const OPERATORS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "matches",
    "contains",
    "exists",
    "type",
    "one_of",
    "len",
    "starts_with",
    "ends_with",
];

/// A check of one value; all its operators must hold.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The operators, in the order written.
    pub ops: Vec<Op>,
}

/// One matcher operator.
#[derive(Clone, Debug)]
pub enum Op {
    /// Equal (numbers compare by value: `1` equals `1.0`).
    Eq(TplValue),
    /// Not equal.
    Ne(TplValue),
    /// Greater than (numbers, or strings in lexical order).
    Gt(TplValue),
    /// Greater than or equal.
    Gte(TplValue),
    /// Less than.
    Lt(TplValue),
    /// Less than or equal.
    Lte(TplValue),
    /// A string matching a regular expression.
    Matches(Regex),
    /// A string containing a substring, a list containing an element, an object a key.
    Contains(TplValue),
    /// The path exists (or, with `false`, does not).
    Exists(bool),
    /// The JSON type.
    Type(JsonType),
    /// Equal to one of these.
    OneOf(Vec<TplValue>),
    /// The length of a string, list or object.
    Len(Box<Matcher>),
    /// A string starting with this text.
    StartsWith(TplValue),
    /// A string ending with this text.
    EndsWith(TplValue),
}

/// JSON types for `type:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    /// `"string"`
    String,
    /// `"number"` (integers too)
    Number,
    /// `"integer"`
    Integer,
    /// `"boolean"`
    Boolean,
    /// `"array"`
    Array,
    /// `"object"`
    Object,
    /// `"null"`
    Null,
}

impl JsonType {
    /// Parses a type name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "number" => Self::Number,
            "integer" => Self::Integer,
            "boolean" | "bool" => Self::Boolean,
            "array" | "list" => Self::Array,
            "object" => Self::Object,
            "null" => Self::Null,
            _ => return None,
        })
    }
    /// The names `type:` accepts.
    pub const NAMES: &'static [&'static str] = &[
        "string", "number", "integer", "boolean", "array", "object", "null",
    ];

    fn holds(self, v: &Json) -> bool {
        match self {
            Self::String => v.is_string(),
            Self::Number => v.is_number(),
            // As JSON Schema: a number with no fractional part, whatever its size (`1.0` too).
            Self::Integer => match v {
                Json::Number(n) => Decimal::parse(n.as_str()).is_some_and(|d| d.is_integer()),
                _ => false,
            },
            Self::Boolean => v.is_boolean(),
            Self::Array => v.is_array(),
            Self::Object => v.is_object(),
            Self::Null => v.is_null(),
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Array => "array",
            Self::Object => "object",
            Self::Null => "null",
        })
    }
}

/// Why a value did not match: what was expected and what came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What the matcher wanted, e.g. `== "settled"`.
    pub expected: String,
    /// What was there, e.g. `"pending"` or `nothing`.
    pub actual: String,
}

/// The outcome of checking a value.
#[derive(Debug)]
pub enum CheckError {
    /// The value did not match.
    Mismatch(Mismatch),
    /// A template in the matcher could not be rendered.
    Render(RenderError),
}

impl Matcher {
    /// Equality with a value.
    pub fn eq(value: TplValue) -> Self {
        Self {
            ops: vec![Op::Eq(value)],
        }
    }

    /// Checks `actual` (`None`: the path matched nothing).
    pub fn check(
        &self,
        actual: Option<&Json>,
        templates: &Templates,
        vars: &Vars,
    ) -> Result<(), CheckError> {
        for op in &self.ops {
            op.check(actual, templates, vars)?;
        }
        Ok(())
    }

    /// Checks a text without making a JSON string of it (a body of 512 MiB is not copied):
    /// the string operators work on `text` as it is; any other builds the JSON string.
    pub fn check_text(
        &self,
        text: &str,
        templates: &Templates,
        vars: &Vars,
    ) -> Result<(), CheckError> {
        let shown = || format!("{:?}", excerpt(text, 200));
        for op in &self.ops {
            let want = |v: &TplValue| templates.render_value(v, vars).map_err(CheckError::Render);
            let fail = |expected: String| {
                Err(CheckError::Mismatch(Mismatch {
                    expected,
                    actual: shown(),
                }))
            };
            match op {
                Op::Eq(v) | Op::Ne(v) => {
                    let w = want(v)?;
                    let equal = w.as_str() == Some(text);
                    match (op, equal) {
                        (Op::Eq(_), false) => return fail(format!("== {w}")),
                        (Op::Ne(_), true) => return fail(format!("!= {w}")),
                        _ => {}
                    }
                }
                Op::Contains(v) | Op::StartsWith(v) | Op::EndsWith(v) => {
                    let w = want(v)?;
                    let Some(w) = w.as_str() else {
                        return fail(format!("a text to compare with, not {w}"));
                    };
                    let (ok, word) = match op {
                        Op::Contains(_) => (text.contains(w), "containing"),
                        Op::StartsWith(_) => (text.starts_with(w), "starting with"),
                        _ => (text.ends_with(w), "ending with"),
                    };
                    if !ok {
                        return fail(format!("a string {word} {}", Json::from(w)));
                    }
                }
                Op::Matches(re) => {
                    if !re.is_match(text) {
                        return fail(format!("a string matching /{}/", re.as_str()));
                    }
                }
                Op::Len(inner) => {
                    let len = text.chars().count();
                    inner
                        .check(Some(&Json::from(len)), templates, vars)
                        .map_err(|e| match e {
                            CheckError::Mismatch(m) => CheckError::Mismatch(Mismatch {
                                expected: format!("length {}", m.expected),
                                actual: format!("length {len}: {}", shown()),
                            }),
                            other => other,
                        })?;
                }
                other => other.check(Some(&Json::String(text.to_owned())), templates, vars)?,
            }
        }
        Ok(())
    }

    /// Checks the values of a header sent several times (Hurl's rule): `len`, `contains`,
    /// `exists` and `type` see the list; `ne` holds when no value is equal; every other
    /// operator holds when one of the values satisfies it.
    pub fn check_each(
        &self,
        values: &[Json],
        templates: &Templates,
        vars: &Vars,
    ) -> Result<(), CheckError> {
        let list = Json::Array(values.to_vec());
        for op in &self.ops {
            let result = match op {
                Op::Len(_) | Op::Contains(_) | Op::Exists(_) | Op::Type(_) => {
                    op.check(Some(&list), templates, vars)
                }
                Op::Ne(_) => values
                    .iter()
                    .try_for_each(|v| op.check(Some(v), templates, vars)),
                _ => {
                    let mut last = None;
                    for v in values {
                        match op.check(Some(v), templates, vars) {
                            Ok(()) => {
                                last = None;
                                break;
                            }
                            Err(e) => last = Some(e),
                        }
                    }
                    last.map_or(Ok(()), Err)
                }
            };
            result.map_err(|e| match e {
                CheckError::Mismatch(m) => CheckError::Mismatch(Mismatch {
                    expected: if matches!(op, Op::Ne(_)) {
                        format!("every value {}", m.expected)
                    } else if matches!(
                        op,
                        Op::Len(_) | Op::Contains(_) | Op::Exists(_) | Op::Type(_)
                    ) {
                        m.expected
                    } else {
                        format!("a value {}", m.expected)
                    },
                    actual: show(Some(&list)),
                }),
                other => other,
            })?;
        }
        Ok(())
    }
}

fn show(v: Option<&Json>) -> String {
    match v {
        None => "nothing (the path matched no value)".to_owned(),
        Some(v) => excerpt(&v.to_string(), 200),
    }
}

/// Cuts text to at most `max` characters, marking the cut.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

impl Op {
    fn check(&self, actual: Option<&Json>, t: &Templates, vars: &Vars) -> Result<(), CheckError> {
        let render = |v: &TplValue| t.render_value(v, vars).map_err(CheckError::Render);
        let fail = |expected: String| {
            Err(CheckError::Mismatch(Mismatch {
                expected,
                actual: show(actual),
            }))
        };
        match self {
            Op::Exists(want) => {
                if actual.is_some() != *want {
                    return fail(if *want {
                        "a value".into()
                    } else {
                        "no value".into()
                    });
                }
                Ok(())
            }
            Op::Eq(v) => {
                let want = render(v)?;
                if actual.is_some_and(|a| json_eq(a, &want)) {
                    Ok(())
                } else {
                    fail(format!("== {want}"))
                }
            }
            Op::Ne(v) => {
                let want = render(v)?;
                if actual.is_some_and(|a| json_eq(a, &want)) {
                    fail(format!("!= {want}"))
                } else {
                    Ok(())
                }
            }
            Op::Gt(v) | Op::Gte(v) | Op::Lt(v) | Op::Lte(v) => {
                let want = render(v)?;
                let (sym, ok): (&str, fn(std::cmp::Ordering) -> bool) = match self {
                    Op::Gt(_) => (">", |o| o.is_gt()),
                    Op::Gte(_) => (">=", |o| o.is_ge()),
                    Op::Lt(_) => ("<", |o| o.is_lt()),
                    _ => ("<=", |o| o.is_le()),
                };
                match actual.and_then(|a| compare(a, &want)) {
                    Some(ord) if ok(ord) => Ok(()),
                    _ => fail(format!("{sym} {want}")),
                }
            }
            Op::Matches(re) => match actual {
                Some(Json::String(s)) if re.is_match(s) => Ok(()),
                _ => fail(format!("a string matching /{}/", re.as_str())),
            },
            Op::Contains(v) => {
                let want = render(v)?;
                let ok = match (actual, &want) {
                    (Some(Json::String(s)), Json::String(w)) => s.contains(w.as_str()),
                    (Some(Json::Array(items)), w) => items.iter().any(|i| json_eq(i, w)),
                    (Some(Json::Object(o)), Json::String(k)) => o.contains_key(k),
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    fail(format!("something containing {want}"))
                }
            }
            Op::Type(ty) => {
                if actual.is_some_and(|a| ty.holds(a)) {
                    Ok(())
                } else {
                    fail(format!("a value of type {ty}"))
                }
            }
            Op::OneOf(options) => {
                let rendered = options.iter().map(render).collect::<Result<Vec<_>, _>>()?;
                if actual.is_some_and(|a| rendered.iter().any(|w| json_eq(a, w))) {
                    Ok(())
                } else {
                    fail(format!("one of {}", Json::Array(rendered)))
                }
            }
            Op::StartsWith(v) | Op::EndsWith(v) => {
                let want = render(v)?;
                let starts = matches!(self, Op::StartsWith(_));
                let ok = match (actual, &want) {
                    (Some(Json::String(s)), Json::String(w)) => {
                        if starts {
                            s.starts_with(w.as_str())
                        } else {
                            s.ends_with(w.as_str())
                        }
                    }
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    fail(format!(
                        "a string {} {want}",
                        if starts {
                            "starting with"
                        } else {
                            "ending with"
                        }
                    ))
                }
            }
            Op::Len(inner) => {
                let len = match actual {
                    Some(Json::String(s)) => s.chars().count(),
                    Some(Json::Array(a)) => a.len(),
                    Some(Json::Object(o)) => o.len(),
                    _ => return fail("a string, list or object (for `len`)".into()),
                };
                inner
                    .check(Some(&Json::from(len)), t, vars)
                    .map_err(|e| match e {
                        CheckError::Mismatch(m) => CheckError::Mismatch(Mismatch {
                            expected: format!("length {}", m.expected),
                            actual: format!("length {len}: {}", show(actual)),
                        }),
                        other => other,
                    })
            }
        }
    }
}

/// Equality where numbers compare by value, exactly, over their digits: `1 == 1.0`,
/// `0.1 == 0.10`, and `10000000000000000365 != 10000000000000000000` (no float between).
pub fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            number_cmp(x, y).map_or(x == y, std::cmp::Ordering::is_eq)
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Two numbers in order, exactly.
fn number_cmp(x: &serde_json::Number, y: &serde_json::Number) -> Option<std::cmp::Ordering> {
    Some(Decimal::parse(x.as_str())?.cmp(&Decimal::parse(y.as_str())?))
}

/// Ordering for `gt`/`gte`/`lt`/`lte`: numbers exactly; strings that are numbers in JSON's
/// grammar (amounts such as `"25000.00"`) as numbers, other strings in lexical order.
fn compare(a: &Json, b: &Json) -> Option<std::cmp::Ordering> {
    let decimal = |v: &Json| match v {
        Json::Number(n) => Decimal::parse(n.as_str()),
        Json::String(s) => Decimal::parse(s),
        _ => None,
    };
    match (a, b) {
        (Json::String(x), Json::String(y)) => match (Decimal::parse(x), Decimal::parse(y)) {
            (Some(p), Some(q)) => Some(p.cmp(&q)),
            _ => Some(x.cmp(y)),
        },
        _ => Some(decimal(a)?.cmp(&decimal(b)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Json {
        serde_json::from_str(s).expect("a JSON number")
    }

    #[test]
    fn big_integers_compare_exactly() {
        // Both fit no i64; as f64 they are the same number.
        assert!(!json_eq(
            &n("10000000000000000365"),
            &n("10000000000000000000")
        ));
        assert!(json_eq(
            &n("1000000000000000000000"),
            &n("1000000000000000000000")
        ));
        assert!(!json_eq(
            &n("1000000000000000000000"),
            &n("1000000000000000000001")
        ));
        assert_eq!(
            compare(&n("1000000000000000000001"), &n("1000000000000000000000")),
            Some(std::cmp::Ordering::Greater)
        );
        assert_eq!(
            compare(
                &n("10000000000000000365"),
                &Json::String("10000000000000000366".into())
            ),
            Some(std::cmp::Ordering::Less)
        );
    }

    #[test]
    fn decimals_compare_by_value() {
        assert!(json_eq(&n("0.1"), &n("0.10")));
        assert!(json_eq(&n("1"), &n("1.0")));
        assert!(!json_eq(&n("0.1"), &n("0.1000000000000000000001")));
        assert_eq!(
            compare(&n("0.3"), &n("0.30000000000000001")),
            Some(std::cmp::Ordering::Less)
        );
        assert!(json_eq(
            &serde_json::json!([n("1.50")]),
            &serde_json::json!([1.5])
        ));
    }

    #[test]
    fn integer_type_is_by_value() {
        assert!(JsonType::Integer.holds(&n("100000000000000000000000000000")));
        assert!(JsonType::Integer.holds(&n("2.0")));
        assert!(!JsonType::Integer.holds(&n("2.5")));
    }
}

#[cfg(test)]
mod header_and_text_tests {
    use std::sync::Arc;

    use super::*;
    use crate::template::Resolve;

    #[derive(Debug)]
    struct NoWorld;
    impl Resolve for NoWorld {
        fn secret(&self, _: &str) -> Option<String> {
            None
        }
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn now(&self) -> String {
            String::new()
        }
        fn uuid(&self) -> String {
            String::new()
        }
    }

    fn lit(v: Json) -> TplValue {
        TplValue::Json(v)
    }

    #[test]
    fn a_repeated_header_is_matched_by_any_value_and_counted_as_a_list() {
        let t = Templates::new(Arc::new(NoWorld));
        let vars = Vars::default();
        let values = [Json::from("a"), Json::from("b"), Json::from("c")];
        let check = |ops: Vec<Op>| Matcher { ops }.check_each(&values, &t, &vars).is_ok();
        assert!(check(vec![Op::Eq(lit("b".into()))]));
        assert!(!check(vec![Op::Eq(lit("z".into()))]));
        assert!(check(vec![Op::Ne(lit("z".into()))]));
        assert!(
            !check(vec![Op::Ne(lit("a".into()))]),
            "ne: no value may be equal"
        );
        assert!(check(vec![Op::Len(Box::new(Matcher::eq(lit(3.into()))))]));
        assert!(check(vec![Op::Contains(lit("c".into()))]));
        assert!(check(vec![Op::StartsWith(lit("b".into()))]));
    }

    #[test]
    fn text_checks_do_not_need_a_json_string() {
        let t = Templates::new(Arc::new(NoWorld));
        let vars = Vars::default();
        let m = Matcher {
            ops: vec![
                Op::StartsWith(lit("line1".into())),
                Op::EndsWith(lit("\r\n".into())),
                Op::Len(Box::new(Matcher::eq(lit(7.into())))),
            ],
        };
        assert!(m.check_text("line1\r\n", &t, &vars).is_ok());
        let Err(CheckError::Mismatch(mm)) = m.check_text("line2\r\n", &t, &vars) else {
            panic!("a mismatch")
        };
        assert_eq!(mm.expected, r#"a string starting with "line1""#);
        assert_eq!(mm.actual, r#""line2\r\n""#);
    }
}
