//! The event inspector's queries, for instance admins: pages of the log with filters, where
//! the projection and every webhook stand, events per second, and a channel at a past position.

use super::{Engine, EngineError};
use crate::db::Flag;
use parley::api::{LOG_PAGE, LogFilter, LogPage, LogRow, Me, SubscriberView, UpcastView};
use parley::{ChannelId, DomainError, MessageView, Position};

type EventRow = (i64, String, i64, String, i64, String, String, i64);

impl Engine {
    /// Sets who the instance's admins are, from the configuration: user ids, or usernames
    /// of accounts that exist now. A name no account has yet grants nothing, now or later:
    /// whoever signed it up first would otherwise become an admin (squatting). Returns the
    /// entries that named no account.
    pub async fn set_admins(&self, entries: impl IntoIterator<Item = String>) -> Result<Vec<String>, EngineError> {
        let mut ids = std::collections::HashSet::new();
        let mut unknown = Vec::new();
        for entry in entries {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if let Ok(id) = entry.parse::<parley::UserId>() {
                ids.insert(id);
                continue;
            }
            let account = match parley::Username::parse(&entry) {
                Ok(name) => self.account(&self.synced().await?, &name).await?,
                Err(_) => parley::account::AccountState::default(),
            };
            match account.user_id {
                Some(id) => {
                    ids.insert(id);
                }
                None => unknown.push(entry),
            }
        }
        *self.admins.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = ids;
        Ok(unknown)
    }

