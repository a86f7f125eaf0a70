//! The page addresses Parley's links carry a secret in (a password reset, an email confirmation), and how a page tells them apart.

/// The query parameter of a password reset link (`/?reset=<secret>`).
pub const RESET: &str = "reset";

/// The query parameter of an email confirmation link (`/?verify-email=<secret>`).
pub const VERIFY_EMAIL: &str = "verify-email";

/// Whether an address's query (with or without its `?`) carries a reset link's or an
/// email confirmation's secret: the front page then opens the chat page, which takes them,
/// instead of the sign-in page alone.
pub fn carries_link_secret(query: &str) -> bool {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .any(|key| key == RESET || key == VERIFY_EMAIL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_or_confirmation_link_is_told_by_its_parameter_name_anywhere_in_the_query() {
        assert!(carries_link_secret("?reset=abc"));
        assert!(carries_link_secret("verify-email=abc"));
        assert!(carries_link_secret("?c=123&reset=abc"));
        assert!(carries_link_secret("?reset"));
        assert!(!carries_link_secret(""));
        assert!(!carries_link_secret("?"));
        assert!(!carries_link_secret("?c=123"));
        assert!(!carries_link_secret("?space=1&invite=reset"));
        assert!(!carries_link_secret("?resetx=1"));
    }
}
