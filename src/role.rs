//! Roles and what each may do.
//!
//! This module is shared by the server (to enforce) and the browser (to hide navigation a
//! role cannot use). Enforcement always happens on the server: hiding a link is comfort,
//! not security.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role. Stored in the database as its lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including credentials and users.
    Admin,
    /// Search orders, refund, read logs.
    Support,
    /// Create checkout QR codes and see orders.
    Merchant,
}

/// Something a page or a server function needs the caller to be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Capability {
    Checkout,
    ViewOrders,
    Refund,
    ReadLogs,
    ManageCredentials,
    ManageUsers,
    /// Close an unpaid order: the cashier's and the admin's call, not support's (support
    /// searches, refunds and reads logs).
    CloseOrders,
    /// Queue a merchant webhook again: it reaches the merchant's systems, so admins only.
    ResendNotifications,
    /// See and end one's own sessions, set up one's own two-factor sign-in: everybody
    /// signed in.
    OwnSessions,
    /// Approve or reject refunds that wait for approval (never one's own: see
    /// `crate::approval`).
    ApproveRefunds,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Support, Role::Merchant];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Merchant => "merchant",
        }
    }

    /// The single place that says which role may do what.
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Admin => true,
            Role::Support => matches!(capability, ViewOrders | Refund | ReadLogs | OwnSessions),
            Role::Merchant => matches!(
                capability,
                Checkout | ViewOrders | CloseOrders | OwnSessions
            ),
        }
    }
}

/// Who is looking at an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer<'a> {
    /// A dashboard user.
    User { role: Role, username: &'a str },
    /// A merchant API key (its id).
    ApiKey(&'a str),
}

/// Why an order is being looked at: the same person may see more in one place than in
/// another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderPurpose {
    /// The cashier's own screens: the checkout status page and its QR image. The order's
    /// creator, or an admin (support does not run the counter).
    Counter,
    /// Searching, the order page, refunds, the CSV export: support and admins see every
    /// order, a merchant only the orders they created.
    Service,
}

/// **The one rule for who may see an order** (pages, server functions, the QR and CSV
/// routes and the merchant API all ask it). An API key sees only the orders it created,
/// whatever the purpose. Someone who may not see an order is told it does not exist.
pub fn visible_to(
    viewer: Viewer<'_>,
    purpose: OrderPurpose,
    creator: &str,
    api_key_id: Option<&str>,
) -> bool {
    match viewer {
        Viewer::ApiKey(id) => api_key_id == Some(id),
        Viewer::User { role, username } => match (role, purpose) {
            (Role::Admin, _) => true,
            (Role::Support, OrderPurpose::Service) => true,
            (Role::Support, OrderPurpose::Counter) | (Role::Merchant, _) => creator == username,
        },
    }
}

/// The creator a search must be limited to for `role`: a merchant's searches cover only
/// their own orders ([`visible_to`] with [`OrderPurpose::Service`]); `None` is everyone's.
pub fn search_scope(role: Role, username: &str) -> Option<&str> {
    (role == Role::Merchant).then_some(username)
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected admin, support or merchant)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "support" => Ok(Role::Support),
            "merchant" => Ok(Role::Merchant),
            _ => Err(UnknownRole(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Admin ".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn permission_matrix() {
        let all = [
            Checkout,
            ViewOrders,
            Refund,
            ReadLogs,
            ManageCredentials,
            ManageUsers,
            CloseOrders,
            ResendNotifications,
            OwnSessions,
            ApproveRefunds,
        ];
        assert!(all.iter().all(|c| Role::Admin.can(*c)));
        let support: Vec<_> = all.iter().filter(|c| Role::Support.can(**c)).collect();
        assert_eq!(support, [&ViewOrders, &Refund, &ReadLogs, &OwnSessions]);
        let merchant: Vec<_> = all.iter().filter(|c| Role::Merchant.can(**c)).collect();
        assert_eq!(
            merchant,
            [&Checkout, &ViewOrders, &CloseOrders, &OwnSessions]
        );
    }

    #[test]
    fn one_rule_decides_who_sees_an_order() {
        use OrderPurpose::*;
        let user = |role, username| Viewer::User { role, username };
        for purpose in [Counter, Service] {
            assert!(visible_to(user(Role::Admin, "ann"), purpose, "mia", None));
            assert!(visible_to(
                user(Role::Merchant, "mia"),
                purpose,
                "mia",
                None
            ));
            assert!(!visible_to(
                user(Role::Merchant, "max"),
                purpose,
                "mia",
                None
            ));
            assert!(visible_to(Viewer::ApiKey("k1"), purpose, "api", Some("k1")));
            assert!(!visible_to(
                Viewer::ApiKey("k2"),
                purpose,
                "api",
                Some("k1")
            ));
            assert!(!visible_to(Viewer::ApiKey("k1"), purpose, "mia", None));
        }
        assert!(visible_to(user(Role::Support, "sam"), Service, "mia", None));
        assert!(!visible_to(
            user(Role::Support, "sam"),
            Counter,
            "mia",
            None
        ));
        assert_eq!(search_scope(Role::Merchant, "mia"), Some("mia"));
        assert_eq!(search_scope(Role::Support, "sam"), None);
    }
}
