//! The client's view of one channel: committed messages in log order, then its own
//! pending ones, each message once, whatever order acks and events arrive in; and its own
//! changes to messages (edits, deletes, reactions, pins) shown on top until the log has them.

use crate::api::ChangeRequest;
use crate::event::{MessageView, Reaction, RecordedEvent};
use crate::ids::{ChannelId, MessageId, Position};
use serde::{Deserialize, Serialize};

/// Where one of your own messages stands. Others' messages are always `Sent`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Delivery {
    /// On screen, not yet acknowledged by the server.
    Pending,
    /// Durable in the log.
    Sent,
    /// The server refused it, or it could not be sent; it can be retried with the same id.
    Failed(String),
}

/// One line of the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub message_id: MessageId,
    pub author: String,
    pub body: String,
    /// The log position, once known (from an ack or from the event itself).
    pub position: Option<Position>,
    pub sent_at_ms: Option<i64>,
    pub delivery: Delivery,
    #[serde(default)]
    pub edited: bool,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// The position of the last event folded in (see [`MessageView::revision`]).
    #[serde(default)]
    pub revision: Position,
    /// The thread this entry replies in (its root), if it is a reply.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// For a thread's root: how many replies it has.
    #[serde(default)]
    pub replies: u32,
    /// Files sent with it (for a pending message, some may still be uploading).
    #[serde(default)]
    pub attachments: Vec<crate::attachment::Attachment>,
    #[serde(default)]
    pub pinned: bool,
    /// A reply shown in its channel too.
    #[serde(default)]
    pub also_in_channel: bool,
    /// A message, or a notice of the channel (a new topic).
    #[serde(default)]
    pub kind: crate::event::MessageKind,
}

impl Entry {
    /// The committed message this entry shows, if it is committed.
    pub fn view(&self, channel_id: ChannelId) -> Option<MessageView> {
        Some(MessageView {
            position: self.position?,
            message_id: self.message_id,
            channel_id,
            author: self.author.clone(),
            body: self.body.clone(),
            sent_at_ms: self.sent_at_ms.unwrap_or_default(),
            edited: self.edited,
            deleted: self.deleted,
            reactions: self.reactions.clone(),
            revision: self.revision,
            reply_to: self.reply_to,
            replies: self.replies,
            attachments: self.attachments.clone(),
            pinned: self.pinned,
            kind: self.kind,
            also_in_channel: self.also_in_channel,
        })
    }

    fn from_view(view: MessageView, delivery: Delivery) -> Self {
        Self {
            message_id: view.message_id,
            author: view.author,
            body: view.body,
            position: Some(view.position),
            sent_at_ms: Some(view.sent_at_ms),
            delivery,
            edited: view.edited,
            deleted: view.deleted,
            reactions: view.reactions,
            revision: view.revision.max(view.position),
            reply_to: view.reply_to,
            replies: view.replies,
            attachments: view.attachments,
            pinned: view.pinned,
            kind: view.kind,
            also_in_channel: view.also_in_channel,
        }
    }
}

/// A change of one's own to a committed message, made here and not yet in the log: shown
/// at once, on top of the log's copy, kept (by the client, in its outbox) through reloads
/// and lost connections, sent in the order made, and stored once however often it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChange {
    /// Its own id: the server stores a resend once.
    pub change_id: MessageId,
    pub channel: ChannelId,
    pub message_id: MessageId,
    /// Who makes it: their name shows in a reaction at once.
    pub by: String,
    pub request: ChangeRequest,
    /// Where the server stored it. It shows until the timeline's copy of the message has
    /// seen that position (the event may come before the answer, or after).
    #[serde(default)]
    pub stored_at: Option<Position>,
}

