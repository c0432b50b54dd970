//! A user's own sessions.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct SessionsText {
    pub title: &'static str,
    pub intro: &'static str,
    pub link: &'static str,
    pub device: &'static str,
    pub address: &'static str,
    pub signed_in: &'static str,
    pub last_seen: &'static str,
    pub this_session: &'static str,
    pub unknown_device: &'static str,
    pub end: &'static str,
    pub end_others: &'static str,
    pub none: &'static str,
    pub ok_session_ended: &'static str,
    pub ok_others_ended: &'static str,
    pub err_no_such_session: &'static str,
}

pub static EN: SessionsText = SessionsText {
    title: "Your sessions",
    intro: "Where you are signed in. End any session you do not recognise, then change your password.",
    link: "Sessions",
    device: "Device",
    address: "Address",
    signed_in: "Signed in",
    last_seen: "Last active",
    this_session: "This browser",
    unknown_device: "Unknown device",
    end: "Sign out",
    end_others: "Sign out everywhere else",
    none: "No other sessions.",
    ok_session_ended: "That session was ended; the device has to sign in again.",
    ok_others_ended: "Every other session was ended. This browser stays signed in.",
    err_no_such_session: "That session no longer exists. It may have ended already.",
};

pub static ZH: SessionsText = SessionsText {
    title: "您的登录会话",
    intro: "您在这些地方处于登录状态。若有不认识的会话，请结束它，然后修改密码。",
    link: "会话",
    device: "设备",
    address: "地址",
    signed_in: "登录时间",
    last_seen: "最近活动",
    this_session: "当前浏览器",
    unknown_device: "未知设备",
    end: "退出",
    end_others: "退出其他所有会话",
    none: "没有其他会话。",
    ok_session_ended: "该会话已结束，该设备需重新登录。",
    ok_others_ended: "其他所有会话均已结束，当前浏览器保持登录。",
    err_no_such_session: "该会话已不存在，可能已经结束。",
};

impl SessionsText {
    /// The notice for a `?ok=` code, if it is one of ours.
    pub fn ok(&self, code: &str) -> Option<&'static str> {
        Some(match code {
            "session_ended" => self.ok_session_ended,
            "others_ended" => self.ok_others_ended,
            _ => return None,
        })
    }

    /// The notice for an `?error=` code, if it is one of ours.
    pub fn error(&self, code: &str) -> Option<&'static str> {
        Some(match code {
            "no_such_session" => self.err_no_such_session,
            _ => return None,
        })
    }
}
