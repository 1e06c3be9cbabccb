//! Two versions compared: their schemas (what a client reads in answers, what it sends in
//! requests) and their manifests (routes, statuses, headers, auth), classified as drift from
//! the first. What `rehearse contract diff A B` prints as a changelog.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::drift::{Drift, DriftKind, push_pointer};
use crate::folder::VersionFolder;
use crate::manifest::RouteSpec;
use crate::schema::{
    Doc, MAX_DEPTH, closed, describe_types, enum_values, excerpt, properties, required,
};

/// Which way a body travels: what breaks a client differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An answer: the client reads it (a new type or enum value breaks it; a new field
    /// does not).
    Response,
    /// A request body: the client writes it (a newly required field breaks it; a new
    /// optional one does not).
    Request,
}

/// The drifts from schema `old` to schema `new` (whole documents), on `route`. Array items
/// are at `/*` in the pointers.
pub fn schema_drifts(old: &Value, new: &Value, route: &str, direction: Direction) -> Vec<Drift> {
    let mut walk = Walk {
        old: Doc::new(old),
        new: Doc::new(new),
        route,
        direction,
        out: Vec::new(),
    };
    walk.node(old, new, "", 0);
    walk.out
}

struct Walk<'s, 'r> {
    old: Doc<'s>,
    new: Doc<'s>,
    route: &'r str,
    direction: Direction,
    out: Vec<Drift>,
}

