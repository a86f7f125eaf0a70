//! Passkeys' rules and wire shapes: what a passkey is called, how many an account keeps, how big a browser's answer may be, and what the security dialog lists.

use serde::{Deserialize, Serialize};

/// Passkeys one account may register.
pub const MAX_PASSKEYS: usize = 10;

/// The largest answer from a browser's authenticator the server reads (a registration
/// with attestation is a few KB; anything larger is refused unread).
pub const MAX_CREDENTIAL_BYTES: usize = 64 * 1024;

/// How long a begun registration or sign-in can be finished, in seconds.
pub const CEREMONY_SECONDS: i64 = 300;

/// The longest name of a passkey, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// What every failed passkey sign-in answers, whatever failed (unknown key, wrong
/// signature, expired or reused challenge): the refusal teaches nothing.
pub const NOT_ACCEPTED: &str = "that passkey was not accepted; try again, or sign in with your password";

/// A passkey's name as its owner sees it in the list ("Laptop", "Phone"): trimmed, not
/// empty, at most [`MAX_NAME_CHARS`], no control characters. An empty name becomes
/// "Passkey".
pub fn name(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok("Passkey".to_owned());
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a passkey's name is at most {MAX_NAME_CHARS} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("a passkey's name cannot hold control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// One of the account's passkeys, as the security dialog lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// The credential's id (base64url), what removing it names.
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// When it last signed in; never yet: `None`.
    pub last_used_ms: Option<i64>,
}

/// A begun registration or sign-in: the ceremony to name when finishing it, and the
/// options to hand to the browser (`PublicKeyCredential.parse…OptionsFromJSON`), as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    pub options: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(name("  Laptop "), Ok("Laptop".to_owned()));
        assert_eq!(name("   "), Ok("Passkey".to_owned()));
        assert_eq!(name(&"é".repeat(MAX_NAME_CHARS)), Ok("é".repeat(MAX_NAME_CHARS)));
        assert!(name(&"é".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(name("Lap\u{7}top").is_err());
        assert!(name("two\nlines").is_err());
    }
}
