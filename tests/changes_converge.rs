//! Randomised: whatever order one's own changes (edits, reactions, pins), the server's
//! answers and refusals, others' changes and the socket's deliveries happen in, the timeline
//! shows each own change at once and ends showing exactly what the log says, no change lost
//! or applied twice.
#![allow(clippy::unwrap_used)]

use parley::api::ChangeRequest;
use parley::timeline::{PendingChange, Timeline};
use parley::{
    ChannelId, DisplayName, Emoji, Event, EventMetadata, MessageBody, MessageId, MessageView, Position, UserId,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Kind {
    React(bool, bool),
    Edit(u8),
    Pin(bool),
}

#[derive(Clone, Debug)]
enum Op {
    /// Ada changes the message here: shown at once, kept in the outbox.
    Propose(Kind),
    /// The server stores one of the outbox's changes (the answer goes into flight).
    ServerStores(usize),
    /// The server refuses one (the answer comes at once).
    ServerRefuses(usize),
    /// An answer in flight arrives.
    AnswerArrives(usize),
    /// Bob changes the message, in the log.
    Bob(Kind),
    /// The socket delivers the next event of the log.
    Deliver,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (any::<bool>(), any::<bool>()).prop_map(|(party, on)| Kind::React(party, on)),
        (0u8..4).prop_map(Kind::Edit),
        any::<bool>().prop_map(Kind::Pin),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => kind().prop_map(Op::Propose),
        3 => any::<usize>().prop_map(Op::ServerStores),
        1 => any::<usize>().prop_map(Op::ServerRefuses),
        3 => any::<usize>().prop_map(Op::AnswerArrives),
        2 => kind().prop_map(Op::Bob),
        4 => Just(Op::Deliver),
    ]
}

fn request(kind: &Kind) -> ChangeRequest {
    match kind {
        Kind::React(party, on) => ChangeRequest::React {
            emoji: if *party { "🎉" } else { "👍" }.into(),
            on: *on,
        },
        Kind::Edit(n) => ChangeRequest::Edit {
            body: format!("version {n}"),
        },
        Kind::Pin(on) => ChangeRequest::Pin { on: *on },
    }
}

/// The event the server appends for `request` by `user`.
fn event(message_id: MessageId, user: &str, request: &ChangeRequest) -> Event {
    let channel_id = ChannelId::GENERAL;
    match request {
        ChangeRequest::React { emoji, on } => {
            let (user_id, user, emoji) = (
                UserId::new(),
                DisplayName::parse(user).unwrap(),
                Emoji::parse(emoji).unwrap(),
            );
            if *on {
                Event::ReactionAdded {
                    channel_id,
                    message_id,
                    user_id,
                    user,
                    emoji,
                }
            } else {
                Event::ReactionRemoved {
                    channel_id,
                    message_id,
                    user_id,
                    user,
                    emoji,
                }
            }
        }
        ChangeRequest::Edit { body } => Event::MessageEdited {
            channel_id,
            message_id,
            body: MessageBody::parse(body).unwrap(),
            editor_id: UserId::new(),
        },
        ChangeRequest::Pin { on } => Event::MessagePinned {
            channel_id,
            message_id,
            pinned: *on,
            by: UserId::new(),
        },
        ChangeRequest::Delete => Event::MessageDeleted {
            channel_id,
            message_id,
            deleted_by: UserId::new(),
        },
    }
}

fn recorded(position: Position, event: Event) -> parley::RecordedEvent {
    parley::RecordedEvent {
        position,
        stream_id: ChannelId::GENERAL.stream(),
        stream_version: position.0,
        event_id: parley::EventId::new(),
        schema_version: 1,
        event,
        metadata: EventMetadata {
            actor: "t".into(),
            correlation_id: parley::CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        },
        recorded_at_ms: 0,
    }
}

/// An outbox item: the change, and what the server did with it.
struct Sent {
    change: PendingChange,
    answer: Option<Result<Position, ()>>,
    answered: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]
    #[test]
    fn own_changes_show_at_once_and_the_timeline_ends_as_the_log(ops in proptest::collection::vec(op(), 1..60)) {
        let id = MessageId::new();
        let first = MessageView::posted(Position(1), id, ChannelId::GENERAL, "bob".into(), "hello".into(), 1);
        let mut log: Vec<parley::RecordedEvent> = Vec::new();
        let mut delivered = 0;
        let mut timeline = Timeline::new();
        timeline.apply(first.clone());
        let mut outbox: Vec<Sent> = Vec::new();
        let head = |log: &Vec<parley::RecordedEvent>| Position(log.len() as u64 + 1);
        for op in ops {
            match op {
                Op::Propose(kind) => {
                    let change = PendingChange {
                        change_id: MessageId::new(),
                        channel: ChannelId::GENERAL,
                        message_id: id,
                        by: "ada".into(),
                        request: request(&kind),
                        stored_at: None,
                    };
                    // Shown at once: what is on screen is what the change makes of it.
                    let mut expected = timeline.get(id).unwrap().clone();
                    change.apply(&mut expected);
                    prop_assert!(timeline.propose(change.clone()));
                    prop_assert_eq!(timeline.get(id).unwrap(), &expected);
                    outbox.push(Sent { change, answer: None, answered: false });
                }
                Op::ServerStores(i) if !outbox.is_empty() => {
                    let n = outbox.len();
                    let sent = &mut outbox[i % n];
                    if sent.answer.is_none() {
                        let position = head(&log).next();
                        log.push(recorded(position, event(id, "ada", &sent.change.request)));
                        sent.answer = Some(Ok(position));
                    }
                }
                Op::ServerRefuses(i) if !outbox.is_empty() => {
                    let n = outbox.len();
                    let sent = &mut outbox[i % n];
                    if sent.answer.is_none() {
                        sent.answer = Some(Err(()));
                        sent.answered = true;
                        timeline.refused(sent.change.change_id);
                    }
                }
                Op::AnswerArrives(i) if !outbox.is_empty() => {
                    let n = outbox.len();
                    let sent = &mut outbox[i % n];
                    if let Some(Ok(position)) = sent.answer && !sent.answered {
                        sent.answered = true;
                        timeline.stored(sent.change.change_id, position);
                    }
                }
                Op::Bob(kind) => {
                    let position = head(&log).next();
                    log.push(recorded(position, event(id, "bob", &request(&kind))));
                }
                Op::Deliver if delivered < log.len() => {
                    timeline.change(ChannelId::GENERAL, &log[delivered]);
                    delivered += 1;
                }
                _ => {}
            }
        }
        // Everything settles: the server answers the rest, every answer and event arrives.
        for sent in &mut outbox {
            if sent.answer.is_none() {
                let position = head(&log).next();
                log.push(recorded(position, event(id, "ada", &sent.change.request)));
                sent.answer = Some(Ok(position));
            }
            if let Some(Ok(position)) = sent.answer && !sent.answered {
                timeline.stored(sent.change.change_id, position);
            }
        }
        while delivered < log.len() {
            timeline.change(ChannelId::GENERAL, &log[delivered]);
            delivered += 1;
        }
        let mut truth = first;
        for event in &log {
            truth.fold(event.position, &event.event);
        }
        prop_assert!(timeline.pending_changes().is_empty(), "{:?}", timeline.pending_changes());
        prop_assert_eq!(timeline.get(id).unwrap().view(ChannelId::GENERAL).unwrap(), truth);
    }
}
