//! What the scenario crate's integration tests share.

use rehearse_scenario::Resolve;

/// A world with no secrets and no environment, and a fixed time and uuid: what
/// validation needs, nothing a run would.
#[derive(Debug)]
pub struct NoWorld;

impl Resolve for NoWorld {
    fn secret(&self, _: &str) -> Option<String> {
        None
    }
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn now(&self) -> String {
        "2026-01-01T00:00:00Z".into()
    }
    fn uuid(&self) -> String {
        "u".into()
    }
}
