//! The orders search box: its label, the grammar's help, its errors, saved views.

use paydesk_core::order_query::{FIELDS, QueryError, QueryErrorKind};

pub struct SearchText {
    pub label: &'static str,
    pub placeholder: &'static str,
    pub help_summary: &'static str,
    /// (what to type, what it finds)
    pub help: &'static [(&'static str, &'static str)],
    pub attention: &'static str,
    pub attention_hint: &'static str,
    pub views: &'static str,
    pub views_none: &'static str,
    pub save_label: &'static str,
    pub save: &'static str,
    pub delete: &'static str,
    pub saved: &'static str,
    pub err_view_name: &'static str,
    pub err_view_limit: &'static str,
    /// "At character {at}: "
    pub err_at: &'static str,
    pub err_unknown_field: &'static str,
    pub err_empty_value: &'static str,
    pub err_bad_status: &'static str,
    pub err_bad_amount: &'static str,
    pub err_bad_date: &'static str,
    pub err_unclosed_quote: &'static str,
    pub err_too_short: &'static str,
    pub err_bad_operator: &'static str,
    pub err_bad_choice: &'static str,
    pub err_bad_currency: &'static str,
}

/// This catalog in `lang`. Kept out of [`super::Messages`] on purpose: the islands
/// reach `Messages`, so everything in it ships in the wasm; these texts are server-rendered
/// only.
pub fn of(lang: super::Lang) -> &'static SearchText {
    match lang {
        super::Lang::En => &EN,
        super::Lang::Zh => &ZH,
    }
}

pub static EN: SearchText = SearchText {
    label: "Search",
    placeholder: "Any part of an order or trade number, a word of the subject, or 12.34",
    help_summary: "How to search",
    help: &[
        (
            "K9Q2",
            "orders whose number contains K9Q2 (any case, start, end or middle)",
        ),
        (
            "2026120422001",
            "orders whose provider trade number starts with it",
        ),
        (
            "拿铁 latte",
            "orders whose subject has both words (Chinese words of 1–2 characters too)",
        ),
        ("12.34", "orders of exactly ¥12.34"),
        (
            "status:paid,refunded",
            "paid or refunded orders; -status:closed leaves closed ones out",
        ),
        (
            "channel:alipay-sandbox",
            "orders of that channel; -channel:… leaves it out",
        ),
        (
            "amount:>100 amount:<=250",
            "amounts in a range (> >= < <=), in the currency chosen",
        ),
        (
            "created:>=2026-11-01",
            "created on or after that day (UTC+8); also created:today, created:yesterday, created:7d",
        ),
        (
            "creator:alice currency:usd method:code",
            "who created it, its currency, paid by payment code (or qr)",
        ),
        ("is:attention", "orders that need attention"),
        (
            "-refund \"iced latte\"",
            "without the word refund; quotes keep words together",
        ),
    ],
    attention: "Needs attention",
    attention_hint: "Pending over 10 minutes, failed refunds, refunds awaiting approval, refused provider notifications.",
    views: "Saved views",
    views_none: "No saved views yet: search, then save the search with a name.",
    save_label: "Save this search as",
    save: "Save view",
    delete: "Delete",
    saved: "View saved.",
    err_view_name: "Give the view a name of 1 to 40 characters.",
    err_view_limit: "You have 20 saved views already. Delete one first.",
    err_at: "At character {at}: ",
    err_unknown_field: "“{near}” is not a search field. Use one of: {fields}.",
    err_empty_value: "“{near}” needs a value after the colon, e.g. status:paid.",
    err_bad_status: "“{near}” is not an order status. Use pending, paid, partially_refunded, refunded or closed.",
    err_bad_amount: "“{near}” is not an amount. Write it like 100 or 12.34, after > >= < <= if you like.",
    err_bad_date: "“{near}” is not a day. Write YYYY-MM-DD, today, yesterday or 7d (only with =).",
    err_unclosed_quote: "A quote is not closed: add the closing \" after {near}.",
    err_too_short: "“{near}” is too short to search. Type at least 3 characters (a Chinese word may be 1 or 2).",
    err_bad_operator: "“{near}”: > and < work only with amount: and created:; - only with status:, channel: and words.",
    err_bad_choice: "“{near}” is not a choice here: method: takes qr or code; is: takes attention.",
    err_bad_currency: "“{near}” is not a currency paydesk knows (CNY, USD, EUR …).",
};

