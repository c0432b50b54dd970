//! Creating a QR checkout: the order is stored first (so a notification that races the
//! provider's answer finds it), then the provider is asked for the QR content.

use super::{NumberKind, PaymentError, Payments, key_scoped_number, new_number, valid_number};
use crate::channel::ResolvedChannel;
use crate::limits::{self, AmountCheck, AmountLimit};
use crate::money::{Currency, Money};
use crate::order::{Cause, PayMethod};
use crate::provider::{CreateQrRequest, for_trade};
use crate::store::{NewOrder, Order, StoreError};
use crate::time::now_ms;

/// What a cashier or a merchant system asks for.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    pub channel: String,
    pub amount: Money,
    pub subject: String,
    /// The merchant's own order number; generated when absent.
    pub out_trade_no: Option<String>,
    pub expires_in_secs: Option<i64>,
    /// Where paid/refunded/closed events are forwarded (merchant API orders).
    pub merchant_notify_url: Option<String>,
    pub api_key_id: Option<String>,
    /// Who asks (user or API key); recorded on the order and its timeline.
    pub cause: Cause,
}

impl Payments {
    /// The amount limit that applies to `channel` in `currency`: the admin's override or
    /// the default, within what the provider accepts (`crate::limits::effective`).
    pub async fn amount_limit(
        &self,
        channel: &ResolvedChannel,
        currency: Currency,
    ) -> Result<AmountLimit, PaymentError> {
        let provider = channel.kind;
        if !provider.supports(currency) {
            return Err(PaymentError::invalid(
                "currency",
                channel.kind.currency_rule(),
            ));
        }
        let stored = self.store.amount_limit(&channel.row.id, currency).await?;
        Ok(limits::effective(provider, currency, stored))
    }

    /// [`Payments::amount_limit`] by channel name, for the dashboard to ask before it
    /// creates: a disabled channel is refused here already, so nobody is asked to confirm
    /// an amount on a channel that then refuses it.
    pub async fn amount_limit_of(
        &self,
        channel: &str,
        currency: Currency,
    ) -> Result<AmountLimit, PaymentError> {
        let channel = self.channels.resolve(channel).await?;
        if channel.is_disabled() {
            return Err(PaymentError::ChannelDisabled);
        }
        self.amount_limit(&channel, currency).await
    }

    pub async fn create_checkout(&self, req: CheckoutRequest) -> Result<Order, PaymentError> {
        let (channel, out_trade_no, expires_at) = self.open_order(&req, PayMethod::Qr).await?;
        let subject = req.subject.trim();
        let ask = CreateQrRequest {
            out_trade_no: out_trade_no.clone(),
            amount: req.amount,
            subject: subject.to_string(),
            notify_url: self.channels.notify_url(channel.kind, &channel.row.name),
            expires_at: Some(crate::timestamp::UnixMs(expires_at).secs()),
        };
        let answer = self.ask_for_qr(&channel, &out_trade_no, &ask).await;
        self.note_channel_health(&channel, &req.cause, &answer)
            .await;
        answer
    }

    /// What a checkout taught about its channel: a live channel the provider refused for a
    /// reason a connection check names is marked failing (and working again after a
    /// checkout that works); a person's working channel becomes their default. Best
    /// effort: the checkout's answer does not depend on these writes.
    async fn note_channel_health(
        &self,
        channel: &ResolvedChannel,
        cause: &Cause,
        answer: &Result<Order, PaymentError>,
    ) {
        use crate::channel::ConnectionCheck;
        let name = &channel.row.name;
        let verdict = match answer {
            Ok(_) => Some(ConnectionCheck::Ok),
            Err(e) => e.provider_cause().filter(|c| *c != ConnectionCheck::Other),
        };
        if let Some(v) = verdict.filter(|_| channel.row.mode == "live")
            && let Err(e) = self.store.record_channel_check(name, v.as_str()).await
        {
            tracing::warn!(error = %e, channel = %name, "cannot record the channel's check");
        }
        if let (Ok(_), Cause::User(user)) = (answer, cause)
            && let Err(e) = self.store.remember_last_channel(user, name).await
        {
            tracing::warn!(error = %e, "cannot remember the user's last channel");
        }
    }