impl PendingChange {
    /// Shows the change on `entry`.
    pub fn apply(&self, entry: &mut Entry) {
        match &self.request {
            ChangeRequest::Edit { body } => {
                entry.body = body.clone();
                entry.edited = true;
            }
            ChangeRequest::Delete => {
                entry.deleted = true;
                entry.body.clear();
                entry.reactions.clear();
                entry.attachments.clear();
            }
            ChangeRequest::React { emoji, on } => {
                let me = self.by.as_str();
                match entry.reactions.iter_mut().find(|r| r.emoji == *emoji) {
                    Some(r) if *on && !r.users.iter().any(|u| u == me) => r.users.push(me.to_owned()),
                    Some(r) if !*on => r.users.retain(|u| u != me),
                    Some(_) => {}
                    None if *on => entry.reactions.push(Reaction {
                        emoji: emoji.clone(),
                        users: vec![me.to_owned()],
                    }),
                    None => {}
                }
                entry.reactions.retain(|r| !r.users.is_empty());
            }
            ChangeRequest::Pin { on } => entry.pinned = *on,
        }
    }
}

/// A channel as the client shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Entries with a position, ordered by it.
    confirmed: Vec<Entry>,
    /// Own entries without a position yet, in the order they were written.
    pending: Vec<Entry>,
    /// Own changes to confirmed entries not yet in the log, in the order made.
    changes: Vec<PendingChange>,
    /// The log's own copy of each entry that pending changes are shown on.
    underneath: std::collections::HashMap<MessageId, Entry>,
    /// The last log position applied from the event stream. Acks do not move it:
    /// events before an acked position may still be on their way.
    cursor: Position,
}

impl Timeline {
    pub fn new() -> Self {
        Self::default()
    }

    /// The position to resume from: everything up to it has been applied.
    pub fn cursor(&self) -> Position {
        self.cursor
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.confirmed.iter().chain(self.pending.iter())
    }

    /// The oldest position on the timeline: the anchor for fetching older history.
    pub fn oldest(&self) -> Option<Position> {
        self.confirmed.first().and_then(|e| e.position)
    }

    /// Own messages not yet acknowledged, pending or failed.
    pub fn unsent(&self) -> impl Iterator<Item = &Entry> {
        self.pending.iter()
    }

    /// Sets where the feed resumes from, when restoring a cached channel.
    pub fn restore_cursor(&mut self, cursor: Position) {
        self.cursor = self.cursor.max(cursor);
    }

    pub fn len(&self) -> usize {
        self.confirmed.len() + self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, message_id: MessageId) -> Option<&Entry> {
        self.entries().find(|e| e.message_id == message_id)
    }

    /// Shows your own message at once. Returns false (and changes nothing) when
    /// the id is already on the timeline.
    pub fn add_pending(
        &mut self,
        message_id: MessageId,
        author: String,
        body: String,
        reply_to: Option<MessageId>,
    ) -> bool {
        if self.get(message_id).is_some() {
            return false;
        }
        self.pending.push(Entry {
            message_id,
            author,
            body,
            position: None,
            sent_at_ms: None,
            delivery: Delivery::Pending,
            edited: false,
            deleted: false,
            reactions: Vec::new(),
            revision: Position::ZERO,
            reply_to,
            replies: 0,
            attachments: Vec::new(),
            pinned: false,
            kind: crate::event::MessageKind::Message,
            also_in_channel: false,
        });
        true
    }

    /// Shows a pending reply in its channel too ("also send to channel").
    pub fn also_in_channel(&mut self, message_id: MessageId) {
        if let Some(entry) = self
            .pending
            .iter_mut()
            .find(|e| e.message_id == message_id && e.reply_to.is_some())
        {
            entry.also_in_channel = true;
        }
    }

    /// The files of a message still pending (as they upload, their ids fill in).
    pub fn attach(&mut self, message_id: MessageId, attachments: Vec<crate::attachment::Attachment>) {
        if let Some(entry) = self.pending.iter_mut().find(|e| e.message_id == message_id) {
            entry.attachments = attachments;
        }
    }

