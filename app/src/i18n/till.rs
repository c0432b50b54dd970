//! The till (`/till`): a keypad sale, charged to the customer's payment code (付款码) or
//! shown as a QR code.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct TillText {
    pub nav: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub amount: &'static str,
    pub note: &'static str,
    pub note_hint: &'static str,
    /// The default description of a sale when the note is left empty.
    pub default_note: &'static str,
    pub scan: &'static str,
    pub scan_hint: &'static str,
    pub charge: &'static str,
    pub show_qr: &'static str,
    pub clear: &'static str,
    pub backspace: &'static str,
    pub keypad: &'static str,
    pub wallet_alipay: &'static str,
    pub wallet_wechat: &'static str,
    // Problems, by code (see `error`).
    pub err_code_missing: &'static str,
    pub err_code_not_digits: &'static str,
    pub err_code_unknown: &'static str,
    pub err_no_channel: &'static str,
    /// The provider's decline code and message.
    pub err_declined: fn(&str) -> String,
    // The status page of a code payment.
    pub waiting_password: &'static str,
    pub cancel_payment: &'static str,
    pub paid_by_code: &'static str,
    pub new_sale: &'static str,
    /// A code payment that ended without being paid.
    pub cancelled_by_code: &'static str,
    pub err_no_qr_channel: &'static str,
    /// The amount, formatted.
    pub err_confirm_large: fn(&str) -> String,
    // This till's settings (kept on the device).
    pub settings: &'static str,
    pub settings_channel: &'static str,
    pub settings_note: &'static str,
    pub settings_note_hint: &'static str,
    pub settings_save: &'static str,
    pub settings_saved: &'static str,
    /// "QR codes go to {channel}".
    pub qr_on: fn(&str) -> String,
}

pub static EN: TillText = TillText {
    nav: "Till",
    title: "Till",
    intro: "Type the amount, then scan the customer's payment code — or show a QR code.",
    amount: "Amount (CNY)",
    note: "Note",
    note_hint: "Optional; shown to the customer in their wallet.",
    default_note: "Counter sale",
    scan: "Customer's payment code",
    scan_hint: "Scan the code in the customer's Alipay or WeChat (付款码) with the barcode scanner, or type its digits. Enter charges it.",
    charge: "Charge the code",
    show_qr: "Show a QR code instead",
    clear: "Clear",
    backspace: "Delete last digit",
    keypad: "Keypad",
    wallet_alipay: "Alipay code",
    wallet_wechat: "WeChat Pay code",
    err_code_missing: "Scan the customer's payment code first (or show a QR code instead).",
    err_code_not_digits: "That is not a payment code: it should be digits only. Ask the customer to refresh the code in their wallet and scan again.",
    err_code_unknown: "That code is not an Alipay or WeChat Pay payment code. Ask the customer to open the payment code (付款码) in their wallet.",
    err_no_channel: "No enabled channel can charge this kind of payment code. Show a QR code instead, or ask an admin to add a channel.",
    err_declined: |why| {
        format!(
            "The payment was declined, nothing was charged ({why}). Ask the customer to refresh the code or pay another way."
        )
    },
    waiting_password: "Waiting for the customer to confirm in their wallet (password)…",
    cancel_payment: "Cancel this payment",
    paid_by_code: "Paid by the customer's code",
    new_sale: "New sale",
    cancelled_by_code: "Cancelled: nothing was charged. Ask the customer to pay again (a fresh code, or a QR code).",
    err_no_qr_channel: "No enabled channel can show a QR code. Ask an admin to add or enable one.",
    err_confirm_large: |amount| {
        format!(
            "{amount} is a large amount. Check it with the customer; to take it, scan the code again (or show the QR code again)."
        )
    },
    settings: "This till",
    settings_channel: "QR code channel",
    settings_note: "Default note",
    settings_note_hint: "Used when a sale has no note, e.g. your shop's name. Kept on this device.",
    settings_save: "Save for this till",
    settings_saved: "Saved for this till.",
    qr_on: |channel| format!("QR codes: {channel}"),
};

pub static ZH: TillText = TillText {
    nav: "收银台",
    title: "收银台",
    intro: "输入金额，再扫描顾客的付款码；也可以出示收款二维码。",
    amount: "金额（人民币）",
    note: "备注",
    note_hint: "可选；会显示在顾客的钱包中。",
    default_note: "门店收款",
    scan: "顾客付款码",
    scan_hint: "用扫码枪扫描顾客支付宝或微信中的付款码，或手动输入数字，按回车即收款。",
    charge: "扫码收款",
    show_qr: "改为出示二维码",
    clear: "清空",
    backspace: "删除最后一位",
    keypad: "数字键盘",
    wallet_alipay: "支付宝付款码",
    wallet_wechat: "微信付款码",
    err_code_missing: "请先扫描顾客的付款码（或改为出示二维码）。",
    err_code_not_digits: "这不是付款码：付款码只包含数字。请顾客刷新钱包中的付款码后重新扫描。",
    err_code_unknown: "这不是支付宝或微信支付的付款码。请顾客打开钱包中的付款码。",
    err_no_channel: "没有可以收取此类付款码的已启用渠道。请改为出示二维码，或请管理员添加渠道。",
    err_declined: |why| format!("付款被拒绝，未扣款（{why}）。请顾客刷新付款码或换一种方式付款。"),
    waiting_password: "等待顾客在钱包中确认（输入密码）……",
    cancel_payment: "撤销此笔收款",
    paid_by_code: "已通过顾客付款码收款",
    new_sale: "下一笔收款",
    cancelled_by_code: "已撤销，未扣款。请顾客重新付款（刷新付款码，或改用二维码）。",
    err_no_qr_channel: "没有可以出示二维码的已启用渠道。请管理员添加或启用渠道。",
    err_confirm_large: |amount| {
        format!("{amount} 是大额收款。请与顾客核对金额；确认收款请再次扫码（或再次出示二维码）。")
    },
    settings: "本收银台",
    settings_channel: "二维码收款渠道",
    settings_note: "默认备注",
    settings_note_hint: "收款未填备注时使用，例如店名。保存在本设备上。",
    settings_save: "保存到本收银台",
    settings_saved: "已保存到本收银台。",
    qr_on: |channel| format!("二维码渠道：{channel}"),
};

impl TillText {
    /// Text for a till problem code (`?error=`), `detail` for a decline.
    pub fn error(&self, code: &str, detail: &str) -> Option<String> {
        Some(match code {
            "code_missing" => self.err_code_missing.to_string(),
            "code_not_digits" => self.err_code_not_digits.to_string(),
            "code_unknown" => self.err_code_unknown.to_string(),
            "no_code_channel" => self.err_no_channel.to_string(),
            "declined" => (self.err_declined)(detail),
            "no_qr_channel" => self.err_no_qr_channel.to_string(),
            _ => return None,
        })
    }
}
