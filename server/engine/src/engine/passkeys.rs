//! Passkeys (WebAuthn, by `webauthn-rs`): registering one from the security dialog, signing in with one alone (the browser offers the account's passkey; no username typed), and passkeys standing as the second factor of a password sign-in. Each ceremony's state waits in the database, so any node finishes what another began.

use super::{Engine, EngineError, Session};
use crate::auth::{Client, SessionToken};
use crate::log::store::now_ms;
use parley::Username;
use parley::api::Me;
use parley::passkey::{self, CEREMONY_SECONDS, MAX_CREDENTIAL_BYTES, MAX_PASSKEYS, PasskeyChallenge, PasskeyView};
use serde::Serialize;
use serde::de::DeserializeOwned;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// Ceremonies waiting to be finished, on all nodes together: beyond this, new ones are
/// refused until some finish or expire (each row is a few hundred bytes).
const MAX_OPEN_CEREMONIES: i64 = 10_000;

/// Whom passkeys are made for (the relying party): the site's name in the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingParty {
    pub id: String,
    pub origin: String,
    /// Whether the origin's port may be any (a server on `localhost` during development).
    pub any_port: bool,
}

impl RelyingParty {
    /// From the site's public address (PARLEY_PUBLIC_URL): its host name. Browsers make
    /// passkeys only for a name, never for an IP address; without a name, passkeys work
    /// on `localhost` (any port), where browsers allow them without HTTPS.
    pub fn for_site(public_url: Option<&str>) -> Self {
        let named = public_url
            .and_then(|raw| Url::parse(raw).ok())
            .and_then(|url| Some((url.domain()?.to_owned(), url.origin().ascii_serialization())));
        match named {
            Some((id, origin)) => Self {
                id,
                origin,
                any_port: false,
            },
            None => Self {
                id: "localhost".to_owned(),
                origin: "http://localhost".to_owned(),
                any_port: true,
            },
        }
    }

    fn build(&self) -> Result<Webauthn, EngineError> {
        let origin = Url::parse(&self.origin).map_err(|e| EngineError::Internal(format!("passkey origin: {e}")))?;
        WebauthnBuilder::new(&self.id, &origin)
            .map(|b| b.rp_name("Parley").allow_any_port(self.any_port))
            .and_then(WebauthnBuilder::build)
            .map_err(|e| EngineError::Internal(format!("passkeys: {e}")))
    }
}

