//! Sign-in over the user pools API (issue 14): what `InitiateAuth` and
//! `RespondToAuthChallenge` do after the sign-in operation ([`crate::core::signin`]), in
//! Cognito's terms, with no HTTP in sight.
//!
//! - [`check_flow`]: the client's `ExplicitAuthFlows` (and `COGNITO` among its providers)
//!   allow the flow asked for, with Cognito's refusals.
//! - [`session`]: the `Session` string between challenges (shared store, single use, 3
//!   minutes, bound to pool, client and user).
//! - [`steps`]: [`ApiSignIn`], from a proven first factor to tokens or the next challenge
//!   (`NEW_PASSWORD_REQUIRED`, `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`, `SELECT_MFA_TYPE`,
//!   `MFA_SETUP`; `USER_AUTH`'s `SELECT_CHALLENGE`, `EMAIL_OTP` and `WEB_AUTHN` first
//!   factors), over the account service and the MFA core the hosted UI uses, so the
//!   API asks exactly what the hosted UI asks: no token before every required factor.
//!
//! The tokens are the hosted UI's ([`crate::core::oauth::grants::TokenService`]), with
//! the API's scope `aws.cognito.signin.user.admin` and an ID token always.

pub mod session;
pub mod steps;

pub use steps::custom;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::core::account::AccountError;
use crate::core::mfa::MfaError;
use crate::core::model::{AppClient, AuthFlow, FirstFactor, UserExistenceErrors, UserPool};
use crate::core::oauth::OAuthError;
use crate::core::signin::SignInError;

pub use session::{AuthSession, Sessions, SESSION_SECS};
pub use steps::{ApiSignIn, Step};

/// A challenge of the API (Cognito's `ChallengeNameType`), of those Cognate asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChallengeName {
    NewPasswordRequired,
    SoftwareTokenMfa,
    EmailOtp,
    /// A code texted to the verified phone number (`SMS_MFA`, answered with
    /// `SMS_MFA_CODE`).
    SmsMfa,
    SelectMfaType,
    MfaSetup,
    /// `USER_AUTH` without a usable `PREFERRED_CHALLENGE`: the user chooses among the
    /// pool's first factors (`AvailableChallenges`).
    SelectChallenge,
    /// `USER_AUTH`'s passkey first factor: `CREDENTIAL_REQUEST_OPTIONS` (the JSON for
    /// `navigator.credentials.get`), answered with `CREDENTIAL` (the assertion's JSON).
    WebAuthn,
    /// `CUSTOM_AUTH`'s challenge, made by the pool's create auth challenge webhook and
    /// answered with `ANSWER` ([`custom`]).
    CustomChallenge,
}

impl ChallengeName {
    /// Cognito's name (`SOFTWARE_TOKEN_MFA`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeName::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            ChallengeName::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            ChallengeName::EmailOtp => "EMAIL_OTP",
            ChallengeName::SmsMfa => "SMS_MFA",
            ChallengeName::SelectMfaType => "SELECT_MFA_TYPE",
            ChallengeName::MfaSetup => "MFA_SETUP",
            ChallengeName::SelectChallenge => "SELECT_CHALLENGE",
            ChallengeName::WebAuthn => "WEB_AUTHN",
            ChallengeName::CustomChallenge => "CUSTOM_CHALLENGE",
        }
    }

    /// Every challenge a session may name.
    pub const ALL: [ChallengeName; 9] = [
        ChallengeName::NewPasswordRequired,
        ChallengeName::SoftwareTokenMfa,
        ChallengeName::EmailOtp,
        ChallengeName::SmsMfa,
        ChallengeName::SelectMfaType,
        ChallengeName::MfaSetup,
        ChallengeName::SelectChallenge,
        ChallengeName::WebAuthn,
        ChallengeName::CustomChallenge,
    ];

    pub fn parse(text: &str) -> Option<ChallengeName> {
        ChallengeName::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A flow `InitiateAuth` / `AdminInitiateAuth` was asked for (Cognito's `AuthFlowType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedFlow {
    UserPassword,
    /// `ADMIN_USER_PASSWORD_AUTH` (and its old name `ADMIN_NO_SRP_AUTH`).
    AdminUserPassword,
    UserSrp,
    /// `REFRESH_TOKEN_AUTH` / `REFRESH_TOKEN`.
    RefreshToken,
    Custom,
    UserAuth,
}

impl RequestedFlow {
    /// The flow named `text`; `admin` says which action asks (each takes its own list,
    /// as botocore's model and Cognito do).
    pub fn parse(text: &str, admin: bool) -> Option<RequestedFlow> {
        Some(match (text, admin) {
            ("USER_PASSWORD_AUTH", false) => RequestedFlow::UserPassword,
            ("ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH", true) => {
                RequestedFlow::AdminUserPassword
            }
            ("USER_SRP_AUTH", _) => RequestedFlow::UserSrp,
            ("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN", _) => RequestedFlow::RefreshToken,
            ("CUSTOM_AUTH", _) => RequestedFlow::Custom,
            ("USER_AUTH", _) => RequestedFlow::UserAuth,
            _ => return None,
        })
    }

    /// Cognito's names of the flows an action takes (for its validation message).
    pub fn names(admin: bool) -> &'static str {
        if admin {
            "[USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]"
        } else {
            "[USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, USER_PASSWORD_AUTH, USER_AUTH]"
        }
    }

    /// The client setting that allows the flow.
    pub fn allowed_by(self) -> AuthFlow {
        match self {
            RequestedFlow::UserPassword => AuthFlow::AllowUserPasswordAuth,
            RequestedFlow::AdminUserPassword => AuthFlow::AllowAdminUserPasswordAuth,
            RequestedFlow::UserSrp => AuthFlow::AllowUserSrpAuth,
            RequestedFlow::RefreshToken => AuthFlow::AllowRefreshTokenAuth,
            RequestedFlow::Custom => AuthFlow::AllowCustomAuth,
            RequestedFlow::UserAuth => AuthFlow::AllowUserAuth,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RequestedFlow::UserPassword => "USER_PASSWORD_AUTH",
            RequestedFlow::AdminUserPassword => "ADMIN_USER_PASSWORD_AUTH",
            RequestedFlow::UserSrp => "USER_SRP_AUTH",
            RequestedFlow::RefreshToken => "REFRESH_TOKEN_AUTH",
            RequestedFlow::Custom => "CUSTOM_AUTH",
            RequestedFlow::UserAuth => "USER_AUTH",
        }
    }
}

