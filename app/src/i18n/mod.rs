//! Interface text in English and Chinese.
//!
//! A typed catalog instead of key lookups: every language fills the same struct, so a
//! missing translation is a compile error, not a blank label in production. The language
//! comes from the `paydesk_lang` cookie (set by the language switch), else from
//! `Accept-Language`, else English.

pub mod admin;
pub mod audit;
pub mod checkout;
pub mod common;
pub mod counter;
pub mod credentials;
pub mod first_steps;
pub mod limits;
pub mod logs;
pub mod orders;
pub mod overview;
pub mod preferences;
pub mod search;
pub mod security;
pub mod sessions;
pub mod story;
pub mod test_mode;
pub mod till;
pub mod twofa;
pub mod users;

use crate::server_fns::error::AppError;

use serde::{Deserialize, Serialize};

pub const LANG_COOKIE: &str = "paydesk_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The value for `<html lang>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring
    /// q-values (`zh-CN,zh;q=0.9,en;q=0.8` → Chinese).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((lang, q));
            }
        }
        best.map(|(l, _)| l)
    }

    /// The language for a request: cookie first, then the browser's preference.
    pub fn negotiate(cookie_header: Option<&str>, accept_language: Option<&str>) -> Lang {
        crate::preferences::cookie_value(cookie_header, LANG_COOKIE)
            .and_then(Lang::from_code)
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    pub fn t(self) -> &'static Messages {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
        }
    }
}

pub struct Messages {
    pub common: &'static common::CommonText,
    pub checkout: &'static checkout::CheckoutText,
    pub till: &'static till::TillText,
    pub counter: &'static counter::CounterText,
    pub orders: &'static orders::OrdersText,
    pub logs: &'static logs::LogsText,
    pub credentials: &'static credentials::CredentialsText,
    pub users: &'static users::UsersText,
    pub sessions: &'static sessions::SessionsText,
    pub overview: &'static overview::OverviewText,
    pub preferences: &'static preferences::PreferencesText,
    pub twofa: &'static twofa::TwoFaText,
    pub security: &'static security::SecurityText,
    pub admin: &'static admin::AdminText,
    pub audit: &'static audit::AuditText,
    pub app_name: &'static str,
    pub language_name: &'static str,
    pub nav_overview: &'static str,
    pub nav_checkout: &'static str,
    pub nav_orders: &'static str,
    pub nav_refunds: &'static str,
    pub nav_logs: &'static str,
    pub nav_credentials: &'static str,
    pub nav_users: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    /// The first link of every page, for keyboards and screen readers.
    pub skip_to_content: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_title: &'static str,
    pub login_hint: &'static str,
    pub err_invalid_credentials: &'static str,
    pub err_locked: fn(i64) -> String,
    pub err_cross_origin: &'static str,
    pub err_unauthenticated: &'static str,
    pub err_forbidden: &'static str,
    pub err_internal: &'static str,
    pub err_not_found: &'static str,
    pub welcome: fn(&str) -> String,
    pub role_admin: &'static str,
    pub role_support: &'static str,
    pub role_merchant: &'static str,
    pub overview_intro: &'static str,
    pub coming_soon: &'static str,
    pub page_checkout_intro: &'static str,
    pub page_orders_intro: &'static str,
    pub page_refunds_intro: &'static str,
    pub page_logs_intro: &'static str,
    pub page_credentials_intro: &'static str,
    pub page_users_intro: &'static str,
    pub col_username: &'static str,
    pub col_role: &'static str,
    pub col_status: &'static str,
    pub col_created: &'static str,
    pub status_active: &'static str,
    pub status_disabled: &'static str,
    pub loading: &'static str,
    pub go_to_login: &'static str,
    // The sandbox wallet page (`/sandbox/pay/<code>`), what a phone opens from a sandbox QR.
    pub wallet_title: &'static str,
    pub wallet_note: &'static str,
    pub wallet_merchant_item: &'static str,
    pub wallet_amount: &'static str,
    pub wallet_pay_with: fn(&str) -> String,
    pub wallet_pay: &'static str,
    pub wallet_cancel: &'static str,
    pub wallet_paid: &'static str,
    pub wallet_closed: &'static str,
    pub wallet_not_found: &'static str,
    pub wallet_unavailable: &'static str,
    // The sandbox wallet's payment code (`/sandbox/wallet/<provider>`), for the till to scan.
    pub wallet_code_title: fn(&str) -> String,
    pub wallet_code_hint: &'static str,
    pub wallet_code_mode: &'static str,
    pub wallet_code_mode_pay: &'static str,
    pub wallet_code_mode_password: &'static str,
    pub wallet_code_mode_decline: &'static str,
    pub wallet_code_password: fn(&str) -> String,
    pub wallet_code_confirm: &'static str,
    pub wallet_code_used: &'static str,
    pub wallet_code_new: &'static str,
    pub provider_alipay: &'static str,
    pub provider_wechatpay: &'static str,
    pub provider_stripe: &'static str,
    pub provider_wechatpay_v2: &'static str,
}

