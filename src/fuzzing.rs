//! Crate-private functions the fuzz targets (`fuzz/`, FUZZING.md) exercise directly. Only
//! compiled with the `fuzzing` feature, which nothing but the fuzz crate turns on.

/// How a notification's headers are stored in the inbox, and how recovery reads them back
/// (a recovered notification must verify as it did on arrival).
pub use crate::payments::notify::{headers_from_json, headers_json};
