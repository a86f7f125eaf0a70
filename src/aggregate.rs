//! What every aggregate state has in common: folded from its stream, one event at a time.

use crate::{ChannelId, Event, SpaceId, StreamId, Username};

/// A state folded from the events of one stream by its `evolve`.
pub trait Aggregate: Clone + Default {
    /// The state after one more event of its stream.
    fn evolve(self, event: &Event) -> Self;
    /// How many events of the stream are folded in.
    fn version(&self) -> u64;
    /// Whether the stream exists at all (a state worth keeping).
    fn exists(&self) -> bool;
}

impl Aggregate for crate::ChannelState {
    fn evolve(self, event: &Event) -> Self {
        crate::channel::evolve(self, event)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn exists(&self) -> bool {
        crate::ChannelState::exists(self)
    }
}

impl Aggregate for crate::SpaceState {
    fn evolve(self, event: &Event) -> Self {
        crate::space::evolve(self, event)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn exists(&self) -> bool {
        // A deleted space is still worth keeping: it answers "no such space" without a read.
        self.version > 0
    }
}

impl Aggregate for crate::AccountState {
    fn evolve(self, event: &Event) -> Self {
        crate::account::evolve(self, event)
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn exists(&self) -> bool {
        crate::AccountState::exists(self)
    }
}

/// The aggregate a stream holds the events of, read back from the stream's name (the names
/// `ChannelId::stream`, `SpaceId::stream` and `Username::stream` give).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamOf {
    Channel(ChannelId),
    Space(SpaceId),
    Account(Username),
    /// A stream of no aggregate (read markers, webhooks, sessions), or a name not ours.
    Other,
}

impl StreamOf {
    pub fn of(stream: &StreamId) -> Self {
        let (kind, key) = stream.0.split_once('-').unwrap_or((stream.0.as_str(), ""));
        match kind {
            "channel" => key.parse().map_or(Self::Other, Self::Channel),
            "space" => key.parse().map_or(Self::Other, Self::Space),
            "account" => Username::parse(key).map_or(Self::Other, Self::Account),
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_name_gives_back_its_aggregate() {
        let channel = ChannelId::new();
        assert_eq!(StreamOf::of(&channel.stream()), StreamOf::Channel(channel));
        let space = SpaceId::new();
        assert_eq!(StreamOf::of(&space.stream()), StreamOf::Space(space));
        let name = Username::parse("ada-l").expect("a valid name");
        assert_eq!(StreamOf::of(&name.stream()), StreamOf::Account(name));
        assert_eq!(StreamOf::of(&crate::webhook::stream(space)), StreamOf::Other);
        assert_eq!(
            StreamOf::of(&crate::unread::stream(crate::UserId::new())),
            StreamOf::Other
        );
        assert_eq!(StreamOf::of(&StreamId("channel-not-an-id".into())), StreamOf::Other);
    }
}
