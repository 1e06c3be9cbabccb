//! The signature of a webhook delivery, Stripe-style: `t=UNIX_SECONDS,v1=HEX` where HEX is
//! the lowercase hex HMAC-SHA256, keyed with the subscription's secret, of the bytes
//! `UNIX_SECONDS` `.` `RAW_BODY`. The timestamp is the bank's (virtual) time of the attempt.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The version tag of the signature in the header (`v1=`).
pub const SIGNATURE_SCHEME: &str = "v1";

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
///
/// ```
/// let header = rehearse_bank_mock::sign("whsec_test", 1736154000, br#"{"id":"evt_1"}"#);
/// assert!(header.starts_with("t=1736154000,v1="));
/// assert_eq!(header.len(), "t=1736154000,v1=".len() + 64);
/// ```
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return format!("t={timestamp},{SIGNATURE_SCHEME}="),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},{SIGNATURE_SCHEME}={}",
        hex(&mac.finalize().into_bytes())
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_timestamp_dot_body() {
        // hmac.new(b"key", b"1.x", hashlib.sha256).hexdigest(), computed with Python.
        assert_eq!(
            sign("key", 1, b"x"),
            "t=1,v1=fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
        assert_ne!(sign("key", 1, b"x"), sign("key", 2, b"x"));
        assert_ne!(sign("key", 1, b"x"), sign("other", 1, b"x"));
    }
}
