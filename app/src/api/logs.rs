//! Server functions: Notify inbox, provider calls, merchant notifications, audit (support, admin).
//! Each one starts with `crate::guard::require(Capability::…)`.
