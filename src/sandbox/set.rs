//! The three sandboxes together, as the server mounts them and the wallet page uses them:
//! find an order by its pay code, pay or cancel it, and build the notification to deliver.

use std::sync::Arc;

use super::alipay::{self, AlipaySandbox};
use super::delivery::Notification;
use super::keys::SandboxKeys;
use super::stripe::{self, StripeSandbox};
use super::wechatpay::{self, WechatPaySandbox};
use super::{Ledger, LedgerError, SandboxOrder};
use crate::provider::{ProviderKind, SharedClock};

pub struct SandboxSet {
    pub keys: SandboxKeys,
    pub alipay: Arc<AlipaySandbox>,
    pub wechatpay: Arc<WechatPaySandbox>,
    pub stripe: Arc<StripeSandbox>,
    /// Where Stripe events go. Stripe takes webhook endpoints from its dashboard, not from
    /// the API request, so the sandbox has one configured endpoint.
    pub stripe_webhook_url: String,
}

impl std::fmt::Debug for SandboxSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxSet")
            .field("keys", &self.keys)
            .field("stripe_webhook_url", &self.stripe_webhook_url)
            .finish()
    }
}

impl SandboxSet {
    /// `pay_base_url` is the wallet page root (`{PAYDESK_PUBLIC_URL}/sandbox/pay`): QR codes
    /// and Checkout URLs are `{pay_base_url}/{code}`.
    pub fn new(
        keys: SandboxKeys,
        pay_base_url: &str,
        stripe_webhook_url: String,
        clock: SharedClock,
    ) -> SandboxSet {
        SandboxSet {
            alipay: Arc::new(keys.alipay.sandbox(pay_base_url, clock.clone())),
            wechatpay: Arc::new(keys.wechatpay.sandbox(pay_base_url, clock.clone())),
            stripe: Arc::new(keys.stripe.sandbox(pay_base_url, clock)),
            keys,
            stripe_webhook_url,
        }
    }

    /// The gateway router of one provider, relative to its mount point.
    pub fn router(&self, kind: ProviderKind) -> axum::Router {
        match kind {
            ProviderKind::Alipay => alipay::router(self.alipay.clone()),
            ProviderKind::Wechatpay => wechatpay::router(self.wechatpay.clone()),
            ProviderKind::Stripe => stripe::router(self.stripe.clone()),
        }
    }

    pub fn ledger(&self, kind: ProviderKind) -> &Ledger {
        match kind {
            ProviderKind::Alipay => &self.alipay.ledger,
            ProviderKind::Wechatpay => &self.wechatpay.ledger,
            ProviderKind::Stripe => &self.stripe.ledger,
        }
    }

    /// The order a wallet code belongs to, and which sandbox holds it.
    pub fn find(&self, code: &str) -> Option<(ProviderKind, SandboxOrder)> {
        [
            ProviderKind::Alipay,
            ProviderKind::Wechatpay,
            ProviderKind::Stripe,
        ]
        .into_iter()
        .find_map(|k| self.ledger(k).find_by_code(code).map(|o| (k, o)))
    }

    pub fn pay(&self, kind: ProviderKind, out_trade_no: &str) -> Result<SandboxOrder, LedgerError> {
        self.ledger(kind).pay(out_trade_no)
    }

    /// The payer backed out: the sandbox closes the order, so the merchant sees it closed
    /// on its next query (no notification, as on the real gateways).
    pub fn cancel(
        &self,
        kind: ProviderKind,
        out_trade_no: &str,
    ) -> Result<SandboxOrder, LedgerError> {
        self.ledger(kind).close(out_trade_no)
    }

    /// The signed "paid" notification for `o`, or `None` when there is nowhere to send it
    /// (an Alipay order created without `notify_url`).
    pub fn paid_notification(&self, kind: ProviderKind, o: &SandboxOrder) -> Option<Notification> {
        let (url, content_type, mut headers, body) = match kind {
            ProviderKind::Alipay => (
                o.notify_url.clone(),
                "application/x-www-form-urlencoded; charset=utf-8",
                Vec::new(),
                self.alipay.paid_notify(o),
            ),
            ProviderKind::Wechatpay => {
                let (h, body) = self.wechatpay.paid_notify(o);
                let h = h.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                (o.notify_url.clone(), "application/json", h, body)
            }
            ProviderKind::Stripe => {
                let (sig, body) = self.stripe.paid_event(o);
                (
                    self.stripe_webhook_url.clone(),
                    "application/json; charset=utf-8",
                    vec![("Stripe-Signature".to_string(), sig)],
                    body,
                )
            }
        };
        if url.is_empty() {
            return None;
        }
        headers.push(("Content-Type".to_string(), content_type.to_string()));
        Some(Notification {
            provider: kind,
            url,
            headers,
            body,
            out_trade_no: o.out_trade_no.clone(),
        })
    }
}
