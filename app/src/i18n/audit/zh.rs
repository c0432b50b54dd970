//! The audit log in Chinese (the English table and the rules are in `audit.rs`).

use super::AuditText;

pub static ZH: AuditText = AuditText {
    actions: &[
        ("login", "登录", "{a} 登录（来自 {d}）。"),
        (
            "login_failed",
            "登录失败",
            "有人以 {o} 的身份登录失败（来自 {d}）。",
        ),
        ("logout", "退出登录", "{a} 退出登录。"),
        ("twofa_verified", "两步验证通过", "{a} 通过了两步验证。"),
        (
            "twofa_failed",
            "两步验证失败",
            "{a} 输入了错误的两步验证码（来自 {d}）。",
        ),
        (
            "twofa_recovery_used",
            "使用恢复码",
            "{a} 使用恢复码登录（{d}）。",
        ),
        (
            "twofa_enrol_started",
            "开始设置两步验证",
            "{a} 开始设置两步验证。",
        ),
        (
            "twofa_enrol_failed",
            "两步验证设置失败",
            "{a} 设置两步验证时输入了错误的验证码。",
        ),
        ("twofa_enabled", "开启两步验证", "{a} 开启了两步验证。"),
        ("twofa_reset", "重置两步验证", "{a} 移除了 {o} 的两步验证。"),
        (
            "twofa_policy_changed",
            "修改两步验证策略",
            "{a} 将两步验证策略设为“{d}”。",
        ),
        ("user_created", "添加用户", "{a} 添加了用户 {o}（{d}）。"),
        (
            "user_role_changed",
            "修改角色",
            "{a} 修改了 {o} 的角色（{d}）。",
        ),
        ("user_disabled", "停用用户", "{a} 停用了用户 {o}。"),
        ("user_enabled", "启用用户", "{a} 重新启用了用户 {o}。"),
        ("password_reset", "重置密码", "{a} 为 {o} 设置了新密码。"),
        ("password_changed", "修改密码", "{a} 修改了 {o} 的密码。"),
        (
            "user_sessions_ended",
            "强制用户退出",
            "{a} 让 {o} 在所有设备上退出登录。",
        ),
        ("session_ended", "结束会话", "{a} 结束了自己的一个会话。"),
        (
            "other_sessions_ended",
            "结束其他会话",
            "{a} 结束了自己的所有其他会话。",
        ),
        (
            "api_key_created",
            "创建 API 密钥",
            "{a} 创建了 API 密钥“{o}”（{d}…）。",
        ),
        (
            "api_key_revoked",
            "吊销 API 密钥",
            "{a} 吊销了 API 密钥“{o}”。",
        ),
        (
            "api_key_refund_policy",
            "API 密钥退款策略",
            "{a} 将 API 密钥“{o}”的退款策略设为“{d}”。",
        ),
        (
            "refund_approval_policy_changed",
            "修改退款审批",
            "{a} 修改了退款审批规则 {o}（{d}）。",
        ),
        (
            "channel_created",
            "添加渠道",
            "{a} 添加了支付渠道 {o}（{d}）。",
        ),
        (
            "channel_updated",
            "修改渠道",
            "{a} 修改了支付渠道 {o}（{d}）。",
        ),
        (
            "channel_disabled",
            "停用渠道",
            "{a} 停用了支付渠道 {o}：不再创建新订单。",
        ),
        ("channel_enabled", "启用渠道", "{a} 启用了支付渠道 {o}。"),
        ("channel_tested", "测试连接", "{a} 测试了 {o} 的连接：{d}。"),
        (
            "channel_limit_set",
            "设置金额上限",
            "{a} 设置了 {o} 的金额上限（{d}）。",
        ),
        (
            "channel_limit_reset",
            "恢复金额上限",
            "{a} 恢复了 {o} 的 {d} 默认金额上限。",
        ),
        (
            "platform_certificates_refreshed",
            "下载平台证书",
            "{a} 下载了 {o} 的平台证书（{d}）。",
        ),
        (
            "platform_certificates_refresh_failed",
            "平台证书下载失败",
            "{a} 未能下载 {o} 的平台证书（{d}）。",
        ),
        (
            "webhook_secret_added",
            "添加 Webhook 密钥",
            "{a} 为 {o} 添加了 Webhook 密钥（{d}）。",
        ),
        (
            "webhook_secret_retired",
            "停用 Webhook 密钥",
            "{a} 停用了 {o} 的一个 Webhook 密钥（{d}）。",
        ),
        (
            "platform_certificate_added",
            "添加平台证书",
            "{a} 为 {o} 添加了平台证书（{d}）。",
        ),
        (
            "platform_certificate_retired",
            "停用平台证书",
            "{a} 停用了 {o} 的一个平台证书（{d}）。",
        ),
        (
            "public_key_set",
            "设置渠道公钥",
            "{a} 设置了 {o} 的渠道公钥（{d}）。",
        ),
        (
            "merchant_key_rotated",
            "轮换商户私钥",
            "{a} 轮换了 {o} 的商户私钥（{d}）。",
        ),
        (
            "merchant_key_retired",
            "停用商户私钥",
            "{a} 停用了 {o} 的一个商户私钥（{d}）。",
        ),
        (
            "alipay_certificate_added",
            "添加支付宝证书",
            "{a} 为 {o} 添加了支付宝证书（{d}）。",
        ),
        (
            "alipay_certificate_retired",
            "停用支付宝证书",
            "{a} 停用了 {o} 的一个支付宝证书（{d}）。",
        ),
        ("order_closed", "关闭订单", "{a} 关闭了订单 {o}。"),
        (
            "refund_requested",
            "申请退款",
            "{a} 为订单 {o} 申请退款（{d}）。",
        ),
        (
            "refund_awaiting_approval",
            "退款待审批",
            "{a} 为订单 {o} 申请了需审批的退款（{d}）。",
        ),
        (
            "refund_approved",
            "批准退款",
            "{a} 批准了订单 {o} 的退款（{d}）。",
        ),
        (
            "refund_rejected",
            "驳回退款",
            "{a} 驳回了订单 {o} 的退款（{d}）。",
        ),
        (
            "merchant_notification_resent",
            "重发商户通知",
            "{a} 重新发送了商户通知 {o}。",
        ),
    ],
    unknown: |a, action, o| format!("{a}：{action} {o}"),
    detail: |d| format!("（{d}）"),
    f_object: "对象",
    f_show: "显示",
    show_changes: "变更（不含登录）",
    show_sign_ins: "仅登录记录",
    show_all: "全部",
    any_action: "全部操作",
    col_what: "发生了什么",
    the_cli: "命令行",
    the_system: "系统",
};
