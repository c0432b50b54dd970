//! The order timeline as sentences (`pages/orders/detail/timeline.rs`): one per step.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct StoryText {
    /// (who, amount)
    pub created: fn(&str, &str) -> String,
    /// (by what, provider trade no.)
    pub paid: fn(&str, &str) -> String,
    /// (by what)
    pub closed: fn(&str) -> String,
    /// (who, amount, refund no., reason)
    pub refund_requested: fn(&str, &str, &str, &str) -> String,
    pub refund_awaiting: fn(&str, &str, &str, &str) -> String,
    /// (who, refund no.)
    pub refund_approved: fn(&str, &str) -> String,
    /// (who, refund no., reason)
    pub refund_rejected: fn(&str, &str, &str) -> String,
    /// (by what, amount, refund no.)
    pub refund_succeeded: fn(&str, &str, &str) -> String,
    /// (refund no., reason)
    pub refund_failed: fn(&str, &str) -> String,
    /// A change this version does not know: (kind, detail).
    pub other: fn(&str, &str) -> String,
    /// A notification that changed nothing: (event, verdict, reason).
    pub notification: fn(&str, &str, &str) -> String,
    /// A refund no change names: (refund no., amount, status).
    pub refund_alone: fn(&str, &str, &str) -> String,
    /// An event forwarded to the merchant: (event, delivery status).
    pub forwarded: fn(&str, &str) -> String,
    /// A provider call outside any step: (operation, outcome).
    pub call_alone: fn(&str, &str) -> String,
    /// The collapsed technical record: (calls, failed calls, notifications).
    pub record: fn(usize, usize, usize) -> String,
    pub notification_line: fn(&str) -> String,
    pub via_notify: &'static str,
    pub via_query: &'static str,
    pub via_provider: &'static str,
    pub via_expiry: &'static str,
    /// What confirmed a result that came back in answer to a person's or a key's request.
    pub via_answer: &'static str,
    pub via_user: fn(&str) -> String,
    pub via_api_key: fn(&str) -> String,
    pub via_system: fn(&str) -> String,
    pub no_reason: &'static str,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// This catalog in `lang`. Kept out of [`super::Messages`] on purpose: the islands
/// reach `Messages`, so everything in it ships in the wasm; the timeline is server-rendered.
pub fn of(lang: super::Lang) -> &'static StoryText {
    match lang {
        super::Lang::En => &EN,
        super::Lang::Zh => &ZH,
    }
}

pub static EN: StoryText = StoryText {
    created: |who, amount| format!("Created for {amount} by {who}."),
    paid: |via, no| format!("Paid, confirmed by {via} (provider trade no. {no})."),
    closed: |via| format!("Closed by {via}; its QR code can no longer be paid."),
    refund_requested: |who, amount, no, reason| {
        format!("Refund requested by {who}: {amount} ({no}), reason: {reason}.")
    },
    refund_awaiting: |who, amount, no, reason| {
        format!(
            "Refund awaiting approval: {who} asked for {amount} ({no}), reason: {reason}; another admin must approve it."
        )
    },
    refund_approved: |who, no| format!("Refund approved by {who} ({no}); it is sent now."),
    refund_rejected: |who, no, reason| {
        format!("Refund rejected by {who} ({no}): {reason}. The amount is refundable again.")
    },
    refund_succeeded: |via, amount, no| {
        format!("Refund succeeded: {amount} ({no}) went back to the payer, confirmed by {via}.")
    },
    refund_failed: |no, reason| {
        format!("Refund failed ({no}): {reason}. The amount is refundable again.")
    },
    other: |kind, detail| format!("{kind}: {detail}"),
    notification: |event, verdict, reason| {
        let why = if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        };
        format!("The provider sent a “{event}” notification that changed nothing: {verdict}{why}.")
    },
    refund_alone: |no, amount, status| format!("Refund {no} of {amount}: {status}."),
    forwarded: |event, status| format!("Forwarded “{event}” to the merchant's system: {status}."),
    call_alone: |op, outcome| format!("Provider call “{op}”: {outcome}."),
    record: |calls, failed, notes| {
        let mut parts = Vec::new();
        if calls > 0 {
            parts.push(plural(calls, "provider call", "provider calls"));
        }
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        if notes > 0 {
            parts.push(plural(notes, "notification", "notifications"));
        }
        parts.join(", ")
    },
    notification_line: |verdict| format!("Provider notification: {verdict}"),
    via_notify: "the provider's notification",
    via_query: "an active query",
    via_provider: "the provider",
    via_expiry: "paydesk, as it expired unpaid",
    via_answer: "the provider's answer",
    via_user: |u| format!("user {u}"),
    via_api_key: |k| format!("API key {k}"),
    via_system: |s| format!("paydesk ({s})"),
    no_reason: "none given",
};

