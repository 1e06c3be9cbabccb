//! Deterministic ids: the same seed and the same calls give the same references.

/// SplitMix64: tiny, fast, and good enough for unique-looking references.
#[derive(Debug, Clone)]
pub(crate) struct IdGen {
    state: u64,
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `prefix` followed by 16 hex digits.
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}{:016x}", self.next_u64())
    }
}
