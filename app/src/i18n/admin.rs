//! Admin comfort: the confirmation step before disabling, revoking and retiring, copy
//! buttons for secrets shown once, and the page a shown-once secret is read on.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct AdminText {
    pub confirm_title: &'static str,
    pub confirm_disable_user: fn(&str) -> String,
    pub confirm_disable_user_yes: fn(&str) -> String,
    pub confirm_revoke_key: fn(&str) -> String,
    pub confirm_revoke_key_yes: fn(&str) -> String,
    pub confirm_disable_channel: fn(&str) -> String,
    pub confirm_disable_channel_yes: fn(&str) -> String,
    /// (channel, what: a serial or fingerprint)
    pub confirm_retire: fn(&str, &str) -> String,
    pub confirm_retire_yes: &'static str,
    pub cancel: &'static str,
    /// The button's words after a first press, with JavaScript.
    pub press_again: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_failed: &'static str,
    pub secret_gone_title: &'static str,
    pub secret_gone: &'static str,
    pub temp_password_title: &'static str,
    pub temp_password_once: fn(&str) -> String,
    pub temp_password_hint: &'static str,
}

pub static EN: AdminText = AdminText {
    confirm_title: "Please confirm",
    confirm_disable_user: |u| {
        format!(
            "Disable user {u}? They are signed out everywhere at once and can no longer sign in until enabled again."
        )
    },
    confirm_disable_user_yes: |u| format!("Yes, disable {u}"),
    confirm_revoke_key: |k| {
        format!(
            "Revoke API key “{k}”? Every system using it is refused from now on. This cannot be undone."
        )
    },
    confirm_revoke_key_yes: |k| format!("Yes, revoke “{k}”"),
    confirm_disable_channel: |c| {
        format!(
            "Disable channel {c}? No new checkout uses it; orders already made on it still settle and refund."
        )
    },
    confirm_disable_channel_yes: |c| format!("Yes, disable {c}"),
    confirm_retire: |c, what| {
        format!(
            "Retire {what} of channel {c}? It is no longer used or trusted. Make sure its successor works first."
        )
    },
    confirm_retire_yes: "Yes, retire it",
    cancel: "Cancel",
    press_again: "Press again to confirm",
    copy: "Copy",
    copied: "Copied",
    copy_failed: "Select the text and copy it",
    secret_gone_title: "Already shown",
    secret_gone: "This secret was shown once and is not shown again (also not after Back or a reload). If it was not saved, revoke the key and create a new one.",
    temp_password_title: "Temporary password",
    temp_password_once: |u| {
        format!(
            "The temporary password of {u}, shown only this once: hand it over in person; they should change it soon."
        )
    },
    temp_password_hint: "Leave empty to generate a temporary password (shown once).",
};

pub static ZH: AdminText = AdminText {
    confirm_title: "请确认",
    confirm_disable_user: |u| {
        format!("确定停用用户 {u} 吗？该用户会立即在所有设备上退出登录，重新启用前无法登录。")
    },
    confirm_disable_user_yes: |u| format!("确定停用 {u}"),
    confirm_revoke_key: |k| {
        format!("确定吊销 API 密钥“{k}”吗？使用它的系统将立即被拒绝。此操作无法撤销。")
    },
    confirm_revoke_key_yes: |k| format!("确定吊销“{k}”"),
    confirm_disable_channel: |c| {
        format!("确定停用支付渠道 {c} 吗？新订单不再使用它；已有订单仍可完成支付和退款。")
    },
    confirm_disable_channel_yes: |c| format!("确定停用 {c}"),
    confirm_retire: |c, what| {
        format!("确定停用渠道 {c} 的 {what} 吗？停用后不再使用或信任它。请先确认新的已可用。")
    },
    confirm_retire_yes: "确定停用",
    cancel: "取消",
    press_again: "再按一次确认",
    copy: "复制",
    copied: "已复制",
    copy_failed: "请选中文字后复制",
    secret_gone_title: "已显示过",
    secret_gone: "该密钥只显示一次，不会再次显示（后退或刷新也不会）。如果没有保存，请吊销该密钥并重新创建。",
    temp_password_title: "临时密码",
    temp_password_once: |u| {
        format!("用户 {u} 的临时密码，只显示这一次：请当面交给对方，并提醒其尽快修改。")
    },
    temp_password_hint: "留空则自动生成临时密码（只显示一次）。",
};
