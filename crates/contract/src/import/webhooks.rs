//! The manifest's `webhooks` section from the document's `webhooks:` and the mapping's
//! `webhooks` key: which webhook is the status-change event (the mapping), its body's
//! schema and template (the document), the signature header (the mapping, or the one
//! required header parameter of the webhook) and the registration route (the mapping:
//! OpenAPI describes what a bank sends, not how a platform subscribes). Every other
//! webhook, and everything about them the mock does not do, is listed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::import::assemble::{Build, json_media};
use crate::import::document::token;
use crate::import::template::Kind;
use crate::manifest::Webhooks;

impl Build<'_> {
    /// The manifest's `webhooks`, `None` when the mapping has no `webhooks` key (each of
    /// the document's webhooks is then listed as not mapped) or a problem stops it.
    pub(crate) fn webhooks(
        &mut self,
        statuses: Option<&BTreeMap<String, String>>,
    ) -> Option<Webhooks> {
        let doc = self.doc;
        let names: Vec<String> = doc.spec.webhooks.keys().cloned().collect();
        let Some(mapping) = self.mapping.webhooks.clone() else {
            for name in &names {
                let methods = self.methods(name).join(", ");
                self.notes.not_mapped.push(format!(
                    "webhook `{name}` ({methods}): the mapping has no `webhooks` key; name it under `webhooks.event` (with `registration`) if it is the status-change event"
                ));
            }
            return None;
        };
        let Some(event) = mapping.event.clone() else {
            self.problem(format!(
                "`webhooks.event` is not mapped: name the document's webhook that is the status-change event ({})",
                listed(&names)
            ));
            return None;
        };
        for name in names.iter().filter(|n| **n != event) {
            let methods = self.methods(name).join(", ");
            self.notes.not_mapped.push(format!(
                "webhook `{name}` ({methods}): the mock sends one event, the status change (`webhooks.event: {event}`)"
            ));
        }
        if !names.contains(&event) {
            self.problem(format!(
                "mapping `webhooks.event: {event}`: the document has no such webhook; it has {}",
                listed(&names)
            ));
            return None;
        }
        let registration = match mapping.registration.clone() {
            Some(r) if r.starts_with('/') => Some(r),
            Some(r) => {
                self.problem(format!(
                    "mapping `webhooks.registration: {r}`: a path of the bank's API such as /v4/webhooks (it must start with `/`)"
                ));
                None
            }
            None => {
                self.problem(
                    "`webhooks.registration` is not mapped: give the path where a platform registers its endpoint (`POST` {url, secret}), such as /v4/webhooks; OpenAPI's `webhooks:` does not say it",
                );
                None
            }
        };
        let Some(item) = doc.at(&format!("/webhooks/{}", token(&event))) else {
            self.problem(format!("webhook `{event}`: not found in the document"));
            return None;
        };
        let item = match doc.follow(item) {
            Ok(item) => item,
            Err(e) => {
                self.problem(format!("webhook `{event}`: {e}"));
                return None;
            }
        };
        let label = format!("webhook `{event}`");
        let Some(post) = item.get("post") else {
            self.problem(format!(
                "{label}: no `post` operation: the mock POSTs its events ({} described)",
                self.methods(&event).join(", ")
            ));
            return None;
        };
        for method in self.methods(&event) {
            if method != "POST" {
                self.notes
                    .not_mapped
                    .push(format!("{label} ({method}): the mock only POSTs events"));
            }
        }
        let signature_header =
            self.signature_header(&label, mapping.signature_header.as_ref(), item, post);
        let schema = self.event_schema(&label, post);
        let (schema_file, template) = match &schema {
            Some(schema) => {
                let file = self.schema_file(schema, "event", "status-change event");
                let mut scratch = BTreeMap::new();
                let placed = self.template(Kind::Event, schema, &[], &mut scratch);
                (file, placed)
            }
            None => (None, None),
        };
        if let Some(placed) = &template {
            for (var, why) in [
                ("id", "a receiver cannot drop a duplicate by its event id"),
                (
                    "sequence",
                    "a receiver cannot drop a stale, out-of-order event",
                ),
            ] {
                if !placed.contains_key(var) {
                    self.notes.not_mapped.push(format!(
                        "{label}: the event has no place for `{{{{{var}}}}}`: {why}"
                    ));
                }
            }
            let enum_values: Vec<String> = placed
                .get("status")
                .and_then(crate::import::infer::enum_strings)
                .unwrap_or_default();
            if let Some(statuses) = statuses {
                for (canonical, wire) in statuses {
                    if !enum_values.is_empty() && !enum_values.contains(wire) {
                        self.problem(format!(
                            "mapping `statuses.{canonical}: {wire}`: the status of {label}'s event is one of {}",
                            enum_values.join(", ")
                        ));
                    }
                }
            }
        }
        self.notes.not_mapped.push(format!(
            "{label}: the signature scheme: the mock signs `{}: t=UNIX_SECONDS,v1=HEX` (HMAC-SHA256 of `t.body`) and retries after 10 s, 1 min, 5 min and 30 min; check that the bank does the same",
            signature_header.as_deref().unwrap_or("Bank-Signature")
        ));
        template?;
        Some(Webhooks {
            registration: registration?,
            event_template: Kind::Event.file().to_owned(),
            event_schema: schema_file,
            signature_header: signature_header?,
        })
    }

    /// The webhook's methods, upper case.
    fn methods(&self, name: &str) -> Vec<String> {
        self.doc
            .spec
            .webhooks
            .get(name)
            .map(|item| {
                item.methods()
                    .into_iter()
                    .map(|(m, _)| m.as_str().to_ascii_uppercase())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The mapping's signature header, else the one required header parameter the
    /// webhook's operation (or its path item) declares.
    fn signature_header(
        &mut self,
        label: &str,
        mapped: Option<&String>,
        item: &Value,
        post: &Value,
    ) -> Option<String> {
        if let Some(header) = mapped {
            return Some(header.clone());
        }
        let mut required: Vec<String> = Vec::new();
        for params in [item.get("parameters"), post.get("parameters")]
            .into_iter()
            .flatten()
        {
            let Some(params) = params.as_array() else {
                continue;
            };
            for param in params {
                let Ok(param) = self.doc.follow(param) else {
                    continue;
                };
                let header = param.get("in").and_then(Value::as_str) == Some("header");
                let needed = param.get("required").and_then(Value::as_bool) == Some(true);
                if let (true, true, Some(name)) =
                    (header, needed, param.get("name").and_then(Value::as_str))
                    && !required.iter().any(|r| r.eq_ignore_ascii_case(name))
                {
                    required.push(name.to_owned());
                }
            }
        }
        match required.as_slice() {
            [one] => {
                self.notes.inferred.push(format!(
                    "`webhooks.signature_header: {one}`, the one required header parameter of {label}"
                ));
                Some(one.clone())
            }
            [] => {
                self.problem(format!(
                    "`webhooks.signature_header` is not mapped and {label} declares no required header parameter: give the header the bank signs with, such as Bank-Signature"
                ));
                None
            }
            many => {
                self.problem(format!(
                    "`webhooks.signature_header` is not mapped and {label} requires several headers ({}): name the one with the signature",
                    many.join(", ")
                ));
                None
            }
        }
    }

    /// The JSON schema of the webhook's request body (the event).
    fn event_schema(&mut self, label: &str, post: &Value) -> Option<Value> {
        let body = match post.get("requestBody").map(|b| self.doc.follow(b)) {
            Some(Ok(body)) => body,
            Some(Err(e)) => {
                self.problem(format!("{label}: requestBody: {e}"));
                return None;
            }
            None => {
                self.problem(format!(
                    "{label}: no requestBody: the event's body is what the mock sends"
                ));
                return None;
            }
        };
        match json_media(body).and_then(|(_, media)| media.get("schema")) {
            Some(schema) => Some(schema.clone()),
            None => {
                self.problem(format!(
                    "{label}: the request body is not JSON with a schema (the mock sends JSON events)"
                ));
                None
            }
        }
    }
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none: its `webhooks:` is empty".to_owned()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
