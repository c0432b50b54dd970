//! Server functions: Checkout and the checkout status (merchant, admin).
//! Each one starts with `crate::guard::require(Capability::…)`.
//!
//! Creating and closing are form posts that answer with a redirect (`leptos_axum::redirect`):
//! a plain 302 without JavaScript, a client-side navigation with it. Validation problems
//! go back to `/checkout?error=<code>&…` with the user's input, so the form can be shown
//! again as it was typed, in both modes alike.

use crate::server_fns::error::AppError;
use crate::server_fns::orders::encode;
use leptos::prelude::*;
use paydesk_core::limits::AmountLimit;
use paydesk_core::order::OrderStatus;
use serde::{Deserialize, Serialize};

/// A channel the checkout form offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelChoice {
    pub name: String,
    /// `alipay`, `wechatpay` or `stripe`.
    pub provider: String,
    pub sandbox: bool,
    /// A live channel whose last connection check failed: the verdict
    /// (`ConnectionCheck::as_str`). Marked, listed last, never pre-selected.
    #[serde(default)]
    pub failing: Option<String>,
    /// The caller's last channel that took a checkout (pre-selected unless failing).
    #[serde(default)]
    pub preferred: bool,
    /// The amount limits that apply, one per currency the channel charges in (so a
    /// refusal can say what the maximum is).
    pub limits: Vec<AmountLimit>,
}

impl ChannelChoice {
    pub fn limit(&self, currency: &str) -> Option<&AmountLimit> {
        self.limits
            .iter()
            .find(|l| l.currency.code().eq_ignore_ascii_case(currency))
    }
}

/// Everything the checkout status page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutView {
    pub out_trade_no: String,
    pub channel: String,
    pub provider: String,
    pub sandbox: bool,
    pub amount_minor: i64,
    pub currency: String,
    pub subject: String,
    pub status: OrderStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub paid_at: Option<i64>,
    /// What the QR code encodes (for sandbox channels, the sandbox wallet's URL).
    pub qr_content: Option<String>,
    /// The QR code as an SVG document, drawn on the server.
    pub qr_svg: Option<String>,
    /// The server's public URL, for the sandbox hint (phones must reach it).
    pub public_url: String,
    /// The server's clock when this was read: the countdown runs from it, so a browser
    /// with a wrong clock still counts down correctly.
    pub now: i64,
    /// A QR checkout, or a charge of the customer's payment code (no QR; pending means
    /// waiting for the customer's password, and closing cancels it at the provider).
    pub pay_method: paydesk_core::order::PayMethod,
    /// The setup hint about `PAYDESK_PUBLIC_URL` (phones must reach the sandbox wallet):
    /// for admins, who can change it; a cashier only gets the wallet link.
    pub setup_hint: bool,
}

/// What the status page polls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub status: OrderStatus,
    pub paid_at: Option<i64>,
}

/// Enabled channels: working live ones, sandbox ones, then failing ones.
#[server(prefix = "/rpc", endpoint = "checkout_channels")]
pub async fn checkout_channels() -> Result<Vec<ChannelChoice>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let rows = caller
        .store
        .channels()
        .await
        .map_err(crate::guard::internal)?;
    let last = caller
        .store
        .last_channel_of(&caller.user.id)
        .await
        .map_err(crate::guard::internal)?;
    let mut out: Vec<ChannelChoice> = Vec::new();
    for c in rows.into_iter().filter(|c| c.disabled_at.is_none()) {
        let limits = ssr::channel_limits(&caller.store, &c).await?;
        out.push(ChannelChoice {
            sandbox: c.mode == "sandbox",
            failing: c.failing().then(|| c.last_check.clone()).flatten(),
            preferred: last.as_deref() == Some(c.name.as_str()),
            name: c.name,
            provider: c.provider,
            limits,
        });
    }
    // Working live channels first, then sandbox ones, failing ones last.
    out.sort_by(|a, b| {
        (a.failing.is_some(), a.sandbox, &a.name).cmp(&(b.failing.is_some(), b.sandbox, &b.name))
    });
    Ok(out)
}

