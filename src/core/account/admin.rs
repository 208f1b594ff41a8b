//! What an administrator does to an account, as Cognito's signed admin actions have it:
//! AdminCreateUser's invitation (a temporary password, FORCE_CHANGE_PASSWORD for the
//! pool's temporary-password validity, the invitation mail, `MessageAction` RESEND and
//! SUPPRESS), AdminResetUserPassword (RESET_REQUIRED and a reset code mailed: the user
//! then finishes with ConfirmForgotPassword), and AdminConfirmSignUp.
//!
//! These calls are signed with operator credentials, so unlike the public flows they do
//! not hide whether a user exists (Cognito answers them `UserNotFoundException`), and they
//! take no code budget: the budgets protect an address from whoever can reach the public
//! API, and an operator can do anything to the account anyway.

use std::collections::BTreeMap;

use super::codes::code_id;
use super::{
    AccountError, AccountResult, AccountService, CodeDelivery, RESET_CODE_KIND, SIGNUP_CODE_KIND,
};
use crate::core::delivery::{sms_available, Destination};
use crate::core::directory::{DirectoryError, InitialState, NewUser};
use crate::core::mail::CodePurpose;
use crate::core::model::{User, UserPool, UserStatus};
use crate::core::secrets::SecretString;
use crate::core::signout;
use crate::core::storage::{Conflict, UserRef};
use crate::core::triggers::TriggerCaller;
use crate::core::UnixTime;

/// Why an administrator's account action was refused: an account error, or the user's
/// state does not allow it (Cognito's `UnsupportedUserStateException`).
#[derive(Debug, thiserror::Error)]
pub enum AdminUserError {
    #[error(transparent)]
    Account(#[from] AccountError),
    /// Cognito's `UnsupportedUserStateException` (RESEND to a user who already chose a
    /// password, say).
    #[error("{0}")]
    UnsupportedUserState(String),
    /// The federated identity is already a user, or linked to another one (Cognito's
    /// `AliasExistsException` for AdminLinkProviderForUser: it does not merge users).
    #[error("{0}")]
    LinkExists(String),
    /// The user has as many links as Cognito allows (`LimitExceededException`).
    #[error("{0}")]
    LimitExceeded(String),
}

impl From<DirectoryError> for AdminUserError {
    fn from(e: DirectoryError) -> Self {
        AdminUserError::Account(e.into())
    }
}

pub type AdminUserResult<T> = Result<T, AdminUserError>;

/// AdminCreateUser's `MessageAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// Absent: create the user and mail the invitation.
    Send,
    /// Re-invite an existing FORCE_CHANGE_PASSWORD user with a new temporary password
    /// (and a new validity period).
    Resend,
    /// Create the user and mail nothing.
    Suppress,
}

/// AdminCreateUser's `DesiredDeliveryMediums`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMedium {
    Email,
    /// A text message through the pool's custom SMS sender (`CustomSMSSender_AdminCreateUser`,
    /// the temporary password encrypted as the code); refused for a pool that cannot
    /// send SMS.
    Sms,
}

/// An AdminCreateUser request, as the core reads it.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// The username, or with email/phone-as-username the address.
    pub username: String,
    /// `UserAttributes`: an administrator may set `email_verified` and
    /// `phone_number_verified` (Cognito lets admins vouch for an address).
    pub attributes: BTreeMap<String, String>,
    /// `TemporaryPassword`; one satisfying the pool's policy is drawn when absent.
    pub temporary_password: Option<SecretString>,
    pub action: MessageAction,
    /// `DesiredDeliveryMediums` (empty: email when the user has an address, else SMS
    /// when the user has a phone number and the pool can send SMS).
    pub mediums: Vec<DeliveryMedium>,
    /// `ForceAliasCreation`: a verified email or phone number that is another user's
    /// alias moves to the new user (the other user's copy becomes unverified, so it no
    /// longer signs in with it), instead of `AliasExists`.
    pub force_alias: bool,
    /// The language of the mail.
    pub lang: String,
    /// `ValidationData` and `ClientMetadata`, for the pre sign-up webhook
    /// (`PreSignUp_AdminCreateUser`, called with no app client).
    pub caller: TriggerCaller,
}

/// What AdminCreateUser did.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The user, FORCE_CHANGE_PASSWORD.
    pub user: User,
    /// Where the invitation went; `None` with SUPPRESS.
    pub delivery: Option<CodeDelivery>,
}

mod invitation;

