//! [`WechatPayV2Client`]: one v2 merchant channel. Its async methods have exactly the
//! signatures of [`Provider`](crate::provider::Provider), so `impl Provider` is plain
//! delegation (not written here: `ProviderKind` has no v2 variant yet).

use std::sync::Arc;

use super::answer::{authentic, business_error, fee};
use super::sign::sign_map;
use super::transport::Transport;
use super::xml::XmlMap;
use super::{WechatPayV2Config, beijing_compact, notify, truncate_bytes, valid_number};
use crate::money::{Currency, Money};
use crate::provider::crypto::random_alnum;
use crate::provider::http::{HttpSettings, Retry};
use crate::provider::{
    CallSink, CreateQrRequest, HeaderMap, NotifyAck, NotifyEvent, ProviderError,
    ProviderRefundRequest, ProviderRefundStatus, QrCheckout, RefundRef, RefundState, SharedClock,
    TradeRef, TradeState, TradeStatus,
};

pub const UNIFIED_ORDER_PATH: &str = "/pay/unifiedorder";
pub const ORDER_QUERY_PATH: &str = "/pay/orderquery";
pub const CLOSE_ORDER_PATH: &str = "/pay/closeorder";
pub const REFUND_PATH: &str = "/secapi/pay/refund";
pub const REFUND_QUERY_PATH: &str = "/pay/refundquery";
pub const REVERSE_PATH: &str = "/secapi/pay/reverse";

pub struct WechatPayV2Client {
    cfg: WechatPayV2Config,
    transport: Transport,
    clock: SharedClock,
}

impl std::fmt::Debug for WechatPayV2Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayV2Client")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// v2 charges in fen of CNY (`fee_type` CNY) for domestic merchants.
pub(super) fn cny_fen(m: &Money) -> Result<String, ProviderError> {
    if m.currency() != Currency::Cny {
        return Err(ProviderError::Unsupported(
            "wechat pay v2 charges in CNY only",
        ));
    }
    Ok(m.minor().to_string())
}

pub(super) fn number(s: &str, max: usize) -> Result<&str, ProviderError> {
    if valid_number(s, max) {
        Ok(s)
    } else {
        Err(ProviderError::Config(format!(
            "order/refund number must match [0-9A-Za-z_-|*]{{1,{max}}}"
        )))
    }
}

fn refund_state(raw: &str) -> RefundState {
    match raw {
        "SUCCESS" => RefundState::Succeeded,
        "PROCESSING" => RefundState::Processing,
        // CHANGE: the refund failed at the bank and needs the merchant platform;
        // REFUNDCLOSE: closed. Neither will pay out by itself.
        "CHANGE" | "REFUNDCLOSE" => RefundState::Failed,
        other => RefundState::Other(other.to_string()),
    }
}

impl WechatPayV2Client {
    pub fn new(
        cfg: WechatPayV2Config,
        settings: HttpSettings,
        sink: Arc<dyn CallSink>,
        clock: SharedClock,
    ) -> Result<WechatPayV2Client, ProviderError> {
        if cfg.api_key.expose().len() != 32 {
            return Err(ProviderError::Config(
                "API key must be 32 characters".into(),
            ));
        }
        if cfg.appid.is_empty() || cfg.mch_id.is_empty() {
            return Err(ProviderError::Config(
                "appid and mch_id are required".into(),
            ));
        }
        let transport = Transport::new(&cfg, settings, sink)?;
        Ok(WechatPayV2Client {
            cfg,
            transport,
            clock,
        })
    }

    pub fn config(&self) -> &WechatPayV2Config {
        &self.cfg
    }

    /// Adds the account fields and a fresh `nonce_str`, signs, posts to `path` and
    /// returns the authentic answer (see [`super::answer`]); business failures are left
    /// to the caller.
    pub(super) async fn call(
        &self,
        operation: &'static str,
        path: &str,
        mut fields: XmlMap,
        retry: Retry,
        out_trade_no: &str,
    ) -> Result<XmlMap, ProviderError> {
        fields.set("appid", self.cfg.appid.as_str());
        fields.set("mch_id", self.cfg.mch_id.as_str());
        fields.set("nonce_str", random_alnum(32));
        sign_map(&mut fields, self.cfg.sign_type, &self.cfg.api_key);
        let url = format!("{}{}", self.cfg.base_url.trim_end_matches('/'), path);
        let resp = self
            .transport
            .post_xml(operation, &url, fields.to_xml(), retry, out_trade_no)
            .await?;
        authentic(&resp, &self.cfg)
    }

