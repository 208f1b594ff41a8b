//! [`ApiSignIn`]: from a proven first factor to tokens or the next challenge, and the
//! answers to each challenge, as Cognito's `InitiateAuth` and `RespondToAuthChallenge`
//! do, over the same services as the hosted UI (the account service's new password, the
//! MFA core's codes with their throttle, the token service's tokens).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::session::{AuthSession, Opened, Sessions};
use super::{ChallengeError, ChallengeName};
use crate::core::account::{AccountError, AccountService};
use crate::core::directory::Directory;
use crate::core::mfa::manage::user_lang;
use crate::core::mfa::otp::{Channel, EmailCodePurpose};
use crate::core::mfa::{requirement_after, Answered, Mfa, MfaError, Requirement, AMR_PASSWORD};
use crate::core::model::{AppClient, MfaFactor, User, UserPool};
use crate::core::oauth::grants::{TokenResponse, TokenService};
use crate::core::secrets::SecretString;
use crate::core::signin::{SignIn, SignInOutcome};
use crate::core::storage::{Store, UserRef};
use crate::core::threat::{EventContext, Subject};
use crate::core::triggers::pre_token::TokenSource;
use crate::core::UnixTime;

pub mod custom;
mod enrol;
mod first_factor;

/// What a sign-in step leads to.
#[derive(Debug, Clone)]
pub enum Step {
    /// Signed in: Cognito's `AuthenticationResult`.
    Tokens(TokenResponse),
    /// Another challenge: `ChallengeName`, `ChallengeParameters`, `Session`.
    Challenge {
        name: ChallengeName,
        parameters: BTreeMap<String, String>,
        session: String,
        /// `SELECT_CHALLENGE`'s `AvailableChallenges` (empty for the others).
        available: Vec<&'static str>,
    },
}

/// How a sign-in started: what the user typed, what it proved, when.
#[derive(Debug, Clone)]
pub struct Started {
    pub login: String,
    pub amr: Vec<String>,
    pub auth_time: UnixTime,
}

impl Started {
    /// A password (or SRP password proof) proven at `now`.
    pub fn password(login: &str, now: UnixTime) -> Self {
        Started {
            login: login.to_string(),
            amr: vec![AMR_PASSWORD.to_string()],
            auth_time: now,
        }
    }
}

/// One answer to a challenge (`RespondToAuthChallenge`).
pub struct Answer<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    pub session: &'a str,
    pub challenge: ChallengeName,
    /// `ChallengeResponses`.
    pub responses: &'a BTreeMap<String, String>,
    pub address: IpAddr,
    /// Where the answer comes from, for the auth event log (a second factor's answer is
    /// recorded).
    pub context: &'a EventContext,
    pub now: UnixTime,
}

/// The API's sign-in steps. Cheap to clone.
#[derive(Clone)]
pub struct ApiSignIn {
    store: Arc<dyn Store>,
    sessions: Sessions,
    directory: Directory,
    tokens: TokenService,
    mfa: Mfa,
    accounts: AccountService,
    /// Threat protection's scoring of passwordless first factors (as of passwords).
    signin: SignIn,
    /// The request's `ClientMetadata`, for the triggers this step fires (pre token
    /// generation, and the custom challenge's).
    metadata: BTreeMap<String, String>,
}

impl std::fmt::Debug for ApiSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSignIn").finish()
    }
}

/// Cognito's name of an MFA factor in challenges (`MFAS_CAN_CHOOSE`, `MFAS_CAN_SETUP`,
/// `ANSWER`); a passkey has none (Cognito's `WEB_AUTHN` is a first factor only).
fn challenge_of(factor: MfaFactor) -> Option<ChallengeName> {
    match factor {
        MfaFactor::Totp => Some(ChallengeName::SoftwareTokenMfa),
        MfaFactor::Email => Some(ChallengeName::EmailOtp),
        MfaFactor::Sms => Some(ChallengeName::SmsMfa),
        MfaFactor::Passkey => None,
    }
}

/// The factors of `factors` the API can ask for, as a JSON list of Cognito's names.
fn api_factors(factors: &[MfaFactor]) -> Vec<MfaFactor> {
    factors
        .iter()
        .copied()
        .filter(|f| challenge_of(*f).is_some())
        .collect()
}

