//! Webhooks in the engine: a space admin's commands (create, delete, pause, resume, retry, skip, replay) and the list with each one's delivery state.

use super::{Engine, EngineError, parse_id};
use crate::db::Flag;
use parley::api::{Me, WebhookAction, WebhookView};
use parley::space::{Right, SpaceId};
use parley::webhook::{self, WebhookError};
use parley::{Event, Position};

type WebhookRow = (String, String, String, i64, i64, i64, Flag, Flag, Option<String>);

impl Engine {
    /// Subscribes `url` to the space's events; returns it and the secret that signs its deliveries.
    pub async fn create_webhook(
        &self,
        me: &Me,
        space_id: SpaceId,
        url: &str,
        event_types: &[String],
    ) -> Result<(WebhookView, String), EngineError> {
        self.space(&self.synced().await?, space_id)
            .await?
            .authorize(me.user_id, Right::ManageSpace)?;
        self.spend(me, crate::engine::budget::Write::Webhook).await?;
        let bad = |e: WebhookError| EngineError::BadRequest(e.to_string());
        let url = webhook::valid_url(url).map_err(bad)?;
        // An internal address typed as such is refused now; a name is checked on each
        // delivery, on the address it resolves to.
        crate::workers::webhooks::check_url(&self.outbound_policy(), &url).map_err(EngineError::BadRequest)?;
        let event_types = webhook::valid_types(event_types).map_err(bad)?;
        if self.webhooks(me, space_id).await?.len() >= webhook::MAX_PER_SPACE {
            return Err(bad(WebhookError::TooMany));
        }
        let webhook_id = uuid::Uuid::now_v7();
        let secret = crate::auth::SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let secret = format!("whsec_{}", secret.expose());
        // New subscriptions start at the head: they get what happens from now on.
        let head = self.store.head().await?;
        sqlx::query("INSERT INTO webhook_state (webhook_id, secret, delivered_to) VALUES ($1, $2, $3)")
            .bind(webhook_id.to_string())
            .bind(&secret)
            .bind(head.0 as i64)
            .execute(self.store.pool())
            .await?;
        let event = Event::WebhookCreated {
            space_id,
            webhook_id,
            url,
            event_types,
        };
        self.record(me, webhook::stream(space_id), event).await?;
        let view = self
            .webhooks(me, space_id)
            .await?
            .into_iter()
            .find(|w| w.webhook_id == webhook_id.to_string())
            .ok_or_else(|| EngineError::Internal("a new webhook is missing".into()))?;
        Ok((view, secret))
    }

    /// The space's webhooks with their delivery state, for its admins.
    pub async fn webhooks(&self, me: &Me, space_id: SpaceId) -> Result<Vec<WebhookView>, EngineError> {
        self.space(&self.synced().await?, space_id)
            .await?
            .authorize(me.user_id, Right::ManageSpace)?;
        self.webhook_views(space_id).await
    }

    async fn webhook_views(&self, space_id: SpaceId) -> Result<Vec<WebhookView>, EngineError> {
        let head = self.store.head().await?;
        let rows: Vec<WebhookRow> = sqlx::query_as(
            "SELECT w.webhook_id, w.url, w.event_types, s.delivered_to, s.delivered, s.failures, s.dead, w.paused, s.last_error
             FROM webhooks w JOIN webhook_state s ON s.webhook_id = w.webhook_id
             WHERE w.space_id = $1 AND w.deleted = 0 ORDER BY w.created_position",
        )
        .bind(space_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(webhook_id, url, types, offset, delivered, failures, dead, paused, last_error)| WebhookView {
                    webhook_id,
                    url,
                    event_types: serde_json::from_str(&types).unwrap_or_default(),
                    offset: Position(offset.max(0) as u64),
                    behind: head.0.saturating_sub(offset.max(0) as u64),
                    delivered: delivered.max(0) as u64,
                    failures: u32::try_from(failures).unwrap_or(u32::MAX),
                    dead: dead.0,
                    paused: paused.0,
                    last_error,
                },
            )
            .collect())
    }

    /// Deletes a webhook, or takes a parked one out of the dead letter: `Retry` tries its
    /// event again now, `Skip` moves past it.
    pub async fn webhook_action(
        &self,
        me: &Me,
        space_id: SpaceId,
        webhook_id: &str,
        action: WebhookAction,
    ) -> Result<(), EngineError> {
        // The instance's admins may take any webhook out of the dead letter (from the
        // inspector); everything else is for the space's admins.
        let unparking = matches!(action, WebhookAction::Retry | WebhookAction::Skip);
        if !(unparking && self.is_admin(me)) {
            self.space(&self.synced().await?, space_id)
                .await?
                .authorize(me.user_id, Right::ManageSpace)?;
        }
        // A replay costs a delivery of everything since: counted like a new webhook.
        self.spend(me, crate::engine::budget::Write::Webhook).await?;
        let found = self
            .webhook_views(space_id)
            .await?
            .into_iter()
            .find(|w| w.webhook_id == webhook_id)
            .ok_or_else(|| EngineError::BadRequest(WebhookError::NoSuchWebhook.to_string()))?;
        let id = found.webhook_id.clone();
        match action {
            WebhookAction::Delete => {
                let event = Event::WebhookDeleted {
                    space_id,
                    webhook_id: parse_id::<uuid::Uuid>(&id)?,
                };
                self.record(me, webhook::stream(space_id), event).await?;
            }
            WebhookAction::Pause | WebhookAction::Resume => {
                let paused = action == WebhookAction::Pause;
                if found.paused != paused {
                    // In the log: every node's deliverer holds it (or lets it go) from the fold.
                    let event = Event::WebhookPaused {
                        space_id,
                        webhook_id: parse_id::<uuid::Uuid>(&id)?,
                        paused,
                    };
                    self.record(me, webhook::stream(space_id), event).await?;
                }
            }
            WebhookAction::Retry => {
                sqlx::query(
                    "UPDATE webhook_state SET dead = 0, failures = 0, next_attempt_at_ms = 0 WHERE webhook_id = $1",
                )
                .bind(&id)
                .execute(self.store.pool())
                .await?;
            }
            WebhookAction::Replay { from } => {
                if from.0 == 0 || from.0 > found.offset.0 + 1 {
                    return Err(EngineError::BadRequest(format!(
                        "a replay starts at a position it has delivered past: 1 to {}",
                        found.offset.0 + 1
                    )));
                }
                // Rewound; out of the dead letter too. `replays` stops a pass already under way.
                sqlx::query(
                    "UPDATE webhook_state SET delivered_to = $1, failures = 0, next_attempt_at_ms = 0, dead = 0,
                            last_error = NULL, stuck_at = NULL, replays = replays + 1
                     WHERE webhook_id = $2",
                )
                .bind((from.0 - 1) as i64)
                .bind(&id)
                .execute(self.store.pool())
                .await?;
            }
            WebhookAction::Skip => {
                // Past the event it was stuck on.
                sqlx::query(
                    "UPDATE webhook_state SET dead = 0, failures = 0, next_attempt_at_ms = 0, last_error = NULL,
                            delivered_to = CASE WHEN stuck_at > delivered_to THEN stuck_at ELSE delivered_to END,
                            stuck_at = NULL
                     WHERE webhook_id = $1",
                )
                .bind(&id)
                .execute(self.store.pool())
                .await?;
            }
        }
        self.hub.webhooks_changed();
        Ok(())
    }
}
