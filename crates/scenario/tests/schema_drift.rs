//! The committed JSON Schemas (docs/schema/) are what `rehearse schema` prints. When the
//! model changes, regenerate them: `REHEARSE_UPDATE_SCHEMA=1 cargo test -p rehearse-scenario --test schema_drift`.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schema")
        .join(file);
    let generated = format!("{generated}\n");
    if std::env::var_os("REHEARSE_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the model; run REHEARSE_UPDATE_SCHEMA=1 cargo test -p rehearse-scenario --test schema_drift and commit it",
        path.display()
    );
}

#[test]
fn scenario_schema_is_committed() {
    check("scenario.schema.json", rehearse_scenario::scenario_schema());
}

#[test]
fn environment_schema_is_committed() {
    check(
        "environment.schema.json",
        rehearse_scenario::environment_schema(),
    );
}

#[test]
fn owners_schema_is_committed() {
    check("owners.schema.json", rehearse_scenario::owners_schema());
}

#[test]
fn shipped_scenarios_validate_against_the_schema() {
    // The schema must accept what the loader accepts: every shipped scenario file.
    let schema: serde_json::Value =
        serde_json::from_str(&rehearse_scenario::scenario_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut checked = 0;
    for entry in walk(&root) {
        let text = std::fs::read_to_string(&entry).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", entry.display());
        checked += 1;
    }
    assert!(
        checked > 0,
        "no shipped scenarios found under {}",
        root.display()
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else if name.ends_with(".yaml") {
            out.push(p);
        }
    }
    out
}
