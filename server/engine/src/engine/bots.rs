//! Bots and incoming webhooks: a space admin makes a bot (its API token shown once), rotates its secret or deletes it; an incoming webhook is a channel's secret address that posts as a bot of its own.
//!
//! A bot is an account (`AccountRegistered` with `bot`), a member of the one space it was
//! made for (`MemberJoined`, added by the admin), so every door authorizes it as it does a
//! person: the same channel rules, the same post limit. It has no password and never signs
//! in. An incoming webhook's address is security state, like an API token: its secret is
//! kept hashed in `incoming_hooks`, beside the bot it posts as.

use super::{Engine, EngineError, now_ms, parse_id};
use crate::auth::SessionToken;
use crate::engine::budget::Write;
use parley::account::{self, AccountCommand, AdminAction};
use parley::api::{BotSecret, BotView, CommandView, HookView, Me, PostRequest};
use parley::incoming::{self, MAX_BOTS_PER_SPACE};
use parley::profile::{Profile, ProfileInput};
use parley::space::{Right, SpaceCommand, SpaceId};
use parley::values::{BotOf, PasswordHash};
use parley::{ChannelId, DomainError, MessageId, Position, UserId, Username};

type BotRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Engine {
    /// Makes a bot for `space_id` (an admin of it): an account named `username`, shown as
    /// `name`, in the space. Returns it with its API token, shown this once.
    pub async fn create_bot(
        &self,
        me: &Me,
        space_id: SpaceId,
        username: &str,
        name: &str,
    ) -> Result<BotSecret, EngineError> {
        let username = Username::parse(username)?;
        let bot = self.register_bot(me, space_id, username, name).await?;
        let (_, token) = self.insert_token(&bot, "bot").await?;
        Ok(BotSecret {
            bot: self.bot(me, space_id, bot.user_id).await?,
            secret: token,
        })
    }

    /// Makes an incoming webhook for a channel of `space_id` that `me` (an admin of the
    /// space) can see: a bot shown as `name`, put in the channel if it is private, and a
    /// secret address that posts as it. Returns it with the address's path, shown this once.
    pub async fn create_incoming_hook(
        &self,
        me: &Me,
        space_id: SpaceId,
        channel: ChannelId,
        name: &str,
    ) -> Result<BotSecret, EngineError> {
        let synced = self.synced().await?;
        let state = self.channel_of_space(&synced, me, space_id, channel).await?;
        if state.archived {
            return Err(DomainError::ChannelArchived.into());
        }
        let hook_id = uuid::Uuid::now_v7();
        let username = incoming::hook_username(&hook_id)?;
        let bot = self.register_bot(me, space_id, username, name).await?;
        if state.private {
            self.membership(me, space_id, channel, bot.user_id, true).await?;
        }
        let secret = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        sqlx::query(
            "INSERT INTO incoming_hooks (hook_id, space_id, channel_id, bot_id, secret_hash, created_by, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(hook_id.to_string())
        .bind(space_id.to_string())
        .bind(channel.to_string())
        .bind(bot.user_id.to_string())
        .bind(secret.hash())
        .bind(me.user_id.to_string())
        .bind(now_ms())
        .execute(self.store.pool())
        .await?;
        Ok(BotSecret {
            bot: self.bot(me, space_id, bot.user_id).await?,
            secret: hook_path(&hook_id.to_string(), &secret),
        })
    }

    /// The bots of `space_id`, incoming webhooks included, for its admins.
    pub async fn bots(&self, me: &Me, space_id: SpaceId) -> Result<Vec<BotView>, EngineError> {
        self.space(&self.synced().await?, space_id)
            .await?
            .authorize(me.user_id, Right::ManageSpace)?;
        let rows: Vec<BotRow> = sqlx::query_as(
            "SELECT a.user_id, a.username, a.profile, h.hook_id, h.channel_id, c.name, sc.name, sc.url
             FROM accounts a
             JOIN space_members m ON m.user_id = a.user_id AND m.space_id = $1
             LEFT JOIN incoming_hooks h ON h.bot_id = a.user_id
             LEFT JOIN channels c ON c.channel_id = h.channel_id
             LEFT JOIN slash_commands sc ON sc.bot_id = a.user_id
             WHERE a.bot_space = $1
             ORDER BY a.registered_position",
        )
        .bind(space_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter().map(bot_view).collect()
    }

    /// Replaces a bot's secret (an admin of its space): its API token, or its incoming
    /// webhook's address. The old one stops working at once.
    pub async fn rotate_bot(&self, me: &Me, space_id: SpaceId, bot: UserId) -> Result<BotSecret, EngineError> {
        self.spend(me, Write::Token).await?;
        let view = self.bot(me, space_id, bot).await?;
        let secret = SessionToken::generate().map_err(|e| EngineError::Internal(e.to_string()))?;
        let secret = match (&view.hook, &view.command) {
            (_, Some(_)) => {
                let secret = format!("{COMMAND_SECRET_PREFIX}{}", secret.expose());
                sqlx::query("UPDATE slash_commands SET secret = $1 WHERE bot_id = $2")
                    .bind(&secret)
                    .bind(bot.to_string())
                    .execute(self.store.pool())
                    .await?;
                secret
            }
            (Some(hook), None) => {
                sqlx::query("UPDATE incoming_hooks SET secret_hash = $1 WHERE hook_id = $2")
                    .bind(secret.hash())
                    .bind(&hook.hook_id)
                    .execute(self.store.pool())
                    .await?;
                hook_path(&hook.hook_id, &secret)
            }
            (None, None) => {
                self.delete_secrets_of(bot, false).await?;
                let owner = Me {
                    user_id: bot,
                    username: view.username.clone(),
                };
                self.insert_token(&owner, "bot").await?.1
            }
        };
        Ok(BotSecret { bot: view, secret })
    }

    /// Deletes a bot (an admin of its space): its token or address stops working, it leaves
    /// the space, and its account is disabled (its name stays taken; its messages stay).
    pub async fn delete_bot(&self, me: &Me, space_id: SpaceId, bot: UserId) -> Result<(), EngineError> {
        let view = self.bot(me, space_id, bot).await?;
        self.delete_secrets_of(bot, true).await?;
        self.execute_space(me, space_id, SpaceCommand::Remove { member: bot })
            .await?;
        let username = Username::parse(&view.username)?;
        let state = self.account(&self.synced().await?, &username).await?;
        let disable = AccountCommand::Admin {
            action: AdminAction::Disable,
            by: me.user_id,
        };
        self.account_command(&username, &state, &disable, &self.metadata(me, None))
            .await?;
        Ok(())
    }

    /// Posts what an outside tool sent to an incoming webhook's address, as the webhook's
    /// bot, with every rule a person's post has (the channel's access, the body's rules, the
    /// post limit). A wrong address is `Unauthorized`, whichever part is wrong.
    pub async fn incoming_post(
        &self,
        hook_id: &str,
        secret: &str,
        body: &[u8],
    ) -> Result<(MessageId, Position), EngineError> {
        let secret = SessionToken::from_client(secret).ok_or(EngineError::Unauthorized)?;
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT h.channel_id, h.bot_id, a.username FROM incoming_hooks h
             JOIN accounts a ON a.user_id = h.bot_id
             WHERE h.hook_id = $1 AND h.secret_hash = $2",
        )
        .bind(hook_id)
        .bind(secret.hash())
        .fetch_optional(self.store.pool())
        .await?;
        let (channel, bot, username) = row.ok_or(EngineError::Unauthorized)?;
        let state = self
            .account(&self.synced().await?, &Username::parse(&username)?)
            .await?;
        if !state.live() || state.disabled {
            return Err(EngineError::Unauthorized);
        }
        let post = incoming::read(body).map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let message_id = post.message_id.unwrap_or_default();
        let me = Me {
            user_id: parse_id(&bot)?,
            username,
        };
        let request = PostRequest {
            channel: parse_id(&channel)?,
            message_id,
            body: post.text,
            reply_to: None,
            also_in_channel: false,
            attachments: Vec::new(),
            correlation_id: None,
        };
        let position = self.post(&me, request).await?;
        Ok((message_id, position))
    }

    /// Registers a bot's account for `space_id` (`me` an admin of it) with its display name,
    /// and puts it in the space.
    pub(crate) async fn register_bot(
        &self,
        me: &Me,
        space_id: SpaceId,
        username: Username,
        name: &str,
    ) -> Result<Me, EngineError> {
        self.spend(me, Write::Token).await?;
        let synced = self.synced().await?;
        self.space(&synced, space_id)
            .await?
            .authorize(me.user_id, Right::ManageSpace)?;
        let input = ProfileInput {
            display_name: name.to_owned(),
            ..ProfileInput::default()
        };
        let profile = Profile::parse(&input, now_ms())?;
        if profile.display_name.is_none() {
            return Err(EngineError::BadRequest("a bot needs a name".into()));
        }
        if self.bots(me, space_id).await?.len() >= MAX_BOTS_PER_SPACE {
            return Err(EngineError::BadRequest(format!(
                "a space may have at most {MAX_BOTS_PER_SPACE} bots and incoming webhooks; delete one first"
            )));
        }
        let state = self.account(&synced, &username).await?;
        let user_id = UserId::new();
        let register = AccountCommand::Register {
            user_id,
            username: username.clone(),
            // No password: sign-in treats a bot's account as a name nobody holds.
            password_hash: PasswordHash(String::new()),
            bot: Some(BotOf {
                space_id,
                made_by: me.user_id,
            }),
        };
        let mut events = account::decide(&state, &register)?;
        let registered = events.iter().fold(state, account::evolve);
        events.extend(account::decide(&registered, &AccountCommand::SetProfile(profile))?);
        self.register_account(&username, &events, &self.metadata(me, None))
            .await?;
        self.execute_space(me, space_id, SpaceCommand::AddBot { bot: user_id })
            .await?;
        Ok(Me {
            user_id,
            username: username.to_string(),
        })
    }

    /// One bot of `space_id`, for its admins; "no such user" for any other account.
    async fn bot(&self, me: &Me, space_id: SpaceId, bot: UserId) -> Result<BotView, EngineError> {
        self.bots(me, space_id)
            .await?
            .into_iter()
            .find(|b| b.user_id == bot)
            .ok_or_else(|| DomainError::NoSuchUser(String::new()).into())
    }

    /// Ends a bot's API tokens, and its incoming webhook's address or its slash command when `hooks`.
    async fn delete_secrets_of(&self, bot: UserId, hooks: bool) -> Result<(), EngineError> {
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(bot.to_string())
            .execute(self.store.pool())
            .await?;
        if hooks {
            for sql in [
                "DELETE FROM incoming_hooks WHERE bot_id = $1",
                "DELETE FROM slash_commands WHERE bot_id = $1",
            ] {
                sqlx::query(sql)
                    .bind(bot.to_string())
                    .execute(self.store.pool())
                    .await?;
            }
        }
        Ok(())
    }
}

/// What a slash command's signing secret starts with.
pub(crate) const COMMAND_SECRET_PREFIX: &str = "cmdsec_";

/// An incoming webhook's address, from the site's root.
fn hook_path(hook_id: &str, secret: &SessionToken) -> String {
    format!("/api/v1/hooks/{hook_id}/{}", secret.expose())
}

fn bot_view(
    (user_id, username, profile, hook_id, channel_id, channel, command, url): BotRow,
) -> Result<BotView, EngineError> {
    // A profile the read model cannot read shows as none rather than failing the list.
    let profile: Profile = serde_json::from_str(&profile).unwrap_or_default();
    let hook = match (hook_id, channel_id) {
        (Some(hook_id), Some(channel_id)) => Some(HookView {
            hook_id,
            channel_id: parse_id(&channel_id)?,
            channel: channel.unwrap_or_default(),
        }),
        _ => None,
    };
    let command = command.zip(url).map(|(name, url)| CommandView { name, url });
    Ok(BotView {
        user_id: parse_id(&user_id)?,
        name: profile.name_or(&username).to_owned(),
        username,
        hook,
        command,
    })
}
