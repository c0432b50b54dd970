//! One-time recovery codes: 10 per enrolment, shown once, stored as argon2id hashes.

use crate::auth::{hash_password, verify_password};

pub const RECOVERY_CODES: usize = 10;
/// No 0/o, 1/l/i: codes are copied by hand.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Ten fresh codes, `xxxxx-xxxxx` (about 49 bits each).
pub fn generate() -> Vec<String> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            s.insert(5, '-');
            s
        })
        .collect()
}

/// A typed code as it is hashed: lowercase, without dashes or spaces.
pub fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `typed` looks like a recovery code rather than a 6-digit TOTP code.
pub fn looks_like_recovery(typed: &str) -> bool {
    normalize(typed).len() == 10
}

pub async fn hash(code: &str) -> Option<String> {
    hash_password(normalize(code)).await.ok()
}

pub async fn matches(typed: &str, hash: &str) -> bool {
    verify_password(normalize(typed), hash.to_string()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn codes_are_distinct_and_verify_however_typed() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        let h = hash(&codes[0]).await.expect("hash");
        assert!(matches(&codes[0].to_uppercase().replace('-', " "), &h).await);
        assert!(!matches(&codes[1], &h).await);
        assert!(looks_like_recovery(&codes[0]) && !looks_like_recovery("123456"));
    }
}