pub static EN: Messages = Messages {
    common: &common::EN,
    checkout: &checkout::EN,
    till: &till::EN,
    counter: &counter::EN,
    orders: &orders::EN,
    logs: &logs::EN,
    credentials: &credentials::EN,
    users: &users::EN,
    sessions: &sessions::EN,
    overview: &overview::EN,
    preferences: &preferences::EN,
    twofa: &twofa::EN,
    security: &security::EN,
    admin: &admin::EN,
    audit: &audit::EN,
    app_name: "paydesk",
    language_name: "English",
    nav_overview: "Overview",
    nav_checkout: "Checkout",
    nav_orders: "Orders",
    nav_refunds: "Refunds",
    nav_logs: "Logs",
    nav_credentials: "Credentials",
    nav_users: "Users",
    sign_in: "Sign in",
    sign_out: "Sign out",
    skip_to_content: "Skip to content",
    username: "Username",
    password: "Password",
    login_title: "Sign in to paydesk",
    login_hint: "On first start paydesk printed an admin password to its console.",
    err_invalid_credentials: "Wrong username or password. Check both and try again.",
    err_locked: |m| {
        format!(
            "Too many failed sign-ins. This account is locked; try again in {m} minutes or ask an admin."
        )
    },
    err_cross_origin: "This form was sent from another site and was refused. Open paydesk directly and try again.",
    err_unauthenticated: "Your session has ended. Sign in again to continue.",
    err_forbidden: "Your role cannot open this page. Ask an admin if you need access.",
    err_internal: "Something went wrong on the server. Try again; if it persists, tell your admin.",
    err_not_found: "There is no such page. Use the navigation to find what you need.",
    welcome: |name| format!("Welcome, {name}"),
    role_admin: "Admin",
    role_support: "Support",
    role_merchant: "Merchant",
    overview_intro: "Pick a task from the navigation. You only see what your role may use.",
    coming_soon: "This page is being built.",
    page_checkout_intro: "Create a checkout QR code for Alipay, WeChat Pay or Stripe.",
    page_orders_intro: "Search orders by number, status, channel, amount and date.",
    page_refunds_intro: "Refund paid orders, fully or in part, and follow their status.",
    page_logs_intro: "Notifications received, provider calls and the audit log.",
    page_credentials_intro: "Provider channels, keys and certificates, and their rotation.",
    page_users_intro: "People who can sign in, and their roles.",
    col_username: "Username",
    col_role: "Role",
    col_status: "Status",
    col_created: "Created",
    status_active: "Active",
    status_disabled: "Disabled",
    loading: "Loading…",
    go_to_login: "Go to sign-in",
    wallet_title: "Sandbox wallet",
    wallet_note: "This is the paydesk sandbox. No real money moves.",
    wallet_merchant_item: "Item",
    wallet_amount: "Amount",
    wallet_pay_with: |p| format!("Pay with {p} (sandbox)"),
    wallet_pay: "Pay",
    wallet_cancel: "Cancel",
    wallet_paid: "Paid. The merchant is being notified; you can close this page.",
    wallet_closed: "This order is closed and can no longer be paid.",
    wallet_not_found: "There is no sandbox order for this code. Scan the QR code again.",
    wallet_unavailable: "The sandbox is not available right now. Try again in a moment.",
    wallet_code_title: |p| format!("{p} payment code (sandbox)"),
    wallet_code_hint: "Show this code to the cashier. It can be charged once; a new one appears every minute.",
    wallet_code_mode: "When the cashier charges it",
    wallet_code_mode_pay: "Pay at once",
    wallet_code_mode_password: "Ask for my password",
    wallet_code_mode_decline: "Decline (not enough balance)",
    wallet_code_password: |a| format!("The cashier charged {a}. Enter your password to pay."),
    wallet_code_confirm: "Confirm with password",
    wallet_code_used: "This code has been used.",
    wallet_code_new: "Show a new code",
    provider_alipay: "Alipay",
    provider_wechatpay: "WeChat Pay",
    provider_stripe: "Stripe",
    provider_wechatpay_v2: "WeChat Pay (API v2)",
};

