//! JSON Schemas of scenario and environment files, for editors (yaml-language-server).

use crate::model::{EnvironmentFile, OwnersFile, ScenarioFile};

/// The JSON Schema of a scenario file, pretty-printed.
pub fn scenario_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The JSON Schema of an environment file, pretty-printed.
pub fn environment_schema() -> String {
    let schema = schemars::schema_for!(EnvironmentFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// The JSON Schema of an owners file (`owners.yaml`), pretty-printed.
pub fn owners_schema() -> String {
    let schema = schemars::schema_for!(OwnersFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
