//! Plain HTTP routes next to the Leptos pages: health probes, sign-in/out, language and
//! theme.

pub mod credentials;
pub mod export;
pub mod health;
pub mod login;
pub mod notify;
pub mod preferences;
pub mod qr;

/// Where to send the browser after a form post: only local paths, never another host.
/// `//evil.example` and `/\evil.example` are protocol-relative in browsers, and browsers
/// drop tabs and newlines from URLs, so `/<TAB>/evil.example` is `//evil.example` too: a
/// target with any control character, space or backslash is refused whole (a newline
/// would also make an invalid `Location` header).
pub fn safe_next(next: &str) -> &str {
    let clean = !next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    let local = clean && next.starts_with('/') && !next.starts_with("//");
    if local && !next.starts_with("/login") {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/orders?status=paid"), "/orders?status=paid");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/login"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn control_characters_and_spaces_are_refused() {
        for hostile in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/orders\r\nSet-Cookie: x=1",
            "/\u{0}x",
            "/\u{3000}/evil.example",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
