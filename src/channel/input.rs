//! What an admin typed to describe a live channel, by field name: the credentials form's
//! multipart fields or the CLI's flags (files already read). Each provider's folder reads
//! the fields it declares (`FIELDS` in `src/provider/<name>/live.rs`) through
//! [`ChannelInput`]; neither the form route nor the CLI knows which provider needs what.

use std::collections::BTreeMap;

use super::config::{ConfigProblem, problem};

/// Named text fields; values are trimmed and empty ones count as absent.
pub trait ChannelInput {
    /// The field's value, or `None` when it was left empty.
    fn text(&self, name: &str) -> Option<String>;
    /// A ticked checkbox or a given flag.
    fn flag(&self, name: &str) -> bool {
        matches!(self.text(name).as_deref(), Some("1" | "on" | "true"))
    }
    /// A required field.
    fn required(&self, name: &'static str) -> Result<String, ConfigProblem> {
        self.text(name).ok_or_else(|| problem(name, "is required"))
    }
    /// A secret: the new value, or (when editing and left empty) the stored one.
    fn secret(&self, name: &'static str, stored: Option<&str>) -> Result<String, ConfigProblem> {
        match self.text(name) {
            Some(v) => Ok(v),
            None => stored
                .map(str::to_string)
                .ok_or_else(|| problem(name, "is required")),
        }
    }
}

/// Fields collected into a map (the CLI; tests).
#[derive(Default)]
pub struct FieldMap(BTreeMap<String, String>);

impl FieldMap {
    pub fn new() -> FieldMap {
        FieldMap::default()
    }

    /// Sets a field; `None` or blank leaves it absent.
    pub fn set(&mut self, name: &str, value: Option<String>) -> &mut FieldMap {
        if let Some(v) = value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        {
            self.0.insert(name.to_string(), v);
        }
        self
    }
}

impl std::fmt::Debug for FieldMap {
    // Values may be keys: names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl ChannelInput for FieldMap {
    fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// PEM certificates pasted one after the other.
pub fn split_certificates(text: &str) -> Vec<String> {
    const END: &str = "-----END CERTIFICATE-----";
    text.split_inclusive(END)
        .map(str::trim)
        .filter(|p| p.contains("-----BEGIN"))
        .map(str::to_string)
        .collect()
}
