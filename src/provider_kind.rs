//! Which payment providers paydesk speaks, and the plain facts about each: its name in URLs
//! and rows, its display name, the currencies it charges in, its sandbox channel.
//!
//! This is the provider **registration list** ([`ProviderKind::ALL`] and [`FACTS`]); it is
//! browser-safe (no protocol code), so pages and the core share one enum. What a provider
//! *does* — its protocol, notifications, sandbox and channel settings — lives in its folder
//! under `src/provider/`, reached through `crate::provider::slice`.
//! See `docs/adding-a-provider.md`.

use crate::money::Currency;

/// Which protocol a channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ProviderKind {
    #[serde(rename = "alipay")]
    Alipay,
    #[serde(rename = "wechatpay")]
    Wechatpay,
    #[serde(rename = "stripe")]
    Stripe,
    #[serde(rename = "wechatpay_v2")]
    WechatpayV2,
}

/// The facts of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderFacts {
    pub kind: ProviderKind,
    /// In notify URLs (`/notify/{name}/{channel}`), sandbox mount points and channel rows.
    pub name: &'static str,
    /// For error messages and logs (pages use their translated label).
    pub display_name: &'static str,
    /// `None`: every currency paydesk knows.
    pub currencies: Option<&'static [Currency]>,
    /// The sandbox channel a fresh install gets.
    pub sandbox_channel: &'static str,
    /// The most the provider accepts in one order, in minor units: Alipay's
    /// `total_amount` goes up to 100,000,000.00 yuan; WeChat Pay's `amount.total` (v3) and
    /// `total_fee` (v2) are 32-bit integers of fen; Stripe takes at most eight digits.
    pub max_minor: i64,
}

const CNY_ONLY: Option<&[Currency]> = Some(&[Currency::Cny]);

/// One line per provider.
pub const FACTS: [ProviderFacts; 4] = [
    ProviderFacts {
        kind: ProviderKind::Alipay,
        name: "alipay",
        display_name: "Alipay",
        currencies: CNY_ONLY,
        sandbox_channel: "alipay-sandbox",
        max_minor: 10_000_000_000,
    },
    ProviderFacts {
        kind: ProviderKind::Wechatpay,
        name: "wechatpay",
        display_name: "WeChat Pay",
        currencies: CNY_ONLY,
        sandbox_channel: "wechatpay-sandbox",
        max_minor: i32::MAX as i64,
    },
    ProviderFacts {
        kind: ProviderKind::Stripe,
        name: "stripe",
        display_name: "Stripe",
        currencies: None,
        sandbox_channel: "stripe-sandbox",
        max_minor: 99_999_999,
    },
    ProviderFacts {
        kind: ProviderKind::WechatpayV2,
        name: "wechatpay_v2",
        display_name: "WeChat Pay (API v2)",
        currencies: CNY_ONLY,
        sandbox_channel: "wechatpay-v2-sandbox",
        max_minor: i32::MAX as i64,
    },
];

impl ProviderKind {
    pub const ALL: [ProviderKind; FACTS.len()] = {
        let mut all = [ProviderKind::Alipay; FACTS.len()];
        let mut i = 0;
        while i < FACTS.len() {
            all[i] = FACTS[i].kind;
            i += 1;
        }
        all
    };

    pub fn facts(self) -> &'static ProviderFacts {
        // Every variant has its line in FACTS (the test below checks it).
        FACTS.iter().find(|f| f.kind == self).unwrap_or(&FACTS[0])
    }

    /// The name in URLs and rows: `/notify/{alipay|wechatpay|stripe|wechatpay_v2}/{channel}`.
    pub fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// Parses a provider name as it appears in URLs and rows.
    pub fn parse(s: &str) -> Option<ProviderKind> {
        FACTS.iter().find(|f| f.name == s).map(|f| f.kind)
    }

    pub fn display_name(self) -> &'static str {
        self.facts().display_name
    }

    pub fn supports(self, c: Currency) -> bool {
        self.facts().currencies.is_none_or(|cs| cs.contains(&c))
    }

    /// The currencies a channel of this provider charges in.
    pub fn currencies(self) -> Vec<Currency> {
        Currency::ALL
            .into_iter()
            .filter(|c| self.supports(*c))
            .collect()
    }

    /// `"Alipay charges in CNY only"`, when the provider is limited to some currencies.
    pub fn currency_rule(self) -> String {
        let codes: Vec<&str> = self.currencies().iter().map(|c| c.code()).collect();
        format!(
            "{} charges in {} only",
            self.display_name(),
            codes.join(", ")
        )
    }

    pub fn sandbox_channel(self) -> &'static str {
        self.facts().sandbox_channel
    }
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_one_line_of_facts_and_round_trips() {
        for (i, f) in FACTS.iter().enumerate() {
            assert_eq!(ProviderKind::ALL[i], f.kind);
            assert_eq!(f.kind.facts(), f, "{}", f.name);
            assert_eq!(ProviderKind::parse(f.name), Some(f.kind));
            let json = serde_json::to_string(&f.kind).unwrap();
            assert_eq!(json, format!("\"{}\"", f.name));
            assert_eq!(FACTS.iter().filter(|g| g.kind == f.kind).count(), 1);
        }
        assert_eq!(ProviderKind::parse("paypal"), None);
    }

    #[test]
    fn currencies() {
        assert!(ProviderKind::Alipay.supports(Currency::Cny));
        assert!(!ProviderKind::WechatpayV2.supports(Currency::Usd));
        assert!(ProviderKind::Stripe.supports(Currency::Usd));
        assert_eq!(
            ProviderKind::Wechatpay.currency_rule(),
            "WeChat Pay charges in CNY only"
        );
    }
}
