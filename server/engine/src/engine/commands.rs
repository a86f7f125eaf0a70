//! A space's own slash commands: an admin registers one (a name, a URL; a bot of its own answers for it), its members run it from the composer, and the URL's answer goes to the caller alone or to the channel.
//!
//! Running one is a request to an address an admin gave: it goes through the same outbound
//! address filter as webhooks (no internal addresses, checked on the address connected to),
//! with a timeout, signed as webhook deliveries are (`X-Parley-Timestamp`,
//! `X-Parley-Signature`), and budgeted per person.

use super::bots::COMMAND_SECRET_PREFIX;
use super::{Engine, EngineError, now_ms, parse_id};
use crate::auth::SessionToken;
use crate::engine::budget::Write;
use parley::api::{BotSecret, Me, PostRequest};
use parley::slash::{self, CommandAnswer, MAX_ANSWER_BYTES, MAX_CUSTOM_PER_SPACE};
use parley::space::{Right, SpaceId};
use parley::webhook;
use parley::{ChannelId, DomainError, MessageId};
use std::time::Duration;

/// How long a command's URL has to answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

impl Engine {
    /// Registers `/name` for `space_id` (an admin of it), calling `url`. Returns its bot with
    /// the secret that signs its requests, shown this once.
    pub async fn create_command(
        &self,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        url: &str,
    ) -> Result<BotSecret, EngineError> {
        let name = slash::valid_custom_name(name).map_err(EngineError::BadRequest)?;
        let url = webhook::valid_url(url).map_err(|e| EngineError::BadRequest(e.to_string()))?;
        crate::workers::webhooks::check_url(&self.outbound_policy(), &url).map_err(EngineError::BadRequest)?;
        self.space(&self.synced().await?, space_id)
            .await?
            .authorize(me.user_id, Right::ManageSpace)?;
        let taken = self.commands(me, space_id).await?;
        if taken.contains(&name) {
            return Err(EngineError::BadRequest(format!(
                "/{name} is a command of this space already"
            )));
        }
        if taken.len() >= MAX_CUSTOM_PER_SPACE {
            return Err(EngineError::BadRequest(format!(
                "a space may have at most {MAX_CUSTOM_PER_SPACE} commands of its own"
            )));
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        let username = parley::Username::parse(&format!("cmd-{}", &id[id.len() - 10..]))?;
        let bot = self.register_bot(me, space_id, username, &format!("/{name}")).await?;
        let secret = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let secret = format!("{COMMAND_SECRET_PREFIX}{}", secret.expose());
        sqlx::query(
            "INSERT INTO slash_commands (space_id, name, bot_id, url, secret, created_by, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(space_id.to_string())
        .bind(&name)
        .bind(bot.user_id.to_string())
        .bind(&url)
        .bind(&secret)
        .bind(me.user_id.to_string())
        .bind(now_ms())
        .execute(self.store.pool())
        .await?;
        let view = self
            .bots(me, space_id)
            .await?
            .into_iter()
            .find(|b| b.user_id == bot.user_id)
            .ok_or_else(|| EngineError::Internal("a new command's bot is missing".into()))?;
        Ok(BotSecret { bot: view, secret })
    }

    /// The names of `space_id`'s own commands, for its members' composers.
    pub async fn commands(&self, me: &Me, space_id: SpaceId) -> Result<Vec<String>, EngineError> {
        if !self.space(&self.synced().await?, space_id).await?.is_member(me.user_id) {
            return Err(DomainError::NotAMember.into());
        }
        Ok(
            sqlx::query_scalar("SELECT name FROM slash_commands WHERE space_id = $1 ORDER BY name")
                .bind(space_id.to_string())
                .fetch_all(self.store.pool())
                .await?,
        )
    }

    /// Runs `/name text` for `me` in `channel`: asks the command's URL, and posts its answer
    /// to the channel as the command's bot when it says so. Returns the answer (for the
    /// caller alone, when it is not posted), if there is one.
    pub async fn run_command(
        &self,
        me: &Me,
        channel: ChannelId,
        name: &str,
        text: &str,
    ) -> Result<Option<CommandAnswer>, EngineError> {
        let state = self.authorize_channel(me, channel).await?;
        let Some(space_id) = state.space_id else {
            return Err(EngineError::BadRequest(format!("no command /{name} here")));
        };
        if text.chars().count() > parley::MessageBody::MAX_CHARS {
            return Err(EngineError::BadRequest(
                "a command's text is at most 4,000 characters".into(),
            ));
        }
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT sc.bot_id, a.username, sc.url, sc.secret FROM slash_commands sc
             JOIN accounts a ON a.user_id = sc.bot_id
             WHERE sc.space_id = $1 AND sc.name = $2",
        )
        .bind(space_id.to_string())
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?;
        let Some((bot_id, bot_name, url, secret)) = row else {
            return Err(EngineError::BadRequest(format!("no command /{name} here")));
        };
        self.spend(me, Write::Command).await?;
        let body = serde_json::json!({
            "command": format!("/{name}"),
            "text": text,
            "user": { "id": me.user_id, "username": me.username },
            "channel": { "id": channel, "name": state.name },
            "space": { "id": space_id },
        })
        .to_string();
        let answer = self.ask(name, &url, &secret, body).await?;
        let Some(answer) = answer else {
            return Ok(None);
        };
        if answer.in_channel {
            let bot = Me {
                user_id: parse_id(&bot_id)?,
                username: bot_name.clone(),
            };
            let request = PostRequest {
                channel,
                message_id: MessageId::new(),
                body: answer.text.clone(),
                reply_to: None,
                also_in_channel: false,
                attachments: Vec::new(),
                correlation_id: None,
            };
            self.post(&bot, request).await.map_err(|e| match e {
                EngineError::Domain(DomainError::NoSuchChannel) => EngineError::BadRequest(format!(
                    "/{name} answers as @{bot_name}, who is not in this private channel: /invite @{bot_name}"
                )),
                other => other,
            })?;
        }
        Ok(Some(answer))
    }

    /// Sends a command's request, signed, through the outbound filter; reads at most
    /// [`MAX_ANSWER_BYTES`] of the answer.
    async fn ask(
        &self,
        name: &str,
        url: &str,
        secret: &str,
        body: String,
    ) -> Result<Option<CommandAnswer>, EngineError> {
        let failed = |why: String| EngineError::BadRequest(format!("/{name} did not answer: {why}"));
        let client =
            crate::workers::webhooks::outbound_client(self.outbound_policy(), COMMAND_TIMEOUT, "Parley-Commands/1")
                .map_err(|e| EngineError::Internal(e.to_string()))?;
        let timestamp = (now_ms() / 1000).max(0) as u64;
        let signature = crate::workers::webhooks::signature(secret, timestamp, body.as_bytes());
        let mut response = client
            .post(url)
            .header("content-type", "application/json")
            .header("x-parley-timestamp", timestamp.to_string())
            .header("x-parley-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| failed(error_chain(&e)))?;
        if !response.status().is_success() {
            return Err(failed(format!("its URL answered {}", response.status())));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(error_chain(&e)))? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ANSWER_BYTES {
                return Err(failed(format!("more than {MAX_ANSWER_BYTES} bytes")));
            }
        }
        slash::read_answer(&bytes).map_err(EngineError::BadRequest)
    }
}

/// An error with its causes (reqwest's own message rarely names the refusal underneath).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
