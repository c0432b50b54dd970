//! Payment by the customer's code (付款码): the cashier scans the code in the customer's
//! wallet and the provider charges it. The order is stored first (`pay_method = code`),
//! then the provider is asked once:
//!
//! - paid at once → the order is paid (the same compare-and-set as a notification);
//! - the customer must confirm (a password) → the order stays pending and the active-query
//!   job asks every `code_query_ms`; at `code_wait_secs` it is **cancelled** at the
//!   provider (which refunds it if it went through after all), never merely closed;
//! - declined (an expired code, not enough balance) → closed here with the reason;
//! - no decision (a timeout, a system error) → queried at once, and otherwise treated as
//!   waiting: the job's queries and the cancel at expiry settle it.
//!
//! So a code order is never charged twice (one order number per scan, and the provider
//! refuses a reused one) and never left undecided, even across a crash: what is pending is
//! in the database and the job picks it up.

use super::{CheckoutRequest, PaymentError, Payments};
use crate::channel::ChannelMode;
use crate::money::Money;
use crate::order::{Cause, PayMethod};
use crate::payment_code::{PaymentCode, Wallet};
use crate::provider::{CodePayAnswer, CodePayRequest, ProviderKind, for_trade};
use crate::store::Order;

/// A sale charged to the customer's payment code.
#[derive(Debug, Clone)]
pub struct CodePaymentRequest {
    /// The channel to charge; `None`: the first enabled channel (live before sandbox, then
    /// by the provider's `code_channel_rank`) whose provider charges this code's wallet.
    pub channel: Option<String>,
    pub amount: Money,
    pub subject: String,
    pub code: PaymentCode,
    /// The merchant's own order number; generated when absent.
    pub out_trade_no: Option<String>,
    pub merchant_notify_url: Option<String>,
    pub api_key_id: Option<String>,
    pub cause: Cause,
}

/// Where a code payment stands right after the provider's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodePayOutcome {
    Paid,
    /// Waiting for the customer to confirm in the wallet; poll the order.
    UserPaying,
    /// Nothing was charged; the provider's code and message say why.
    Declined {
        code: String,
        message: String,
    },
}

impl Payments {
    /// Charges the customer's code (see the module docs). Returns the order as it is now.
    pub async fn pay_by_code(
        &self,
        req: CodePaymentRequest,
    ) -> Result<(Order, CodePayOutcome), PaymentError> {
        let channel = self
            .code_channel(req.channel.as_deref(), req.code.wallet())
            .await?;
        let checkout = CheckoutRequest {
            channel,
            amount: req.amount,
            subject: req.subject.clone(),
            out_trade_no: req.out_trade_no.clone(),
            expires_in_secs: None,
            merchant_notify_url: req.merchant_notify_url.clone(),
            api_key_id: req.api_key_id.clone(),
            cause: req.cause.clone(),
        };
        let (channel, out_trade_no, _) = self.open_order(&checkout, PayMethod::Code).await?;
        let ask = CodePayRequest {
            out_trade_no: out_trade_no.clone(),
            amount: req.amount,
            subject: checkout.subject.trim().to_string(),
            code: req.code.clone(),
            notify_url: self.channels.notify_url(channel.kind, &channel.row.name),
        };
        let answer = for_trade(&out_trade_no, channel.provider.pay_by_code(&ask)).await;
        let outcome = match answer {
            Ok(CodePayAnswer::Paid { trade_no, amount }) => {
                let cause = Cause::System("paid by the customer's code".into());
                self.store
                    .mark_paid(&out_trade_no, &trade_no, amount, &cause)
                    .await?;
                CodePayOutcome::Paid
            }
            Ok(CodePayAnswer::UserPaying) => CodePayOutcome::UserPaying,
            Ok(CodePayAnswer::Declined { code, message }) => {
                let why = format!("the customer's code was declined: {code} {message}");
                self.store
                    .close_order(&out_trade_no, &Cause::System(why.trim().to_string()))
                    .await?;
                CodePayOutcome::Declined { code, message }
            }
            Err(e) => {
                // Undecided: ask now; what stays pending is settled by the job.
                tracing::info!(error = %e, %out_trade_no, "code payment answer undecided; querying");
                let order = self.order_now(&out_trade_no).await?;
                match self.sync_order(&order).await {
                    Ok(Some(t)) if t.order().status.is_paid_like() => CodePayOutcome::Paid,
                    _ => CodePayOutcome::UserPaying,
                }
            }
        };
        Ok((self.order_now(&out_trade_no).await?, outcome))
    }

    /// The cashier gives up waiting (or the customer changed their mind): cancelled at the
    /// provider, then closed here. A payment that went through meanwhile is recorded
    /// instead, and the cancel refused.
    pub async fn cancel_code_payment(
        &self,
        out_trade_no: &str,
        cause: &Cause,
    ) -> Result<Order, PaymentError> {
        let order = self.order_now(out_trade_no).await?;
        if order.pay_method != PayMethod::Code {
            return Err(PaymentError::NotAllowed(
                "only a payment by the customer's code can be cancelled; close this order instead"
                    .into(),
            ));
        }
        self.close(out_trade_no, cause).await?;
        self.order_now(out_trade_no).await
    }

    async fn order_now(&self, out_trade_no: &str) -> Result<Order, PaymentError> {
        self.store
            .order(out_trade_no)
            .await?
            .ok_or(PaymentError::OrderNotFound)
    }

    /// The channel that charges `wallet`'s codes: the one asked for (it must), else the
    /// first enabled one, live before sandbox, then by rank (WeChat Pay v2 before v3).
    pub async fn code_channel(
        &self,
        asked: Option<&str>,
        wallet: Wallet,
    ) -> Result<String, PaymentError> {
        let charges = |kind: Option<ProviderKind>| {
            kind.and_then(|k| k.slice().charges_codes_of()) == Some(wallet)
        };
        if let Some(name) = asked {
            let channel = self.channels.resolve(name).await?;
            if !charges(Some(channel.kind)) {
                return Err(PaymentError::invalid(
                    "auth_code",
                    format!(
                        "this is a {} payment code; channel {name} cannot charge it",
                        wallet_name(wallet)
                    ),
                ));
            }
            return Ok(name.to_string());
        }
        let mut rows = self.store.channels().await?;
        rows.retain(|r| r.disabled_at.is_none() && charges(ProviderKind::parse(&r.provider)));
        // Stable: the store lists channels by name within a mode.
        rows.sort_by_key(|r| {
            let rank =
                ProviderKind::parse(&r.provider).map_or(u8::MAX, |k| k.slice().code_channel_rank());
            (r.mode != ChannelMode::Live.as_str(), rank)
        });
        rows.into_iter().next().map(|r| r.name).ok_or_else(|| {
            PaymentError::invalid(
                "auth_code",
                format!(
                    "no enabled channel charges {} payment codes; ask an admin to add one, or show a QR code instead",
                    wallet_name(wallet)
                ),
            )
        })
    }
}

fn wallet_name(wallet: Wallet) -> &'static str {
    match wallet {
        Wallet::Alipay => "Alipay",
        Wallet::Wechat => "WeChat Pay",
    }
}
