//! The XML of WeChat Pay API v2: one root element (`<xml>` on the wire, `<root>` inside a
//! decrypted refund `req_info`) holding flat `<key>value</key>` children, values usually in
//! CDATA.
//!
//! The reader is deliberately narrow, because every notification body comes from the
//! internet before anything is verified:
//! - a `<!DOCTYPE …>` is refused outright, so no DTD can declare entities (XXE, "billion
//!   laughs"); only the five predefined entities and character references are resolved;
//! - input over [`MAX_XML_BYTES`] or with more than [`MAX_FIELDS`] fields is refused;
//! - children must be flat text and appear once each: a duplicated key could be read one
//!   way by the signature check and another way by the code that acts on it.

use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::provider::VerifyError;

/// No v2 answer or notification comes near this (a refund query with its maximum of 50
/// refunds and their coupon details stays well below).
pub const MAX_XML_BYTES: usize = 256 * 1024;
/// Fields of one message at most.
pub const MAX_FIELDS: usize = 2048;

/// A parsed v2 message: its fields in document order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct XmlMap {
    fields: Vec<(String, String)>,
}

/// Values may be personal data (openid) or secrets (`sign`, `req_info`): `Debug` lists only
/// the keys.
impl std::fmt::Debug for XmlMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.fields.iter().map(|(k, _)| k))
            .finish()
    }
}

impl XmlMap {
    pub fn new() -> XmlMap {
        XmlMap::default()
    }

    /// The value of `key`, if present (an empty element reads as `Some("")`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, present and non-empty.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// A required, non-empty field.
    pub fn require(&self, key: &'static str) -> Result<&str, VerifyError> {
        self.non_empty(key).ok_or(VerifyError::MissingField(key))
    }

    /// Sets `key` (replacing an earlier value).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.fields.retain(|(k, _)| k != key);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Serializes as `<xml><k><![CDATA[v]]></k>…</xml>` (what WeChat Pay sends and accepts).
    pub fn to_xml(&self) -> String {
        write_xml(self.iter())
    }
}

/// Element names of v2 messages: ASCII letters, digits and `_` (`refund_status_0`).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Writes fields as a v2 `<xml>` document, every value in CDATA (a `]]>` inside a value
/// is split across two CDATA sections, so no value can close its section early). Fields
/// whose name is not a valid v2 name are skipped: callers only write fixed names.
pub fn write_xml<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in fields {
        if !valid_name(k) {
            debug_assert!(false, "invalid v2 field name");
            continue;
        }
        let v = v.replace("]]>", "]]]]><![CDATA[>");
        let _ = write!(out, "<{k}><![CDATA[{v}]]></{k}>");
    }
    out.push_str("</xml>");
    out
}

fn malformed(what: &str) -> VerifyError {
    VerifyError::Malformed(format!("xml: {what}"))
}

/// Resolves `&name;` (predefined entities and character references only).
fn resolve_ref(name: &str) -> Result<char, VerifyError> {
    Ok(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ if name.starts_with('#') => {
            let num = &name[1..];
            let code = match num.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16),
                None => num.parse::<u32>(),
            }
            .map_err(|_| malformed("bad character reference"))?;
            char::from_u32(code).ok_or_else(|| malformed("bad character reference"))?
        }
        _ => return Err(malformed("undeclared entity")),
    })
}

