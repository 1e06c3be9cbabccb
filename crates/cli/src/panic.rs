//! What a panic prints. A panic is a bug in rehearse: inside a scenario the runner catches
//! it, reports it as that step's error (masked like everything it emits), runs the
//! scenario's cleanup, and the run exits 4. The hook here only says where on stderr, in
//! one line, with the environment's secrets masked (the default hook would print the
//! message raw, and a message may hold a value).

use std::sync::OnceLock;

use rehearse_runner::Redactor;

/// The environment's secrets, once they are read.
static SECRETS: OnceLock<Redactor> = OnceLock::new();

/// Replaces the default panic hook.
pub(crate) fn install() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let message = SECRETS.get().map_or(message.clone(), |r| r.mask(&message));
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("internal error: rehearse panicked{at}: {message} (a bug: please report it)");
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{trace}");
        }
    }));
}

/// Masks these values in what a panic prints from now on.
pub(crate) fn mask(secrets: &[String]) {
    let _ = SECRETS.set(Redactor::new(secrets.iter().cloned()));
}