impl<'s> Walk<'s, '_> {
    fn drift(&mut self, kind: DriftKind, pointer: &str, was: String, now: String) {
        self.out
            .push(Drift::new(kind, self.route, pointer, was, now));
    }

    fn node(&mut self, a: &'s Value, b: &'s Value, pointer: &str, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let (a, b) = (self.old.resolve(a), self.new.resolve(b));
        let (ea, eb) = (enum_values(a), enum_values(b));
        if let (Some(ea), Some(eb)) = (&ea, &eb) {
            self.enums(ea, eb, pointer);
            return;
        }
        if let (Some(ta), Some(tb)) = (self.old.types(a), self.new.types(b))
            && ta != tb
        {
            let widened = tb.difference(&ta).next().is_some();
            let narrowed = ta.difference(&tb).next().is_some();
            let breaks = match self.direction {
                Direction::Response => widened,
                Direction::Request => narrowed,
            };
            self.out.push(
                Drift::new(
                    DriftKind::TypeChanged,
                    self.route,
                    pointer,
                    describe_types(&ta),
                    describe_types(&tb),
                )
                .breaking(breaks),
            );
            let both = |t: &str| ta.contains(t) && tb.contains(t);
            if !both("object") && !both("array") {
                return;
            }
        }
        if properties(a).is_some() || properties(b).is_some() {
            self.objects(a, b, pointer, depth);
        }
        if let (Some(ia), Some(ib)) = (a.get("items"), b.get("items")) {
            self.node(ia, ib, &format!("{pointer}/*"), depth + 1);
        }
    }

    fn enums(&mut self, ea: &[Value], eb: &[Value], pointer: &str) {
        let list = |v: &[Value]| v.iter().map(excerpt).collect::<Vec<_>>().join(", ");
        let added: Vec<Value> = eb.iter().filter(|v| !ea.contains(v)).cloned().collect();
        let removed: Vec<Value> = ea.iter().filter(|v| !eb.contains(v)).cloned().collect();
        let (was, now) = (list(ea), list(eb));
        match self.direction {
            Direction::Response => {
                if !added.is_empty() {
                    self.drift(
                        DriftKind::NewEnumValue,
                        pointer,
                        format!("one of {was}"),
                        format!("also {}", list(&added)),
                    );
                }
                if !removed.is_empty() {
                    self.drift(
                        DriftKind::EnumValueRemoved,
                        pointer,
                        format!("one of {was}"),
                        format!("no longer {}", list(&removed)),
                    );
                }
            }
            Direction::Request => {
                if !removed.is_empty() {
                    self.out.push(
                        Drift::new(
                            DriftKind::ConstraintViolated,
                            self.route,
                            pointer,
                            format!("one of {was}"),
                            format!("one of {now}: {} refused", list(&removed)),
                        )
                        .breaking(true),
                    );
                }
            }
        }
    }

    fn objects(&mut self, a: &'s Value, b: &'s Value, pointer: &str, depth: usize) {
        static EMPTY: std::sync::LazyLock<serde_json::Map<String, Value>> =
            std::sync::LazyLock::new(serde_json::Map::new);
        let pa = properties(a).unwrap_or(&EMPTY);
        let pb = properties(b).unwrap_or(&EMPTY);
        let (ra, rb) = (required(a), required(b));
        let names: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
        // In the order the new schema lists them, then the old one's.
        let mut ordered: Vec<&String> = pb.keys().collect();
        ordered.extend(pa.keys().filter(|k| !pb.contains_key(*k)));
        debug_assert_eq!(ordered.len(), names.len());
        for name in ordered {
            let at = push_pointer(pointer, name);
            let (sa, sb) = (pa.get(name), pb.get(name));
            let (req_a, req_b) = (ra.contains(name.as_str()), rb.contains(name.as_str()));
            match (self.direction, sa, sb) {
                (Direction::Response, Some(_), None) => self.out.push(
                    Drift::new(
                        DriftKind::FieldMissing,
                        self.route,
                        at,
                        format!("field `{name}`{}", if req_a { " (required)" } else { "" }),
                        "no such field",
                    )
                    .breaking(req_a),
                ),
                (Direction::Response, None, Some(_)) => self.drift(
                    DriftKind::NewField,
                    &at,
                    format!("no field `{name}`"),
                    format!(
                        "field `{name}`{}",
                        if req_b { " (always sent)" } else { "" }
                    ),
                ),
                (Direction::Request, None, Some(_)) if req_b => self.drift(
                    DriftKind::NewRequiredParameter,
                    &at,
                    format!("no field `{name}`"),
                    format!("field `{name}` required"),
                ),
                (Direction::Request, None, Some(_)) => self.drift(
                    DriftKind::NewOptionalParameter,
                    &at,
                    format!("no field `{name}`"),
                    format!("optional field `{name}`"),
                ),
                (Direction::Request, Some(_), None) => self.out.push(
                    Drift::new(
                        DriftKind::ParameterRemoved,
                        self.route,
                        at,
                        format!("field `{name}`"),
                        if closed(b) {
                            "refused (not a field of this version)".to_owned()
                        } else {
                            "no longer read".to_owned()
                        },
                    )
                    .breaking(closed(b) || req_a),
                ),
                (_, Some(sa), Some(sb)) => {
                    match self.direction {
                        Direction::Response if req_a && !req_b => self.drift(
                            DriftKind::FieldOptional,
                            &at,
                            format!("field `{name}` always sent"),
                            "may be left out".to_owned(),
                        ),
                        Direction::Request if req_b && !req_a => self.drift(
                            DriftKind::NewRequiredParameter,
                            &at,
                            format!("optional field `{name}`"),
                            format!("field `{name}` required"),
                        ),
                        _ => {}
                    }
                    self.node(sa, sb, &at, depth + 1);
                }
                _ => {}
            }
        }
    }
}