/// Whether `client` may use `flow`: its `ExplicitAuthFlows` must allow it (Cognito:
/// `InvalidParameterException`, "USER_PASSWORD_AUTH flow not enabled for this client"),
/// and every password flow needs `COGNITO` among its identity providers
/// ([`SignInError::PasswordsNotTaken`]), as does `CUSTOM_AUTH` (a flow of the pool's own
/// users; its triggers are checked by [`custom::check_triggers`]).
/// `USER_AUTH` (choice-based sign-in) offers the pool's first factors
/// ([`first_factor_challenges`]).
pub fn check_flow(client: &AppClient, flow: RequestedFlow) -> Result<(), ChallengeError> {
    if !client.allows_flow(flow.allowed_by()) {
        return Err(ChallengeError::InvalidParameter(format!(
            "{} flow not enabled for this client",
            flow.name()
        )));
    }
    match flow {
        RequestedFlow::RefreshToken => Ok(()),
        _ if !client.takes_own_users() => Err(SignInError::PasswordsNotTaken.into()),
        _ => Ok(()),
    }
}

/// The first factors `USER_AUTH` offers (Cognito's `AvailableChallenges`): the pool's
/// `sign_in_factors` the API can serve, for a client that takes the pool's own users:
/// the same list whoever the username names (known or not, with passkeys or not).
pub fn first_factor_challenges(pool: &UserPool, client: &AppClient) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !client.takes_own_users() {
        return out;
    }
    if pool.factors.allows_first(FirstFactor::Password) {
        out.extend(["PASSWORD", "PASSWORD_SRP"]);
    }
    if pool.factors.allows_first(FirstFactor::EmailOtp) {
        out.push("EMAIL_OTP");
    }
    if pool.factors.allows_first(FirstFactor::Passkey) {
        out.push("WEB_AUTHN");
    }
    out
}

/// Why an API sign-in step was refused. The edge names each in Cognito's terms.
#[derive(Debug, thiserror::Error)]
pub enum ChallengeError {
    /// The sign-in operation's refusal (wrong password, lockout, status...).
    #[error(transparent)]
    SignIn(#[from] SignInError),
    /// LEGACY clients only: the login names no user (Cognito's `UserNotFoundException`).
    #[error("User does not exist.")]
    UserNotFound,
    /// The `Session` is unknown, used, expired, or another user's or client's (Cognito:
    /// `NotAuthorizedException`).
    #[error("Invalid session for the user, session is expired.")]
    SessionExpired,
    /// A missing or unacceptable parameter (`InvalidParameterException`).
    #[error("{0}")]
    InvalidParameter(String),
    /// A refusal of the MFA core (wrong or replayed code, lockout, delivery...).
    #[error(transparent)]
    Mfa(#[from] MfaError),
    /// A refusal of the account service (a new password the policy refuses...).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// No second factor the API can ask for (a passkey-only user under MFA, or nothing
    /// the user can enrol): Cognito's `MFAMethodNotFoundException`.
    #[error("{0}")]
    MfaMethodNotFound(&'static str),
    /// `NotAuthorizedException` with this message (an invalid refresh token, a disabled
    /// user).
    #[error("{0}")]
    NotAuthorized(String),
    /// A trigger answered what Cognito would not accept (Cognito's
    /// `InvalidLambdaResponseException`).
    #[error("{0}")]
    InvalidLambdaResponse(String),
    /// The store, the keys or the master key failed: for the log.
    #[error("{0}")]
    Internal(String),
}

impl From<OAuthError> for ChallengeError {
    fn from(e: OAuthError) -> Self {
        use crate::core::oauth::ErrorCode;
        if e.trigger_refused {
            return ChallengeError::SignIn(SignInError::TriggerRefused(e.description));
        }
        match e.code {
            ErrorCode::InvalidGrant | ErrorCode::InvalidClient => {
                ChallengeError::NotAuthorized(e.description)
            }
            _ => ChallengeError::Internal(e.to_string()),
        }
    }
}

/// The error for a refused password check: a LEGACY client is told, as Cognito's LEGACY
/// setting tells, that the login names no user (`user_exists` false); otherwise the
/// refusal stands, so an unknown user is answered exactly like a wrong password.
pub fn existence_error(client: &AppClient, e: SignInError, user_exists: bool) -> ChallengeError {
    match e {
        SignInError::NotAuthorized
            if client.prevent_user_existence_errors == UserExistenceErrors::Legacy
                && !user_exists =>
        {
            ChallengeError::UserNotFound
        }
        e => ChallengeError::SignIn(e),
    }
}
