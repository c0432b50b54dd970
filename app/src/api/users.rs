//! Server functions: Users and API keys (admin).
//! Each one starts with `crate::guard::require(Capability::…)`.