pub use invitation::generate_temporary_password;
use invitation::invitation_targets;

impl AccountService {
    /// AdminCreateUser: creates a FORCE_CHANGE_PASSWORD user with a temporary password
    /// (given, or drawn to satisfy the pool's policy), valid for the pool's
    /// `temporary_password_validity_days`, and mails the invitation (username and
    /// temporary password) to the user's email unless SUPPRESS. RESEND instead gives an
    /// existing FORCE_CHANGE_PASSWORD user a new temporary password and a new validity, and
    /// mails it again (`UserNotFound` for nobody, `UnsupportedUserState` for a user past
    /// that state). A taken username is `UsernameExists`; a verified email or phone
    /// number that is another user's alias is `AliasExists` (Cognito without
    /// ForceAliasCreation). When the invitation cannot be mailed the new user is removed
    /// again (`CodeDeliveryFailure`), so the call can simply be repeated.
    pub async fn admin_create_user(
        &self,
        pool: &UserPool,
        invitation: Invitation,
        now: UnixTime,
    ) -> AdminUserResult<Invited> {
        let Invitation {
            username,
            attributes,
            temporary_password,
            action,
            mediums,
            lang,
            force_alias,
            caller,
        } = invitation;
        let password = match temporary_password {
            Some(pw) => {
                self.directory
                    .check_new_password(pool, &pw)
                    .await
                    .map_err(AccountError::InvalidPassword)?;
                pw
            }
            None => generate_temporary_password(&pool.password_policy),
        };
        if action == MessageAction::Resend {
            return self
                .resend_invitation(pool, &username, &password, &mediums, &lang, now)
                .await;
        }
        // Check the medium before anything is stored, so a refused call leaves nothing.
        let to_mail = action == MessageAction::Send;
        if to_mail {
            let email = attributes.get("email").map(String::as_str).or_else(|| {
                // With email-as-username the username is the address.
                username.contains('@').then_some(username.as_str())
            });
            let phone = attributes
                .get("phone_number")
                .map(String::as_str)
                .or_else(|| {
                    // With phone-as-username the username is the number.
                    username.trim().starts_with('+').then_some(username.trim())
                });
            invitation_targets(sms_available(pool), email, phone, &mediums)?;
        }
        // The pool's pre sign-up webhook (`PreSignUp_AdminCreateUser`) may refuse the user
        // before anything is stored; its answer has nothing to apply to an invited user.
        if let Some(webhooks) = self.directory.webhooks() {
            webhooks
                .pre_sign_up(
                    pool,
                    "PreSignUp_AdminCreateUser",
                    username.trim(),
                    &attributes,
                    &caller,
                )
                .await
                .map_err(AccountError::from)?;
        }
        let new = NewUser {
            username: username.trim().to_string(),
            attributes,
            password: Some(password.clone()),
            state: InitialState::ForceChangePassword,
        };
        let mut created = self.directory.create_user(pool, new.clone(), now).await;
        if force_alias {
            // One retry per alias moved (email, then phone number): another writer taking
            // the alias meanwhile is answered AliasExists, as without the flag.
            for _ in 0..2 {
                let Err(DirectoryError::Conflict(conflict)) = &created else {
                    break;
                };
                if !self
                    .move_alias(pool, *conflict, &new.attributes, now)
                    .await?
                {
                    break;
                }
                created = self.directory.create_user(pool, new.clone(), now).await;
            }
        }
        let user = match created {
            Ok(user) => user,
            Err(DirectoryError::Conflict(Conflict::Username | Conflict::Exists)) => {
                return Err(AccountError::UsernameExists.into())
            }
            Err(DirectoryError::Conflict(_)) => return Err(AccountError::AliasExists.into()),
            Err(e) => return Err(e.into()),
        };
        if !to_mail {
            return Ok(Invited {
                user,
                delivery: None,
            });
        }
        match self
            .mail_invitation(pool, &user, &password, &mediums, &lang)
            .await
        {
            Ok(delivery) => Ok(Invited {
                user,
                delivery: Some(delivery),
            }),
            Err(e) => {
                tracing::warn!(pool = %pool.id, error = %e, "invitation not sent; user removed");
                let _ = self.directory.delete_user(pool, &user.sub).await;
                Err(e.into())
            }
        }
    }

