//! `CUSTOM_AUTH`: Cognito's custom authentication challenges, run by the pool's define,
//! create and verify auth challenge webhooks ([`crate::core::triggers::custom_auth`]).
//!
//! - **Start** ([`ApiSignIn::custom_start`], InitiateAuth / AdminInitiateAuth): the pool
//!   must declare all three webhooks; the login is looked up; for an existing user the pre
//!   authentication webhook is called (the status is checked at the tokens, after an
//!   answer proved something, as a password sign-in checks it after the password). A login nobody has is refused at
//!   once for a `LEGACY` client (`UserNotFoundException`); otherwise, as Cognito does with
//!   `PreventUserExistenceErrors` `ENABLED`, the flow goes on with `userNotFound: true`
//!   and can never end in tokens. Define is called with an empty `session`; its
//!   `CUSTOM_CHALLENGE` goes to create, whose `publicChallengeParameters` (plus `USERNAME`)
//!   are answered with a `Session`.
//! - **The session** is the API's challenge session ([`crate::core::challenge::session`]: shared store,
//!   single use, 3 minutes, bound to pool, client and user), carrying the rounds so far and
//!   the `privateChallengeParameters` sealed under the master key (bound to the pool and
//!   the login): they never leave the server, and a database reader does not see them.
//! - **An answer** ([`ApiSignIn::custom_answer`], RespondToAuthChallenge `CUSTOM_CHALLENGE`
//!   with `ANSWER`): the session is taken first (a replay, or a second answer at once, finds
//!   nothing), then the attempt is reserved with the sign-in throttle under the account of
//!   the login (the limits of password sign-in: the pair and account locks, the delays),
//!   and only then is verify called. So a one-time code cannot be guessed faster than a
//!   password, on any number of nodes and however many sessions are opened. The result is
//!   appended to the session and define decides: tokens, failure, or another round.
//! - **Tokens** follow the normal path: the user's status is checked again, the post
//!   authentication webhook is called, then the pool's MFA rule (an MFA challenge when it
//!   asks one, as Cognito asks it after `issueTokens`), then the pre token generation
//!   webhook. The throttle's counts are cleared only then: a correct answer to an early
//!   round does not reset the count of a later round's guesses.
//!
//! Cognate's choices where Cognito leaves room: at most [`MAX_ROUNDS`] answers per flow;
//! `issueTokens` is honoured only once some challenge of the flow was answered correctly
//! (define answering it on an empty session is `InvalidLambdaResponseException`, never a
//! sign-in without any proof); define may name only `CUSTOM_CHALLENGE` (Cognito's SRP-first
//! variant, `CHALLENGE_NAME` `SRP_A`, is refused by name at the start).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{ApiSignIn, AuthSession, ChallengeError, ChallengeName, Started, Step};
use crate::core::account::AccountError;
use crate::core::directory::Directory;
use crate::core::model::{AppClient, TriggerKind, User, UserExistenceErrors, UserPool};
use crate::core::secrets::EncryptedSecret;
use crate::core::signin::{trigger_refusal, SignIn, SignInError, SignInOutcome};
use crate::core::triggers::custom_auth::{
    check_define, ChallengeResult, CustomAuthError, DefineAnswer, Subject, CUSTOM_CHALLENGE,
};
use crate::core::triggers::{TriggerCaller, Webhooks};
use crate::core::UnixTime;

/// The most answers one `CUSTOM_AUTH` flow may give (Cognito caps the rounds of a custom
/// flow too); define asking for another challenge after this many is a failed sign-in.
pub const MAX_ROUNDS: usize = 5;
/// The `amr` a custom challenge records (no RFC 8176 value fits a challenge of the
/// operator's own design).
pub const AMR_CUSTOM: &str = "custom";
/// Cognito's refusal of `CUSTOM_AUTH` in a pool without the triggers.
pub const NOT_CONFIGURED: &str = "Custom auth lambda trigger is not configured for the user pool.";

/// A custom flow's state between rounds, inside its challenge session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomState {
    /// The answered challenges so far (the events' `session`).
    pub rounds: Vec<ChallengeResult>,
    /// The current challenge's `challengeMetadata`.
    pub metadata: Option<String>,
    /// The current challenge's `privateChallengeParameters` (JSON), sealed under the
    /// master key with [`private_context`].
    pub private: String,
    /// Cognito's `userNotFound`: the login named nobody at the start.
    pub user_not_found: bool,
}

/// InitiateAuth's `CUSTOM_AUTH`.
pub struct CustomStart<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// `USERNAME`: a username or a sign-in alias.
    pub login: &'a str,
    pub address: IpAddr,
    pub now: UnixTime,
}

/// RespondToAuthChallenge's `CUSTOM_CHALLENGE`.
pub struct CustomAnswer<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    pub session: &'a str,
    /// `USERNAME` of the challenge responses.
    pub username: &'a str,
    /// `ANSWER`.
    pub answer: &'a str,
    pub address: IpAddr,
    pub now: UnixTime,
}

