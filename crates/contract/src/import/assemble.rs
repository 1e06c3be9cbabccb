//! The import itself: the mapped operations become routes, their schemas JSON Schema files,
//! the response schemas templates, and the mapping plus what the document says (security
//! schemes, the `Idempotency-Key` parameter, the id's pattern) the manifest.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::folder::VersionFolder;
use crate::import::document::{Document, token};
use crate::import::mapping::{FieldRef, Mapping};
use crate::import::notes::Notes;
use crate::import::schema::{component_name, json_schema};
use crate::import::template::{Kind, generate, schema_at};
use crate::import::{ImportError, ImportRequest, Imported, NOTES_FILE};
use crate::manifest::{AmountFormat, Field, Manifest, Operation, PaymentRequest, RouteSpec};

/// One operation of the document.
pub(crate) struct Op<'a> {
    pub(crate) path: String,
    pub(crate) method: String,
    pub(crate) id: Option<String>,
    pub(crate) raw: &'a Value,
    pub(crate) op: &'a oas3::spec::Operation,
}

impl Op<'_> {
    pub(crate) fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("`{} {}` ({id})", self.method, self.path),
            None => format!("`{} {}`", self.method, self.path),
        }
    }
}

const OPERATIONS: [(Operation, &str); 4] = [
    (Operation::CreatePayment, "create_payment"),
    (Operation::GetPayment, "get_payment"),
    (Operation::ListPayments, "list_payments"),
    (Operation::IssueToken, "issue_token"),
];

/// The import's working state: the document, the mapping, the files so far and the notes.
pub(crate) struct Build<'a> {
    pub(crate) doc: &'a Document,
    pub(crate) mapping: &'a Mapping,
    version: String,
    files: BTreeMap<String, String>,
    pub(crate) notes: Notes,
    problems: Vec<String>,
    /// The amount's format, once known (mapped or from its type).
    amount_format: Option<AmountFormat>,
}

pub(crate) fn assemble(request: &ImportRequest<'_>) -> Result<Imported, ImportError> {
    let doc = Document::parse(request.openapi).map_err(ImportError::Document)?;
    let mapping = match request.mapping {
        Some((text, _)) => Mapping::parse(text).map_err(ImportError::Mapping)?,
        None => Mapping::default(),
    };
    let mut b = Build {
        doc: &doc,
        mapping: &mapping,
        version: request.version.to_string(),
        files: BTreeMap::new(),
        notes: Notes::default(),
        problems: Vec::new(),
        amount_format: None,
    };
    let manifest = b.manifest();
    b.notes.schema.extend(doc.rewrites.iter().cloned());
    if !b.problems.is_empty() {
        return Err(ImportError::Unmapped {
            problems: b.problems,
            notes: b.notes,
        });
    }
    let Some(manifest) = manifest else {
        return Err(ImportError::Unmapped {
            problems: vec!["the manifest could not be built".to_owned()],
            notes: b.notes,
        });
    };
    b.write_json(
        "manifest.json",
        &serde_json::to_value(&manifest).unwrap_or(Value::Null),
    );
    let source = format!(
        "Made by `rehearse contract import` from `{}` (OpenAPI {}, \"{}\" {}){}.",
        request.openapi_name,
        doc.openapi,
        doc.spec.info.title,
        doc.spec.info.version,
        match request.mapping {
            Some((_, name)) => format!(" with the mapping `{name}`"),
            None => " without a mapping file".to_owned(),
        }
    );
    let regenerate = format!(
        "rehearse contract import {} --as {}{} --out {} --force",
        request.openapi_name,
        request.version,
        request
            .mapping
            .map(|(_, name)| format!(" --mapping {name}"))
            .unwrap_or_default(),
        request.out.display()
    );
    let notes_text = b.notes.markdown(
        &format!("Bank API {}: import notes", request.version),
        &source,
        &regenerate,
    );
    b.files.insert(NOTES_FILE.to_owned(), notes_text);
    let folder = VersionFolder::from_files(request.version, request.out, b.files)
        .map_err(ImportError::Folder)?;
    Ok(Imported {
        folder,
        notes: b.notes,
    })
}