    /// ForceAliasCreation: the user holding the email address or phone number of
    /// `attributes` as a verified alias loses its verification of it (Cognito: "the
    /// previous user will no longer be able to log in using that alias"). Returns whether
    /// an alias was moved; a username or preferred_username is never taken from anyone.
    async fn move_alias(
        &self,
        pool: &UserPool,
        conflict: Conflict,
        attributes: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> AdminUserResult<bool> {
        use crate::core::directory::{normalize_email, normalize_phone};
        let (by, flag) = match conflict {
            Conflict::Email => match attributes.get("email") {
                Some(e) => (UserRef::Email(normalize_email(e)), "email_verified"),
                None => return Ok(false),
            },
            Conflict::PhoneNumber => match attributes.get("phone_number") {
                Some(p) => (
                    UserRef::PhoneNumber(normalize_phone(p)),
                    "phone_number_verified",
                ),
                None => return Ok(false),
            },
            _ => return Ok(false),
        };
        let Some(holder) = self
            .store()
            .get_user(&pool.id, &by)
            .await
            .map_err(AccountError::from)?
        else {
            // Gone meanwhile: the retry may simply succeed.
            return Ok(true);
        };
        self.directory
            .modify_user(pool, &holder.sub, |u| {
                u.attributes.insert(flag.to_string(), "false".to_string());
                u.updated_at = now;
                Ok(())
            })
            .await?;
        tracing::info!(pool = %pool.id, from = %holder.sub, "AdminCreateUser moved an alias (ForceAliasCreation)");
        Ok(true)
    }

    /// RESEND: a new temporary password and validity for a FORCE_CHANGE_PASSWORD user,
    /// mailed again.
    async fn resend_invitation(
        &self,
        pool: &UserPool,
        username: &str,
        password: &SecretString,
        mediums: &[DeliveryMedium],
        lang: &str,
        now: UnixTime,
    ) -> AdminUserResult<Invited> {
        let user = self.directory.require_user(pool, username.trim()).await?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(AdminUserError::UnsupportedUserState(format!(
                "Resend not possible. {} status is not FORCE_CHANGE_PASSWORD (it is {}).",
                user.username, user.status
            )));
        }
        invitation_targets(
            sms_available(pool),
            user.attribute("email"),
            user.attribute("phone_number"),
            mediums,
        )?;
        let user = self
            .directory
            .set_password(pool, &user.sub, password, false, now)
            .await?;
        let delivery = self
            .mail_invitation(pool, &user, password, mediums, lang)
            .await?;
        Ok(Invited {
            user,
            delivery: Some(delivery),
        })
    }

    async fn mail_invitation(
        &self,
        pool: &UserPool,
        user: &User,
        password: &SecretString,
        mediums: &[DeliveryMedium],
        lang: &str,
    ) -> AccountResult<CodeDelivery> {
        let targets = invitation_targets(
            sms_available(pool),
            user.attribute("email"),
            user.attribute("phone_number"),
            mediums,
        )?;
        // What the person types to sign in: with email- or phone-as-username the stored
        // username is the sub, which nobody types, so the message names the address.
        let login = if pool.username_attributes.is_empty() {
            user.username.as_str()
        } else if pool
            .username_attributes
            .contains(&crate::core::model::AliasAttribute::Email)
        {
            user.attribute("email").unwrap_or(&user.username)
        } else {
            user.attribute("phone_number").unwrap_or(&user.username)
        };
        // The custom message and custom sender triggers see the temporary password as the
        // code (`CustomMessage_AdminCreateUser`, `CustomEmailSender_AdminCreateUser`,
        // `CustomSMSSender_AdminCreateUser`, encrypted to the pool's sender key).
        let message = crate::core::triggers::CodeMessage {
            source: crate::core::delivery::MessageSource::AdminCreateUser,
            user_name: login.to_string(),
            user_attributes: crate::core::triggers::events::user_attributes(user),
            code: password.expose().to_string(),
            caller: crate::core::triggers::TriggerCaller::default(),
        };
        let mut first = None;
        for to in &targets {
            let delivery = match to {
                Destination::Email(email) => {
                    let mail = self.mail.invitation_mail(email, login, password, lang);
                    self.sender()
                        .send_mail(pool, &message, mail)
                        .await
                        .map_err(super::delivery_error)?;
                    CodeDelivery::email(email)
                }
                Destination::Phone(phone) => {
                    // The SMS sender writes the text; the purpose only names mail text.
                    self.sender()
                        .send_code(pool, to, &message, CodePurpose::Verification, lang)
                        .await
                        .map_err(super::delivery_error)?;
                    CodeDelivery::phone(phone)
                }
            };
            first.get_or_insert(delivery);
        }
        first.ok_or_else(|| {
            AccountError::param("DesiredDeliveryMediums", "no medium to send the invitation")
        })
    }

