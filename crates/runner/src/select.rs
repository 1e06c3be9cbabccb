//! Choosing which scenarios run: `--tag`, `--name`, `--shard K/N`.

use std::fmt;
use std::str::FromStr;

use rehearse_scenario::Scenario;

/// `--shard K/N`: the K-th of N deterministic slices of the selected scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based index.
    pub index: usize,
    /// Number of shards.
    pub total: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let err = || format!("invalid shard `{s}`; write K/N with 1 <= K <= N, e.g. 2/3");
        let (k, n) = s.split_once('/').ok_or_else(err)?;
        let index: usize = k.trim().parse().map_err(|_| err())?;
        let total: usize = n.trim().parse().map_err(|_| err())?;
        if index == 0 || total == 0 || index > total {
            return Err(err());
        }
        Ok(Self { index, total })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// Which scenarios to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Keep scenarios having any of these tags (all when empty).
    pub tags: Vec<String>,
    /// Keep scenarios whose name contains any of these (case-insensitive; all when empty).
    pub names: Vec<String>,
    /// Keep one shard.
    pub shard: Option<Shard>,
}

impl Selection {
    /// Filters then shards. Scenarios are sorted by path first, so every machine of a
    /// sharded CI run computes the same slices; shard K takes every N-th scenario starting
    /// at the K-th, which balances slices of similar scenarios.
    pub fn apply(&self, scenarios: Vec<Scenario>) -> Vec<Scenario> {
        self.apply_for(scenarios).0
    }

    /// Like [`Selection::apply`], also setting apart the scenarios whose `needs:` this
    /// environment does not meet (`left_out`); returns those too.
    pub fn apply_for(&self, scenarios: Vec<Scenario>) -> (Vec<Scenario>, Vec<Scenario>) {
        self.filter(scenarios)
            .into_iter()
            .partition(|s| s.left_out.is_none())
    }

    fn filter(&self, mut scenarios: Vec<Scenario>) -> Vec<Scenario> {
        scenarios.sort_by(|a, b| a.path.cmp(&b.path));
        scenarios.retain(|s| {
            (self.tags.is_empty() || s.tags.iter().any(|t| self.tags.contains(t)))
                && (self.names.is_empty()
                    || self
                        .names
                        .iter()
                        .any(|n| s.name.to_lowercase().contains(&n.to_lowercase())))
        });
        match self.shard {
            None => scenarios,
            Some(shard) => scenarios
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % shard.total == shard.index - 1)
                .map(|(_, s)| s)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_rejects() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, total: 3 }));
        assert!("0/3".parse::<Shard>().is_err());
        assert!("4/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}
