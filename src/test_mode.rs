//! Test data apart from live data: orders on sandbox channels are test data. Each user
//! chooses which the lists, the export and the overview show; until they choose, a fresh
//! install (no live channel yet) shows test data, and one with a live channel live data.

/// Whether the user sees test data: their choice, else "no enabled live channel yet".
pub fn is_on(choice: Option<bool>, has_live_channel: bool) -> bool {
    choice.unwrap_or(!has_live_channel)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_choice_wins_and_a_fresh_install_starts_in_test_mode() {
        assert!(super::is_on(None, false));
        assert!(!super::is_on(None, true));
        assert!(super::is_on(Some(true), true));
        assert!(!super::is_on(Some(false), false));
    }
}