pub static ZH: Messages = Messages {
    common: &common::ZH,
    checkout: &checkout::ZH,
    till: &till::ZH,
    counter: &counter::ZH,
    orders: &orders::ZH,
    logs: &logs::ZH,
    credentials: &credentials::ZH,
    users: &users::ZH,
    sessions: &sessions::ZH,
    overview: &overview::ZH,
    preferences: &preferences::ZH,
    twofa: &twofa::ZH,
    security: &security::ZH,
    admin: &admin::ZH,
    audit: &audit::ZH,
    app_name: "paydesk 收银台",
    language_name: "中文",
    nav_overview: "概览",
    nav_checkout: "收款",
    nav_orders: "订单",
    nav_refunds: "退款",
    nav_logs: "日志",
    nav_credentials: "支付凭证",
    nav_users: "用户",
    sign_in: "登录",
    sign_out: "退出登录",
    skip_to_content: "跳到正文",
    username: "用户名",
    password: "密码",
    login_title: "登录 paydesk",
    login_hint: "首次启动时，paydesk 已在控制台打印管理员密码。",
    err_invalid_credentials: "用户名或密码错误，请检查后重试。",
    err_locked: |m| {
        format!("登录失败次数过多，账号已被暂时锁定。请 {m} 分钟后再试，或联系管理员。")
    },
    err_cross_origin: "该表单来自其他网站，已被拒绝。请直接打开 paydesk 后重试。",
    err_unauthenticated: "登录已过期，请重新登录后继续。",
    err_forbidden: "您的角色无权打开此页面。如需权限，请联系管理员。",
    err_internal: "服务器出错了。请重试；如果问题持续，请告知管理员。",
    err_not_found: "页面不存在。请通过导航找到所需功能。",
    welcome: |name| format!("欢迎，{name}"),
    role_admin: "管理员",
    role_support: "客服",
    role_merchant: "商户",
    overview_intro: "请从导航中选择要做的事。您只会看到您的角色可以使用的功能。",
    coming_soon: "此页面正在建设中。",
    page_checkout_intro: "为支付宝、微信支付或 Stripe 生成收款二维码。",
    page_orders_intro: "按单号、状态、渠道、金额和日期搜索订单。",
    page_refunds_intro: "对已支付订单全额或部分退款，并跟踪退款状态。",
    page_logs_intro: "收到的通知、调用支付渠道的记录和审计日志。",
    page_credentials_intro: "支付渠道、密钥和证书，以及它们的轮换。",
    page_users_intro: "可以登录的人员及其角色。",
    col_username: "用户名",
    col_role: "角色",
    col_status: "状态",
    col_created: "创建时间",
    status_active: "启用",
    status_disabled: "已停用",
    loading: "加载中…",
    go_to_login: "前往登录",
    wallet_title: "沙箱钱包",
    wallet_note: "这是 paydesk 沙箱环境，不会产生真实扣款。",
    wallet_merchant_item: "商品",
    wallet_amount: "金额",
    wallet_pay_with: |p| format!("使用{p}付款（沙箱）"),
    wallet_pay: "付款",
    wallet_cancel: "取消",
    wallet_paid: "付款成功，正在通知商户。您可以关闭此页面。",
    wallet_closed: "该订单已关闭，无法再付款。",
    wallet_not_found: "找不到该付款码对应的沙箱订单，请重新扫描二维码。",
    wallet_unavailable: "沙箱暂时不可用，请稍后重试。",
    wallet_code_title: |p| format!("{p}付款码（沙箱）"),
    wallet_code_hint: "请向收银员出示此付款码。每个付款码只能使用一次，每分钟自动更新。",
    wallet_code_mode: "收银员扫码时",
    wallet_code_mode_pay: "直接付款",
    wallet_code_mode_password: "需要输入密码",
    wallet_code_mode_decline: "拒绝（余额不足）",
    wallet_code_password: |a| format!("收银员发起了 {a} 的收款，请输入密码完成付款。"),
    wallet_code_confirm: "输入密码并付款",
    wallet_code_used: "此付款码已使用。",
    wallet_code_new: "显示新的付款码",
    provider_alipay: "支付宝",
    provider_wechatpay: "微信支付",
    provider_stripe: "Stripe",
    provider_wechatpay_v2: "微信支付（API v2）",
};

