//! Typed identifiers: channels, messages, events, users, correlation ids, and log positions.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A channel. Each channel is one stream of the event store.
    ChannelId
);
uuid_id!(
    /// A message, minted by the client before it is sent: the idempotency key of a post.
    MessageId
);
uuid_id!(
    /// One event in the store, unique across the whole log.
    EventId
);
uuid_id!(
    /// An account, minted by the server when someone signs up.
    UserId
);
uuid_id!(
    /// Ties together everything one user action caused, from the browser to the dispatcher.
    CorrelationId
);

impl ChannelId {
    /// The `#general` channel every Parley instance starts with.
    pub const GENERAL: ChannelId = ChannelId(Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001));

    /// The channel a page's address opens: its `c` parameter (`/?c=<channel>`), `#general`
    /// without one or with one that names no channel.
    pub fn in_address(c: Option<&str>) -> ChannelId {
        c.and_then(|c| c.parse().ok()).unwrap_or(ChannelId::GENERAL)
    }

    /// [`ChannelId::in_address`] from the address's query text (`?c=<channel>&...`).
    pub fn in_query(query: &str) -> ChannelId {
        let c = query
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("c="));
        ChannelId::in_address(c)
    }

    /// The direct-message channel of exactly these people: the same set always gives the
    /// same channel (a name-based UUIDv5), so opening a conversation twice finds the first.
    pub fn direct(members: &std::collections::BTreeSet<UserId>) -> ChannelId {
        const NAMESPACE: Uuid = Uuid::from_u128(0x5d1f_0c3e_8a7b_4c2d_9e6f_1a2b_3c4d_5e6f);
        let bytes: Vec<u8> = members.iter().flat_map(|m| *m.0.as_bytes()).collect();
        ChannelId(Uuid::new_v5(&NAMESPACE, &bytes))
    }

    /// The event-store stream that holds this channel's events.
    pub fn stream(self) -> StreamId {
        StreamId(format!("channel-{}", self.0))
    }
}

/// A position in the global log: gap-free, strictly increasing, starting at 1.
/// `Position::ZERO` means "before the first event": a cursor that has applied nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    pub const ZERO: Position = Position(0);

    pub fn next(self) -> Position {
        Position(self.0 + 1)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of one stream in the event store, e.g. `channel-<uuid>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamId(pub String);

impl StreamId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_v7_and_time_ordered() {
        let a = MessageId::new();
        let b = MessageId::new();
        assert_eq!(a.0.get_version_num(), 7);
        assert!(a < b, "v7 ids minted later sort later");
    }

    #[test]
    fn the_address_names_a_channel_or_general() {
        let id = ChannelId::new();
        assert_eq!(ChannelId::in_query(&format!("?c={id}")), id);
        assert_eq!(ChannelId::in_query(&format!("?space=x&c={id}&invite=y")), id);
        assert_eq!(ChannelId::in_address(Some(&id.to_string())), id);
        for query in ["", "?", "?c=", "?c=nope", "?cc=1", &format!("?xc={id}")] {
            assert_eq!(ChannelId::in_query(query), ChannelId::GENERAL, "{query}");
        }
        assert_eq!(ChannelId::in_address(None), ChannelId::GENERAL);
    }

    #[test]
    fn ids_round_trip_through_strings_and_json() {
        let id = ChannelId::new();
        assert_eq!(id.to_string().parse::<ChannelId>().ok(), Some(id));
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{id}\""));
        assert!("not-a-uuid".parse::<MessageId>().is_err());
    }

    #[test]
    fn a_direct_channel_is_named_by_its_members_alone() {
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let ab: std::collections::BTreeSet<UserId> = [a, b].into();
        let ba: std::collections::BTreeSet<UserId> = [b, a].into();
        let abc: std::collections::BTreeSet<UserId> = [a, b, c].into();
        assert_eq!(ChannelId::direct(&ab), ChannelId::direct(&ba));
        assert_ne!(ChannelId::direct(&ab), ChannelId::direct(&abc));
    }

    #[test]
    fn general_channel_has_a_stable_stream() {
        assert_eq!(
            ChannelId::GENERAL.stream().as_str(),
            "channel-00000000-0000-7000-8000-000000000001"
        );
    }
}