/// Every drift from version `a` to version `b`: the whole version's (auth, error content
/// type), then route by route (routes are matched by what they do — method and operation —
/// so `/v2/payments` and `/v3/transfers` are the same create), each route's headers,
/// statuses, request and response schemas. Answers whose schema files are the same pair in
/// both versions are compared once, their statuses listed together.
pub fn diff_folders(a: &VersionFolder, b: &VersionFolder) -> Vec<Drift> {
    let (ma, mb) = (&a.manifest, &b.manifest);
    let mut out = Vec::new();
    if ma.auth != mb.auth {
        out.push(Drift::new(
            DriftKind::AuthChanged,
            "*",
            "",
            auth_name(ma.auth),
            auth_name(mb.auth),
        ));
    }
    if ma.error_content_type != mb.error_content_type {
        out.push(Drift::new(
            DriftKind::ContentTypeChanged,
            "*",
            "",
            format!("errors as {}", ma.error_content_type),
            format!("errors as {}", mb.error_content_type),
        ));
    }
    for ra in &ma.routes {
        let Some(rb) = mb
            .routes
            .iter()
            .find(|r| r.operation == ra.operation && r.method.eq_ignore_ascii_case(&ra.method))
        else {
            out.push(Drift::new(
                DriftKind::RouteRemoved,
                route_name(ra),
                "",
                format!("{} ({})", route_name(ra), operation_name(ra)),
                "no such route",
            ));
            continue;
        };
        out.extend(route_drifts(a, ra, b, rb));
    }
    for rb in &mb.routes {
        let known = ma
            .routes
            .iter()
            .any(|r| r.operation == rb.operation && r.method.eq_ignore_ascii_case(&rb.method));
        if !known {
            out.push(Drift::new(
                DriftKind::RouteAdded,
                route_name(rb),
                "",
                "no such route",
                format!("{} ({})", route_name(rb), operation_name(rb)),
            ));
        }
    }
    out
}

fn route_drifts(
    a: &VersionFolder,
    ra: &RouteSpec,
    b: &VersionFolder,
    rb: &RouteSpec,
) -> Vec<Drift> {
    let route = route_name(rb);
    let mut out = Vec::new();
    let unversioned = |path: &str, v: &VersionFolder| {
        path.strip_prefix(&format!("/{}", v.version))
            .unwrap_or(path)
            .to_owned()
    };
    if unversioned(&ra.path, a) != unversioned(&rb.path, b) {
        out.push(Drift::new(
            DriftKind::PathChanged,
            &route,
            "",
            format!("`{}`", ra.path),
            format!("`{}`", rb.path),
        ));
    }
    let ha = a.manifest.required_headers_of(ra);
    for h in b.manifest.required_headers_of(rb) {
        if !ha.iter().any(|x| x.eq_ignore_ascii_case(&h)) {
            out.push(Drift::new(
                DriftKind::NewRequiredHeader,
                &route,
                "",
                format!("no `{h}` header"),
                format!("`{h}` required"),
            ));
        }
    }
    let success = |r: &RouteSpec| -> Vec<String> {
        r.responses
            .keys()
            .filter(|s| s.starts_with('2'))
            .cloned()
            .collect()
    };
    let (sa, sb) = (success(ra), success(rb));
    if sa != sb {
        out.push(Drift::new(
            DriftKind::StatusChanged,
            &route,
            "",
            format!("answers {}", sa.join(", ")),
            format!("answers {}", sb.join(", ")),
        ));
    }
    for status in rb
        .responses
        .keys()
        .filter(|s| !ra.responses.contains_key(*s))
    {
        out.push(
            Drift::new(
                DriftKind::StatusAdded,
                &route,
                "",
                format!("no {status} answer"),
                format!("{status} with {}", rb.responses[status]),
            )
            .breaking(status.starts_with('2')),
        );
    }
    if let (Some(qa), Some(qb)) = (&ra.request_schema, &rb.request_schema)
        && let (Some(sa), Some(sb)) = (a.json(qa), b.json(qb))
    {
        out.extend(schema_drifts(&sa, &sb, &route, Direction::Request));
    }
    // Answers grouped by the pair of schema files they use.
    let mut pairs: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (status, fb) in &rb.responses {
        if let Some(fa) = ra.responses.get(status) {
            pairs
                .entry((fa.as_str(), fb.as_str()))
                .or_default()
                .push(status.as_str());
        }
    }
    let mut groups: Vec<(Vec<&str>, &str, &str)> = pairs
        .into_iter()
        .map(|((fa, fb), statuses)| (statuses, fa, fb))
        .collect();
    groups.sort();
    for (statuses, fa, fb) in groups {
        if let (Some(sa), Some(sb)) = (a.json(fa), b.json(fb)) {
            let status = statuses.join(", ");
            out.extend(
                schema_drifts(&sa, &sb, &route, Direction::Response)
                    .into_iter()
                    .map(|d| d.in_status(status.clone())),
            );
        }
    }
    out
}

