//! Amounts: decimal strings and minor units. Every currency is treated as having two decimals.

/// Parse `"25000.00"`, `"1250.5"` or `"7"` into minor units.
pub(crate) fn parse_decimal(s: &str) -> Option<i64> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// Format minor units as `"25000.00"`.
pub(crate) fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_through_minor_units() {
        assert_eq!(parse_decimal("25000.00"), Some(2_500_000));
        assert_eq!(parse_decimal("1250.5"), Some(125_050));
        assert_eq!(parse_decimal("7"), Some(700));
        assert_eq!(parse_decimal("1.234"), None);
        assert_eq!(parse_decimal("-1"), None);
        assert_eq!(parse_decimal(".5"), None);
        assert_eq!(parse_decimal("99999999999999999999"), None);
        assert_eq!(format_minor(125_050), "1250.50");
        assert_eq!(format_minor(5), "0.05");
    }
}
