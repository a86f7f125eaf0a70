//! Slash commands typed in the composer: which are built in, what each needs, the help and completion the composer shows, and how a typed line is read into one.

use crate::rules::MessageBody;

/// A built-in command: its name, what follows it, and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandHelp {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
}

/// Every built-in command, in the order the composer lists them.
pub const COMMANDS: [CommandHelp; 7] = [
    CommandHelp {
        name: "me",
        args: "action",
        help: "Says what you are doing, in italics",
    },
    CommandHelp {
        name: "shrug",
        args: "[message]",
        help: "Adds ¯\\_(ツ)_/¯ to your message",
    },
    CommandHelp {
        name: "topic",
        args: "text",
        help: "Sets the channel's topic",
    },
    CommandHelp {
        name: "invite",
        args: "@name",
        help: "Adds someone to this private channel",
    },
    CommandHelp {
        name: "leave",
        args: "",
        help: "Leaves this channel",
    },
    CommandHelp {
        name: "mute",
        args: "",
        help: "Mutes or unmutes this channel",
    },
    CommandHelp {
        name: "help",
        args: "",
        help: "Lists these commands",
    },
];

/// What a typed command asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slash {
    /// One of the space's own commands (an admin registered it; its URL answers), with what
    /// was typed after it.
    Custom {
        name: String,
        text: String,
    },
    /// Post this body instead of what was typed (`/me`, `/shrug`).
    Post(String),
    SetTopic(String),
    Invite(String),
    Leave,
    Mute,
    Help,
}

/// Why a typed command cannot be carried out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SlashError {
    #[error("no command /{0}: type /help for the list")]
    Unknown(String),
    #[error("/{name} needs {args}")]
    Missing { name: &'static str, args: &'static str },
    #[error("/invite takes one @name")]
    BadName,
}

/// Reads a composer's text as a command, the space's own `custom` commands included:
/// `None` when it is a plain message (not starting with `/`, or a path like `/usr/bin`).
/// `//` sends the line with one slash.
pub fn parse(text: &str, custom: &[String]) -> Option<Result<Slash, SlashError>> {
    let line = text.trim_start();
    if let Some(escaped) = line.strip_prefix("//") {
        return Some(Ok(Slash::Post(format!("/{escaped}"))));
    }
    let rest = line.strip_prefix('/')?;
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return None;
    }
    let args = args.trim();
    let Some(command) = COMMANDS.iter().find(|c| c.name == name.to_ascii_lowercase()) else {
        let name = name.to_ascii_lowercase();
        if custom.contains(&name) {
            let text = args.to_owned();
            return Some(Ok(Slash::Custom { name, text }));
        }
        return Some(Err(SlashError::Unknown(name)));
    };
    let missing = || SlashError::Missing {
        name: command.name,
        args: command.args,
    };
    Some(match command.name {
        "me" if args.is_empty() => Err(missing()),
        "me" => Ok(Slash::Post(format!("_{}_", escape(args)))),
        "shrug" if args.is_empty() => Ok(Slash::Post(SHRUG.to_owned())),
        "shrug" => Ok(Slash::Post(format!("{args} {SHRUG}"))),
        "topic" if args.is_empty() => Err(missing()),
        "topic" => Ok(Slash::SetTopic(args.to_owned())),
        "invite" => {
            let name = args.strip_prefix('@').unwrap_or(args);
            let valid = (3..=32).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if args.is_empty() {
                Err(missing())
            } else if valid {
                Ok(Slash::Invite(name.to_ascii_lowercase()))
            } else {
                Err(SlashError::BadName)
            }
        }
        "leave" => Ok(Slash::Leave),
        "mute" => Ok(Slash::Mute),
        _ => Ok(Slash::Help),
    })
}

/// The shrug, with its arm and its underscore escaped so that Markdown shows them.
const SHRUG: &str = "¯\\\\\\_(ツ)\\_/¯";

/// `text` with the characters that would end or nest the italics of `/me` escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '_' | '*' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The most commands of its own one space may have.
pub const MAX_CUSTOM_PER_SPACE: usize = 20;
/// The longest answer a command's URL may give, in bytes (the text is a message's at most).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// A custom command's name as an admin typed it (with or without its slash): 2 to 32
/// lowercase letters, digits, `-` or `_`, starting with a letter, and no built-in's name.
pub fn valid_custom_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_start_matches('/').to_ascii_lowercase();
    let shaped = (2..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    if !shaped {
        return Err("a command's name is 2 to 32 lowercase letters, digits, - or _, starting with a letter".into());
    }
    if COMMANDS.iter().any(|c| c.name == name) {
        return Err(format!("/{name} is a built-in command"));
    }
    Ok(name)
}

