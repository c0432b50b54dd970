//! WeChat Pay (API v2)'s [`ProviderSlice`].

use std::time::Duration;

use crate::provider::NotifyAck;
use crate::provider::slice::ProviderSlice;

pub struct WechatPayV2;

impl ProviderSlice for WechatPayV2 {
    fn ack_success(&self) -> NotifyAck {
        super::notify::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        super::notify::ack_failure(message)
    }

    /// v2 wants HTTP 200 *and* `<return_code>SUCCESS</return_code>` in the body; anything
    /// else (an HTML error page, FAIL) is retried.
    fn acknowledged(&self, status: u16, body: &[u8]) -> bool {
        status == 200
            && super::xml::parse(body)
                .ok()
                .is_some_and(|m| m.get("return_code").is_some_and(|c| c == "SUCCESS"))
    }

    fn retry_schedule(&self) -> Vec<Duration> {
        crate::provider::wechatpay::slice::wechat_schedule()
    }

    /// `/pay/micropay` (`super::code_pay`).
    fn charges_codes_of(&self) -> Option<crate::payment_code::Wallet> {
        Some(crate::payment_code::Wallet::Wechat)
    }
}

/// The [`Provider`] operations are the client's inherent methods of the same names.
#[async_trait::async_trait]
impl crate::provider::Provider for super::WechatPayV2Client {
    fn kind(&self) -> crate::provider::ProviderKind {
        crate::provider::ProviderKind::WechatpayV2
    }

    async fn create_qr(
        &self,
        req: &crate::provider::CreateQrRequest,
    ) -> Result<crate::provider::QrCheckout, crate::provider::ProviderError> {
        super::WechatPayV2Client::create_qr(self, req).await
    }

    async fn query(
        &self,
        trade: &crate::provider::TradeRef,
    ) -> Result<crate::provider::TradeStatus, crate::provider::ProviderError> {
        super::WechatPayV2Client::query(self, trade).await
    }

    async fn pay_by_code(
        &self,
        req: &crate::provider::CodePayRequest,
    ) -> Result<crate::provider::CodePayAnswer, crate::provider::ProviderError> {
        super::WechatPayV2Client::pay_by_code(self, req).await
    }

    async fn cancel_code_payment(
        &self,
        trade: &crate::provider::TradeRef,
    ) -> Result<(), crate::provider::ProviderError> {
        super::WechatPayV2Client::cancel_code_payment(self, trade).await
    }

    async fn close(
        &self,
        trade: &crate::provider::TradeRef,
    ) -> Result<(), crate::provider::ProviderError> {
        super::WechatPayV2Client::close(self, trade).await
    }

    async fn refund(
        &self,
        req: &crate::provider::ProviderRefundRequest,
    ) -> Result<crate::provider::ProviderRefundStatus, crate::provider::ProviderError> {
        super::WechatPayV2Client::refund(self, req).await
    }

    async fn query_refund(
        &self,
        refund: &crate::provider::RefundRef,
    ) -> Result<crate::provider::ProviderRefundStatus, crate::provider::ProviderError> {
        super::WechatPayV2Client::query_refund(self, refund).await
    }

    async fn parse_notify(
        &self,
        headers: &crate::provider::HeaderMap,
        body: &[u8],
        now: i64,
    ) -> Result<crate::provider::NotifyEvent, crate::provider::ProviderError> {
        super::WechatPayV2Client::parse_notify(self, headers, body, now).await
    }

    fn ack_success(&self) -> NotifyAck {
        super::notify::ack_success()
    }

    fn ack_failure(&self, message: &str) -> NotifyAck {
        super::notify::ack_failure(message)
    }
}
