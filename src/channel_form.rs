//! The credentials form of a live channel, as data: each provider's folder lists its fields
//! (`src/provider/<name>/live.rs`, `FIELDS`), the server fills in the stored values and the
//! page renders whatever it gets. Browser-safe: the page (wasm) shares these types.

use serde::{Deserialize, Serialize};

/// How a field is typed in and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldKind {
    /// One line of non-secret text (an app id, a URL).
    Text,
    /// One line of secret text (an API key): never pre-filled; left empty when editing, the
    /// stored secret stays.
    Secret,
    /// A pasted or uploaded PEM private key: never pre-filled, like [`FieldKind::Secret`].
    SecretPem,
    /// A pasted or uploaded PEM public key or certificate.
    Pem,
    /// Several PEM certificates, one after the other.
    Certificates,
    /// A yes/no choice.
    Checkbox,
    /// Not a field: a hint shown at this place (its name picks the text).
    Hint,
}

impl FieldKind {
    pub fn is_secret(self) -> bool {
        matches!(self, FieldKind::Secret | FieldKind::SecretPem)
    }

    /// Pasted text that may also be uploaded as a file (`<name>_file`).
    pub fn takes_file(self) -> bool {
        matches!(
            self,
            FieldKind::SecretPem | FieldKind::Pem | FieldKind::Certificates
        )
    }
}

/// One field of a provider's form, as its folder declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The form field's name, and the name a provider reads it by.
    pub name: &'static str,
    pub kind: FieldKind,
}

/// One field as the page shows it: secrets always come with an empty value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub name: String,
    pub kind: FieldKind,
    /// The stored value (or default); `"1"` for a ticked checkbox.
    pub value: String,
}

impl FormField {
    pub fn of(spec: &FieldSpec, value: String) -> FormField {
        FormField {
            name: spec.name.to_string(),
            kind: spec.kind,
            value: if spec.kind.is_secret() {
                String::new()
            } else {
                value
            },
        }
    }
}
