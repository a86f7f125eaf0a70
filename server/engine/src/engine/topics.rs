//! Topics in the engine: a space's admin makes one (with an optional JSON Schema), its members and bots publish JSON events to it, idempotent by the producer's event id; subscribers get them as webhooks do, by pattern.

use super::{Engine, EngineError};
use crate::log::store::ExpectedVersion;
use parley::api::Me;
use parley::space::{SpaceCommand, SpaceId};
use parley::topic::{self, MAX_EVENT_BYTES, MAX_SCHEMA_BYTES};
use parley::{Event, EventMetadata, MessageId, Position};
use serde_json::Value;

/// A topic of a space, as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopicView {
    pub name: String,
    /// The JSON Schema its events must meet, if any.
    pub schema: Option<Value>,
}

/// A producer's event stored: where, and whether it had been stored before (a resend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    pub position: Position,
    pub duplicate: bool,
}

impl Engine {
    /// Makes a topic in `space_id` (an admin of it), whose events must meet `schema` if given.
    pub async fn create_topic(
        &self,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        schema: Option<Value>,
    ) -> Result<TopicView, EngineError> {
        if let Some(schema) = &schema {
            if schema.to_string().len() > MAX_SCHEMA_BYTES {
                return Err(EngineError::BadRequest(format!(
                    "a topic's schema is at most {MAX_SCHEMA_BYTES} bytes"
                )));
            }
            // Its `$ref`s resolve to nothing outside it (no remote or file retrieval).
            jsonschema::validator_for(schema)
                .map_err(|e| EngineError::BadRequest(format!("not a JSON Schema: {e}")))?;
        }
        let name = topic::valid_name(name).map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let command = SpaceCommand::CreateTopic {
            name: name.clone(),
            schema: schema.clone(),
        };
        self.spend(me, crate::engine::budget::Write::SpaceAction).await?;
        self.execute_space(me, space_id, command).await?;
        Ok(TopicView { name, schema })
    }

    /// The topics of a space, for its members.
    pub async fn topics(&self, me: &Me, space_id: SpaceId) -> Result<Vec<TopicView>, EngineError> {
        let space = self.members_space(me, space_id).await?;
        Ok(space
            .topics
            .into_iter()
            .map(|(name, schema)| TopicView { name, schema })
            .collect())
    }

    /// The streams of the space's topics that `pattern` matches, for a member or bot of the
    /// space who subscribes to them (asked again at each catch-up: a topic made since is
    /// in, and someone who left the space is refused).
    pub async fn topic_streams(
        &self,
        me: &Me,
        space_id: SpaceId,
        pattern: &str,
    ) -> Result<Vec<parley::StreamId>, EngineError> {
        let space = self.members_space(me, space_id).await?;
        Ok(space
            .topics
            .keys()
            .filter(|name| topic::matches(pattern, name))
            .map(|name| topic::stream(space_id, name))
            .collect())
    }

    /// Publishes `data` to a topic of `space_id` as `me` (a member or a bot of the space),
    /// if it meets the topic's schema. `id`, the producer's own for the event, makes a
    /// resend store nothing more. Counted against the post limit. Answers once the read
    /// models hold it, like every command.
    pub async fn publish(
        &self,
        me: &Me,
        space_id: SpaceId,
        name: &str,
        id: Option<MessageId>,
        data: Value,
    ) -> Result<Published, EngineError> {
        let space = self.members_space(me, space_id).await?;
        let no_such = || EngineError::BadRequest(topic::TopicError::NoSuchTopic(name.to_owned()).to_string());
        let name = topic::valid_name(name).map_err(|_| no_such())?;
        let Some(schema) = space.topics.get(&name) else {
            return Err(no_such());
        };
        if data.to_string().len() > MAX_EVENT_BYTES {
            return Err(EngineError::BadRequest(format!(
                "an event is at most {MAX_EVENT_BYTES} bytes of JSON"
            )));
        }
        if let Some(schema) = schema {
            let validator = jsonschema::validator_for(schema)
                .map_err(|e| EngineError::Internal(format!("topic {name}'s schema no longer compiles: {e}")))?;
            if let Err(e) = validator.validate(&data) {
                return Err(EngineError::BadRequest(format!(
                    "the event does not meet topic {name}'s schema: {e} (at {})",
                    e.instance_path()
                )));
            }
        }
        let id = id.unwrap_or_default();
        if !self.limits.post(me.user_id, id) {
            return Err(EngineError::TooFast);
        }
        let event = Event::TopicPublished {
            space_id,
            topic: name.clone(),
            data,
            by: me.user_id,
        };
        let metadata = EventMetadata {
            client_message_id: Some(id),
            ..self.metadata(me, None)
        };
        let appended = self
            .append(
                topic::stream(space_id, &name),
                ExpectedVersion::Any,
                &[event],
                &metadata,
            )
            .await?;
        // Read your writes: a subscription made once this returns catches up past it.
        self.wait_projected(appended.last).await;
        Ok(Published {
            position: appended.first,
            duplicate: appended.duplicate,
        })
    }
}