    /// [`Self::call`] that also requires `result_code=SUCCESS`.
    async fn call_ok(
        &self,
        operation: &'static str,
        path: &str,
        fields: XmlMap,
        retry: Retry,
        out_trade_no: &str,
    ) -> Result<XmlMap, ProviderError> {
        let m = self
            .call(operation, path, fields, retry, out_trade_no)
            .await?;
        match business_error(&m) {
            Some(e) => Err(e),
            None => Ok(m),
        }
    }

    /// `/pay/unifiedorder` with `trade_type=NATIVE`: the `code_url` to show as a QR code.
    pub async fn create_qr(&self, req: &CreateQrRequest) -> Result<QrCheckout, ProviderError> {
        let no = number(&req.out_trade_no, 32)?;
        let mut f = XmlMap::new();
        f.set("body", truncate_bytes(&req.subject, 128));
        f.set("out_trade_no", no);
        f.set("total_fee", cny_fen(&req.amount)?);
        f.set("fee_type", "CNY");
        f.set("spbill_create_ip", self.cfg.spbill_create_ip.as_str());
        f.set("notify_url", req.notify_url.as_str());
        f.set("trade_type", "NATIVE");
        // Required for NATIVE; one QR code per order, so the order number serves.
        f.set("product_id", no);
        if let Some(exp) = req.expires_at {
            // WeChat refuses a time_expire less than a minute after the order's start.
            if exp.0 < self.clock.now_unix() + 60 {
                return Err(ProviderError::Config(
                    "expiry must be at least one minute ahead".into(),
                ));
            }
            f.set("time_expire", beijing_compact(exp.0));
        }
        // Not retried after an ambiguous failure: re-sending is safe at WeChat (same
        // number, same parameters), but the order service decides that.
        let m = self
            .call_ok(
                "unifiedorder",
                UNIFIED_ORDER_PATH,
                f,
                Retry::ConnectOnly,
                no,
            )
            .await?;
        Ok(QrCheckout {
            out_trade_no: req.out_trade_no.clone(),
            qr_content: m.require("code_url")?.to_string(),
            provider_ref: None,
        })
    }

    /// `/pay/orderquery`.
    pub async fn query(&self, trade: &TradeRef) -> Result<TradeStatus, ProviderError> {
        let no = number(&trade.out_trade_no, 32)?;
        let mut f = XmlMap::new();
        f.set("out_trade_no", no);
        let m = self
            .call_ok("orderquery", ORDER_QUERY_PATH, f, Retry::Idempotent, no)
            .await?;
        if m.non_empty("out_trade_no").is_some_and(|o| o != no) {
            return Err(ProviderError::Protocol(
                "answer is about another order".into(),
            ));
        }
        let state = match m.require("trade_state")? {
            "SUCCESS" => TradeState::Paid,
            "REFUND" => TradeState::Refunded,
            "NOTPAY" | "USERPAYING" => TradeState::Pending,
            "CLOSED" | "REVOKED" => TradeState::Closed,
            // PAYERROR (the bank refused) and anything new: kept raw.
            other => TradeState::Other(other.to_string()),
        };
        let amount = match m.non_empty("total_fee") {
            Some(_) => Some(fee(&m, "total_fee", "fee_type")?),
            None => None,
        };
        Ok(TradeStatus {
            out_trade_no: trade.out_trade_no.clone(),
            trade_no: m.non_empty("transaction_id").map(str::to_string),
            state,
            amount,
        })
    }

    /// `/pay/closeorder`. Closing a closed order succeeds (`ORDERCLOSED`: the wanted
    /// outcome); a paid one fails with `ORDERPAID`.
    pub async fn close(&self, trade: &TradeRef) -> Result<(), ProviderError> {
        let no = number(&trade.out_trade_no, 32)?;
        let mut f = XmlMap::new();
        f.set("out_trade_no", no);
        let m = self
            .call("closeorder", CLOSE_ORDER_PATH, f, Retry::Idempotent, no)
            .await?;
        match business_error(&m) {
            None => Ok(()),
            Some(ProviderError::Business { code, .. }) if code == "ORDERCLOSED" => Ok(()),
            Some(e) => Err(e),
        }
    }

