//! The auth events of the account flows (threat protection's log): each public flow
//! records its outcome once it is known, through [`Directory::record_event`](crate::core::directory::Directory::record_event).

use super::{AccountError, AccountResult, AccountService};
use crate::core::model::{AuthEventKind, User, UserPool};
use crate::core::threat::{outcome_of, EventContext, Subject};
use crate::core::UnixTime;

impl AccountService {
    /// Records `kind` for `result`: on success for the user `user_of` names (else the
    /// login), on failure for the login typed, with the failure's name as `reason`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record<T>(
        &self,
        pool: &UserPool,
        kind: AuthEventKind,
        login: Subject<'_>,
        context: &EventContext,
        result: &AccountResult<T>,
        user_of: impl Fn(&T) -> Option<&User>,
        details: &[(&str, &str)],
        now: UnixTime,
    ) {
        let mut all: Vec<(&str, &str)> = details.to_vec();
        let subject = match result {
            Ok(value) => user_of(value).map(Subject::User).unwrap_or(login),
            Err(e) => {
                all.push(("reason", reason(e)));
                login
            }
        };
        self.directory
            .record_event(pool, subject, kind, outcome_of(result), context, &all, now)
            .await;
    }
}

/// A failure's name for the log (Cognito's exception names; never the message, which
/// may carry internal detail).
pub fn reason(e: &AccountError) -> &'static str {
    match e {
        AccountError::UsernameExists => "UsernameExistsException",
        AccountError::AliasExists => "AliasExistsException",
        AccountError::InvalidPassword(_) => "InvalidPasswordException",
        AccountError::InvalidParameter { .. } => "InvalidParameterException",
        AccountError::CodeMismatch => "CodeMismatchException",
        AccountError::ExpiredCode => "ExpiredCodeException",
        AccountError::LimitExceeded => "LimitExceededException",
        AccountError::NotAuthorized(_) => "NotAuthorizedException",
        AccountError::UserNotFound => "UserNotFoundException",
        AccountError::UserNotConfirmed => "UserNotConfirmedException",
        AccountError::PasswordResetRequired => "PasswordResetRequiredException",
        AccountError::SignUpDisabled => "NotAuthorizedException",
        AccountError::CodeDeliveryFailure(_) => "CodeDeliveryFailureException",
        AccountError::ResourceNotFound(_) => "ResourceNotFoundException",
        AccountError::TriggerRefused(_) => "UserLambdaValidationException",
        AccountError::Internal(_) => "InternalErrorException",
    }
}

/// The user a flow answered with (for [`AccountService::record`]'s `user_of`).
pub(super) fn itself(user: &User) -> Option<&User> {
    Some(user)
}
