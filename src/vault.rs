//! The master key, and sealing secrets under it for storage (AES-256-GCM).
//!
//! The key comes from `PAYDESK_MASTER_KEY` (32 bytes as base64 or 64 hex digits) or, when
//! that is unset, from `master.key` in the data directory, created on first start with
//! 0600 permissions. Several instances sharing one database must share the key (set the
//! variable, or copy the file).
//!
//! Sealed text is `v1:` + base64(nonce ‖ ciphertext ‖ tag). The associated data names what
//! the secret is (e.g. the table and row), so a sealed value copied into another row does
//! not open there.

use std::path::{Path, PathBuf};

use crate::provider::crypto::{aes256gcm_decrypt, aes256gcm_encrypt, b64_encode};
use crate::provider::secret::SecretString;

pub const MASTER_KEY_ENV: &str = "PAYDESK_MASTER_KEY";
pub const MASTER_KEY_FILE: &str = "master.key";
const PREFIX: &str = "v1:";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("{MASTER_KEY_ENV} must be 32 bytes, written as base64 or 64 hex digits")]
    BadEnvKey,
    #[error("master key file {0} is not 32 base64-encoded bytes")]
    BadKeyFile(PathBuf),
    #[error("cannot read or create the master key file {0}: {1}")]
    KeyFile(PathBuf, std::io::Error),
    #[error("a stored secret cannot be opened with this master key (wrong key or damaged data)")]
    Open,
}

/// The 32-byte master key. `Debug` prints nothing of it.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).ok()?
    } else {
        crate::provider::crypto::b64_decode(t)?
    };
    bytes.try_into().ok()
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    /// `PAYDESK_MASTER_KEY` if set, else `{data_dir}/master.key` (created if missing).
    pub fn load(data_dir: &Path) -> Result<MasterKey, VaultError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                decode_key(&v).map(MasterKey).ok_or(VaultError::BadEnvKey)
            }
            _ => MasterKey::load_or_create_file(&data_dir.join(MASTER_KEY_FILE)),
        }
    }

    /// Reads the key file, or creates it (0600, never overwriting: when two instances race,
    /// the loser reads the winner's file).
    pub fn load_or_create_file(path: &Path) -> Result<MasterKey, VaultError> {
        let io = |e| VaultError::KeyFile(path.to_path_buf(), e);
        let fresh: [u8; 32] = rand::random();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut f) => {
                use std::io::Write;
                f.write_all(format!("{}\n", b64_encode(&fresh)).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io)?;
                tracing::info!(path = %path.display(), "created the master key file");
                Ok(MasterKey(fresh))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(io)?;
                #[cfg(unix)]
                if let Ok(meta) = std::fs::metadata(path) {
                    use std::os::unix::fs::PermissionsExt;
                    if meta.permissions().mode() & 0o077 != 0 {
                        tracing::warn!(path = %path.display(), "the master key file is readable by other users; chmod 600 it");
                    }
                }
                decode_key(&text)
                    .map(MasterKey)
                    .ok_or_else(|| VaultError::BadKeyFile(path.to_path_buf()))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Encrypts `secret`; `aad` says what it is (checked again by [`MasterKey::open`]).
    pub fn seal(&self, aad: &str, secret: &SecretString) -> String {
        let nonce: [u8; 12] = rand::random();
        // Only fails for wrong key/nonce lengths, which are fixed by the types here.
        let ct = aes256gcm_encrypt(&self.0, &nonce, aad.as_bytes(), secret.expose().as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", b64_encode(&out))
    }

    pub fn open(&self, aad: &str, sealed: &str) -> Result<SecretString, VaultError> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(crate::provider::crypto::b64_decode)
            .filter(|r| r.len() > 12)
            .ok_or(VaultError::Open)?;
        let (nonce, ct) = raw.split_at(12);
        let plain =
            aes256gcm_decrypt(&self.0, nonce, aad.as_bytes(), ct).map_err(|_| VaultError::Open)?;
        String::from_utf8(plain)
            .map(SecretString::new)
            .map_err(|_| VaultError::Open)
    }

    /// True when `stored` was written by [`MasterKey::seal`] (not legacy plain text).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_is_bound_to_key_and_aad() {
        let k = MasterKey::from_bytes([7; 32]);
        let s = SecretString::new("whsec_abc");
        let sealed = k.seal("sandbox_keys/stripe", &s);
        assert!(MasterKey::is_sealed(&sealed) && !sealed.contains("whsec"));
        assert_eq!(k.open("sandbox_keys/stripe", &sealed).expect("open"), s);
        assert!(k.open("sandbox_keys/alipay", &sealed).is_err(), "other row");
        assert!(
            MasterKey::from_bytes([8; 32])
                .open("sandbox_keys/stripe", &sealed)
                .is_err()
        );
        assert_ne!(
            sealed,
            k.seal("sandbox_keys/stripe", &s),
            "fresh nonce each time"
        );
        assert_eq!(format!("{k:?}"), "MasterKey(***)");
    }

    #[test]
    fn key_file_is_created_once_with_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(MASTER_KEY_FILE);
        let a = MasterKey::load_or_create_file(&path).expect("create");
        let b = MasterKey::load_or_create_file(&path).expect("read");
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(decode_key(&"ab".repeat(32)).is_some(), "hex");
        assert!(decode_key("c2hvcnQ=").is_none(), "too short");
    }
}
