//! Stripe webhooks.
//!
//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`. Expected signature =
//! hex(HMAC-SHA256(key = the whole `whsec_…` string, message = `"{t}." + raw body`)). Any one
//! `v1` matching is enough (several are sent while a secret is rolled); other schemes are
//! ignored; comparison is constant-time; `t` must be within 300 s of now. Verification runs
//! on the raw bytes — a re-serialized JSON body would not match.

use serde_json::Value;

use crate::money::{Currency, Money};
use crate::provider::crypto::{ct_eq, hmac_sha256};
use crate::provider::{NotifyAck, NotifyEvent, ProviderError, VerifyError, json_str};

pub const HEADER: &str = "stripe-signature";
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The header value Stripe would send for `payload` at time `t` (sandbox and tests).
pub fn sign_header(secret: &str, t: i64, payload: &[u8]) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(expected_signature(secret, t, payload))
    )
}

fn expected_signature(secret: &str, t: i64, payload: &[u8]) -> [u8; 32] {
    let mut msg = format!("{t}.").into_bytes();
    msg.extend_from_slice(payload);
    hmac_sha256(secret.as_bytes(), &msg)
}

/// Verifies a `Stripe-Signature` header value over the raw payload.
pub fn verify(
    header: &str,
    payload: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), VerifyError> {
    verify_any(header, payload, &[secret], now, tolerance)
}

/// Like [`verify`], with several signing secrets accepted at once: while a webhook secret
/// is being rotated, events signed with the old or the new secret must both pass.
pub fn verify_any(
    header: &str,
    payload: &[u8],
    secrets: &[&str],
    now: i64,
    tolerance: i64,
) -> Result<(), VerifyError> {
    let mut t: Option<i64> = None;
    let mut v1: Vec<&str> = Vec::new();
    for item in header.split(',') {
        let Some((k, v)) = item.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" => {
                t = Some(
                    v.parse()
                        .map_err(|_| VerifyError::Malformed("Stripe-Signature t".into()))?,
                )
            }
            "v1" => v1.push(v),
            _ => {} // v0 (test-mode legacy) and unknown schemes are not trusted
        }
    }
    let t = t.ok_or(VerifyError::MissingField("t"))?;
    if v1.is_empty() {
        return Err(VerifyError::MissingField("v1"));
    }
    // `abs_diff`, not `(now - t).abs()`: `t` is the sender's text, and one near i64::MIN
    // overflowed the subtraction (a panic with overflow checks; in a release build a
    // wrapped difference that could even pass as fresh). See FUZZING.md, findings.
    if tolerance < 0 || now.abs_diff(t) > tolerance.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp);
    }
    let candidates: Vec<Vec<u8>> = v1.iter().filter_map(|c| hex::decode(c).ok()).collect();
    // Check every (secret, candidate) pair without early exit on the comparison itself.
    let mut ok = false;
    for secret in secrets {
        let expected = expected_signature(secret, t, payload);
        for bytes in &candidates {
            ok |= ct_eq(bytes, &expected);
        }
    }
    if ok {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

pub fn ack_success() -> NotifyAck {
    NotifyAck {
        status: 200,
        content_type: "application/json",
        body: r#"{"received":true}"#.to_string(),
    }
}

pub fn ack_failure(message: &str) -> NotifyAck {
    NotifyAck {
        status: 400,
        content_type: "application/json",
        body: serde_json::json!({ "error": message }).to_string(),
    }
}

fn money(obj: &Value, amount_field: &'static str) -> Result<Money, ProviderError> {
    let minor = obj
        .get(amount_field)
        .and_then(Value::as_i64)
        .ok_or(VerifyError::MissingField("amount"))?;
    let cur = json_str(obj, "currency").ok_or(VerifyError::MissingField("currency"))?;
    Ok(Money::new(minor, Currency::from_code(cur)?)?)
}

fn meta<'v>(obj: &'v Value, key: &str) -> Option<&'v str> {
    obj.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
}

/// Interprets a verified event body.
pub fn parse_event(payload: &[u8]) -> Result<NotifyEvent, ProviderError> {
    let ev: Value =
        serde_json::from_slice(payload).map_err(|_| VerifyError::Malformed("event body".into()))?;
    let kind = json_str(&ev, "type").ok_or(VerifyError::MissingField("type"))?;
    let obj = ev
        .get("data")
        .and_then(|d| d.get("object"))
        .ok_or(VerifyError::MissingField("data.object"))?;
    let ignored = || {
        Ok(NotifyEvent::Ignored {
            kind: format!("stripe {kind}"),
        })
    };
    match kind {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            // `completed` with `unpaid` means an async method is still settling.
            if json_str(obj, "payment_status") != Some("paid") {
                return ignored();
            }
            let Some(out_trade_no) = json_str(obj, "client_reference_id") else {
                return ignored(); // not one of ours
            };
            Ok(NotifyEvent::Paid {
                out_trade_no: out_trade_no.to_string(),
                trade_no: json_str(obj, "payment_intent")
                    .ok_or(VerifyError::MissingField("payment_intent"))?
                    .to_string(),
                amount: money(obj, "amount_total")?,
            })
        }
        "checkout.session.expired" => match json_str(obj, "client_reference_id") {
            Some(o) => Ok(NotifyEvent::Closed {
                out_trade_no: o.to_string(),
                trade_no: json_str(obj, "payment_intent").map(str::to_string),
            }),
            None => ignored(),
        },
        "refund.created" | "refund.updated" | "charge.refund.updated" | "refund.failed" => {
            let (Some(out_trade_no), Some(out_refund_no)) =
                (meta(obj, "out_trade_no"), meta(obj, "out_refund_no"))
            else {
                return ignored();
            };
            let refund_id = json_str(obj, "id").map(str::to_string);
            match json_str(obj, "status") {
                Some("succeeded") => Ok(NotifyEvent::RefundSucceeded {
                    out_trade_no: out_trade_no.into(),
                    out_refund_no: out_refund_no.into(),
                    refund_id,
                    amount: Some(money(obj, "amount")?),
                    refunded_total: None,
                }),
                Some("failed") | Some("canceled") => Ok(NotifyEvent::RefundFailed {
                    out_trade_no: out_trade_no.into(),
                    out_refund_no: out_refund_no.into(),
                    refund_id,
                    amount: money(obj, "amount").ok(),
                }),
                _ => ignored(),
            }
        }
        _ => ignored(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_700_000_000;

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        for t in [i64::MIN, i64::MIN + NOW, i64::MAX, -1] {
            let header = sign_header(SECRET, t, b"{}");
            assert_eq!(
                verify(&header, b"{}", SECRET, NOW, DEFAULT_TOLERANCE_SECS),
                Err(VerifyError::StaleTimestamp),
                "{t}"
            );
        }
        // Unsigned headers with the smallest timestamp and the one AFL++ found.
        for header in [
            "t=-9223372036854775808,v1=00",
            "t=-9223372036854775800, v1=00ff",
        ] {
            assert_eq!(
                verify(header, b"{}", SECRET, NOW, 300),
                Err(VerifyError::StaleTimestamp)
            );
        }
        let fresh = sign_header(SECRET, NOW - 300, b"{}");
        assert_eq!(verify(&fresh, b"{}", SECRET, NOW, 300), Ok(()));
        assert_eq!(
            verify(&fresh, b"{}", SECRET, NOW, -1),
            Err(VerifyError::StaleTimestamp)
        );
    }
}
