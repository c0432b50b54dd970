//! `POST /gateway.do`, checked like Alipay does (charset, `app_id`, `sign_type`, the
//! certificate SNs in certificate mode, the RSA2 signature, `method`, `biz_content`), then
//! dispatched to the method's handler in `methods`.

use std::collections::HashMap;

use serde_json::Value;

use super::AlipaySandbox;
use super::reply::{Reply, fail};
use crate::provider::alipay::sign::{SignScope, string_to_sign};
use crate::provider::form;

type Params<'a> = HashMap<&'a str, &'a str>;

impl AlipaySandbox {
    pub(super) async fn handle(&self, body: &[u8]) -> Reply {
        let Ok(pairs) = form::decode(body) else {
            return fail(None, "40002", "isv.invalid-parameter", "请求参数格式错误");
        };
        let p: Params<'_> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let method = match self.authenticate(&pairs, &p) {
            Ok(method) => method,
            Err(reply) => return reply,
        };
        let biz = match biz_content(&p, method) {
            Ok(biz) => biz,
            Err(reply) => return reply,
        };
        self.dispatch(method, &biz, &p).await
    }

    /// One handler per gateway method.
    async fn dispatch(&self, method: &str, biz: &Value, p: &Params<'_>) -> Reply {
        match method {
            "alipay.trade.precreate" => {
                let notify_url = p.get("notify_url").copied().unwrap_or("");
                self.precreate(method, biz, notify_url).await
            }
            "alipay.trade.pay" => {
                let notify_url = p.get("notify_url").copied().unwrap_or("");
                self.trade_pay(method, biz, notify_url).await
            }
            "alipay.trade.cancel" => {
                let no = biz
                    .get("out_trade_no")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                self.trade_cancel(method, no).await
            }
            "alipay.trade.query" => self.query(method, biz).await,
            "alipay.trade.close" => self.close(method, biz).await,
            "alipay.trade.refund" => self.refund(method, biz).await,
            "alipay.trade.fastpay.refund.query" => self.refund_query(method, biz).await,
            _ => fail(
                Some(method),
                "40004",
                "isv.invalid-method",
                "不存在的方法名",
            ),
        }
    }

    /// The checks every call passes before its method runs; returns the method.
    fn authenticate<'a>(
        &self,
        pairs: &[(String, String)],
        p: &Params<'a>,
    ) -> Result<&'a str, Reply> {
        let method = p.get("method").copied();
        if let Some(cs) = p.get("charset")
            && !cs.eq_ignore_ascii_case("utf-8")
        {
            return Err(fail(method, "40002", "isv.invalid-charset", "字符集错误"));
        }
        if p.get("app_id").copied() != Some(self.app_id.as_str()) {
            return Err(fail(
                method,
                "40002",
                "isv.invalid-app-id",
                "无效的AppID参数",
            ));
        }
        if p.get("sign_type").copied() != Some("RSA2") {
            return Err(fail(
                method,
                "40002",
                "isv.invalid-signature-type",
                "无效的签名类型",
            ));
        }
        self.check_cert_sns(p, method)?;
        let sign = p.get("sign").copied().unwrap_or("");
        let sts = string_to_sign(pairs, SignScope::Request);
        if self
            .app_public_key
            .verify_b64(sts.as_bytes(), sign)
            .is_err()
        {
            return Err(fail(method, "40002", "isv.invalid-signature", "验签出错"));
        }
        let Some(method) = method else {
            return Err(fail(None, "40002", "isv.missing-method", "缺少方法名参数"));
        };
        Ok(method)
    }

    /// Certificate mode: the request names the app certificate and Alipay's root by SN.
    fn check_cert_sns(&self, p: &Params<'_>, method: Option<&str>) -> Result<(), Reply> {
        if let Some(c) = &self.cert_mode {
            let expected = [
                ("app_cert_sn", &c.app_cert_sn, "应用公钥证书序列号不匹配"),
                (
                    "alipay_root_cert_sn",
                    &c.root_cert_sn,
                    "支付宝根证书序列号不匹配",
                ),
            ];
            for (param, sn, text) in expected {
                if p.get(param).copied() != Some(sn.as_str()) {
                    return Err(fail(
                        method,
                        "40002",
                        &format!("isv.invalid-{}", param.replace('_', "-")),
                        text,
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The call's `biz_content`, parsed.
fn biz_content(p: &Params<'_>, method: &str) -> Result<Value, Reply> {
    p.get("biz_content")
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .ok_or_else(|| {
            fail(
                Some(method),
                "40002",
                "isv.invalid-parameter",
                "biz_content 不合法",
            )
        })
}
