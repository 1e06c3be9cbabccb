//! The OTLP/JSON messages of a trace export (`ExportTraceServiceRequest`), as the
//! protobuf-to-JSON mapping OTLP/HTTP specifies: camelCase field names, trace and span ids
//! as lowercase hex (not base64), 64-bit integers as decimal strings, enums as numbers.

use std::time::{Duration, SystemTime};

use serde::Serialize;

/// `SPAN_KIND_INTERNAL`: the scenario and its steps.
pub(crate) const KIND_INTERNAL: u8 = 1;
/// `SPAN_KIND_CLIENT`: an attempt (one HTTP exchange).
pub(crate) const KIND_CLIENT: u8 = 3;
/// `STATUS_CODE_OK`.
pub(crate) const STATUS_OK: u8 = 1;
/// `STATUS_CODE_ERROR`.
pub(crate) const STATUS_ERROR: u8 = 2;

/// The body of `POST /v1/traces`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportRequest<'a> {
    pub(crate) resource_spans: [ResourceSpans<'a>; 1],
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceSpans<'a> {
    pub(crate) resource: Resource,
    pub(crate) scope_spans: [ScopeSpans<'a>; 1],
}

#[derive(Debug, Serialize)]
pub(crate) struct Resource {
    pub(crate) attributes: Vec<KeyValue>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScopeSpans<'a> {
    pub(crate) scope: Scope,
    pub(crate) spans: &'a [Span],
}

#[derive(Debug, Serialize)]
pub(crate) struct Scope {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
}

/// One finished span.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Span {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) parent_span_id: String,
    pub(crate) name: String,
    pub(crate) kind: u8,
    pub(crate) start_time_unix_nano: String,
    pub(crate) end_time_unix_nano: String,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) status: Status,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    pub(crate) code: u8,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) message: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct KeyValue {
    pub(crate) key: &'static str,
    pub(crate) value: AnyValue,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) enum AnyValue {
    #[serde(rename = "stringValue")]
    String(String),
    /// An int64, written as a decimal string as the JSON mapping says.
    #[serde(rename = "intValue")]
    Int(String),
}

/// A string attribute.
pub(crate) fn text(key: &'static str, value: impl Into<String>) -> KeyValue {
    KeyValue {
        key,
        value: AnyValue::String(value.into()),
    }
}

/// An integer attribute.
pub(crate) fn int(key: &'static str, value: impl Into<i64>) -> KeyValue {
    KeyValue {
        key,
        value: AnyValue::Int(value.into().to_string()),
    }
}

/// Nanoseconds since the Unix epoch, as the decimal string OTLP/JSON takes.
pub(crate) fn unix_nanos(t: SystemTime) -> String {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_written_as_otlp_json_maps_it() {
        let span = Span {
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: String::new(),
            name: "create payment".into(),
            kind: KIND_CLIENT,
            start_time_unix_nano: unix_nanos(SystemTime::UNIX_EPOCH + Duration::from_secs(1)),
            end_time_unix_nano: "2000000000".into(),
            attributes: vec![
                text("url.full", "http://x/"),
                int("http.response.status_code", 201),
            ],
            status: Status {
                code: STATUS_OK,
                message: String::new(),
            },
        };
        let body = serde_json::to_string(&span).unwrap();
        assert_eq!(
            body,
            r#"{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"create payment","kind":3,"startTimeUnixNano":"1000000000","endTimeUnixNano":"2000000000","attributes":[{"key":"url.full","value":{"stringValue":"http://x/"}},{"key":"http.response.status_code","value":{"intValue":"201"}}],"status":{"code":1}}"#
        );
    }
}