    /// Checks a request, numbers it and stores its order (pending), before the provider is
    /// asked anything: a notification racing the provider's answer finds the order. Returns
    /// the channel, the order number and the expiry (ms).
    pub(super) async fn open_order(
        &self,
        req: &CheckoutRequest,
        pay_method: PayMethod,
    ) -> Result<(ResolvedChannel, String, i64), PaymentError> {
        let (subject, expires_in) = self.checkout_fields(req)?;
        // A code payment waits for the customer only as long as the code is good.
        let expires_in = match pay_method {
            PayMethod::Qr => expires_in,
            PayMethod::Code => self.settings.code_wait_secs,
        };
        let (out_trade_no, merchant_no) = self.checkout_number(req).await?;
        let channel = self.channels.resolve(&req.channel).await?;
        if channel.is_disabled() {
            return Err(PaymentError::ChannelDisabled);
        }
        // The ceiling is checked here, where every channel's orders are created (dashboard
        // and merchant API alike); the dashboard's "large amount" confirmation happens
        // before, in the page's server function, as only a person can confirm.
        // (`amount_limit` also refuses a currency the provider does not charge in.)
        let limit = self.amount_limit(&channel, req.amount.currency()).await?;
        if limits::check(&limit, req.amount, true) == AmountCheck::TooLarge {
            return Err(PaymentError::AmountTooLarge {
                max: Money::new(limit.max_minor, limit.currency).unwrap_or(req.amount),
            });
        }

        let now = now_ms();
        let expires_at = now + expires_in * 1000;
        let creator = match &req.cause {
            Cause::User(u) => u.clone(),
            Cause::ApiKey(k) => format!("api:{k}"),
            other => other.kind().to_string(),
        };
        self.store
            .create_order_numbered(
                NewOrder {
                    out_trade_no: &out_trade_no,
                    channel: &channel.row.name,
                    amount: req.amount,
                    subject,
                    creator: &creator,
                    expires_at,
                    qr_code: None,
                    merchant_notify_url: req.merchant_notify_url.as_deref(),
                    api_key_id: req.api_key_id.as_deref(),
                    next_query_at: Some(match pay_method {
                        PayMethod::Qr => self.settings.next_query_at(now, now),
                        PayMethod::Code => now + self.settings.code_query_ms,
                    }),
                    pay_method,
                },
                merchant_no.as_deref(),
                &req.cause,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict => PaymentError::DuplicateOrder,
                e => PaymentError::Internal(e),
            })?;
        Ok((channel, out_trade_no, expires_at))
    }

    /// The request's subject (trimmed) and expiry in seconds, or which field is invalid.
    fn checkout_fields<'r>(
        &self,
        req: &'r CheckoutRequest,
    ) -> Result<(&'r str, i64), PaymentError> {
        let subject = req.subject.trim();
        if subject.is_empty() || subject.chars().count() > 128 {
            return Err(PaymentError::invalid("subject", "1 to 128 characters"));
        }
        if req.amount.minor() <= 0 {
            return Err(PaymentError::invalid("amount", "must be positive"));
        }
        if let Some(url) = &req.merchant_notify_url {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(PaymentError::invalid(
                        "notify_url",
                        "must be an http(s) URL",
                    ));
                }
            }
        }
        let expires_in = req
            .expires_in_secs
            .unwrap_or(self.settings.default_expiry_secs);
        if !(60..=self.settings.max_expiry_secs).contains(&expires_in) {
            return Err(PaymentError::invalid(
                "expires_in",
                format!("60 to {} seconds", self.settings.max_expiry_secs),
            ));
        }
        Ok((subject, expires_in))
    }

    /// The new order's `out_trade_no`, and the number the merchant's API key chose for it
    /// (if it chose one).
    async fn checkout_number(
        &self,
        req: &CheckoutRequest,
    ) -> Result<(String, Option<String>), PaymentError> {
        // A number chosen through an API key lives in that key's namespace.
        let (out_trade_no, merchant_no) = match (&req.out_trade_no, &req.api_key_id) {
            (Some(n), Some(key)) if valid_number(n) => (
                key_scoped_number(key, NumberKind::Order, n),
                Some(n.clone()),
            ),
            (Some(n), None) if valid_number(n) => (n.clone(), None),
            (Some(_), _) => {
                return Err(PaymentError::invalid(
                    "out_trade_no",
                    "6 to 32 of 0-9, A-Z, a-z, _ and -",
                ));
            }
            (None, _) => (new_number("PD"), None),
        };
        // A chosen number that is already the generated number of one of this key's own
        // orders would name two orders for the key: a duplicate, as within the namespace.
        if let (Some(n), Some(key)) = (&merchant_no, &req.api_key_id)
            && self.store.order(n).await?.is_some_and(|o| {
                o.api_key_id.as_deref() == Some(key.as_str()) && o.merchant_no.is_none()
            })
        {
            return Err(PaymentError::DuplicateOrder);
        }
        Ok((out_trade_no, merchant_no))
    }

    /// Asks the provider for the stored order's QR content and keeps it; closes the order
    /// when the provider fails.
    async fn ask_for_qr(
        &self,
        channel: &ResolvedChannel,
        out_trade_no: &str,
        ask: &CreateQrRequest,
    ) -> Result<Order, PaymentError> {
        match for_trade(out_trade_no, channel.provider.create_qr(ask)).await {
            Ok(qr) => Ok(self
                .store
                .set_checkout(out_trade_no, &qr.qr_content, qr.provider_ref.as_deref())
                .await?),
            Err(e) => {
                // Nobody saw a QR code, so nobody can pay this order: close it here with
                // the reason on its timeline. (Should the provider have created it after
                // all, a later notification for it is refused and flagged, not lost.)
                let why = PaymentError::from(e);
                let cause = Cause::System(format!("checkout failed: {why}"));
                if let Err(e) = self.store.close_order(out_trade_no, &cause).await {
                    tracing::warn!(error = %e, %out_trade_no, "cannot close a failed checkout");
                }
                Err(why)
            }
        }
    }

    /// A person or a merchant system closes an unpaid order: at the provider first (so the
    /// QR can no longer be paid), then here.
    pub async fn close(
        &self,
        out_trade_no: &str,
        cause: &Cause,
    ) -> Result<crate::store::Transition, PaymentError> {
        let order = self
            .store
            .order(out_trade_no)
            .await?
            .ok_or(PaymentError::OrderNotFound)?;
        if order.status != crate::order::OrderStatus::Pending {
            return Err(PaymentError::NotAllowed(format!(
                "a {} order cannot be closed",
                order.status
            )));
        }
        let channel = self.channels.resolve(&order.channel).await?;
        let trade = crate::provider::TradeRef {
            out_trade_no: order.out_trade_no.clone(),
            provider_ref: order.provider_ref.clone(),
        };
        // Paid in the meantime? Then record that instead of closing.
        if let Some(t) = self.sync_order(&order).await?
            && t.order().status != crate::order::OrderStatus::Pending
        {
            return Err(PaymentError::NotAllowed(format!(
                "the order is {} now and cannot be closed",
                t.order().status
            )));
        }
        for_trade(out_trade_no, stop_at_provider(&channel, &order, &trade)).await?;
        let t = self.store.close_order(out_trade_no, cause).await?;
        self.audit(cause, "order_closed", out_trade_no, "").await;
        Ok(t)
    }
}

/// Stops an unpaid order at the provider: a QR order is closed; a payment by the
/// customer's code is cancelled (the provider refunds it if it went through after all).
pub(super) async fn stop_at_provider(
    channel: &ResolvedChannel,
    order: &Order,
    trade: &crate::provider::TradeRef,
) -> Result<(), crate::provider::ProviderError> {
    match order.pay_method {
        PayMethod::Qr => channel.provider.close(trade).await,
        PayMethod::Code => channel.provider.cancel_code_payment(trade).await,
    }
}
