//! The checkout page: channel, amount, QR code, live status.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct CheckoutText {
    pub title: &'static str,
    // The form.
    pub form_heading: &'static str,
    pub channel: &'static str,
    pub amount: &'static str,
    pub amount_hint: &'static str,
    pub currency: &'static str,
    pub subject: &'static str,
    pub subject_hint: &'static str,
    pub create: &'static str,
    pub no_channels: &'static str,
    // Form problems, by code (see `error`).
    pub err_amount_empty: &'static str,
    pub err_amount_malformed: &'static str,
    pub err_amount_decimals: fn(&str, u32) -> String,
    pub err_amount_positive: &'static str,
    pub err_amount_too_large: &'static str,
    /// The channel's maximum per order, formatted.
    pub err_amount_over_limit: fn(&str) -> String,
    pub err_currency_unknown: &'static str,
    pub err_currency_unsupported: &'static str,
    pub err_subject_invalid: &'static str,
    pub err_channel_not_found: &'static str,
    pub err_channel_disabled: &'static str,
    pub err_channel_misconfigured: &'static str,
    pub err_provider_refused: &'static str,
    pub err_provider_unavailable: &'static str,
    /// Before the connection check's explanation of why the provider refused.
    pub err_provider_cause: &'static str,
    /// The badge of a live channel whose last connection check failed.
    pub failing: &'static str,
    pub failing_hint: &'static str,
    pub err_not_allowed: &'static str,
    pub err_not_found: &'static str,
    // The large-amount confirmation step.
    pub confirm_heading: &'static str,
    /// The amount and the channel.
    pub confirm_text: fn(&str, &str) -> String,
    pub confirm_yes: fn(&str) -> String,
    pub confirm_change: &'static str,
    // The status page.
    pub order_no: &'static str,
    pub status: &'static str,
    pub created: &'static str,
    pub expires_at: &'static str,
    pub expires_in: fn(i64) -> String,
    pub expired: &'static str,
    pub paid_at: &'static str,
    pub scan_with: fn(&str) -> String,
    pub waiting: &'static str,
    pub paid_message: &'static str,
    pub closed_message: &'static str,
    pub refunded_message: &'static str,
    pub closed_ok: &'static str,
    pub no_qr: &'static str,
    pub sandbox_hint: fn(&str) -> String,
    pub sandbox_wallet_link: &'static str,
    pub print: &'static str,
    pub download_png: &'static str,
    pub new_checkout: &'static str,
    pub close: &'static str,
}

