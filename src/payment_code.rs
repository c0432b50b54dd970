//! The customer's payment code (付款码): the digits a barcode gun types at the till. Which
//! wallet issued it is read off the code itself, so the cashier never picks a wallet.
//! Browser-safe: the till page tells the cashier as the digits arrive.
//!
//! The rules are the providers' published ones: Alipay's `auth_code` is 16–24 digits
//! starting 25–30 (`alipay.trade.pay`); WeChat Pay's is 18 digits starting 10–15
//! (`micropay` / 付款码支付).

/// The wallet a payment code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Wallet {
    Alipay,
    Wechat,
}

/// Why a scanned text is not a payment code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeProblem {
    #[error("a payment code is digits only")]
    NotDigits,
    #[error("not an Alipay or WeChat Pay payment code")]
    Unknown,
}

/// A payment code, checked: digits only, and a wallet recognised. `Debug` hides the
/// digits (a code is single use, but it is the customer's money for a minute).
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentCode {
    digits: String,
    wallet: Wallet,
}

impl std::fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PaymentCode({:?}, …{})", self.wallet, self.tail())
    }
}

impl PaymentCode {
    /// Reads what a scanner typed: surrounding whitespace and inner spaces (some guns
    /// group digits) are dropped.
    pub fn parse(scanned: &str) -> Result<PaymentCode, CodeProblem> {
        let digits: String = scanned.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeProblem::NotDigits);
        }
        let wallet = recognise(&digits).ok_or(CodeProblem::Unknown)?;
        Ok(PaymentCode { digits, wallet })
    }

    pub fn wallet(&self) -> Wallet {
        self.wallet
    }

    /// The code as the provider wants it (`auth_code`).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The last four digits, for the timeline and logs.
    pub fn tail(&self) -> &str {
        &self.digits[self.digits.len().saturating_sub(4)..]
    }
}

/// The wallet of an all-digit code, by its prefix and length.
pub fn recognise(digits: &str) -> Option<Wallet> {
    let prefix: u8 = digits.get(..2)?.parse().ok()?;
    match (prefix, digits.len()) {
        (25..=30, 16..=24) => Some(Wallet::Alipay),
        (10..=15, 18) => Some(Wallet::Wechat),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallets_are_read_off_prefix_and_length() {
        // The examples in the providers' docs.
        assert_eq!(recognise("28763443825664394"), Some(Wallet::Alipay));
        assert_eq!(recognise("134567890123456789"), Some(Wallet::Wechat));
        // Edges: Alipay 16 and 24 digits, prefixes 25 and 30.
        assert_eq!(recognise("2500000000000000"), Some(Wallet::Alipay));
        assert_eq!(recognise("300000000000000000000000"), Some(Wallet::Alipay));
        assert_eq!(recognise("250000000000000"), None, "15 digits");
        assert_eq!(recognise("3000000000000000000000000"), None, "25 digits");
        assert_eq!(recognise("3100000000000000"), None, "prefix 31");
        // WeChat: exactly 18 digits, prefixes 10–15.
        assert_eq!(recognise("100000000000000000"), Some(Wallet::Wechat));
        assert_eq!(recognise("159999999999999999"), Some(Wallet::Wechat));
        assert_eq!(recognise("16000000000000000"), None);
        assert_eq!(recognise("1000000000000000000"), None, "19 digits");
        assert_eq!(recognise("1"), None);
        assert_eq!(recognise(""), None);
    }

    #[test]
    fn scanned_text_is_cleaned_and_checked() {
        let c = PaymentCode::parse(" 2876 3443 8256 64394\n").expect("an Alipay code");
        assert_eq!(c.digits(), "28763443825664394");
        assert_eq!(c.wallet(), Wallet::Alipay);
        assert_eq!(c.tail(), "4394");
        assert!(!format!("{c:?}").contains("2876344"));
        assert_eq!(
            PaymentCode::parse("28x63443825664394"),
            Err(CodeProblem::NotDigits)
        );
        assert_eq!(PaymentCode::parse("١٢٣"), Err(CodeProblem::NotDigits));
        assert_eq!(PaymentCode::parse(""), Err(CodeProblem::NotDigits));
        assert_eq!(
            PaymentCode::parse("99999999999999999"),
            Err(CodeProblem::Unknown)
        );
    }
}
