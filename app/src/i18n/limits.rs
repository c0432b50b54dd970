//! Amount limits of a channel (on the Credentials page): the maximum per order and the
//! "large amount" the checkout asks to confirm.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct LimitsText {
    /// The link and column on the channel list.
    pub link: &'static str,
    pub per_order: fn(&str) -> String,
    pub heading: fn(&str) -> String,
    pub intro: &'static str,
    pub default_badge: &'static str,
    pub custom_badge: &'static str,
    pub f_max: &'static str,
    pub f_confirm_above: &'static str,
    pub provider_max: fn(&str) -> String,
    pub save: &'static str,
    pub reset: &'static str,
    pub back: &'static str,
    /// `(channel, currency)`
    pub ok_saved: fn(&str, &str) -> String,
    pub ok_reset: fn(&str, &str) -> String,
    pub err_malformed: fn(&str) -> String,
    pub err_currency: &'static str,
    pub err_max_positive: &'static str,
    /// The provider's own maximum, formatted.
    pub err_above_provider: fn(&str) -> String,
    pub err_confirm_positive: &'static str,
    pub err_confirm_above_max: &'static str,
}

pub static EN: LimitsText = LimitsText {
    link: "Amount limits",
    per_order: |max| format!("at most {max} per order"),
    heading: |c| format!("Amount limits of {c}"),
    intro: "The most one order on this channel may charge (checkouts and the merchant API above it are refused), and the amount above which the checkout page asks the cashier to confirm. A currency without its own setting uses the default.",
    default_badge: "Default",
    custom_badge: "Set by an admin",
    f_max: "Maximum per order",
    f_confirm_above: "Ask to confirm above",
    provider_max: |cap| format!("The provider accepts at most {cap} per order."),
    save: "Save",
    reset: "Back to the default",
    back: "Back to channels",
    ok_saved: |ch, cur| format!("The {cur} limits of {ch} were saved; new checkouts use them now."),
    ok_reset: |ch, cur| format!("The {cur} limits of {ch} are the defaults again."),
    err_malformed: |cur| {
        format!(
            "An amount is not a valid {cur} amount. Type it like 50000.00, without symbols, spaces or extra decimals."
        )
    },
    err_currency: "This channel does not charge in this currency.",
    err_max_positive: "The maximum must be more than zero.",
    err_above_provider: |cap| {
        format!("The provider accepts at most {cap} per order. Enter a maximum up to that.")
    },
    err_confirm_positive: "The amount that asks for confirmation must be more than zero.",
    err_confirm_above_max: "The amount that asks for confirmation must not be above the maximum. Lower it, or raise the maximum.",
};

pub static ZH: LimitsText = LimitsText {
    link: "金额限额",
    per_order: |max| format!("单笔最高 {max}"),
    heading: |c| format!("{c} 的金额限额"),
    intro: "该渠道单笔订单的最高金额（超过该金额的收款和商户 API 下单都会被拒绝），以及收款页面要求收银员确认的大额金额。没有单独设置的币种使用默认值。",
    default_badge: "默认",
    custom_badge: "管理员设置",
    f_max: "单笔最高金额",
    f_confirm_above: "超过此金额需确认",
    provider_max: |cap| format!("支付渠道单笔最多接受 {cap}。"),
    save: "保存",
    reset: "恢复默认",
    back: "返回渠道列表",
    ok_saved: |ch, cur| format!("{ch} 的 {cur} 限额已保存，新的收款立即生效。"),
    ok_reset: |ch, cur| format!("{ch} 的 {cur} 限额已恢复为默认值。"),
    err_malformed: |cur| {
        format!(
            "金额不是有效的 {cur} 金额。请输入类似 50000.00 的数字，不要带符号、空格或多余的小数位。"
        )
    },
    err_currency: "该渠道不支持此币种。",
    err_max_positive: "单笔最高金额必须大于零。",
    err_above_provider: |cap| format!("支付渠道单笔最多接受 {cap}。请输入不超过该金额的上限。"),
    err_confirm_positive: "需确认的金额必须大于零。",
    err_confirm_above_max: "需确认的金额不能高于单笔最高金额。请调低它，或提高单笔最高金额。",
};

impl LimitsText {
    /// The text of a refused save's code; `currency` and the provider's maximum
    /// (formatted) fill the messages that name them.
    pub fn error(&self, code: &str, currency: &str, provider_max: &str) -> Option<String> {
        Some(match code {
            "limit_malformed" => (self.err_malformed)(currency),
            "limit_currency" => self.err_currency.to_string(),
            "limit_max_positive" => self.err_max_positive.to_string(),
            "limit_above_provider" => (self.err_above_provider)(provider_max),
            "limit_confirm_positive" => self.err_confirm_positive.to_string(),
            "limit_confirm_above_max" => self.err_confirm_above_max.to_string(),
            _ => return None,
        })
    }
}
