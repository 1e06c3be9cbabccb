//! The wall clock owners' local times are computed from (#13): the real one, or the
//! instant `REHEARSE_NOW` names (RFC 3339, e.g. `2026-12-03T18:14:00Z`).
//!
//! `REHEARSE_NOW` is for tests and for rehearsing a report ahead of time ("what does the
//! board say at 02:00 in Singapore?"). It moves only what rehearse computes about owners
//! (their local time, working hours, the countdown's offsets and messages' deferral); run
//! timestamps, the bank's clock and `now()` in templates keep the real time.

use chrono::{DateTime, Utc};

/// The variable that fixes "now" for owners' clocks.
pub(crate) const NOW_VAR: &str = "REHEARSE_NOW";

/// Now, or `REHEARSE_NOW` when set; an unreadable value is an error naming the fix.
pub(crate) fn now() -> Result<DateTime<Utc>, String> {
    match std::env::var(NOW_VAR) {
        Ok(v) if !v.trim().is_empty() => DateTime::parse_from_rfc3339(v.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                format!("{NOW_VAR}=`{v}` is not an RFC 3339 time ({e}); write e.g. 2026-12-03T18:14:00Z, or unset it")
            }),
        _ => Ok(Utc::now()),
    }
}
