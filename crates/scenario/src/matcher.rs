//! Matchers of `expect`: a literal means equality, otherwise a mapping of operators
//! (`eq ne gt gte lt lte matches contains exists type one_of len`).

use std::fmt;

use regex::Regex;
use serde_json::Value as Json;

use crate::template::{RenderError, Templates, TplValue, Vars};

/// The names of the matcher operators.
pub const OPERATORS: &[&str] = &[
    "eq", "ne", "gt", "gte", "lt", "lte", "matches", "contains", "exists", "type", "one_of", "len",
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
            Self::Integer => v.is_i64() || v.is_u64(),
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

/// Equality where numbers compare by value (`1 == 1.0`).
pub fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
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

fn compare(a: &Json, b: &Json) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Json::String(x), Json::String(y)) => {
            // Decimal strings such as amounts ("25000.00") compare as numbers.
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => p.partial_cmp(&q),
                _ => Some(x.cmp(y)),
            }
        }
        (Json::String(x), Json::Number(y)) => x.parse::<f64>().ok()?.partial_cmp(&y.as_f64()?),
        _ => None,
    }
}