impl Messages {
    /// The provider's name as customers know it (`provider` as in channel rows); "—" for
    /// a name paydesk does not know.
    pub fn provider(&self, provider: &str) -> &'static str {
        use paydesk_core::provider_kind::ProviderKind;
        match ProviderKind::parse(provider) {
            Some(ProviderKind::Alipay) => self.provider_alipay,
            Some(ProviderKind::Wechatpay) => self.provider_wechatpay,
            Some(ProviderKind::Stripe) => self.provider_stripe,
            Some(ProviderKind::WechatpayV2) => self.provider_wechatpay_v2,
            None => self.common.none,
        }
    }

    pub fn role(&self, role: paydesk_core::role::Role) -> &'static str {
        use paydesk_core::role::Role;
        match role {
            Role::Admin => self.role_admin,
            Role::Support => self.role_support,
            Role::Merchant => self.role_merchant,
        }
    }

    /// Text for an error a server function answered with. An internal failure (and a
    /// call that never reached the function) gets the generic message: the details are in
    /// the server's log, not on the page.
    pub fn app_error(&self, error: &AppError) -> &'static str {
        match error {
            AppError::Unauthenticated => self.err_unauthenticated,
            AppError::Forbidden => self.err_forbidden,
            AppError::NotFound => self.err_not_found,
            AppError::Invalid(what) => self.orders.invalid(*what),
            AppError::Internal | AppError::ServerFn(_) => self.err_internal,
        }
    }

    /// Text for an `?error=` code a form post or the sign-in redirected with.
    pub fn error(&self, code: &str) -> String {
        match code {
            "invalid" => self.err_invalid_credentials.to_string(),
            "cross_origin" => self.err_cross_origin.to_string(),
            "unauthenticated" => self.err_unauthenticated.to_string(),
            "forbidden" => self.err_forbidden.to_string(),
            "not_found" => self.err_not_found.to_string(),
            "twofa_expired" => self.twofa.err_expired.to_string(),
            _ => self.err_internal.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_honours_quality() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1,zh-TW;q=0.5"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("de,fr"), None);
        assert_eq!(
            Lang::from_accept_language("zh;q=0,en;q=0.1"),
            Some(Lang::En)
        );
    }

    #[test]
    fn server_function_errors_have_a_message_in_every_language() {
        use crate::server_fns::error::{AppError, BadInput};
        use leptos::server_fn::error::ServerFnErrorErr;
        for lang in [Lang::En, Lang::Zh] {
            let t = lang.t();
            assert_eq!(t.app_error(&AppError::NotFound), t.err_not_found);
            assert_eq!(t.app_error(&AppError::Forbidden), t.err_forbidden);
            assert_eq!(
                t.app_error(&AppError::Unauthenticated),
                t.err_unauthenticated
            );
            assert_eq!(
                t.app_error(&AppError::Invalid(BadInput::Date)),
                t.orders.err_bad_date
            );
            assert_eq!(
                t.app_error(&AppError::Invalid(BadInput::Cursor)),
                t.orders.err_bad_filter
            );
            // The machinery's details (a Rust type name, a field) are never shown.
            let detail = ServerFnErrorErr::Args("missing field `no`".into());
            assert_eq!(t.app_error(&AppError::ServerFn(detail)), t.err_internal);
            assert_eq!(t.app_error(&AppError::Internal), t.err_internal);
        }
    }

    #[test]
    fn cookie_beats_accept_language() {
        assert_eq!(
            Lang::negotiate(Some("a=1; paydesk_lang=zh"), Some("en")),
            Lang::Zh
        );
        assert_eq!(
            Lang::negotiate(Some("paydesk_lang=xx"), Some("zh-CN")),
            Lang::Zh
        );
        assert_eq!(Lang::negotiate(None, None), Lang::En);
    }
}
