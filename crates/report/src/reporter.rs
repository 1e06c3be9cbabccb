//! The one-method extension point: something that takes run events.

use std::io;

use rehearse_runner::RunEvent;

/// Consumes the runner's events one at a time, in the order they were sent.
///
/// A closure `FnMut(&RunEvent) -> io::Result<()>` is a reporter too.
pub trait Reporter {
    /// Takes the next event.
    fn report(&mut self, event: &RunEvent) -> io::Result<()>;
}

impl<F> Reporter for F
where
    F: FnMut(&RunEvent) -> io::Result<()>,
{
    fn report(&mut self, event: &RunEvent) -> io::Result<()> {
        self(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closure_is_a_reporter() {
        let mut seen = Vec::new();
        let mut reporter = |e: &RunEvent| {
            if let RunEvent::RunStarted { run_id, .. } = e {
                seen.push(run_id.clone());
            }
            Ok(())
        };
        let event = RunEvent::RunStarted {
            run_id: "r-1".into(),
            environment: "local".into(),
            scenarios: 0,
        };
        Reporter::report(&mut reporter, &event).unwrap();
        assert_eq!(seen, ["r-1"]);
    }
}
