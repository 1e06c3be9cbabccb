//! `Drift`: one difference between what a version folder says and what a bank (or another
//! version) does, with its kind, route and JSON pointer, and whether it breaks a client.

use std::fmt;

use serde::Serialize;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A field the reference version requires is not there.
    FieldMissing,
    /// A field the reference version does not know (additive).
    NewField,
    /// A field now has another JSON type.
    TypeChanged,
    /// A value outside the reference version's enum (a status the mock never sends).
    NewEnumValue,
    /// An enum value the new version no longer has (additive: a client never sees it).
    EnumValueRemoved,
    /// A field was required and is now optional (a client that relies on it breaks).
    FieldOptional,
    /// A value breaks another rule of the schema (pattern, format, length, range).
    ConstraintViolated,
    /// The status code of an answer is not the one the reference version gives.
    StatusChanged,
    /// A status code the reference version does not list for the route (additive for an
    /// error status).
    StatusAdded,
    /// A header the reference version does not require is now required.
    NewRequiredHeader,
    /// A request field or query parameter that is now required.
    NewRequiredParameter,
    /// A new request field that may be left out (additive).
    NewOptionalParameter,
    /// A request field the new version refuses.
    ParameterRemoved,
    /// How clients authenticate changed (scheme, API key vs OAuth).
    AuthChanged,
    /// The route's path changed (beyond the version segment).
    PathChanged,
    /// The `Content-Type` of a body changed.
    ContentTypeChanged,
    /// A route the reference version has is gone.
    RouteRemoved,
    /// A route the reference version does not have (additive).
    RouteAdded,
}

impl DriftKind {
    /// The name in reports: `field_missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FieldMissing => "field_missing",
            Self::NewField => "new_field",
            Self::TypeChanged => "type_changed",
            Self::NewEnumValue => "new_enum_value",
            Self::EnumValueRemoved => "enum_value_removed",
            Self::FieldOptional => "field_optional",
            Self::ConstraintViolated => "constraint_violated",
            Self::StatusChanged => "status_changed",
            Self::StatusAdded => "status_added",
            Self::NewRequiredHeader => "new_required_header",
            Self::NewRequiredParameter => "new_required_parameter",
            Self::NewOptionalParameter => "new_optional_parameter",
            Self::ParameterRemoved => "parameter_removed",
            Self::AuthChanged => "auth_changed",
            Self::PathChanged => "path_changed",
            Self::ContentTypeChanged => "content_type_changed",
            Self::RouteRemoved => "route_removed",
            Self::RouteAdded => "route_added",
        }
    }

    /// Whether a client written for the reference version breaks on it. Additive kinds
    /// (`new_field`, `route_added`, `new_optional_parameter`, `enum_value_removed`,
    /// `status_added`) do not; a caller may still decide otherwise for one drift (a new
    /// 2xx status is breaking).
    pub fn breaking(self) -> bool {
        !matches!(
            self,
            Self::NewField
                | Self::RouteAdded
                | Self::NewOptionalParameter
                | Self::EnumValueRemoved
                | Self::StatusAdded
        )
    }
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// What kind.
    pub kind: DriftKind,
    /// The route, `GET /v2/payments/{id}` (`*` for the whole version).
    pub route: String,
    /// JSON pointer into the body (`/status_history/0/status`; empty: the whole answer, or
    /// the route itself).
    pub pointer: String,
    /// What the reference version says.
    pub expected: String,
    /// What came (or what the other version says).
    pub actual: String,
    /// Breaks a client written for the reference version.
    pub breaking: bool,
    /// The answers it concerns, when it is in a response body: `201`, `400, 401, 422`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Drift {
    /// A drift whose breaking-ness is its kind's.
    pub fn new(
        kind: DriftKind,
        route: impl Into<String>,
        pointer: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            route: route.into(),
            pointer: pointer.into(),
            expected: expected.into(),
            actual: actual.into(),
            breaking: kind.breaking(),
            status: None,
        }
    }

    /// The same drift, in the answers with these status codes.
    #[must_use]
    pub fn in_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// The same drift, breaking or not whatever its kind says.
    #[must_use]
    pub fn breaking(mut self, breaking: bool) -> Self {
        self.breaking = breaking;
        self
    }

    /// `field_missing at /reference` (or the kind alone, for the whole answer).
    pub fn title(&self) -> String {
        if self.pointer.is_empty() {
            self.kind.to_string()
        } else {
            format!("{} at {}", self.kind, self.pointer)
        }
    }

    /// One line: `breaking field_missing at /reference (POST /v2/payments): expected …, got …`.
    pub fn line(&self) -> String {
        format!(
            "{} {} ({}): expected {}, got {}",
            if self.breaking {
                "breaking"
            } else {
                "additive"
            },
            self.title(),
            self.route,
            self.expected,
            self.actual
        )
    }
}

/// Appends `/token` to a JSON pointer, escaped per RFC 6901.
pub(crate) fn push_pointer(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// The JSON type of a value as a schema names it (`integer` for whole numbers).
pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                "integer"
            } else {
                "number"
            }
        }
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_say_whether_they_break_a_client() {
        assert!(DriftKind::FieldMissing.breaking());
        assert!(DriftKind::NewEnumValue.breaking());
        assert!(!DriftKind::NewField.breaking());
        assert!(!DriftKind::RouteAdded.breaking());
        let d = Drift::new(
            DriftKind::TypeChanged,
            "GET /v2/payments/{id}",
            "/amount",
            "string",
            "integer 125050",
        );
        assert_eq!(
            d.line(),
            "breaking type_changed at /amount (GET /v2/payments/{id}): expected string, got integer 125050"
        );
        assert_eq!(push_pointer("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
