//! Server functions: the till (merchant, admin). Charging the customer's payment code is
//! a form post that answers with a redirect: to the order's status page (paid, or waiting
//! for the customer's password), or back to `/till?error=<code>&…` with the amount and
//! note kept, so the cashier only scans again.

use leptos::prelude::*;

/// Charges the customer's payment code (付款码) for `amount` CNY; the channel is the
/// first enabled one that charges the code's wallet.
#[server(prefix = "/rpc", endpoint = "till_charge")]
pub async fn till_charge(
    amount: String,
    #[server(default)] subject: String,
    #[server(default)] auth_code: String,
) -> Result<(), crate::server_fns::AppError> {
    use paydesk_core::payment_code::{CodeProblem, PaymentCode};
    use paydesk_core::payments::{CodePayOutcome, CodePaymentRequest, PaymentError};
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::Checkout).await?;
    let back = |code: &str, detail: &str| {
        leptos_axum::redirect(&ssr::till_url(code, &amount, &subject, detail));
        Ok(())
    };
    let money = match super::checkout::ssr::parse_amount(&amount, "CNY") {
        Ok(m) => m,
        Err(code) => return back(code, ""),
    };
    if auth_code.trim().is_empty() {
        return back("code_missing", "");
    }
    let code = match PaymentCode::parse(&auth_code) {
        Ok(c) => c,
        Err(CodeProblem::NotDigits) => return back("code_not_digits", ""),
        Err(CodeProblem::Unknown) => return back("code_unknown", ""),
    };
    let (lang, _) = crate::guard::request_preferences().await;
    let note = match subject.trim() {
        "" => lang.t().till.default_note.to_string(),
        s => s.to_string(),
    };
    let req = CodePaymentRequest {
        channel: None,
        amount: money,
        subject: note,
        code,
        out_trade_no: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: paydesk_core::order::Cause::User(caller.user.username.clone()),
    };
    match caller.payments.pay_by_code(req).await {
        Ok((_, CodePayOutcome::Declined { code, message })) => {
            back("declined", format!("{code} {message}").trim())
        }
        Ok((order, _)) => {
            leptos_axum::redirect(&format!("/checkout/{}", order.out_trade_no));
            Ok(())
        }
        Err(PaymentError::Invalid {
            field: "auth_code", ..
        }) => back("no_code_channel", ""),
        Err(e) => back(super::checkout::ssr::refused(&e, &caller.user.username), ""),
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::server_fns::orders::encode;

    /// `/till?error=…` with the amount and note kept (never the code: it is single use).
    pub fn till_url(code: &str, amount: &str, subject: &str, detail: &str) -> String {
        format!(
            "/till?error={}&amount={}&subject={}&detail={}",
            encode(code),
            encode(amount),
            encode(subject),
            encode(detail)
        )
    }
}