pub static EN: CheckoutText = CheckoutText {
    title: "Checkout",
    form_heading: "New checkout",
    channel: "Channel",
    amount: "Amount",
    amount_hint: "For example 12.50. Alipay and WeChat Pay charge in CNY only.",
    currency: "Currency",
    subject: "What is being paid for",
    subject_hint: "Shown to the customer in their wallet; 1 to 128 characters.",
    create: "Create QR code",
    no_channels: "No payment channel is enabled. Ask an admin to enable one on the Credentials page.",
    err_amount_empty: "Enter the amount to charge.",
    err_amount_malformed: "The amount is not a number. Type it like 12.50, without spaces or symbols.",
    err_amount_decimals: |c, d| match d {
        0 => format!("{c} has no decimals. Enter a whole number."),
        d => format!("{c} allows at most {d} decimals. Round the amount and try again."),
    },
    err_amount_positive: "The amount must be more than zero.",
    err_amount_too_large: "The amount is too large. Split it into smaller payments.",
    err_amount_over_limit: |max| {
        format!(
            "The amount is above this channel's maximum of {max} per order. Split it into several payments, or ask an admin to raise the limit on the Credentials page."
        )
    },
    err_currency_unknown: "Pick a currency from the list.",
    err_currency_unsupported: "Alipay and WeChat Pay charge in CNY only. Choose CNY or a Stripe channel.",
    err_subject_invalid: "Describe what is being paid for, in 1 to 128 characters.",
    err_channel_not_found: "This channel does not exist any more. Pick another one.",
    err_channel_disabled: "This channel is disabled. Pick another one or ask an admin to enable it.",
    err_channel_misconfigured: "This channel's credentials are incomplete. Ask an admin to check them on the Credentials page.",
    err_provider_refused: "The payment provider refused this checkout. Check the amount and try again, or use another channel.",
    err_provider_unavailable: "The payment provider could not be reached. Try again in a moment.",
    err_provider_cause: "The payment provider refused this channel, so nothing was charged; it is now marked failing. Use another channel, and ask an admin:",
    failing: "Failing",
    failing_hint: "The last connection check of this live channel failed. An admin can see why on the Credentials page.",
    err_not_allowed: "This order can no longer be closed: it is not pending any more.",
    err_not_found: "There is no such checkout, or it belongs to someone else. Start a new checkout.",
    confirm_heading: "Confirm a large amount",
    confirm_text: |amount, channel| {
        format!(
            "{amount} on {channel} is a large amount. Check it with the customer before the QR code is created: one extra zero is the most common mistake."
        )
    },
    confirm_yes: |amount| format!("Yes, charge {amount}"),
    confirm_change: "No, change the amount",
    order_no: "Order number",
    status: "Status",
    created: "Created",
    expires_at: "Expires at (UTC+8)",
    expires_in: |s| format!("Expires in {}:{:02}", s / 60, s % 60),
    expired: "Expired: the customer can no longer pay this code.",
    paid_at: "Paid at (UTC+8)",
    scan_with: |p| format!("Ask the customer to scan this code with {p}."),
    waiting: "Waiting for the payment… This page updates by itself.",
    paid_message: "Paid. The money has arrived; you can hand over the goods.",
    closed_message: "Closed. This code can no longer be paid; start a new checkout if needed.",
    refunded_message: "Paid and since refunded (in part or in full). See the order for details.",
    closed_ok: "The checkout was closed.",
    no_qr: "The provider returned no QR code for this order. Close it and start a new checkout.",
    sandbox_hint: |url| {
        format!(
            "Sandbox: no real money moves. The code opens the sandbox wallet at {url}. To scan it with a phone, the phone must reach that address: set PAYDESK_PUBLIC_URL to this computer's LAN address (for example http://192.168.1.20:3000)."
        )
    },
    sandbox_wallet_link: "Open the sandbox wallet here",
    print: "Print",
    download_png: "Download PNG",
    new_checkout: "New checkout",
    close: "Close this checkout",
};

