//! Notify inbox, provider calls, merchant notifications, audit log.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct LogsText {
    pub title: &'static str,
}

pub static EN: LogsText = LogsText { title: "Logs" };

pub static ZH: LogsText = LogsText { title: "日志" };
