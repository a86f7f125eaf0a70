//! Two-factor sign-in with an authenticator app (TOTP, RFC 6238, by `totp-rs`): enrolling (a secret and its QR code, confirmed by a first code), recovery codes shown once, turning it off, and the check at sign-in: each code works once, on every node.

use super::{Engine, EngineError, Session};
use crate::auth::Client;
use crate::log::store::now_ms;
use parley::api::Me;
use parley::second_factor::{self, Code, RECOVERY_CODES, SecondFactorView, TotpSetup};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds a code lasts; a code of the step before or after is taken too (clock drift).
const STEP_SECONDS: u64 = 30;

/// `(secret, enabled, last step used, recovery hashes)` of an account's row.
type FactorRow = (String, i64, i64, String);

fn totp(secret: &str, account: &str) -> Result<TOTP, EngineError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| EngineError::Internal(format!("a stored TOTP secret does not decode: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        STEP_SECONDS,
        bytes,
        Some("Parley".to_owned()),
        account.to_owned(),
    )
    .map_err(|e| EngineError::Internal(format!("TOTP: {e}")))
}

fn hash(code: &str) -> String {
    Sha256::digest(format!("parley-recovery:{code}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bad_code() -> EngineError {
    EngineError::BadRequest(second_factor::BAD_CODE.into())
}

/// The step (of [`STEP_SECONDS`]) among now's and its neighbours whose code `code` is.
fn step_of(totp: &TOTP, code: &str, now_secs: u64) -> Option<u64> {
    let now = now_secs / STEP_SECONDS;
    [now, now.saturating_sub(1), now + 1]
        .into_iter()
        .find(|step| totp.check(code, step * STEP_SECONDS))
}

impl Engine {
    async fn factor_row(&self, user: &Me) -> Result<Option<FactorRow>, EngineError> {
        Ok(
            sqlx::query_as("SELECT totp_secret, enabled, last_step, recovery FROM second_factors WHERE user_id = $1")
                .bind(user.user_id.to_string())
                .fetch_optional(self.store.pool())
                .await?,
        )
    }

    /// Whether `me` signs in with a second factor, and how many recovery codes are left.
    pub async fn second_factor(&self, me: &Me) -> Result<SecondFactorView, EngineError> {
        let passkeys = self.passkeys(me).await?.len() as u32;
        Ok(match self.factor_row(me).await? {
            Some((_, enabled, _, recovery)) if enabled != 0 => SecondFactorView {
                enabled: true,
                recovery_left: recovery.split(',').filter(|h| !h.is_empty()).count() as u32,
                passkeys,
            },
            _ => SecondFactorView {
                passkeys,
                ..SecondFactorView::default()
            },
        })
    }

    /// Starts enrolling an authenticator app: a new secret (replacing one not confirmed),
    /// its `otpauth://` link and QR code. Refused while one is on (turn it off first).
    pub async fn begin_totp(&self, session: &Session) -> Result<TotpSetup, EngineError> {
        let me = &session.me;
        self.spend(me, super::budget::Write::SecondFactor).await?;
        if self.second_factor(me).await?.enabled {
            return Err(EngineError::BadRequest(
                "two-factor sign-in is on already; turn it off first to enroll another app".into(),
            ));
        }
        let secret = Secret::generate_secret().to_encoded().to_string();
        let totp = totp(&secret, &me.username)?;
        let qr_png_base64 = totp.get_qr_base64().map_err(EngineError::Internal)?;
        sqlx::query(
            "INSERT INTO second_factors (user_id, totp_secret, enabled, last_step, recovery, created_at_ms)
             VALUES ($1, $2, 0, 0, '', $3)
             ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, created_at_ms = excluded.created_at_ms
             WHERE second_factors.enabled = 0",
        )
        .bind(me.user_id.to_string())
        .bind(&secret)
        .bind(now_ms())
        .execute(self.store.pool())
        .await?;
        Ok(TotpSetup {
            uri: totp.get_url(),
            secret,
            qr_png_base64,
        })
    }

    /// Confirms the enrollment with a code from the app: from now on signing in asks for
    /// one. Returns the recovery codes, shown this once (only their hashes are kept).
    pub async fn confirm_totp(
        &self,
        session: &Session,
        code: &str,
        client: &Client,
    ) -> Result<Vec<String>, EngineError> {
        let me = &session.me;
        self.logins()
            .sign_in(&me.username, client.ip)
            .map_err(EngineError::TooManyAttempts)?;
        let Some((secret, 0, _, _)) = self.factor_row(me).await? else {
            return Err(EngineError::BadRequest("start the set-up first".into()));
        };
        let Some(Code::Totp(code)) = Code::parse(code) else {
            return Err(bad_code());
        };
        let step = step_of(&totp(&secret, &me.username)?, &code, (now_ms() / 1000) as u64).ok_or_else(bad_code)?;
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let mut random = [0u8; 10];
            getrandom::fill(&mut random).map_err(|e| EngineError::Internal(e.to_string()))?;
            codes.push(second_factor::recovery_code(&random));
        }
        let hashes: Vec<String> = codes.iter().map(|c| hash(&c.replace('-', ""))).collect();
        let done = sqlx::query(
            "UPDATE second_factors SET enabled = 1, last_step = $1, recovery = $2
             WHERE user_id = $3 AND enabled = 0 AND totp_secret = $4",
        )
        .bind(step as i64)
        .bind(hashes.join(","))
        .bind(me.user_id.to_string())
        .bind(&secret)
        .execute(self.store.pool())
        .await?;
        if done.rows_affected() != 1 {
            return Err(EngineError::BadRequest(
                "the set-up changed meanwhile; start again".into(),
            ));
        }
        Ok(codes)
    }

    /// Turns two-factor sign-in off, given the password (counted like a sign-in).
    pub async fn disable_totp(&self, session: &Session, password: &str, client: &Client) -> Result<(), EngineError> {
        let me = &session.me;
        self.check_own_password(me, password, "password", client).await?;
        self.forget_second_factor(me).await
    }

    pub(crate) async fn forget_second_factor(&self, me: &Me) -> Result<(), EngineError> {
        sqlx::query("DELETE FROM second_factors WHERE user_id = $1")
            .bind(me.user_id.to_string())
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// At sign-in, once the password was right: nothing to do for an account without a
    /// second factor. An account with passkeys only signs in with one of them instead
    /// (a passkey sign-in needs no password). Otherwise `code` must be a code of now (not
    /// one used before: the step moves forward in one statement, so two nodes cannot both
    /// take it) or an unused recovery code (taken out in one statement likewise).
    pub(crate) async fn check_second_factor(&self, me: &Me, code: Option<&str>) -> Result<(), EngineError> {
        let row = self.factor_row(me).await?.filter(|(_, enabled, _, _)| *enabled != 0);
        if row.is_none() && !self.has_passkeys(me).await? {
            return Ok(());
        }
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(EngineError::BadRequest(second_factor::SECOND_FACTOR_NEEDED.into()));
        };
        let Some((secret, _, _, recovery)) = row else {
            return Err(bad_code());
        };
        match Code::parse(code).ok_or_else(bad_code)? {
            Code::Totp(code) => {
                let step =
                    step_of(&totp(&secret, &me.username)?, &code, (now_ms() / 1000) as u64).ok_or_else(bad_code)?;
                let taken =
                    sqlx::query("UPDATE second_factors SET last_step = $1 WHERE user_id = $2 AND last_step < $3")
                        .bind(step as i64)
                        .bind(me.user_id.to_string())
                        .bind(step as i64)
                        .execute(self.store.pool())
                        .await?;
                if taken.rows_affected() != 1 {
                    return Err(bad_code());
                }
            }
            Code::Recovery(code) => {
                let wanted = hash(&code);
                let left: Vec<&str> = recovery.split(',').filter(|h| !h.is_empty() && *h != wanted).collect();
                if left.len() == recovery.split(',').filter(|h| !h.is_empty()).count() {
                    return Err(bad_code());
                }
                let taken = sqlx::query("UPDATE second_factors SET recovery = $1 WHERE user_id = $2 AND recovery = $3")
                    .bind(left.join(","))
                    .bind(me.user_id.to_string())
                    .bind(&recovery)
                    .execute(self.store.pool())
                    .await?;
                if taken.rows_affected() != 1 {
                    return Err(bad_code());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_of_now_or_a_neighbouring_step_is_found_and_others_are_not() {
        let secret = Secret::generate_secret().to_encoded().to_string();
        let totp = totp(&secret, "ada").expect("a fresh secret");
        let now = 1_764_547_215;
        let step = now / STEP_SECONDS;
        assert_eq!(step_of(&totp, &totp.generate(now), now), Some(step));
        assert_eq!(step_of(&totp, &totp.generate(now - 30), now), Some(step - 1));
        assert_eq!(step_of(&totp, &totp.generate(now + 30), now), Some(step + 1));
        assert_eq!(step_of(&totp, &totp.generate(now - 90), now), None);
    }
}
