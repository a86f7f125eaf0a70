//! An example Parley bot, through the public REST API and the socket only: it answers `!ping` and `!echo words` in every channel it can read, and reposts the events of a space's topics (by pattern) into a channel, from where it left off.
//!
//! Make a bot in the app (a space's ⋯ → Bots and integrations → Add bot), then:
//!
//! ```text
//! PARLEY_URL=http://127.0.0.1:3000 PARLEY_TOKEN=pt_… \
//! PARLEY_TOPICS='deploy.*' PARLEY_TOPICS_CHANNEL=<channel id> PARLEY_STATE=bot.state \
//! cargo run -p parley-echo-bot
//! ```
//!
//! Every answer and repost carries an id of the bot's own, derived from what it answers
//! (a message's id, a topic event's id): sent twice, it is stored once. The last topic
//! position reposted is kept in `PARLEY_STATE`, so a restart goes on with no gap.

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use parley::protocol::{ClientFrame, ServerFrame};
use parley::{ChannelId, Event, MessageId, Position, SpaceId};
use serde_json::Value;
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Where the bot connects, as whom, and what it reposts.
#[derive(Clone, Debug)]
pub struct Config {
    /// The server's address: `http://127.0.0.1:3000`.
    pub base: String,
    /// The bot's API token.
    pub token: String,
    /// Repost the events of the topics matching a pattern into a channel.
    pub repost: Option<Repost>,
    /// Where the last topic position reposted is kept (none: from the topics' start each
    /// time; each event is still stored once).
    pub state: Option<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct Repost {
    /// `deploy.*`; `*` for every topic of the channel's space.
    pub pattern: String,
    pub channel: ChannelId,
}

impl Config {
    /// From `PARLEY_URL`, `PARLEY_TOKEN`, `PARLEY_TOPICS` with `PARLEY_TOPICS_CHANNEL`, and
    /// `PARLEY_STATE`.
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let token = var("PARLEY_TOKEN").context("PARLEY_TOKEN is missing: make a bot in the app and give its token")?;
        let repost = match (var("PARLEY_TOPICS"), var("PARLEY_TOPICS_CHANNEL")) {
            (Some(pattern), Some(channel)) => Some(Repost {
                pattern,
                channel: channel
                    .trim()
                    .parse()
                    .context("PARLEY_TOPICS_CHANNEL is a channel's id (a UUID)")?,
            }),
            (None, None) => None,
            _ => bail!("PARLEY_TOPICS and PARLEY_TOPICS_CHANNEL go together"),
        };
        Ok(Self {
            base: var("PARLEY_URL").unwrap_or_else(|| "http://127.0.0.1:3000".into()),
            token,
            repost,
            state: var("PARLEY_STATE").map(PathBuf::from),
        })
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base.trim_end_matches('/'))
    }
}

/// What the bot says to a message, if anything.
pub fn answer_to(body: &str) -> Option<String> {
    let text = body.trim();
    if text == "!ping" {
        return Some("pong".into());
    }
    let words = text.strip_prefix("!echo ")?.trim();
    // Never a command of its own: two bots echoing each other stop here.
    (!words.is_empty() && !words.starts_with('!')).then(|| words.to_owned())
}

/// The id of the bot's answer to the message `answered`: the same every time.
fn answer_id(answered: MessageId) -> MessageId {
    MessageId(uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, answered.0.as_bytes()))
}

