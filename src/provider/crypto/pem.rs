//! PEM blocks (`-----BEGIN X-----` … `-----END X-----`) and base64, strict and lenient.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::CryptoError;

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, …) and decoded DER bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
}

/// Parses every `-----BEGIN X-----` … `-----END X-----` block in `text` (certificate chains
/// such as Alipay's root cert file hold several). Text outside blocks is ignored.
pub fn pem_blocks(text: &str) -> Result<Vec<PemBlock>, CryptoError> {
    let mut out = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut b64 = String::new();
        let mut closed = false;
        for l in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            // RFC 7468 allows headers only in legacy encrypted PEM, which we do not accept.
            if l.contains(':') {
                return Err(CryptoError::Pem);
            }
            b64.push_str(l);
        }
        if !closed {
            return Err(CryptoError::Pem);
        }
        let der = B64.decode(b64.as_bytes()).map_err(|_| CryptoError::Pem)?;
        out.push(PemBlock {
            label: label.to_string(),
            der,
        });
    }
    Ok(out)
}

/// Decodes base64 that may be wrapped over several lines (consoles hand out keys that way).
pub(super) fn b64_lenient(s: &str) -> Option<Vec<u8>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    B64.decode(compact.as_bytes()).ok()
}

pub fn b64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    B64.decode(s.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_rejects_unterminated() {
        assert_eq!(
            pem_blocks("-----BEGIN CERTIFICATE-----\nAAAA\n"),
            Err(CryptoError::Pem)
        );
        assert_eq!(pem_blocks("no pem here"), Ok(vec![]));
    }
}
