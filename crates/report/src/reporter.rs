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
