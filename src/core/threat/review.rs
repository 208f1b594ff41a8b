//! Reviewing a user's auth events: AdminListUserAuthEvents and
//! AdminUpdateAuthEventFeedback in the core's terms. As in Cognito, both need the pool's
//! threat protection on (`audit` or `enforced`): a pool that records nothing has no log to
//! show.

use crate::core::model::{AuthEvent, EventFeedback, Page, PageRequest, User, UserPool};
use crate::core::storage::StoreError;
use crate::core::UnixTime;

use super::events::AuthEvents;

/// Why a review was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Cognito's `UserPoolAddOnNotEnabledException`.
    #[error("Advanced security features are not enabled for this user pool.")]
    NotEnabled,
    /// No such event of this user within the retention (Cognito's
    /// `ResourceNotFoundException`).
    #[error("Auth event {0} does not exist for this user.")]
    UnknownEvent(String),
    /// A paging token the store did not write.
    #[error("the paging token is not valid")]
    BadToken,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ReviewError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ReviewError::BadToken,
            e => ReviewError::Store(e),
        }
    }
}

/// Who gave feedback about an event (Cognito's `FeedbackValue` provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackProvider {
    /// AdminUpdateAuthEventFeedback.
    Admin,
    /// The user, from a notice's link.
    User,
}

fn enabled(pool: &UserPool) -> Result<(), ReviewError> {
    if pool.threat_protection.records_events() {
        Ok(())
    } else {
        Err(ReviewError::NotEnabled)
    }
}

impl AuthEvents {
    /// `user`'s events, newest first (AdminListUserAuthEvents).
    pub async fn user_events(
        &self,
        pool: &UserPool,
        user: &User,
        page: &PageRequest,
        now: UnixTime,
    ) -> Result<Page<AuthEvent>, ReviewError> {
        enabled(pool)?;
        Ok(self.list(&pool.id, Some(&user.sub), page, now).await?)
    }

    /// Marks event `event_id` of `user` `Valid` or `Invalid` (`valid`), by `provider`
    /// (AdminUpdateAuthEventFeedback). Another user's event is unknown.
    pub async fn give_feedback(
        &self,
        pool: &UserPool,
        user: &User,
        event_id: &str,
        valid: bool,
        provider: FeedbackProvider,
        now: UnixTime,
    ) -> Result<(), ReviewError> {
        enabled(pool)?;
        let feedback = EventFeedback {
            value: if valid { "Valid" } else { "Invalid" }.to_string(),
            provider: match provider {
                FeedbackProvider::Admin => "Admin",
                FeedbackProvider::User => "User",
            }
            .to_string(),
            at: now,
        };
        let found = self
            .set_feedback(&pool.id, &user.sub, event_id, feedback, now)
            .await
            .map_err(ReviewError::Store)?;
        if found {
            Ok(())
        } else {
            Err(ReviewError::UnknownEvent(
                event_id.chars().take(64).collect(),
            ))
        }
    }
}
