//! WeChat Pay v3 notifications as they reach the notify route: `Wechatpay-*` headers and
//! the raw JSON body, through `WechatPayClient::parse_notify` (signature-type header,
//! probe signatures, the 5-minute window, key choice by serial — platform certificate or
//! `PUB_KEY_ID_…` public key — RSA over `TS\nNONCE\nBODY\n`, then the envelope JSON, the
//! AEAD_AES_256_GCM resource and the account checks).
//!
//! Input: `Name: value` header lines, a blank line, the body.
//!
//! Checked beyond "no panic":
//! - recovery equals arrival: the headers as the inbox stores them (`headers_json`) and reads
//!   them back (`headers_from_json`) verify to the same outcome as the original headers,
//!   when no header name repeats (see FUZZING.md for repeated names);
//! - an error never carries the APIv3 key unless the input itself did.

use std::sync::LazyLock;

use paydesk_core::fuzzing::{headers_from_json, headers_json};
use paydesk_core::provider::Provider;
use paydesk_core::provider::wechatpay::WechatPayClient;
use paydesk_fuzz::fixtures::{self, APIV3_KEY, NOW};
use paydesk_fuzz::input::headers_and_body;

static CLIENT: LazyLock<WechatPayClient> = LazyLock::new(fixtures::wechat_client);
static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(fixtures::runtime);

fn check(data: &[u8]) {
    let (headers, body) = headers_and_body(data);
    let arrival = RT.block_on(CLIENT.parse_notify(&headers, body, NOW));
    if let Err(e) = &arrival {
        let key_in_input = data
            .windows(APIV3_KEY.len())
            .any(|w| w == APIV3_KEY.as_bytes());
        assert!(
            key_in_input || !e.to_string().contains(APIV3_KEY),
            "an error message carries the APIv3 key"
        );
    }
    let unique_names = headers.keys_len() == headers.len();
    if unique_names {
        let stored = headers_from_json(&headers_json(&headers));
        let recovered = RT.block_on(CLIENT.parse_notify(&stored, body, NOW));
        assert_eq!(
            arrival, recovered,
            "a recovered notification verifies differently"
        );
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
