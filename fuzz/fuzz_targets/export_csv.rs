//! The CSV export's rows: `routes::export::line` (RFC 4180 quoting, formula defusing, exact
//! decimal amounts, ISO 8601 times) on orders whose text fields — order numbers, channel,
//! subject, creator: what merchants, API callers and providers choose — come from the fuzzer.
//!
//! Input: five text fields separated by 0xFF bytes (never part of UTF-8, so any text,
//! newlines and quotes included, fits), then the numbers: amount, refunded, created,
//! paid and closed times (8 bytes each, little-endian), a status byte and a currency byte.
//!
//! Checked against the `csv` crate as an independent reader: the header and the row read
//! back as exactly 12 fields; each text field reads back as the original (with the `'`
//! that defuses a formula); no field starts the way a spreadsheet formula does.

use paydesk_core::money::{Currency, Money};
use paydesk_core::order::OrderStatus;
use paydesk_core::store::Order;
use paydesk_server::routes::export::{HEADER, line};

fn text(part: Option<&[u8]>) -> String {
    String::from_utf8_lossy(part.unwrap_or_default()).into_owned()
}

fn defused(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn int(bytes: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    for (i, slot) in b.iter_mut().enumerate() {
        *slot = bytes.get(at + i).copied().unwrap_or(0);
    }
    i64::from_le_bytes(b)
}

fn check(data: &[u8]) {
    let mut parts = data.splitn(6, |b| *b == 0xFF);
    let out_trade_no = text(parts.next());
    let provider_trade_no = text(parts.next());
    let channel = text(parts.next());
    let subject = text(parts.next());
    let creator = text(parts.next());
    let nums = parts.next().unwrap_or_default();
    let flags = nums.get(40).copied().unwrap_or(0);
    let currency = Currency::ALL[usize::from(nums.get(41).copied().unwrap_or(0)) % 9];
    let Ok(amount) = Money::new(int(nums, 0), currency) else {
        return; // a stored order never has a negative amount
    };
    let status = OrderStatus::ALL[usize::from(flags) % OrderStatus::ALL.len()];
    let order = Order {
        id: "0193-fuzz".into(),
        out_trade_no: out_trade_no.clone(),
        channel: channel.clone(),
        amount,
        subject: subject.clone(),
        status,
        provider_trade_no: (flags & 0x10 != 0).then(|| provider_trade_no.clone()),
        qr_code: None,
        creator: creator.clone(),
        merchant_notify_url: None,
        created_at: int(nums, 16),
        updated_at: int(nums, 16),
        expires_at: 0,
        paid_at: (flags & 0x20 != 0).then(|| int(nums, 24)),
        closed_at: (flags & 0x40 != 0).then(|| int(nums, 32)),
        refunded_minor: int(nums, 8),
        refund_reserved_minor: 0,
        version: 1,
        provider_ref: None,
        api_key_id: None,
        next_query_at: None,
        query_count: 0,
        merchant_no: None,
    };

    let mut csv_text = HEADER.to_string();
    line(&mut csv_text, &order);
    assert!(csv_text.ends_with("\r\n"), "a row must end with CRLF");

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(csv_text.as_bytes());
    let header_len = reader.headers().map(|h| h.len()).unwrap_or(0);
    assert_eq!(header_len, 12);
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the export is not valid CSV: {e}\n{csv_text:?}"));
    assert_eq!(rows.len(), 1, "one order must be one row: {csv_text:?}");
    let row = &rows[0];
    assert_eq!(row.len(), 12);
    let expect_provider = order
        .provider_trade_no
        .as_deref()
        .map_or(String::new(), defused);
    let texts = [
        (0, defused(&out_trade_no)),
        (1, expect_provider),
        (3, defused(&channel)),
        (7, defused(&subject)),
        (8, defused(&creator)),
    ];
    for (i, want) in texts {
        assert_eq!(&row[i], want.as_str(), "field {i} does not read back");
    }
    assert_eq!(&row[2], status.as_str());
    assert_eq!(&row[4], currency.code());
    assert_eq!(&row[5], amount.to_decimal_string());
    for f in row.iter() {
        assert!(
            !f.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a field a spreadsheet would run as a formula: {f:?}"
        );
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
