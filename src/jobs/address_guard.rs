//! Where merchant notifications may be sent (SSRF guard).
//!
//! A merchant API key chooses each order's `notify_url`, and paydesk then POSTs to it from
//! inside the network it runs in. Without a guard that key could make paydesk probe
//! `localhost` admin ports or a cloud metadata service (`169.254.169.254`). Private LAN
//! addresses stay allowed: a self-hosted paydesk usually notifies a shop backend on the
//! same network. Loopback is refused unless the operator allows it (development, tests).
//!
//! Checked on every attempt, after DNS resolution (a custom resolver), so a name that
//! resolves to a forbidden address — or starts to, later (DNS rebinding) — is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Whether paydesk may connect to `ip` to deliver a merchant notification.
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => allowed_v4(v4, allow_loopback),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => allowed_v4(v4, allow_loopback),
            None => allowed_v6(v6, allow_loopback),
        },
    }
}

fn allowed_v4(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let a = ip.octets()[0];
    !(ip.is_unspecified()
        || ip.is_link_local() // 169.254/16: cloud metadata services live here
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || a >= 240)
}

fn allowed_v6(ip: Ipv6Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0) // site-local (deprecated)
}

/// A resolver that drops forbidden addresses and fails when none is left.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_loopback: bool,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the notify URL's host resolves only to addresses paydesk does not send to (loopback, link-local or reserved)"
)]
pub struct ForbiddenAddress;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allowed(a.ip(), allow_loopback))
                .collect();
            if found.is_empty() {
                return Err(Box::new(ForbiddenAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn metadata_loopback_and_reserved_addresses_are_refused() {
        for bad in [
            "169.254.169.254",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::",
            "fe80::1",
            "ff02::1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!allowed(ip(bad), true), "{bad}");
        }
        for lo in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            assert!(!allowed(ip(lo), false), "{lo}");
            assert!(allowed(ip(lo), true), "{lo} when loopback is allowed");
        }
    }

    #[test]
    fn public_and_lan_addresses_are_allowed() {
        for ok in [
            "93.184.216.34",
            "10.0.0.7",
            "192.168.1.20",
            "172.16.0.1",
            "2606:4700::1",
            "fd00::1",
        ] {
            assert!(allowed(ip(ok), false), "{ok}");
        }
    }

    #[tokio::test]
    async fn the_resolver_drops_forbidden_answers() {
        let strict = GuardedResolver {
            allow_loopback: false,
        };
        let name: Name = "localhost".parse().expect("name");
        assert!(strict.resolve(name).await.is_err());
        let lax = GuardedResolver {
            allow_loopback: true,
        };
        let name: Name = "localhost".parse().expect("name");
        let addrs: Vec<SocketAddr> = lax.resolve(name).await.expect("resolves").collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
