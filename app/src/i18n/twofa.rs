//! Two-step sign-in: the code step, enrolment, recovery codes and the account page.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct TwoFaText {
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub code_hint: &'static str,
    pub verify: &'static str,
    pub cancel: &'static str,
    pub enrol_title: &'static str,
    pub enrol_required: &'static str,
    pub enrol_intro: &'static str,
    pub enrol_key: &'static str,
    pub enrol_code_label: &'static str,
    pub confirm: &'static str,
    pub codes_title: &'static str,
    pub codes_once: &'static str,
    pub codes_hint: &'static str,
    pub continue_: &'static str,
    pub account_title: &'static str,
    pub account_intro: &'static str,
    pub link: &'static str,
    pub status_on: fn(usize) -> String,
    pub status_off: &'static str,
    pub start: &'static str,
    pub required_note: &'static str,
    pub disable: &'static str,
    pub disable_hint: &'static str,
    pub ok_enabled: &'static str,
    pub ok_disabled: &'static str,
    pub recovery_used: fn(usize) -> String,
    pub err_bad_code: &'static str,
    pub err_locked: fn(i64) -> String,
    pub err_expired: &'static str,
    pub err_already: &'static str,
    pub err_required: &'static str,
    pub err_internal: &'static str,
}

pub static EN: TwoFaText = TwoFaText {
    code_title: "Two-step sign-in",
    code_intro: "Enter the 6-digit code your authenticator app shows for paydesk, or one of your recovery codes.",
    code_label: "Code",
    code_hint: "6 digits, or a recovery code such as abcde-23456. Each recovery code works once.",
    verify: "Verify",
    cancel: "Cancel and sign out",
    enrol_title: "Set up two-step sign-in",
    enrol_required: "Your role must sign in with a second step. Set it up now to continue.",
    enrol_intro: "Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, …), then enter the 6-digit code it shows.",
    enrol_key: "Cannot scan? Type this key into the app instead:",
    enrol_code_label: "Code from the app",
    confirm: "Confirm",
    codes_title: "Your recovery codes",
    codes_once: "Save these 10 recovery codes now (print them or keep them in a password manager). They are shown only this once.",
    codes_hint: "If you lose your phone, sign in with one of them instead of a code. Each works once.",
    continue_: "Continue",
    account_title: "Two-step sign-in",
    account_intro: "A code from your phone on every sign-in, so a stolen password is not enough.",
    link: "Two-step sign-in",
    status_on: |n| format!("On. {n} unused recovery codes left."),
    status_off: "Off.",
    start: "Set up two-step sign-in",
    required_note: "Your role requires two-step sign-in, so it cannot be turned off. If you lose your phone and your recovery codes, ask an admin to reset it.",
    disable: "Turn off",
    disable_hint: "Enter a current code to turn two-step sign-in off.",
    ok_enabled: "Two-step sign-in is on. From now on you sign in with a code from your app.",
    ok_disabled: "Two-step sign-in is off.",
    recovery_used: |n| {
        format!(
            "You signed in with a recovery code; {n} are left. Set up a new phone soon if you lost yours."
        )
    },
    err_bad_code: "That code is wrong or was used already. Check the app's current code (and your phone's clock) and try again.",
    err_locked: |m| {
        format!(
            "Too many wrong codes. Try again in {m} minutes, or ask an admin to reset your two-step sign-in."
        )
    },
    err_expired: "The sign-in took too long. Enter your username and password again.",
    err_already: "Two-step sign-in is already set up for this account.",
    err_required: "Your role requires two-step sign-in, so it cannot be turned off.",
    err_internal: "Something went wrong on the server. Try again; if it persists, tell your admin.",
};

pub static ZH: TwoFaText = TwoFaText {
    code_title: "两步验证登录",
    code_intro: "请输入身份验证器应用中 paydesk 的 6 位验证码，或使用一个恢复码。",
    code_label: "验证码",
    code_hint: "6 位数字，或形如 abcde-23456 的恢复码。每个恢复码只能使用一次。",
    verify: "验证",
    cancel: "取消并退出",
    enrol_title: "设置两步验证",
    enrol_required: "您的角色必须使用两步验证登录。请先完成设置再继续。",
    enrol_intro: "请用身份验证器应用（Google 身份验证器、Microsoft Authenticator、1Password 等）扫描此二维码，然后输入应用显示的 6 位验证码。",
    enrol_key: "无法扫码？请在应用中手动输入此密钥：",
    enrol_code_label: "应用中的验证码",
    confirm: "确认",
    codes_title: "您的恢复码",
    codes_once: "请立即保存这 10 个恢复码（打印或存入密码管理器）。它们只显示这一次。",
    codes_hint: "如果手机丢失，可用其中一个恢复码代替验证码登录。每个只能用一次。",
    continue_: "继续",
    account_title: "两步验证",
    account_intro: "每次登录都需要手机上的验证码，即使密码被盗也无法登录。",
    link: "两步验证",
    status_on: |n| format!("已开启。剩余 {n} 个未使用的恢复码。"),
    status_off: "未开启。",
    start: "设置两步验证",
    required_note: "您的角色要求两步验证，无法关闭。若手机和恢复码都丢失，请联系管理员重置。",
    disable: "关闭",
    disable_hint: "输入当前验证码以关闭两步验证。",
    ok_enabled: "两步验证已开启。今后登录需要输入应用中的验证码。",
    ok_disabled: "两步验证已关闭。",
    recovery_used: |n| format!("您使用恢复码登录，还剩 {n} 个。如手机丢失，请尽快重新设置。"),
    err_bad_code: "验证码错误或已被使用。请核对应用中的当前验证码（以及手机时间）后重试。",
    err_locked: |m| format!("验证码错误次数过多。请 {m} 分钟后再试，或联系管理员重置两步验证。"),
    err_expired: "登录耗时过长，请重新输入用户名和密码。",
    err_already: "此账号已设置两步验证。",
    err_required: "您的角色要求两步验证，无法关闭。",
    err_internal: "服务器出错了。请重试；如果问题持续，请告知管理员。",
};

impl TwoFaText {
    /// The notice for an `?error=` code.
    pub fn error(&self, code: &str, minutes: i64) -> String {
        match code {
            "bad_code" => self.err_bad_code.to_string(),
            "locked" => (self.err_locked)(minutes),
            "expired" => self.err_expired.to_string(),
            "already" => self.err_already.to_string(),
            "required" => self.err_required.to_string(),
            _ => self.err_internal.to_string(),
        }
    }

    /// The notice for an `?ok=` code.
    pub fn ok(&self, code: &str) -> Option<&'static str> {
        Some(match code {
            "enabled" => self.ok_enabled,
            "disabled" => self.ok_disabled,
            _ => return None,
        })
    }
}
