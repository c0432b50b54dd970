//! Server functions: Figures for the overview page (every signed-in role).
//! Each one starts with `crate::guard::require(Capability::…)`.
