//! Delivering one-time codes by email or SMS: the one seam every code of the account
//! flows goes out through ([`CodeSender::send_code`]), whatever it is for (sign-up,
//! resend, forgot password, attribute verification, an administrator's invitation, a
//! sign-in's second factor).
//!
//! **Email**: through the pool's custom email sender webhook when it declares one
//! (`CustomEmailSender_<source>`, the code encrypted, [`crate::core::triggers::jwe`]);
//! else Cognate writes the mail ([`MailRouter::code_mail`]), lets the custom message
//! webhook rewrite its subject and body (`CustomMessage_<source>`), and sends it by SMTP.
//!
//! **SMS**: Cognate has no SMS gateway of its own. A text message goes out ONLY through
//! the pool's custom SMS sender webhook (`CustomSMSSender_<source>`, type
//! `customSMSSenderRequestV1`, the code encrypted to the pool's sender key), which
//! writes and delivers the message through whatever provider the operator uses. A pool
//! without one (or without a sender key) cannot send SMS: [`sms_available`] says so
//! before a flow promises a code by SMS, and [`CodeSender::send_code`] refuses with
//! [`DeliveryError::NoSmsSender`]. As with Cognito's custom senders, the custom message
//! trigger is not called for a message a custom sender delivers (the sender writes it).
//!
//! **Use it for any SMS code** (SMS_MFA included): draw and store the code, reserve the
//! phone number's send budget with the number normalized by [`normalize_phone`]
//! (`AccountService::reserve`), then call [`CodeSender::send_code`] with
//! [`Destination::Phone`] and the [`MessageSource`] of the purpose
//! (`MessageSource::Authentication` for a sign-in's code), and answer
//! `CodeDeliveryDetails` with [`CodeDelivery::phone`] (`SMS`, `+*******1234`).
//!
//! Never log the code: [`CodeMessage`]'s `Debug` leaves it out, errors never carry it.

use std::sync::Arc;

use super::mail::{CodePurpose, Mail, MailError, MailRouter, Mailer};
use super::model::{TriggerKind, UserPool};
use super::triggers::senders::CodeMessage;
use super::triggers::{TriggerError, Webhooks};

pub use super::directory::normalize_phone;
pub use super::triggers::senders::MessageSource;

/// Where a code goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// An email address.
    Email(String),
    /// A phone number, E.164 ([`normalize_phone`]).
    Phone(String),
}

impl Destination {
    /// The address or number (the key of its budgets).
    pub fn address(&self) -> &str {
        match self {
            Destination::Email(a) | Destination::Phone(a) => a,
        }
    }
}

/// Where a code went, as Cognito's `CodeDeliveryDetails` say it: `DeliveryMedium`
/// (`EMAIL` or `SMS`), `AttributeName` and the masked `Destination`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeDelivery {
    pub medium: &'static str,
    pub attribute_name: &'static str,
    pub destination: String,
}

impl CodeDelivery {
    /// `SMS` to `phone_number`, masked as Cognito masks it: `+*******1234`.
    pub fn phone(phone: &str) -> Self {
        CodeDelivery {
            medium: "SMS",
            attribute_name: "phone_number",
            destination: mask_phone(phone),
        }
    }
}

/// Masks a phone number as Cognito's CodeDeliveryDetails do: `+`, a star for each digit
/// but the last four, and the last four (`+15555551234` -> `+*******1234`).
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = normalize_phone(phone)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let shown = digits.len().saturating_sub(4);
    let mut out = String::from("+");
    out.extend(std::iter::repeat_n('*', shown));
    out.extend(&digits[shown..]);
    out
}

/// Whether the pool can send codes by SMS: it declares a custom SMS sender webhook and a
/// sender key to encrypt the codes to.
pub fn sms_available(pool: &UserPool) -> bool {
    pool.triggers.url(TriggerKind::CustomSmsSender).is_some()
        && pool.triggers.sender_key().is_some()
}

