//! Cutting one fuzz input into parts. Text formats (lines, `Name: value` headers) keep the
//! seeds readable and let AFL's text mutations (dictionary tokens, splicing) do useful work.

use paydesk_core::provider::HeaderMap;

/// The first line (without `\n`) and the rest.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(p) => (&data[..p], &data[p + 1..]),
        None => (data, &[]),
    }
}

/// `n` lines, then the rest; missing lines are empty.
pub fn lines<const N: usize>(mut data: &[u8]) -> ([&[u8]; N], &[u8]) {
    let mut out: [&[u8]; N] = [&[]; N];
    for slot in &mut out {
        let (line, rest) = split_line(data);
        *slot = line;
        data = rest;
    }
    (out, data)
}

/// An HTTP head and body as `Name: value` lines, a blank line, then the body — the way
/// the request reaches the notify route. Lines that are not valid header names or values
/// are dropped (hyper would not have delivered them); repeated names are kept, in order,
/// as they are on the wire.
pub fn headers_and_body(data: &[u8]) -> (HeaderMap, &[u8]) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(p) => (&data[..p], &data[p + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) {
            headers.append(n, v);
        }
    }
    (headers, body)
}

/// The inverse of [`headers_and_body`], for writing seeds.
pub fn render_headers_and_body(headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}
