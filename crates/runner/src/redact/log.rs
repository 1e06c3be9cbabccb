//! The redactor of the process's logs: `tracing` output (rehearse's own, and reqwest's
//! and hyper's at `RUST_LOG=debug`/`trace`, which print URLs) is masked by the binary's
//! log writer with [`mask_log`]. Logs are global to the process, and so is this: it knows
//! every value that any [`Redactor`] of the process was given or learnt (the secrets of a
//! run, every token of every scenario).

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

use super::Redactor;

static LOG: RwLock<Redactor> = RwLock::new(Redactor::empty());

/// Learns a value for the logs.
pub(super) fn learn(value: &str) {
    LOG.write()
        .unwrap_or_else(PoisonError::into_inner)
        .learn(value);
}

/// A log line with every secret and token known to the process masked.
pub fn mask_log(text: &str) -> Cow<'_, str> {
    let r = LOG.read().unwrap_or_else(PoisonError::into_inner);
    if r.is_empty() {
        return Cow::Borrowed(text);
    }
    match r.mask(text) {
        masked if masked == text => Cow::Borrowed(text),
        masked => Cow::Owned(masked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logs_learn_what_any_redactor_learns() {
        let mut r = Redactor::new(["log-canary-secret".to_owned()]);
        r.add("log-canary-token".to_owned());
        let line = mask_log("GET http://h/?k=log-canary-secret t=log-canary-token");
        assert_eq!(line, "GET http://h/?k=*** t=***");
    }
}