fn names_json(factors: &[MfaFactor]) -> String {
    let names: Vec<&str> = factors
        .iter()
        .filter_map(|f| challenge_of(*f).map(ChallengeName::as_str))
        .collect();
    serde_json::Value::from(names).to_string()
}

fn required<'a>(
    responses: &'a BTreeMap<String, String>,
    name: &str,
) -> Result<&'a str, ChallengeError> {
    match responses.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ChallengeError::InvalidParameter(format!(
            "Missing required parameter {name}"
        ))),
    }
}

fn with_amr(amr: &[String], extra: &[&str]) -> Vec<String> {
    let mut out = amr.to_vec();
    for a in extra {
        if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}

impl ApiSignIn {
    pub fn new(
        directory: Directory,
        tokens: TokenService,
        mfa: Mfa,
        accounts: AccountService,
        signin: SignIn,
    ) -> Self {
        let store = directory.store().clone();
        ApiSignIn {
            sessions: Sessions::new(store.clone()),
            store,
            directory,
            tokens,
            mfa,
            accounts,
            signin,
            metadata: BTreeMap::new(),
        }
    }

    /// The same, with the request's `ClientMetadata` for the triggers its step fires.
    pub fn with_client_metadata(mut self, metadata: BTreeMap<String, String>) -> Self {
        self.metadata = metadata;
        self
    }

    /// The request's `ClientMetadata` this sign-in step was given.
    pub fn client_metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The token service (refresh, revocation).
    pub fn tokens(&self) -> &TokenService {
        &self.tokens
    }

    /// Whether `login` names a user of `pool` (for a LEGACY client's refusals only).
    pub async fn user_exists(&self, pool: &UserPool, login: &str) -> Result<bool, ChallengeError> {
        self.directory
            .find_user(pool, login)
            .await
            .map(|u| u.is_some())
            .map_err(|e| ChallengeError::Internal(e.to_string()))
    }

    /// After the sign-in operation accepted a first factor: tokens, or the challenge its
    /// outcome asks (`NEW_PASSWORD_REQUIRED`, an MFA challenge, `SELECT_MFA_TYPE`,
    /// `MFA_SETUP`) with a new session.
    pub async fn proceed(
        &self,
        pool: &UserPool,
        client: &AppClient,
        started: Started,
        outcome: SignInOutcome,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let template = |user: &User| AuthSession {
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            sub: user.sub.clone(),
            username: user.username.clone(),
            login: started.login.clone(),
            challenge: ChallengeName::NewPasswordRequired,
            amr: started.amr.clone(),
            auth_time: started.auth_time,
            expires_at: now,
            totp_enrolment: None,
            enrolled: false,
            enrolling_email: false,
            sign_in_code: false,
            passkey_ceremony: None,
            custom: None,
            risk_factors: Vec::new(),
        };
        match outcome {
            SignInOutcome::SignedIn(user) => {
                self.sign_in_tokens(
                    client,
                    &user,
                    started.auth_time,
                    TokenSource::Authentication,
                    now,
                )
                .await
            }
            SignInOutcome::NewPasswordRequired(user) => {
                let mut parameters = self.user_parameters(&user);
                // Cognate's pools have no attribute the user must add at this point.
                parameters.insert("requiredAttributes".into(), "[]".into());
                let attributes: serde_json::Map<String, serde_json::Value> = user
                    .attributes
                    .iter()
                    .filter(|(name, _)| name.as_str() != "sub")
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                parameters.insert(
                    "userAttributes".into(),
                    serde_json::Value::Object(attributes).to_string(),
                );
                self.challenge(
                    template(&user),
                    ChallengeName::NewPasswordRequired,
                    parameters,
                    now,
                )
                .await
            }
            SignInOutcome::MfaRequired { user, factors } => {
                // The factors asked stay asked, whatever the pool's rule (threat
                // protection's `mfa` response asks one the rule alone would not).
                let session = AuthSession {
                    risk_factors: factors.clone(),
                    ..template(&user)
                };
                self.mfa_challenge(pool, session, &user, &factors, address, now)
                    .await
            }
            SignInOutcome::MfaSetup { user, factors } => {
                let factors = api_factors(&factors);
                if factors.is_empty() {
                    return Err(ChallengeError::MfaMethodNotFound(
                        "The user pool requires MFA and offers no factor this user can set up through the API.",
                    ));
                }
                let mut parameters = self.user_parameters(&user);
                parameters.insert("MFAS_CAN_SETUP".into(), names_json(&factors));
                self.challenge(template(&user), ChallengeName::MfaSetup, parameters, now)
                    .await
            }
        }
    }

    fn user_parameters(&self, user: &User) -> BTreeMap<String, String> {
        BTreeMap::from([("USER_ID_FOR_SRP".to_string(), user.username.clone())])
    }

    async fn challenge(
        &self,
        mut session: AuthSession,
        name: ChallengeName,
        parameters: BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        session.challenge = name;
        let session = self.sessions.open(session, now).await?;
        Ok(Step::Challenge {
            name,
            parameters,
            session,
            available: Vec::new(),
        })
    }

    /// The second factor to ask: the only one, or the preferred one; otherwise the user
    /// chooses (`SELECT_MFA_TYPE`). A user whose only factor is a passkey cannot be asked
    /// through the API: refused plainly, never signed in on one factor.
    async fn mfa_challenge(
        &self,
        pool: &UserPool,
        template: AuthSession,
        user: &User,
        factors: &[MfaFactor],
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let factors = api_factors(factors);
        let chosen = match factors.as_slice() {
            [] => {
                return Err(ChallengeError::MfaMethodNotFound(
                    "The user's only second factor is a passkey, which the user pools API cannot ask for: sign in through the hosted UI.",
                ))
            }
            [only] => Some(*only),
            _ => user.mfa.preferred.filter(|p| factors.contains(p)),
        };
        match chosen {
            Some(factor) => {
                self.factor_challenge(pool, template, user, factor, address, now)
                    .await
            }
            None => {
                let mut parameters = self.user_parameters(user);
                parameters.insert("MFAS_CAN_CHOOSE".into(), names_json(&factors));
                self.challenge(template, ChallengeName::SelectMfaType, parameters, now)
                    .await
            }
        }
    }

    /// `SOFTWARE_TOKEN_MFA`, or `EMAIL_OTP` / `SMS_MFA` with the code sent now
    /// (`CODE_DELIVERY_DELIVERY_MEDIUM` `EMAIL` / `SMS`, the destination masked).
    async fn factor_challenge(
        &self,
        pool: &UserPool,
        template: AuthSession,
        user: &User,
        factor: MfaFactor,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let mut parameters = self.user_parameters(user);
        let name = match factor {
            MfaFactor::Totp => ChallengeName::SoftwareTokenMfa,
            MfaFactor::Email | MfaFactor::Sms => {
                let channel = Channel::of(factor).ok_or(MfaError::FactorNotAllowed)?;
                let sent = if template.risk_factors.contains(&factor) {
                    // Asked by threat protection, enrolled or not.
                    self.mfa
                        .send_asked_code(channel, pool, user, user_lang(user), address, now)
                        .await?
                } else {
                    self.mfa
                        .send_factor_code(
                            channel,
                            pool,
                            user,
                            EmailCodePurpose::SecondFactor,
                            user_lang(user),
                            address,
                            now,
                        )
                        .await?
                };
                parameters.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), sent.medium.into());
                parameters.insert("CODE_DELIVERY_DESTINATION".into(), sent.destination);
                challenge_of(factor).ok_or(MfaError::FactorNotAllowed)?
            }
            MfaFactor::Passkey => return Err(MfaError::FactorNotAllowed.into()),
        };
        self.challenge(template, name, parameters, now).await
    }

    /// Tokens for `user`, who passed every factor the pool asks. The user is read again
    /// and its status checked right before issuing: an administrator may have disabled
    /// it, reset its password (RESET_REQUIRED) or deleted it while a challenge was open,
    /// and the session alone must not outlive that.
    async fn sign_in_tokens(
        &self,
        client: &AppClient,
        user: &User,
        auth_time: UnixTime,
        source: TokenSource,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let user = self
            .store
            .get_user(&client.pool_id, &UserRef::Sub(user.sub.clone()))
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?
            .ok_or(ChallengeError::SessionExpired)?;
        Directory::check_status(&user, now).map_err(AccountError::from)?;
        Ok(Step::Tokens(
            self.tokens
                .api_sign_in_tokens(client, &user, auth_time, source, &self.metadata, now)
                .await?,
        ))
    }

    async fn user(&self, pool: &UserPool, sub: &str) -> Result<User, ChallengeError> {
        self.store
            .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?
            .ok_or(ChallengeError::SessionExpired)
    }

    /// `RespondToAuthChallenge`: checks the answer against the session's challenge. A
    /// wrong code leaves the session for another try (the MFA core counts and locks); a
    /// step that completes takes the session, so one session yields one next step.
    pub async fn answer(&self, answer: Answer<'_>) -> Result<Step, ChallengeError> {
        let Answer {
            pool,
            client,
            session,
            challenge,
            responses,
            address,
            context,
            now,
        } = answer;
        let opened = self
            .sessions
            .read_for(session, &pool.id, &client.id, now)
            .await?;
        let s = opened.session.clone();
        if s.challenge != challenge {
            return Err(ChallengeError::InvalidParameter(format!(
                "The session is for the {} challenge, not {}.",
                s.challenge.as_str(),
                challenge.as_str()
            )));
        }
        let username = required(responses, "USERNAME")?;
        if !s.names(username) {
            return Err(ChallengeError::SessionExpired);
        }
        let started = Started {
            login: s.login.clone(),
            amr: s.amr.clone(),
            auth_time: s.auth_time,
        };
        match challenge {
            ChallengeName::NewPasswordRequired => {
                if responses.keys().any(|k| k.starts_with("userAttributes.")) {
                    return Err(ChallengeError::InvalidParameter(
                        "Attributes cannot be set while answering NEW_PASSWORD_REQUIRED here: update them after signing in.".into(),
                    ));
                }
                let password = SecretString::new(required(responses, "NEW_PASSWORD")?);
                // A password the policy refuses leaves the session for another try; an
                // accepted one is written only once the session is taken, so a session
                // sets at most one password (two answers at once: one write, one refusal).
                self.accounts
                    .directory()
                    .check_new_password(pool, &password)
                    .await
                    .map_err(AccountError::InvalidPassword)?;
                self.sessions.take(&opened, now).await?;
                let user = self
                    .accounts
                    .complete_new_password(pool, &s.sub, &password, now)
                    .await?;
                let outcome = SignInOutcome::after_first_factor(pool, user);
                if let SignInOutcome::SignedIn(user) = &outcome {
                    return self
                        .sign_in_tokens(
                            client,
                            user,
                            started.auth_time,
                            TokenSource::NewPasswordChallenge,
                            now,
                        )
                        .await;
                }
                self.proceed(pool, client, started, outcome, address, now)
                    .await
            }
            ChallengeName::SoftwareTokenMfa => {
                let code = required(responses, "SOFTWARE_TOKEN_MFA_CODE")?;
                self.require_factor(pool, &s, MfaFactor::Totp).await?;
                let verified = self.mfa.verify_totp(pool, &s.sub, code, address, now).await;
                self.mfa
                    .record_second_factor(
                        pool,
                        &s.sub,
                        context,
                        Some(MfaFactor::Totp),
                        &verified,
                        now,
                    )
                    .await;
                self.finish(&opened, client, &verified?.user, now).await
            }
            ChallengeName::EmailOtp => {
                let code = required(responses, "EMAIL_OTP_CODE")?;
                if s.sign_in_code {
                    let user = self
                        .mfa
                        .verify_sign_in_code(pool, &s.login, code, address, now)
                        .await;
                    // A refusal is recorded here; a proven code by the risk step below.
                    if user.is_err() {
                        let subject = Subject::Login(&s.login);
                        self.mfa
                            .record_answer(pool, subject, context, Answered::SignInCode, &user, now)
                            .await;
                    }
                    let user = user?;
                    self.sessions.take(&opened, now).await?;
                    let started = Started {
                        login: s.login.clone(),
                        amr: vec![MfaFactor::Email.amr().to_string()],
                        auth_time: now,
                    };
                    let outcome = match requirement_after(pool, &user, &started.amr) {
                        Requirement::None => SignInOutcome::SignedIn(user),
                        Requirement::Challenge { factors } => {
                            SignInOutcome::MfaRequired { user, factors }
                        }
                        Requirement::Setup { factors } => SignInOutcome::MfaSetup { user, factors },
                    };
                    let outcome = self
                        .signin
                        .respond_to_passwordless_risk(pool, outcome, MfaFactor::Email, context, now)
                        .await?;
                    return self
                        .proceed(pool, client, started, outcome, address, now)
                        .await;
                }
                let user = if s.enrolling_email {
                    self.mfa
                        .confirm_email_factor(pool, &s.sub, code, address, now)
                        .await?
                        .user
                } else {
                    self.require_factor(pool, &s, MfaFactor::Email).await?;
                    let verified = self
                        .mfa
                        .verify_email_code(
                            pool,
                            &s.sub,
                            EmailCodePurpose::SecondFactor,
                            code,
                            address,
                            now,
                        )
                        .await;
                    self.mfa
                        .record_second_factor(
                            pool,
                            &s.sub,
                            context,
                            Some(MfaFactor::Email),
                            &verified,
                            now,
                        )
                        .await;
                    verified?.user
                };
                self.finish(&opened, client, &user, now).await
            }
            ChallengeName::SmsMfa => {
                let code = required(responses, "SMS_MFA_CODE")?;
                self.require_factor(pool, &s, MfaFactor::Sms).await?;
                let verified = self
                    .mfa
                    .verify_factor_code(
                        Channel::Sms,
                        pool,
                        &s.sub,
                        EmailCodePurpose::SecondFactor,
                        code,
                        address,
                        now,
                    )
                    .await;
                self.mfa
                    .record_second_factor(
                        pool,
                        &s.sub,
                        context,
                        Some(MfaFactor::Sms),
                        &verified,
                        now,
                    )
                    .await;
                self.finish(&opened, client, &verified?.user, now).await
            }
            ChallengeName::SelectMfaType => {
                let factor = match required(responses, "ANSWER")? {
                    "SOFTWARE_TOKEN_MFA" => MfaFactor::Totp,
                    "EMAIL_OTP" => MfaFactor::Email,
                    "SMS_MFA" => MfaFactor::Sms,
                    other => {
                        return Err(ChallengeError::InvalidParameter(format!(
                            "ANSWER {other} is not a factor the user can choose."
                        )))
                    }
                };
                let user = self.require_factor(pool, &s, factor).await?;
                self.sessions.take(&opened, now).await?;
                let template = AuthSession { ..s };
                self.factor_challenge(pool, template, &user, factor, address, now)
                    .await
            }
            ChallengeName::MfaSetup => {
                self.answer_setup(opened, pool, client, responses, address, now)
                    .await
            }
            // The edge answers SELECT_CHALLENGE (its password and SRP answers are the
            // sign-in operation's) after taking the session with [`ApiSignIn::choose`].
            ChallengeName::SelectChallenge => Err(ChallengeError::InvalidParameter(
                "SELECT_CHALLENGE is answered with ANSWER.".into(),
            )),
            // Answered by [`ApiSignIn::custom_answer`], which the edge calls.
            ChallengeName::CustomChallenge => Err(ChallengeError::InvalidParameter(
                "CUSTOM_CHALLENGE is answered with ANSWER.".into(),
            )),
            ChallengeName::WebAuthn => {
                let credential = required(responses, "CREDENTIAL")?;
                self.passkey_answer(&opened, pool, client, credential, address, context, now)
                    .await
            }
        }
    }

    /// The user, if the pool's rule still asks `factor` of them as a challenge after what
    /// the session proved (a factor removed or a pool changed since is refused).
    async fn require_factor(
        &self,
        pool: &UserPool,
        s: &AuthSession,
        factor: MfaFactor,
    ) -> Result<User, ChallengeError> {
        let user = self.user(pool, &s.sub).await?;
        match requirement_after(pool, &user, &s.amr) {
            Requirement::Challenge { factors } if factors.contains(&factor) => Ok(user),
            // Asked at sign-in by threat protection's `mfa` response.
            _ if s.risk_factors.contains(&factor) && pool.factors.allows_mfa(factor) => Ok(user),
            _ => Err(ChallengeError::InvalidParameter(format!(
                "{} is not a factor this user can use.",
                challenge_of(factor).map_or("PASSKEY", ChallengeName::as_str)
            ))),
        }
    }

    /// The user, if the pool's rule still asks them to enrol `factor` (`MFA_SETUP`). Once
    /// the user has enrolled a factor elsewhere (another session, the hosted UI), the rule
    /// asks a challenge instead and an older setup session is refused: whoever holds it
    /// (the password is all it took) must not add their own factor.
    async fn require_setup(
        &self,
        pool: &UserPool,
        s: &AuthSession,
        factor: MfaFactor,
    ) -> Result<User, ChallengeError> {
        let user = self.user(pool, &s.sub).await?;
        match requirement_after(pool, &user, &s.amr) {
            Requirement::Setup { factors } if factors.contains(&factor) => Ok(user),
            _ => Err(ChallengeError::InvalidParameter(
                "The user has no MFA factor to set up any more: sign in again.".into(),
            )),
        }
    }

    /// The last factor passed: the session is taken and the tokens issued.
    async fn finish(
        &self,
        opened: &Opened,
        client: &AppClient,
        user: &User,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        self.sessions.take(opened, now).await?;
        self.sign_in_tokens(
            client,
            user,
            opened.session.auth_time,
            TokenSource::Authentication,
            now,
        )
        .await
    }

    /// `MFA_SETUP`: after VerifySoftwareToken enrolled an app, the tokens; with `EMAIL`
    /// (the user's verified address), an enrolment code is mailed and `EMAIL_OTP` asks it.
    async fn answer_setup(
        &self,
        opened: Opened,
        pool: &UserPool,
        client: &AppClient,
        responses: &BTreeMap<String, String>,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<Step, ChallengeError> {
        let s = opened.session.clone();
        if s.enrolled {
            let user = self.user(pool, &s.sub).await?;
            return self.finish(&opened, client, &user, now).await;
        }
        let Some(email) = responses.get("EMAIL").filter(|e| !e.is_empty()) else {
            return Err(ChallengeError::InvalidParameter(
                "MFA_SETUP is answered after AssociateSoftwareToken and VerifySoftwareToken, or with EMAIL to set up email codes.".into(),
            ));
        };
        let user = self.require_setup(pool, &s, MfaFactor::Email).await?;
        // The factor is the verified address: another one would need its own proof.
        let verified = user
            .attribute("email")
            .is_some_and(|e| e.eq_ignore_ascii_case(email.trim()));
        if !verified {
            return Err(ChallengeError::InvalidParameter(
                "EMAIL must be the user's verified email address.".into(),
            ));
        }
        let sent = self
            .mfa
            .send_email_code(
                pool,
                &user,
                EmailCodePurpose::Enrol,
                user_lang(&user),
                address,
                now,
            )
            .await?;
        self.sessions.take(&opened, now).await?;
        let mut parameters = self.user_parameters(&user);
        parameters.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), sent.medium.into());
        parameters.insert("CODE_DELIVERY_DESTINATION".into(), sent.destination);
        let session = AuthSession {
            enrolling_email: true,
            ..s
        };
        self.challenge(session, ChallengeName::EmailOtp, parameters, now)
            .await
    }

    /// `REFRESH_TOKEN_AUTH` (`initiate`) or GetTokensFromRefreshToken: the token
    /// service's refresh. A client that rotates refresh tokens refuses REFRESH_TOKEN_AUTH,
    /// as Cognito does, and GetTokensFromRefreshToken answers its new refresh token.
    pub async fn refresh(
        &self,
        client: &AppClient,
        refresh_token: &str,
        initiate: bool,
        now: UnixTime,
    ) -> Result<TokenResponse, ChallengeError> {
        if initiate && client.refresh_rotation.enabled {
            return Err(ChallengeError::InvalidParameter(
                "Refresh token rotation is enabled for this app client: refresh with GetTokensFromRefreshToken, not REFRESH_TOKEN_AUTH.".into(),
            ));
        }
        let mut response = self
            .tokens
            .refresh(client, refresh_token, &self.metadata, now)
            .await
            .map_err(|e| match e.code {
                crate::core::oauth::ErrorCode::InvalidGrant => {
                    ChallengeError::NotAuthorized("Invalid Refresh Token".into())
                }
                _ => e.into(),
            })?;
        if initiate {
            response.refresh_token = None;
        }
        Ok(response)
    }
}