pub static ZH: StoryText = StoryText {
    created: |who, amount| format!("{who}创建订单，金额 {amount}。"),
    paid: |via, no| format!("已支付，由{via}确认（渠道交易号 {no}）。"),
    closed: |via| format!("订单由{via}关闭，二维码无法再支付。"),
    refund_requested: |who, amount, no, reason| {
        format!("{who}申请退款 {amount}（{no}），原因：{reason}。")
    },
    refund_awaiting: |who, amount, no, reason| {
        format!("退款待审批：{who}申请退款 {amount}（{no}），原因：{reason}；需另一位管理员批准。")
    },
    refund_approved: |who, no| format!("退款已批准：{who}批准了退款（{no}），现在发出。"),
    refund_rejected: |who, no, reason| {
        format!("退款已驳回：{who}驳回了退款（{no}），原因：{reason}。该金额可再次退款。")
    },
    refund_succeeded: |via, amount, no| {
        format!("退款成功：{amount}（{no}）已退回付款人，由{via}确认。")
    },
    refund_failed: |no, reason| format!("退款失败（{no}）：{reason}。该金额可再次退款。"),
    other: |kind, detail| format!("{kind}：{detail}"),
    notification: |event, verdict, reason| {
        let why = if reason.is_empty() {
            String::new()
        } else {
            format!("（{reason}）")
        };
        format!("渠道发来“{event}”通知，未改变订单：{verdict}{why}。")
    },
    refund_alone: |no, amount, status| format!("退款 {no}，金额 {amount}：{status}。"),
    forwarded: |event, status| format!("已将“{event}”转发给商户系统：{status}。"),
    call_alone: |op, outcome| format!("渠道调用“{op}”：{outcome}。"),
    record: |calls, failed, notes| {
        let mut parts = Vec::new();
        if calls > 0 {
            parts.push(format!("渠道调用 {calls} 次"));
        }
        if failed > 0 {
            parts.push(format!("失败 {failed} 次"));
        }
        if notes > 0 {
            parts.push(format!("渠道通知 {notes} 条"));
        }
        parts.join("，")
    },
    notification_line: |verdict| format!("渠道通知：{verdict}"),
    via_notify: "渠道通知",
    via_query: "主动查询",
    via_provider: "支付渠道",
    via_expiry: "系统（超时未支付）",
    via_answer: "渠道答复",
    via_user: |u| format!("用户 {u} "),
    via_api_key: |k| format!("API 密钥 {k} "),
    via_system: |s| format!("系统（{s}）"),
    no_reason: "未填写",
};

impl StoryText {
    /// Who or what caused a step, from its cause (kind, reference).
    pub fn via(&self, cause: Option<&(String, String)>) -> String {
        let Some((kind, r)) = cause else {
            return self.via_provider.to_string();
        };
        match (kind.as_str(), r.as_str()) {
            ("notify", _) => self.via_notify.to_string(),
            ("query", _) => self.via_query.to_string(),
            ("user", u) => (self.via_user)(u),
            ("api_key", k) => (self.via_api_key)(k),
            (_, "expired") => self.via_expiry.to_string(),
            (_, s) => (self.via_system)(s),
        }
    }

    /// What confirmed a result (paid, refunded): the provider's answer when a person or
    /// a key asked, else whatever caused it.
    pub fn confirmed_by(&self, cause: Option<&(String, String)>) -> String {
        match cause.map(|(k, _)| k.as_str()) {
            Some("user" | "api_key") => self.via_answer.to_string(),
            _ => self.via(cause),
        }
    }
}
