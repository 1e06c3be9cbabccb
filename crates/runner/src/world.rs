//! What templates can reach at run time: secrets, environment variables, time, ids.

use std::collections::HashMap;

use rehearse_scenario::Resolve;

/// Secrets and variables from the process environment and an optional dotenv file.
#[derive(Clone, Default)]
pub struct World {
    secrets: HashMap<String, String>,
    env_file: HashMap<String, String>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secret values, not even in debug output.
        f.debug_struct("World")
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl World {
    /// A world whose environment variables come from the process and `env_file` (the file
    /// wins), and whose secrets are the `declared` names found there.
    pub fn new(env_file: HashMap<String, String>, declared: &[String]) -> Self {
        let mut w = Self {
            secrets: HashMap::new(),
            env_file,
        };
        for name in declared {
            if let Some(v) = w.lookup(name) {
                w.secrets.insert(name.clone(), v);
            }
        }
        w
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.env_file
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    }

    /// The declared secrets that are not set, in the order given.
    pub fn missing<'a>(&self, declared: &'a [String]) -> Vec<&'a str> {
        declared
            .iter()
            .filter(|n| !self.secrets.contains_key(*n))
            .map(String::as_str)
            .collect()
    }

    /// The values of the secrets, for masking.
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets.values().cloned().collect()
    }
}

impl Resolve for World {
    fn secret(&self, name: &str) -> Option<String> {
        self.secrets.get(name).cloned()
    }
    fn env(&self, name: &str) -> Option<String> {
        self.lookup(name)
    }
    fn now(&self) -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }
}
