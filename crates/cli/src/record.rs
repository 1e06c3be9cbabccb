//! `rehearse mock-bank record`: the recording proxy until Ctrl-C, SIGTERM or SIGHUP, which
//! save the folder and stop. Exit 0 when a folder was written, 2 when the upstream does not
//! answer or nothing was recorded, 3 for bad flags or what the traffic leaves unsaid (a
//! status never seen), 4 for IO.

use rehearse_bank_mock::{RecordArgs, RecordFailureKind, record_until};

use crate::exit;
use crate::signals::Signals;

pub(crate) async fn record(args: RecordArgs) -> u8 {
    // Listen before the proxy starts, so an early signal is not lost.
    let mut signals = match Signals::new() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!(
                "warning: failed to listen for Ctrl-C and SIGTERM ({e}): save with POST /__record/save"
            );
            None
        }
    };
    let stop = async move {
        match signals.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let mut out = std::io::stdout();
    match record_until(args, &mut out, stop).await {
        Ok(()) => exit::PASSED,
        Err(e) => {
            eprintln!("error: {e}");
            match e.kind {
                RecordFailureKind::NotReady => exit::NOT_READY,
                RecordFailureKind::Invalid => exit::INVALID_INPUT,
                RecordFailureKind::Internal => exit::INTERNAL,
            }
        }
    }
}
