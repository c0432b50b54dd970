//! What every v2 answer must pass before any of its fields is believed, in this order:
//! 1. HTTP 200 with a v2 XML body;
//! 2. `return_code`: `FAIL` means the gateway refused the request itself (bad signature,
//!    malformed XML, …); such answers carry no `sign` and become
//!    [`ProviderError::Business`] with code `FAIL` and the `return_msg`;
//! 3. `sign`, with the channel's sign type (WeChat signs answers the way the request was
//!    signed);
//! 4. `appid` and `mch_id` equal to the channel's ([`VerifyError::WrongAccount`]);
//! 5. `result_code`: `FAIL` becomes [`ProviderError::Business`] with the `err_code`.

use super::WechatPayV2Config;
use super::sign::verify;
use super::xml::{self, XmlMap};
use crate::money::{Currency, Money};
use crate::provider::http::IncomingResponse;
use crate::provider::{ProviderError, VerifyError};

/// A message's `appid` and `mch_id` must be the channel's (both are always present in v2
/// answers and notifications).
pub fn check_account(m: &XmlMap, cfg: &WechatPayV2Config) -> Result<(), VerifyError> {
    if m.require("appid")? != cfg.appid {
        return Err(VerifyError::WrongAccount("appid"));
    }
    if m.require("mch_id")? != cfg.mch_id {
        return Err(VerifyError::WrongAccount("mch_id"));
    }
    Ok(())
}

/// Steps 1–4 of the module docs: the answer is authentic and for this channel. Business
/// failures (`result_code=FAIL`) are returned as they are, for callers that treat some
/// codes as outcomes (`REFUNDNOTEXIST`, `ORDERCLOSED`).
pub fn authentic(
    resp: &IncomingResponse,
    cfg: &WechatPayV2Config,
) -> Result<XmlMap, ProviderError> {
    if !resp.is_success() {
        return Err(ProviderError::Http {
            status: resp.status,
            code: None,
            message: String::new(),
        });
    }
    let m = xml::parse(&resp.body)?;
    match m.get("return_code") {
        Some("SUCCESS") => {}
        Some("FAIL") => {
            return Err(ProviderError::Business {
                code: "FAIL".into(),
                sub_code: None,
                message: m.get("return_msg").unwrap_or("").to_string(),
            });
        }
        _ => return Err(ProviderError::Protocol("answer without return_code".into())),
    }
    verify(&m, cfg.sign_type, &cfg.api_key)?;
    check_account(&m, cfg)?;
    Ok(m)
}

/// The business error of an authentic answer whose `result_code` is not `SUCCESS`.
pub fn business_error(m: &XmlMap) -> Option<ProviderError> {
    match m.get("result_code") {
        Some("SUCCESS") => None,
        Some("FAIL") => Some(ProviderError::Business {
            code: m.non_empty("err_code").unwrap_or("FAIL").to_string(),
            sub_code: None,
            message: m.get("err_code_des").unwrap_or("").to_string(),
        }),
        _ => Some(ProviderError::Protocol("answer without result_code".into())),
    }
}

/// Steps 1–5: an authentic, successful answer.
pub fn successful(
    resp: &IncomingResponse,
    cfg: &WechatPayV2Config,
) -> Result<XmlMap, ProviderError> {
    let m = authentic(resp, cfg)?;
    match business_error(&m) {
        Some(e) => Err(e),
        None => Ok(m),
    }
}

/// A fen amount field (`total_fee`, `refund_fee_0`, …): decimal digits only, in the
/// message's `fee_type` (CNY when absent, as v2 defines).
pub fn fee(m: &XmlMap, field: &'static str, fee_type: &str) -> Result<Money, ProviderError> {
    let raw = m.require(field)?;
    if !raw.bytes().all(|b| b.is_ascii_digit()) || raw.len() > 15 {
        return Err(VerifyError::Malformed(format!("{field} is not an amount in fen")).into());
    }
    let minor: i64 = raw
        .parse()
        .map_err(|_| VerifyError::Malformed(format!("{field} is not an amount in fen")))?;
    let currency = m.non_empty(fee_type).unwrap_or("CNY");
    Ok(Money::new(minor, Currency::from_code(currency)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::secret::SecretString;
    use crate::provider::wechatpay_v2::SignType;
    use crate::provider::wechatpay_v2::sign::sign_map;

    fn cfg() -> WechatPayV2Config {
        WechatPayV2Config {
            channel: "t".into(),
            appid: "wx1".into(),
            mch_id: "100".into(),
            api_key: SecretString::new("k".repeat(32)),
            sign_type: SignType::Md5,
            base_url: String::new(),
            spbill_create_ip: "127.0.0.1".into(),
            identity: None,
            root_ca_pem: None,
        }
    }

    fn resp(m: &XmlMap) -> IncomingResponse {
        IncomingResponse {
            status: 200,
            headers: Default::default(),
            body: m.to_xml().into_bytes(),
        }
    }

    fn answer(appid: &str) -> XmlMap {
        let mut m = XmlMap::new();
        for (k, v) in [("return_code", "SUCCESS"), ("result_code", "SUCCESS")] {
            m.set(k, v);
        }
        m.set("appid", appid);
        m.set("mch_id", "100");
        m.set("total_fee", "12");
        m
    }

    #[test]
    fn accepts_signed_answer_and_refuses_tampered_or_foreign() {
        let c = cfg();
        let mut ok = answer("wx1");
        sign_map(&mut ok, SignType::Md5, &c.api_key);
        let m = successful(&resp(&ok), &c).expect("accepted");
        assert_eq!(fee(&m, "total_fee", "fee_type").map(|f| f.minor()), Ok(12));

        let mut tampered = ok.clone();
        tampered.set("total_fee", "1");
        assert_eq!(
            successful(&resp(&tampered), &c),
            Err(ProviderError::Verify(VerifyError::BadSignature))
        );
        let mut foreign = answer("wx2");
        sign_map(&mut foreign, SignType::Md5, &c.api_key);
        assert_eq!(
            successful(&resp(&foreign), &c),
            Err(ProviderError::Verify(VerifyError::WrongAccount("appid")))
        );
        let mut unsigned = ok.clone();
        unsigned.remove("sign");
        assert!(successful(&resp(&unsigned), &c).is_err());
    }

    #[test]
    fn maps_return_and_result_failures() {
        let c = cfg();
        let mut fail = XmlMap::new();
        fail.set("return_code", "FAIL");
        fail.set("return_msg", "签名错误");
        assert!(matches!(
            successful(&resp(&fail), &c),
            Err(ProviderError::Business { code, message, .. }) if code == "FAIL" && message == "签名错误"
        ));
        let mut biz = answer("wx1");
        biz.set("result_code", "FAIL");
        biz.set("err_code", "ORDERPAID");
        sign_map(&mut biz, SignType::Md5, &c.api_key);
        assert!(matches!(
            successful(&resp(&biz), &c),
            Err(ProviderError::Business { code, .. }) if code == "ORDERPAID"
        ));
        let mut bad_fee = answer("wx1");
        bad_fee.set("total_fee", "-1");
        assert!(fee(&bad_fee, "total_fee", "fee_type").is_err());
    }
}
