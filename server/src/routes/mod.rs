//! Plain HTTP routes next to the Leptos pages: health probes, sign-in/out, language and
//! theme.

pub mod credentials;
pub mod export;
pub mod health;
pub mod login;
pub mod notify;
pub mod preferences;
pub mod qr;

/// Where to send the browser after a form post: only local paths, never another host
/// (`//evil.example` and `/\evil.example` are protocol-relative in browsers).
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
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
}