/// What a custom command's URL answered, in Slack's shape: `{"text": "…",
/// "response_type": "ephemeral" | "in_channel"}` (ephemeral, the default: only the person
/// who ran it sees it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandAnswer {
    pub text: String,
    /// Posted to the channel (by the command's bot), not shown to its caller only.
    pub in_channel: bool,
}

/// Reads a command's answer; an empty body is a command that says nothing.
pub fn read_answer(bytes: &[u8]) -> Result<Option<CommandAnswer>, String> {
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(default)]
        text: String,
        #[serde(default)]
        response_type: Option<String>,
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if bytes.len() > MAX_ANSWER_BYTES {
        return Err(format!("the command answered more than {MAX_ANSWER_BYTES} bytes"));
    }
    let shape: Shape = serde_json::from_slice(bytes)
        .map_err(|e| format!("the command's answer is not {{\"text\": \"…\"}} JSON: {e}"))?;
    let in_channel = match shape.response_type.as_deref() {
        None | Some("ephemeral") => false,
        Some("in_channel") => true,
        Some(other) => return Err(format!("unknown response_type {other:?}")),
    };
    if shape.text.trim().is_empty() {
        return Ok(None);
    }
    MessageBody::parse(&shape.text).map_err(|e| format!("the command's answer: {e}"))?;
    Ok(Some(CommandAnswer {
        text: shape.text,
        in_channel,
    }))
}

/// A command the composer offers: its name, what follows it, and what it does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Offer {
    pub name: String,
    pub args: &'static str,
    pub help: String,
}

/// The commands the composer offers for what is typed (built-in ones, then the space's
/// own `custom` ones): `/` and the start of a name, before any space. Empty for anything else.
pub fn completions(text: &str, custom: &[String]) -> Vec<Offer> {
    let Some(typed) = text.strip_prefix('/') else {
        return Vec::new();
    };
    if typed.contains(char::is_whitespace)
        || !typed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        return Vec::new();
    }
    let typed = typed.to_ascii_lowercase();
    let built_in = COMMANDS.iter().map(|c| Offer {
        name: c.name.to_owned(),
        args: c.args,
        help: c.help.to_owned(),
    });
    let own = custom.iter().map(|name| Offer {
        name: name.clone(),
        args: "[text]",
        help: "This space's own command".to_owned(),
    });
    built_in.chain(own).filter(|c| c.name.starts_with(&typed)).collect()
}

/// The composer's text once a completion is taken: `/name ` (ready for its arguments).
pub fn complete(offer: &Offer) -> String {
    format!("/{} ", offer.name)
}

