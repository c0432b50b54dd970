//! Words used on many pages: order and refund statuses, buttons, empty states.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct CommonText {
    pub status_pending: &'static str,
    pub status_paid: &'static str,
    pub status_partially_refunded: &'static str,
    pub status_refunded: &'static str,
    pub status_closed: &'static str,
    pub refund_pending: &'static str,
    pub refund_succeeded: &'static str,
    pub refund_failed: &'static str,
    pub sandbox: &'static str,
    pub live: &'static str,
    pub search: &'static str,
    pub reset: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub none: &'static str,
}

pub static EN: CommonText = CommonText {
    status_pending: "Pending",
    status_paid: "Paid",
    status_partially_refunded: "Partially refunded",
    status_refunded: "Refunded",
    status_closed: "Closed",
    refund_pending: "Pending",
    refund_succeeded: "Succeeded",
    refund_failed: "Failed",
    sandbox: "Sandbox",
    live: "Live",
    search: "Search",
    reset: "Reset",
    next_page: "Next page",
    first_page: "First page",
    none: "—",
};

pub static ZH: CommonText = CommonText {
    status_pending: "待支付",
    status_paid: "已支付",
    status_partially_refunded: "部分退款",
    status_refunded: "已退款",
    status_closed: "已关闭",
    refund_pending: "处理中",
    refund_succeeded: "退款成功",
    refund_failed: "退款失败",
    sandbox: "沙箱",
    live: "正式",
    search: "搜索",
    reset: "重置",
    next_page: "下一页",
    first_page: "第一页",
    none: "—",
};

impl CommonText {
    pub fn order_status(&self, s: paydesk_core::order::OrderStatus) -> &'static str {
        use paydesk_core::order::OrderStatus::*;
        match s {
            Pending => self.status_pending,
            Paid => self.status_paid,
            PartiallyRefunded => self.status_partially_refunded,
            Refunded => self.status_refunded,
            Closed => self.status_closed,
        }
    }

    pub fn refund_status(&self, s: paydesk_core::order::RefundStatus) -> &'static str {
        use paydesk_core::order::RefundStatus::*;
        match s {
            Pending => self.refund_pending,
            Succeeded => self.refund_succeeded,
            Failed => self.refund_failed,
        }
    }
}
