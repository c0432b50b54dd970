//! Which notify URLs are accepted: checked when the order is created, and again before
//! each send.

use crate::jobs::address_guard;

/// Longest notify URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a notify URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotifyUrlError {
    #[error("the notify URL is not a valid absolute URL")]
    Invalid,
    #[error("the notify URL must start with http:// or https://")]
    Scheme,
    #[error("the notify URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the notify URL points at a link-local or reserved address")]
    Forbidden,
}

/// Checks a merchant's notify URL: an absolute `http` or `https` URL with a host. Call it
/// when the order is created, so a bad URL is refused there; the worker checks again and
/// records a bad one as a failed attempt.
pub fn validate_notify_url(raw: &str) -> Result<(), NotifyUrlError> {
    if raw.len() > MAX_URL_LEN {
        return Err(NotifyUrlError::TooLong);
    }
    let url = url::Url::parse(raw).map_err(|_| NotifyUrlError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(NotifyUrlError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(NotifyUrlError::Invalid);
    }
    // Metadata services and reserved addresses are never a shop backend. (Loopback
    // depends on the deployment and is checked when sending.)
    if let Some(ip) = literal_ip(raw)
        && !address_guard::allowed(ip, true)
    {
        return Err(NotifyUrlError::Forbidden);
    }
    Ok(())
}

/// The host of `url` when it is an IP address literal (`http://10.0.0.2/`, `http://[::1]/`).
pub(super) fn literal_ip(url: &str) -> Option<std::net::IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(ip) => Some(ip.into()),
        url::Host::Ipv6(ip) => Some(ip.into()),
        url::Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_urls_must_be_http_or_https() {
        assert_eq!(
            validate_notify_url("https://shop.example/paydesk?token=x"),
            Ok(())
        );
        assert_eq!(validate_notify_url("http://127.0.0.1:8080/n"), Ok(()));
        assert_eq!(
            validate_notify_url("ftp://shop.example/"),
            Err(NotifyUrlError::Scheme)
        );
        assert_eq!(
            validate_notify_url("file:///etc/passwd"),
            Err(NotifyUrlError::Scheme)
        );
        assert_eq!(
            validate_notify_url("/relative"),
            Err(NotifyUrlError::Invalid)
        );
        assert_eq!(validate_notify_url(""), Err(NotifyUrlError::Invalid));
        assert_eq!(
            validate_notify_url("http://169.254.169.254/latest/meta-data"),
            Err(NotifyUrlError::Forbidden)
        );
        assert_eq!(
            validate_notify_url("http://[fe80::1]/n"),
            Err(NotifyUrlError::Forbidden)
        );
        let long = format!("https://shop.example/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(validate_notify_url(&long), Err(NotifyUrlError::TooLong));
    }
}
