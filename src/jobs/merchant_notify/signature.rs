//! The `Paydesk-*` headers of a merchant notification, and the `Paydesk-Signature` scheme:
//! signing (the worker) and verifying (what a merchant's receiver does).

use crate::provider::crypto::{ct_eq, hmac_sha256};

pub const SIGNATURE_HEADER: &str = "Paydesk-Signature";
pub const EVENT_HEADER: &str = "Paydesk-Event";
pub const NOTIFICATION_ID_HEADER: &str = "Paydesk-Notification-Id";
/// How far a signature's `t` may be from the verifier's clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

fn signature(secret: &str, t: i64, body: &[u8]) -> [u8; 32] {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(body);
    hmac_sha256(secret.as_bytes(), &msg)
}

/// The `Paydesk-Signature` value for `body` sent at `t` (Unix seconds).
pub fn sign_header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(signature(secret, t, body)))
}

/// Whether `header` (a `Paydesk-Signature` value) signs the raw `body` with `secret`, at a
/// `t` within `tolerance` seconds of `now` (Unix seconds). Any one `v1` matching is enough;
/// comparison is constant-time. This is what a merchant's receiver should do.
pub fn verify_signature(header: &str, body: &[u8], secret: &str, now: i64, tolerance: i64) -> bool {
    let mut t: Option<i64> = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for item in header.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) => t = v.parse().ok(),
            Some(("v1", v)) => {
                if let Ok(bytes) = hex::decode(v) {
                    candidates.push(bytes);
                }
            }
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if now.abs_diff(t) > tolerance.unsigned_abs() {
        return false;
    }
    let expected = signature(secret, t, body);
    // Check every candidate (no early exit on a match).
    candidates
        .iter()
        .fold(false, |ok, c| ct_eq(c, &expected) | ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_replays() {
        let body = br#"{"type":"order.paid"}"#;
        let header = sign_header("pdsec_abc", 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify_signature(
            &header,
            body,
            "pdsec_abc",
            1_700_000_100,
            300
        ));
        assert!(
            !verify_signature(&header, body, "pdsec_abd", 1_700_000_100, 300),
            "other secret"
        );
        assert!(
            !verify_signature(&header, b"{}", "pdsec_abc", 1_700_000_100, 300),
            "other body"
        );
        assert!(
            !verify_signature(&header, body, "pdsec_abc", 1_700_000_301, 300),
            "too old"
        );
        assert!(
            !verify_signature(&header, body, "pdsec_abc", 1_699_999_699, 300),
            "from the future"
        );
        let rolled = format!("{header},v1={}", "00".repeat(32));
        assert!(
            verify_signature(&rolled, body, "pdsec_abc", 1_700_000_000, 300),
            "any v1"
        );
        assert!(
            !verify_signature("v1=00", body, "pdsec_abc", 0, 300),
            "no t"
        );
        assert!(
            !verify_signature("t=1700000000", body, "pdsec_abc", 1_700_000_000, 300),
            "no v1"
        );
        assert!(!verify_signature("garbage", body, "pdsec_abc", 0, 300));
    }

    #[test]
    fn a_known_vector() {
        // Computed independently: Python's hmac.new(b"pdsec_test", b'1700000000.{"type":"order.paid"}', sha256).
        assert_eq!(
            sign_header("pdsec_test", 1_700_000_000, br#"{"type":"order.paid"}"#),
            "t=1700000000,v1=0cfe5584a53dcf3c41af7cf99a72dbd00487b6e7e79002a36216548e324b79ff"
        );
    }
}
