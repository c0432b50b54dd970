//! Test data apart from live data (issue 18): which channels' orders the caller's lists,
//! export and overview show. The switch itself is `POST /account/test-mode`
//! (`server/src/routes/test_mode.rs`); the rule is `paydesk_core::test_mode::is_on`.

#[cfg(feature = "ssr")]
pub mod ssr {
    use paydesk_core::store::{OrderSearch, Store, StoreError};

    /// The caller's data mode and the sandbox channels it is decided by.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct DataScope {
        /// Showing test (sandbox) data.
        pub test: bool,
        /// Every sandbox channel's name.
        pub sandbox: Vec<String>,
    }

    impl DataScope {
        /// Whether an order or figure of `channel` belongs in what the caller sees.
        pub fn shows(&self, channel: &str) -> bool {
            self.sandbox.iter().any(|c| c == channel) == self.test
        }

        /// Narrows a search to the caller's data: in test mode the sandbox channels only,
        /// otherwise none of them.
        pub fn narrow(&self, s: &mut OrderSearch) {
            if !self.test {
                s.not_channels.extend(self.sandbox.iter().cloned());
            } else if s.channels.is_empty() {
                s.channels = self.sandbox.clone();
            } else {
                s.channels.retain(|c| self.sandbox.contains(c));
            }
            if self.test && s.channels.is_empty() {
                // No sandbox channel: no test data (a channel named "" never exists).
                s.channels = vec![String::new()];
            }
        }
    }

    pub async fn scope(store: &Store, user_id: &str) -> Result<DataScope, StoreError> {
        let channels = store.channels().await?;
        let has_live = channels
            .iter()
            .any(|c| c.mode == "live" && c.disabled_at.is_none());
        let choice = store.test_mode_choice(user_id).await?;
        Ok(DataScope {
            test: paydesk_core::test_mode::is_on(choice, has_live),
            sandbox: channels
                .into_iter()
                .filter(|c| c.mode == "sandbox")
                .map(|c| c.name)
                .collect(),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn test_mode_keeps_sandbox_channels_and_live_mode_drops_them() {
            let scope = |test| DataScope {
                test,
                sandbox: vec!["alipay-sandbox".into(), "stripe-sandbox".into()],
            };
            let mut s = OrderSearch::default();
            scope(true).narrow(&mut s);
            assert_eq!(s.channels, vec!["alipay-sandbox", "stripe-sandbox"]);
            let mut s = OrderSearch {
                channels: vec!["alipay-live".into(), "stripe-sandbox".into()],
                ..Default::default()
            };
            scope(true).narrow(&mut s);
            assert_eq!(s.channels, vec!["stripe-sandbox"]);
            let mut s = OrderSearch {
                channels: vec!["alipay-live".into()],
                ..Default::default()
            };
            scope(true).narrow(&mut s);
            assert_eq!(s.channels, vec![String::new()]);
            let mut s = OrderSearch::default();
            scope(false).narrow(&mut s);
            assert!(s.channels.is_empty());
            assert_eq!(s.not_channels.len(), 2);
            assert!(scope(false).shows("alipay-live"));
            assert!(!scope(false).shows("alipay-sandbox"));
            let none = DataScope {
                test: true,
                sandbox: vec![],
            };
            let mut s = OrderSearch::default();
            none.narrow(&mut s);
            assert_eq!(s.channels, vec![String::new()]);
        }
    }
}
