//! Property tests: Alipay string-to-sign is independent of parameter order and survives any
//! UTF-8 subject through form encoding, signing and verification; money round-trips.

mod provider_fixtures;

use std::collections::BTreeMap;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::notify;
use paydesk_core::provider::alipay::sign::{SignScope, string_to_sign};
use paydesk_core::provider::alipay::{AlipayConfig, AlipayKeys};
use paydesk_core::provider::crypto::RsaSigner;
use paydesk_core::provider::form;
use proptest::prelude::*;

fn signer() -> RsaSigner {
    RsaSigner::from_pem_or_base64(&provider_fixtures::s(
        "alipay_notify",
        "alipay_private_key_pem",
    ))
    .expect("key")
}

/// Unique keys (Alipay parameter names) with arbitrary UTF-8 values.
fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[a-z][a-z_]{0,15}", any::<String>(), 0..12)
        .prop_map(|m: BTreeMap<String, String>| m.into_iter().collect())
}

proptest! {
    #[test]
    fn string_to_sign_ignores_order(ps in params().prop_flat_map(|v| {
        let n = v.len();
        (Just(v.clone()), Just(v).prop_shuffle(), any::<bool>(), 0..=n)
    })) {
        let (original, shuffled, notify_scope, _) = ps;
        let scope = if notify_scope { SignScope::Notify } else { SignScope::Request };
        prop_assert_eq!(string_to_sign(&original, scope), string_to_sign(&shuffled, scope));
    }

    #[test]
    fn string_to_sign_survives_form_round_trip(ps in params(), subject in any::<String>()) {
        let mut ps = ps;
        ps.retain(|(k, _)| k != "subject");
        ps.push(("subject".into(), subject));
        let body = form::encode(&ps);
        let decoded = form::decode(body.as_bytes()).expect("decodes");
        prop_assert_eq!(
            string_to_sign(&decoded, SignScope::Request),
            string_to_sign(&ps, SignScope::Request)
        );
    }

    #[test]
    fn money_round_trips(minor in 0i64..=i64::MAX, idx in 0usize..Currency::ALL.len()) {
        let c = Currency::ALL[idx];
        let m = Money::new(minor, c).expect("non-negative");
        prop_assert_eq!(Money::parse_decimal(&m.to_decimal_string(), c), Ok(m));
    }
}

proptest! {
    // RSA signing is comparatively slow in debug builds; fewer cases.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_utf8_subject_signs_and_verifies_as_a_notify(subject in any::<String>()) {
        let key = signer();
        let cfg = AlipayConfig {
            channel: "prop".into(),
            app_id: "2021000000000000".into(),
            app_private_key: key.clone(),
            keys: AlipayKeys::PublicKey(key.verifier()),
            gateway_url: "http://127.0.0.1:9/gateway.do".into(),
        };
        let mut ps: Vec<(String, String)> = vec![
            ("app_id".into(), cfg.app_id.clone()),
            ("charset".into(), "utf-8".into()),
            ("out_trade_no".into(), "ORDER1".into()),
            ("subject".into(), subject.clone()),
            ("total_amount".into(), "1234.50".into()),
            ("trade_no".into(), "T1".into()),
            ("trade_status".into(), "TRADE_SUCCESS".into()),
            ("sign_type".into(), "RSA2".into()),
        ];
        let sign = key.sign_b64(string_to_sign(&ps, SignScope::Notify).as_bytes());
        ps.push(("sign".into(), sign));
        let body = form::encode(&ps);
        let verified = notify::verify(body.as_bytes(), &cfg).expect("verifies");
        prop_assert_eq!(verified.params.get("subject").map(String::as_str), Some(subject.as_str()));
    }
}