/// Whether `pool` declares the three custom challenge webhooks (Cognito refuses
/// `CUSTOM_AUTH` without them: `InvalidParameterException`).
pub fn check_triggers(pool: &UserPool) -> Result<(), ChallengeError> {
    let declared = [
        TriggerKind::DefineAuthChallenge,
        TriggerKind::CreateAuthChallenge,
        TriggerKind::VerifyAuthChallenge,
    ]
    .iter()
    .all(|k| pool.triggers.url(*k).is_some());
    if declared {
        Ok(())
    } else {
        Err(ChallengeError::InvalidParameter(NOT_CONFIGURED.into()))
    }
}

/// The associated data the private parameters are sealed with: the pool and the login
/// of the flow, so sealed parameters cannot be moved to another flow's session.
fn private_context(pool_id: &str, login: &str) -> String {
    format!("custom-auth-private:{pool_id}:{login}")
}

impl From<CustomAuthError> for ChallengeError {
    fn from(e: CustomAuthError) -> Self {
        match e {
            CustomAuthError::Trigger(e) => ChallengeError::SignIn(trigger_refusal(e)),
            CustomAuthError::InvalidResponse(m) => ChallengeError::InvalidLambdaResponse(m),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ChallengeError {
    ChallengeError::Internal(e.to_string())
}

impl ApiSignIn {
    fn webhooks(&self) -> Result<&Webhooks, ChallengeError> {
        self.directory
            .webhooks()
            .ok_or_else(|| ChallengeError::InvalidParameter(NOT_CONFIGURED.into()))
    }

    fn caller(&self, client: &AppClient) -> TriggerCaller {
        TriggerCaller {
            client_id: Some(client.id.clone()),
            client_metadata: self.metadata.clone(),
            validation_data: self.metadata.clone(),
        }
    }

    /// InitiateAuth `CUSTOM_AUTH` (see the [module doc](self)).
    pub async fn custom_start(
        &self,
        signin: &SignIn,
        start: CustomStart<'_>,
    ) -> Result<Step, ChallengeError> {
        let CustomStart {
            pool,
            client,
            login,
            address: _,
            now,
        } = start;
        check_triggers(pool)?;
        let webhooks = self.webhooks()?;
        if login.is_empty() || login.len() > crate::core::signin::MAX_LOGIN_BYTES {
            return Err(SignInError::NotAuthorized.into());
        }
        let found = self
            .directory
            .find_user(pool, login)
            .await
            .map_err(internal)?;
        let caller = self.caller(client);
        let username = match &found {
            // The user's status is looked at only once an answer proved something (at
            // the tokens), as a password sign-in looks at it only after the password:
            // the start tells nobody whether a login is unconfirmed or disabled.
            // Pre authentication waits for a correct answer ([`Self::custom_tokens`]), as
            // it waits for the password in the other flows: called here, a refusing webhook
            // would tell an existing login from an unknown one to anyone typing it.
            Some(user) => user.username.clone(),
            None if client.prevent_user_existence_errors == UserExistenceErrors::Legacy => {
                return Err(ChallengeError::UserNotFound)
            }
            None => signin.unknown_username(pool, login),
        };
        let subject = Subject {
            user_name: &username,
            user: found.as_ref(),
        };
        let define = webhooks
            .define_auth_challenge(pool, subject, &[], &caller)
            .await?;
        match define {
            DefineAnswer::Fail => Err(SignInError::NotAuthorized.into()),
            DefineAnswer::IssueTokens => Err(ChallengeError::InvalidLambdaResponse(
                check_define(&DefineAnswer::IssueTokens, &[])
                    .err()
                    .unwrap_or_default(),
            )),
            DefineAnswer::Challenge(name) => {
                let session = AuthSession {
                    pool_id: pool.id.clone(),
                    client_id: client.id.clone(),
                    sub: found.as_ref().map(|u| u.sub.clone()).unwrap_or_default(),
                    username: username.clone(),
                    login: login.to_string(),
                    challenge: ChallengeName::CustomChallenge,
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
                };
                let at = (session, subject);
                self.next_challenge(pool, client, webhooks, at, &name, Vec::new(), now)
                    .await
            }
        }
    }

    /// Create's challenge named `name` after `rounds`: a new session with its private
    /// parameters sealed, and the public ones (with `USERNAME`) for the client.
    #[allow(clippy::too_many_arguments)]
    async fn next_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        webhooks: &Webhooks,
        (mut session, subject): (AuthSession, Subject<'_>),
        name: &str,
        rounds: Vec<ChallengeResult>,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        check_define(&DefineAnswer::Challenge(name.to_string()), &rounds)
            .map_err(ChallengeError::InvalidLambdaResponse)?;
        let created = webhooks
            .create_auth_challenge(pool, subject, name, &rounds, &self.caller(client))
            .await?;
        let master = self
            .directory
            .srp_key()
            .ok_or_else(|| internal("no master key to seal custom challenge parameters"))?;
        let private = serde_json::to_vec(&created.private).map_err(internal)?;
        let sealed = master.seal(&private_context(&pool.id, &session.login), &private);
        session.custom = Some(CustomState {
            rounds,
            metadata: created.metadata,
            private: sealed.as_stored().to_string(),
            user_not_found: subject.user.is_none(),
        });
        session.challenge = ChallengeName::CustomChallenge;
        let mut parameters = created.public;
        parameters.insert("USERNAME".into(), session.username.clone());
        let id = self.sessions.open(session, now).await?;
        Ok(Step::Challenge {
            name: ChallengeName::CustomChallenge,
            parameters,
            session: id,
            available: Vec::new(),
        })
    }

    /// RespondToAuthChallenge `CUSTOM_CHALLENGE` (see the [module doc](self)).
    pub async fn custom_answer(
        &self,
        signin: &SignIn,
        answer: CustomAnswer<'_>,
    ) -> Result<Step, ChallengeError> {
        let CustomAnswer {
            pool,
            client,
            session,
            username,
            answer,
            address,
            now,
        } = answer;
        check_triggers(pool)?;
        let webhooks = self.webhooks()?;
        let opened = self
            .sessions
            .read_for(session, &pool.id, &client.id, now)
            .await?;
        let s = opened.session.clone();
        let Some(state) = s.custom.clone() else {
            return Err(ChallengeError::InvalidParameter(format!(
                "The session is for the {} challenge, not CUSTOM_CHALLENGE.",
                s.challenge.as_str()
            )));
        };
        if !s.names(username) {
            return Err(ChallengeError::SessionExpired);
        }
        // One session, one answer: taken before anything is checked.
        self.sessions.take(&opened, now).await?;
        // The attempt is counted before verify sees the answer.
        let (found, login_key) = signin.reserve_attempt(pool, &s.login, address, now).await?;
        // The user the flow began with, still there (a user deleted and another made
        // under the login since is not theirs).
        let user: Option<User> = if state.user_not_found {
            None
        } else {
            found.filter(|u| u.sub == s.sub)
        };
        if user.is_none() && !state.user_not_found {
            return Err(SignInError::NotAuthorized.into());
        }
        let master = self
            .directory
            .srp_key()
            .ok_or_else(|| internal("no master key to open custom challenge parameters"))?;
        let private = master
            .open(
                &private_context(&pool.id, &s.login),
                &EncryptedSecret::from_stored(state.private.clone()),
            )
            .map_err(internal)?;
        let private: BTreeMap<String, String> =
            serde_json::from_slice(&private).map_err(internal)?;
        let subject = Subject {
            user_name: &s.username,
            user: user.as_ref(),
        };
        let caller = self.caller(client);
        let correct = webhooks
            .verify_auth_challenge(pool, subject, &private, answer, &caller)
            .await?;
        let mut rounds = state.rounds;
        rounds.push(ChallengeResult {
            challenge_name: CUSTOM_CHALLENGE.into(),
            // Nobody's answer is right for a login nobody has.
            challenge_result: correct && user.is_some(),
            challenge_metadata: state.metadata,
        });
        let define = webhooks
            .define_auth_challenge(pool, subject, &rounds, &caller)
            .await?;
        match define {
            DefineAnswer::Fail => Err(SignInError::NotAuthorized.into()),
            DefineAnswer::IssueTokens => {
                let Some(user) = user else {
                    return Err(SignInError::NotAuthorized.into());
                };
                check_define(&DefineAnswer::IssueTokens, &rounds)
                    .map_err(ChallengeError::InvalidLambdaResponse)?;
                self.custom_tokens(signin, pool, client, &s, user, &login_key, address, now)
                    .await
            }
            DefineAnswer::Challenge(_) if rounds.len() >= MAX_ROUNDS => {
                Err(ChallengeError::NotAuthorized(format!(
                    "The custom challenge flow allows {MAX_ROUNDS} answers: sign in again."
                )))
            }
            DefineAnswer::Challenge(name) => {
                let next = AuthSession {
                    custom: None,
                    ..s.clone()
                };
                self.next_challenge(pool, client, webhooks, (next, subject), &name, rounds, now)
                    .await
            }
        }
    }

    /// `issueTokens` for an existing user: the normal path (status, pre and post
    /// authentication, the pool's MFA rule, tokens).
    #[allow(clippy::too_many_arguments)]
    async fn custom_tokens(
        &self,
        signin: &SignIn,
        pool: &UserPool,
        client: &AppClient,
        s: &AuthSession,
        user: User,
        login_key: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        signin.attempt_proven(pool, login_key, address).await;
        Directory::check_status(&user, now).map_err(AccountError::from)?;
        if let Some(webhooks) = self.directory.webhooks() {
            let caller = self.caller(client);
            webhooks
                .pre_authentication(pool, &user, &caller)
                .await
                .map_err(trigger_refusal)?;
            webhooks
                .post_authentication(pool, &user, &caller)
                .await
                .map_err(trigger_refusal)?;
        }
        let started = Started {
            login: s.login.clone(),
            amr: vec![AMR_CUSTOM.to_string()],
            auth_time: now,
        };
        let outcome = SignInOutcome::after_first_factor(pool, user);
        self.proceed(pool, client, started, outcome, address, now)
            .await
    }
}
