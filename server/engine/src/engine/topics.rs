//! Topics in the engine: a space's admin makes one (with an optional JSON Schema), its members and bots publish JSON events to it, idempotent by the producer's event id; subscribers get them as webhooks do, by pattern.

use super::{Engine, EngineError};
use crate::log::store::ExpectedVersion;
use parley::api::Me;
use parley::space::{SpaceCommand, SpaceId};
use parley::topic::{self, MAX_EVENT_BYTES, MAX_SCHEMA_BYTES};
use parley::topic_schema::{self, MAX_EVENT_DEPTH};
use parley::{Event, EventMetadata, MessageId, Position};
use serde_json::Value;

/// A topic of a space, as its members see it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopicView {
    pub name: String,
    /// The JSON Schema its events must meet, if any.
    pub schema: Option<Value>,
    /// The largest event it takes, in bytes of JSON: 64 KiB, or less where checking its
    /// schema costs more (none for a schema outside the bounds, made before they were set).
    pub max_event_bytes: usize,
}

impl TopicView {
    fn of(name: String, schema: Option<Value>) -> Self {
        let max_event_bytes = largest_event(schema.as_ref()).unwrap_or(0);
        Self {
            name,
            schema,
            max_event_bytes,
        }
    }
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
        let name = topic::valid_name(name).map_err(|e| EngineError::BadRequest(e.to_string()))?;
        if schema
            .as_ref()
            .is_some_and(|schema| schema.to_string().len() > MAX_SCHEMA_BYTES)
        {
            return Err(EngineError::BadRequest(format!(
                "a topic's schema is at most {MAX_SCHEMA_BYTES} bytes"
            )));
        }
        // Spent before the schema is judged and compiled (milliseconds for a large one), so
        // a refused schema costs as much as a topic made.
        self.spend(me, crate::engine::budget::Write::SpaceAction).await?;
        if let Some(schema) = &schema {
            // What it may refer to and what its checks may cost, then whether it is a schema.
            topic_schema::cost(schema).map_err(|e| EngineError::BadRequest(e.to_string()))?;
            TopicSchema::compile(schema).map_err(|e| EngineError::BadRequest(format!("not a JSON Schema: {e}")))?;
        }
        let command = SpaceCommand::CreateTopic {
            name: name.clone(),
            schema: schema.clone(),
        };
        self.execute_space(me, space_id, command).await?;
        Ok(TopicView::of(name, schema))
    }

    /// The topics of a space, for its members.
    pub async fn topics(&self, me: &Me, space_id: SpaceId) -> Result<Vec<TopicView>, EngineError> {
        let space = self.members_space(me, space_id).await?;
        Ok(space
            .topics
            .into_iter()
            .map(|(name, schema)| TopicView::of(name, schema))
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
        let bytes = data.to_string().len();
        if bytes > MAX_EVENT_BYTES {
            return Err(EngineError::BadRequest(format!(
                "an event is at most {MAX_EVENT_BYTES} bytes of JSON"
            )));
        }
        if topic_schema::depth(&data) > MAX_EVENT_DEPTH {
            return Err(EngineError::BadRequest(format!(
                "an event nests at most {MAX_EVENT_DEPTH} levels deep"
            )));
        }
        // Counted before it is checked: an event the schema refuses cost its check.
        let id = id.unwrap_or_default();
        if !self.limits.post(me.user_id, id) {
            return Err(EngineError::TooFast);
        }
        let data = match schema {
            Some(schema) => checked(&name, schema, data, bytes).await?,
            None => data,
        };
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

/// The largest event, in bytes of JSON, a topic with `schema` takes; why none, for a schema
/// outside the bounds.
fn largest_event(schema: Option<&Value>) -> Result<usize, topic_schema::SchemaError> {
    match schema {
        None => Ok(MAX_EVENT_BYTES),
        Some(schema) => topic_schema::cost(schema).map(topic_schema::max_event_bytes),
    }
}

/// `data` if it meets topic `name`'s `schema` and is within the size the schema's cost
/// allows, checked on a blocking thread (up to tens of milliseconds, bounded by
/// [`topic_schema::STEP_BUDGET`]).
async fn checked(name: &str, schema: &Value, data: Value, bytes: usize) -> Result<Value, EngineError> {
    // A topic made before schemas were judged may have one that is not within bounds.
    let largest = largest_event(Some(schema))
        .map_err(|e| EngineError::BadRequest(format!("topic {name} takes no events: {e}")))?;
    if bytes > largest {
        return Err(EngineError::BadRequest(format!(
            "topic {name}'s schema takes events of at most {largest} bytes of JSON (checking a larger one against it would cost too much)"
        )));
    }
    let schema = schema.clone();
    let (data, verdict) = tokio::task::spawn_blocking(move || {
        let verdict = TopicSchema::compile(&schema).map(|schema| schema.check(&data));
        (data, verdict)
    })
    .await
    .map_err(|e| EngineError::Internal(format!("checking an event of topic {name}: {e}")))?;
    match verdict {
        Err(e) => Err(EngineError::Internal(format!(
            "topic {name}'s schema no longer compiles: {e}"
        ))),
        Ok(Err(e)) => Err(EngineError::BadRequest(format!(
            "the event does not meet topic {name}'s schema: {e}"
        ))),
        Ok(Ok(())) => Ok(data),
    }
}

/// A topic's JSON Schema, compiled. Its `$ref`s reach nothing outside it: neither a file
/// nor an address (only the drafts' own meta-schemas, built into `boon`, are known).
struct TopicSchema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

/// Where the schema is kept while compiled: a name that is no file and no address.
const SCHEMA_URL: &str = "urn:parley:topic-schema";

impl TopicSchema {
    fn compile(schema: &Value) -> Result<Self, String> {
        let mut compiler = boon::Compiler::new();
        // A loader that knows no scheme: a `$ref` to `file:`, `http:` or any other is refused.
        compiler.use_loader(Box::new(boon::SchemeUrlLoader::new()));
        compiler
            .add_resource(SCHEMA_URL, schema.clone())
            .map_err(|e| e.to_string())?;
        let mut schemas = boon::Schemas::new();
        let index = compiler.compile(SCHEMA_URL, &mut schemas).map_err(|e| {
            // The meta-schema's complaint, one line: where in the schema and what.
            match e {
                boon::CompileError::ValidationError { src, .. } => first_failure(&src),
                other => other.to_string(),
            }
        })?;
        Ok(Self { schemas, index })
    }

    /// Whether `data` meets the schema; if not, the first place it fails and why, in one line.
    fn check(&self, data: &Value) -> Result<(), String> {
        self.schemas.validate(data, self.index).map_err(|e| first_failure(&e))
    }
}

/// The deepest first cause of a validation error: `<what> (at <where>)`, where is a JSON
/// pointer into the value, or `the top` for the value itself.
fn first_failure(error: &boon::ValidationError<'_, '_>) -> String {
    let mut error = error;
    while let Some(cause) = error.causes.first() {
        error = cause;
    }
    let at = error.instance_location.to_string();
    let at = if at.is_empty() { "the top" } else { &at };
    format!("{} (at {at})", error.kind)
}

#[cfg(test)]
mod tests {
    use super::TopicSchema;
    use serde_json::json;

    #[test]
    fn an_event_meets_its_schema_or_is_told_where_and_why_not() {
        let schema = TopicSchema::compile(&json!({
            "type": "object",
            "required": ["version"],
            "properties": { "version": { "type": "string", "pattern": "^[0-9]+\\.[0-9]+$" } }
        }))
        .expect("a schema");
        assert_eq!(schema.check(&json!({ "version": "1.2" })), Ok(()));
        let wrong_type = schema.check(&json!({ "version": 12 })).expect_err("a number");
        assert!(wrong_type.contains("/version"), "{wrong_type}");
        assert!(wrong_type.contains("string"), "{wrong_type}");
        let missing = schema.check(&json!({})).expect_err("no version");
        assert!(missing.contains("'version' (at the top)"), "{missing}");
        let unmatched = schema.check(&json!({ "version": "one" })).expect_err("not the pattern");
        assert!(unmatched.contains("/version"), "{unmatched}");
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused_with_a_reason() {
        let refused = TopicSchema::compile(&json!({ "type": 12 })).err().expect("refused");
        assert!(refused.contains("/type"), "{refused}");
        assert!(TopicSchema::compile(&json!({ "pattern": "(" })).is_err());
        // The drafts' own meta-schemas are known without reaching out.
        let draft7 = json!({ "$schema": "http://json-schema.org/draft-07/schema#", "type": "string" });
        let schema = TopicSchema::compile(&draft7).expect("a draft-07 schema");
        assert!(schema.check(&json!(1)).is_err());
    }

    #[test]
    fn a_ref_outside_the_schema_is_refused_and_never_followed() {
        // Inside the schema: followed.
        let inside = json!({ "$defs": { "n": { "type": "integer" } }, "$ref": "#/$defs/n" });
        let schema = TopicSchema::compile(&inside).expect("a local ref");
        assert!(schema.check(&json!("x")).is_err());
        // Outside it: a file the server could read (a real schema, which a loader that reads
        // files would take), an address it could reach, another name. The loader knows no
        // scheme, so nothing is opened or contacted.
        let file = std::env::temp_dir().join(format!("parley-topic-schema-{}.json", std::process::id()));
        std::fs::write(&file, r#"{ "type": "string" }"#).expect("a schema file");
        let outside = [
            format!("file://{}", file.display()),
            "http://127.0.0.1:9/schema.json".to_owned(),
            "https://example.invalid/schema.json".to_owned(),
            "urn:parley:other".to_owned(),
        ];
        for outside in outside {
            let refused = TopicSchema::compile(&json!({ "$ref": outside }));
            assert!(refused.is_err(), "{outside} was followed");
        }
        std::fs::remove_file(&file).expect("removed");
    }
}
