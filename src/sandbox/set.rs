//! The three sandboxes together, as the server mounts them and the wallet page uses them:
//! find an order by its pay code, pay or cancel it, and build the notification to deliver.
//! The server's set is [`SandboxSet::durable`]: its order books live in the database.

use std::sync::Arc;

use super::delivery::Notification;
use super::keys::SandboxKeys;
use super::{Ledger, LedgerError, SandboxOrder};
use crate::provider::alipay::sandbox::{self as alipay, AlipaySandbox};
use crate::provider::stripe::sandbox::{self as stripe, StripeSandbox};
use crate::provider::wechatpay::sandbox::{self as wechatpay, WechatPaySandbox};
use crate::provider::wechatpay_v2::sandbox::{self as wechatpay_v2, WechatPayV2Sandbox};
use crate::provider::{ProviderKind, SharedClock};
use crate::store::Store;

pub struct SandboxSet {
    pub keys: SandboxKeys,
    pub alipay: Arc<AlipaySandbox>,
    pub wechatpay: Arc<WechatPaySandbox>,
    pub stripe: Arc<StripeSandbox>,
    /// Mounted over plain HTTP for its pay codes and notifications; the channels call the
    /// mutual-TLS listener the channel registry starts (v2 refunds need the client
    /// certificate), on the same order book.
    pub wechatpay_v2: Arc<WechatPayV2Sandbox>,
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
            wechatpay_v2: Arc::new(keys.wechatpay_v2.sandbox(
                pay_base_url,
                Ledger::default(),
                clock.clone(),
            )),
            stripe: Arc::new(keys.stripe.sandbox(pay_base_url, clock)),
            keys,
            stripe_webhook_url,
        }
    }

    /// [`SandboxSet::new`] with each sandbox's order book in `store` (shared by every
    /// instance on that database, kept across restarts).
    pub fn durable(
        keys: SandboxKeys,
        pay_base_url: &str,
        stripe_webhook_url: String,
        clock: SharedClock,
        store: Store,
    ) -> SandboxSet {
        let mut alipay = keys.alipay.sandbox(pay_base_url, clock.clone());
        alipay.ledger = Ledger::durable(store.clone(), ProviderKind::Alipay);
        let mut wechatpay = keys.wechatpay.sandbox(pay_base_url, clock.clone());
        wechatpay.ledger = Ledger::durable(store.clone(), ProviderKind::Wechatpay);
        let wechatpay_v2 = keys.wechatpay_v2.sandbox(
            pay_base_url,
            Ledger::durable(store.clone(), ProviderKind::WechatpayV2),
            clock.clone(),
        );
        let mut stripe = keys.stripe.sandbox(pay_base_url, clock);
        stripe.ledger = Ledger::durable(store.clone(), ProviderKind::Stripe);
        stripe.keep_idempotency_keys_in(store);
        SandboxSet {
            alipay: Arc::new(alipay),
            wechatpay: Arc::new(wechatpay),
            stripe: Arc::new(stripe),
            wechatpay_v2: Arc::new(wechatpay_v2),
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
            ProviderKind::WechatpayV2 => wechatpay_v2::router(self.wechatpay_v2.clone()),
        }
    }

    pub fn ledger(&self, kind: ProviderKind) -> &Ledger {
        match kind {
            ProviderKind::Alipay => &self.alipay.ledger,
            ProviderKind::Wechatpay => &self.wechatpay.ledger,
            ProviderKind::Stripe => &self.stripe.ledger,
            ProviderKind::WechatpayV2 => &self.wechatpay_v2.ledger,
        }
    }

    /// The order a wallet code belongs to, and which sandbox holds it.
    pub async fn find(
        &self,
        code: &str,
    ) -> Result<Option<(ProviderKind, SandboxOrder)>, LedgerError> {
        for kind in ProviderKind::ALL {
            if let Some(o) = self.ledger(kind).find_by_code(code).await? {
                return Ok(Some((kind, o)));
            }
        }
        Ok(None)
    }

    /// Marks the order paid (no notification: tests send their own).
    pub async fn pay(
        &self,
        kind: ProviderKind,
        out_trade_no: &str,
    ) -> Result<SandboxOrder, LedgerError> {
        self.ledger(kind).pay(out_trade_no).await
    }

    /// The payer paid in the wallet: marks the order paid and, when the notification has
    /// somewhere to go, queues it in the same transaction (durable books).
    pub async fn pay_from_wallet(
        &self,
        kind: ProviderKind,
        order: &SandboxOrder,
    ) -> Result<SandboxOrder, LedgerError> {
        let ledger = self.ledger(kind);
        if self.notify_url(kind, order).is_empty() {
            ledger.pay(&order.out_trade_no).await
        } else {
            ledger.pay_and_notify(&order.out_trade_no).await
        }
    }

    /// The payer backed out: the sandbox closes the order, so the merchant sees it closed
    /// on its next query (no notification, as on the real gateways).
    pub async fn cancel(
        &self,
        kind: ProviderKind,
        out_trade_no: &str,
    ) -> Result<SandboxOrder, LedgerError> {
        self.ledger(kind).close(out_trade_no).await
    }

    /// Where the "paid" notification of `o` goes ('' when nowhere: an Alipay order created
    /// without `notify_url`). Stripe takes it from its one configured endpoint.
    fn notify_url<'a>(&'a self, kind: ProviderKind, o: &'a SandboxOrder) -> &'a str {
        match kind {
            ProviderKind::Stripe => &self.stripe_webhook_url,
            ProviderKind::Alipay | ProviderKind::Wechatpay | ProviderKind::WechatpayV2 => {
                &o.notify_url
            }
        }
    }

    /// The signed "paid" notification for `o`, or `None` when there is nowhere to send it
    /// (an Alipay order created without `notify_url`).
    pub fn paid_notification(&self, kind: ProviderKind, o: &SandboxOrder) -> Option<Notification> {
        let url = self.notify_url(kind, o).to_string();
        if url.is_empty() {
            return None;
        }
        let (content_type, mut headers, body) = match kind {
            ProviderKind::Alipay => (
                "application/x-www-form-urlencoded; charset=utf-8",
                Vec::new(),
                self.alipay.paid_notify(o),
            ),
            ProviderKind::Wechatpay => {
                let (h, body) = self.wechatpay.paid_notify(o);
                let h = h.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                ("application/json", h, body)
            }
            ProviderKind::WechatpayV2 => {
                let n = self.wechatpay_v2.paid_notification(o);
                let h = n
                    .headers
                    .into_iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case("content-type"))
                    .collect();
                ("text/xml; charset=utf-8", h, n.body)
            }
            ProviderKind::Stripe => {
                let (sig, body) = self.stripe.paid_event(o);
                (
                    "application/json; charset=utf-8",
                    vec![("Stripe-Signature".to_string(), sig)],
                    body,
                )
            }
        };
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
