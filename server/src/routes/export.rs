//! GET /export/orders.csv?<the orders page's filters>: every order matching the filter,
//! streamed as CSV.
//!
//! The body is produced page by page from the same keyset search the orders page uses
//! (`Store::search_orders`), so memory stays flat whether the filter matches ten rows or
//! ten million, and the first bytes leave before the last page is read. The role rule is
//! the page's: merchants get only the orders they created, support and admin everything.

use crate::routes::guard::{Allowed, ViewOrders};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use paydesk_app::server_fns::orders::OrderQuery;
use paydesk_app::server_fns::orders::server::to_search;
use paydesk_app::server_fns::test_mode::ssr::scope;
use paydesk_core::store::{MAX_PAGE, Order, OrderSearch, Store};

use crate::startup::AppState;

/// The header row; one line per order follows.
pub const HEADER: &str = "out_trade_no,provider_trade_no,status,channel,currency,amount,refunded,subject,creator,created_at,paid_at,closed_at\r\n";

pub async fn orders_csv(
    Allowed { user, .. }: Allowed<ViewOrders>,
    State(state): State<AppState>,
    Query(query): Query<OrderQuery>,
) -> Response {
    // The whole filter, from its first row: a cursor in the link is ignored.
    let query = OrderQuery {
        after: String::new(),
        ..query
    };
    let mut search = match to_search(&query, &user, MAX_PAGE) {
        Ok(s) => s,
        Err(code) => {
            return (StatusCode::BAD_REQUEST, format!("invalid filter: {code}\n")).into_response();
        }
    };
    // Test or live data, as the orders page shows it.
    match scope(&state.store, &user.id).await {
        Ok(scope) => scope.narrow(&mut search),
        Err(e) => {
            tracing::error!(error = %e, "orders export: reading the test-mode choice failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    tracing::info!(user = %user.username, filter = %query.to_query_string(false), "orders export");
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"orders-{stamp}.csv\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(pages(state.store.clone(), search)),
    )
        .into_response()
}

enum Step {
    Header(OrderSearch),
    Page(OrderSearch),
    Done,
}

/// The CSV as a stream of chunks: the header, then one chunk per keyset page.
fn pages(
    store: Store,
    search: OrderSearch,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::try_unfold(Step::Header(search), move |step| {
        let store = store.clone();
        async move {
            match step {
                // A UTF-8 byte-order mark, so spreadsheet programs read Chinese text right.
                Step::Header(s) => Ok(Some((
                    Bytes::from(format!("\u{feff}{HEADER}")),
                    Step::Page(s),
                ))),
                Step::Page(s) => {
                    let rows = store.search_orders(&s).await.map_err(|e| {
                        // The status line has gone out: ending the body early is all that
                        // is left, and the log says why.
                        tracing::error!(error = %e, "orders export failed mid-stream");
                        std::io::Error::other("export failed")
                    })?;
                    let Some(last) = rows.last() else {
                        return Ok(None);
                    };
                    let next = if (rows.len() as i64) < s.limit {
                        Step::Done
                    } else {
                        Step::Page(OrderSearch {
                            after: Some((last.created_at, last.id.clone())),
                            ..s
                        })
                    };
                    let mut chunk = String::with_capacity(rows.len() * 160);
                    for o in &rows {
                        line(&mut chunk, o);
                    }
                    Ok(Some((Bytes::from(chunk), next)))
                }
                Step::Done => Ok(None),
            }
        }
    })
}

/// One order as a CSV line (RFC 4180: CRLF, fields quoted when needed).
pub fn line(out: &mut String, o: &Order) {
    let currency = o.amount.currency();
    let refunded = paydesk_core::money::Money::new(o.refunded_minor, currency)
        .map(|m| m.to_decimal_string())
        .unwrap_or_default();
    let fields = [
        field(&o.out_trade_no),
        field(o.provider_trade_no.as_deref().unwrap_or("")),
        o.status.as_str().to_string(),
        field(&o.channel),
        currency.code().to_string(),
        o.amount.to_decimal_string(),
        refunded,
        field(&o.subject),
        field(&o.creator),
        iso(Some(o.created_at)),
        iso(o.paid_at),
        iso(o.closed_at),
    ];
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// A text field, quoted when it holds a comma, quote or line break. Text a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Unix ms as ISO 8601 in UTC (`2026-11-23T04:05:06.789Z`); empty when absent.
pub fn iso(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("咖啡 × 2"), "咖啡 × 2");
    }

    #[test]
    fn times_are_iso_utc() {
        assert_eq!(iso(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(iso(Some(1_709_251_199_123)), "2024-02-29T23:59:59.123Z");
        assert_eq!(iso(None), "");
    }
}
