//! Cognito's exception names (the AWS JSON 1.1 API's `__type`) for the core's errors. The
//! names are the API edge's vocabulary, not the domain's: the core's errors say what went
//! wrong, and this mapping says how Cognito's API calls it, for the AWS dispatcher on
//! `POST /` (see [`crate::web`]) to answer with.

use crate::core::account::AccountError;
use crate::core::signin::SignInError;

/// Cognito's `__type` for an account flow's error (SignUp, ConfirmSignUp,
/// ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword, RespondToAuthChallenge's
/// NEW_PASSWORD_REQUIRED).
pub fn account_error_type(e: &AccountError) -> &'static str {
    match e {
        AccountError::UsernameExists => "UsernameExistsException",
        AccountError::AliasExists => "AliasExistsException",
        AccountError::InvalidPassword(_) => "InvalidPasswordException",
        AccountError::InvalidParameter { .. } => "InvalidParameterException",
        AccountError::CodeMismatch => "CodeMismatchException",
        AccountError::ExpiredCode => "ExpiredCodeException",
        AccountError::LimitExceeded => "LimitExceededException",
        AccountError::NotAuthorized(_) | AccountError::SignUpDisabled => "NotAuthorizedException",
        AccountError::UserNotFound => "UserNotFoundException",
        AccountError::UserNotConfirmed => "UserNotConfirmedException",
        AccountError::PasswordResetRequired => "PasswordResetRequiredException",
        AccountError::CodeDeliveryFailure(_) => "CodeDeliveryFailureException",
        AccountError::ResourceNotFound(_) => "ResourceNotFoundException",
        AccountError::TriggerRefused(_) => "UserLambdaValidationException",
        AccountError::Internal(_) => "InternalErrorException",
    }
}

/// Cognito's `__type` for a refused password sign-in (InitiateAuth, AdminInitiateAuth).
/// Cognito answers a wrong password, a lockout ("Password attempts exceeded"), a disabled
/// user and an expired temporary password all as `NotAuthorizedException`, and a client
/// whose allowed flows exclude the password as `InvalidParameterException`.
pub fn sign_in_error_type(e: &SignInError) -> &'static str {
    match e {
        SignInError::PasswordsNotTaken | SignInError::InvalidParameter { .. } => {
            "InvalidParameterException"
        }
        SignInError::SessionExpired
        | SignInError::NotAuthorized
        | SignInError::Locked { .. }
        | SignInError::UserDisabled
        | SignInError::TemporaryPasswordExpired
        | SignInError::BlockedByRisk => "NotAuthorizedException",
        SignInError::UserNotConfirmed => "UserNotConfirmedException",
        SignInError::PasswordResetRequired => "PasswordResetRequiredException",
        SignInError::TriggerRefused(_) => "UserLambdaValidationException",
        SignInError::Internal { .. } => "InternalErrorException",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::directory::DirectoryError;

    #[test]
    fn cognito_types() {
        assert_eq!(
            account_error_type(&AccountError::UsernameExists),
            "UsernameExistsException"
        );
        assert_eq!(
            account_error_type(&AccountError::SignUpDisabled),
            "NotAuthorizedException"
        );
        let e: AccountError = DirectoryError::UserDisabled.into();
        assert_eq!(account_error_type(&e), "NotAuthorizedException");
    }

    #[test]
    fn sign_in_types() {
        assert_eq!(
            sign_in_error_type(&SignInError::Locked { until: 1 }),
            "NotAuthorizedException"
        );
        assert_eq!(
            sign_in_error_type(&SignInError::UserNotConfirmed),
            "UserNotConfirmedException"
        );
    }
}
