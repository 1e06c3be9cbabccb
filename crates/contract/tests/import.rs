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
    // The webhook is listed until the manifest has a place for it.
    assert!(
        imported
            .notes
            .not_mapped
            .iter()
            .any(|n| n.starts_with("webhook `paymentStatusChanged` (POST)")),
        "{:?}",
        imported.notes.not_mapped
    );
    // And it is built in.
    let builtin = Catalog::builtin();
    let served = builtin.require(v4).unwrap();
    assert_eq!(served.manifest, *manifest);
}
