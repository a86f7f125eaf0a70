//! Schema versions per event type, and the upcasters that read a stored old version as today's.
//!
//! The log is never rewritten: an event stored at version 1 stays at version 1 on disk.
//! When a type's shape changes in a way old payloads cannot simply be read as (a field
//! renamed, split, or given a new meaning), its version goes up by one and a step that
//! turns a payload of the old version into one of the new is added to [`STEPS`]. Reading
//! runs every step from the stored version to today's, so the rest of Parley only ever
//! sees today's shape. Additive changes (a new optional field) need no new version.

use serde_json::{Map, Value, json};

/// Why a stored payload cannot be brought to today's schema of its type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error("unknown schema version {version} for event type {event_type} (this server reads up to {current})")]
    UnknownVersion {
        event_type: String,
        version: u32,
        current: u32,
    },
    #[error("{event_type} version {version} cannot be read: {reason}")]
    Invalid {
        event_type: String,
        version: u32,
        reason: String,
    },
}

/// Today's schema version of every type whose shape has changed; any other type is at 1.
const CURRENT: &[(&str, u32)] = &[
    // v2: `space_id` and `members` became one `kind` (lobby, space or direct), so a
    // channel can no longer claim to be both a space's and a direct conversation.
    ("ChannelCreated", 2),
];

/// One step: reads a payload of version `from` of its type, writes it at `from + 1`.
type Step = fn(Map<String, Value>) -> Result<Map<String, Value>, String>;

/// Every step, by type and the version it reads.
const STEPS: &[(&str, u32, Step)] = &[("ChannelCreated", 1, channel_created_v1)];

/// The version events of this type are written with today.
pub fn current_version(event_type: &str) -> u32 {
    CURRENT
        .iter()
        .find(|(name, _)| *name == event_type)
        .map_or(1, |(_, version)| *version)
}

/// Brings a stored payload of `event_type` at `version` to today's version of that type.
pub fn upcast(event_type: &str, version: u32, payload: Value) -> Result<Value, UpcastError> {
    let current = current_version(event_type);
    let unknown = || UpcastError::UnknownVersion {
        event_type: event_type.to_owned(),
        version,
        current,
    };
    if version == 0 || version > current {
        return Err(unknown());
    }
    let mut payload = payload;
    for from in version..current {
        let step = STEPS
            .iter()
            .find(|(name, v, _)| *name == event_type && *v == from)
            .map(|(_, _, step)| step)
            .ok_or_else(unknown)?;
        let invalid = |reason: String| UpcastError::Invalid {
            event_type: event_type.to_owned(),
            version: from,
            reason,
        };
        let Value::Object(fields) = payload else {
            return Err(invalid("the payload is not an object".into()));
        };
        payload = Value::Object(step(fields).map_err(invalid)?);
    }
    Ok(payload)
}

/// `ChannelCreated` 1 → 2: an optional `space_id` and optional `members` become `kind`.
fn channel_created_v1(mut fields: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let space_id = fields.remove("space_id").filter(|v| !v.is_null());
    let members = fields.remove("members").filter(|v| !v.is_null());
    let kind = match (space_id, members) {
        (None, None) => json!({ "type": "lobby" }),
        (Some(space_id), None) => json!({ "type": "space", "space_id": space_id }),
        (None, Some(members)) => json!({ "type": "direct", "members": members }),
        (Some(_), Some(_)) => return Err("a channel cannot belong to a space and be a direct conversation".into()),
    };
    fields.insert("kind".into(), kind);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_below_the_current_one_has_a_step() {
        for (event_type, current) in CURRENT {
            for from in 1..*current {
                assert!(
                    STEPS.iter().any(|(t, v, _)| t == event_type && *v == from),
                    "{event_type} has no step from version {from}"
                );
            }
        }
        for (event_type, from, _) in STEPS {
            assert!(
                *from < current_version(event_type),
                "{event_type} step from {from} is never used"
            );
        }
    }

    #[test]
    fn types_that_never_changed_are_at_version_one_and_pass_through() {
        assert_eq!(current_version("MessagePosted"), 1);
        let payload = json!({ "body": "hi" });
        assert_eq!(upcast("MessagePosted", 1, payload.clone()), Ok(payload));
    }

    #[test]
    fn versions_from_the_future_or_zero_are_refused() {
        for version in [0, 3, 99] {
            assert!(matches!(
                upcast("ChannelCreated", version, json!({})),
                Err(UpcastError::UnknownVersion { current: 2, .. })
            ));
        }
        assert!(matches!(
            upcast("MessagePosted", 2, json!({})),
            Err(UpcastError::UnknownVersion { current: 1, .. })
        ));
    }

    #[test]
    fn a_v1_channel_becomes_a_lobby_a_space_channel_or_a_direct_one() {
        let v1 = |extra: Value| {
            let mut base = json!({ "channel_id": "c", "name": "general" });
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            upcast("ChannelCreated", 1, base)
        };
        assert_eq!(
            v1(json!({})),
            Ok(json!({ "channel_id": "c", "name": "general", "kind": { "type": "lobby" } }))
        );
        assert_eq!(
            v1(json!({ "space_id": null, "members": null })),
            Ok(json!({ "channel_id": "c", "name": "general", "kind": { "type": "lobby" } }))
        );
        assert_eq!(
            v1(json!({ "space_id": "s" })),
            Ok(json!({ "channel_id": "c", "name": "general", "kind": { "type": "space", "space_id": "s" } }))
        );
        assert_eq!(
            v1(json!({ "members": ["a", "b"] })),
            Ok(json!({ "channel_id": "c", "name": "general", "kind": { "type": "direct", "members": ["a", "b"] } }))
        );
        assert!(matches!(
            v1(json!({ "space_id": "s", "members": ["a", "b"] })),
            Err(UpcastError::Invalid { version: 1, .. })
        ));
        assert!(matches!(
            upcast("ChannelCreated", 1, json!(["not", "an", "object"])),
            Err(UpcastError::Invalid { .. })
        ));
    }

    #[test]
    fn todays_version_is_left_as_it_is() {
        let v2 = json!({ "channel_id": "c", "name": "x", "kind": { "type": "lobby" }, "space_id": "kept" });
        assert_eq!(upcast("ChannelCreated", 2, v2.clone()), Ok(v2));
    }
}
