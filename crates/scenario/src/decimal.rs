//! Exact decimal numbers, compared by value over their digits: `10000000000000000365`
//! and `10000000000000000000` differ, `0.1` equals `0.10`, `1e3` equals `1000`. No digit
//! is ever lost to a binary float, and no exponent is ever expanded.

use std::cmp::Ordering;

/// A number written in JSON's grammar (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`), as
/// `±digits × 10^exp` with no leading or trailing zero in `digits` (zero has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exp: i64,
}

/// Exponents beyond this are clamped: `1e9999999999999999999` stays comparable without
/// any arithmetic overflowing (no real value gets near it).
const EXP_LIMIT: i64 = i64::MAX / 4;

/// True when `text` is a number in JSON's grammar (any number of digits).
pub(crate) fn is_json_number(text: &str) -> bool {
    Decimal::parse(text).is_some()
}

impl Decimal {
    /// Parses a number in JSON's grammar; `None` for anything else (`+1`, `.5`, `012`,
    /// `1_000`, `0x1F`, `1.`, `inf`).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let mut i = 0;
        let negative = b.first() == Some(&b'-');
        if negative {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int = &b[int_start..i];
        if int.is_empty() || (int.len() > 1 && int[0] == b'0') {
            return None;
        }
        let mut frac: &[u8] = &[];
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac = &b[start..i];
            if frac.is_empty() {
                return None;
            }
        }
        let mut exp: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let neg_exp = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                exp = exp
                    .saturating_mul(10)
                    .saturating_add(i64::from(b[i] - b'0'))
                    .min(EXP_LIMIT);
                i += 1;
            }
            if i == start {
                return None;
            }
            if neg_exp {
                exp = -exp;
            }
        }
        if i != b.len() {
            return None;
        }
        let mut digits: Vec<u8> = int.iter().chain(frac).copied().collect();
        let frac_len = i64::try_from(frac.len()).unwrap_or(EXP_LIMIT);
        let mut exp = exp.saturating_sub(frac_len).clamp(-EXP_LIMIT, EXP_LIMIT);
        let lead = digits.iter().take_while(|d| **d == b'0').count();
        digits.drain(..lead);
        while digits.last() == Some(&b'0') {
            digits.pop();
            exp = exp.saturating_add(1).min(EXP_LIMIT);
        }
        let negative = negative && !digits.is_empty();
        if digits.is_empty() {
            exp = 0;
        }
        Some(Self {
            negative,
            digits,
            exp,
        })
    }

    /// True when the value has no fractional part (`3`, `3.0`, `1e2`).
    pub(crate) fn is_integer(&self) -> bool {
        self.exp >= 0
    }

    /// The value as an `i128` when it is a whole number in range.
    pub(crate) fn to_i128(&self) -> Option<i128> {
        if !self.is_integer() {
            return None;
        }
        let mut v: i128 = 0;
        for d in &self.digits {
            v = v.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
        }
        for _ in 0..self.exp {
            v = v.checked_mul(10)?;
        }
        Some(if self.negative { -v } else { v })
    }

    fn sign(&self) -> i8 {
        match (self.digits.is_empty(), self.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        }
    }

    /// Position of the most significant digit: `digits × 10^exp < 10^magnitude`.
    fn magnitude(&self) -> i64 {
        i64::try_from(self.digits.len())
            .unwrap_or(EXP_LIMIT)
            .saturating_add(self.exp)
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let (s, o) = (self.sign(), other.sign());
        if s != o || s == 0 {
            return s.cmp(&o);
        }
        // Same sign, both non-zero: compare absolute values, then flip for negatives.
        let abs = self
            .magnitude()
            .cmp(&other.magnitude())
            // Same magnitude: digit by digit; with no trailing zeros, the longer is bigger.
            .then_with(|| self.digits.cmp(&other.digits));
        if s < 0 { abs.reverse() } else { abs }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap_or_else(|| panic!("{s} is a JSON number"))
    }

    #[test]
    fn json_grammar_only() {
        for ok in [
            "0",
            "-0",
            "1",
            "-12",
            "0.5",
            "1.50",
            "1e3",
            "1E+3",
            "2.5e-7",
            "123456789012345678901234567890",
        ] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "+1", ".5", "1.", "012", "-012", "1_000", "0x1F", "0o17", "1e", "1e+", ".inf",
            "NaN", "1.0.0", " 1", "1 ",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(d("0.1"), d("0.10"));
        assert_eq!(d("1"), d("1.0"));
        assert_eq!(d("1e3"), d("1000"));
        assert_eq!(d("-0"), d("0.000"));
        assert_eq!(d("1000000000000000000000"), d("1000000000000000000000"));
        assert_ne!(d("1000000000000000000000"), d("1000000000000000000001"));
        assert_ne!(d("10000000000000000365"), d("10000000000000000000"));
    }

    #[test]
    fn ordering_is_exact() {
        let ordered = [
            "-1e30",
            "-10000000000000000365",
            "-10000000000000000000",
            "-1.5",
            "-1",
            "-0.5",
            "0",
            "1e-40",
            "0.1",
            "0.11",
            "1",
            "1.0000000000000000000001",
            "2",
            "10",
            "1e2",
            "10000000000000000000",
            "10000000000000000365",
            "1e21",
            "1000000000000000000001",
            "1e9999999999999999999999",
        ];
        for w in ordered.windows(2) {
            assert_eq!(d(w[0]).cmp(&d(w[1])), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(
                d(w[1]).cmp(&d(w[0])),
                Ordering::Greater,
                "{} > {}",
                w[1],
                w[0]
            );
        }
    }

    #[test]
    fn whole_numbers_convert() {
        assert_eq!(d("1e3").to_i128(), Some(1000));
        assert_eq!(d("-42").to_i128(), Some(-42));
        assert_eq!(d("4.0").to_i128(), Some(4));
        assert_eq!(d("4.5").to_i128(), None);
        assert_eq!(d("1e40").to_i128(), None);
        assert!(d("2.000").is_integer());
    }
}