pub static ZH: CheckoutText = CheckoutText {
    title: "收款",
    form_heading: "新建收款",
    channel: "支付渠道",
    amount: "金额",
    amount_hint: "例如 12.50。支付宝和微信支付仅支持人民币（CNY）。",
    currency: "币种",
    subject: "商品说明",
    subject_hint: "会显示在顾客的钱包中，1 到 128 个字符。",
    create: "生成收款码",
    no_channels: "没有已启用的支付渠道。请联系管理员在“支付凭证”页面启用一个渠道。",
    err_amount_empty: "请输入收款金额。",
    err_amount_malformed: "金额格式不正确。请输入类似 12.50 的数字，不要带空格或符号。",
    err_amount_decimals: |c, d| match d {
        0 => format!("{c} 没有小数位，请输入整数。"),
        d => format!("{c} 最多允许 {d} 位小数，请调整金额后重试。"),
    },
    err_amount_positive: "金额必须大于零。",
    err_amount_too_large: "金额过大，请拆分为多笔收款。",
    err_amount_over_limit: |max| {
        format!(
            "金额超过了该渠道单笔最高 {max} 的限额。请拆分为多笔收款，或联系管理员在“支付凭证”页面提高限额。"
        )
    },
    err_currency_unknown: "请从列表中选择币种。",
    err_currency_unsupported: "支付宝和微信支付仅支持人民币。请选择 CNY，或改用 Stripe 渠道。",
    err_subject_invalid: "请填写商品说明，长度为 1 到 128 个字符。",
    err_channel_not_found: "该渠道已不存在，请选择其他渠道。",
    err_channel_disabled: "该渠道已停用。请选择其他渠道，或联系管理员启用。",
    err_channel_misconfigured: "该渠道的凭证不完整。请联系管理员在“支付凭证”页面检查。",
    err_provider_refused: "支付渠道拒绝了本次收款。请检查金额后重试，或改用其他渠道。",
    err_provider_unavailable: "暂时无法连接支付渠道，请稍后重试。",
    err_provider_cause: "支付渠道拒绝了此渠道的请求，未发生扣款；该渠道已标记为故障。请改用其他渠道，并请管理员处理：",
    failing: "故障",
    failing_hint: "此生产渠道最近一次连接检查失败。管理员可在“支付凭证”页面查看原因。",
    err_not_allowed: "该订单已不是待支付状态，无法关闭。",
    err_not_found: "找不到该收款单，或它属于其他用户。请新建收款。",
    confirm_heading: "确认大额收款",
    confirm_text: |amount, channel| {
        format!(
            "通过 {channel} 收款 {amount} 属于大额收款。生成二维码前请与顾客核对金额：多输一个零是最常见的错误。"
        )
    },
    confirm_yes: |amount| format!("确认收款 {amount}"),
    confirm_change: "不，修改金额",
    order_no: "订单号",
    status: "状态",
    created: "创建时间",
    expires_at: "失效时间（北京时间）",
    expires_in: |s| format!("{}:{:02} 后失效", s / 60, s % 60),
    expired: "已失效：顾客无法再支付此二维码。",
    paid_at: "支付时间（北京时间）",
    scan_with: |p| format!("请顾客使用{p}扫描此二维码。"),
    waiting: "等待付款中……本页面会自动更新。",
    paid_message: "已支付，款项已到账，可以交付商品。",
    closed_message: "已关闭，此二维码无法再支付。如有需要，请新建收款。",
    refunded_message: "已支付，之后已（部分或全部）退款。详情请查看订单。",
    closed_ok: "收款单已关闭。",
    no_qr: "支付渠道没有为该订单返回二维码。请关闭它并新建收款。",
    sandbox_hint: |url| {
        format!(
            "沙箱环境：不会产生真实扣款。二维码会打开位于 {url} 的沙箱钱包。如需用手机扫码，手机必须能访问该地址：请将 PAYDESK_PUBLIC_URL 设为本机的局域网地址（例如 http://192.168.1.20:3000）。"
        )
    },
    sandbox_wallet_link: "在此打开沙箱钱包",
    print: "打印",
    download_png: "下载 PNG",
    new_checkout: "新建收款",
    close: "关闭此收款单",
};

impl CheckoutText {
    /// Text for a form or status-page problem code; `currency` fills the decimals rule.
    pub fn error(&self, code: &str, currency: &str) -> Option<String> {
        let s = match code {
            "amount_empty" => self.err_amount_empty,
            "amount_malformed" => self.err_amount_malformed,
            "amount_decimals" => {
                let digits = paydesk_core::money::Currency::from_code(currency)
                    .map(|c| c.exponent())
                    .unwrap_or(2);
                return Some((self.err_amount_decimals)(currency, digits));
            }
            "amount_positive" => self.err_amount_positive,
            "amount_too_large" => self.err_amount_too_large,
            "currency_unknown" => self.err_currency_unknown,
            "currency_unsupported" => self.err_currency_unsupported,
            "subject_invalid" => self.err_subject_invalid,
            "channel_not_found" => self.err_channel_not_found,
            "channel_disabled" => self.err_channel_disabled,
            "channel_misconfigured" => self.err_channel_misconfigured,
            "provider_refused" => self.err_provider_refused,
            "provider_unavailable" => self.err_provider_unavailable,
            "not_allowed" => self.err_not_allowed,
            "not_found" => self.err_not_found,
            _ => return None,
        };
        Some(s.to_string())
    }
}
