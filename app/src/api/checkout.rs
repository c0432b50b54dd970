//! Server functions: Checkout and the checkout status (merchant, admin).
//! Each one starts with `crate::guard::require(Capability::…)`.