    /// The server made your message durable at `position`.
    pub fn ack(&mut self, message_id: MessageId, position: Position) {
        if let Some(i) = self.pending.iter().position(|e| e.message_id == message_id) {
            let mut entry = self.pending.remove(i);
            entry.position = Some(position);
            entry.revision = entry.revision.max(position);
            entry.delivery = Delivery::Sent;
            self.insert_confirmed(entry);
        }
    }

    /// Sending failed: the entry stays, marked, ready for a retry with the same id.
    pub fn fail(&mut self, message_id: MessageId, error: String) {
        if let Some(entry) = self.pending.iter_mut().find(|e| e.message_id == message_id) {
            entry.delivery = Delivery::Failed(error);
        }
    }

    /// Marks a failed entry pending again and returns what to resend.
    pub fn retry(&mut self, message_id: MessageId) -> Option<Entry> {
        let entry = self.pending.iter_mut().find(|e| e.message_id == message_id)?;
        if !matches!(entry.delivery, Delivery::Failed(_)) {
            return None;
        }
        entry.delivery = Delivery::Pending;
        Some(entry.clone())
    }

    /// Applies a committed message from this client's own feed of the log (its socket,
    /// or the newest history page it started from): the cursor moves up to it.
    /// Idempotent: a message already on the timeline is merged, never duplicated.
    pub fn apply(&mut self, view: MessageView) {
        if view.position > self.cursor {
            self.cursor = view.position;
        }
        self.merge(view);
    }

    /// Adds a committed message learnt elsewhere (the local cache, a sibling tab, an older
    /// history page) without moving the cursor: events between the cursor and this
    /// message may not have been seen yet, and resuming must not skip them.
    pub fn merge(&mut self, view: MessageView) {
        let message_id = view.message_id;
        let layered = self.unshow(message_id);
        self.merge_underneath(view);
        if layered {
            self.relayer(message_id);
        }
    }

    fn merge_underneath(&mut self, view: MessageView) {
        self.pending.retain(|e| e.message_id != view.message_id);
        if let Some(existing) = self.confirmed.iter_mut().find(|e| e.message_id == view.message_id) {
            existing.sent_at_ms = Some(view.sent_at_ms);
            existing.delivery = Delivery::Sent;
            // The copy that has seen more of the log wins, whatever order copies come in.
            if view.revision > existing.revision {
                let newer = Entry::from_view(view, Delivery::Sent);
                existing.author = newer.author;
                existing.body = newer.body;
                existing.attachments = newer.attachments;
                existing.edited = newer.edited;
                existing.deleted = newer.deleted;
                existing.reactions = newer.reactions;
                existing.revision = newer.revision;
                existing.replies = newer.replies;
                existing.pinned = newer.pinned;
            }
            return;
        }
        self.insert_confirmed(Entry::from_view(view, Delivery::Sent));
    }

    /// Applies an edit, a delete or a reaction from this client's own feed of the log:
    /// the cursor moves up to it. Returns the changed message, to cache and to share
    /// with sibling tabs; `None` when the message is not on the timeline (an older page
    /// fetched later comes with the change already folded in).
    pub fn change(&mut self, channel_id: ChannelId, recorded: &RecordedEvent) -> Option<MessageView> {
        if recorded.position > self.cursor {
            self.cursor = recorded.position;
        }
        let message_id = recorded.changed_message()?;
        let layered = self.unshow(message_id);
        let folded = self
            .confirmed
            .iter_mut()
            .find(|e| e.message_id == message_id)
            .and_then(|entry| {
                let mut view = entry.view(channel_id)?;
                view.fold(recorded.position, &recorded.event);
                *entry = Entry::from_view(view.clone(), Delivery::Sent);
                Some(view)
            });
        if layered {
            self.relayer(message_id);
        }
        folded
    }