/// Connects, subscribes, and answers until the socket closes or an error; `ready` is
/// called once every subscription has caught up.
pub async fn run(config: Config, ready: impl FnOnce()) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let get = |path: String| {
        let request = http.get(config.api(&path)).bearer_auth(&config.token);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let answer: Value = response.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!("GET {path}: {status} {}", answer["error"]["message"]);
            }
            Ok(answer)
        }
    };
    let channels = get("/channels".into()).await?;
    let channels = channels.as_array().context("the channel list is not a list")?;

    let url = format!("{}/ws", config.base.trim_end_matches('/').replacen("http", "ws", 1));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", config.token).parse()?);
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("opening the socket")?;
    let (mut sink, mut stream) = socket.split();
    let mut send = async |frame: ClientFrame| sink.send(Message::text(frame.to_json())).await;

    // Each channel from its newest message on: what was said before the bot came is not answered.
    let mut waiting: HashSet<String> = HashSet::new();
    for channel in channels {
        let Some(id) = channel["channel_id"].as_str() else {
            continue;
        };
        let newest = get(format!("/channels/{id}/messages?limit=1")).await?;
        let after = newest[0]["position"].as_u64().unwrap_or(0);
        send(ClientFrame::Subscribe {
            channel: id.parse()?,
            after: Position(after),
            id: 0,
        })
        .await?;
        waiting.insert(id.to_owned());
    }
    if let Some(repost) = &config.repost {
        let space: SpaceId = channels
            .iter()
            .find(|c| c["channel_id"].as_str() == Some(&repost.channel.to_string()))
            .and_then(|c| c["space_id"].as_str())
            .context("the channel to repost into is not one of the bot's space")?
            .parse()?;
        let after = match &config.state {
            Some(path) => std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0),
            None => 0,
        };
        send(ClientFrame::SubscribeTopics {
            space,
            pattern: repost.pattern.clone(),
            after: Position(after),
        })
        .await?;
        waiting.insert(format!("topics {}", repost.pattern));
    }
    let mut ready = Some(ready);
    if waiting.is_empty()
        && let Some(ready) = ready.take()
    {
        ready();
    }

    // Reposts sent and not yet stored, in order: the state moves as each is.
    let mut reposts: VecDeque<(MessageId, Position)> = VecDeque::new();
    while let Some(message) = stream.next().await {
        let Message::Text(text) = message? else { continue };
        let frame = ServerFrame::parse(&text)?;
        match frame {
            ServerFrame::CaughtUp { channel, .. } => {
                waiting.remove(&channel.to_string());
            }
            ServerFrame::TopicsCaughtUp { pattern, .. } => {
                waiting.remove(&format!("topics {pattern}"));
            }
            ServerFrame::Event { channel, event } => {
                if let Event::MessagePosted {
                    message_id,
                    body,
                    reply_to,
                    ..
                } = event.event
                    && let Some(answer) = answer_to(&body.to_string())
                {
                    send(ClientFrame::Post {
                        channel,
                        message_id: answer_id(message_id),
                        body: answer,
                        reply_to,
                        also_in_channel: false,
                        attachments: Vec::new(),
                    })
                    .await?;
                }
            }
            ServerFrame::TopicEvent { event, .. } => {
                let (Some(repost), Event::TopicPublished { topic, data, .. }) = (&config.repost, &event.event) else {
                    continue;
                };
                // The topic event's own id: reposted twice, stored once.
                let message_id = MessageId(event.event_id.0);
                send(ClientFrame::Post {
                    channel: repost.channel,
                    message_id,
                    body: format!("**{topic}** `{data}`"),
                    reply_to: None,
                    also_in_channel: false,
                    attachments: Vec::new(),
                })
                .await?;
                reposts.push_back((message_id, event.position));
            }
            ServerFrame::Ack { message_id, .. } => {
                if reposts.front().is_some_and(|(id, _)| *id == message_id)
                    && let Some((_, position)) = reposts.pop_front()
                    && let Some(path) = &config.state
                {
                    std::fs::write(path, position.0.to_string()).context("keeping the topic position")?;
                }
            }
            ServerFrame::Rejected { error, .. } => eprintln!("echo-bot: a post was refused: {error}"),
            ServerFrame::Refused { channel, error } => bail!("channel {channel}: {error}"),
            ServerFrame::TopicsRefused { pattern, error, .. } => bail!("topics {pattern}: {error}"),
            ServerFrame::Error { error } => eprintln!("echo-bot: {error}"),
            _ => {}
        }
        if waiting.is_empty()
            && let Some(ready) = ready.take()
        {
            ready();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_answers_its_commands_and_nothing_else() {
        assert_eq!(answer_to(" !ping "), Some("pong".into()));
        assert_eq!(answer_to("!echo hello there"), Some("hello there".into()));
        assert_eq!(answer_to("!echo !ping"), None, "never a command");
        assert_eq!(answer_to("!echo "), None);
        assert_eq!(answer_to("ping"), None);
        assert_eq!(answer_to("!pingpong"), None);
    }

    #[test]
    fn an_answer_has_the_same_id_every_time() {
        let asked = MessageId::new();
        assert_eq!(answer_id(asked), answer_id(asked));
        assert_ne!(answer_id(asked), answer_id(MessageId::new()));
    }
}
