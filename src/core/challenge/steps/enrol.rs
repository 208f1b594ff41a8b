//! Enrolling an authenticator app through the API: AssociateSoftwareToken and
//! VerifySoftwareToken with an `MFA_SETUP` session, or with a signed-in user's access
//! token, over the MFA core's TOTP enrolment.

use std::net::IpAddr;

use super::{with_amr, ApiSignIn, AuthSession, ChallengeError, ChallengeName, Opened};
use crate::core::mfa::{MfaError, AMR_MFA};
use crate::core::model::{MfaFactor, User, UserPool};
use crate::core::secrets::SecretString;
use crate::core::UnixTime;

/// The ephemeral-store kind of a signed-in user's pending TOTP enrolment
/// (AssociateSoftwareToken with an access token, keyed by pool and sub).
const USER_TOTP_KIND: &str = "api_user_totp_enrolment";

impl ApiSignIn {
    /// The `MFA_SETUP` session `id` and its pool, if it may still enrol an app (the user
    /// has enrolled no factor since: [`ApiSignIn::require_setup`]).
    async fn setup_session(
        &self,
        id: &str,
        now: UnixTime,
    ) -> Result<(Opened, UserPool, User), ChallengeError> {
        let opened = self.sessions.read(id, now).await?;
        let s = &opened.session;
        if s.challenge != ChallengeName::MfaSetup || s.enrolled {
            return Err(ChallengeError::SessionExpired);
        }
        let pool = self
            .store
            .get_pool(&s.pool_id)
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?
            .ok_or(ChallengeError::SessionExpired)?;
        let user = self.require_setup(&pool, s, MfaFactor::Totp).await?;
        Ok((opened, pool, user))
    }

    /// `AssociateSoftwareToken` with an `MFA_SETUP` session: starts a TOTP enrolment and
    /// answers its key (`SecretCode`) and a new session that carries it.
    pub async fn associate_software_token(
        &self,
        session: &str,
        now: UnixTime,
    ) -> Result<(SecretString, String), ChallengeError> {
        let (opened, pool, user) = self.setup_session(session, now).await?;
        let enrolment = self.mfa.start_totp(&pool, &user, now).await?;
        self.sessions.take(&opened, now).await?;
        let next = AuthSession {
            totp_enrolment: Some(enrolment.id.clone()),
            ..opened.session
        };
        let id = self.sessions.open(next, now).await?;
        Ok((enrolment.secret_base32, id))
    }

    /// `VerifySoftwareToken` with the session of AssociateSoftwareToken: one right code
    /// enrols the app (the MFA core's confirmation, counted by its throttle) and answers a
    /// session that `MFA_SETUP` then turns into tokens.
    pub async fn verify_software_token(
        &self,
        session: &str,
        code: &str,
        name: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<String, ChallengeError> {
        let (opened, pool, _) = self.setup_session(session, now).await?;
        let Some(enrolment) = opened.session.totp_enrolment.clone() else {
            return Err(ChallengeError::InvalidParameter(
                "Call AssociateSoftwareToken with this session first.".into(),
            ));
        };
        self.mfa
            .confirm_totp(
                &pool,
                &opened.session.sub,
                &enrolment,
                code,
                name,
                address,
                now,
            )
            .await?;
        self.sessions.take(&opened, now).await?;
        let next = AuthSession {
            totp_enrolment: None,
            enrolled: true,
            amr: with_amr(&opened.session.amr, &[MfaFactor::Totp.amr(), AMR_MFA]),
            ..opened.session
        };
        self.sessions.open(next, now).await
    }

    /// `AssociateSoftwareToken` with a signed-in user's access token: starts a TOTP
    /// enrolment, remembered for the user (the later VerifySoftwareToken carries only the
    /// access token).
    pub async fn associate_for_user(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> Result<SecretString, ChallengeError> {
        let enrolment = self.mfa.start_totp(pool, user, now).await?;
        let key = format!("{}:{}", pool.id, user.sub);
        // The latest enrolment replaces an earlier one.
        let _ = self.store.delete_ephemeral(USER_TOTP_KIND, &key).await;
        self.store
            .put_ephemeral(
                USER_TOTP_KIND,
                &key,
                &enrolment.id,
                now + crate::core::mfa::PENDING_SECS,
                now,
            )
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?;
        Ok(enrolment.secret_base32)
    }

    /// `VerifySoftwareToken` with an access token: confirms the user's pending enrolment.
    pub async fn verify_for_user(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        name: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<(), ChallengeError> {
        let key = format!("{}:{sub}", pool.id);
        let enrolment = self
            .store
            .get_ephemeral(USER_TOTP_KIND, &key, now)
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?
            .ok_or(MfaError::Expired)?;
        self.mfa
            .confirm_totp(pool, sub, &enrolment, code, name, address, now)
            .await?;
        let _ = self.store.delete_ephemeral(USER_TOTP_KIND, &key).await;
        Ok(())
    }
}
