//! AES-256-GCM (WeChat Pay `AEAD_AES_256_GCM`).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use super::CryptoError;

/// AEAD_AES_256_GCM decryption as WeChat Pay uses it: 32-byte key, 12-byte nonce, associated
/// data, ciphertext with the 16-byte tag appended.
pub fn aes256gcm_decrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::AesKeyLength)?;
    if nonce.len() != 12 {
        return Err(CryptoError::NonceLength);
    }
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext_and_tag,
                aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

/// The inverse of [`aes256gcm_decrypt`] (the sandbox encrypts notifications with it).
pub fn aes256gcm_encrypt(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::AesKeyLength)?;
    if nonce.len() != 12 {
        return Err(CryptoError::NonceLength);
    }
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcm_rejects_bad_lengths() {
        assert_eq!(
            aes256gcm_decrypt(&[0; 16], &[0; 12], b"", &[0; 16]),
            Err(CryptoError::AesKeyLength)
        );
        assert_eq!(
            aes256gcm_decrypt(&[0; 32], &[0; 8], b"", &[0; 16]),
            Err(CryptoError::NonceLength)
        );
        let ct = aes256gcm_encrypt(&[7; 32], b"abcdefghijkl", b"ad", b"hi").expect("encrypt");
        assert_eq!(
            aes256gcm_decrypt(&[7; 32], b"abcdefghijkl", b"ad", &ct).as_deref(),
            Ok(&b"hi"[..])
        );
    }
}
