//! Typing notes: the eager path. Published to the channel's followers, throttled, only into
//! followed channels, and never stored.

use crate::helpers::spawn_app;
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, Position};

#[tokio::test]
async fn typing_reaches_followers_and_is_never_stored() {
    let app = spawn_app().await;
    let bob = app.sign_up("bob").await;
    let mut ada_socket = app.socket().await;
    let mut bob_socket = app.socket_as(&bob).await;
    ada_socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    bob_socket.subscribe(ChannelId::GENERAL, Position::ZERO).await;
    let head = app.head().await;

    let typing = ClientFrame::Typing {
        channel: ChannelId::GENERAL,
    };
    ada_socket.send(&typing).await;
    assert_eq!(
        bob_socket.next().await,
        ServerFrame::Typing {
            channel: ChannelId::GENERAL,
            user: "tester".into()
        }
    );
    // Again at once: throttled (at most one note per 250 ms per socket and channel).
    ada_socket.send(&typing).await;
    bob_socket.expect_silence(300).await;
    assert_eq!(app.head().await, head, "nothing was appended to the log");

    // Only into a channel the socket follows.
    let elsewhere = ClientFrame::Typing {
        channel: ChannelId::new(),
    };
    bob_socket.send(&elsewhere).await;
    assert!(matches!(bob_socket.next().await, ServerFrame::Error { error } if error.contains("subscribe")));
}
