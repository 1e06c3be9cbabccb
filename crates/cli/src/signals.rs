//! The signals that ask rehearse to stop: SIGINT (Ctrl-C), SIGTERM (what CI runners and
//! Kubernetes send) and SIGHUP (the terminal or SSH session closed). All three mean the
//! same: stop, clean up, write the reports.

use tokio_util::sync::CancellationToken;

use crate::exit;

/// Listens for Ctrl-C, SIGTERM and SIGHUP from the start of a run: the first cancels
/// `cancel` (steps and pre-flight stop, cleanup runs, reports are written), the second
/// `quit` (cleanup is cut short, reports are still written), the third exits 130 at once.
pub(crate) fn listen(
    cancel: CancellationToken,
    quit: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    listen_suspending(cancel, quit, None)
}

/// [`listen`], except that a SIGTERM while a scenario of a resumable run waits suspends
/// the run instead (issue #12 §2): no cleanup, its place kept in the store, exit 75. Any
/// signal after that stops it as the first one would have.
pub(crate) fn listen_suspending(
    cancel: CancellationToken,
    quit: CancellationToken,
    suspension: Option<std::sync::Arc<rehearse_runner::Suspension>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("failed to listen for Ctrl-C, SIGTERM and SIGHUP: {e}");
                return;
            }
        };
        let mut name = signals.recv().await;
        if name == "SIGTERM"
            && let Some(s) = suspension.filter(|s| s.someone_waits())
        {
            eprintln!(
                "SIGTERM while waiting: suspending the run once every running scenario waits (no cleanup; `rehearse resume` continues it)"
            );
            s.request();
            name = signals.recv().await;
        }
        eprintln!(
            "interrupted ({name}): stopping, running cleanup and writing reports (Ctrl-C again to cut cleanup short)"
        );
        cancel.cancel();
        let name = signals.recv().await;
        eprintln!(
            "interrupted again ({name}): cutting cleanup short and writing reports (Ctrl-C a third time to quit at once)"
        );
        quit.cancel();
        signals.recv().await;
        std::process::exit(i32::from(exit::INTERRUPTED));
    })
}

/// SIGINT, SIGTERM and SIGHUP as one stream of stop requests. Listening starts when it is
/// made and lasts as long as it lives, so no request between two `recv`s is lost (nor
/// kills the process).
#[derive(Debug)]
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The next stop request: its name.
    pub(crate) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
                _ = self.hup.recv() => "SIGHUP",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