fn not_accepted() -> EngineError {
    EngineError::BadRequest(passkey::NOT_ACCEPTED.into())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, EngineError> {
    serde_json::to_string(value).map_err(|e| EngineError::Internal(e.to_string()))
}

fn from_stored<T: DeserializeOwned>(raw: &str) -> Result<T, EngineError> {
    serde_json::from_str(raw).map_err(|e| EngineError::Internal(format!("stored passkey state: {e}")))
}

/// A browser's answer, read only when small enough.
fn from_browser<T: DeserializeOwned>(raw: &str) -> Result<T, EngineError> {
    if raw.len() > MAX_CREDENTIAL_BYTES {
        return Err(not_accepted());
    }
    serde_json::from_str(raw).map_err(|_| not_accepted())
}

/// A credential's id as browsers spell it (base64url, no padding).
fn credential_id(raw: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The account's WebAuthn user handle: its user id (random, and naming no one).
fn handle(me: &Me) -> Result<Uuid, EngineError> {
    Uuid::parse_str(&me.user_id.to_string()).map_err(|e| EngineError::Internal(e.to_string()))
}

fn random_id() -> Result<String, EngineError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Registration options that ask for a discoverable credential (a passkey the browser can
/// offer with no username typed): `webauthn-rs`'s passkey registration leaves that to the
/// authenticator, and the server's check of the answer does not depend on it.
fn discoverable(options: &mut serde_json::Value) {
    if let Some(selection) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(serde_json::Value::as_object_mut)
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
}

impl Engine {
    /// Sets whom passkeys are made for (from the site's public address).
    pub fn set_passkey_site(&self, party: &RelyingParty) -> anyhow::Result<()> {
        let webauthn = party.build().map_err(|e| anyhow::anyhow!("{e}"))?;
        let _ = self.webauthn.set(webauthn);
        Ok(())
    }

    fn webauthn(&self) -> Result<&Webauthn, EngineError> {
        if let Some(webauthn) = self.webauthn.get() {
            return Ok(webauthn);
        }
        let webauthn = RelyingParty::for_site(None).build()?;
        Ok(self.webauthn.get_or_init(|| webauthn))
    }

    /// Keeps a ceremony's state for [`CEREMONY_SECONDS`]; expired ones go first, and
    /// beyond [`MAX_OPEN_CEREMONIES`] open at once new ones are refused.
    async fn keep_ceremony(&self, user: Option<&Me>, state: String) -> Result<String, EngineError> {
        let now = now_ms();
        sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at_ms <= $1")
            .bind(now)
            .execute(self.store.pool())
            .await?;
        let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkey_ceremonies")
            .fetch_one(self.store.pool())
            .await?;
        if open >= MAX_OPEN_CEREMONIES {
            return Err(EngineError::TooManyAttempts(CEREMONY_SECONDS as u64 / 5));
        }
        let id = random_id()?;
        sqlx::query("INSERT INTO passkey_ceremonies (id, user_id, state, expires_at_ms) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(user.map(|me| me.user_id.to_string()))
            .bind(state)
            .bind(now + CEREMONY_SECONDS * 1000)
            .execute(self.store.pool())
            .await?;
        Ok(id)
    }

    /// Takes a ceremony's state out (it works once): `None` when unknown, expired, or
    /// begun by another account.
    async fn take_ceremony(&self, id: &str, user: Option<&Me>) -> Result<Option<String>, EngineError> {
        if id.len() != 32 {
            return Ok(None);
        }
        let row: Option<(Option<String>, String)> = sqlx::query_as(
            "DELETE FROM passkey_ceremonies WHERE id = $1 AND expires_at_ms > $2 RETURNING user_id, state",
        )
        .bind(id)
        .bind(now_ms())
        .fetch_optional(self.store.pool())
        .await?;
        Ok(row.and_then(|(owner, state)| (owner == user.map(|me| me.user_id.to_string())).then_some(state)))
    }

    /// The account's passkeys, the newest first.
    pub async fn passkeys(&self, me: &Me) -> Result<Vec<PasskeyView>, EngineError> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT credential_id, name, created_at_ms, last_used_ms FROM passkeys
             WHERE user_id = $1 ORDER BY created_at_ms DESC",
        )
        .bind(me.user_id.to_string())
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, created_ms, last_used_ms)| PasskeyView {
                id,
                name,
                created_ms,
                last_used_ms,
            })
            .collect())
    }

    pub(crate) async fn has_passkeys(&self, me: &Me) -> Result<bool, EngineError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
            .bind(me.user_id.to_string())
            .fetch_one(self.store.pool())
            .await?;
        Ok(count > 0)
    }

    async fn stored_passkeys(&self, me: &Me) -> Result<Vec<Passkey>, EngineError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT passkey FROM passkeys WHERE user_id = $1")
            .bind(me.user_id.to_string())
            .fetch_all(self.store.pool())
            .await?;
        rows.iter().map(|raw| from_stored(raw)).collect()
    }

    /// Starts registering a passkey, given the password (a stolen session cannot add a
    /// way in); at most [`MAX_PASSKEYS`], never one the account has already.
    pub async fn begin_passkey(
        &self,
        session: &Session,
        password: &str,
        client: &Client,
    ) -> Result<PasskeyChallenge, EngineError> {
        let me = &session.me;
        self.spend(me, super::budget::Write::SecondFactor).await?;
        self.check_own_password(me, password, "password", client).await?;
        let existing = self.stored_passkeys(me).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(EngineError::BadRequest(format!(
                "an account keeps at most {MAX_PASSKEYS} passkeys; remove one first"
            )));
        }
        let exclude = existing.iter().map(|key| key.cred_id().clone()).collect();
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(handle(me)?, &me.username, &me.username, Some(exclude))
            .map_err(|e| EngineError::Internal(format!("passkey registration: {e}")))?;
        let mut options = serde_json::to_value(options).map_err(|e| EngineError::Internal(e.to_string()))?;
        discoverable(&mut options);
        let ceremony = self.keep_ceremony(Some(me), to_json(&state)?).await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: options.to_string(),
        })
    }

    /// Finishes registering: checks the browser's answer against the begun ceremony and
    /// keeps the passkey under `name`. From now on a password sign-in asks for it (or for
    /// the authenticator app's code, if one is set up too).
    pub async fn finish_passkey(
        &self,
        session: &Session,
        ceremony: &str,
        name: &str,
        credential: &str,
    ) -> Result<PasskeyView, EngineError> {
        let me = &session.me;
        let name = passkey::name(name).map_err(EngineError::BadRequest)?;
        let refused = || EngineError::BadRequest("the passkey was not registered; try again".into());
        let answer: RegisterPublicKeyCredential = from_browser(credential).map_err(|_| refused())?;
        let state: PasskeyRegistration = match self.take_ceremony(ceremony, Some(me)).await? {
            Some(raw) => from_stored(&raw)?,
            None => return Err(refused()),
        };
        let key = self
            .webauthn()?
            .finish_passkey_registration(&answer, &state)
            .map_err(|_| refused())?;
        let id = credential_id(key.cred_id().as_slice());
        let now = now_ms();
        let stored = sqlx::query(
            "INSERT INTO passkeys (credential_id, user_id, username, name, passkey, created_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING",
        )
        .bind(&id)
        .bind(me.user_id.to_string())
        .bind(&me.username)
        .bind(&name)
        .bind(to_json(&key)?)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        if stored.rows_affected() != 1 {
            return Err(EngineError::BadRequest("this passkey is registered already".into()));
        }
        Ok(PasskeyView {
            id,
            name,
            created_ms: now,
            last_used_ms: None,
        })
    }

    /// Removes one of the account's passkeys, given the password.
    pub async fn remove_passkey(
        &self,
        session: &Session,
        id: &str,
        password: &str,
        client: &Client,
    ) -> Result<(), EngineError> {
        let me = &session.me;
        self.check_own_password(me, password, "password", client).await?;
        let removed = sqlx::query("DELETE FROM passkeys WHERE credential_id = $1 AND user_id = $2")
            .bind(id)
            .bind(me.user_id.to_string())
            .execute(self.store.pool())
            .await?;
        if removed.rows_affected() != 1 {
            return Err(EngineError::BadRequest("no such passkey".into()));
        }
        Ok(())
    }

    /// Starts a sign-in with a passkey: a challenge any of this site's passkeys can
    /// answer (the browser offers the ones it has). Counted per client address like
    /// password sign-ins.
    pub async fn begin_passkey_sign_in(&self, client: &Client) -> Result<PasskeyChallenge, EngineError> {
        self.logins()
            .any_sign_in(client.ip)
            .map_err(EngineError::TooManyAttempts)?;
        let (options, state) = self
            .webauthn()?
            .start_discoverable_authentication()
            .map_err(|e| EngineError::Internal(format!("passkey sign-in: {e}")))?;
        let mut options = serde_json::to_value(options).map_err(|e| EngineError::Internal(e.to_string()))?;
        // Asked for by a button, not offered in the username field's autofill.
        if let Some(options) = options.as_object_mut() {
            options.remove("mediation");
        }
        let ceremony = self.keep_ceremony(None, to_json(&state)?).await?;
        Ok(PasskeyChallenge {
            ceremony,
            options: options.to_string(),
        })
    }

    /// Finishes a passkey sign-in: the answer must come from a passkey of a live,
    /// enabled account, signed over this ceremony's challenge with the user verified
    /// (a PIN or a fingerprint: two factors in one). Opens a session. Not counted against
    /// the account's sign-in limit: a signature cannot be guessed, and counting would let
    /// anyone lock the owner out; the begin is counted per client address.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        credential: &str,
        client: &Client,
    ) -> Result<(Me, SessionToken), EngineError> {
        let answer: PublicKeyCredential = from_browser(credential)?;
        let state: DiscoverableAuthentication = match self.take_ceremony(ceremony, None).await? {
            Some(raw) => from_stored(&raw)?,
            None => return Err(not_accepted()),
        };
        let webauthn = self.webauthn()?;
        let (user, raw_id) = webauthn
            .identify_discoverable_authentication(&answer)
            .map_err(|_| not_accepted())?;
        let id = credential_id(raw_id);
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT user_id, username, passkey FROM passkeys WHERE credential_id = $1")
                .bind(&id)
                .fetch_optional(self.store.pool())
                .await?;
        let Some((user_id, username, stored)) = row else {
            return Err(not_accepted());
        };
        if user.to_string() != user_id {
            return Err(not_accepted());
        }
        let mut key: Passkey = from_stored(&stored)?;
        let result = webauthn
            .finish_discoverable_authentication(&answer, state, &[DiscoverableKey::from(&key)])
            .map_err(|_| not_accepted())?;
        let name = Username::parse(&username)?;
        let account = self.account(&self.synced().await?, &name).await?;
        if account.disabled {
            return Err(EngineError::Disabled);
        }
        if !account.live() {
            return Err(not_accepted());
        }
        // The signature counter moves forward in one statement: a cloned key replaying an
        // older count, or two nodes taking one answer, do not both get in.
        let before = stored;
        if key.update_credential(&result).is_some() {
            let moved = sqlx::query(
                "UPDATE passkeys SET passkey = $1, last_used_ms = $2 WHERE credential_id = $3 AND passkey = $4",
            )
            .bind(to_json(&key)?)
            .bind(now_ms())
            .bind(&id)
            .bind(&before)
            .execute(self.store.pool())
            .await?;
            if moved.rows_affected() != 1 {
                return Err(not_accepted());
            }
        } else {
            sqlx::query("UPDATE passkeys SET last_used_ms = $1 WHERE credential_id = $2")
                .bind(now_ms())
                .bind(&id)
                .execute(self.store.pool())
                .await?;
        }
        let me = Me {
            user_id: super::parse_id(&user_id)?,
            username,
        };
        let token = self.open_session(&me, client).await?;
        Ok((me, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_are_made_for_the_sites_name_or_for_localhost() {
        assert_eq!(
            RelyingParty::for_site(Some("https://chat.example.org/")),
            RelyingParty {
                id: "chat.example.org".into(),
                origin: "https://chat.example.org".into(),
                any_port: false
            }
        );
        assert_eq!(
            RelyingParty::for_site(Some("http://localhost:3000")).origin,
            "http://localhost:3000"
        );
        let local = RelyingParty {
            id: "localhost".into(),
            origin: "http://localhost".into(),
            any_port: true,
        };
        for without_name in [
            None,
            Some("http://127.0.0.1:3000"),
            Some("http://[::1]:80"),
            Some("not a url"),
        ] {
            assert_eq!(RelyingParty::for_site(without_name), local, "{without_name:?}");
        }
        assert!(local.build().is_ok());
    }

    #[test]
    fn registration_asks_for_a_discoverable_passkey() {
        let webauthn = RelyingParty::for_site(None).build().expect("localhost builds");
        let (options, _) = webauthn
            .start_passkey_registration(Uuid::new_v4(), "ada", "ada", None)
            .expect("options");
        let mut options = serde_json::to_value(options).expect("json");
        discoverable(&mut options);
        assert_eq!(
            options.pointer("/publicKey/authenticatorSelection/residentKey"),
            Some(&serde_json::Value::from("required"))
        );
    }
}