/// Creates a QR checkout and goes to its status page; on a problem, back to the form.
/// An amount above the channel's "large amount" first goes back to the form's
/// confirmation step (`?confirm=1&…`), which posts again with `confirm` set to
/// [`confirmation_token`](paydesk_core::limits::confirmation_token) of the amount shown.
#[server(prefix = "/rpc", endpoint = "create_checkout")]
pub async fn create_checkout(
    channel: String,
    amount: String,
    currency: String,
    subject: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    use paydesk_core::limits::{AmountCheck, check, confirmation_token};
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let back = |code: &str| {
        leptos_axum::redirect(&ssr::form_url(code, &channel, &amount, &currency, &subject));
        Ok(())
    };
    let amount_money = match ssr::parse_amount(&amount, &currency) {
        Ok(m) => m,
        Err(code) => return back(code),
    };
    // The large-amount step, decided before anything is stored. The ceiling itself is
    // enforced again by `create_checkout` below (as for the merchant API).
    let limit = match caller
        .payments
        .amount_limit_of(&channel, amount_money.currency())
        .await
    {
        Ok(l) => l,
        Err(e) => return back(ssr::refused(&e, &caller.user.username)),
    };
    let confirmed = confirm == confirmation_token(amount_money);
    match check(&limit, amount_money, confirmed) {
        AmountCheck::TooLarge => return back("amount_over_limit"),
        AmountCheck::NeedsConfirmation => {
            let fields = fields_query(&channel, &amount, &currency, &subject);
            leptos_axum::redirect(&format!("/checkout?confirm=1&{fields}"));
            return Ok(());
        }
        AmountCheck::Ok => {}
    }
    let req = paydesk_core::payments::CheckoutRequest {
        channel: channel.clone(),
        amount: amount_money,
        subject: subject.clone(),
        out_trade_no: None,
        expires_in_secs: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: paydesk_core::order::Cause::User(caller.user.username.clone()),
    };
    match caller.payments.create_checkout(req).await {
        Ok(order) => {
            leptos_axum::redirect(&format!("/checkout/{}", order.out_trade_no));
            Ok(())
        }
        Err(e) => back(ssr::refused(&e, &caller.user.username)),
    }
}

/// The order behind a checkout page. Merchants only see their own orders (404 otherwise,
/// so order numbers of others cannot be probed).
#[server(prefix = "/rpc", endpoint = "checkout_status")]
pub async fn checkout_status(no: String) -> Result<CheckoutView, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let order = ssr::visible_order(&caller, &no).await?;
    // On screen (without JavaScript it reloads every 2 s): asked about sooner.
    super::display::ssr::watch(&caller.store, &order, paydesk_core::time::now_ms())
        .await
        .map_err(crate::guard::internal)?;
    let row = caller
        .store
        .channel(&order.channel)
        .await
        .map_err(crate::guard::internal)?;
    let (provider, sandbox) = row
        .map(|r| (r.provider, r.mode == "sandbox"))
        .unwrap_or_default();
    Ok(CheckoutView {
        qr_svg: order.qr_code.as_deref().and_then(ssr::qr_svg),
        qr_content: order.qr_code.clone(),
        public_url: caller.payments.channels().public_url().to_string(),
        out_trade_no: order.out_trade_no,
        channel: order.channel,
        provider,
        sandbox,
        amount_minor: order.amount.minor(),
        currency: order.amount.currency().code().to_string(),
        subject: order.subject,
        status: order.status,
        created_at: order.created_at,
        expires_at: order.expires_at,
        paid_at: order.paid_at,
        now: paydesk_core::time::now_ms(),
        pay_method: order.pay_method,
        setup_hint: caller.user.role == paydesk_core::role::Role::Admin,
    })
}

/// The order's current state: what the status page polls every 1.5 s.
#[server(prefix = "/rpc", endpoint = "checkout_state")]
pub async fn checkout_state(no: String) -> Result<LiveState, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let order = ssr::visible_order(&caller, &no).await?;
    let now = paydesk_core::time::now_ms();
    super::display::ssr::watch(&caller.store, &order, now)
        .await
        .map_err(crate::guard::internal)?;
    Ok(LiveState {
        status: order.status,
        paid_at: order.paid_at,
    })
}

