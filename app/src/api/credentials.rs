//! Server functions: Channels and their keys (admin).
//! Each one starts with `crate::guard::require(Capability::…)`.
