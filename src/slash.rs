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

/// Reads a composer's text as a command: `None` when it is a plain message (not starting
/// with `/`, or a path like `/usr/bin`). `//` sends the line with one slash.
pub fn parse(text: &str) -> Option<Result<Slash, SlashError>> {
    let line = text.trim_start();
    if let Some(escaped) = line.strip_prefix("//") {
        return Some(Ok(Slash::Post(format!("/{escaped}"))));
    }
    let rest = line.strip_prefix('/')?;
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let args = args.trim();
    let Some(command) = COMMANDS.iter().find(|c| c.name == name.to_ascii_lowercase()) else {
        return Some(Err(SlashError::Unknown(name.to_owned())));
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

/// The commands the composer offers for what is typed: `/` and the start of a name, before
/// any space. Empty for anything else.
pub fn completions(text: &str) -> Vec<CommandHelp> {
    let Some(typed) = text.strip_prefix('/') else {
        return Vec::new();
    };
    if typed.contains(char::is_whitespace) || !typed.chars().all(|c| c.is_ascii_alphabetic()) {
        return Vec::new();
    }
    let typed = typed.to_ascii_lowercase();
    COMMANDS
        .iter()
        .filter(|c| c.name.starts_with(&typed))
        .copied()
        .collect()
}

/// The composer's text once a completion is taken: `/name ` (ready for its arguments).
pub fn complete(command: &CommandHelp) -> String {
    format!("/{} ", command.name)
}

/// Whether a body made by a command is one a message may have (checked before sending, so
/// that `/me` with 4,000 characters says why).
pub fn fits(body: &str) -> bool {
    MessageBody::parse(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_read_with_their_arguments() {
        assert_eq!(parse("/me waves"), Some(Ok(Slash::Post("_waves_".into()))));
        assert_eq!(
            parse("/me likes snake_case"),
            Some(Ok(Slash::Post("_likes snake\\_case_".into())))
        );
        assert_eq!(parse("/shrug"), Some(Ok(Slash::Post(SHRUG.into()))));
        assert_eq!(
            parse("/shrug no idea"),
            Some(Ok(Slash::Post(format!("no idea {SHRUG}"))))
        );
        assert_eq!(
            parse("/topic  Q3 planning "),
            Some(Ok(Slash::SetTopic("Q3 planning".into())))
        );
        assert_eq!(parse("/invite @Bob"), Some(Ok(Slash::Invite("bob".into()))));
        assert_eq!(parse("/invite bob"), Some(Ok(Slash::Invite("bob".into()))));
        assert_eq!(parse("/LEAVE"), Some(Ok(Slash::Leave)));
        assert_eq!(parse("/mute"), Some(Ok(Slash::Mute)));
        assert_eq!(parse("  /help"), Some(Ok(Slash::Help)));
    }

    #[test]
    fn plain_messages_are_not_commands_and_bad_commands_say_why() {
        for plain in ["hello", "/usr/bin is a path", "/ alone", "see /me"] {
            assert_eq!(parse(plain), None, "{plain}");
        }
        assert_eq!(
            parse("//me is how"),
            Some(Ok(Slash::Post("/me is how".into()))),
            "escaped"
        );
        assert_eq!(
            parse("/frobnicate"),
            Some(Err(SlashError::Unknown("frobnicate".into())))
        );
        assert!(matches!(
            parse("/me"),
            Some(Err(SlashError::Missing { name: "me", .. }))
        ));
        assert!(matches!(
            parse("/topic   "),
            Some(Err(SlashError::Missing { name: "topic", .. }))
        ));
        assert_eq!(parse("/invite @b"), Some(Err(SlashError::BadName)));
        assert_eq!(parse("/invite two people"), Some(Err(SlashError::BadName)));
    }

    #[test]
    fn the_shrug_shows_whole_once_rendered() {
        let Some(Ok(Slash::Post(body))) = parse("/shrug") else {
            panic!("a shrug")
        };
        let text = crate::markdown::plain_text(&body);
        assert_eq!(text, "¯\\_(ツ)_/¯");
    }

    #[test]
    fn completion_offers_the_commands_that_start_with_what_is_typed() {
        let names = |text: &str| completions(text).iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names("/"), COMMANDS.iter().map(|c| c.name).collect::<Vec<_>>());
        assert_eq!(names("/m"), ["me", "mute"]);
        assert_eq!(names("/To"), ["topic"]);
        assert!(names("/me ").is_empty(), "arguments are being typed");
        assert!(names("hello /m").is_empty());
        assert_eq!(complete(&COMMANDS[2]), "/topic ");
        assert!(fits("_waves_") && !fits(&"x".repeat(5_000)));
    }
}