/// Closes a pending checkout (at the provider first), then back to its page.
#[server(prefix = "/rpc", endpoint = "close_checkout")]
pub async fn close_checkout(no: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let order = ssr::visible_order(&caller, &no).await?;
    let cause = paydesk_core::order::Cause::User(caller.user.username.clone());
    let outcome = match caller.payments.close(&order.out_trade_no, &cause).await {
        Ok(_) => "ok=closed".to_string(),
        Err(e) => {
            let code = ssr::payment_error_code(&e);
            if code == "internal" {
                tracing::error!(error = %e, "close failed");
            }
            format!("error={code}")
        }
    };
    leptos_axum::redirect(&format!("/checkout/{}?{outcome}", order.out_trade_no));
    Ok(())
}

/// `channel=…&amount=…&currency=…&subject=…`: the form's input, for going back to it.
pub fn fields_query(channel: &str, amount: &str, currency: &str, subject: &str) -> String {
    format!(
        "channel={}&amount={}&currency={}&subject={}",
        encode(channel),
        encode(amount),
        encode(currency),
        encode(subject)
    )
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-side helpers of the checkout server functions.

    use super::AmountLimit;
    use crate::guard::Caller;
    use crate::server_fns::error::AppError;
    use paydesk_core::money::{Currency, Money, MoneyError};
    use paydesk_core::payments::PaymentError;
    use paydesk_core::role::Role;
    use paydesk_core::store::Order;

    /// The cashier's screens: `role::visible_to` for the counter.
    pub fn may_see(role: Role, username: &str, order: &Order) -> bool {
        use paydesk_core::role::{OrderPurpose, Viewer, visible_to};
        let viewer = Viewer::User { role, username };
        visible_to(
            viewer,
            OrderPurpose::Counter,
            &order.creator,
            order.api_key_id.as_deref(),
        )
    }

    pub async fn visible_order(caller: &Caller, no: &str) -> Result<Order, AppError> {
        let order = caller
            .store
            .order(no)
            .await
            .map_err(crate::guard::internal)?;
        match order {
            Some(o) if may_see(caller.user.role, &caller.user.username, &o) => Ok(o),
            _ => Err(crate::guard::not_found()),
        }
    }

    /// The typed amount in the chosen currency, or the code of what is wrong with it.
    pub fn parse_amount(amount: &str, currency: &str) -> Result<Money, &'static str> {
        let currency = Currency::from_code(currency.trim()).map_err(|_| "currency_unknown")?;
        let money = Money::parse_decimal(amount.trim(), currency).map_err(|e| match e {
            MoneyError::Empty => "amount_empty",
            MoneyError::Negative => "amount_positive",
            MoneyError::TooManyDecimals => "amount_decimals",
            // Beyond i64 is beyond every channel's maximum: say what the maximum is.
            MoneyError::Overflow => "amount_over_limit",
            _ => "amount_malformed",
        })?;
        if money.minor() <= 0 {
            return Err("amount_positive");
        }
        Ok(money)
    }

    /// Logs a refused checkout (internal errors in full, as errors) and returns the code
    /// the form shows.
    pub fn refused(e: &PaymentError, user: &str) -> &'static str {
        let code = payment_error_code(e);
        if code == "internal" {
            tracing::error!(error = %e, "checkout failed");
        } else {
            tracing::info!(error = %e, user = %user, "checkout refused");
        }
        code
    }

    /// The code the form shows for a refused checkout.
    pub fn payment_error_code(e: &PaymentError) -> &'static str {
        match e {
            PaymentError::Invalid { field, .. } => match *field {
                "subject" => "subject_invalid",
                "amount" => "amount_malformed",
                "currency" => "currency_unsupported",
                "expires_in" => "expiry_invalid",
                _ => "invalid_request",
            },
            PaymentError::AmountTooLarge { .. } => "amount_over_limit",
            PaymentError::ChannelNotFound => "channel_not_found",
            PaymentError::ChannelDisabled => "channel_disabled",
            PaymentError::ChannelConfig(_) => "channel_misconfigured",
            PaymentError::ProviderRefused { cause, .. }
            | PaymentError::ProviderUnavailable { cause, .. } => provider_cause_code(*cause, e),
            PaymentError::NotAllowed(_) => "not_allowed",
            PaymentError::OrderNotFound => "not_found",
            _ => "internal",
        }
    }

    /// The real reason a provider refused a checkout, as the form's error code.
    fn provider_cause_code(
        cause: paydesk_core::channel::ConnectionCheck,
        e: &PaymentError,
    ) -> &'static str {
        use paydesk_core::channel::ConnectionCheck as C;
        match (cause, e) {
            (C::BadKey, _) => "provider_bad_key",
            (C::ProductNotEnabled, _) => "provider_product_not_enabled",
            (C::ClockSkew, _) => "provider_clock_skew",
            (C::Unreachable, _) => "provider_unreachable",
            (C::BadSignature, _) => "provider_bad_signature",
            (_, PaymentError::ProviderRefused { .. }) => "provider_refused",
            _ => "provider_unavailable",
        }
    }

    pub use super::fields_query;
    pub use crate::server_fns::orders::encode;

    /// `/checkout?error=…` with the user's input, so the form shows it again.
    pub fn form_url(
        code: &str,
        channel: &str,
        amount: &str,
        currency: &str,
        subject: &str,
    ) -> String {
        format!(
            "/checkout?error={}&{}",
            encode(code),
            fields_query(channel, amount, currency, subject)
        )
    }

    /// The limits of a channel in every currency it charges in (admin overrides or the
    /// defaults, within the provider's own ceiling).
    pub async fn channel_limits(
        store: &paydesk_core::store::Store,
        row: &paydesk_core::store::ChannelRow,
    ) -> Result<Vec<AmountLimit>, AppError> {
        use paydesk_core::limits::{Provider, effective};
        let Some(provider) = Provider::parse(&row.provider) else {
            return Ok(Vec::new());
        };
        let stored = store
            .amount_limits(&row.id)
            .await
            .map_err(crate::guard::internal)?;
        Ok(provider
            .currencies()
            .into_iter()
            .map(|c| {
                let own = stored.iter().find(|l| l.currency == c).copied();
                effective(provider, c, own)
            })
            .collect())
    }

    /// The QR code of `content` as a standalone SVG: one path of unit squares on a white
    /// field with the standard 4-module quiet zone, scaled by CSS (crisp at any size and
    /// in print).
    pub fn qr_svg(content: &str) -> Option<String> {
        use qrcode::{Color, EcLevel, QrCode};
        let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M).ok()?;
        let width = code.width();
        let size = width + 8;
        let mut path = String::new();
        for (i, c) in code.into_colors().into_iter().enumerate() {
            if c == Color::Dark {
                path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
            }
        }
        Some(format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img" aria-label="QR"><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/></svg>"##
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn amounts_follow_the_currency_rules() {
            assert_eq!(parse_amount("12.34", "CNY").map(|m| m.minor()), Ok(1234));
            assert_eq!(parse_amount(" 5 ", "USD").map(|m| m.minor()), Ok(500));
            assert_eq!(parse_amount("1.234", "CNY"), Err("amount_decimals"));
            assert_eq!(parse_amount("1.5", "JPY"), Err("amount_decimals"));
            assert_eq!(parse_amount("0", "CNY"), Err("amount_positive"));
            assert_eq!(parse_amount("-1", "CNY"), Err("amount_positive"));
            assert_eq!(parse_amount("", "CNY"), Err("amount_empty"));
            assert_eq!(parse_amount("1e3", "CNY"), Err("amount_malformed"));
            assert_eq!(parse_amount("1", "XYZ"), Err("currency_unknown"));
            assert_eq!(
                parse_amount("92233720368547758.08", "CNY"),
                Err("amount_over_limit")
            );
        }

        #[test]
        fn qr_svg_is_a_square_of_modules() {
            let svg = qr_svg("http://192.168.1.5:3000/sandbox/pay/abc").expect("svg");
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
            assert!(svg.contains("crispEdges") && svg.contains("h1v1h-1z"));
        }

        #[test]
        fn form_urls_keep_the_input() {
            assert_eq!(
                form_url(
                    "amount_decimals",
                    "wechatpay-sandbox",
                    "1.234",
                    "CNY",
                    "咖啡 & tea"
                ),
                "/checkout?error=amount_decimals&channel=wechatpay-sandbox&amount=1.234&currency=CNY&subject=%E5%92%96%E5%95%A1%20%26%20tea"
            );
        }
    }
}
