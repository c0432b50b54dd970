//! AEAD_AES_256_GCM resources: notification `resource` objects and the
//! `encrypt_certificate` objects of `/v3/certificates`. Key = the 32-byte APIv3 key,
//! nonce = the 12-character `nonce`, AAD = `associated_data` (may be empty),
//! ciphertext = base64 of encrypted bytes followed by the 16-byte tag.

use serde::{Deserialize, Serialize};

use crate::provider::VerifyError;
use crate::provider::crypto::{
    CryptoError, aes256gcm_decrypt, aes256gcm_encrypt, b64_decode, b64_encode,
};

pub const ALGORITHM: &str = "AEAD_AES_256_GCM";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_type: Option<String>,
}

pub fn decrypt(apiv3_key: &[u8], res: &EncryptedResource) -> Result<Vec<u8>, VerifyError> {
    if res.algorithm != ALGORITHM {
        return Err(VerifyError::UnsupportedAlgorithm(res.algorithm.clone()));
    }
    let ct = b64_decode(&res.ciphertext).ok_or(VerifyError::Decrypt)?;
    aes256gcm_decrypt(
        apiv3_key,
        res.nonce.as_bytes(),
        res.associated_data.as_bytes(),
        &ct,
    )
    .map_err(|e| match e {
        // A wrong-length APIv3 key is a configuration problem, not a forged message.
        CryptoError::AesKeyLength => VerifyError::Malformed("APIv3 key must be 32 bytes".into()),
        _ => VerifyError::Decrypt,
    })
}

/// Encrypts like WeChat Pay does (the sandbox sends notifications with it).
pub fn encrypt(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
    original_type: Option<&str>,
) -> Result<EncryptedResource, CryptoError> {
    let ct = aes256gcm_encrypt(
        apiv3_key,
        nonce.as_bytes(),
        associated_data.as_bytes(),
        plaintext,
    )?;
    Ok(EncryptedResource {
        algorithm: ALGORITHM.into(),
        ciphertext: b64_encode(&ct),
        associated_data: associated_data.into(),
        nonce: nonce.into(),
        original_type: original_type.map(str::to_string),
    })
}
