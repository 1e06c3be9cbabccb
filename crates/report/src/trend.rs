//! A scenario's history as the reports show it: its strip of recent results and a label
//! (new failure, still failing since …, fixed). Plain data, filled by the CLI from the
//! store: this crate does not know the store.

/// The label of a scenario's result against its previous runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrendLabel {
    /// Failing now, green (or not run) the run before.
    NewFailure,
    /// Failing now and in the run before; since the run described (`run r-3 (2026-12-02
    /// 05:56)`).
    StillFailingSince(String),
    /// Green now, failing the run before.
    Fixed,
}

impl TrendLabel {
    /// `new failure`, `still failing since …`, `fixed`.
    pub fn text(&self) -> String {
        match self {
            Self::NewFailure => "new failure".to_owned(),
            Self::StillFailingSince(since) => format!("still failing since {since}"),
            Self::Fixed => "fixed".to_owned(),
        }
    }

    /// A CSS-friendly word.
    pub(crate) fn class(&self) -> &'static str {
        match self {
            Self::NewFailure => "new-failure",
            Self::StillFailingSince(_) => "still-failing",
            Self::Fixed => "fixed",
        }
    }
}

/// One scenario's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioTrend {
    /// The scenario file (the key across runs).
    pub path: String,
    /// Its last results, newest last, this run's included: `✓✓✗✓` (`~` flaky, `·` not
    /// run).
    pub strip: String,
    /// Its label, if the result changed or keeps failing.
    pub label: Option<TrendLabel>,
}

/// The history of a run's scenarios, for the reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trends {
    /// One per scenario with a history.
    pub scenarios: Vec<ScenarioTrend>,
}

impl Trends {
    /// The trend of the scenario at `path`.
    pub fn of(&self, path: &str) -> Option<&ScenarioTrend> {
        self.scenarios.iter().find(|t| t.path == path)
    }

    /// True when the scenario at `path` is a new failure.
    pub fn is_new_failure(&self, path: &str) -> bool {
        self.of(path)
            .is_some_and(|t| t.label == Some(TrendLabel::NewFailure))
    }
}
