//! Payment provider protocols. (Owned by the provider-protocols work.)
