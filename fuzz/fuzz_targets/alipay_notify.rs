//! Alipay asynchronous notifications: the raw `POST` body through `AlipayClient::parse_notify`
//! (form-decode once, charset, `sign_type`, RSA2 over the sorted string, `app_id`, amounts),
//! exactly the call the notify route makes.
//!
//! Checked beyond "no panic":
//! - decoding is exact: `decode(encode(pairs)) == pairs` for every body that decodes, so a
//!   verified text is the text Alipay signed (no double decoding, no lossy replacement);
//! - the string to sign does not depend on parameter order (Alipay sorts);
//! - an accepted notification carries this channel's `app_id` and an amount that is the
//!   exact decimal of its `total_amount` field.

use std::sync::LazyLock;

use paydesk_core::money::{Currency, Money};
use paydesk_core::provider::alipay::AlipayClient;
use paydesk_core::provider::alipay::sign::{SignScope, string_to_sign};
use paydesk_core::provider::{HeaderMap, NotifyEvent, Provider, form};
use paydesk_fuzz::fixtures::{self, ALIPAY_APP_ID, NOW};

static CLIENT: LazyLock<AlipayClient> = LazyLock::new(fixtures::alipay_client);
static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(fixtures::runtime);

fn check(body: &[u8]) {
    let pairs = form::decode(body);
    if let Ok(pairs) = &pairs {
        let again = form::decode(form::encode(pairs).as_bytes());
        assert_eq!(again.as_ref(), Ok(pairs), "form decode/encode is not exact");
        let reversed: Vec<_> = pairs.iter().rev().cloned().collect();
        assert_eq!(
            string_to_sign(pairs, SignScope::Notify),
            string_to_sign(&reversed, SignScope::Notify),
            "string to sign depends on parameter order"
        );
    }
    let result = RT.block_on(CLIENT.parse_notify(&HeaderMap::new(), body, NOW));
    let Ok(event) = result else {
        return;
    };
    // Accepted: it decoded, and the facts come from the decoded form.
    let Ok(pairs) = pairs else {
        panic!("accepted a body the form decoder refuses");
    };
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(pk, v)| pk == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("app_id"), Some(ALIPAY_APP_ID));
    if let NotifyEvent::Paid {
        amount,
        out_trade_no,
        ..
    } = &event
    {
        assert_eq!(field("out_trade_no"), Some(out_trade_no.as_str()));
        let total = field("total_amount").map(|t| Money::parse_decimal(t, Currency::Cny));
        assert_eq!(total, Some(Ok(*amount)));
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