/// `GET /v2/payments/{id}`.
pub(crate) fn route_name(r: &RouteSpec) -> String {
    format!("{} {}", r.method.to_ascii_uppercase(), r.path)
}

fn operation_name(r: &RouteSpec) -> &'static str {
    use crate::manifest::Operation;
    match r.operation {
        Operation::CreatePayment => "create a payment",
        Operation::GetPayment => "one payment",
        Operation::ListPayments => "list payments",
        Operation::IssueToken => "issue a token",
    }
}

pub(crate) fn auth_name(auth: crate::manifest::Auth) -> String {
    match auth {
        crate::manifest::Auth::ApiKey => "API key (`Authorization: Bearer <key>`)".to_owned(),
        crate::manifest::Auth::OauthClientCredentials => {
            "OAuth client credentials (token from `POST /oauth/token`)".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn lines(drifts: &[Drift]) -> Vec<String> {
        drifts.iter().map(Drift::line).collect()
    }

    #[test]
    fn answers_break_on_new_types_and_values_not_on_new_fields() {
        let old = json!({"type": "object", "required": ["a", "s"], "properties": {
            "a": {"type": "string"}, "s": {"enum": ["x", "y"]}, "o": {"type": "string"},
            "list": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer"}}}}
        }});
        let new = json!({"type": "object", "required": ["s"], "properties": {
            "a": {"type": ["string", "null"]}, "s": {"enum": ["x", "z"]}, "extra": {"type": "string"},
            "list": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}}
        }});
        insta::assert_debug_snapshot!(lines(&schema_drifts(&old, &new, "GET /p", Direction::Response)), @r#"
        [
            "breaking field_optional at /a (GET /p): expected field `a` always sent, got may be left out",
            "breaking type_changed at /a (GET /p): expected string, got null or string",
            "breaking new_enum_value at /s (GET /p): expected one of \"x\", \"y\", got also \"z\"",
            "additive enum_value_removed at /s (GET /p): expected one of \"x\", \"y\", got no longer \"y\"",
            "additive new_field at /extra (GET /p): expected no field `extra`, got field `extra`",
            "breaking type_changed at /list/*/n (GET /p): expected integer, got string",
            "additive field_missing at /o (GET /p): expected field `o`, got no such field",
        ]
        "#);
    }

    #[test]
    fn requests_break_on_new_requirements_not_on_new_options() {
        let old = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": "string"}, "gone": {"type": "string"}}});
        let new = json!({"type": "object", "required": ["a", "purpose"], "additionalProperties": false,
            "properties": {"a": {"type": "string"}, "purpose": {"type": "string"}, "memo": {"type": "string"}}});
        insta::assert_debug_snapshot!(lines(&schema_drifts(&old, &new, "POST /p", Direction::Request)), @r#"
        [
            "breaking new_required_parameter at /purpose (POST /p): expected no field `purpose`, got field `purpose` required",
            "additive new_optional_parameter at /memo (POST /p): expected no field `memo`, got optional field `memo`",
            "breaking parameter_removed at /gone (POST /p): expected field `gone`, got refused (not a field of this version)",
        ]
        "#);
    }

    #[test]
    fn a_version_against_itself_has_no_drift() {
        let catalog = crate::Catalog::builtin();
        for v in catalog.versions() {
            let f = catalog.get(v).unwrap();
            assert_eq!(diff_folders(f, f), [], "{v}");
        }
    }
}
