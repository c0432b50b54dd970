//! Per-browser display preferences kept in cookies: the colour theme here, the language in
//! [`crate::i18n`]. Both are set by a plain form post (`/auth/theme`, `/auth/lang`), so
//! they work without JavaScript, and both are read on the server for every page, so the
//! first byte is already in the right language and colours (no flash on load).

use serde::{Deserialize, Serialize};

pub const THEME_COOKIE: &str = "paydesk_theme";

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(cookie_header: Option<&'a str>, name: &str) -> Option<&'a str> {
    cookie_header?.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Light or dark colours, or whatever the operating system prefers.
///
/// Rendered as `<html data-theme="…">`; `style/main.css` maps it to `color-scheme`, and
/// every colour is a `light-dark()` pair, so `system` follows `prefers-color-scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// In the order the switch shows them.
    pub const ALL: [Theme; 3] = [Theme::Light, Theme::Dark, Theme::System];

    pub fn code(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn from_code(code: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.code() == code.trim())
    }

    /// The theme for a request: the cookie, else the system's.
    pub fn from_cookies(cookie_header: Option<&str>) -> Theme {
        cookie_value(cookie_header, THEME_COOKIE)
            .and_then(Theme::from_code)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_comes_from_its_cookie_or_follows_the_system() {
        assert_eq!(
            Theme::from_cookies(Some("paydesk_lang=zh; paydesk_theme=dark")),
            Theme::Dark
        );
        assert_eq!(
            Theme::from_cookies(Some("paydesk_theme=light")),
            Theme::Light
        );
        assert_eq!(
            Theme::from_cookies(Some("paydesk_theme=neon")),
            Theme::System
        );
        assert_eq!(
            Theme::from_cookies(Some("xpaydesk_theme=dark")),
            Theme::System
        );
        assert_eq!(Theme::from_cookies(None), Theme::System);
    }

    #[test]
    fn codes_round_trip() {
        for t in Theme::ALL {
            assert_eq!(Theme::from_code(t.code()), Some(t));
        }
    }
}
