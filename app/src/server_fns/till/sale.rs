//! Starting a sale at the till, once for both ways of asking (a form post that redirects,
//! and the island's call that draws the answer in place): checks in the order the cashier
//! can fix them, then the order. `Ok` is the new order's number.

use super::device::{amount_problem, note_or_default, till_url};
use super::{SaleInput, SaleProblem};
use crate::guard::Caller;
use crate::server_fns::AppError;
use crate::server_fns::checkout::ssr::{parse_amount, refused};
use paydesk_core::order::Cause;
use paydesk_core::payment_code::{CodeProblem, PaymentCode};
use paydesk_core::payments::{CheckoutRequest, CodePayOutcome, CodePaymentRequest, PaymentError};

fn problem(code: &str, detail: &str) -> SaleProblem {
    SaleProblem {
        code: code.to_string(),
        detail: detail.to_string(),
    }
}

/// Charges the customer's code: paid, or waiting for the customer's password (the number
/// either way); declined and every refusal are problems.
pub async fn charge_code(caller: &Caller, input: &SaleInput) -> Result<String, SaleProblem> {
    let money = parse_amount(&input.amount, "CNY").map_err(|c| problem(c, ""))?;
    if input.auth_code.trim().is_empty() {
        return Err(problem("code_missing", ""));
    }
    let code = PaymentCode::parse(&input.auth_code).map_err(|e| match e {
        CodeProblem::NotDigits => problem("code_not_digits", ""),
        CodeProblem::Unknown => problem("code_unknown", ""),
    })?;
    let user = &caller.user.username;
    let channel = match caller.payments.code_channel(None, code.wallet()).await {
        Ok(c) => c,
        Err(PaymentError::Invalid { .. }) => return Err(problem("no_code_channel", "")),
        Err(e) => return Err(problem(refused(&e, user), "")),
    };
    if let Some(code) = amount_problem(caller, &channel, money, &input.confirm).await {
        return Err(problem(code, ""));
    }
    let req = CodePaymentRequest {
        channel: Some(channel),
        amount: money,
        subject: note_or_default(&input.subject).await,
        code,
        out_trade_no: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: Cause::User(user.clone()),
    };
    match caller.payments.pay_by_code(req).await {
        Ok((_, CodePayOutcome::Declined { code, message })) => {
            Err(problem("declined", format!("{code} {message}").trim()))
        }
        Ok((order, _)) => Ok(order.out_trade_no),
        Err(PaymentError::Invalid {
            field: "auth_code", ..
        }) => Err(problem("no_code_channel", "")),
        Err(e) => Err(problem(refused(&e, user), "")),
    }
}

/// Makes the QR code on this till's channel. The outer error is the server's own (the
/// channel list could not be read), the inner one what the cashier can fix.
pub async fn show_qr(
    caller: &Caller,
    input: &SaleInput,
) -> Result<Result<String, SaleProblem>, AppError> {
    let money = match parse_amount(&input.amount, "CNY") {
        Ok(m) => m,
        Err(code) => return Ok(Err(problem(code, ""))),
    };
    let Some(channel) = super::till_setup().await?.channel else {
        return Ok(Err(problem("no_qr_channel", "")));
    };
    if let Some(code) = amount_problem(caller, &channel, money, &input.confirm).await {
        return Ok(Err(problem(code, "")));
    }
    let req = CheckoutRequest {
        channel,
        amount: money,
        subject: note_or_default(&input.subject).await,
        out_trade_no: None,
        expires_in_secs: None,
        merchant_notify_url: None,
        api_key_id: None,
        cause: Cause::User(caller.user.username.clone()),
    };
    Ok(match caller.payments.create_checkout(req).await {
        Ok(order) => Ok(order.out_trade_no),
        Err(e) => Err(problem(refused(&e, &caller.user.username), "")),
    })
}

/// The form posts' answer: the order's status page, or back to the till with the amount
/// and note kept.
pub fn redirect(started: Result<String, SaleProblem>, input: &SaleInput) {
    let to = match started {
        Ok(no) => format!("/checkout/{no}"),
        Err(p) => till_url(&p.code, &input.amount, &input.subject, &p.detail),
    };
    leptos_axum::redirect(&to);
}
