//! Read markers, mutes and unread counts: the commands that move a user's markers (counted by the `read_markers` read model).

use super::{Engine, EngineError};
use crate::read_model;
use parley::api::Me;
use parley::unread::{self, ChannelUnread};
use parley::{ChannelId, DomainError, Event, MessageId, Position};

impl Engine {
    /// `me` has read `channel` up to `up_to`. The marker only moves forward and never past
    /// the log's head; returns where it stands.
    pub async fn mark_read(&self, me: &Me, channel: ChannelId, up_to: Position) -> Result<Position, EngineError> {
        self.authorize_channel(me, channel).await?;
        let (current, _) = self.marker(me, channel).await?;
        let Some(target) = unread::decide_read(current, up_to, self.hub.projected()) else {
            return Ok(current.unwrap_or(Position::ZERO));
        };
        let event = Event::ChannelRead {
            user_id: me.user_id,
            channel_id: channel,
            up_to: target,
        };
        // Two tabs marking at once both append; the read model keeps the higher marker.
        self.record(me, unread::stream(me.user_id), event).await?;
        Ok(target)
    }

    /// Silences `channel` for `me` (no notifications, not in the unread total), or not.
    pub async fn mute_channel(&self, me: &Me, channel: ChannelId, muted: bool) -> Result<(), EngineError> {
        self.authorize_channel(me, channel).await?;
        if self.marker(me, channel).await?.1 == muted {
            return Ok(());
        }
        let event = Event::ChannelMuted {
            user_id: me.user_id,
            channel_id: channel,
            muted,
        };
        self.record(me, unread::stream(me.user_id), event).await?;
        Ok(())
    }

    /// Follows the thread of `root` in `channel` for `me` by hand (or stops following it).
    pub async fn follow_thread(
        &self,
        me: &Me,
        channel: ChannelId,
        root: MessageId,
        on: bool,
    ) -> Result<(), EngineError> {
        self.authorize_channel(me, channel).await?;
        self.spend(me, crate::engine::budget::Write::Change).await?;
        let pool = self.store.pool();
        match read_model::messages::parent(pool, channel, root).await? {
            Some(parent) if parent.reply_to.is_none() && !parent.deleted => {}
            Some(_) => return Err(DomainError::NotAThread.into()),
            None => return Err(DomainError::NoSuchMessage.into()),
        }
        let following = read_model::threads::state(pool, me.user_id, root)
            .await?
            .is_some_and(|(f, _)| f);
        if following == on {
            return Ok(());
        }
        let event = Event::ThreadFollowed {
            user_id: me.user_id,
            channel_id: channel,
            root,
            following: on,
        };
        self.record(me, unread::stream(me.user_id), event).await
    }

    /// `me` has read the thread of `root` up to `up_to` (a thread they follow); returns
    /// where the marker stands.
    pub async fn mark_thread_read(
        &self,
        me: &Me,
        channel: ChannelId,
        root: MessageId,
        up_to: Position,
    ) -> Result<Position, EngineError> {
        self.authorize_channel(me, channel).await?;
        let Some((_, current)) = read_model::threads::state(self.store.pool(), me.user_id, root).await? else {
            return Ok(Position::ZERO);
        };
        let current = (current > Position::ZERO).then_some(current);
        let Some(target) = unread::decide_read(current, up_to, self.hub.projected()) else {
            return Ok(current.unwrap_or(Position::ZERO));
        };
        let event = Event::ThreadRead {
            user_id: me.user_id,
            channel_id: channel,
            root,
            up_to: target,
        };
        self.record(me, unread::stream(me.user_id), event).await?;
        Ok(target)
    }

    /// The threads `me` follows, the most recently active first, with their unread replies.
    pub async fn followed_threads(&self, me: &Me) -> Result<Vec<parley::threads::ThreadView>, EngineError> {
        // Counted from the read model once it holds every committed reply (one heard live
        // a moment ago included).
        let head = self.store.committed_head().await?;
        self.wait_projected(head).await;
        Ok(read_model::threads::followed(self.store.pool(), self.store.backend(), me).await?)
    }

    async fn marker(&self, me: &Me, channel: ChannelId) -> Result<(Option<Position>, bool), EngineError> {
        Ok(read_model::reads::marker(self.store.pool(), me.user_id, channel).await?)
    }

    /// Unread messages and mentions in every channel `me` can read: the lobby, the channels
    /// of their spaces, their direct conversations (see [`read_model::reads::unreads`]).
    pub async fn unreads(&self, me: &Me) -> Result<Vec<ChannelUnread>, EngineError> {
        Ok(read_model::reads::unreads(self.store.pool(), me).await?)
    }
}
