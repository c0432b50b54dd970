//! Server functions: the caller's saved order searches (every role that sees orders).
//! Each one starts with `crate::guard::require(Capability::ViewOrders)`; a user only ever
//! reads and changes their own views (the store keys them by user id).
//!
//! Saving and deleting are plain form posts that redirect back to the orders page
//! (`?ok=` / `?error=`), so they work without JavaScript and Back never resubmits.

use crate::server_fns::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Longest view name, in characters.
pub const NAME_MAX: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedViewRow {
    pub id: String,
    pub name: String,
    /// The orders page's query string (`q=…&status=…`).
    pub query: String,
}

#[server(prefix = "/rpc", endpoint = "my_saved_views")]
pub async fn my_saved_views() -> Result<Vec<SavedViewRow>, AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let views = caller
        .store
        .saved_views(&caller.user.id)
        .await
        .map_err(crate::guard::internal)?;
    Ok(views
        .into_iter()
        .map(|v| SavedViewRow {
            id: v.id,
            name: v.name,
            query: v.query,
        })
        .collect())
}

/// Saves the search `query` (the orders page's query string) as `name`.
#[server(prefix = "/rpc", endpoint = "save_order_view")]
pub async fn save_order_view(name: String, query: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    use paydesk_core::store::SaveOutcome;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    // Only the filters the page knows, re-encoded: nothing else is stored or replayed.
    let query = server::canonical(&query);
    let back = |code: &str| {
        let sep = if query.is_empty() { "" } else { "&" };
        leptos_axum::redirect(&format!("/orders?{query}{sep}{code}"));
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        back("error=view_name");
        return Ok(());
    }
    match caller
        .store
        .save_view(&caller.user.id, name, &query)
        .await
        .map_err(crate::guard::internal)?
    {
        SaveOutcome::Saved => back("ok=view_saved"),
        SaveOutcome::Full => back("error=view_limit"),
    }
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "delete_order_view")]
pub async fn delete_order_view(id: String) -> Result<(), AppError> {
    use paydesk_core::role::Capability;
    let caller = crate::guard::require(Capability::ViewOrders).await?;
    let deleted = caller
        .store
        .delete_view(&caller.user.id, id.trim())
        .await
        .map_err(crate::guard::internal)?;
    leptos_axum::redirect(if deleted {
        "/orders?ok=view_deleted"
    } else {
        "/orders?error=not_found"
    });
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    use crate::server_fns::orders::OrderQuery;
    use std::collections::HashMap;

    /// The orders page's filters read from a query string and written back, without the
    /// paging cursor; anything that is not a filter is dropped.
    pub fn canonical(query: &str) -> String {
        let pairs: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        OrderQuery::from_pairs(|k| pairs.get(k).cloned()).to_query_string(false)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn only_filters_survive() {
            assert_eq!(
                super::canonical("q=K9Q2+%E5%92%96&evil=1&after=5.x&status=paid"),
                "q=K9Q2%20%E5%92%96&status=paid"
            );
            assert_eq!(super::canonical(""), "");
        }
    }
}