    /// `/secapi/pay/refund`, over mutual TLS with the merchant API certificate. WeChat
    /// only accepts the application here; the outcome comes by notification or
    /// [`Self::query_refund`], so a success is [`RefundState::Processing`].
    pub async fn refund(
        &self,
        req: &ProviderRefundRequest,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        if self.cfg.identity.is_none() {
            return Err(ProviderError::Config(
                "refunds need the merchant API certificate (apiclient_cert.pem/key.pem)".into(),
            ));
        }
        let no = number(&req.trade.out_trade_no, 32)?;
        let rno = number(&req.out_refund_no, 64)?;
        let mut f = XmlMap::new();
        f.set("out_trade_no", no);
        f.set("out_refund_no", rno);
        f.set("total_fee", cny_fen(&req.total)?);
        f.set("refund_fee", cny_fen(&req.amount)?);
        f.set("refund_fee_type", "CNY");
        if let Some(r) = &req.reason {
            f.set("refund_desc", truncate_bytes(r, 80));
        }
        if let Some(u) = &req.notify_url {
            f.set("notify_url", u.as_str());
        }
        // ConnectOnly although WeChat is idempotent on out_refund_no: a timeout is
        // resolved by query_refund, not by sending money-moving requests blindly.
        let m = self
            .call_ok("refund", REFUND_PATH, f, Retry::ConnectOnly, no)
            .await?;
        if m.require("out_refund_no")? != rno {
            return Err(ProviderError::Protocol(
                "answer is about another refund".into(),
            ));
        }
        Ok(ProviderRefundStatus {
            out_refund_no: req.out_refund_no.clone(),
            refund_id: m.non_empty("refund_id").map(str::to_string),
            state: RefundState::Processing,
            amount: Some(fee(&m, "refund_fee", "refund_fee_type")?),
        })
    }

    /// `/pay/refundquery` by our refund number: the `_$n` entry with that number.
    /// `REFUNDNOTEXIST` is [`RefundState::NotFound`] (safe to send the refund again).
    pub async fn query_refund(
        &self,
        refund: &RefundRef,
    ) -> Result<ProviderRefundStatus, ProviderError> {
        let no = number(&refund.trade.out_trade_no, 32)?;
        let rno = number(&refund.out_refund_no, 64)?;
        let mut f = XmlMap::new();
        f.set("out_refund_no", rno);
        let m = self
            .call("refundquery", REFUND_QUERY_PATH, f, Retry::Idempotent, no)
            .await?;
        match business_error(&m) {
            None => {}
            Some(ProviderError::Business { code, .. }) if code == "REFUNDNOTEXIST" => {
                return Ok(ProviderRefundStatus {
                    out_refund_no: refund.out_refund_no.clone(),
                    refund_id: None,
                    state: RefundState::NotFound,
                    amount: None,
                });
            }
            Some(e) => return Err(e),
        }
        let count: usize = m
            .require("refund_count")?
            .parse()
            .map_err(|_| ProviderError::Protocol("refund_count is not a number".into()))?;
        for n in 0..count.min(50) {
            if m.get(&format!("out_refund_no_{n}")) != Some(rno) {
                continue;
            }
            let status = m
                .non_empty(&format!("refund_status_{n}"))
                .ok_or(ProviderError::Protocol("refund without status".into()))?;
            let fee_field = format!("refund_fee_{n}");
            let amount = match m.non_empty(&fee_field) {
                Some(_) => Some(refund_fee(&m, &fee_field)?),
                None => None,
            };
            return Ok(ProviderRefundStatus {
                out_refund_no: refund.out_refund_no.clone(),
                refund_id: m.non_empty(&format!("refund_id_{n}")).map(str::to_string),
                state: refund_state(status),
                amount,
            });
        }
        Err(ProviderError::Protocol(
            "answer does not list the refund".into(),
        ))
    }

    /// Verifies a payment or refund notification (raw body) and turns it into an event;
    /// see [`notify::parse`]. v2 notifications carry no signed timestamp, so `now` is not
    /// used: a replayed notification repeats an event that is handled idempotently.
    pub async fn parse_notify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<NotifyEvent, ProviderError> {
        let _ = (headers, now);
        notify::parse(body, &self.cfg)
    }

    pub fn ack_success(&self) -> NotifyAck {
        notify::ack_success()
    }

    pub fn ack_failure(&self, message: &str) -> NotifyAck {
        notify::ack_failure(message)
    }
}

/// `refund_fee_$n` (a name built at run time, so [`fee`]'s `&'static` field name cannot
/// be used for the error).
fn refund_fee(m: &XmlMap, field: &str) -> Result<Money, ProviderError> {
    let raw = m.get(field).unwrap_or("");
    if raw.is_empty() || raw.len() > 15 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProviderError::Protocol(
            "refund fee is not an amount in fen".into(),
        ));
    }
    let minor: i64 = raw
        .parse()
        .map_err(|_| ProviderError::Protocol("refund fee is not an amount in fen".into()))?;
    Ok(Money::new(minor, Currency::Cny)?)
}
