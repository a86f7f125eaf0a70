//! The `accounts` read model: user ids, usernames, profiles, who is an instance admin (granted, revoked) and who is disabled; and what a deleted account leaves in every read model.

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds sign-ups, profiles and admin grants.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    match &recorded.event {
        Event::AccountRegistered {
            user_id, username, bot, ..
        } => {
            sqlx::query(
                "INSERT INTO accounts (user_id, username, registered_position, bot_space) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
            )
            .bind(user_id.to_string())
            .bind(username.to_string())
            .bind(position)
            .bind(bot.map(|bot| bot.space_id.to_string()))
            .execute(&mut *conn)
            .await?;
        }
        Event::ProfileChanged { user_id, profile, .. } => {
            let profile = serde_json::to_string(profile).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            sqlx::query("UPDATE accounts SET profile = $1 WHERE user_id = $2")
                .bind(profile)
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AdminRevoked { user_id, .. } => {
            sqlx::query("UPDATE accounts SET admin = 0 WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AccountDisabled { user_id, .. } | Event::AccountEnabled { user_id, .. } => {
            let disabled = matches!(recorded.event, Event::AccountDisabled { .. });
            sqlx::query("UPDATE accounts SET disabled = $1 WHERE user_id = $2")
                .bind(i64::from(disabled))
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        Event::AdminGranted { user_id, .. } => {
            sqlx::query("UPDATE accounts SET admin = 1 WHERE user_id = $1")
                .bind(user_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        _ => {}
    }
    Ok(())
}

/// A deleted account leaves every read model: its row, memberships, read markers and
/// reactions' names; its messages are attributed to [`parley::redact::ERASED_NAME`], or
/// erased like deleted messages when it asked for that. The messages it touched move to this
/// position's revision, so a browser's cached copy is replaced by the next page it reads.
pub(super) async fn erase(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let Event::AccountErased { user_id, messages, .. } = &recorded.event else {
        return Ok(());
    };
    let position = recorded.position.0 as i64;
    let user = user_id.to_string();
    // The stream is `account-<username>`: the only place the fold learns the name from.
    let name = recorded.stream_id.0.strip_prefix("account-").unwrap_or_default();
    let gone = parley::redact::ERASED_NAME;
    sqlx::query(
        "INSERT INTO erased_accounts (user_id, name_hash, messages, erased_position) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(&user)
    .bind(crate::auth::erased_name_hash(name))
    .bind(i64::from(*messages))
    .bind(position)
    .execute(&mut *conn)
    .await?;
    for sql in [
        "DELETE FROM accounts WHERE user_id = $1",
        "DELETE FROM space_members WHERE user_id = $1",
        "DELETE FROM read_markers WHERE user_id = $1",
        "DELETE FROM saved_items WHERE user_id = $1",
        "DELETE FROM channel_members WHERE user_id = $1",
        "DELETE FROM thread_follows WHERE user_id = $1",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&user)
            .execute(&mut *conn)
            .await?;
    }
    // Hers: by id, and by name for messages from before accounts.
    let hers = "(author_id = $1 OR (author_id IS NULL AND author = $2))";
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE messages SET revision = $3 WHERE revision < $3 AND ({hers}
            OR message_id IN (SELECT message_id FROM reactions WHERE user_id = $1))"
    )))
    .bind(&user)
    .bind(name)
    .bind(position)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE reactions SET username = $1 WHERE user_id = $2")
        .bind(gone)
        .bind(&user)
        .execute(&mut *conn)
        .await?;
    if *messages {
        for table in ["attachments", "message_edits", "reactions"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE message_id IN (SELECT message_id FROM messages WHERE {hers})"
            )))
            .bind(&user)
            .bind(name)
            .execute(&mut *conn)
            .await?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE messages SET body = '', attachments = '', mentions = '', deleted = 1, pinned_position = NULL
             WHERE {hers}"
        )))
        .bind(&user)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE messages SET author = $3 WHERE {hers}"
    )))
    .bind(&user)
    .bind(name)
    .bind(gone)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