    /// Forgets a deleted account (`username`): its messages and reactions read as
    /// [`crate::redact::ERASED_NAME`]'s, and its messages are erased too when `messages`.
    /// Returns the committed messages that changed, to cache and share.
    pub fn forget(&mut self, channel_id: ChannelId, username: &str, messages: bool) -> Vec<MessageView> {
        let layered: Vec<MessageId> = self.underneath.keys().copied().collect();
        for message_id in &layered {
            self.unshow(*message_id);
        }
        let changed = self.forget_underneath(channel_id, username, messages);
        for message_id in layered {
            self.relayer(message_id);
        }
        changed
    }

    fn forget_underneath(&mut self, channel_id: ChannelId, username: &str, messages: bool) -> Vec<MessageView> {
        let gone = crate::redact::ERASED_NAME;
        let mut changed = Vec::new();
        for entry in &mut self.confirmed {
            let mut touched = false;
            if entry.author == username {
                entry.author = gone.to_owned();
                if messages {
                    entry.body.clear();
                    entry.attachments.clear();
                    entry.reactions.clear();
                    entry.deleted = true;
                }
                touched = true;
            }
            for reaction in &mut entry.reactions {
                for user in reaction.users.iter_mut().filter(|u| *u == username) {
                    *user = gone.to_owned();
                    touched = true;
                }
            }
            if touched {
                changed.extend(entry.view(channel_id));
            }
        }
        changed
    }

    /// Shows a change of your own at once, on top of the log's copy of its message, until
    /// the log has it ([`Self::stored`], then the event) or the server refuses it
    /// ([`Self::refused`]). False (nothing shown) when the message is not on the timeline;
    /// a change already shown is not shown twice.
    pub fn propose(&mut self, change: PendingChange) -> bool {
        let Some(entry) = self.confirmed.iter().find(|e| e.message_id == change.message_id) else {
            return false;
        };
        if self.changes.iter().any(|c| c.change_id == change.change_id) {
            return true;
        }
        let message_id = change.message_id;
        self.underneath.entry(message_id).or_insert_with(|| entry.clone());
        self.changes.push(change);
        self.reshow(message_id);
        true
    }

    /// The server stored the change at `position`: it shows until the message's copy here
    /// has seen that position.
    pub fn stored(&mut self, change_id: MessageId, position: Position) {
        if let Some(change) = self.changes.iter_mut().find(|c| c.change_id == change_id) {
            change.stored_at = Some(position);
            let message_id = change.message_id;
            self.reshow(message_id);
        }
    }

    /// The server refused the change: the message shows as the log has it again. Returns
    /// the change, to say what was refused.
    pub fn refused(&mut self, change_id: MessageId) -> Option<PendingChange> {
        let i = self.changes.iter().position(|c| c.change_id == change_id)?;
        let change = self.changes.remove(i);
        self.reshow(change.message_id);
        Some(change)
    }

    /// Own changes shown and not yet in the log, in the order made.
    pub fn pending_changes(&self) -> &[PendingChange] {
        &self.changes
    }

    /// Puts the log's copy of `message_id` back in place of what is shown, before the log
    /// changes it. True when it had changes on top ([`Self::reshow`] puts them back).
    fn unshow(&mut self, message_id: MessageId) -> bool {
        let Some(underneath) = self.underneath.get(&message_id) else {
            return false;
        };
        if let Some(entry) = self.confirmed.iter_mut().find(|e| e.message_id == message_id) {
            *entry = underneath.clone();
        }
        true
    }

    /// Takes the entry in place of `message_id` as the log's copy now (the log changed it
    /// after [`Self::unshow`]) and shows the changes on top again.
    fn relayer(&mut self, message_id: MessageId) {
        if let Some(entry) = self.confirmed.iter().find(|e| e.message_id == message_id) {
            self.underneath.insert(message_id, entry.clone());
        }
        self.reshow(message_id);
    }

