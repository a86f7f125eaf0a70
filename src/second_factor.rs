//! Two-factor sign-in's rules: what a code typed at sign-in is (a 6-digit code from an authenticator app, or a recovery code), and how recovery codes are made and shown.

use serde::{Deserialize, Serialize};

/// What sign-in answers when the password was right but the account wants a second
/// factor: the form then asks for the code (the client compares the error with this).
pub const SECOND_FACTOR_NEEDED: &str = "this account asks for a second factor: sign in with your passkey, or enter the code from your authenticator app or a recovery code";

/// What sign-in answers for a wrong or already used code.
pub const BAD_CODE: &str = "that code is not right, or was used already";

/// How many recovery codes an enrollment gives.
pub const RECOVERY_CODES: usize = 10;

/// The 32 letters of recovery codes: no o, 1, l or i, easy to read back and type.
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz234567890";
const RECOVERY_LEN: usize = 10;

/// A code as typed at sign-in, told apart by its shape (spaces and dashes ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    /// Six digits from the authenticator app.
    Totp(String),
    /// One of the recovery codes, normalized (lowercase, no dash).
    Recovery(String),
}

impl Code {
    pub fn parse(raw: &str) -> Option<Self> {
        let plain: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        if plain.len() == 6 && plain.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Self::Totp(plain));
        }
        (plain.len() == RECOVERY_LEN && plain.bytes().all(|b| ALPHABET.contains(&b))).then_some(Self::Recovery(plain))
    }
}

/// A recovery code from random bytes (32 letters: each byte gives one, without bias), as
/// shown once to its owner: `xxxxx-xxxxx`.
pub fn recovery_code(random: &[u8; RECOVERY_LEN]) -> String {
    let letters: String = random.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    format!("{}-{}", &letters[..5], &letters[5..])
}

/// Whether an account signs in with a second factor, and how many recovery codes are left.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorView {
    /// Whether an authenticator app is set up.
    pub enabled: bool,
    pub recovery_left: u32,
    /// Passkeys registered: each signs in alone, and stands as the second factor of a
    /// password sign-in.
    #[serde(default)]
    pub passkeys: u32,
}

/// What enrolling an authenticator app shows: the secret (to type in by hand), the
/// `otpauth://` link, and that link as a QR code (a PNG, base64).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpSetup {
    pub secret: String,
    pub uri: String,
    pub qr_png_base64: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_told_apart_by_their_shape() {
        assert_eq!(Code::parse(" 123 456 "), Some(Code::Totp("123456".into())));
        assert_eq!(Code::parse("ABCDE-FGH23"), Some(Code::Recovery("abcdefgh23".into())));
        for bad in ["", "12345", "1234567", "abcde-fgh2l", "abcdefghijk", "12345a"] {
            assert_eq!(Code::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn recovery_codes_read_back_as_recovery_codes() {
        let code = recovery_code(&[0, 31, 32, 255, 7, 8, 9, 10, 11, 200]);
        assert_eq!(code.len(), 11);
        assert_eq!(Code::parse(&code), Some(Code::Recovery(code.replace('-', ""))));
        assert_ne!(recovery_code(&[1; 10]), recovery_code(&[2; 10]));
    }
}
