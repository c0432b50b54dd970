//! The orders page's and the CSV export's filter parameters: the raw query string, read the
//! way the export route reads it (`Query<OrderQuery>` from the request URI), turned into a
//! search by `to_search` (status, currency, decimal amounts, UTC+8 dates, keyset cursor,
//! merchant scoping), then run by `Store::search_orders` on a real SQLite database.
//!
//! Input: the query string (`q=…&status=…&min=…&from=…&after=…`).
//!
//! Checked beyond "no panic":
//! - a merchant's search is always scoped to the merchant, whatever the query says; admin
//!   and support get the same search;
//! - `to_query_string` (the links and the export's log line) reads back to the same filter;
//! - a filter `to_search` accepted never makes the store fail, and the store returns
//!   exactly the orders the filter describes, in page order (an oracle over the fixture
//!   orders): for the page with its cursor, and for the export walked page by page through
//!   its keyset, which must return every matching order once.

use std::sync::LazyLock;

use axum::extract::Query;
use paydesk_app::server_fns::orders::server::to_search;
use paydesk_app::server_fns::orders::{OrderQuery, PAGE_SIZE};
use paydesk_core::role::Role;
use paydesk_core::store::{MAX_PAGE, OrderSearch, User};
use paydesk_fuzz::fixtures;
use paydesk_fuzz::orders::{Fixtures, comparable, expected_page, store_with_orders};

struct Setup {
    rt: tokio::runtime::Runtime,
    fx: Fixtures,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let rt = fixtures::runtime();
    let fx = rt.block_on(store_with_orders());
    Setup { rt, fx }
});

fn user(name: &str, role: Role) -> User {
    User {
        id: format!("u-{name}"),
        username: name.into(),
        role,
        disabled: false,
        created_at: 0,
        password_hash: String::new(),
    }
}

fn parse(query: &[u8]) -> Option<OrderQuery> {
    let mut uri = b"/export/orders.csv?".to_vec();
    uri.extend_from_slice(query);
    let uri = http::Uri::try_from(uri).ok()?;
    Query::<OrderQuery>::try_from_uri(&uri).ok().map(|q| q.0)
}

/// One search through the store, judged by the oracle; returns the ids.
fn run(s: &OrderSearch) -> Vec<String> {
    let got = SETUP
        .rt
        .block_on(SETUP.fx.store.search_orders(s))
        .unwrap_or_else(|e| panic!("an accepted filter failed in the store: {e}"));
    let ids: Vec<String> = got.iter().map(|o| o.id.clone()).collect();
    if comparable(s) {
        assert_eq!(ids, expected_page(s, &SETUP.fx.orders), "{s:?}");
    }
    ids
}

fn check(data: &[u8]) {
    let Some(query) = parse(data) else {
        return; // hyper or the extractor refuses it: 400 before any of this
    };

    let written = query.to_query_string(true);
    assert_eq!(
        parse(written.as_bytes()).as_ref(),
        Some(&query),
        "to_query_string does not read back: {written:?}"
    );

    let admin = to_search(&query, &user("root", Role::Admin), PAGE_SIZE);
    let support = to_search(&query, &user("sam", Role::Support), PAGE_SIZE);
    let merchant = to_search(&query, &user("mia", Role::Merchant), PAGE_SIZE);
    assert_eq!(admin, support, "admin and support see different searches");
    let (Ok(page), Ok(own)) = (support, merchant) else {
        return; // 400 with the error code
    };
    assert_eq!(own.creator.as_deref(), Some("mia"), "merchant not scoped");
    if page.min_minor.is_some() || page.max_minor.is_some() {
        assert!(page.currency.is_some(), "an amount without a currency");
    }

    // The orders page: one page after the query's cursor.
    run(&page);

    // The export (routes/export.rs): no cursor, then keyset pages until a short one. A
    // small page size (from the input) makes the walk cross several pages.
    let export = OrderQuery {
        after: String::new(),
        ..query
    };
    let limit = 1 + (data.len() as i64 % 3);
    for who in [user("sam", Role::Support), user("mia", Role::Merchant)] {
        let Ok(first) = to_search(&export, &who, limit) else {
            panic!("the export refused a filter the page accepted");
        };
        let whole = expected_page(
            &OrderSearch {
                limit: MAX_PAGE,
                ..first.clone()
            },
            &SETUP.fx.orders,
        );
        let mut walked = Vec::new();
        let mut s = first;
        loop {
            let ids = run(&s);
            let full = ids.len() as i64 == s.limit;
            let Some(last) = ids.last() else { break };
            let last = SETUP
                .fx
                .orders
                .iter()
                .find(|o| &o.id == last)
                .expect("the store returned an order that is not a fixture");
            let after = Some((last.created_at, last.id.clone()));
            walked.extend(ids);
            if !full {
                break;
            }
            s = OrderSearch { after, ..s };
        }
        if comparable(&s) {
            assert_eq!(walked, whole, "the export's pages skip or repeat orders");
        }
    }
}

fn main() {
    afl::fuzz!(|data: &[u8]| check(data));
}
