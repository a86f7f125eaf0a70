//! Read markers, mutes and unread counts: the commands that move a user's markers (counted by the `read_markers` read model).

use super::{Engine, EngineError};
use crate::read_model;
use parley::api::Me;
use parley::unread::{self, ChannelUnread};
use parley::{ChannelId, Event, Position};

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

    async fn marker(&self, me: &Me, channel: ChannelId) -> Result<(Option<Position>, bool), EngineError> {
        Ok(read_model::reads::marker(self.store.pool(), me.user_id, channel).await?)
    }

    /// Unread messages and mentions in every channel `me` can read: the lobby, the channels
    /// of their spaces, their direct conversations (see [`read_model::reads::unreads`]).
    pub async fn unreads(&self, me: &Me) -> Result<Vec<ChannelUnread>, EngineError> {
        Ok(read_model::reads::unreads(self.store.pool(), me).await?)
    }
}
