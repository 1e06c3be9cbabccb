//! Version folders read at run time: a team's own served like a built-in one; a broken one
//! refused with the file, the field and the fix.

use std::fs;
use std::path::Path;

use rehearse_contract::{ApiVersion, Catalog, Origin, VersionFolder, read_dir};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The built-in v2, written to `dir/v4` as v4 (its routes moved to /v4).
fn v2_as_v4(dir: &Path) -> Result<std::path::PathBuf, Box<dyn std::error::Error>> {
    let v2 = Catalog::builtin();
    let v2 = v2.require(ApiVersion::V2)?;
    let out = dir.join("v4");
    v2.write_to(&out)?;
    let manifest = fs::read_to_string(out.join("manifest.json"))?
        .replace("\"version\": \"v2\"", "\"version\": \"v4\"")
        .replace("/v2/", "/v4/");
    fs::write(out.join("manifest.json"), manifest)?;
    Ok(out)
}

fn error_of(dir: &Path) -> String {
    match read_dir(dir) {
        Ok(f) => format!("read {} folders", f.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_folder_of_versions_joins_the_built_in_ones() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let v4 = v2_as_v4(tmp.path())?;
    fs::create_dir(tmp.path().join("notes"))?; // not a version: ignored
    // v4 is built in too: the team's folder replaces it.
    let catalog = Catalog::builtin().with_dir(tmp.path())?;
    assert_eq!(catalog.names(), ["v1", "v2", "v3", "v4"]);
    let folder = catalog.require(ApiVersion::new(4).ok_or("v4")?)?;
    assert_eq!(folder.origin, Origin::Dir(v4.clone()));
    assert!(
        folder
            .manifest
            .routes
            .iter()
            .all(|r| r.path.starts_with("/v4/"))
    );
    // The version folder itself can be given too.
    assert_eq!(Catalog::empty().with_dir(&v4)?.names(), ["v4"]);
    Ok(())
}

#[test]
fn a_folder_named_like_a_built_in_version_replaces_it() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let builtin = Catalog::builtin();
    let v2 = builtin.require(ApiVersion::V2)?;
    v2.write_to(&tmp.path().join("v2"))?;
    let catalog = Catalog::builtin().with_dir(tmp.path())?;
    assert_eq!(catalog.names(), ["v1", "v2", "v3", "v4"]);
    assert!(matches!(
        catalog.require(ApiVersion::V2)?.origin,
        Origin::Dir(_)
    ));
    Ok(())
}

#[test]
fn a_broken_manifest_names_the_file_and_the_field() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let v4 = v2_as_v4(tmp.path())?;
    let manifest_path = v4.join("manifest.json");
    let good = fs::read_to_string(&manifest_path)?;
    let shown = manifest_path.display().to_string();

    fs::write(
        &manifest_path,
        good.replace("\"get_payment\"", "\"fetch_payment\""),
    )?;
    let text = error_of(tmp.path());
    assert!(
        text.starts_with(&format!(
            "{shown}: `routes[1].operation`: unknown variant `fetch_payment`"
        )),
        "{text}"
    );

    fs::write(
        &manifest_path,
        good.replace("\"id_prefix\"", "\"id_prefx\""),
    )?;
    let text = error_of(tmp.path());
    assert!(text.contains("unknown field `id_prefx`"), "{text}");

    fs::write(
        &manifest_path,
        good.replace("\"version\": \"v4\"", "\"version\": \"v5\""),
    )?;
    assert_eq!(
        error_of(tmp.path()),
        format!("{shown}: `version`: says `v5` but the folder is `v4`: make them the same")
    );

    fs::write(
        &manifest_path,
        good.replace("schemas/payment.json", "schemas/missing.json"),
    )?;
    let text = error_of(tmp.path());
    assert!(
        text.contains("names `schemas/missing.json`, which is not in the folder"),
        "{text}"
    );
    assert!(
        text.contains("`routes[0].responses.201`") || text.contains("`templates"),
        "{text}"
    );

    fs::write(
        &manifest_path,
        good.replace("schemas/payment.json", "../../etc/passwd.json"),
    )?;
    let text = error_of(tmp.path());
    assert!(
        text.contains("must be a path inside the version folder"),
        "{text}"
    );

    fs::write(
        &manifest_path,
        good.replace(
            "\"registration\": \"/v4/webhooks\"",
            "\"registration\": \"v4/webhooks\"",
        ),
    )?;
    assert_eq!(
        error_of(tmp.path()),
        format!("{shown}: `webhooks.registration`: `v4/webhooks` must start with `/`")
    );

    fs::write(
        &manifest_path,
        good.replace("templates/event.json", "templates/missing-event.json"),
    )?;
    let text = error_of(tmp.path());
    assert!(text.contains("`webhooks.event_template`"), "{text}");

    fs::write(&manifest_path, "{\n  \"version\": \"v4\",\n  oops\n}")?;
    let text = error_of(tmp.path());
    assert!(text.starts_with(&format!("{shown}:3:3: ")), "{text}");

    fs::write(&manifest_path, &good)?;
    fs::write(v4.join("schemas/payment.json"), "{\"type\": 12}")?;
    let text = error_of(tmp.path());
    assert!(
        text.contains("payment.json: not a valid JSON Schema"),
        "{text}"
    );
    Ok(())
}

#[test]
fn what_is_not_a_versions_folder_says_what_is_expected() -> TestResult {
    let tmp = tempfile::tempdir()?;
    assert!(error_of(tmp.path()).ends_with(
        "holds no version folder: expected v4/manifest.json (or give the version folder itself)"
    ));
    assert!(error_of(&tmp.path().join("nope")).contains("cannot read the versions folder"));
    fs::create_dir(tmp.path().join("v4"))?;
    assert!(error_of(tmp.path()).contains("v4/manifest.json: the folder has no manifest.json"));
    let odd = tmp.path().join("latest");
    fs::create_dir(&odd)?;
    fs::write(odd.join("manifest.json"), "{}")?;
    assert!(error_of(&odd).contains("a version folder is named like `v4`, not `latest`"));
    Ok(())
}

#[test]
fn built_in_versions_are_valid_folders() {
    let v4 = ApiVersion::new(4).unwrap_or(ApiVersion::V1);
    for v in [ApiVersion::V1, ApiVersion::V2, ApiVersion::V3, v4] {
        let folder = VersionFolder::builtin(v).map(|r| r.map(|f| f.origin));
        assert_eq!(folder, Some(Ok(Origin::BuiltIn)), "{v}");
    }
    assert!(VersionFolder::builtin(ApiVersion::new(99).unwrap_or(ApiVersion::V1)).is_none());
}
