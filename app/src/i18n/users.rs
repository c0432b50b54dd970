//! Users and API keys.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct UsersText {
    pub title: &'static str,
}

pub static EN: UsersText = UsersText { title: "Users" };

pub static ZH: UsersText = UsersText { title: "用户" };