/// Whether a body made by a command is one a message may have (checked before sending, so
/// that `/me` with 4,000 characters says why).
pub fn fits(body: &str) -> bool {
    MessageBody::parse(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_builtin(text: &str) -> Option<Result<Slash, SlashError>> {
        parse(text, &[])
    }

    #[test]
    fn a_spaces_own_commands_are_read_and_answered() {
        let custom = vec!["weather".to_owned()];
        assert_eq!(
            parse("/weather  Paris ", &custom),
            Some(Ok(Slash::Custom {
                name: "weather".into(),
                text: "Paris".into()
            }))
        );
        assert_eq!(
            parse("/Weather", &custom),
            Some(Ok(Slash::Custom {
                name: "weather".into(),
                text: String::new()
            }))
        );
        assert_eq!(
            parse("/forecast", &custom),
            Some(Err(SlashError::Unknown("forecast".into())))
        );
        let custom = vec!["deploy-2".to_owned()];
        assert_eq!(
            parse("/deploy-2 now", &custom),
            Some(Ok(Slash::Custom {
                name: "deploy-2".into(),
                text: "now".into()
            }))
        );
        assert_eq!(valid_custom_name("/Deploy"), Ok("deploy".into()));
        assert!(valid_custom_name("me").is_err(), "a built-in");
        assert!(valid_custom_name("9lives").is_err() && valid_custom_name("a").is_err());
        assert!(valid_custom_name("has space").is_err());
        let answer = read_answer(br#"{"text": "sunny", "response_type": "in_channel"}"#);
        assert_eq!(
            answer,
            Ok(Some(CommandAnswer {
                text: "sunny".into(),
                in_channel: true
            }))
        );
        let answer = read_answer(br#"{"text": "only you"}"#);
        assert_eq!(
            answer,
            Ok(Some(CommandAnswer {
                text: "only you".into(),
                in_channel: false
            }))
        );
        assert_eq!(read_answer(b"  "), Ok(None));
        assert_eq!(read_answer(br#"{"text": ""}"#), Ok(None));
        assert!(read_answer(b"<html>").is_err());
        assert!(read_answer(br#"{"text": "x", "response_type": "shout"}"#).is_err());
        assert!(read_answer(format!(r#"{{"text": "{}"}}"#, "x".repeat(5_000)).as_bytes()).is_err());
    }

    #[test]
    fn commands_are_read_with_their_arguments() {
        assert_eq!(parse_builtin("/me waves"), Some(Ok(Slash::Post("_waves_".into()))));
        assert_eq!(
            parse_builtin("/me likes snake_case"),
            Some(Ok(Slash::Post("_likes snake\\_case_".into())))
        );
        assert_eq!(parse_builtin("/shrug"), Some(Ok(Slash::Post(SHRUG.into()))));
        assert_eq!(
            parse_builtin("/shrug no idea"),
            Some(Ok(Slash::Post(format!("no idea {SHRUG}"))))
        );
        assert_eq!(
            parse_builtin("/topic  Q3 planning "),
            Some(Ok(Slash::SetTopic("Q3 planning".into())))
        );
        assert_eq!(parse_builtin("/invite @Bob"), Some(Ok(Slash::Invite("bob".into()))));
        assert_eq!(parse_builtin("/invite bob"), Some(Ok(Slash::Invite("bob".into()))));
        assert_eq!(parse_builtin("/LEAVE"), Some(Ok(Slash::Leave)));
        assert_eq!(parse_builtin("/mute"), Some(Ok(Slash::Mute)));
        assert_eq!(parse_builtin("  /help"), Some(Ok(Slash::Help)));
    }

    #[test]
    fn plain_messages_are_not_commands_and_bad_commands_say_why() {
        for plain in ["hello", "/usr/bin is a path", "/ alone", "see /me"] {
            assert_eq!(parse_builtin(plain), None, "{plain}");
        }
        assert_eq!(
            parse_builtin("//me is how"),
            Some(Ok(Slash::Post("/me is how".into()))),
            "escaped"
        );
        assert_eq!(
            parse_builtin("/frobnicate"),
            Some(Err(SlashError::Unknown("frobnicate".into())))
        );
        assert!(matches!(
            parse_builtin("/me"),
            Some(Err(SlashError::Missing { name: "me", .. }))
        ));
        assert!(matches!(
            parse_builtin("/topic   "),
            Some(Err(SlashError::Missing { name: "topic", .. }))
        ));
        assert_eq!(parse_builtin("/invite @b"), Some(Err(SlashError::BadName)));
        assert_eq!(parse_builtin("/invite two people"), Some(Err(SlashError::BadName)));
    }

    #[test]
    fn the_shrug_shows_whole_once_rendered() {
        let Some(Ok(Slash::Post(body))) = parse_builtin("/shrug") else {
            panic!("a shrug")
        };
        let text = crate::markdown::plain_text(&body);
        assert_eq!(text, "¯\\_(ツ)_/¯");
    }

    #[test]
    fn completion_offers_the_commands_that_start_with_what_is_typed() {
        let custom = vec!["deploy".to_owned(), "me-too".to_owned()];
        let names = |text: &str| {
            completions(text, &custom)
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        };
        let mut all: Vec<String> = COMMANDS.iter().map(|c| c.name.to_owned()).collect();
        all.extend(custom.clone());
        assert_eq!(names("/"), all);
        assert_eq!(names("/m"), ["me", "mute", "me-too"]);
        assert_eq!(names("/To"), ["topic"]);
        assert_eq!(names("/dep"), ["deploy"]);
        assert!(names("/me ").is_empty(), "arguments are being typed");
        assert!(names("hello /m").is_empty());
        assert_eq!(complete(&completions("/to", &[])[0]), "/topic ");
        assert!(fits("_waves_") && !fits(&"x".repeat(5_000)));
    }
}
