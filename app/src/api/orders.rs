//! Server functions: Order search, detail, sync, close, refunds (support, admin; merchants read).
//! Each one starts with `crate::guard::require(Capability::…)`.
