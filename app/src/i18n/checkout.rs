//! The checkout page: channel, amount, QR code, live status.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct CheckoutText {
    pub title: &'static str,
}

pub static EN: CheckoutText = CheckoutText { title: "Checkout" };

pub static ZH: CheckoutText = CheckoutText { title: "收款" };
