//! Authentication at the edges: password hashing (argon2id), session tokens and their
//! cookie, the sign-in rate limit, and the Origin check every browser door makes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as PhcHash};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parley::{Password, PasswordHash};
use sha2::{Digest, Sha256};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "parley_session";
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a new password with argon2id (the crate's defaults: 19 MiB, 2 passes), off the
/// async threads: it takes tens of milliseconds on purpose.
pub async fn hash_password(password: Password) -> Result<PasswordHash, HashError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| PasswordHash(hash.to_string()))
            .map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

/// Checks a password against a stored hash. With no hash (no such user) it checks against a
/// dummy one, so a sign-in takes as long whether the username exists or not.
pub async fn verify_password(stored: Option<PasswordHash>, attempt: String) -> bool {
    let known = stored.is_some();
    let hash = stored.map_or_else(|| dummy_hash().to_owned(), |h| h.0);
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PhcHash::new(&hash) else {
            return false;
        };
        Argon2::default().verify_password(attempt.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(
                b"no such user: this hash only spends the time a real check would",
                &salt,
            )
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// A session's secret, as the cookie carries it: 256 random bits. Never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Takes a token as a client sent it; anything that cannot be one is refused unread.
    pub fn from_client(raw: &str) -> Option<Self> {
        let ok = raw.len() == 43 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores: a stolen copy of the table opens no session.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// A fresh invite code: 12 random letters and digits (71 bits).
pub fn invite_code() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

/// The session token in a request's `Cookie` header, if it holds a well-formed one.
pub fn token_from_headers(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::from_client(value))
}

/// Whether the client reached us over https (directly, or through a proxy that says so):
/// then the cookie is marked `Secure`.
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("https://"));
    forwarded || origin
}

/// The `Set-Cookie` value that stores a session: HttpOnly (no script reads it),
/// SameSite=Lax (other sites' forms and fetches do not carry it), Secure over https.
pub fn session_cookie(token: &SessionToken, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        token.expose(),
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether a browser request comes from a page we trust: our own origin (the `Host` it
/// was sent to) or one of the configured origins. Requests without an `Origin` header are
/// not made by a page on another site (browsers always send it on cross-site POSTs and
/// WebSocket handshakes), unless `Sec-Fetch-Site` says they are.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|site| site != "cross-site");
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.split_once("://"), host) {
        (Some((scheme, authority)), Some(host)) => (scheme == "http" || scheme == "https") && authority == host,
        _ => false,
    }
}

/// Sign-in attempts allowed per username: a burst of 5, then one every 12 seconds.
/// Counting by the name tried (not the address) stops guessing one account's password
/// from many machines; a user locked out waits a minute at most.
pub struct LoginLimiter(DefaultKeyedRateLimiter<String>);

impl LoginLimiter {
    pub const BURST: u32 = 5;

    pub fn new() -> Self {
        let burst = NonZeroU32::new(Self::BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(Duration::from_secs(12))
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(burst);
        Self(RateLimiter::keyed(quota))
    }

    /// Counts one attempt for `username`; false when it is over the limit.
    pub fn check(&self, username: &str) -> bool {
        let key: String = username.trim().to_ascii_lowercase().chars().take(64).collect();
        let allowed = self.0.check_key(&key).is_ok();
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        allowed
    }
}

/// Messages each user may post: a burst, then a steady rate (per second). Keyed by user, so
/// many tabs and bots of one account share it.
pub struct PostLimiter(Option<governor::DefaultKeyedRateLimiter<parley::UserId>>);

impl PostLimiter {
    /// `per_second` 0: no limit (the benchmark's load generators post as few users).
    pub fn new(per_second: u32, burst: u32) -> Self {
        let (Some(rate), Some(burst)) = (NonZeroU32::new(per_second), NonZeroU32::new(burst.max(per_second))) else {
            return Self(None);
        };
        Self(Some(RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))))
    }

    /// Counts one post; false when the user is over the limit.
    pub fn check(&self, user: parley::UserId) -> bool {
        let Some(limiter) = &self.0 else { return true };
        let allowed = limiter.check_key(&user).is_ok();
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        allowed
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn tokens_are_random_hashed_and_checked_on_the_way_in() {
        let (a, b) = (SessionToken::generate(), SessionToken::generate());
        let (Ok(a), Ok(b)) = (a, b) else {
            panic!("no randomness")
        };
        assert_ne!(a, b);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
        assert_eq!(SessionToken::from_client(a.expose()), Some(a.clone()));
        assert_eq!(SessionToken::from_client("short"), None);
        assert_eq!(SessionToken::from_client(&"x;".repeat(22)[..43]), None);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let token = SessionToken::generate().unwrap_or_else(|e| panic!("{e}"));
        let cookie = format!("theme=dark; {SESSION_COOKIE}={}; x=1", token.expose());
        let mut map = HeaderMap::new();
        map.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(token_from_headers(&map), Some(token));
        assert_eq!(
            token_from_headers(&headers(&[("cookie", "parley_session=forged")])),
            None
        );
    }

    #[test]
    fn cookies_are_http_only_and_lax() {
        let token = SessionToken::generate().unwrap_or_else(|e| panic!("{e}"));
        let plain = session_cookie(&token, false);
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax") && !plain.contains("Secure"));
        assert!(session_cookie(&token, true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }

    #[test]
    fn only_our_own_or_configured_origins_pass() {
        let allowed = vec!["http://static.example".to_string()];
        assert!(origin_allowed(
            &headers(&[("host", "chat.example"), ("origin", "http://chat.example")]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[("host", "chat.example"), ("origin", "http://static.example")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "chat.example"), ("origin", "http://evil.example")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("host", "chat.example"), ("origin", "null")]),
            &allowed
        ));
        assert!(
            origin_allowed(&headers(&[("host", "chat.example")]), &allowed),
            "not from a browser"
        );
        assert!(!origin_allowed(
            &headers(&[("host", "chat.example"), ("sec-fetch-site", "cross-site")]),
            &allowed
        ));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_username() {
        let limiter = LoginLimiter::new();
        for _ in 0..LoginLimiter::BURST {
            assert!(limiter.check("Ada"));
        }
        assert!(!limiter.check("ada "), "the same name, however typed");
        assert!(limiter.check("bob"), "others are not affected");
    }

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let password = Password::parse("correct horse").unwrap_or_else(|e| panic!("{e}"));
        let hash = hash_password(password).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), "correct horse".into()).await);
        assert!(!verify_password(Some(hash), "battery staple".into()).await);
        assert!(!verify_password(None, "correct horse".into()).await);
    }
}
