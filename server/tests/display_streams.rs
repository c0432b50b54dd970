//! The customer display's event streams are bounded per instance: past the bound a new
//! one is refused with 503 (a counter has one or two displays; hundreds are a fault or an
//! attack, each polling the database), and a closed stream frees its place. Its own test
//! binary: the bound is per process.

use paydesk_core::role::Role;

mod support;
use support::dashboard::{add_user, client, login};
use support::{Options, spawn_app_with};

const BOUND: usize = 128;

#[tokio::test]
async fn open_display_streams_are_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(dir.path(), Options::default()).await;
    add_user(&app.state.store, "m1", Role::Merchant).await;
    let m1 = login(&app, "m1").await;
    let open = || {
        client()
            .get(format!("{}/display/events", app.base))
            .header("Cookie", &m1)
            .send()
    };
    let mut streams = Vec::new();
    for _ in 0..BOUND {
        let r = open().await.expect("stream");
        assert_eq!(r.status().as_u16(), 200);
        streams.push(r);
    }
    assert_eq!(open().await.expect("refused").status().as_u16(), 503);
    drop(streams.pop());
    // The server notices the closed connection at its next write (within a poll or two).
    let mut reopened = None;
    for _ in 0..40 {
        let r = open().await.expect("stream");
        if r.status().as_u16() == 200 {
            reopened = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed stream frees its place");
}
