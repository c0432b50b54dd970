//! `GET /display/events`: the customer display's live feed (server-sent events). Each
//! event is the display's whole [`DisplayView`] as JSON, sent when it changes: a new sale,
//! paid, cancelled, or back to the welcome.
//!
//! The feed reads the database (a few indexed reads a second per open display), so it
//! follows sales made through any instance. A stream lives at most [`STREAM_LIFE`], then
//! the browser reconnects (and the role check runs again); it ends at once when shutdown
//! begins, so an open display never holds the shutdown up.

use crate::routes::guard::{Allowed, Checkout};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use paydesk_app::server_fns::display::{DisplayView, ssr::current};
use paydesk_core::store::Store;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often the feed looks at the sale: the display follows within about this.
const POLL: Duration = Duration::from_millis(250);
const STREAM_LIFE: Duration = Duration::from_secs(60);
/// What the browser waits before reconnecting (the `retry:` field).
const RECONNECT: Duration = Duration::from_millis(500);
/// Open streams per instance at most (each reads the database a few times a second): a
/// counter has one or two displays; more is a fault or an attack, and gets 503.
const MAX_STREAMS: usize = 128;
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// One open stream, counted while it lives.
struct Slot;

impl Slot {
    fn take() -> Option<Slot> {
        let before = OPEN.fetch_add(1, Ordering::SeqCst);
        if before >= MAX_STREAMS {
            OPEN.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Slot)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Feed {
    store: Store,
    cashier: String,
    last: Option<DisplayView>,
    until: Instant,
    stopping: watch::Receiver<bool>,
    _slot: Slot,
}

pub async fn events(
    Allowed { user, .. }: Allowed<Checkout>,
    State(state): State<AppState>,
) -> Response {
    let Some(slot) = Slot::take() else {
        tracing::warn!(user = %user.username, "customer display: too many open streams");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many customer displays are open\n",
        )
            .into_response();
    };
    let feed = Feed {
        _slot: slot,
        store: state.store.clone(),
        cashier: user.username,
        last: None,
        until: Instant::now() + STREAM_LIFE,
        stopping: state.stopping.clone(),
    };
    Sse::new(stream::unfold(feed, next_event))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Waits until the display's view differs from the last one sent, and sends it; `None`
/// ends the stream (its life is over, or the server is stopping).
async fn next_event(mut feed: Feed) -> Option<(Result<Event, Infallible>, Feed)> {
    loop {
        if *feed.stopping.borrow() || Instant::now() >= feed.until {
            return None;
        }
        if feed.last.is_some() {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = feed.stopping.changed() => return None,
            }
        }
        let now = paydesk_core::time::now_ms();
        let view = match current(&feed.store, &feed.cashier, now).await {
            Ok(v) => v,
            Err(e) => {
                // Said once per failed read; the display keeps what it shows and the
                // next poll tries again.
                tracing::warn!(error = %e, "customer display: cannot read the sale");
                feed.last.get_or_insert_with(DisplayView::default);
                continue;
            }
        };
        if feed.last.as_ref() == Some(&view) {
            continue;
        }
        let event = Event::default()
            .retry(RECONNECT)
            .json_data(&view)
            .unwrap_or_else(|_| Event::default().comment("unencodable"));
        feed.last = Some(view);
        return Some((Ok(event), feed));
    }
}
