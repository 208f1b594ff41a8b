//! Sending the account flows' codes: where each goes (the phone by SMS, or the email) and
//! through what ([`CodeSender`]: the custom senders, custom message, SMTP), the code
//! stored first and taken back if it cannot be delivered.

use super::{
    generate_code, purpose_of, validity_of, AccountError, AccountResult, AccountService,
    CodeDelivery,
};
use crate::core::delivery::{
    normalize_phone, sms_available, CodeSender, DeliveryError, Destination, MessageSource,
};
use crate::core::model::{AliasAttribute, User, UserPool};
use crate::core::triggers::events::user_attributes;
use crate::core::triggers::{CodeMessage, TriggerCaller};
use crate::core::UnixTime;

impl AccountService {
    /// The code sender of this service ([`CodeSender`]: custom senders, custom message,
    /// SMTP).
    pub(crate) fn sender(&self) -> CodeSender {
        CodeSender::new(self.mail.clone(), self.directory.webhooks().cloned())
    }

    /// Draws a code, stores it under (kind, id) for `to`, and delivers it to `user` there
    /// ([`CodeSender::send_code`]); the code is taken back if it cannot be delivered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn mail_code(
        &self,
        pool: &UserPool,
        kind: &str,
        id: &str,
        user: &User,
        to: &Destination,
        source: MessageSource,
        lang: &str,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<()> {
        let message = self
            .stored_code_message(kind, id, user, to, source, caller, now)
            .await?;
        if let Err(e) = self
            .sender()
            .send_code(pool, to, &message, purpose_of(kind), lang)
            .await
        {
            let _ = self.store().delete_ephemeral(kind, id).await;
            return Err(delivery_error(e));
        }
        Ok(())
    }

    /// Draws a code, stores it, and delivers it in the background, so the answer takes as
    /// long as a simulated one; a failure (of SMTP or of a message webhook) is logged.
    /// (Cognito fails the request when a custom message trigger fails; here the answer
    /// must not tell a real request from a simulated one.)
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn mail_code_in_background(
        &self,
        pool: &UserPool,
        kind: &str,
        id: &str,
        user: &User,
        to: &Destination,
        source: MessageSource,
        lang: &str,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<()> {
        let message = self
            .stored_code_message(kind, id, user, to, source, caller, now)
            .await?;
        let sender = self.sender();
        let pool = pool.clone();
        let to = to.clone();
        let purpose = purpose_of(kind);
        let lang = lang.to_string();
        let kind = kind.to_string();
        tokio::spawn(async move {
            if let Err(e) = sender.send_code(&pool, &to, &message, purpose, &lang).await {
                tracing::error!(pool = %pool.id, kind = %kind, error = %e, "code not sent");
            }
        });
        Ok(())
    }

    /// Draws a code, stores it under (kind, id) for `to` (replacing the earlier one), and
    /// describes its message: the first steps of [`Self::mail_code`] and
    /// [`Self::mail_code_in_background`].
    #[allow(clippy::too_many_arguments)]
    async fn stored_code_message(
        &self,
        kind: &str,
        id: &str,
        user: &User,
        to: &Destination,
        source: MessageSource,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<CodeMessage> {
        let code = generate_code();
        let destination = match to {
            Destination::Email(address) => address.clone(),
            Destination::Phone(phone) => normalize_phone(phone),
        };
        self.issue_code(kind, id, &code, Some(&destination), validity_of(kind), now)
            .await?;
        Ok(CodeMessage {
            source,
            user_name: user.username.clone(),
            user_attributes: user_attributes(user),
            code,
            caller: caller.clone(),
        })
    }
}

/// Whether the pool verifies phone numbers by SMS (auto-verified, and it can send SMS).
pub(super) fn verifies_phone(pool: &UserPool) -> bool {
    pool.auto_verified_attributes
        .contains(&AliasAttribute::PhoneNumber)
        && sms_available(pool)
}

/// Where a sign-up confirmation code goes: the user's phone number when the pool verifies
/// phone numbers (Cognito: with both auto-verified, the code goes to the phone), else their
/// email when the pool verifies email.
pub(super) fn verifiable_destination(pool: &UserPool, user: &User) -> Option<Destination> {
    if verifies_phone(pool) {
        if let Some(phone) = user.attribute("phone_number") {
            return Some(Destination::Phone(normalize_phone(phone)));
        }
    }
    if !pool
        .auto_verified_attributes
        .contains(&AliasAttribute::Email)
    {
        return None;
    }
    user.attribute("email")
        .map(|e| Destination::Email(e.to_string()))
}

/// Where a reset code goes (Cognito's default account recovery: the verified email, else
/// the verified phone number by SMS when the pool can send SMS).
pub(crate) fn recovery_destination(pool: &UserPool, user: &User) -> Option<Destination> {
    let verified = |flag: &str| user.attribute(flag) == Some("true");
    if let Some(email) = user
        .attribute("email")
        .filter(|_| verified("email_verified"))
    {
        return Some(Destination::Email(email.to_string()));
    }
    user.attribute("phone_number")
        .filter(|_| verified("phone_number_verified") && sms_available(pool))
        .map(|phone| Destination::Phone(normalize_phone(phone)))
}

/// The answer's `CodeDeliveryDetails` for a code sent to `to`.
pub(crate) fn delivered_to(to: &Destination) -> CodeDelivery {
    match to {
        Destination::Email(address) => CodeDelivery::email(address),
        Destination::Phone(phone) => CodeDelivery::phone(phone),
    }
}

/// A delivery failure as the account flows answer it: a message webhook's failure is
/// Cognito's `UserLambdaValidationException` ("CustomMessage failed with error ...").
pub(crate) fn delivery_error(e: DeliveryError) -> AccountError {
    match e {
        DeliveryError::Trigger(t) => t.into(),
        e @ (DeliveryError::Mail(_) | DeliveryError::NoSmsSender) => {
            AccountError::CodeDeliveryFailure(e.to_string())
        }
    }
}
