//! The sandboxes together, as the server mounts them and the wallet page uses them:
//! find an order by its pay code, pay or cancel it, and build the notification to deliver.
//! The server's set is [`SandboxSet::durable`]: its order books live in the database.

use std::sync::Arc;

use super::delivery::Notification;
use super::keys::SandboxKeys;
use super::{Ledger, LedgerError, SandboxOrder};
use crate::provider::alipay::sandbox::AlipaySandbox;
use crate::provider::stripe::sandbox::StripeSandbox;
use crate::provider::wechatpay::sandbox::WechatPaySandbox;
use crate::provider::wechatpay_v2::sandbox::WechatPayV2Sandbox;
use crate::provider::{ProviderKind, SharedClock};
use crate::store::Store;

/// One provider's sandbox gateway as the set uses it; each provider folder implements it
/// (`src/provider/<p>/sandbox/`).
pub trait SandboxGateway: Send + Sync {
    /// The gateway's routes, relative to `/sandbox/{provider}`.
    fn routes(self: Arc<Self>) -> axum::Router;

    fn ledger(&self) -> &Ledger;

    /// Where the "paid" notification of `o` goes ('' when nowhere: e.g. an Alipay order
    /// created without `notify_url`).
    fn notify_url<'a>(&'a self, o: &'a SandboxOrder) -> &'a str {
        &o.notify_url
    }

    /// The signed "paid" notification for `o`: its headers (`Content-Type` included) and
    /// body.
    fn paid_notify(&self, o: &SandboxOrder) -> (Vec<(String, String)>, Vec<u8>);

    /// The wallet's payment codes (付款码), `(prefix, length)`, if this gateway charges
    /// them; the wallet page then shows one for the till to scan.
    fn pay_code_format(&self) -> Option<(&'static str, usize)> {
        None
    }
}

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
        let mut stripe = keys.stripe.sandbox(pay_base_url, clock.clone());
        stripe.webhook_url = stripe_webhook_url.clone();
        SandboxSet {
            alipay: Arc::new(keys.alipay.sandbox(pay_base_url, clock.clone())),
            wechatpay: Arc::new(keys.wechatpay.sandbox(pay_base_url, clock.clone())),
            wechatpay_v2: Arc::new(keys.wechatpay_v2.sandbox(
                pay_base_url,
                Ledger::default(),
                clock,
            )),
            stripe: Arc::new(stripe),
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
        stripe.webhook_url = stripe_webhook_url.clone();
        SandboxSet {
            alipay: Arc::new(alipay),
            wechatpay: Arc::new(wechatpay),
            stripe: Arc::new(stripe),
            wechatpay_v2: Arc::new(wechatpay_v2),
            keys,
            stripe_webhook_url,
        }
    }

    /// The sandbox of `kind`: **the set's one list of providers**.
    pub fn gateway(&self, kind: ProviderKind) -> &dyn SandboxGateway {
        match kind {
            ProviderKind::Alipay => self.alipay.as_ref(),
            ProviderKind::Wechatpay => self.wechatpay.as_ref(),
            ProviderKind::Stripe => self.stripe.as_ref(),
            ProviderKind::WechatpayV2 => self.wechatpay_v2.as_ref(),
        }
    }

    /// The gateway router of one provider, relative to its mount point.
    pub fn router(&self, kind: ProviderKind) -> axum::Router {
        match kind {
            ProviderKind::Alipay => self.alipay.clone().routes(),
            ProviderKind::Wechatpay => self.wechatpay.clone().routes(),
            ProviderKind::Stripe => self.stripe.clone().routes(),
            ProviderKind::WechatpayV2 => self.wechatpay_v2.clone().routes(),
        }
    }

    pub fn ledger(&self, kind: ProviderKind) -> &Ledger {
        self.gateway(kind).ledger()
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

    /// A new single-use payment code in `kind`'s wallet; `None` when that sandbox has no
    /// barcode payment.
    pub async fn issue_pay_code(
        &self,
        kind: ProviderKind,
        behaviour: crate::sandbox::CodeBehaviour,
        now_ms: i64,
    ) -> Result<Option<String>, LedgerError> {
        let Some((prefix, len)) = self.gateway(kind).pay_code_format() else {
            return Ok(None);
        };
        self.ledger(kind)
            .issue_pay_code(prefix, len, behaviour, now_ms)
            .await
            .map(Some)
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
        if self.gateway(kind).notify_url(order).is_empty() {
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

    /// The signed "paid" notification for `o`, or `None` when there is nowhere to send it
    /// (an Alipay order created without `notify_url`).
    pub fn paid_notification(&self, kind: ProviderKind, o: &SandboxOrder) -> Option<Notification> {
        let gateway = self.gateway(kind);
        let url = gateway.notify_url(o).to_string();
        if url.is_empty() {
            return None;
        }
        let (headers, body) = gateway.paid_notify(o);
        Some(Notification {
            provider: kind,
            url,
            headers,
            body,
            out_trade_no: o.out_trade_no.clone(),
        })
    }
}