    /// Shows `message_id` as the log has it with the changes the log has not seen yet on
    /// top; those it has seen are done.
    fn reshow(&mut self, message_id: MessageId) {
        let Some(underneath) = self.underneath.get(&message_id).cloned() else {
            return;
        };
        let seen = underneath.revision;
        self.changes
            .retain(|c| c.message_id != message_id || c.stored_at.is_none_or(|at| at > seen));
        let mut shown = underneath;
        let mut any = false;
        for change in self.changes.iter().filter(|c| c.message_id == message_id) {
            change.apply(&mut shown);
            any = true;
        }
        if let Some(entry) = self.confirmed.iter_mut().find(|e| e.message_id == message_id) {
            *entry = shown;
        }
        if !any {
            self.underneath.remove(&message_id);
        }
    }

    /// Adds a newly committed entry; a reply counts on its thread's root, unless the
    /// root's copy has already seen it (its revision is at or past the reply).
    fn insert_confirmed(&mut self, entry: Entry) {
        if let (Some(root), Some(position)) = (entry.reply_to, entry.position)
            && let Some(root) = self.confirmed.iter_mut().find(|e| e.message_id == root)
            && root.revision < position
        {
            root.replies += 1;
            root.revision = position;
        }
        let at = self.confirmed.partition_point(|e| e.position < entry.position);
        self.confirmed.insert(at, entry);
    }

