//! `req_info` of the v2 refund notification: base64 of AES-256-ECB (PKCS#7 padding) under
//! the 32 ASCII bytes of the lower-case hex MD5 of the API key, holding a `<root>` XML
//! document. That message carries no `sign`: only someone holding the API key can produce
//! a `req_info` that decrypts, pads correctly and parses, so decryption is the check.
//!
//! ECB is WeChat's choice, not ours: it is only ever used to read (and, in the sandbox, to
//! write) this one field.

use aes::Aes256;
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyInit};
use md5::{Digest, Md5};

use super::xml::{self, XmlMap};
use crate::provider::VerifyError;
use crate::provider::crypto::{b64_decode, b64_encode};
use crate::provider::secret::SecretString;

/// The AES key: `md5(api_key)` as 32 lower-case hex characters, used as raw bytes.
fn aes_key(api_key: &SecretString) -> [u8; 32] {
    let digest = Md5::digest(api_key.expose().as_bytes());
    let mut key = [0u8; 32];
    // Infallible: 16 bytes encode to exactly 32 hex digits.
    let _ = hex::encode_to_slice(digest, &mut key);
    key
}

/// Decrypts a `req_info` into its fields. Any failure (base64, length, padding, UTF-8,
/// XML) is the same [`VerifyError::Decrypt`]: a forger learns nothing from which.
pub fn decrypt_req_info(req_info: &str, api_key: &SecretString) -> Result<XmlMap, VerifyError> {
    let ct = b64_decode(req_info.trim()).ok_or(VerifyError::Decrypt)?;
    if ct.is_empty() || ct.len() % 16 != 0 || ct.len() > xml::MAX_XML_BYTES {
        return Err(VerifyError::Decrypt);
    }
    let key = aes_key(api_key);
    let plain = ecb::Decryptor::<Aes256>::new(&key.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ct)
        .map_err(|_| VerifyError::Decrypt)?;
    xml::parse(&plain).map_err(|_| VerifyError::Decrypt)
}

/// Encrypts fields as WeChat does (the sandbox's refund notifications, tests).
pub fn encrypt_req_info(fields: &XmlMap, api_key: &SecretString) -> String {
    let mut doc = String::from("<root>");
    // The same CDATA writer as the wire format, with WeChat's `<root>` element.
    let body = fields.to_xml();
    doc.push_str(
        body.strip_prefix("<xml>")
            .and_then(|b| b.strip_suffix("</xml>"))
            .unwrap_or(""),
    );
    doc.push_str("</root>");
    let key = aes_key(api_key);
    let ct =
        ecb::Encryptor::<Aes256>::new(&key.into()).encrypt_padded_vec_mut::<Pkcs7>(doc.as_bytes());
    b64_encode(&ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real refund notification's `req_info` and its merchant key, published in the
    /// article "微信退款通知 req_info 解密" (studygolang.com/articles/11811) and reused as
    /// the decryption test vector of gopay (`TestDecryptRefundNotifyReqInfo`) and other Go
    /// v2 clients. The expected fields were read with `openssl enc -d -aes-256-ecb`.
    const KAT_KEY: &str = "ziR0QKsTUfMOuochC9RfCdmfHECorQAP";
    const KAT_REQ_INFO: &str = include_str!("fixtures/req_info_kat.b64");

    #[test]
    fn known_answer_req_info() {
        let m = decrypt_req_info(KAT_REQ_INFO, &SecretString::new(KAT_KEY)).expect("decrypts");
        assert_eq!(
            m.get("out_refund_no"),
            Some("50fd012ed1b311e7af7800163e32c503")
        );
        assert_eq!(
            m.get("out_trade_no"),
            Some("4893e76d8c8b434cb64e9cd536338e33")
        );
        assert_eq!(m.get("refund_id"), Some("50000404922017112502468056157"));
        assert_eq!(m.get("refund_status"), Some("SUCCESS"));
        assert_eq!(m.get("refund_fee"), Some("6"));
        assert_eq!(m.get("settlement_refund_fee"), Some("6"));
        assert_eq!(
            m.get("transaction_id"),
            Some("4200000015201711256947025404")
        );
        assert_eq!(m.get("refund_recv_accout"), Some("支付用户零钱"));
        assert_eq!(m.len(), 13);
    }

    #[test]
    fn round_trip_and_wrong_key() {
        let key = SecretString::new("0123456789abcdef0123456789abcdef");
        let mut m = XmlMap::new();
        m.set("out_refund_no", "R1");
        m.set("refund_status", "SUCCESS");
        let enc = encrypt_req_info(&m, &key);
        assert_eq!(decrypt_req_info(&enc, &key), Ok(m));
        let wrong = SecretString::new("0123456789abcdef0123456789abcdeX");
        assert_eq!(decrypt_req_info(&enc, &wrong), Err(VerifyError::Decrypt));
        assert_eq!(
            decrypt_req_info(KAT_REQ_INFO, &key),
            Err(VerifyError::Decrypt)
        );
        assert_eq!(
            decrypt_req_info("not base64!", &key),
            Err(VerifyError::Decrypt)
        );
        assert_eq!(decrypt_req_info("AAAA", &key), Err(VerifyError::Decrypt));
    }
}
