//! Profiles: saving one's own (an event on the account's stream), and reading others' (whole for the people one shares a space or a conversation with, the display name alone for anyone else): a user card, names in bulk.

use super::{Engine, EngineError};
use parley::account::AccountCommand;
use parley::api::{Me, ProfileView, UserCard};
use parley::profile::{Profile, ProfileInput};
use parley::{DomainError, Username};
use std::collections::HashSet;

/// The most profiles one request reads (a screenful of authors is far fewer).
pub const MAX_PROFILES: usize = 200;

impl Engine {
    /// Saves `me`'s profile; returns it as others will see it. The same profile again
    /// stores nothing.
    pub async fn set_profile(&self, me: &Me, input: &ProfileInput) -> Result<ProfileView, EngineError> {
        let mut profile = Profile::parse(input, self.rules_now_ms())?;
        self.spend(me, crate::engine::budget::Write::Profile).await?;
        let synced = self.synced().await?;
        let username = Username::parse(&me.username)?;
        let state = self.account(&synced, &username).await?;
        // The picture is set on its own (`set_avatar`): it stays.
        profile.avatar = state.profile.avatar.clone();
        self.save_profile(me, &username, &state, profile).await
    }

    /// Whether an account's profile shows this picture now: only then is it served (a
    /// picture replaced, or of a deleted account, is not).
    pub async fn picture_in_use(&self, file_id: &str) -> Result<bool, EngineError> {
        if !parley::attachment::valid_file_id(file_id) {
            return Ok(false);
        }
        // A file id is hex digits: nothing in one is a LIKE wildcard.
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM accounts WHERE profile LIKE $1 LIMIT 1")
            .bind(format!("%\"avatar\":\"{file_id}\"%"))
            .fetch_optional(self.store.pool())
            .await?;
        Ok(found.is_some())
    }

    /// Sets (or, with `None`, removes) `me`'s picture: `avatar` names the image it was
    /// cut from, which the file door has checked `me` may read, after spending `me`'s
    /// profile budget (before the image is decoded).
    pub async fn set_avatar(&self, me: &Me, avatar: Option<String>) -> Result<ProfileView, EngineError> {
        if avatar
            .as_deref()
            .is_some_and(|id| !parley::attachment::valid_file_id(id))
        {
            return Err(EngineError::BadRequest("no such file".into()));
        }
        let synced = self.synced().await?;
        let username = Username::parse(&me.username)?;
        let state = self.account(&synced, &username).await?;
        let profile = Profile {
            avatar,
            ..state.profile.clone()
        };
        self.save_profile(me, &username, &state, profile).await
    }

    async fn save_profile(
        &self,
        me: &Me,
        username: &Username,
        state: &parley::account::AccountState,
        profile: Profile,
    ) -> Result<ProfileView, EngineError> {
        let command = AccountCommand::SetProfile(profile.clone());
        self.account_command(username, state, &command, &self.metadata(me, None))
            .await?;
        Ok(ProfileView {
            user_id: me.user_id,
            username: me.username.clone(),
            profile,
            bot: state.bot.is_some(),
        })
    }

    /// The profiles of `usernames` as `me` may see them: whole for themselves and the
    /// people they share a space or a conversation with; the display name alone for the
    /// others, whom they may meet in the lobby (open to every account). Unknown names are
    /// left out. At most [`MAX_PROFILES`] names.
    pub async fn profiles(&self, me: &Me, usernames: &[String]) -> Result<Vec<ProfileView>, EngineError> {
        if usernames.len() > MAX_PROFILES {
            return Err(EngineError::BadRequest(format!(
                "at most {MAX_PROFILES} profiles at once"
            )));
        }
        let contacts = self.presence_contacts(me).await?;
        let wanted: HashSet<&str> = usernames.iter().map(String::as_str).collect();
        let mut found = Vec::new();
        let wanted: Vec<&str> = wanted.into_iter().collect();
        for chunk in wanted.chunks(100) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT user_id, username, profile, bot_space FROM accounts WHERE username IN ({})",
                marks.join(", ")
            );
            // Only numbered placeholders are formatted in; the names are bound.
            let mut query = sqlx::query_as::<_, (String, String, String, Option<String>)>(sqlx::AssertSqlSafe(sql));
            for name in chunk {
                query = query.bind(*name);
            }
            for row in query.fetch_all(self.store.pool()).await? {
                let mut view = profile_view(row)?;
                if contacts.as_ref().is_some_and(|c| !c.contains(&view.username)) {
                    view.profile = view.profile.public();
                }
                found.push(view);
            }
        }
        Ok(found)
    }

    /// The user card of `username` for `me` (as [`Engine::profiles`] shows them, with the
    /// spaces both belong to); "no such user" for a name nobody has.
    pub async fn user_card(&self, me: &Me, username: &str) -> Result<UserCard, EngineError> {
        let no_such_user = || EngineError::Domain(DomainError::NoSuchUser(username.chars().take(32).collect()));
        let person = self
            .profiles(me, &[username.trim().to_ascii_lowercase()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(no_such_user)?;
        let spaces_in_common: Vec<String> = sqlx::query_scalar(
            "SELECT s.name FROM spaces s
             JOIN space_members mine ON mine.space_id = s.space_id AND mine.user_id = $1
             JOIN space_members theirs ON theirs.space_id = s.space_id AND theirs.user_id = $2
             WHERE s.deleted = 0 ORDER BY s.name",
        )
        .bind(me.user_id.to_string())
        .bind(person.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(UserCard {
            person,
            spaces_in_common,
        })
    }
}

fn profile_view(
    (user_id, username, profile, bot_space): (String, String, String, Option<String>),
) -> Result<ProfileView, EngineError> {
    let user_id = user_id
        .parse()
        .map_err(|e: uuid::Error| EngineError::Internal(format!("bad user id in accounts: {e}")))?;
    // A profile the read model cannot read shows as none rather than failing the page.
    let profile = serde_json::from_str(&profile).unwrap_or_default();
    Ok(ProfileView {
        user_id,
        username,
        profile,
        bot: bot_space.is_some(),
    })
}
