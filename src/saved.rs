//! Saved items: messages a person keeps for later, for themselves alone; the rules for saving one and the bound on how many.

use crate::channel::MessageFacts;
use crate::error::DomainError;
use crate::event::Event;
use crate::ids::{ChannelId, MessageId, StreamId, UserId};

/// The most messages one person may keep saved.
pub const MAX_SAVED: u32 = 500;

/// The stream of a person's saved items.
pub fn stream(user: UserId) -> StreamId {
    StreamId(format!("saved-{user}"))
}

/// Decides whether `user` saving (`on`) or letting go of a message changes anything.
/// `facts` describe the message (`None`: not in that channel); `saved` is whether it is
/// saved already, `count` how many the person keeps. A state, like a reaction: asking
/// twice changes nothing; letting go of a message deleted since is always possible.
pub fn decide_save(
    user_id: UserId,
    channel_id: ChannelId,
    message_id: MessageId,
    facts: Option<&MessageFacts>,
    saved: bool,
    count: u32,
    on: bool,
) -> Result<Vec<Event>, DomainError> {
    if on == saved {
        return Ok(Vec::new());
    }
    if on {
        let Some(facts) = facts else {
            return Err(DomainError::NoSuchMessage);
        };
        if facts.deleted {
            return Err(DomainError::MessageWasDeleted);
        }
        if !facts.kind.is_message() {
            return Err(DomainError::NotAMessage);
        }
        if count >= MAX_SAVED {
            return Err(DomainError::TooManySaved);
        }
    }
    Ok(vec![Event::MessageSaved {
        user_id,
        channel_id,
        message_id,
        saved: on,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::MessageKind;

    fn facts(deleted: bool, kind: MessageKind) -> MessageFacts {
        MessageFacts {
            author_id: None,
            deleted,
            reactions: Vec::new(),
            pinned: false,
            pins_in_channel: 0,
            kind,
        }
    }

    #[test]
    fn saving_is_a_state_bounded_per_person_and_only_of_live_messages() {
        let (user, channel, message) = (UserId::new(), ChannelId::new(), MessageId::new());
        let live = facts(false, MessageKind::Message);
        let save = |facts: Option<&MessageFacts>, saved, count, on| {
            decide_save(user, channel, message, facts, saved, count, on)
        };
        assert!(matches!(
            save(Some(&live), false, 0, true).as_deref(),
            Ok([Event::MessageSaved { saved: true, .. }])
        ));
        assert_eq!(save(Some(&live), true, 1, true), Ok(Vec::new()), "twice is once");
        assert_eq!(save(Some(&live), false, 0, false), Ok(Vec::new()));
        assert_eq!(save(None, false, 0, true), Err(DomainError::NoSuchMessage));
        assert_eq!(
            save(Some(&facts(true, MessageKind::Message)), false, 0, true),
            Err(DomainError::MessageWasDeleted)
        );
        assert_eq!(
            save(Some(&facts(false, MessageKind::Topic)), false, 0, true),
            Err(DomainError::NotAMessage)
        );
        assert_eq!(
            save(Some(&live), false, MAX_SAVED, true),
            Err(DomainError::TooManySaved)
        );
        // Letting go always works: of a message deleted since, or when at the bound.
        assert!(save(None, true, MAX_SAVED, false).is_ok_and(|e| e.len() == 1));
    }
}
