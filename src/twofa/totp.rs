//! TOTP codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, one step of clock skew
//! either way), computed by the `totp-rs` crate. A code is accepted once: the step it
//! matched must be later than the last accepted one (RFC 6238 §5.2).

use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
const SKEW_STEPS: i64 = 1;

/// A user's TOTP secret (20 random bytes). `Debug` prints nothing of it; it is shown only
/// while the user enrols ([`TotpSecret::to_base32`], the QR code) and stored sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(***)")
    }
}

impl TotpSecret {
    pub fn generate() -> TotpSecret {
        TotpSecret(rand::random::<[u8; 20]>().to_vec())
    }

    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let bytes = Secret::Encoded(text.trim().to_string()).to_bytes().ok()?;
        (bytes.len() >= 16).then_some(TotpSecret(bytes))
    }

    /// The secret as authenticator apps take it typed in (and as it is sealed).
    pub fn to_base32(&self) -> String {
        Secret::Raw(self.0.clone()).to_encoded().to_string()
    }

    fn totp(&self) -> Option<TOTP> {
        TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, self.0.clone()).ok()
    }

    /// The code for the step that contains `unix_secs`.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp()
            .map(|t| t.generate(unix_secs))
            .unwrap_or_default()
    }

    /// The `otpauth://` URL an authenticator app scans (Key Uri Format).
    pub fn otpauth_url(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
            enc(issuer),
            enc(account),
            self.to_base32().trim_end_matches('='),
            enc(issuer)
        )
    }

    /// The step `code` matches at `unix_secs` (±1 step), if it is later than
    /// `last_step`; `None` for a wrong, malformed or already used code.
    pub fn matching_step(&self, code: &str, unix_secs: u64, last_step: i64) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = self.totp()?;
        let now = i64::try_from(unix_secs / STEP_SECS).ok()?;
        let mut found = None;
        // Every candidate is computed and compared in constant time, so timing does not
        // tell which step matched.
        for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
            let Ok(at) = u64::try_from(step) else {
                continue;
            };
            let candidate = totp.generate(at * STEP_SECS);
            let same: bool =
                subtle::ConstantTimeEq::ct_eq(candidate.as_bytes(), code.as_bytes()).into();
            if same && step > last_step {
                found = Some(step);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (its 8-digit values, last 6 digits).
    #[test]
    fn matches_the_rfc_test_vectors() {
        let s = TotpSecret(b"12345678901234567890".to_vec());
        assert_eq!(s.code_at(59), "287082");
        assert_eq!(s.code_at(1_111_111_109), "081804");
        assert_eq!(s.code_at(2_000_000_000), "279037");
    }

    #[test]
    fn a_code_is_accepted_once_and_within_one_step() {
        let s = TotpSecret::generate();
        let t = 1_800_000_000;
        let code = s.code_at(t);
        let step = (t / STEP_SECS) as i64;
        assert_eq!(s.matching_step(&code, t, 0), Some(step));
        assert_eq!(
            s.matching_step(&code, t + 30, 0),
            Some(step),
            "one step late"
        );
        assert_eq!(s.matching_step(&code, t + 90, 0), None, "too late");
        assert_eq!(s.matching_step(&code, t, step), None, "used");
        assert_eq!(s.matching_step("12345", t, 0), None);
        assert_eq!(s.matching_step("abcdef", t, 0), None);
    }

    #[test]
    fn secrets_round_trip_and_stay_out_of_debug() {
        let s = TotpSecret::generate();
        let b32 = s.to_base32();
        assert_eq!(TotpSecret::from_base32(&b32), Some(s.clone()));
        assert!(!format!("{s:?}").contains(&b32));
        let url = s.otpauth_url("paydesk", "ada");
        assert!(
            url.starts_with("otpauth://totp/paydesk:ada?secret="),
            "{url}"
        );
    }
}
