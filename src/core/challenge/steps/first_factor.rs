//! `USER_AUTH`'s first factors: `SELECT_CHALLENGE` and the passwordless `EMAIL_OTP`
//! (the password and SRP answers are the sign-in operation's, run by the edge).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::{ApiSignIn, AuthSession, ChallengeError, ChallengeName, Step};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::core::mfa::{Answered, MfaError};
use crate::core::model::{AppClient, MfaFactor, UserPool};
use crate::core::signin::{SignInError, SignInOutcome};
use crate::core::threat::{EventContext, Subject};
use crate::core::UnixTime;

impl ApiSignIn {
    /// `USER_AUTH` without a usable preference: `SELECT_CHALLENGE` among `available`,
    /// with a session for `login` whoever it names (the answer tells nobody whether the
    /// user exists).
    pub async fn select_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        login: &str,
        available: Vec<&'static str>,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let session = self.login_session(pool, client, login, ChallengeName::SelectChallenge, now);
        let session = self.sessions.open(session, now).await?;
        Ok(Step::Challenge {
            name: ChallengeName::SelectChallenge,
            parameters: BTreeMap::from([("USERNAME".to_string(), login.to_string())]),
            session,
            available,
        })
    }

    fn login_session(
        &self,
        pool: &UserPool,
        client: &AppClient,
        login: &str,
        challenge: ChallengeName,
        now: UnixTime,
    ) -> AuthSession {
        AuthSession {
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            sub: String::new(),
            username: login.to_string(),
            login: login.to_string(),
            challenge,
            amr: Vec::new(),
            auth_time: now,
            expires_at: now,
            totp_enrolment: None,
            enrolled: false,
            enrolling_email: false,
            sign_in_code: false,
            passkey_ceremony: None,
            custom: None,
            risk_factors: Vec::new(),
        }
    }

    /// Answers `SELECT_CHALLENGE`: checks and takes its session (single use) and returns
    /// the login it was for; the caller then runs the chosen first factor.
    pub async fn choose(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: &str,
        username: &str,
        now: UnixTime,
    ) -> Result<String, ChallengeError> {
        let opened = self
            .sessions
            .read_for(session, &pool.id, &client.id, now)
            .await?;
        if opened.session.challenge != ChallengeName::SelectChallenge
            || !opened.session.names(username)
        {
            return Err(ChallengeError::SessionExpired);
        }
        self.sessions.take(&opened, now).await?;
        Ok(opened.session.login)
    }

    /// `EMAIL_OTP` as a first factor: mails a sign-in code to the account `login` names,
    /// if it may sign in that way (the MFA core answers alike for anyone), and asks it.
    pub async fn email_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        login: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        self.mfa
            .send_sign_in_code(pool, login, lang, address, now)
            .await?;
        let mut session = self.login_session(pool, client, login, ChallengeName::EmailOtp, now);
        session.sign_in_code = true;
        let parameters = BTreeMap::from([
            ("USERNAME".to_string(), login.to_string()),
            (
                "CODE_DELIVERY_DELIVERY_MEDIUM".to_string(),
                "EMAIL".to_string(),
            ),
        ]);
        self.challenge(session, ChallengeName::EmailOtp, parameters, now)
            .await
    }
}

impl ApiSignIn {
    /// `WEB_AUTHN` as a first factor: a passkey ceremony for any discoverable passkey of
    /// the pool, so the options (`CREDENTIAL_REQUEST_OPTIONS`) are alike for every login,
    /// known or not, and list nobody's credentials; the answer must be an assertion of
    /// the user `login` names ([`ApiSignIn::passkey_answer`]).
    pub async fn passkey_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        login: &str,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let ceremony = self
            .mfa
            .start_passkey_authentication(pool, None, now)
            .await?;
        let mut session = self.login_session(pool, client, login, ChallengeName::WebAuthn, now);
        session.passkey_ceremony = Some(ceremony.id);
        let parameters = BTreeMap::from([
            ("USERNAME".to_string(), login.to_string()),
            (
                "CREDENTIAL_REQUEST_OPTIONS".to_string(),
                ceremony.options.to_string(),
            ),
        ]);
        self.challenge(session, ChallengeName::WebAuthn, parameters, now)
            .await
    }

    /// Answers `WEB_AUTHN` with `credential` (the browser's assertion as JSON): the session
    /// and the ceremony are taken (single use, whatever the outcome), the assertion is
    /// verified (user verification required), and it must be a passkey of the user the
    /// sign-in named. A passkey with user verification is two factors: tokens follow, no
    /// further MFA (as in Cognito).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn passkey_answer(
        &self,
        opened: &super::Opened,
        pool: &UserPool,
        client: &AppClient,
        credential: &str,
        address: IpAddr,
        context: &EventContext,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let s = &opened.session;
        let ceremony = s
            .passkey_ceremony
            .clone()
            .ok_or(ChallengeError::SessionExpired)?;
        let credential: serde_json::Value = serde_json::from_str(credential).map_err(|_| {
            ChallengeError::InvalidParameter(
                "CREDENTIAL must be the browser's PublicKeyCredential as JSON.".into(),
            )
        })?;
        self.sessions.take(opened, now).await?;
        // The passkey must be the named user's: its user handle (the user's sub) is
        // compared before the assertion is verified, so another user's passkey is refused
        // without being counted as that user's sign-in.
        let named = self
            .directory
            .find_user(pool, &s.login)
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?;
        let handle = credential["response"]["userHandle"]
            .as_str()
            .and_then(|h| URL_SAFE_NO_PAD.decode(h.trim_end_matches('=')).ok())
            .and_then(|b| Uuid::from_slice(&b).ok());
        let named =
            named.filter(|u| handle.is_some_and(|h| h.to_string().eq_ignore_ascii_case(&u.sub)));
        let verified = match named {
            None => Err(MfaError::CodeMismatch),
            Some(named) => self
                .mfa
                .finish_passkey_authentication(pool, &ceremony, &credential, address, now)
                .await
                .and_then(|v| {
                    if v.user.sub == named.sub {
                        Ok(v)
                    } else {
                        Err(MfaError::CodeMismatch)
                    }
                }),
        };
        // A refusal is recorded here; a proven passkey by the risk step below.
        if verified.is_err() {
            let subject = Subject::Login(&s.login);
            self.mfa
                .record_answer(pool, subject, context, Answered::Passkey, &verified, now)
                .await;
        }
        let verified = verified.map_err(|e| match e {
            // Told only to the passkey's holder, in the sign-in's own terms.
            MfaError::NotPossible("User is disabled.") => SignInError::UserDisabled.into(),
            MfaError::NotPossible("User is not confirmed.") => SignInError::UserNotConfirmed.into(),
            e => ChallengeError::Mfa(e),
        })?;
        // Scored as any sign-in: a block refuses it (a passkey already is two factors,
        // so the `mfa` action asks nothing more).
        let outcome = self
            .signin
            .respond_to_passwordless_risk(
                pool,
                SignInOutcome::SignedIn(verified.user),
                MfaFactor::Passkey,
                context,
                now,
            )
            .await?;
        self.sign_in_tokens(
            client,
            outcome.user(),
            now,
            crate::core::triggers::pre_token::TokenSource::Authentication,
            now,
        )
        .await
    }
}