    /// AdminResetUserPassword: the user's password stops working (RESET_REQUIRED: a
    /// password sign-in is answered `PasswordResetRequired`), the user is signed out
    /// everywhere, and a reset code (valid 1 hour, the code
    /// [`AccountService::confirm_forgot_password`] checks) is sent to the verified email, else
    /// by SMS to the verified phone number when the pool can send SMS. Cognito refuses a user without a verified address to send it to
    /// ("Cannot reset password for the user as there is no registered/verified email or
    /// phone_number"), and a federated user has no password to reset.
    pub async fn admin_reset_user_password(
        &self,
        pool: &UserPool,
        user: &User,
        lang: &str,
        now: UnixTime,
    ) -> AdminUserResult<CodeDelivery> {
        if user.status == UserStatus::ExternalProvider {
            return Err(AccountError::param(
                "Username",
                "a federated user has no password in this pool",
            )
            .into());
        }
        let Some(to) = super::recovery_destination(pool, user) else {
            return Err(AccountError::param(
                "",
                "Cannot reset password for the user as there is no registered/verified email \
                 or phone_number",
            )
            .into());
        };
        self.directory
            .modify_user(pool, &user.sub, |u| {
                u.status = UserStatus::ResetRequired;
                u.temporary_password_expires_at = None;
                u.updated_at = now;
                Ok(())
            })
            .await?;
        // The reset says the password may be known to someone else: what it already
        // opened ends too (sessions, refresh tokens, earlier access tokens).
        signout::sign_out_everywhere(self.store().as_ref(), &pool.id, &user.sub, now)
            .await
            .map_err(AccountError::from)?;
        let id = code_id(pool, &user.sub);
        self.mail_code(
            pool,
            RESET_CODE_KIND,
            &id,
            user,
            &to,
            crate::core::delivery::MessageSource::ForgotPassword,
            lang,
            &crate::core::triggers::TriggerCaller::default(),
            now,
        )
        .await?;
        Ok(super::delivered_to(&to))
    }

