//! The read models: one file per read model, each with the fold that keeps it (the projection runs them, in one transaction with its checkpoint).
//!
//! The `messages`, `channels`, `spaces` and `read_markers` read models hold their queries
//! too (search is the `messages` read model's); those of webhooks and the inspector are still in
//! the engine's area files.

/// Whether the user (the parameter or column named) is in channel `c`: a public channel's space
/// members are unless they left it; a private channel's only those added to it.
macro_rules! in_channel {
    ($user:literal) => {
        concat!(
            "COALESCE((SELECT cm.inside FROM channel_members cm WHERE cm.channel_id = c.channel_id AND cm.user_id = ",
            $user,
            "), 1 - c.private) = 1"
        )
    };
}

mod accounts;
pub mod channels;
pub mod messages;
pub mod reads;
pub mod saved;
pub mod spaces;
pub mod threads;
mod webhooks;

use crate::db::Backend;
use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;
use std::sync::Arc;

/// A value in a read model that does not read back (written by a broken fold): a fault of
/// the server's, never the user's.
pub(crate) fn bad_value(table: &str, raw: &str, reason: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad value {raw:?} in {table}: {reason}").into())
}

/// An id read back from a read model.
pub(crate) fn parse_value<T: std::str::FromStr<Err = uuid::Error>>(table: &str, raw: &str) -> Result<T, sqlx::Error> {
    raw.parse().map_err(|e| bad_value(table, raw, e))
}

/// Folds a batch of committed events into every read model, in log order. Applying an
/// event twice changes nothing.
pub async fn fold(conn: &mut AnyConnection, backend: Backend, batch: &[Arc<RecordedEvent>]) -> Result<(), sqlx::Error> {
    // Posts, the bulk of the log, are gathered and inserted together; any other event
    // inserts them first, so the read models change in log order.
    let mut posts = messages::Posts::default();
    for recorded in batch {
        if matches!(recorded.event, Event::MessagePosted { .. }) {
            posts.add(conn, backend, recorded).await?;
            continue;
        }
        posts.flush(conn, backend).await?;
        match &recorded.event {
            Event::MessageEdited { .. }
            | Event::MessageDeleted { .. }
            | Event::ReactionAdded { .. }
            | Event::ReactionRemoved { .. }
            | Event::MessagePinned { .. } => messages::fold(conn, recorded).await?,
            Event::TopicChanged { .. } => {
                messages::fold(conn, recorded).await?;
                channels::fold(conn, recorded).await?
            }
            Event::ChannelCreated { .. }
            | Event::ChannelRenamed { .. }
            | Event::ChannelArchived { .. }
            | Event::ChannelJoined { .. }
            | Event::ChannelLeft { .. }
            | Event::ChannelDeleted { .. } => channels::fold(conn, recorded).await?,
            Event::SpaceCreated { .. }
            | Event::SpaceRenamed { .. }
            | Event::SpaceDeleted { .. }
            | Event::InviteCreated { .. }
            | Event::InviteRevoked { .. }
            | Event::MemberJoined { .. }
            | Event::MemberLeft { .. }
            | Event::MemberRemoved { .. }
            | Event::RoleChanged { .. }
            | Event::SpaceConfigured { .. } => spaces::fold(conn, recorded).await?,
            Event::ChannelRead { .. } | Event::ChannelMuted { .. } => reads::fold(conn, recorded).await?,
            Event::MessageSaved { .. } => saved::fold(conn, recorded).await?,
            Event::ThreadFollowed { .. } | Event::ThreadRead { .. } => threads::fold(conn, recorded).await?,
            Event::WebhookCreated { .. } | Event::WebhookDeleted { .. } | Event::WebhookPaused { .. } => {
                webhooks::fold(conn, recorded).await?
            }
            Event::AccountRegistered { .. }
            | Event::AdminGranted { .. }
            | Event::AdminRevoked { .. }
            | Event::AccountDisabled { .. }
            | Event::AccountEnabled { .. }
            | Event::ProfileChanged { .. } => accounts::fold(conn, recorded).await?,
            Event::AccountErased { .. } => accounts::erase(conn, recorded).await?,
            // Sessions live in their own table; their end only closes sockets (see `LogState`).
            Event::SessionsEnded { .. } => {}
            // Sign-in reads the password from the account's folded stream, not a read model.
            Event::PasswordChanged { .. } => {}
            Event::MessagePosted { .. } => {}
            // A space's topics are in its folded state; their events are read from their
            // streams (webhooks, the inspector), not from a read model.
            Event::TopicCreated { .. } | Event::TopicPublished { .. } => {}
        }
    }
    posts.flush(conn, backend).await
}