impl<'a> Build<'a> {
    pub(crate) fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }

    pub(crate) fn write_json(&mut self, rel: &str, value: &Value) {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        self.files.insert(rel.to_owned(), text);
    }

    /// Every piece of the manifest, writing schemas and templates on the way; `None` when
    /// a problem stops it (the problems say why).
    fn manifest(&mut self) -> Option<Manifest> {
        let ops = operations(self.doc);
        let doc = self.doc;
        let mapping = self.mapping;
        // Operations.
        let mut chosen: Vec<(Operation, usize)> = Vec::new();
        for (operation, key) in OPERATIONS {
            let named = match operation {
                Operation::CreatePayment => &mapping.operations.create_payment,
                Operation::GetPayment => &mapping.operations.get_payment,
                Operation::ListPayments => &mapping.operations.list_payments,
                Operation::IssueToken => &mapping.operations.issue_token,
            };
            let Some(named) = named else {
                if matches!(operation, Operation::CreatePayment | Operation::GetPayment) {
                    self.problem(format!(
                        "`operations.{key}` is not mapped: name the operation that {} (its operationId, or `{} /path`)",
                        match operation {
                            Operation::CreatePayment => "creates a payment",
                            _ => "reads one payment by id",
                        },
                        if operation == Operation::CreatePayment { "POST" } else { "GET" }
                    ));
                }
                continue;
            };
            match find(&ops, named) {
                Some(i) => chosen.push((operation, i)),
                None => self.problem(format!(
                    "mapping `operations.{key}: {named}`: no operation has that operationId or method and path; the document has {}",
                    ops.iter().map(Op::label).collect::<Vec<_>>().join(", ")
                )),
            }
        }
        let op_of = |operation: Operation| {
            chosen
                .iter()
                .find(|(o, _)| *o == operation)
                .map(|(_, i)| &ops[*i])
        };
        let registration = mapping
            .webhooks
            .as_ref()
            .and_then(|w| w.registration.as_deref());
        for (i, op) in ops.iter().enumerate() {
            // The registration route is the mock's own (the manifest's `webhooks`).
            let registers = registration.is_some_and(|r| {
                op.path == r
                    || op
                        .path
                        .strip_prefix(r)
                        .is_some_and(|rest| rest.starts_with('/'))
            });
            if registers {
                self.notes.inferred.push(format!(
                    "{}: served by the mock as the webhook registration `{}`",
                    op.label(),
                    registration.unwrap_or_default()
                ));
            } else if !chosen.iter().any(|(_, c)| *c == i) {
                self.notes.not_mapped.push(format!(
                    "{}: not one of the mock's operations (create_payment, get_payment, list_payments, issue_token); map it under `operations` if it is one",
                    op.label()
                ));
            }
            if !op.op.callbacks.is_empty() {
                let names: Vec<&String> = op.op.callbacks.keys().collect();
                self.notes.not_mapped.push(format!(
                    "{}: callbacks {names:?}: the mock does not call back",
                    op.label()
                ));
            }
        }
        for server in &doc.spec.servers {
            let base = server
                .url
                .split_once("://")
                .map_or(server.url.as_str(), |(_, rest)| {
                    rest.find('/').map_or("", |i| &rest[i..])
                });
            let base = base.trim_end_matches('/');
            if !base.is_empty() && !base.contains('{') {
                self.notes.not_mapped.push(format!(
                    "server `{}`: its base path `{base}` is not part of the routes, which are the document's paths as written",
                    server.url
                ));
            }
        }
        let create = op_of(Operation::CreatePayment)?;
        op_of(Operation::GetPayment)?;

        // The request.
        let request_schema = self.request_schema(create);
        let request_file = request_schema
            .as_ref()
            .and_then(|s| self.schema_file(s, "create-payment.request", "create payment request"));
        self.examples(create);
        let payment_request = self.payment_request(request_schema.as_ref());

        // Routes and their response schemas.
        let mut routes = Vec::new();
        let mut error_sources: Vec<(u16, Value, String)> = Vec::new();
        for (operation, i) in &chosen {
            let op = &ops[*i];
            let key = OPERATIONS
                .iter()
                .find(|(o, _)| o == operation)
                .map_or("", |(_, k)| k);
            let mut responses = BTreeMap::new();
            for (code, schema, media) in self.responses(op) {
                let stem = format!("{}.{code}", key.replace('_', "-"));
                let what = format!("{} {code} response", key.replace('_', " "));
                if let Some(file) = self.schema_file(&schema, &stem, &what) {
                    responses.insert(code.to_string(), file);
                }
                if code >= 400 && *operation != Operation::IssueToken {
                    error_sources.push((code, schema, media));
                }
            }
            routes.push(RouteSpec {
                required_headers: Vec::new(),
                method: op.method.clone(),
                path: op.path.clone(),
                operation: *operation,
                request_schema: if *operation == Operation::CreatePayment {
                    request_file.clone()
                } else {
                    None
                },
                responses,
            });
        }

        // Templates.
        let mut templates = BTreeMap::new();
        let payment_source = op_of(Operation::GetPayment)
            .and_then(|op| self.response_schema(op, &[200]))
            .or_else(|| self.response_schema(create, &[201, 200]));
        // Every mapped request field, even when others are missing, so that one missing
        // field is one problem.
        let fields = &mapping.payment_request;
        let amount_var = match self.amount_format {
            Some(AmountFormat::MinorUnits) => "amount_minor",
            _ => "amount_decimal",
        };
        let derived: Vec<(String, &'static str)> = [
            (&fields.amount, amount_var),
            (&fields.currency, "currency"),
            (&fields.creditor, "creditor"),
            (&fields.debtor, "debtor"),
            (&fields.reference, "reference"),
        ]
        .into_iter()
        .filter_map(|(f, var)| f.as_ref().map(|f| (f.pointer().to_owned(), var)))
        .collect();
        let mut placed = BTreeMap::new();
        match payment_source {
            Some(schema) => {
                if let Some(p) = self.template(Kind::Payment, &schema, &derived, &mut templates) {
                    placed = p;
                }
            }
            None => self.problem(format!(
                "{} has no 200 JSON response (and the create no 201) to build the `payment` template from",
                op_of(Operation::GetPayment).map_or_else(String::new, Op::label)
            )),
        }
        error_sources.sort_by_key(|(code, _, _)| *code);
        let error = error_sources.first().cloned();
        match &error {
            Some((_, schema, _)) => {
                self.template(Kind::Error, schema, &[], &mut templates);
            }
            None => self.problem(
                "no 4xx JSON response of the mapped operations to build the `error` template from: describe the bank's error body on the create operation",
            ),
        }
        let distinct: Vec<&Value> = {
            let mut seen: Vec<&Value> = Vec::new();
            for (_, s, _) in &error_sources {
                if !seen.contains(&s) {
                    seen.push(s);
                }
            }
            seen
        };
        if distinct.len() > 1 {
            self.notes.not_mapped.push(format!(
                "{} different error bodies: the mock answers every error with the `error` template, built from the {} response",
                distinct.len(),
                error.as_ref().map_or(0, |e| e.0)
            ));
        }
        if let Some(op) = op_of(Operation::ListPayments) {
            match self.response_schema(op, &[200]) {
                Some(schema) => {
                    self.template(Kind::List, &schema, &[], &mut templates);
                }
                None => self.problem(format!(
                    "{}: no 200 JSON response to build the `list` template from",
                    op.label()
                )),
            }
        }
        let token_op = op_of(Operation::IssueToken);
        if let Some(op) = token_op {
            match self.response_schema(op, &[200, 201]) {
                Some(schema) => {
                    self.template(Kind::Token, &schema, &[], &mut templates);
                }
                None => self.problem(format!(
                    "{}: no 200 JSON response to build the `token` template from",
                    op.label()
                )),
            }
            let mut errors: Vec<(u16, Value, String)> = self
                .responses(op)
                .into_iter()
                .filter(|(c, _, _)| *c >= 400)
                .collect();
            errors.sort_by_key(|(c, _, _)| *c);
            match errors.first() {
                Some((_, schema, _)) => {
                    let schema = schema.clone();
                    self.template(Kind::OauthError, &schema, &[], &mut templates);
                }
                None => self.notes.not_mapped.push(format!(
                    "{}: no 4xx JSON response: the mock answers token errors with RFC 6749's `{{error, error_description}}`",
                    op.label()
                )),
            }
        }
        for name in mapping.templates.keys() {
            if !Kind::all().iter().any(|k| k.name() == name) {
                self.problem(format!(
                    "mapping `templates.{name}`: not a template the mock renders (payment, error, list, token, oauth_error, event)"
                ));
            }
        }

        // The rest of the manifest.
        let auth = self.auth(create, token_op);
        let idempotency = self.idempotency(create);
        let statuses = self.statuses(placed.get("status"));
        let id_prefix = self.id_prefix(placed.get("id"));
        let error_content_type = match (&mapping.error_content_type, &error) {
            (Some(t), _) => t.clone(),
            (None, Some((code, _, media))) => {
                self.notes.inferred.push(format!(
                    "`error_content_type: {media}`, the media type of the {code} response"
                ));
                media.clone()
            }
            (None, None) => "application/json".to_owned(),
        };
        let webhooks = self.webhooks(statuses.as_ref());
        let title = mapping
            .title
            .clone()
            .unwrap_or_else(|| format!("{} {}", doc.spec.info.title, doc.spec.info.version));
        Some(Manifest {
            version: self.version.clone(),
            title,
            auth: auth?,
            id_prefix: id_prefix?,
            idempotency,
            error_content_type,
            statuses: statuses?,
            payment_request: payment_request?,
            templates,
            routes,
            required_headers: Vec::new(),
            webhooks,
        })
    }

    /// The JSON schema of the create operation's request body.
    fn request_schema(&mut self, op: &Op<'_>) -> Option<Value> {
        let body = op.raw.get("requestBody").map(|b| self.doc.follow(b));
        let body = match body {
            Some(Ok(body)) => body,
            Some(Err(e)) => {
                self.problem(format!("{}: requestBody: {e}", op.label()));
                return None;
            }
            None => {
                self.problem(format!(
                    "{}: no requestBody: the create operation must describe the payment it takes",
                    op.label()
                ));
                return None;
            }
        };
        match json_media(body) {
            Some((_, media)) => match media.get("schema") {
                Some(schema) => Some(schema.clone()),
                None => {
                    self.problem(format!(
                        "{}: the JSON request body has no schema",
                        op.label()
                    ));
                    None
                }
            },
            None => {
                self.problem(format!(
                    "{}: the request body is not JSON (the mock reads JSON payments)",
                    op.label()
                ));
                None
            }
        }
    }

    /// The numeric responses with a JSON body: `(code, schema, media type)`; the others
    /// are noted.
    fn responses(&mut self, op: &Op<'_>) -> Vec<(u16, Value, String)> {
        let mut out = Vec::new();
        let Some(Value::Object(responses)) = op.raw.get("responses") else {
            return out;
        };
        for (code, response) in responses {
            let Ok(number) = code.parse::<u16>() else {
                self.notes.not_mapped.push(format!(
                    "{} response `{code}`: only numeric status codes are written to the manifest",
                    op.label()
                ));
                continue;
            };
            if !(100..=599).contains(&number) {
                self.notes.not_mapped.push(format!(
                    "{} response `{code}`: not an HTTP status code",
                    op.label()
                ));
                continue;
            }
            let response = match self.doc.follow(response) {
                Ok(r) => r,
                Err(e) => {
                    self.problem(format!("{} response {code}: {e}", op.label()));
                    continue;
                }
            };
            match json_media(response).and_then(|(t, m)| m.get("schema").map(|s| (t, s))) {
                Some((media, schema)) => out.push((number, schema.clone(), media)),
                None => self.notes.not_mapped.push(format!(
                    "{} response {code}: no JSON body with a schema, so no schema file for it",
                    op.label()
                )),
            }
        }
        out
    }

    fn response_schema(&mut self, op: &Op<'_>, codes: &[u16]) -> Option<Value> {
        let responses = self.responses_quiet(op);
        codes.iter().find_map(|c| {
            responses
                .iter()
                .find(|(code, _, _)| code == c)
                .map(|(_, s, _)| s.clone())
        })
    }

    /// [`responses`](Self::responses) without noting anything (already noted once).
    fn responses_quiet(&mut self, op: &Op<'_>) -> Vec<(u16, Value, String)> {
        let notes = self.notes.clone();
        let problems = self.problems.len();
        let out = self.responses(op);
        self.notes = notes;
        self.problems.truncate(problems);
        out
    }

    /// Writes `schema` as a JSON Schema file and returns its path: named after its
    /// component (`schemas/payment.json`), else `schemas/{stem}.json`.
    pub(crate) fn schema_file(&mut self, schema: &Value, stem: &str, what: &str) -> Option<String> {
        let (file, title) = match component_name(schema) {
            Some(name) => (
                format!("schemas/{}.json", kebab(name)),
                format!("{} {name}", self.version),
            ),
            None => (
                format!("schemas/{stem}.json"),
                format!("{} {what}", self.version),
            ),
        };
        if self.files.contains_key(&file) {
            return Some(file);
        }
        match json_schema(self.doc, schema, &title) {
            Ok(written) => {
                for keyword in &written.dropped {
                    self.notes.schema.push(format!(
                        "`{keyword}` dropped from {file}: an OpenAPI keyword JSON Schema does not have{}",
                        if keyword == "example" {
                            " (request examples are written to examples/)"
                        } else {
                            ""
                        }
                    ));
                }
                self.write_json(&file, &written.schema);
                Some(file)
            }
            Err(e) => {
                self.problem(format!("{file}: {e}"));
                None
            }
        }
    }

    /// The create operation's request examples, as `examples/*.json`.
    fn examples(&mut self, op: &Op<'_>) {
        let Some(body) = op
            .raw
            .get("requestBody")
            .and_then(|b| self.doc.follow(b).ok())
        else {
            return;
        };
        let Some((_, media)) = json_media(body) else {
            return;
        };
        if let Some(example) = media.get("example") {
            self.write_json("examples/create-payment.json", example);
        }
        if let Some(Value::Object(examples)) = media.get("examples") {
            for (name, example) in examples {
                let example = self.doc.follow(example).unwrap_or(example);
                match example.get("value") {
                    Some(value) => {
                        let value = value.clone();
                        self.write_json(&format!("examples/{}.json", kebab(name)), &value);
                    }
                    None => self.notes.not_mapped.push(format!(
                        "{} example `{name}`: no inline `value` (an `externalValue` is not fetched)",
                        op.label()
                    )),
                }
            }
        }
    }

    fn payment_request(&mut self, schema: Option<&Value>) -> Option<PaymentRequest> {
        let fields = &self.mapping.payment_request;
        let mut get = |name: &str, field: &Option<FieldRef>| -> Option<Field> {
            let Some(field) = field else {
                self.problems.push(format!(
                    "`payment_request.{name}` is not mapped: give the JSON pointer of the payment's {name} in the create request (e.g. `/{name}`)"
                ));
                return None;
            };
            let pointer = field.pointer().to_owned();
            let at = schema.and_then(|s| schema_at(self.doc, s, &pointer));
            if schema.is_some() && at.is_none() {
                self.problems.push(format!(
                    "mapping `payment_request.{name}: {pointer}`: the create request's schema has no property there"
                ));
            }
            let mut format = field.format();
            if name == "amount" && format.is_none() {
                let kind = at
                    .as_ref()
                    .and_then(|s| s.get("type"))
                    .and_then(Value::as_str);
                format = match kind {
                    Some("string") => Some(AmountFormat::DecimalString),
                    Some("integer") => Some(AmountFormat::MinorUnits),
                    _ => None,
                };
                match format {
                    Some(f) => self.notes.inferred.push(format!(
                        "`payment_request.amount.format: {}`, from the type of `{pointer}` ({})",
                        if f == AmountFormat::DecimalString { "decimal_string" } else { "minor_units" },
                        kind.unwrap_or_default()
                    )),
                    None => self.problems.push(format!(
                        "`payment_request.amount.format` is not mapped and `{pointer}` is neither a string nor an integer: set `format: decimal_string` or `minor_units`"
                    )),
                }
            }
            Some(Field { pointer, format })
        };
        let amount = get("amount", &fields.amount);
        self.amount_format = amount.as_ref().and_then(|a| a.format);
        let currency = get("currency", &fields.currency);
        let creditor = get("creditor", &fields.creditor);
        let debtor = get("debtor", &fields.debtor);
        let reference = get("reference", &fields.reference);
        Some(PaymentRequest {
            amount: amount?,
            currency: currency?,
            creditor: creditor?,
            debtor: debtor?,
            reference: reference?,
        })
    }

    /// Builds one template and returns where its placeholders went.
    pub(crate) fn template(
        &mut self,
        kind: Kind,
        schema: &Value,
        derived: &[(String, &'static str)],
        templates: &mut BTreeMap<String, String>,
    ) -> Option<BTreeMap<String, Value>> {
        let empty = BTreeMap::new();
        let slots = self.mapping.templates.get(kind.name()).unwrap_or(&empty);
        let g = generate(self.doc, kind, schema, slots, derived);
        self.notes.inferred.extend(g.inferred);
        self.notes.left_out.extend(g.left_out);
        let ok = g.problems.is_empty();
        self.problems.extend(g.problems);
        if ok {
            self.write_json(kind.file(), &g.template);
            templates.insert(kind.name().to_owned(), kind.file().to_owned());
        }
        Some(g.placed)
    }
}

fn operations(doc: &Document) -> Vec<Op<'_>> {
    doc.spec
        .operations()
        .filter_map(|(path, method, op)| {
            let method_lower = method.as_str().to_ascii_lowercase();
            let raw = doc.at(&format!("/paths/{}/{method_lower}", token(&path)))?;
            Some(Op {
                id: op.operation_id.clone(),
                method: method.as_str().to_ascii_uppercase(),
                path,
                raw,
                op,
            })
        })
        .collect()
}

