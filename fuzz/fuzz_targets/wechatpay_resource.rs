//! WeChat Pay notification bodies past the signature: the envelope JSON, AEAD_AES_256_GCM
//! decryption of `resource` with the APIv3 key, and the decrypted resource's account and
//! amount fields (`notify::parse_verified`, which `parse_notify` calls once the signature
//! verified). Mutated ciphertext never authenticates, so to reach the resource parser the
//! target encrypts the fuzzer's plaintext itself, exactly as WeChat Pay does.
//!
//! Input, either
//! - a body starting with `{`: given to `parse_verified` as it is, or
//! - lines `event_type`, `nonce`, `associated_data`, then the resource plaintext: encrypted
//!   with the channel's APIv3 key into an envelope.
//!
//! Checked beyond "no panic": encryption round-trips; an event accepted for this merchant
//! names its `mchid` (and `appid`, when present); a payment's amount is the resource's
//! `amount.total` in minor units.

use std::sync::LazyLock;

use paydesk_core::provider::NotifyEvent;
use paydesk_core::provider::wechatpay::WechatPayConfig;
use paydesk_core::provider::wechatpay::notify::parse_verified;
use paydesk_core::provider::wechatpay::resource::{decrypt, encrypt};
use paydesk_fuzz::fixtures::{self, APIV3_KEY, WECHAT_APPID, WECHAT_MCHID};
use paydesk_fuzz::input::lines;
use serde_json::{Value, json};

static CFG: LazyLock<WechatPayConfig> = LazyLock::new(fixtures::wechat_cfg);

fn check(data: &[u8]) {
    if data.first() == Some(&b'{') {
        let _ = parse_verified(data, &CFG);
        return;
    }
    let ([event_type, nonce, aad], plaintext) = lines::<3>(data);
    let (Ok(nonce), Ok(aad)) = (std::str::from_utf8(nonce), std::str::from_utf8(aad)) else {
        return;
    };
    let key = APIV3_KEY.as_bytes();
    let Ok(resource) = encrypt(key, nonce, aad, plaintext, Some("transaction")) else {
        return; // a nonce that is not 12 bytes: WeChat Pay never sends one
    };
    assert_eq!(
        decrypt(key, &resource).as_deref(),
        Ok(plaintext),
        "AES-GCM does not round-trip"
    );
    let body = json!({
        "id": "EV-fuzz",
        "create_time": "2023-11-15T06:13:20+08:00",
        "resource_type": "encrypt-resource",
        "event_type": String::from_utf8_lossy(event_type),
        "summary": "支付成功",
        "resource": resource,
    })
    .to_string();
    let Ok(event) = parse_verified(body.as_bytes(), &CFG) else {
        return;
    };
    if matches!(event, NotifyEvent::Ignored { .. }) {
        return;
    }
    let r: Value = serde_json::from_slice(plaintext).expect("accepted resource is JSON");
    assert_eq!(
        r["mchid"].as_str(),
        Some(WECHAT_MCHID),
        "another merchant's event"
    );
    if let Some(appid) = r.get("appid").and_then(Value::as_str) {
        assert_eq!(appid, WECHAT_APPID, "another app's event");
    }
    if let NotifyEvent::Paid { amount, .. } = event {
        assert_eq!(Some(amount.minor()), r["amount"]["total"].as_i64());
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
