//! What every aggregate state has in common: folded from its stream, one event at a time.

use crate::Event;

/// A state folded from the events of one stream by its `evolve`.
pub trait Aggregate: Clone + Default + PartialEq {
    /// The state after one more event of its stream.
    fn evolve(self, event: &Event) -> Self;
    /// How many events of the stream are folded in.
    fn version(&self) -> u64;
    /// Whether the stream exists at all (a state worth keeping).
    fn exists(&self) -> bool;

    /// Whether `events` change nothing but the version: such events may be folded in any
    /// order (a message posted to a channel changes nothing `decide` looks at).
    fn only_counts(&self, events: &[Event]) -> bool {
        let folded = events.iter().fold(self.clone(), |state, event| state.evolve(event));
        folded.with_version(0) == self.clone().with_version(0)
    }

    /// The same state claiming `version` events.
    fn with_version(self, version: u64) -> Self;
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
    fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
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
    fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
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
    fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChannelId, ChannelKind, ChannelState, DisplayName, MessageBody, MessageId};

    fn created(channel_id: ChannelId) -> Event {
        Event::ChannelCreated {
            channel_id,
            name: "general".into(),
            kind: ChannelKind::Lobby,
        }
    }

    #[test]
    fn a_post_only_counts_but_a_rename_or_an_archive_does_not() {
        let channel_id = ChannelId::new();
        let state = ChannelState::default().evolve(&created(channel_id));
        assert_eq!(state.version(), 1);
        let post = Event::MessagePosted {
            attachments: Vec::new(),
            reply_to: None,
            channel_id,
            message_id: MessageId::new(),
            author: DisplayName::parse("ada").expect("a valid name"),
            body: MessageBody::parse("hi").expect("a valid body"),
            author_id: None,
        };
        assert!(state.only_counts(std::slice::from_ref(&post)));
        let rename = Event::ChannelRenamed {
            channel_id,
            name: "random".into(),
        };
        assert!(!state.only_counts(&[post.clone(), rename]));
        assert!(!state.only_counts(&[Event::ChannelArchived { channel_id }]));
        assert!(!ChannelState::default().only_counts(&[created(channel_id)]));
    }
}
