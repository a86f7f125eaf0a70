//! The `spaces`, `space_members` and `invites` read models: the sidebar's spaces, each space's members and roles, its invites.

use parley::{Event, RecordedEvent};
use sqlx::AnyConnection;

/// Folds a space's events into `spaces`, `space_members` and `invites`.
pub(super) async fn fold(conn: &mut AnyConnection, recorded: &RecordedEvent) -> Result<(), sqlx::Error> {
    let position = recorded.position.0 as i64;
    let query = match &recorded.event {
        Event::SpaceCreated { space_id, name, owner } => sqlx::query(
            "INSERT INTO spaces (space_id, name, owner, deleted, created_position) VALUES ($1, $2, $3, 0, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(space_id.to_string())
        .bind(name.clone())
        .bind(owner.to_string())
        .bind(position),
        Event::SpaceRenamed { space_id, name } => sqlx::query("UPDATE spaces SET name = $1 WHERE space_id = $2")
            .bind(name.clone())
            .bind(space_id.to_string()),
        Event::SpaceDeleted { space_id } => {
            sqlx::query("UPDATE spaces SET deleted = 1 WHERE space_id = $1").bind(space_id.to_string())
        }
        Event::InviteCreated {
            space_id,
            code,
            expires_at_ms,
            max_uses,
        } => sqlx::query(
            "INSERT INTO invites (space_id, code, expires_at_ms, max_uses, uses, revoked) VALUES ($1, $2, $3, $4, 0, 0)
             ON CONFLICT DO NOTHING",
        )
        .bind(space_id.to_string())
        .bind(code.clone())
        .bind(*expires_at_ms)
        .bind(max_uses.map(i64::from)),
        Event::InviteRevoked { space_id, code } => {
            sqlx::query("UPDATE invites SET revoked = 1 WHERE space_id = $1 AND code = $2")
                .bind(space_id.to_string())
                .bind(code.clone())
        }
        Event::MemberJoined {
            space_id,
            user_id,
            role,
            invite,
        } => {
            if let Some(code) = invite {
                sqlx::query("UPDATE invites SET uses = uses + 1 WHERE space_id = $1 AND code = $2")
                    .bind(space_id.to_string())
                    .bind(code.clone())
                    .execute(&mut *conn)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO space_members (space_id, user_id, role, joined_position) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(space_id.to_string())
            .bind(user_id.to_string())
            .bind(role.as_str())
            .bind(position)
        }
        Event::MemberLeft { space_id, user_id } | Event::MemberRemoved { space_id, user_id } => {
            sqlx::query("DELETE FROM space_members WHERE space_id = $1 AND user_id = $2")
                .bind(space_id.to_string())
                .bind(user_id.to_string())
        }
        Event::RoleChanged {
            space_id,
            user_id,
            role,
        } => sqlx::query("UPDATE space_members SET role = $1 WHERE space_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(space_id.to_string())
            .bind(user_id.to_string()),
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}