pub static ZH: SearchText = SearchText {
    label: "搜索",
    placeholder: "订单号或交易号的任意一段、商品名中的词，或金额 12.34",
    help_summary: "搜索语法",
    help: &[
        (
            "K9Q2",
            "订单号包含 K9Q2 的订单（不区分大小写，开头、结尾或中间均可）",
        ),
        ("2026120422001", "支付渠道交易号以此开头的订单"),
        (
            "拿铁 latte",
            "商品名同时包含这两个词的订单（一两个字的中文词也可以）",
        ),
        ("12.34", "金额恰好为 ¥12.34 的订单"),
        (
            "status:paid,refunded",
            "已支付或已退款的订单；-status:closed 排除已关闭的",
        ),
        (
            "channel:alipay-sandbox",
            "该渠道的订单；-channel:… 排除该渠道",
        ),
        (
            "amount:>100 amount:<=250",
            "金额范围（> >= < <=），按所选币种",
        ),
        (
            "created:>=2026-11-01",
            "该日（UTC+8）及之后创建；也可用 created:today、created:yesterday、created:7d",
        ),
        (
            "creator:alice currency:usd method:code",
            "创建人、币种、付款码支付（或 qr 扫码）",
        ),
        ("is:attention", "需要处理的订单"),
        (
            "-refund \"iced latte\"",
            "不含 refund 一词；引号内的词作为整体",
        ),
    ],
    attention: "需要处理",
    attention_hint: "待支付超过 10 分钟、退款失败、退款待审批、支付渠道通知被拒绝的订单。",
    views: "已保存的视图",
    views_none: "还没有保存的视图：先搜索，再为这次搜索起个名字保存。",
    save_label: "将此搜索保存为",
    save: "保存视图",
    delete: "删除",
    saved: "视图已保存。",
    err_view_name: "请为视图起一个 1 到 40 个字符的名字。",
    err_view_limit: "已保存 20 个视图，请先删除一个。",
    err_at: "第 {at} 个字符处：",
    err_unknown_field: "“{near}”不是搜索字段。可用字段：{fields}。",
    err_empty_value: "“{near}”的冒号后需要填写值，例如 status:paid。",
    err_bad_status: "“{near}”不是订单状态。请用 pending、paid、partially_refunded、refunded 或 closed。",
    err_bad_amount: "“{near}”不是金额。请写成 100 或 12.34，前面可加 > >= < <=。",
    err_bad_date: "“{near}”不是日期。请写 YYYY-MM-DD、today、yesterday 或 7d（7d 只能与 = 连用）。",
    err_unclosed_quote: "引号没有闭合：请在 {near} 之后补上 \"。",
    err_too_short: "“{near}”太短，无法搜索。请至少输入 3 个字符（中文词可以是 1 或 2 个字）。",
    err_bad_operator: "“{near}”：> 和 < 只能用于 amount: 与 created:；- 只能用于 status:、channel: 和普通词。",
    err_bad_choice: "“{near}”不是可选值：method: 可选 qr 或 code；is: 可选 attention。",
    err_bad_currency: "“{near}”不是 paydesk 支持的币种（CNY、USD、EUR 等）。",
};

impl SearchText {
    /// The whole sentence for a search box error: where, and what to change.
    pub fn problem(&self, e: &QueryError) -> String {
        use QueryErrorKind as K;
        let what = match e.kind {
            K::UnknownField => self.err_unknown_field,
            K::EmptyValue => self.err_empty_value,
            K::BadStatus => self.err_bad_status,
            K::BadAmount => self.err_bad_amount,
            K::BadDate => self.err_bad_date,
            K::UnclosedQuote => self.err_unclosed_quote,
            K::TooShort => self.err_too_short,
            K::BadOperator => self.err_bad_operator,
            K::BadChoice => self.err_bad_choice,
            K::BadCurrency => self.err_bad_currency,
        };
        let at = self.err_at.replace("{at}", &(e.at + 1).to_string());
        let what = what
            .replace("{near}", &e.near)
            .replace("{fields}", &FIELDS.join(", "));
        format!("{at}{what}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_names_the_text_in_both_languages() {
        let e = paydesk_core::order_query::parse("stauts:paid").expect_err("bad field");
        for t in [&EN, &ZH] {
            let s = t.problem(&e);
            assert!(s.contains("stauts"), "{s}");
            assert!(s.contains("status, channel"), "{s}");
            assert!(s.contains('1'), "{s}");
        }
    }
}
