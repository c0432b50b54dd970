//! "Two-factor sign-in required for role X", as a pure rule.

use crate::role::Role;

/// The settings key the policy is stored under.
pub const TWOFA_POLICY_KEY: &str = "twofa.required";

/// Which roles must sign in with a second factor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TwoFaPolicy {
    /// The default: admins, once any live channel exists (they then hold real keys).
    #[default]
    Auto,
    /// Exactly these roles (empty: nobody).
    Roles(Vec<Role>),
}

impl TwoFaPolicy {
    /// Reads the stored value: `auto`, or role names separated by commas.
    pub fn parse(value: &str) -> TwoFaPolicy {
        if value.trim() == "auto" {
            return TwoFaPolicy::Auto;
        }
        let mut roles: Vec<Role> = value.split(',').filter_map(|r| r.parse().ok()).collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        TwoFaPolicy::Roles(roles)
    }

    pub fn to_value(&self) -> String {
        match self {
            TwoFaPolicy::Auto => "auto".into(),
            TwoFaPolicy::Roles(roles) => roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// Must a user of `role` have a second factor?
    pub fn required(&self, role: Role, any_live_channel: bool) -> bool {
        match self {
            TwoFaPolicy::Auto => role == Role::Admin && any_live_channel,
            TwoFaPolicy::Roles(roles) => roles.contains(&role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_requires_admins_once_a_live_channel_exists() {
        let p = TwoFaPolicy::default();
        assert!(!p.required(Role::Admin, false));
        assert!(p.required(Role::Admin, true));
        assert!(!p.required(Role::Support, true));
    }

    #[test]
    fn explicit_roles_round_trip() {
        let p = TwoFaPolicy::parse("support, admin,support,root");
        assert_eq!(p, TwoFaPolicy::Roles(vec![Role::Admin, Role::Support]));
        assert_eq!(p.to_value(), "admin,support");
        assert!(p.required(Role::Support, false) && !p.required(Role::Merchant, true));
        assert_eq!(TwoFaPolicy::parse("auto"), TwoFaPolicy::Auto);
        assert_eq!(TwoFaPolicy::parse(""), TwoFaPolicy::Roles(vec![]));
    }
}