    /// The replies of one thread, in log order (then own pending ones).
    pub fn thread(&self, root: MessageId) -> impl Iterator<Item = &Entry> {
        self.entries().filter(move |e| e.reply_to == Some(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(position: u64, message_id: MessageId, body: &str) -> MessageView {
        MessageView::posted(
            Position(position),
            message_id,
            ChannelId::GENERAL,
            "bob".into(),
            body.into(),
            position as i64,
        )
    }

    fn bodies(t: &Timeline) -> Vec<&str> {
        t.entries().map(|e| e.body.as_str()).collect()
    }

    #[test]
    fn a_deleted_account_is_forgotten_and_a_newer_copy_renames_its_author() {
        let mut t = Timeline::new();
        let (hers, his) = (MessageId::new(), MessageId::new());
        t.apply(view(1, hers, "her words"));
        let mut reacted = view(2, his, "his words");
        reacted.author = "carl".into();
        reacted.reactions = vec![Reaction {
            emoji: "👍".into(),
            users: vec!["bob".into(), "dan".into()],
        }];
        t.apply(reacted);
        let changed = t.forget(ChannelId::GENERAL, "bob", true);
        assert_eq!(changed.len(), 2, "her message and the one she reacted to");
        let gone = crate::redact::ERASED_NAME;
        let entry = t.get(hers).cloned().unwrap_or_else(|| panic!("kept"));
        assert_eq!(
            (entry.author.as_str(), entry.body.as_str(), entry.deleted),
            (gone, "", true)
        );
        let other = t.get(his).cloned().unwrap_or_else(|| panic!("kept"));
        assert_eq!((other.author.as_str(), other.body.as_str()), ("carl", "his words"));
        assert_eq!(other.reactions[0].users, [gone, "dan"]);

        // A browser that missed the frame: the server's copy at a newer revision wins.
        let mut t = Timeline::new();
        t.apply(view(1, hers, "her words"));
        let mut newer = view(1, hers, "her words");
        newer.author = gone.into();
        newer.revision = Position(9);
        t.merge(newer);
        assert_eq!(t.get(hers).map(|e| e.author.as_str()), Some(gone));
    }

    #[test]
    fn pending_messages_show_after_committed_ones() {
        let mut t = Timeline::new();
        t.apply(view(1, MessageId::new(), "first"));
        let mine = MessageId::new();
        assert!(t.add_pending(mine, "ada".into(), "mine".into(), None));
        t.apply(view(2, MessageId::new(), "second"));
        assert_eq!(bodies(&t), ["first", "second", "mine"]);
        assert_eq!(t.get(mine).map(|e| &e.delivery), Some(&Delivery::Pending));
    }

    #[test]
    fn ack_then_event_gives_one_sent_entry() {
        let mut t = Timeline::new();
        let mine = MessageId::new();
        t.add_pending(mine, "ada".into(), "mine".into(), None);
        t.ack(mine, Position(5));
        assert_eq!(t.get(mine).map(|e| &e.delivery), Some(&Delivery::Sent));
        assert_eq!(t.cursor(), Position::ZERO, "an ack does not move the cursor");
        t.apply(view(5, mine, "mine"));
        assert_eq!(t.len(), 1);
        assert_eq!(t.cursor(), Position(5));
    }

    #[test]
    fn event_before_ack_gives_one_sent_entry() {
        let mut t = Timeline::new();
        let mine = MessageId::new();
        t.add_pending(mine, "ada".into(), "mine".into(), None);
        t.apply(view(5, mine, "mine"));
        t.ack(mine, Position(5));
        assert_eq!(t.len(), 1);
        assert_eq!(t.get(mine).map(|e| e.position), Some(Some(Position(5))));
    }

    #[test]
    fn acked_messages_move_into_log_order() {
        let mut t = Timeline::new();
        let mine = MessageId::new();
        t.add_pending(mine, "ada".into(), "mine".into(), None);
        t.ack(mine, Position(3));
        t.apply(view(2, MessageId::new(), "earlier"));
        t.apply(view(4, MessageId::new(), "later"));
        assert_eq!(bodies(&t), ["earlier", "mine", "later"]);
    }

    #[test]
    fn replayed_events_are_not_duplicated() {
        let mut t = Timeline::new();
        let id = MessageId::new();
        t.apply(view(1, id, "once"));
        t.apply(view(1, id, "once"));
        assert_eq!(t.len(), 1);
        assert!(
            !t.add_pending(id, "ada".into(), "once".into(), None),
            "a known id is not re-added"
        );
    }

    #[test]
    fn merged_messages_do_not_move_the_cursor() {
        let mut t = Timeline::new();
        t.apply(view(3, MessageId::new(), "own feed"));
        t.merge(view(9, MessageId::new(), "from a sibling tab"));
        t.merge(view(1, MessageId::new(), "older page"));
        assert_eq!(t.cursor(), Position(3), "events 4..9 may still be on their way");
        assert_eq!(bodies(&t), ["older page", "own feed", "from a sibling tab"]);
        assert_eq!(t.oldest(), Some(Position(1)));
        t.apply(view(
            9,
            t.entries().last().map(|e| e.message_id).unwrap_or_default(),
            "from a sibling tab",
        ));
        assert_eq!(t.len(), 3);
        assert_eq!(t.cursor(), Position(9));
    }

    #[test]
    fn a_restored_cursor_never_moves_back() {
        let mut t = Timeline::new();
        t.restore_cursor(Position(7));
        t.restore_cursor(Position(4));
        assert_eq!(t.cursor(), Position(7));
    }

    #[test]
    fn failed_messages_can_be_retried_with_the_same_id() {
        let mut t = Timeline::new();
        let mine = MessageId::new();
        t.add_pending(mine, "ada".into(), "mine".into(), None);
        assert!(t.retry(mine).is_none(), "only a failed message is retried");
        t.fail(mine, "offline".into());
        assert_eq!(
            t.get(mine).map(|e| &e.delivery),
            Some(&Delivery::Failed("offline".into()))
        );
        let resend = t.retry(mine);
        assert_eq!(resend.map(|e| e.message_id), Some(mine));
        assert_eq!(t.get(mine).map(|e| &e.delivery), Some(&Delivery::Pending));
        assert_eq!(t.len(), 1);
    }

    fn recorded(position: u64, event: crate::event::Event) -> RecordedEvent {
        RecordedEvent::at(position, ChannelId::GENERAL.stream(), event)
    }

    #[test]
    fn edits_deletes_and_reactions_converge_whatever_order_copies_arrive_in() {
        use crate::event::Event;
        use crate::rules::{DisplayName, Emoji, MessageBody};
        let id = MessageId::new();
        let channel_id = ChannelId::GENERAL;
        let edit = recorded(
            2,
            Event::MessageEdited {
                channel_id,
                message_id: id,
                body: MessageBody::parse("better").expect("a body"),
                editor_id: crate::ids::UserId::new(),
            },
        );
        let react = recorded(
            3,
            Event::ReactionAdded {
                channel_id,
                message_id: id,
                user_id: crate::ids::UserId::new(),
                user: DisplayName::parse("bob").expect("a name"),
                emoji: Emoji::parse("🎉").expect("an emoji"),
            },
        );
        // One tab sees the events live.
        let mut live = Timeline::new();
        live.apply(view(1, id, "first"));
        let after_edit = live.change(channel_id, &edit).expect("on the timeline");
        let after_react = live.change(channel_id, &react).expect("on the timeline");
        live.change(channel_id, &edit); // a replay changes nothing
        assert_eq!(
            live.get(id).map(|e| (e.body.as_str(), e.edited)),
            Some(("better", true))
        );
        assert_eq!(live.cursor(), Position(3));
        // Another learns the copies from a sibling, the newest first.
        let mut sibling = Timeline::new();
        sibling.merge(view(1, id, "first"));
        sibling.merge(after_react.clone());
        sibling.merge(after_edit);
        assert_eq!(sibling.get(id), live.get(id));
        assert_eq!(after_react.reactions.len(), 1);
        assert!(after_react.reacted("bob", "🎉"));
        // A delete empties the message and its reactions.
        let delete = recorded(
            4,
            Event::MessageDeleted {
                channel_id,
                message_id: id,
                deleted_by: crate::ids::UserId::new(),
            },
        );
        let deleted = live.change(channel_id, &delete).expect("on the timeline");
        assert!(deleted.deleted && deleted.body.is_empty() && deleted.reactions.is_empty());
        // A change the server refuses is taken off again.
        let oops = own(id, ChangeRequest::Edit { body: "oops".into() });
        assert!(live.propose(oops.clone()));
        assert_eq!(live.get(id).map(|e| e.body.as_str()), Some("oops"));
        live.refused(oops.change_id);
        assert_eq!(live.get(id).map(|e| e.body.as_str()), Some(""));
        assert!(live.pending_changes().is_empty());
    }

    fn own(message_id: MessageId, request: ChangeRequest) -> PendingChange {
        PendingChange {
            change_id: MessageId::new(),
            channel: ChannelId::GENERAL,
            message_id,
            by: "ada".into(),
            request,
            stored_at: None,
        }
    }

    fn reaction(position: u64, message_id: MessageId, user: &str) -> RecordedEvent {
        recorded(
            position,
            crate::event::Event::ReactionAdded {
                channel_id: ChannelId::GENERAL,
                message_id,
                user_id: crate::ids::UserId::new(),
                emoji: crate::rules::Emoji::parse("🎉").unwrap_or_else(|e| panic!("{e}")),
                user: crate::rules::DisplayName::parse(user).unwrap_or_else(|e| panic!("{e}")),
            },
        )
    }

    #[test]
    fn an_own_change_shows_at_once_stays_on_top_of_others_and_ends_when_the_log_has_it() {
        let mut t = Timeline::new();
        let id = MessageId::new();
        t.apply(view(1, id, "hello"));
        let party = own(
            id,
            ChangeRequest::React {
                emoji: "🎉".into(),
                on: true,
            },
        );
        assert!(t.propose(party.clone()));
        assert!(t.propose(party.clone()), "proposed twice (a reload): shown once");
        let users = |t: &Timeline| {
            t.get(id)
                .map(|e| e.reactions.iter().flat_map(|r| r.users.clone()).collect::<Vec<_>>())
        };
        assert_eq!(users(&t), Some(vec!["ada".to_owned()]));

        // Bob reacts too, in the log: both show, hers still on top.
        t.change(ChannelId::GENERAL, &reaction(2, id, "bob"));
        assert_eq!(users(&t), Some(vec!["bob".to_owned(), "ada".to_owned()]));

        // Her own event comes before the server's answer: shown once, not twice.
        t.change(ChannelId::GENERAL, &reaction(3, id, "ada"));
        assert_eq!(users(&t), Some(vec!["bob".to_owned(), "ada".to_owned()]));
        t.stored(party.change_id, Position(3));
        assert!(t.pending_changes().is_empty(), "the log has it: done");
        assert_eq!(users(&t), Some(vec!["bob".to_owned(), "ada".to_owned()]));

        // A change on a message not on the timeline shows nothing (it is still sent).
        assert!(!t.propose(own(MessageId::new(), ChangeRequest::Delete)));
    }

    #[test]
    fn changes_made_one_after_another_show_in_order_and_a_refused_one_leaves_the_rest() {
        let mut t = Timeline::new();
        let id = MessageId::new();
        t.apply(view(1, id, "helo"));
        let first = own(id, ChangeRequest::Edit { body: "hello".into() });
        let second = own(id, ChangeRequest::Edit { body: "hello!".into() });
        let pin = own(id, ChangeRequest::Pin { on: true });
        for change in [&first, &second, &pin] {
            assert!(t.propose(change.clone()));
        }
        let shown = t.get(id).cloned().unwrap_or_else(|| panic!("on the timeline"));
        assert_eq!(
            (shown.body.as_str(), shown.edited, shown.pinned),
            ("hello!", true, true)
        );
        // The pin is refused: the edits stay.
        t.refused(pin.change_id);
        let shown = t.get(id).cloned().unwrap_or_else(|| panic!("on the timeline"));
        assert_eq!((shown.body.as_str(), shown.pinned), ("hello!", false));
        // The first edit is stored and comes back from the log: the second stays on top.
        t.stored(first.change_id, Position(2));
        let mut edited = view(1, id, "hello");
        edited.edited = true;
        edited.revision = Position(2);
        t.merge(edited);
        assert_eq!(t.get(id).map(|e| e.body.as_str()), Some("hello!"));
        assert_eq!(t.pending_changes().len(), 1);
    }

    #[test]
    fn a_reply_counts_once_on_its_root_whichever_copy_comes_first() {
        let root = MessageId::new();
        let reply = |position: u64| MessageView {
            reply_to: Some(root),
            ..view(position, MessageId::new(), "reply")
        };
        let (first, second) = (reply(2), reply(3));
        let mut t = Timeline::new();
        t.apply(view(1, root, "root"));
        t.apply(first.clone());
        t.apply(first.clone()); // replayed: counted once
        assert_eq!(t.get(root).map(|e| e.replies), Some(1));
        // A copy of the root from the server that already counts both replies.
        let mut counted = view(1, root, "root");
        counted.replies = 2;
        counted.revision = Position(3);
        t.merge(counted);
        t.merge(second.clone()); // its copy arrives after: already counted
        assert_eq!(t.get(root).map(|e| e.replies), Some(2));
        assert_eq!(t.thread(root).count(), 2);
        // Own reply: pending, then acked: counted when it is committed.
        let mine = MessageId::new();
        t.add_pending(mine, "ada".into(), "mine".into(), Some(root));
        assert_eq!(t.get(root).map(|e| e.replies), Some(2));
        t.ack(mine, Position(4));
        assert_eq!(t.get(root).map(|e| e.replies), Some(3));
        assert_eq!(t.thread(root).count(), 3);
    }
}
