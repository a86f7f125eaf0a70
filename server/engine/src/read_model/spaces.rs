//! The `spaces`, `space_members` and `invites` read models: the sidebar's spaces, each space's members and roles, its invites; their fold and queries.

use super::{bad_value, parse_value};
use crate::db::Flag;
use parley::api::{ChannelListing, ChannelView, MemberView, SpaceView};
use parley::space::{SpaceId, SpaceSettings, Who};
use parley::{ChannelId, Event, RecordedEvent, Role, UserId};
use sqlx::{AnyConnection, AnyPool};

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
            // What they joined or left in its channels belonged to that membership (as the
            // core's `ChannelState::is_in` says): invited again, they start afresh.
            sqlx::query(
                "DELETE FROM channel_members WHERE user_id = $1
                 AND channel_id IN (SELECT channel_id FROM channels WHERE space_id = $2)",
            )
            .bind(user_id.to_string())
            .bind(space_id.to_string())
            .execute(&mut *conn)
            .await?;
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
        Event::SpaceConfigured { space_id, settings } => {
            sqlx::query("UPDATE spaces SET pins_by = $1, topics_by = $2 WHERE space_id = $3")
                .bind(settings.pins.as_str())
                .bind(settings.topics.as_str())
                .bind(space_id.to_string())
        }
        _ => return Ok(()),
    };
    query.execute(&mut *conn).await?;
    Ok(())
}

fn who(raw: &str) -> Result<Who, sqlx::Error> {
    Who::parse(raw).ok_or_else(|| bad_value("spaces", raw, "not a setting"))
}

fn role(raw: &str) -> Result<Role, sqlx::Error> {
    Role::parse(raw).ok_or_else(|| bad_value("space_members", raw, "not a role"))
}

/// The spaces `user` belongs to (not deleted), oldest first, with their open channels.
pub async fn of_member(pool: &AnyPool, user: UserId) -> Result<Vec<SpaceView>, sqlx::Error> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT s.space_id, s.name, m.role, s.pins_by, s.topics_by FROM spaces s
         JOIN space_members m ON m.space_id = s.space_id
         WHERE m.user_id = $1 AND s.deleted = 0 ORDER BY s.created_position",
    )
    .bind(user.to_string())
    .fetch_all(pool)
    .await?;
    let mut spaces = Vec::with_capacity(rows.len());
    for (space_id, name, role_name, pins_by, topics_by) in rows {
        let channels: Vec<(String, String, String, String, Flag)> = sqlx::query_as(concat!(
            "SELECT channel_id, name, topic, description, private FROM channels c
             WHERE space_id = $1 AND archived = 0 AND deleted = 0 AND ",
            in_channel!("$2"),
            " ORDER BY created_position"
        ))
        .bind(&space_id)
        .bind(user.to_string())
        .fetch_all(pool)
        .await?;
        spaces.push(SpaceView {
            space_id: parse_value("spaces", &space_id)?,
            name,
            role: role(&role_name)?,
            channels: channels
                .into_iter()
                .map(|(id, name, topic, description, private)| {
                    Ok(ChannelView {
                        channel_id: parse_value("channels", &id)?,
                        name,
                        topic,
                        description,
                        private: private.0,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?,
            settings: SpaceSettings {
                pins: who(&pins_by)?,
                topics: who(&topics_by)?,
            },
        });
    }
    Ok(spaces)
}

/// The members of a space, by username, with their roles.
pub async fn members(pool: &AnyPool, space: SpaceId) -> Result<Vec<MemberView>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT m.user_id, a.username, m.role FROM space_members m
         JOIN accounts a ON a.user_id = m.user_id
         WHERE m.space_id = $1 ORDER BY a.username",
    )
    .bind(space.to_string())
    .fetch_all(pool)
    .await?;
    member_views(rows)
}

/// The channels of `space` that `user` may open (every public one, the private ones
/// `user` is in; none archived or deleted), by name, with whether `user` is in each and how
/// many people are.
pub async fn browse(pool: &AnyPool, space: SpaceId, user: UserId) -> Result<Vec<ChannelListing>, sqlx::Error> {
    type Row = (String, String, String, String, Flag, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT c.channel_id, c.name, c.topic, c.description, c.private,
                CASE WHEN ",
        in_channel!("$1"),
        " THEN 1 ELSE 0 END,
                (SELECT COUNT(*) FROM space_members sm WHERE sm.space_id = c.space_id AND ",
        in_channel!("sm.user_id"),
        ")
         FROM channels c
         WHERE c.space_id = $2 AND c.archived = 0 AND c.deleted = 0
           AND (c.private = 0 OR ",
        in_channel!("$3"),
        ") ORDER BY c.name"
    ))
    .bind(user.to_string())
    .bind(space.to_string())
    .bind(user.to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(id, name, topic, description, private, joined, members)| {
            Ok(ChannelListing {
                channel: ChannelView {
                    channel_id: parse_value("channels", &id)?,
                    name,
                    topic,
                    description,
                    private: private.0,
                },
                joined: joined == 1,
                members: u32::try_from(members).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// The members of `space` who are in `channel`, by username, with their roles.
pub async fn channel_members(
    pool: &AnyPool,
    space: SpaceId,
    channel: ChannelId,
) -> Result<Vec<MemberView>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(concat!(
        "SELECT m.user_id, a.username, m.role FROM space_members m
         JOIN accounts a ON a.user_id = m.user_id
         JOIN channels c ON c.channel_id = $1
         WHERE m.space_id = $2 AND ",
        in_channel!("m.user_id"),
        " ORDER BY a.username"
    ))
    .bind(channel.to_string())
    .bind(space.to_string())
    .fetch_all(pool)
    .await?;
    member_views(rows)
}

/// Rows of (user id, username, role) as members.
fn member_views(rows: Vec<(String, String, String)>) -> Result<Vec<MemberView>, sqlx::Error> {
    rows.into_iter()
        .map(|(user_id, username, role_name)| {
            Ok(MemberView {
                user_id: parse_value("space_members", &user_id)?,
                username,
                role: role(&role_name)?,
            })
        })
        .collect()
}