    /// An admin by the configuration (`PARLEY_ADMINS`), whom no event can un-admin.
    pub fn is_configured_admin(&self, user: parley::UserId) -> bool {
        self.admins
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&user)
    }

    /// An admin by the configuration, or made one by `parley-server create-admin`.
    pub fn is_admin(&self, me: &Me) -> bool {
        let admins = self.admins.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        admins.contains(&me.user_id) || self.log_state.is_granted_admin(me.user_id)
    }

    pub fn set_projector(&self, projector: crate::projection::Projector) {
        let _ = self.projector.set(projector);
    }

    /// Folds a parked event again (see [`crate::projection::Projector::retry_parked`]).
    pub async fn retry_parked(&self, me: &Me, position: Position) -> Result<(), EngineError> {
        self.require_admin(me)?;
        let projector = self
            .projector
            .get()
            .ok_or_else(|| EngineError::Internal("no projector".into()))?;
        projector.retry_parked(position).await.map_err(|e| match e {
            crate::projection::ProjectionError::Write(e) => EngineError::Internal(e.to_string()),
            other => EngineError::BadRequest(other.to_string()),
        })
    }

    /// Makes `username` an instance admin, creating the account with `password` if it does
    /// not exist (`create-admin`). Returns whether the account was created.
    pub async fn create_admin(&self, username: &str, password: Option<&str>) -> Result<bool, EngineError> {
        let name = parley::Username::parse(username)?;
        let created = if self.account(&self.synced().await?, &name).await?.exists() {
            false
        } else {
            let Some(password) = password else {
                return Err(EngineError::BadRequest(format!(
                    "there is no account {name}: give a password to create it"
                )));
            };
            self.sign_up(username, password, &crate::auth::Client::default())
                .await?;
            true
        };
        let state = self.account(&self.synced().await?, &name).await?;
        let metadata = parley::EventMetadata {
            actor: "create-admin".into(),
            correlation_id: parley::CorrelationId::new(),
            causation_id: None,
            client_message_id: None,
        };
        self.account_command(&name, &state, &parley::account::AccountCommand::GrantAdmin, &metadata)
            .await?;
        Ok(created)
    }

    /// A stream's subject by name: `#channel` (with its space), `space Name`, `@user`;
    /// `None` for a stream the read models do not name (a direct conversation, say).
    async fn stream_name(&self, stream_id: &str) -> Result<Option<String>, EngineError> {
        let pool = self.store.pool();
        let name = if let Some(id) = stream_id.strip_prefix("channel-") {
            let found: Option<(String, Option<String>)> = sqlx::query_as(
                "SELECT c.name, s.name FROM channels c
                 LEFT JOIN spaces s ON s.space_id = c.space_id
                 WHERE c.channel_id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            found.map(|(channel, space)| match space {
                Some(space) => format!("#{channel} in {space}"),
                None => format!("#{channel}"),
            })
        } else if let Some(id) = stream_id.strip_prefix("space-") {
            let found: Option<(String,)> = sqlx::query_as("SELECT name FROM spaces WHERE space_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            found.map(|(space,)| format!("space {space}"))
        } else if let Some(id) = stream_id.strip_prefix("account-") {
            let found: Option<(String,)> = sqlx::query_as("SELECT username FROM accounts WHERE user_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
            found.map(|(user,)| format!("@{user}"))
        } else {
            None
        };
        Ok(name)
    }

    fn require_admin(&self, me: &Me) -> Result<(), EngineError> {
        if self.is_admin(me) {
            Ok(())
        } else {
            Err(DomainError::NotAllowed.into())
        }
    }

    pub async fn inspect_log(&self, me: &Me, filter: LogFilter) -> Result<LogPage, EngineError> {
        self.require_admin(me)?;
        let before = filter.before.map_or(i64::MAX, |p| p.0.min(i64::MAX as u64) as i64);
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT position, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at_ms
             FROM events
             WHERE position < $1 AND ($2 IS NULL OR stream_id = $3) AND ($4 IS NULL OR event_type = $5)
             ORDER BY position DESC LIMIT $6",
        )
        .bind(before)
        .bind(filter.stream.as_deref())
        .bind(filter.stream.as_deref())
        .bind(filter.event_type.as_deref())
        .bind(filter.event_type.as_deref())
        .bind(i64::from(LOG_PAGE))
        .fetch_all(self.store.pool())
        .await?;
        // Admins see the log as it is, but not secrets (password hashes) nor the words of
        // deleted messages: the inspector is a door like any other.
        let message_of = |event_type: &str, payload: &str| -> Option<parley::MessageId> {
            if !matches!(event_type, "MessagePosted" | "MessageEdited") {
                return None;
            }
            let payload: serde_json::Value = serde_json::from_str(payload).ok()?;
            payload.get("message_id")?.as_str()?.parse().ok()
        };
        let ids: Vec<parley::MessageId> = rows.iter().filter_map(|row| message_of(&row.3, &row.5)).collect();
        let deleted = crate::engine::redaction::deleted_among(self.store.pool(), &ids).await?;
        // And no trace of a deleted account: whoever a payload, an actor or a stream names.
        let (mut people, mut names) = (Vec::new(), Vec::new());
        for row in &rows {
            let payload: serde_json::Value = serde_json::from_str(&row.5).unwrap_or_default();
            let metadata: serde_json::Value = serde_json::from_str(&row.6).unwrap_or_default();
            let (ids, named) = parley::redact::people_in_stored(&row.1, &payload, &metadata);
            people.extend(ids);
            names.extend(named);
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let erased = crate::engine::redaction::erased_among(self.store.pool(), &people, &names).await?;
        let rows: Vec<EventRow> = rows
            .into_iter()
            .map(|mut row| {
                if let Ok(mut payload) = serde_json::from_str::<serde_json::Value>(&row.5) {
                    parley::redact::redact_payload(&row.3, &mut payload, |id| deleted.contains(&id), &erased);
                    row.5 = payload.to_string();
                }
                if let Ok(mut metadata) = serde_json::from_str::<serde_json::Value>(&row.6) {
                    parley::redact::redact_origin(&mut row.1, &mut metadata, &erased);
                    row.6 = metadata.to_string();
                }
                row
            })
            .collect();
        let pretty = |raw: &str| {
            serde_json::from_str::<serde_json::Value>(raw)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or_else(|_| raw.to_owned())
        };
        let upcast = |event_type: &str, version: u32, raw: &str| {
            let current = parley::schema::current_version(event_type);
            (version < current).then(|| UpcastView {
                version: current,
                payload: serde_json::from_str(raw)
                    .map_err(|e| e.to_string())
                    .and_then(|v| parley::schema::upcast(event_type, version, v).map_err(|e| e.to_string()))
                    .and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string())),
            })
        };
        // Streams by name, for the people reading the page (one lookup per stream shown).
        use std::collections::hash_map::Entry;
        let mut names = std::collections::HashMap::new();
        for row in &rows {
            if let Entry::Vacant(slot) = names.entry(row.1.clone()) {
                slot.insert(self.stream_name(&row.1).await?);
            }
        }
        // Who acted: the metadata holds an account's id; its name where it has one.
        let mut actors = std::collections::HashMap::new();
        let actor_id = |metadata: &str| {
            serde_json::from_str::<serde_json::Value>(metadata)
                .ok()
                .and_then(|m| m.get("actor")?.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        for row in &rows {
            let id = actor_id(&row.6);
            if let Entry::Vacant(slot) = actors.entry(id.clone()) {
                let name = self.stream_name(&format!("account-{id}")).await?;
                slot.insert(name.map_or(id, |n| n.trim_start_matches('@').to_owned()));
            }
        }
        let actor = |metadata: &str| {
            let id = actor_id(metadata);
            actors.get(&id).cloned().unwrap_or(id)
        };
        let events = rows
            .into_iter()
            .map(
                |(position, stream_id, version, event_type, schema, payload, metadata, at)| {
                    let schema_version = u32::try_from(schema).unwrap_or(0);
                    LogRow {
                        position: Position(position as u64),
                        stream_name: names.get(&stream_id).cloned().flatten(),
                        actor: actor(&metadata),
                        stream_id,
                        stream_version: version as u64,
                        upcast: upcast(&event_type, schema_version, &payload),
                        event_type,
                        schema_version,
                        recorded_at_ms: at,
                        payload: pretty(&payload),
                        metadata: pretty(&metadata),
                    }
                },
            )
            .collect();
        let head = self.store.head().await?;
        let projected = self.hub.projected();
        let hooks: Vec<(String, String, String, i64, Flag, Option<String>)> = sqlx::query_as(
            "SELECT w.webhook_id, w.space_id, w.url, s.delivered_to, s.dead, s.last_error
             FROM webhooks w JOIN webhook_state s ON s.webhook_id = w.webhook_id
             WHERE w.deleted = 0 ORDER BY w.created_position",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut subscribers = vec![SubscriberView {
            name: "read models (projector)".into(),
            position: projected,
            lag: head.0.saturating_sub(projected.0),
            parked: false,
            webhook: None,
        }];
        // Events the read models could not fold, parked until retried.
        let parked: Vec<(i64, String)> =
            sqlx::query_as("SELECT position, reason FROM parked_events ORDER BY position LIMIT 100")
                .fetch_all(self.store.pool())
                .await?;
        subscribers.extend(parked.into_iter().map(|(at, reason)| SubscriberView {
            name: format!("read models: event {at} parked: {reason}"),
            position: Position(at.max(0) as u64),
            lag: 0,
            parked: true,
            webhook: None,
        }));
        subscribers.extend(
            hooks
                .into_iter()
                .map(|(id, space, url, at, dead, error)| SubscriberView {
                    name: match error.filter(|_| dead.0) {
                        Some(error) => format!("webhook {url}: {error}"),
                        None => format!("webhook {url}"),
                    },
                    position: Position(at.max(0) as u64),
                    lag: head.0.saturating_sub(at.max(0) as u64),
                    parked: dead.0,
                    webhook: space.parse().ok().map(|space| (space, id)),
                }),
        );
        let now = super::now_ms();
        let counts: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT ($1 - recorded_at_ms) / 1000 AS ago, count(*) FROM events
             WHERE recorded_at_ms > $2 - 60000 GROUP BY ago",
        )
        .bind(now)
        .bind(now)
        .fetch_all(self.store.pool())
        .await?;
        let mut per_second = vec![0u32; 60];
        for (ago, count) in counts {
            if let Ok(ago) = usize::try_from(ago)
                && ago < 60
            {
                per_second[59 - ago] = u32::try_from(count).unwrap_or(u32::MAX);
            }
        }
        Ok(LogPage {
            events,
            head,
            projected,
            subscribers,
            per_second,
        })
    }

    /// The channel's messages as they stood at `position`: its stream folded up to there.
    pub async fn channel_at(
        &self,
        me: &Me,
        channel: ChannelId,
        position: Position,
    ) -> Result<Vec<MessageView>, EngineError> {
        self.require_admin(me)?;
        let stream = channel.stream();
        let mut messages: Vec<MessageView> = Vec::new();
        let mut after = Position::ZERO;
        loop {
            let mut page = self.store.read_stream(&stream, after, position, 1_000).await?;
            // Time travel shows what was said then, except what has been deleted since.
            crate::engine::redaction::redact_page(self.store.pool(), &mut page).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                break;
            };
            for recorded in page {
                if let Some(view) = recorded.message_view() {
                    if let Some(root) = view.reply_to
                        && let Some(parent) = messages.iter_mut().find(|m| m.message_id == root)
                    {
                        parent.fold(recorded.position, &recorded.event);
                    }
                    messages.push(view);
                } else if let Some(changed) = recorded.changed_message()
                    && let Some(message) = messages.iter_mut().find(|m| m.message_id == changed)
                {
                    message.fold(recorded.position, &recorded.event);
                }
            }
            after = last;
        }
        Ok(messages)
    }
}
