//! argon2id password hashing. Hashing is deliberately slow, so it runs on the blocking
//! thread pool and never stalls the async runtime.

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password must be at least {0} characters")]
    TooShort(usize),
    #[error("password must be at most {0} characters")]
    TooLong(usize),
    #[error("could not hash the password")]
    Hash,
}

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 256;

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn validate_new_password(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort(MIN_PASSWORD_LEN));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong(MAX_PASSWORD_LEN));
    }
    Ok(())
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$…`).
pub async fn hash_password(password: String) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| PasswordError::Hash)
    })
    .await
    .map_err(|_| PasswordError::Hash)?
}

/// Checks `password` against a PHC string. A malformed hash verifies as false.
pub async fn verify_password(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        let b = hash_password("correct horse battery".into())
            .await
            .expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse battery".into(), a.clone()).await);
        assert!(!verify_password("correct horse battery!".into(), a).await);
        assert!(!verify_password("x".into(), "not a hash".into()).await);
    }

    #[test]
    fn new_passwords_have_bounds() {
        assert_eq!(
            validate_new_password("short"),
            Err(PasswordError::TooShort(10))
        );
        assert_eq!(
            validate_new_password(&"x".repeat(257)),
            Err(PasswordError::TooLong(256))
        );
        assert_eq!(validate_new_password("long enough pw"), Ok(()));
    }
}