/// Parses a v2 message (see the module docs for what is refused).
pub fn parse(input: &[u8]) -> Result<XmlMap, VerifyError> {
    if input.len() > MAX_XML_BYTES {
        return Err(malformed("too large"));
    }
    let text = std::str::from_utf8(input).map_err(|_| malformed("not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut map = XmlMap::new();
    // 0: before the root, 1: inside the root, 2: inside a field, 3: after the root.
    let mut depth = 0u8;
    let mut key = String::new();
    let mut value = String::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|_| malformed("not well-formed"))?;
        match (depth, event) {
            (_, Event::DocType(_)) => return Err(malformed("DOCTYPE is not accepted")),
            (_, Event::Decl(_) | Event::Comment(_)) => {}
            (0, Event::Start(_)) => depth = 1,
            (0, Event::Empty(_)) => depth = 3,
            (1, Event::Start(e)) => {
                key = AsRef::<str>::as_ref(&e.name()).to_string();
                value.clear();
                depth = 2;
            }
            (1, Event::Empty(e)) => {
                let k = AsRef::<str>::as_ref(&e.name()).to_string();
                push(&mut map, k, String::new())?;
            }
            (1, Event::End(_)) => depth = 3,
            (2, Event::Text(t)) => value.push_str(&t.xml10_content()),
            (2, Event::CData(c)) => value.push_str(&c),
            (2, Event::GeneralRef(r)) => value.push(resolve_ref(&r)?),
            (2, Event::End(_)) => {
                push(
                    &mut map,
                    std::mem::take(&mut key),
                    std::mem::take(&mut value),
                )?;
                depth = 1;
            }
            (2, Event::Start(_) | Event::Empty(_)) => return Err(malformed("nested element")),
            (0 | 1 | 3, Event::Text(t)) if t.trim().is_empty() => {}
            (_, Event::Eof) if depth == 3 => return Ok(map),
            (_, Event::Eof) => return Err(malformed("truncated")),
            _ => return Err(malformed("unexpected content")),
        }
    }
}

fn push(map: &mut XmlMap, key: String, value: String) -> Result<(), VerifyError> {
    if !valid_name(&key) {
        return Err(malformed("field name"));
    }
    if map.get(&key).is_some() {
        return Err(malformed("duplicated field"));
    }
    if map.len() >= MAX_FIELDS {
        return Err(malformed("too many fields"));
    }
    map.fields.push((key, value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cdata_text_and_entities() {
        let m = parse(
            b"<?xml version=\"1.0\"?>\n<xml>\n  <return_code><![CDATA[SUCCESS]]></return_code>\n  \
              <total_fee>1</total_fee><body>a&amp;b&#x4e2d;</body><empty/><e2></e2>\n</xml>\n",
        )
        .expect("parse");
        assert_eq!(m.get("return_code"), Some("SUCCESS"));
        assert_eq!(m.get("total_fee"), Some("1"));
        assert_eq!(m.get("body"), Some("a&b中"));
        assert_eq!(m.get("empty"), Some(""));
        assert_eq!(m.non_empty("e2"), None);
        assert_eq!(m.len(), 5);
    }

    #[test]
    fn writes_and_reads_back() {
        let mut m = XmlMap::new();
        m.set("body", "x]]>y<z>&");
        m.set("total_fee", "100");
        let xml = m.to_xml();
        assert!(xml.starts_with("<xml><body><![CDATA["));
        assert_eq!(parse(xml.as_bytes()).expect("parse"), m);
    }

    #[test]
    fn refuses_xxe_and_oddities() {
        let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><a>&x;</a></xml>";
        assert!(matches!(parse(xxe), Err(VerifyError::Malformed(m)) if m.contains("DOCTYPE")));
        // An undeclared entity without a DOCTYPE is refused too.
        assert!(parse(b"<xml><a>&x;</a></xml>").is_err());
        assert!(parse(b"<xml><a>1</a><a>2</a></xml>").is_err(), "duplicate");
        assert!(parse(b"<xml><a><b>1</b></a></xml>").is_err(), "nested");
        assert!(parse(b"<xml><a>1</a>").is_err(), "truncated");
        assert!(parse(b"<xml><a>1</b></xml>").is_err(), "mismatched end");
        assert!(parse(b"<xml>text<a>1</a></xml>").is_err(), "stray text");
        assert!(parse(b"<xml></xml><xml></xml>").is_err(), "two roots");
        assert!(parse(b"").is_err());
        let big = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_XML_BYTES));
        assert!(parse(big.as_bytes()).is_err(), "oversize");
    }

    #[test]
    fn debug_shows_keys_only() {
        let m = parse(b"<xml><sign>SECRET</sign></xml>").expect("parse");
        assert_eq!(format!("{m:?}"), "[\"sign\"]");
    }
}