/// The operation a mapping names: an operationId, or `METHOD /path`.
fn find(ops: &[Op<'_>], named: &str) -> Option<usize> {
    if let Some(i) = ops.iter().position(|o| o.id.as_deref() == Some(named)) {
        return Some(i);
    }
    let (method, path) = named.trim().split_once(' ')?;
    ops.iter()
        .position(|o| o.method.eq_ignore_ascii_case(method) && o.path == path.trim())
}

/// The JSON media type of a request body or response (`application/json`, or the first
/// `…+json`), with its media type object.
pub(crate) fn json_media(body: &Value) -> Option<(String, &Value)> {
    let Some(Value::Object(content)) = body.get("content") else {
        return None;
    };
    content
        .iter()
        .find(|(t, _)| t.as_str() == "application/json")
        .or_else(|| {
            content
                .iter()
                .find(|(t, _)| t.ends_with("+json") || t.ends_with("/json"))
        })
        .map(|(t, m)| (t.clone(), m))
}

/// `PaymentInitiation` → `payment-initiation`, `oauth_error` → `oauth-error`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            prev_lower = false;
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn names_become_file_names() {
        assert_eq!(kebab("PaymentInitiation"), "payment-initiation");
        assert_eq!(kebab("oauth_error"), "oauth-error");
        assert_eq!(kebab("Problem"), "problem");
        assert_eq!(kebab("v4 Payment/x"), "v4-payment-x");
    }
}
