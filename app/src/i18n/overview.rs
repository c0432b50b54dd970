//! The overview page: volume charts, pending orders, recent failures.
//!
//! Every language fills the same struct: a missing translation does not compile.

pub struct OverviewText {
    pub title: &'static str,
}

pub static EN: OverviewText = OverviewText { title: "Overview" };

pub static ZH: OverviewText = OverviewText { title: "概览" };
