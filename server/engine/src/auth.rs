//! Authentication at the edges: password hashing (argon2id), session tokens and their
//! cookie, the sign-in rate limit, and the Origin check every browser door makes.

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash as PhcHash};
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parley::{Password, PasswordHash};
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::OnceLock;
use std::time::Duration;

/// The cookie that carries the session token.
pub const SESSION_COOKIE: &str = "parley_session";
/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The gate refused: too many checks running or waiting.
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Too many password checks are running or waiting: the caller should try again shortly.
#[derive(Debug, thiserror::Error)]
#[error("the server is busy checking passwords; try again in a moment")]
pub struct Busy;

/// Argon2 costs 19 MiB and tens of milliseconds of one core per check, so unbounded
/// concurrent sign-ins are a memory bomb. Checks run on a few threads of their own, one per
/// core (not tokio's blocking pool, which grows to hundreds of threads, each keeping its
/// own allocator arena with 19 MiB in it); a few more per core wait their turn, and the
/// rest are refused at once (429).
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>>,
    waiting: tokio::sync::Semaphore,
}

/// Checks that may wait for a turn, per core.
const WAITING_PER_CORE: usize = 8;

fn pool() -> &'static HashPool {
    static POOL: OnceLock<HashPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..cores {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        HashPool {
            jobs: std::sync::Mutex::new(jobs),
            // Those running count as waiting: a check holds its place until it is done.
            waiting: tokio::sync::Semaphore::new(cores * (WAITING_PER_CORE + 1)),
        }
    })
}

/// Runs one password hash or check when its turn comes, or refuses when the queue is full.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
    let pool = pool();
    let _place = pool.waiting.try_acquire().map_err(|_| Busy)?;
    let (answer, answered) = tokio::sync::oneshot::channel();
    let job: Box<dyn FnOnce() + Send> = Box::new(move || {
        let _ = answer.send(work());
    });
    pool.jobs
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send(job)
        .map_err(|_| Busy)?;
    answered.await.map_err(|_| Busy)
}

/// Hashes a new password with argon2id (the crate's defaults: 19 MiB, 2 passes) on the
/// hashing threads: it takes tens of milliseconds on purpose.
pub async fn hash_password(password: Password) -> Result<PasswordHash, HashError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2id_phc(password.expose().as_bytes(), &salt)
            .map(PasswordHash)
            .map_err(|e| HashError::Failed(e.to_string()))
    })
    .await?
}

/// Checks a password against a stored hash. With no hash (no such user) it checks against a
/// dummy one, so a sign-in takes as long whether the username exists or not.
pub async fn verify_password(stored: Option<PasswordHash>, attempt: String) -> Result<bool, Busy> {
    let known = stored.is_some();
    hashing(move || {
        // Made (once) on a hashing thread, in its kept memory.
        let hash = stored.map_or_else(|| dummy_hash().to_owned(), |h| h.0);
        matches!(verify_phc(&hash, attempt.as_bytes()), Ok(true)) && known
    })
    .await
}

/// The most memory a stored hash may ask for (64 MiB): a hash is ours, but a damaged row
/// must not make a check allocate without bound.
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// Each hashing thread's Argon2 memory, kept between checks: allocating 19 MiB for
    /// every check and freeing it leaves the allocator holding many such blocks.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with `count` blocks of this thread's Argon2 memory.
fn with_blocks<T>(count: usize, f: impl FnOnce(&mut [argon2::Block]) -> T) -> Option<T> {
    if count > MAX_BLOCKS {
        return None;
    }
    BLOCKS.with(|blocks| {
        let mut blocks = blocks.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, argon2::Block::default());
        }
        blocks.get_mut(..count).map(f)
    })
}

