//! The admin's first-steps checklist on the overview.

pub struct FirstStepsText {
    pub title: &'static str,
    pub intro: &'static str,
    /// (step, where to do it, link text)
    pub sandbox_paid: (&'static str, &'static str, &'static str),
    pub second_user: (&'static str, &'static str, &'static str),
    pub live_channel: (&'static str, &'static str, &'static str),
    pub twofa: (&'static str, &'static str, &'static str),
    pub public_url: (&'static str, &'static str, &'static str),
    pub done: &'static str,
    pub todo: &'static str,
    pub dismiss: &'static str,
}

/// This catalog in `lang`. Kept out of [`super::Messages`] on purpose: the islands
/// reach `Messages`, so everything in it ships in the wasm; these texts are server-rendered
/// only.
pub fn of(lang: super::Lang) -> &'static FirstStepsText {
    match lang {
        super::Lang::En => &EN,
        super::Lang::Zh => &ZH,
    }
}

pub static EN: FirstStepsText = FirstStepsText {
    title: "First steps",
    intro: "paydesk starts with a built-in sandbox: each provider's gateway emulated with real keys and signatures, and a wallet page that pays. Nothing here moves real money until you add a live channel.",
    sandbox_paid: ("Take a sandbox payment", "/checkout", "Open the checkout"),
    second_user: (
        "Add a user for each cashier and support agent",
        "/users",
        "Open Users",
    ),
    live_channel: (
        "Add a live channel with your provider's credentials",
        "/credentials",
        "Open Credentials",
    ),
    twofa: (
        "Turn on two-step sign-in for your account",
        "/account/2fa",
        "Open two-step sign-in",
    ),
    public_url: (
        "Set PAYDESK_PUBLIC_URL (environment or paydesk.toml) to the address phones and providers reach; see the README's Configuration",
        "",
        "",
    ),
    done: "Done",
    todo: "To do",
    dismiss: "Hide this checklist",
};

pub static ZH: FirstStepsText = FirstStepsText {
    title: "上手步骤",
    intro: "paydesk 自带沙箱：用真实的密钥和签名模拟各支付渠道的网关，并提供可付款的钱包页面。在添加生产渠道之前，这里不会发生任何真实资金往来。",
    sandbox_paid: ("完成一笔沙箱付款", "/checkout", "打开收款"),
    second_user: ("为每位收银员和客服添加用户", "/users", "打开用户"),
    live_channel: (
        "用支付机构的凭证添加生产渠道",
        "/credentials",
        "打开支付凭证",
    ),
    twofa: ("为你的账号开启两步登录", "/account/2fa", "打开两步登录"),
    public_url: (
        "把 PAYDESK_PUBLIC_URL（环境变量或 paydesk.toml）设为手机和支付渠道能访问的地址，参见 README 的“Configuration”",
        "",
        "",
    ),
    done: "已完成",
    todo: "待完成",
    dismiss: "隐藏此清单",
};
