//! What the reports say about owners and checks besides the result: each owner's clock
//! (local time, in working hours or not, when they are back) and the pre-flight checks
//! verified fixed. Plain data, filled by the CLI from `owners.yaml`, its clock and the
//! store: this crate reads no file and asks no clock.

/// Where one owner stands when the report is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerClock {
    /// The name `owner:` uses (`devops`).
    pub name: String,
    /// How a person reads it (`DevOps, Singapore`).
    pub display_name: String,
    /// Their local time, `02:14`.
    pub local_time: String,
    /// Their IANA time zone, `Asia/Singapore`.
    pub time_zone: String,
    /// Their working hours and days, `09:00-17:00 mon-fri`.
    pub hours: String,
    /// Whether it is within their working hours.
    pub working: bool,
    /// When that changes: `back in 6 h 46 min` off hours, `until 17:00` when working.
    pub next: String,
    /// The whole line: `devops — 02:14 in Asia/Singapore, off hours; back in 6 h 46 min`.
    pub line: String,
}

impl OwnerClock {
    /// `working hours` or `off hours`.
    pub fn state(&self) -> &'static str {
        if self.working {
            "working hours"
        } else {
            "off hours"
        }
    }
}

/// The clocks of a suite's owners (from `owners.yaml`), for the reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnerClocks {
    /// One per owner, by name.
    pub owners: Vec<OwnerClock>,
}

impl OwnerClocks {
    /// The clock of the owner named `name`.
    pub fn of(&self, name: &str) -> Option<&OwnerClock> {
        self.owners.iter().find(|o| o.name == name)
    }
}

/// A pre-flight check that failed in the previous run of the same environment and passes
/// now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFixed {
    /// The check's name (its key across runs).
    pub check: String,
    /// When it was first seen failing, as a person reads it (`run r-3 (2026-12-02 05:56
    /// UTC)`).
    pub first_failed: String,
}

/// The owners with a failure in `result` (a failing pre-flight check or scenario), sorted,
/// each once.
pub(crate) fn failing_owners(result: &rehearse_runner::RunResult) -> Vec<String> {
    use rehearse_runner::Status;
    let mut names: Vec<String> = result
        .preflight
        .iter()
        .filter(|c| matches!(c.status, Status::Failed | Status::Error))
        .filter_map(|c| c.owner.clone())
        .chain(
            result
                .scenarios
                .iter()
                .filter(|s| matches!(s.status, Status::Failed | Status::Error))
                .filter_map(|s| s.owner.clone()),
        )
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The clocks of the owners with a failure in `result`, in name order (owners missing
/// from `clocks` are left out).
pub(crate) fn failing_clocks<'a>(
    result: &rehearse_runner::RunResult,
    clocks: &'a OwnerClocks,
) -> Vec<&'a OwnerClock> {
    failing_owners(result)
        .iter()
        .filter_map(|n| clocks.of(n))
        .collect()
}
