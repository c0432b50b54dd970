//! Crate-private functions the fuzz targets (`fuzz/`, FUZZING.md) exercise directly. Only
//! compiled with the `fuzzing` feature, which nothing but the fuzz crate turns on.

use reqwest::header::HeaderMap;

/// How the inbox stores a notification's headers ([`crate::payments::notify`]).
pub fn headers_json(headers: &HeaderMap) -> String {
    crate::payments::notify::headers_json(headers)
}

/// How recovery reads them back: a recovered notification must verify as it did on arrival.
pub fn headers_from_json(text: &str) -> HeaderMap {
    crate::payments::notify::headers_from_json(text)
}
