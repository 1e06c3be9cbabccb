//! A failure as a message tells it: what failed, whose it is, the hint and the evidence.

use serde::{Deserialize, Serialize};

/// What failed: a pre-flight check or a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A pre-flight check (`checks:` of the environment, `requires:` of a scenario).
    Check,
    /// A scenario (one of its steps failed).
    Scenario,
}

impl FailureKind {
    /// How a person reads it: `pre-flight check`, `scenario`.
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::Check => "pre-flight check",
            FailureKind::Scenario => "scenario",
        }
    }
}

/// One failure of a run, as it is sent and remembered. Every text in it comes from the
/// run's results, which the run's redactor has masked already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What identifies it across runs of one environment: `check:<name>` or
    /// `scenario:<path>` ([`Failure::check_key`], [`Failure::scenario_key`]).
    pub key: String,
    /// A check or a scenario.
    pub kind: FailureKind,
    /// The check's or the scenario's name.
    pub name: String,
    /// Who fixes it (`owner:`), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// What to do (a check's `hint:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What was seen (a check's evidence; a scenario's first failing step and why).
    pub evidence: String,
    /// Where it is written (`file:line:col`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The ticket raised for it (a check's `ticket:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl Failure {
    /// The key of the pre-flight check named `name`.
    pub fn check_key(name: &str) -> String {
        format!("check:{name}")
    }

    /// The key of the scenario in file `path`.
    pub fn scenario_key(path: &str) -> String {
        format!("scenario:{path}")
    }
}

/// The failures of each owner, owners sorted by name; failures without an owner are left
/// out (there is nobody to tell), in the order given otherwise.
pub fn by_owner(failures: &[Failure]) -> Vec<(String, Vec<Failure>)> {
    let mut groups: Vec<(String, Vec<Failure>)> = Vec::new();
    for f in failures {
        let Some(owner) = &f.owner else { continue };
        match groups.iter_mut().find(|(o, _)| o == owner) {
            Some((_, list)) => list.push(f.clone()),
            None => groups.push((owner.clone(), vec![f.clone()])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups
}

#[cfg(test)]
pub(crate) fn sample(key: &str, owner: &str) -> Failure {
    Failure {
        key: Failure::check_key(key),
        kind: FailureKind::Check,
        name: key.to_owned(),
        owner: Some(owner.to_owned()),
        hint: Some(format!("fix {key}")),
        evidence: format!("{key} is not set"),
        location: Some("environments/staging.yaml:4:5".to_owned()),
        ticket: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_grouped_by_owner_and_ownerless_ones_left_out() {
        let mut none = sample("orphan", "x");
        none.owner = None;
        let failures = vec![
            sample("b", "payments"),
            sample("a", "devops"),
            none,
            sample("c", "payments"),
        ];
        let groups = by_owner(&failures);
        let names: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|(o, fs)| (o.as_str(), fs.iter().map(|f| f.name.as_str()).collect()))
            .collect();
        assert_eq!(
            names,
            vec![("devops", vec!["a"]), ("payments", vec!["b", "c"])]
        );
    }
}