    /// AdminDeleteUser: as DeleteUser ([`AccountService::delete_self`]), the user is signed
    /// out everywhere before it is removed, so no refresh token, session or earlier access
    /// token outlives the account.
    pub async fn admin_delete_user(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> AdminUserResult<()> {
        Ok(self.delete_self(pool, &user.sub, now).await?)
    }

    /// AdminUpdateUserAttributes: the directory's rules apply (immutable custom attributes,
    /// alias uniqueness). An administrator may set `email_verified` and
    /// `phone_number_verified`; a new email or phone number given without its `*_verified`
    /// flag is unverified (it stops being a sign-in alias until verified), since nobody
    /// proved the new address. Writing `email` drops the user's pending email change
    /// ([`crate::core::directory::Directory::update_attributes`]). `sub` is never changed.
    pub async fn admin_update_attributes(
        &self,
        pool: &UserPool,
        user: &User,
        mut changes: BTreeMap<String, String>,
        now: UnixTime,
    ) -> AccountResult<User> {
        if changes.contains_key("sub") {
            return Err(AccountError::param(
                "UserAttributes",
                "sub cannot be changed.",
            ));
        }
        for (attr, flag) in [
            ("email", "email_verified"),
            ("phone_number", "phone_number_verified"),
        ] {
            if let Some(new) = changes.get(attr) {
                if user.attribute(attr) != Some(new.as_str()) && !changes.contains_key(flag) {
                    changes.insert(flag.to_string(), "false".to_string());
                }
            }
        }
        Ok(self
            .directory
            .update_attributes(pool, &user.sub, &changes, now)
            .await?)
    }

    /// AdminDeleteUserAttributes: each named attribute removed under the directory's rules;
    /// `sub` is never deleted.
    pub async fn admin_delete_attributes(
        &self,
        pool: &UserPool,
        user: &User,
        names: Vec<String>,
        now: UnixTime,
    ) -> AccountResult<User> {
        if names.iter().any(|n| n == "sub") {
            return Err(AccountError::param(
                "UserAttributeNames",
                "sub cannot be deleted.",
            ));
        }
        let changes: BTreeMap<String, String> =
            names.into_iter().map(|n| (n, String::new())).collect();
        Ok(self
            .directory
            .update_attributes(pool, &user.sub, &changes, now)
            .await?)
    }

    /// AdminConfirmSignUp: an UNCONFIRMED user becomes CONFIRMED without a code (no
    /// attribute is verified by it, as in Cognito), and a pending confirmation code is
    /// dropped. Any other status is refused as Cognito refuses it ("User cannot be
    /// confirmed. Current status is CONFIRMED").
    pub async fn admin_confirm_sign_up(
        &self,
        pool: &UserPool,
        user: &User,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AdminUserResult<User> {
        let confirmed = self
            .directory
            .modify_user(pool, &user.sub, |u| {
                if u.status != UserStatus::Unconfirmed {
                    return Err(DirectoryError::InvalidParameter(u.status.to_string()));
                }
                u.status = UserStatus::Confirmed;
                u.updated_at = now;
                Ok(())
            })
            .await;
        let confirmed = match confirmed {
            Ok(user) => user,
            Err(DirectoryError::InvalidParameter(status)) => {
                return Err(AccountError::NotAuthorized(format!(
                    "User cannot be confirmed. Current status is {status}"
                ))
                .into())
            }
            Err(e) => return Err(e.into()),
        };
        self.store()
            .delete_ephemeral(SIGNUP_CODE_KIND, &code_id(pool, &user.sub))
            .await
            .map_err(AccountError::from)?;
        self.post_confirmation(pool, "PostConfirmation_ConfirmSignUp", &confirmed, caller)
            .await;
        Ok(confirmed)
    }

    /// The user an admin action names: by username, alias, or `sub` (Cognito's admin
    /// actions take any of them); `UserNotFound` otherwise.
    pub async fn admin_user(&self, pool: &UserPool, login: &str) -> AccountResult<User> {
        Ok(self.directory.require_user(pool, login).await?)
    }

    /// AdminSetUserPassword: the directory's password writer ([`Directory::set_password`]:
    /// the policy, the hash and SRP verifier, CONFIRMED or FORCE_CHANGE_PASSWORD by
    /// `permanent`), recorded in the auth event log (`PasswordChange` by `admin`).
    ///
    /// [`Directory::set_password`]: crate::core::directory::Directory::set_password
    pub async fn admin_set_user_password(
        &self,
        pool: &UserPool,
        user: &User,
        password: &SecretString,
        permanent: bool,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> Result<User, DirectoryError> {
        let result = self
            .directory
            .set_password(pool, &user.sub, password, permanent, now)
            .await;
        let permanence = if permanent { "permanent" } else { "temporary" };
        let mut details = vec![("by", "admin"), ("password", permanence)];
        if result.is_err() {
            details.push(("reason", "refused"));
        }
        self.directory
            .record_event(
                pool,
                crate::core::threat::Subject::User(user),
                crate::core::model::AuthEventKind::PasswordChange,
                crate::core::threat::outcome_of(&result),
                context,
                &details,
                now,
            )
            .await;
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::core::directory::Directory;
    use crate::core::mail::{Mail, MailError, MailRouter, Mailer};
    use crate::core::password::{check_policy, Passwords};
    use crate::core::storage::Store;
    use crate::store::sqlite::SqliteStore;

    const NOW: UnixTime = 1_800_000_000;
    const DAY: i64 = 86_400;

    /// Keeps what it is asked to send.
    #[derive(Default)]
    struct Outbox(Mutex<Vec<Mail>>);

    #[async_trait::async_trait]
    impl Mailer for Outbox {
        async fn send(&self, mail: &Mail) -> Result<(), MailError> {
            self.0.lock().unwrap().push(mail.clone());
            Ok(())
        }
    }

    fn pool() -> UserPool {
        serde_json::from_value(serde_json::json!({
            "id": "us-east-1_AdmCore01",
            "name": "admin core",
            "alias_attributes": ["email"],
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap()
    }

    async fn service() -> (tempfile::TempDir, AccountService, Arc<Outbox>) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("admin.db"))
            .await
            .unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        store.put_pool(&pool()).await.unwrap();
        let outbox = Arc::new(Outbox::default());
        let accounts = AccountService::new(
            Directory::new(store, Passwords::standard().unwrap()),
            MailRouter::new(outbox.clone()),
        );
        (dir, accounts, outbox)
    }

    fn invitation(action: MessageAction, password: Option<&str>) -> Invitation {
        Invitation {
            username: "ivy".into(),
            attributes: [("email".to_string(), "ivy@example.com".to_string())].into(),
            temporary_password: password.map(SecretString::new),
            action,
            mediums: Vec::new(),
            lang: "en".into(),
            force_alias: false,
            caller: TriggerCaller::default(),
        }
    }

    #[tokio::test]
    async fn a_temporary_password_expires_with_the_pools_validity_and_resend_renews_it() {
        let (_dir, accounts, outbox) = service().await;
        let pool = pool();
        let given = "Given-temp-passw0rd";
        let invited = accounts
            .admin_create_user(&pool, invitation(MessageAction::Suppress, Some(given)), NOW)
            .await
            .unwrap();
        assert_eq!(invited.user.status, UserStatus::ForceChangePassword);
        assert_eq!(
            invited.user.temporary_password_expires_at,
            Some(NOW + 7 * DAY)
        );
        assert!(invited.delivery.is_none());
        assert!(
            outbox.0.lock().unwrap().is_empty(),
            "SUPPRESS mails nothing"
        );

        let directory = accounts.directory();
        let sign_in = |password: String, at: UnixTime| {
            let pool = pool.clone();
            async move {
                directory
                    .authenticate(&pool, "ivy", &SecretString::new(password), at)
                    .await
            }
        };
        sign_in(given.into(), NOW + 7 * DAY - 1)
            .await
            .expect("valid until the end of its validity");
        assert!(matches!(
            sign_in(given.into(), NOW + 7 * DAY).await,
            Err(DirectoryError::TemporaryPasswordExpired)
        ));

        // RESEND, eight days later: a new password, a new validity, a mail carrying both
        // the username and that password.
        let later = NOW + 8 * DAY;
        let resent = accounts
            .admin_create_user(&pool, invitation(MessageAction::Resend, None), later)
            .await
            .unwrap();
        assert_eq!(
            resent.user.temporary_password_expires_at,
            Some(later + 7 * DAY)
        );
        let mails = outbox.0.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to, "ivy@example.com");
        assert!(mails[0].text.contains("ivy"), "{}", mails[0].text);
        let password = mails[0]
            .text
            .split("temporary password is ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap()
            .to_string();
        assert!(check_policy(&pool.password_policy, &password).is_ok());
        assert!(
            !format!("{:?}", mails[0]).contains(&password),
            "Debug hides it"
        );
        assert!(sign_in(given.into(), later).await.is_err());
        let user = sign_in(password, later + DAY)
            .await
            .expect("the new password");
        assert_eq!(user.status, UserStatus::ForceChangePassword);
    }

    #[tokio::test]
    async fn with_email_as_username_the_invitation_names_the_address() {
        let (_dir, accounts, outbox) = service().await;
        let mut pool = pool();
        pool.alias_attributes = Vec::new();
        pool.username_attributes = vec![crate::core::model::AliasAttribute::Email];
        accounts.store().put_pool(&pool).await.unwrap();
        let invited = accounts
            .admin_create_user(
                &pool,
                Invitation {
                    username: "zoe@example.com".into(),
                    attributes: Default::default(),
                    ..invitation(MessageAction::Send, None)
                },
                NOW,
            )
            .await
            .unwrap();
        assert_ne!(invited.user.username, "zoe@example.com", "the sub");
        assert_eq!(invited.user.attribute("email"), Some("zoe@example.com"));
        let mails = outbox.0.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        assert!(
            mails[0].text.contains("username is zoe@example.com"),
            "{}",
            mails[0].text
        );
        assert!(!mails[0].text.contains(&invited.user.username));
    }

    #[tokio::test]
    async fn admin_confirm_sign_up_takes_unconfirmed_users_only() {
        let (_dir, accounts, _) = service().await;
        let pool = pool();
        let user = accounts
            .directory()
            .create_user(
                &pool,
                NewUser {
                    username: "una".into(),
                    attributes: Default::default(),
                    password: Some(SecretString::new("Corr3ct-horse-1")),
                    state: InitialState::Unconfirmed,
                },
                NOW,
            )
            .await
            .unwrap();
        let confirmed = accounts
            .admin_confirm_sign_up(&pool, &user, &TriggerCaller::default(), NOW + 1)
            .await
            .unwrap();
        assert_eq!(confirmed.status, UserStatus::Confirmed);
        assert_eq!(confirmed.updated_at, NOW + 1);
        let again = accounts
            .admin_confirm_sign_up(&pool, &confirmed, &TriggerCaller::default(), NOW + 2)
            .await
            .unwrap_err();
        assert_eq!(
            again.to_string(),
            "User cannot be confirmed. Current status is CONFIRMED"
        );
    }
}
