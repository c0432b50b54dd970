//! Stripe webhooks: the `Stripe-Signature` header (`t=…,v1=…[,v1=…]`) and the raw event
//! JSON through `StripeClient::parse_notify` (header parse, 300 s window, constant-time
//! HMAC-SHA256 check against the current and the rolled secret, event interpretation).
//!
//! Input: the header value on the first line, the body after it.
//!
//! Each body runs twice: with the fuzzer's header (what an attacker controls), and signed
//! the way Stripe signs it (so the event parser sees every mutated body, not only the ones
//! whose signature happens to match). Checked beyond "no panic": a correctly signed body
//! never fails verification, with either secret; the fuzzer's header is accepted only if it
//! carries a correct `v1`; an error never carries a webhook secret the input did not.

use std::sync::LazyLock;

use paydesk_core::provider::stripe::StripeClient;
use paydesk_core::provider::stripe::webhook::{self, DEFAULT_TOLERANCE_SECS};
use paydesk_core::provider::{HeaderMap, Provider, ProviderError, VerifyError};
use paydesk_fuzz::fixtures::{self, NOW, STRIPE_OLD_SECRET, STRIPE_SECRET};
use paydesk_fuzz::input::split_line;

static CLIENT: LazyLock<StripeClient> = LazyLock::new(fixtures::stripe_client);
static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(fixtures::runtime);

fn headers(sig: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_bytes(sig) {
        h.insert(webhook::HEADER, v);
    }
    h
}

fn signature_failure(e: &ProviderError) -> bool {
    matches!(
        e,
        ProviderError::Verify(
            VerifyError::BadSignature
                | VerifyError::StaleTimestamp
                | VerifyError::MissingField("t" | "v1")
                | VerifyError::MissingHeader(_)
        )
    )
}

fn check(data: &[u8]) {
    let (sig, body) = split_line(data);
    let secret_in_input = |s: &str| data.windows(s.len()).any(|w| w == s.as_bytes());

    let as_sent = RT.block_on(CLIENT.parse_notify(&headers(sig), body, NOW));
    match &as_sent {
        Ok(_) => {
            // An independent reading of the header: the last `t`, within the window, and a
            // `v1` equal to the HMAC under one of the two secrets.
            let sig = std::str::from_utf8(sig).expect("accepted header is text");
            let items: Vec<(&str, &str)> = sig
                .split(',')
                .filter_map(|i| i.trim().split_once('='))
                .collect();
            let t: i64 = items
                .iter()
                .rev()
                .find(|(k, _)| *k == "t")
                .and_then(|(_, v)| v.parse().ok())
                .expect("accepted without a timestamp");
            assert!(NOW.abs_diff(t) <= 300, "accepted a stale timestamp {t}");
            let matches = [STRIPE_SECRET, STRIPE_OLD_SECRET].iter().any(|s| {
                let header = webhook::sign_header(s, t, body);
                let want = header.rsplit_once("v1=").map_or("", |(_, v)| v);
                items
                    .iter()
                    .any(|(k, v)| *k == "v1" && v.eq_ignore_ascii_case(want))
            });
            assert!(matches, "accepted without a correct v1");
        }
        Err(e) => {
            let text = e.to_string();
            for s in [STRIPE_SECRET, STRIPE_OLD_SECRET] {
                assert!(
                    secret_in_input(s) || !text.contains(s),
                    "an error carries a webhook secret"
                );
            }
        }
    }

    for secret in [STRIPE_SECRET, STRIPE_OLD_SECRET] {
        let signed = webhook::sign_header(secret, NOW, body);
        assert_eq!(
            webhook::verify(&signed, body, secret, NOW, DEFAULT_TOLERANCE_SECS),
            Ok(()),
            "Stripe's own signature does not verify"
        );
        let result = RT.block_on(CLIENT.parse_notify(&headers(signed.as_bytes()), body, NOW));
        if let Err(e) = &result {
            assert!(!signature_failure(e), "signed body refused: {e}");
        }
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
