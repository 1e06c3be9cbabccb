//! The shipped v4 is the output of `contract import`: running it on
//! `fixtures/openapi/bank-v4.yaml` and its mapping gives `fixtures/bank-api/v4/` byte for
//! byte (a drift guard: edit the OpenAPI document or the mapping, never the folder).
//!
//! Regenerate from the repository's root:
//!
//! ```sh
//! cargo run -p rehearse -- contract import fixtures/openapi/bank-v4.yaml --as v4 \
//!   --mapping fixtures/openapi/bank-v4.mapping.yaml --out fixtures/bank-api/v4 --force
//! ```
//!
//! or `REHEARSE_UPDATE_BANK_V4=1 cargo test -p rehearse-contract --test import` (which
//! also removes files the import no longer makes).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use rehearse_contract::import::{ImportRequest, import};
use rehearse_contract::{ApiVersion, Auth, Catalog, Idempotency};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_under(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn the_shipped_v4_is_what_import_makes_of_its_openapi_document() {
    // Arrange: the names as the regeneration command above gives them.
    let openapi_name = "fixtures/openapi/bank-v4.yaml";
    let mapping_name = "fixtures/openapi/bank-v4.mapping.yaml";
    let out = Path::new("fixtures/bank-api/v4");
    let openapi = fs::read_to_string(repo().join(openapi_name)).unwrap();
    let mapping = fs::read_to_string(repo().join(mapping_name)).unwrap();
    let v4 = ApiVersion::new(4).unwrap();

    // Act
    let imported = import(&ImportRequest {
        openapi: &openapi,
        openapi_name,
        mapping: Some((&mapping, mapping_name)),
        version: v4,
        out,
    })
    .unwrap_or_else(|e| panic!("{e}"));

    // Assert
    let made: BTreeMap<String, String> = imported
        .folder
        .files()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let dir = repo().join(out);
    if std::env::var_os("REHEARSE_UPDATE_BANK_V4").is_some() {
        let _ = fs::remove_dir_all(&dir);
        imported.folder.write_to(&dir).unwrap();
    }
    let mut shipped = BTreeMap::new();
    files_under(&dir, &dir, &mut shipped);
    assert_eq!(
        made.keys().collect::<Vec<_>>(),
        shipped.keys().collect::<Vec<_>>(),
        "fixtures/bank-api/v4 has other files than the import makes: regenerate it (see this file's doc)"
    );
    for (rel, text) in &made {
        assert!(
            shipped.get(rel) == Some(text),
            "fixtures/bank-api/v4/{rel} is not what the import makes: regenerate it (see this file's doc)"
        );
    }

    // What v4 is, as the issue asks: ISO 20022 statuses, a renamed amount, OAuth.
    let manifest = &imported.folder.manifest;
    assert_eq!(manifest.statuses["received"], "RCVD");
    assert_eq!(manifest.statuses["pending_review"], "PDNG");
    assert_eq!(manifest.statuses["accepted"], "ACSP");
    assert_eq!(manifest.statuses["rejected"], "RJCT");
    assert_eq!(manifest.statuses["settled"], "ACSC");
    assert_eq!(
        manifest.payment_request.amount.pointer,
        "/instructed_amount/amount"
    );
    assert_eq!(manifest.auth, Auth::OauthClientCredentials);
    assert_eq!(manifest.idempotency, Idempotency::Required);
    assert_eq!(manifest.id_prefix, "pmt_");
    // And webhooks: the document's `paymentStatusChanged` with the mapping's registration.
    let hooks = manifest.webhooks.as_ref().expect("v4 sends webhooks");
    assert_eq!(hooks.registration, "/v4/webhooks");
    assert_eq!(hooks.signature_header, "Bank-Signature");
    assert_eq!(hooks.event_template, "templates/event.json");
    assert_eq!(
        hooks.event_schema.as_deref(),
        Some("schemas/status-change-event.json")
    );
    let event: serde_json::Value =
        serde_json::from_str(imported.folder.file("templates/event.json").unwrap()).unwrap();
    assert_eq!(event["event_id"], "{{id}}");
    assert_eq!(event["sequence"], "{{sequence}}");
    assert_eq!(event["status"], "{{status}}");
    // And it is built in.
    let builtin = Catalog::builtin();
    let served = builtin.require(v4).unwrap();
    assert_eq!(served.manifest, *manifest);
}

/// Imports bank-v4.yaml (with `edit` applied to it) with bank-v4.mapping.yaml (with
/// `edit_mapping` applied).
fn import_v4(
    edit: impl Fn(String) -> String,
    edit_mapping: impl Fn(String) -> String,
) -> Result<rehearse_contract::import::Imported, rehearse_contract::import::ImportError> {
    let openapi = edit(fs::read_to_string(repo().join("fixtures/openapi/bank-v4.yaml")).unwrap());
    let mapping = edit_mapping(
        fs::read_to_string(repo().join("fixtures/openapi/bank-v4.mapping.yaml")).unwrap(),
    );
    import(&ImportRequest {
        openapi: &openapi,
        openapi_name: "bank-v4.yaml",
        mapping: Some((&mapping, "bank-v4.mapping.yaml")),
        version: ApiVersion::new(9).unwrap(),
        out: Path::new("bank-api/v9"),
    })
}

fn unmapped(
    result: Result<rehearse_contract::import::Imported, rehearse_contract::import::ImportError>,
) -> String {
    match result {
        Ok(_) => panic!("the import should have failed"),
        Err(e) => e.to_string(),
    }
}

/// The mapping's `webhooks` section without `key: …` line.
fn without(key: &str) -> impl Fn(String) -> String + '_ {
    move |m: String| {
        m.lines()
            .filter(|l| !l.trim_start().starts_with(&format!("{key}:")))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn a_webhook_the_mapping_does_not_name_is_listed_and_the_manifest_has_no_webhooks() {
    let imported = import_v4(|d| d, |m| m[..m.find("\nwebhooks:").unwrap()].to_owned())
        .unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(imported.folder.manifest.webhooks, None);
    assert!(
        imported.notes.not_mapped.iter().any(|n| n.starts_with(
            "webhook `paymentStatusChanged` (POST): the mapping has no `webhooks` key; name it under `webhooks.event`"
        )),
        "{:?}",
        imported.notes.not_mapped
    );
    assert!(imported.folder.file("templates/event.json").is_none());
}

#[test]
fn a_second_webhook_is_listed_as_not_mapped_beside_the_status_change_event() {
    let refund = "webhooks:\n  paymentRefunded:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {type: object}\n      responses:\n        \"204\": {description: ok}\n";
    let imported =
        import_v4(|d| d.replace("webhooks:\n", refund), |m| m).unwrap_or_else(|e| panic!("{e}"));

    assert!(imported.folder.manifest.webhooks.is_some());
    assert!(
        imported.notes.not_mapped.iter().any(|n| n.starts_with(
            "webhook `paymentRefunded` (POST): the mock sends one event, the status change"
        )),
        "{:?}",
        imported.notes.not_mapped
    );
}

#[test]
fn the_signature_header_is_the_webhooks_one_required_header_when_the_mapping_is_silent() {
    let imported = import_v4(|d| d, without("signature_header")).unwrap_or_else(|e| panic!("{e}"));

    let hooks = imported.folder.manifest.webhooks.unwrap();
    assert_eq!(hooks.signature_header, "Bank-Signature");
    assert!(
        imported.notes.inferred.iter().any(|n| n
            == "`webhooks.signature_header: Bank-Signature`, the one required header parameter of webhook `paymentStatusChanged`"),
        "{:?}",
        imported.notes.inferred
    );
}

#[test]
fn webhook_pieces_the_mapping_lacks_or_gets_wrong_are_each_listed_and_nothing_is_made() {
    // No registration, no header (and the document declares none), an event property
    // nothing fills.
    let text = unmapped(import_v4(
        |d| {
            d.replace(
                "        - name: Bank-Signature\n          in: header\n          required: true\n",
                "        - name: Bank-Signature\n          in: header\n          required: false\n",
            )
            .replace(
                "        - status_reason\n",
                "        - status_reason\n        - channel\n",
            )
            .replace(
                "        status_reason: {type:",
                "        channel: {type: string}\n        status_reason: {type:",
            )
        },
        |m| without("signature_header")(without("registration")(m)),
    ));
    for piece in [
        "`webhooks.registration` is not mapped: give the path where a platform registers",
        "`webhooks.signature_header` is not mapped and webhook `paymentStatusChanged` declares no required header parameter",
        "`event` template: `/channel` is required by the response schema but nothing the mock knows goes there",
    ] {
        assert!(text.contains(piece), "no {piece:?} in\n{text}");
    }

    // An event name the document does not have.
    let text = unmapped(import_v4(
        |d| d,
        |m| m.replace("event: paymentStatusChanged", "event: paymentChanged"),
    ));
    assert!(
        text.contains("mapping `webhooks.event: paymentChanged`: the document has no such webhook; it has `paymentStatusChanged`"),
        "{text}"
    );

    // An event whose statuses are not the mapped ones.
    let text = unmapped(import_v4(
        |d| {
            d.replace(
                "        status: {$ref: \"#/components/schemas/Status\"}\n        sequence:",
                "        status: {enum: [RCVD, PDNG, ACSP, RJCT]}\n        sequence:",
            )
        },
        |m| m,
    ));
    assert!(
        text.contains("mapping `statuses.settled: ACSC`: the status of webhook `paymentStatusChanged`'s event is one of RCVD, PDNG, ACSP, RJCT"),
        "{text}"
    );
}