/// An argon2id hash of `password` in PHC string form, as `Argon2::hash_password` makes it,
/// but in this thread's kept memory.
fn argon2id_phc(password: &[u8], salt: &SaltString) -> argon2::password_hash::Result<String> {
    use argon2::password_hash::{Output, ParamsString};
    let argon = Argon2::default();
    let params = argon.params().clone();
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let length = params.output_len().unwrap_or(argon2::Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(length, |out| {
        with_blocks(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(password, salt_bytes, out, blocks)
        })
        .ok_or(argon2::password_hash::Error::ParamValueInvalid(
            argon2::password_hash::errors::InvalidValue::TooLong,
        ))?
        .map_err(Into::into)
    })?;
    let hash = PhcHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `attempt` matches a stored PHC string, in this thread's kept memory. The
/// comparison of outputs takes the same time wherever they differ.
fn verify_phc(stored: &str, attempt: &[u8]) -> argon2::password_hash::Result<bool> {
    use argon2::password_hash::{Error, Output};
    let parsed = PhcHash::new(stored)?;
    let algorithm = argon2::Algorithm::try_from(parsed.algorithm)?;
    let version = match parsed.version {
        Some(v) => argon2::Version::try_from(v)?,
        None => argon2::Version::default(),
    };
    let params = argon2::Params::try_from(&parsed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        with_blocks(params.block_count(), |blocks| {
            argon.hash_password_into_with_memory(attempt, salt_bytes, out, blocks)
        })
        .ok_or(Error::ParamValueInvalid(
            argon2::password_hash::errors::InvalidValue::TooLong,
        ))?
        .map_err(Into::into)
    })?;
    Ok(computed == expected)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2id_phc(
            b"no such user: this hash only spends the time a real check would",
            &salt,
        )
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

/// A session's public id, from the hash of its token as the sessions table stores it:
/// what a `SessionsEnded` event names. The log never holds what a session opens with.
pub fn session_id(token_hash: &str) -> String {
    let digest = Sha256::digest(format!("parley-session-id:{token_hash}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// What the `erased_accounts` table keeps of a deleted account's username: enough to know
/// an actor's or a stream's name as erased, not to read it back from the table.
pub fn erased_name_hash(username: &str) -> String {
    let digest = Sha256::digest(format!("parley-erased:{username}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
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

/// The `name=value` pairs of a request's `Cookie` headers.
fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

/// The session token in a request's `Cookie` header, if it holds a well-formed one.
pub fn token_from_headers(headers: &HeaderMap) -> Option<SessionToken> {
    cookies(headers)
        .find(|(name, _)| *name == SECURE_SESSION_COOKIE || *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::from_client(value))
}

/// The session cookie's name behind HTTPS: `__Host-` makes the browser refuse it unless it
/// is `Secure`, for this host only (no `Domain`) and for every path, so a sibling
/// subdomain or a plain-http page cannot plant or shadow it (session fixation).
pub const SECURE_SESSION_COOKIE: &str = "__Host-parley_session";

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
    if secure {
        format!(
            "{SECURE_SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}; Secure",
            token.expose(),
            SESSION_TTL.as_secs(),
        )
    } else {
        // Plain http (a machine of one's own, or tests): browsers refuse `__Host-` there.
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
            token.expose(),
            SESSION_TTL.as_secs(),
        )
    }
}

/// A cookie with the session cookie's attributes and no secret in it: a page asks for it,
/// then asks whether it came back. It does not when the page is on another site than the
/// server (a client-only build hosted elsewhere), where no sign-in could last either.
pub const PROBE_COOKIE: &str = "parley_probe";

/// The `Set-Cookie` value of the [`PROBE_COOKIE`] (an hour, then gone).
pub fn probe_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{PROBE_COOKIE}=1; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600{secure}")
}

/// Whether the request carried the [`PROBE_COOKIE`].
pub fn has_probe_cookie(headers: &HeaderMap) -> bool {
    cookies(headers).any(|(name, value)| name == PROBE_COOKIE && value == "1")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    if secure {
        format!("{SECURE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure")
    } else {
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    }
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

/// Whether a secret given by a client equals the expected one, in a time that does not
/// depend on where they differ (both are hashed first, so lengths tell nothing either).
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The header through which the edge tells the engine the client's address. Whatever a
/// client sends under this name is replaced (see `startup::client_address`).
pub const CLIENT_IP_HEADER: &str = "x-parley-client-ip";

/// The client's address, as the edge recorded it.
pub fn client_ip(headers: &HeaderMap) -> Option<IpAddr> {
    headers.get(CLIENT_IP_HEADER)?.to_str().ok()?.parse().ok()
}

/// Who is knocking: the address the edge saw, and the browser's user agent (cut to
/// [`Client::MAX_USER_AGENT`] characters), for the sign-in limits and the sessions list.
#[derive(Clone, Debug, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: String,
}

impl Client {
    /// The longest user agent kept; a client may send kilobytes, a list needs a line.
    pub const MAX_USER_AGENT: usize = 256;

    pub fn from_headers(headers: &HeaderMap) -> Self {
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Self {
            ip: client_ip(headers),
            user_agent: user_agent.chars().take(Self::MAX_USER_AGENT).collect(),
        }
    }
}

/// A session's browser and system as a person names them ("Firefox on Windows 10"), read
/// from its user agent by woothee's rules; "Unknown device" when they say nothing known.
pub fn describe_device(user_agent: &str) -> String {
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    let Some(found) = woothee::parser::Parser::new().parse(user_agent) else {
        return "Unknown device".to_owned();
    };
    let browser = known(found.name).then_some(found.name);
    let os = known(found.os).then_some(found.os);
    match (browser, os) {
        (Some(browser), Some(os)) => format!("{browser} on {os}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => "Unknown device".to_owned(),
    }
}

/// The part of an address one client controls: the address for IPv4, the /64 for IPv6
/// (one host usually holds a whole /64, so counting single IPv6 addresses counts nothing).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Seconds until a limiter lets one more through.
fn wait_secs(not_until: &governor::NotUntil<governor::clock::QuantaInstant>) -> u64 {
    let clock = governor::clock::DefaultClock::default();
    not_until.wait_time_from(governor::clock::Clock::now(&clock)).as_secs() + 1
}

/// A burst of `burst`, then one every `every` (a rate of 0: no limit).
fn quota(burst: u32, every: Duration) -> Option<Quota> {
    let burst = NonZeroU32::new(burst)?;
    Some(Quota::with_period(every)?.allow_burst(burst))
}

/// Sign-in and sign-up attempts, by who tries and what they try.
///
/// - Per username **and** client address: 5 attempts, then one every 12 s. Guessing one
///   account's password from one machine is slow, yet an attacker elsewhere cannot lock
///   the owner out: the owner's own address has its own count.
/// - Per client address, whatever the names: 30 sign-ins then one every 2 s; 5 sign-ups
///   then one a minute. This slows guessing many accounts, and finding which usernames
///   exist ("taken") by signing up, from one machine.
///
/// Many machines together get the sum of their rates: Argon2's cost and the global cap
/// on concurrent checks bound what they can take from the server.
pub struct LoginLimiter {
    per_name: Option<DefaultKeyedRateLimiter<(String, Option<IpAddr>)>>,
    sign_ins: Option<DefaultKeyedRateLimiter<Option<IpAddr>>>,
    sign_ups: Option<DefaultKeyedRateLimiter<Option<IpAddr>>>,
}

impl LoginLimiter {
    pub const BURST: u32 = 5;

    /// The limits above; `per_address` false leaves out the per-address ones (tests sign
    /// up hundreds of users from one address).
    pub fn new(per_address: bool) -> Self {
        Self {
            per_name: quota(Self::BURST, Duration::from_secs(12)).map(RateLimiter::keyed),
            sign_ins: quota(30, Duration::from_secs(2))
                .filter(|_| per_address)
                .map(RateLimiter::keyed),
            sign_ups: quota(5, Duration::from_secs(60))
                .filter(|_| per_address)
                .map(RateLimiter::keyed),
        }
    }

    /// Counts one sign-in attempt at `username` from `client`; `Err(seconds to wait)`
    /// when over a limit.
    pub fn sign_in(&self, username: &str, client: Option<IpAddr>) -> Result<(), u64> {
        let client = client.map(client_key);
        if let Some(limiter) = &self.sign_ins {
            limiter.check_key(&client).map_err(|e| wait_secs(&e))?;
            tidy(limiter);
        }
        let Some(limiter) = &self.per_name else { return Ok(()) };
        let name: String = username.trim().to_ascii_lowercase().chars().take(64).collect();
        let allowed = limiter.check_key(&(name, client)).map_err(|e| wait_secs(&e));
        tidy(limiter);
        allowed
    }

    /// Counts one sign-in attempt from `client` whose account is not known yet (a
    /// passkey sign-in begins before the browser says whose passkey answers).
    pub fn any_sign_in(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let Some(limiter) = &self.sign_ins else { return Ok(()) };
        let allowed = limiter.check_key(&client.map(client_key)).map_err(|e| wait_secs(&e));
        tidy(limiter);
        allowed
    }

    /// Counts one sign-up (or another question that tells whether a name exists) from `client`.
    pub fn sign_up(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let Some(limiter) = &self.sign_ups else { return Ok(()) };
        let allowed = limiter.check_key(&client.map(client_key)).map_err(|e| wait_secs(&e));
        tidy(limiter);
        allowed
    }
}

/// Forgets keys whose limits are back to full, once there are many.
fn tidy<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>) {
    if limiter.len() > 100_000 {
        limiter.retain_recent();
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
        Self::new(true)
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
    fn a_session_is_named_by_its_browser_and_system_and_its_user_agent_is_bounded() {
        let chromium =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe_device(chromium), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(iphone), "Safari on iPhone");
        assert_eq!(describe_device(""), "Unknown device");
        assert_eq!(describe_device("curl/8.5.0"), "HTTP Library");
        assert_eq!(describe_device("made up 1.0"), "Unknown device");
        let long: &'static str = Box::leak("x".repeat(5_000).into_boxed_str());
        let client = Client::from_headers(&headers(&[("user-agent", long)]));
        assert_eq!(client.user_agent.len(), Client::MAX_USER_AGENT);
        assert_eq!(Client::from_headers(&HeaderMap::new()).user_agent, "");
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
        let secure = session_cookie(&token, true);
        assert!(secure.ends_with("; Secure"));
        // Behind HTTPS the `__Host-` prefix: Secure, Path=/ and no Domain, as it requires.
        assert!(secure.starts_with("__Host-parley_session="), "{secure}");
        assert!(secure.contains("Path=/") && !secure.contains("Domain"));
        assert!(clear_cookie(true).starts_with("__Host-parley_session=;"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        // And it is read back.
        let mut sent = HeaderMap::new();
        let cookie = format!("__Host-parley_session={}", token.expose());
        sent.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(token_from_headers(&sent), Some(token));
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
    fn sign_in_attempts_are_limited_per_username_and_address() {
        let limiter = LoginLimiter::new(true);
        let (here, there) = (Some("203.0.113.1".parse().unwrap_or(IpAddr::from([0; 4]))), None);
        for _ in 0..LoginLimiter::BURST {
            assert!(limiter.sign_in("Ada", here).is_ok());
        }
        let wait = limiter.sign_in("ada ", here);
        assert!(
            matches!(wait, Err(secs) if (1..=13).contains(&secs)),
            "the same name, however typed: {wait:?}"
        );
        assert!(
            limiter.sign_in("ada", there).is_ok(),
            "the owner elsewhere is not locked out"
        );
        assert!(limiter.sign_in("bob", here).is_ok(), "others are not affected");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let key = |s: &str| client_key(s.parse().unwrap_or(IpAddr::from([0; 4])));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:203.0.113.5"), key("203.0.113.5"));
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("token", "token"));
        assert!(!same_secret("token", "tokem"));
        assert!(!same_secret("", "token"));
    }

    #[tokio::test]
    async fn passwords_verify_against_their_hash_only() {
        let password = Password::parse("correct horse").unwrap_or_else(|e| panic!("{e}"));
        let hash = hash_password(password).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(matches!(
            verify_password(Some(hash.clone()), "correct horse".into()).await,
            Ok(true)
        ));
        assert!(matches!(
            verify_password(Some(hash), "battery staple".into()).await,
            Ok(false)
        ));
        assert!(matches!(verify_password(None, "correct horse".into()).await, Ok(false)));
    }
}
