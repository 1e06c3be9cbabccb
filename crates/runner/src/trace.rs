//! W3C trace context ids, cheaply: a process-wide counter mixed with a random seed.
//!
//! A `uuid` v4 per request asks the kernel for randomness (a `getrandom` call) on every
//! attempt. These ids only need to look random and never repeat within a run, so a
//! counter run through a bijective mixer (SplitMix64's finaliser) of a seed drawn once
//! does: distinct counters give distinct ids.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static SEED: OnceLock<u64> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The next 64 random-looking, never-repeating, non-zero bits.
fn next() -> u64 {
    let seed = *SEED.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A bijection of the counter (odd multiplier, xor-shifts), so no two calls agree.
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // All zeros is not a valid W3C id; it maps from exactly one counter value.
    if z == 0 { 1 } else { z }
}

/// A trace id: 32 lowercase hex digits, unique in the process.
pub(crate) fn trace_id() -> String {
    format!("{:016x}{:016x}", next(), next())
}

/// A span (parent) id: 16 lowercase hex digits, unique in the process.
pub(crate) fn span_id() -> String {
    format!("{:016x}", next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_w3c_shaped_and_distinct() {
        let spans: std::collections::HashSet<String> = (0..10_000).map(|_| span_id()).collect();
        assert_eq!(spans.len(), 10_000);
        assert!(spans.iter().all(|s| {
            s.len() == 16
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s != "0000000000000000"
        }));
        let trace = trace_id();
        assert_eq!(trace.len(), 32);
        assert_ne!(trace, trace_id());
    }
}