/// The refusal of an SMS where [`sms_available`] is false (the message names the cure).
pub const NO_SMS_SENDER: &str = "this pool cannot send SMS: Cognate sends text messages only \
     through a custom SMS sender webhook (LambdaConfig.CustomSMSSender with KMSKeyID, or \
     [pools.triggers] custom_sms_sender with sender_key)";

/// Why a code was not delivered. No variant carries the code.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// SMS asked of a pool without a custom SMS sender ([`NO_SMS_SENDER`]).
    #[error("{NO_SMS_SENDER}")]
    NoSmsSender,
    /// A message trigger failed (`CustomMessage failed with error ...`).
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    /// SMTP failed.
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Sends codes (see the module documentation). Cheap to clone; a clone may be moved into a
/// background task.
#[derive(Clone)]
pub struct CodeSender {
    mail: MailRouter,
    webhooks: Option<Webhooks>,
}

impl std::fmt::Debug for CodeSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeSender")
            .field("mail", &self.mail)
            .finish_non_exhaustive()
    }
}

impl CodeSender {
    pub fn new(mail: MailRouter, webhooks: Option<Webhooks>) -> Self {
        CodeSender { mail, webhooks }
    }

    /// Delivers `message.code` to `to`. `purpose` and `lang` choose Cognate's own mail
    /// text (when no custom email sender writes the message).
    pub async fn send_code(
        &self,
        pool: &UserPool,
        to: &Destination,
        message: &CodeMessage,
        purpose: CodePurpose,
        lang: &str,
    ) -> Result<(), DeliveryError> {
        let sender = |kind| {
            self.webhooks
                .as_ref()
                .filter(|_| pool.triggers.url(kind).is_some())
        };
        match to {
            Destination::Phone(_) => {
                let webhooks = sender(TriggerKind::CustomSmsSender)
                    .filter(|_| sms_available(pool))
                    .ok_or(DeliveryError::NoSmsSender)?;
                match webhooks
                    .custom_sender(pool, TriggerKind::CustomSmsSender, message)
                    .await
                {
                    Some(result) => Ok(result?),
                    None => Err(DeliveryError::NoSmsSender),
                }
            }
            Destination::Email(address) => {
                let mail = self.mail.code_mail(purpose, address, &message.code, lang);
                self.send_mail(pool, message, mail).await
            }
        }
    }

    /// Delivers `message.code` by email where Cognate's own message would be `mail` (a
    /// code mail, or AdminCreateUser's invitation): through the custom email sender when
    /// the pool declares one, else `mail` as the custom message webhook rewrites it, by
    /// SMTP.
    pub async fn send_mail(
        &self,
        pool: &UserPool,
        message: &CodeMessage,
        mut mail: Mail,
    ) -> Result<(), DeliveryError> {
        let sender = |kind| {
            self.webhooks
                .as_ref()
                .filter(|_| pool.triggers.url(kind).is_some())
        };
        if let Some(webhooks) = sender(TriggerKind::CustomEmailSender) {
            if let Some(result) = webhooks
                .custom_sender(pool, TriggerKind::CustomEmailSender, message)
                .await
            {
                return Ok(result?);
            }
        }
        if let Some(webhooks) = sender(TriggerKind::CustomMessage) {
            if let Some(answer) = webhooks.custom_message(pool, message).await {
                let text = answer?;
                if let Some(subject) = text.email_subject {
                    mail.subject = subject;
                }
                if let Some(body) = text.email_message {
                    mail.text = body;
                }
            }
        }
        let mailer: Arc<dyn Mailer> = self.mail.for_user_pool(pool);
        Ok(mailer.send(&mail).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_masked_as_cognito_masks_them() {
        assert_eq!(mask_phone("+15555551234"), "+*******1234");
        assert_eq!(mask_phone(" +1 (555) 555-1234 "), "+*******1234");
        assert_eq!(mask_phone("+123"), "+123");
        let d = CodeDelivery::phone("+447700900123");
        assert_eq!(
            (d.medium, d.attribute_name, d.destination.as_str()),
            ("SMS", "phone_number", "+********0123")
        );
    }
}
