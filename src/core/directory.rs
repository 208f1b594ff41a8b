//! The user directory: Cognito's rules for usernames, aliases, attributes, passwords and
//! status, on top of a [`Store`].

use unicode_normalization::UnicodeNormalization;

use super::admin::{AdminError, AdminService};
use super::model::{User, UserLookup, UserPool};
use super::triggers::Webhooks;

mod migration;
mod verifiers;

pub use migration::{MigrationSource, MIGRATION_CLAIM_KIND};

/// The key a username is stored and found under. Case-insensitive pools fold case here,
/// in Rust (NFKC, then Unicode lowercase), never by the database's collation, so SQLite
/// and PostgreSQL agree on which usernames collide.
pub fn normalize_username(pool: &UserPool, username: &str) -> String {
    let nfkc: String = username.nfkc().collect();
    if pool.username_case_sensitive {
        nfkc
    } else {
        nfkc.to_lowercase()
    }
}

/// Email aliases are matched case-insensitively (the domain is case-insensitive by
/// RFC 5321 and providers treat the local part so too).
pub fn normalize_email(email: &str) -> String {
    email.trim().nfkc().collect::<String>().to_lowercase()
}

/// A phone number in E.164 form (`+` and digits), the key it is indexed and budgeted
/// under: the spaces, dashes, dots and parentheses people type between digits are dropped
/// (`+1 (555) 555-1234` is `+15555551234`). Stored numbers are E.164 already
/// ([`super::attributes::validate_phone`]), so only typed logins change.
pub fn normalize_phone(phone: &str) -> String {
    phone
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
        .collect()
}

/// Whether an attribute counts as verified (`email_verified` = "true" and the like).
fn verified(user: &User, flag: &str) -> bool {
    user.attribute(flag) == Some("true")
}

/// Computes the keys a user is indexed under. An email or phone alias counts only once
/// verified, as in Cognito (an unverified address cannot take over another account's
/// sign-in identifier); with email-as-username the address is the identifier itself and
/// is indexed from the start. A verified `email` is also kept as a non-unique key, alias
/// or not: automatic account linking finds the users holding an address by it.
///
/// A federated user (`EXTERNAL_PROVIDER`, named `<Provider>_<id>`) signs in through its
/// IdP only, never with a password, so its email, phone number and preferred_username are
/// attributes, not sign-in identifiers: in Cognito a federated user beside a local user
/// with the same address is the ordinary case (it is what linking joins). Indexing them
/// would let a local sign-up that never confirmed the address (in an email-as-username
/// pool the address is indexed from sign-up) block its owner's first federated sign-in.
pub fn lookup_for(pool: &UserPool, user: &User) -> UserLookup {
    use super::model::AliasAttribute as A;
    let mut lookup = UserLookup {
        username: normalize_username(pool, &user.username),
        verified_email: user
            .attribute("email")
            .filter(|_| verified(user, "email_verified"))
            .map(normalize_email),
        ..UserLookup::default()
    };
    if user.status == UserStatus::ExternalProvider {
        return lookup;
    }
    for alias in pool.sign_in_aliases() {
        let as_username = pool.username_attributes.contains(&alias);
        match alias {
            A::Email => {
                if let Some(email) = user.attribute("email") {
                    if as_username || verified(user, "email_verified") {
                        lookup.email = Some(normalize_email(email));
                    }
                }
            }
            A::PhoneNumber => {
                if let Some(phone) = user.attribute("phone_number") {
                    if as_username || verified(user, "phone_number_verified") {
                        lookup.phone_number = Some(normalize_phone(phone));
                    }
                }
            }
            A::PreferredUsername => {
                if let Some(p) = user.attribute("preferred_username") {
                    lookup.preferred_username = Some(normalize_username(pool, p));
                }
            }
        }
    }
    lookup
}

// ------------------------------------------------------------------------------------------
// The directory service
// ------------------------------------------------------------------------------------------

use std::collections::BTreeMap;
use std::sync::Arc;

use super::attributes::{check_immutable, validate_attributes, AttributeError};
use super::ids::new_sub;
use super::model::{CompromisedPasswords, Group, Origin, UserStatus};
use super::password::{check_policy, PasswordError, Passwords, PolicyViolation};
use super::secrets::{MasterKey, SecretString};
use super::storage::{Conflict, Store, StoreError, UserRef};
use super::threat::compromised::CompromisedCheck;
use super::threat::AuthEvents;
use super::UnixTime;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("user pool {0} does not exist")]
    PoolNotFound(String),
    #[error("user does not exist")]
    UserNotFound,
    #[error("group {0} does not exist")]
    GroupNotFound(String),
    #[error("{0}")]
    Conflict(Conflict),
    #[error("invalid attribute {0}")]
    InvalidAttribute(#[from] AttributeError),
    #[error("invalid username: {0}")]
    InvalidUsername(String),
    #[error("{0}")]
    InvalidPassword(#[from] PolicyViolation),
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// Wrong password and unknown user alike (Cognito: "Incorrect username or password.").
    #[error("Incorrect username or password.")]
    NotAuthorized,
    #[error("User is disabled.")]
    UserDisabled,
    #[error("Temporary password has expired and must be reset by an administrator.")]
    TemporaryPasswordExpired,
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<StoreError> for DirectoryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(c) => DirectoryError::Conflict(c),
            other => DirectoryError::Store(other),
        }
    }
}

pub type DirectoryResult<T> = Result<T, DirectoryError>;

/// How a new user starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    /// Self sign-up: must confirm with a code before signing in.
    Unconfirmed,
    /// Created by an administrator with a permanent password (or none).
    Confirmed,
    /// Created by an administrator with a temporary password to change at first sign-in
    /// (Cognito's AdminCreateUser invitation state).
    ForceChangePassword,
    /// Moved in by the user migration webhook with `RESET_REQUIRED`: must reset the
    /// password before signing in.
    ResetRequired,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The username, or with email/phone-as-username the email address or phone number.
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub password: Option<SecretString>,
    pub state: InitialState,
}

/// Checks a username against Cognito's rules: 1 to 128 characters, no whitespace or
/// control characters.
pub fn validate_username(username: &str) -> DirectoryResult<()> {
    let len = username.chars().count();
    if len == 0 || len > 128 {
        return Err(DirectoryError::InvalidUsername(
            "must be 1 to 128 characters".into(),
        ));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DirectoryError::InvalidUsername(
            "must not contain spaces or control characters".into(),
        ));
    }
    Ok(())
}

/// Whether a sign-in identifier, as the directory folds it (NFKC, so a fullwidth `＠` or
/// `＋` counts as the ASCII one), could be taken for an email address: any `@` does.
/// Every stored address has one, so nothing without it can reach an email alias.
fn looks_like_email(folded: &str) -> bool {
    folded.contains('@')
}

/// Whether a folded identifier could be taken for a phone number: `+` then digits only,
/// the E.164 shape every stored number has.
fn looks_like_phone(folded: &str) -> bool {
    folded
        .strip_prefix('+')
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

/// Whether users of `pool` sign in with `alias` (as an alias or as the username).
fn signs_in_by(pool: &UserPool, alias: super::model::AliasAttribute) -> bool {
    pool.sign_in_aliases().any(|a| a == alias)
}

/// Why `identifier` may not be a username of `pool` because it is shaped like the email
/// addresses or phone numbers the pool's users sign in with, if it is.
fn alias_shape(pool: &UserPool, identifier: &str) -> Option<&'static str> {
    use super::model::AliasAttribute as A;
    let folded: String = identifier.nfkc().collect();
    if signs_in_by(pool, A::Email) && looks_like_email(&folded) {
        return Some("this pool signs users in by email address, so it must not contain @");
    }
    if signs_in_by(pool, A::PhoneNumber) && looks_like_phone(&folded) {
        return Some("this pool signs users in by phone number, so it must not be + and digits");
    }
    None
}

/// Why `identifier` (a username, or a preferred_username alias) may not be one in `pool`,
/// if it may not. Sign-in looks usernames up before aliases, so a username shaped like
/// another user's address would capture that user's sign-in and recovery. Cognito: "If
/// you choose email as an alias, a username can't match a valid email format. Similarly,
/// if you choose phone number as an alias, the service doesn't accept a username that
/// matches a valid phone number format" (Developer Guide, user pool attributes). The same
/// holds for a preferred_username alias: equal to another user's address, it would shadow
/// it or be shadowed by it, depending on the order of the lookups.
fn shape_refusal(pool: &UserPool, identifier: &str) -> Option<String> {
    if let Some(reason) = alias_shape(pool, identifier) {
        return Some(reason.into());
    }
    // A federated user is named `<ProviderName>_<upstream id>` (Cognito's convention, kept
    // by federation::flow): a local user so named would squat a name its first sign-in
    // through that provider needs, and be taken for that federated user. Compared as the
    // pool folds usernames, so a case-insensitive pool refuses `google_1` too.
    let key = normalize_username(pool, identifier);
    if let Some(provider) = pool
        .identity_providers
        .iter()
        .find(|p| key.starts_with(&normalize_username(pool, &format!("{}_", p.name))))
    {
        return Some(format!(
            "names starting with {}_ are kept for users who sign in through that identity \
             provider",
            provider.name
        ));
    }
    None
}

/// Checks a username proper (a pool without email- or phone-as-username) against the
/// pool's sign-in rules beyond [`validate_username`]: not shaped like an email address
/// when email is a sign-in alias, nor like a phone number when phone_number is, nor like
/// the name of a user of one of the pool's identity providers (`Google_...`). Local
/// sign-up, administrator creation and import all pass here; the store keeps usernames and
/// aliases in one space of login identifiers, so no username equals another user's alias.
pub fn check_username(pool: &UserPool, username: &str) -> DirectoryResult<()> {
    validate_username(username)?;
    match shape_refusal(pool, username) {
        Some(reason) => Err(DirectoryError::InvalidUsername(reason)),
        None => Ok(()),
    }
}

/// Checks the attributes that are sign-in identifiers of a local user: a preferred_username
/// alias obeys the shape rules of [`check_username`]. (A federated user's attributes are
/// no sign-in identifiers: see [`lookup_for`].)
pub fn check_login_attributes(
    pool: &UserPool,
    attributes: &BTreeMap<String, String>,
) -> DirectoryResult<()> {
    use super::model::AliasAttribute as A;
    if !pool.alias_attributes.contains(&A::PreferredUsername) {
        return Ok(());
    }
    match attributes
        .get("preferred_username")
        .and_then(|p| shape_refusal(pool, p))
    {
        Some(reason) => Err(DirectoryError::InvalidAttribute(AttributeError {
            name: "preferred_username".into(),
            reason,
        })),
        None => Ok(()),
    }
}

/// A group's settings (Cognito's CreateGroup parameters).
#[derive(Debug, Clone, Default)]
pub struct GroupSpec {
    pub name: String,
    pub description: Option<String>,
    /// Lower wins for `cognito:preferred_role`.
    pub precedence: Option<i64>,
    pub role_arn: Option<String>,
}

/// The user directory of every pool.
#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn Store>,
    passwords: Passwords,
    /// Seals users' SRP verifiers and the SRP sign-in state; without it (some unit tests)
    /// no verifier is made and `USER_SRP_AUTH` is unavailable.
    srp_key: Option<Arc<MasterKey>>,
    /// The pools' trigger webhooks; without it (unit tests) no trigger is called.
    webhooks: Option<Webhooks>,
    /// The auth event log (threat protection); without it (unit tests) nothing is
    /// recorded.
    events: Option<AuthEvents>,
    /// The compromised-password check (the common-password list, and the operator's
    /// breached-password corpus when one is configured).
    compromised: CompromisedCheck,
}

impl Directory {
    pub fn new(store: Arc<dyn Store>, passwords: Passwords) -> Self {
        Directory {
            store,
            passwords,
            srp_key: None,
            webhooks: None,
            events: None,
            compromised: CompromisedCheck::default(),
        }
    }

    /// This directory, checking new passwords against `check` (by default the built-in
    /// common-password list only).
    pub fn with_compromised_check(mut self, check: CompromisedCheck) -> Self {
        self.compromised = check;
        self
    }

    /// Checks a password being chosen (sign-up, change, reset, administrator set, new
    /// password challenge, lazy migration): the pool's policy, then, where the pool's
    /// threat protection asks (`compromised_passwords` `block` or `reset`), whether it is
    /// compromised (NIST SP 800-63B 5.1.1.2; Cognito's compromised-credentials check at
    /// sign-up and password change).
    pub async fn check_new_password(
        &self,
        pool: &UserPool,
        password: &SecretString,
    ) -> Result<(), PolicyViolation> {
        check_policy(&pool.password_policy, password.expose())?;
        if self.is_compromised(pool, password).await {
            return Err(PolicyViolation::compromised());
        }
        Ok(())
    }

    /// Whether the pool checks for compromised passwords and `password` is one.
    async fn is_compromised(&self, pool: &UserPool, password: &SecretString) -> bool {
        pool.threat_protection.compromised_passwords != CompromisedPasswords::Off
            && self.compromised.is_compromised(password).await
    }

    /// After a password sign-in proved `password` (`verified` is the user): with the
    /// pool's `compromised_passwords = "reset"` and a compromised password, the user is
    /// set to RESET_REQUIRED and the sign-in refused with PasswordResetRequired (Cognito's
    /// compromised-credentials `BLOCK` at sign-in: "it sets the user's UserStatus to
    /// RESET_REQUIRED"). SRP sign-ins never reach here: no password reaches Cognate.
    pub async fn reset_if_compromised(
        &self,
        pool: &UserPool,
        verified: DirectoryResult<User>,
        password: &SecretString,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        let user = verified?;
        if pool.threat_protection.compromised_passwords != CompromisedPasswords::Reset
            || !self.compromised.is_compromised(password).await
        {
            return Ok(user);
        }
        let expected = user.password_hash.clone();
        self.modify_user(pool, &user.sub, |u| {
            // Only the password just proven is condemned (a concurrent change wins).
            if u.password_hash == expected {
                u.status = UserStatus::ResetRequired;
                u.updated_at = now;
            }
            Ok(())
        })
        .await?;
        tracing::info!(pool = %pool.id, sub = %user.sub, "compromised password: reset required");
        Err(DirectoryError::PasswordResetRequired)
    }

    /// This directory, recording auth events of pools with threat protection on.
    pub fn with_events(mut self, events: AuthEvents) -> Self {
        self.events = Some(events);
        self
    }

    /// The auth event log, where there is one.
    pub fn events(&self) -> Option<&AuthEvents> {
        self.events.as_ref()
    }

    /// This directory, calling the pools' trigger webhooks through `webhooks`.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// The trigger webhooks, when this directory calls them.
    pub fn webhooks(&self) -> Option<&Webhooks> {
        self.webhooks.as_ref()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    pub async fn pool(&self, pool_id: &str) -> DirectoryResult<UserPool> {
        self.store
            .get_pool(pool_id)
            .await?
            .ok_or_else(|| DirectoryError::PoolNotFound(pool_id.to_string()))
    }

    /// Creates a user. With email- or phone-as-username, `new.username` is the address,
    /// which becomes the attribute, and the username proper is the new `sub` (Cognito's
    /// behaviour).
    pub async fn create_user(
        &self,
        pool: &UserPool,
        new: NewUser,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        use super::model::AliasAttribute as A;
        let sub = new_sub();
        let mut attributes = new.attributes;
        let username = if pool.username_attributes.is_empty() {
            check_username(pool, &new.username)?;
            new.username
        } else {
            let looks_like_email = new.username.contains('@');
            let attr = if looks_like_email && pool.username_attributes.contains(&A::Email) {
                "email"
            } else if !looks_like_email && pool.username_attributes.contains(&A::PhoneNumber) {
                "phone_number"
            } else {
                return Err(DirectoryError::InvalidUsername(format!(
                    "this pool signs users in by {}; the username must be one",
                    pool.username_attributes
                        .iter()
                        .map(|a| a.attribute_name())
                        .collect::<Vec<_>>()
                        .join(" or ")
                )));
            };
            if let Some(existing) = attributes.get(attr) {
                if existing != &new.username {
                    return Err(DirectoryError::InvalidParameter(format!(
                        "the username and the {attr} attribute differ"
                    )));
                }
            }
            attributes.insert(attr.to_string(), new.username);
            sub.clone()
        };
        validate_attributes(pool, &attributes, true)?;
        check_login_attributes(pool, &attributes)?;
        let (password_hash, srp) = match &new.password {
            // A user created RESET_REQUIRED (a lazy migration whose password is
            // compromised) cannot sign in with it: only the policy applies.
            Some(pw) if new.state == InitialState::ResetRequired => {
                check_policy(&pool.password_policy, pw.expose())?;
                let (hash, srp) = self.password_record(pool, &sub, &username, pw).await?;
                (Some(hash), srp)
            }
            Some(pw) => {
                self.check_new_password(pool, pw).await?;
                let (hash, srp) = self.password_record(pool, &sub, &username, pw).await?;
                (Some(hash), srp)
            }
            None => (None, None),
        };
        let status = match new.state {
            InitialState::Unconfirmed => UserStatus::Unconfirmed,
            InitialState::Confirmed => UserStatus::Confirmed,
            InitialState::ForceChangePassword => UserStatus::ForceChangePassword,
            InitialState::ResetRequired => UserStatus::ResetRequired,
        };
        let temporary_password_expires_at =
            (new.state == InitialState::ForceChangePassword).then(|| {
                now + i64::from(pool.password_policy.temporary_password_validity_days) * 86400
            });
        let mut user = User {
            pool_id: pool.id.clone(),
            sub,
            username,
            attributes,
            status,
            enabled: true,
            password_hash,
            temporary_password_expires_at,
            identities: Vec::new(),
            lookup: UserLookup::default(),
            created_at: now,
            updated_at: now,
            version: 0,
            mfa: Default::default(),
            srp,
            pending_attributes: Default::default(),
        };
        user.lookup = lookup_for(pool, &user);
        Ok(self.store.create_user(&user).await?)
    }

    /// Finds a user by username or by any sign-in alias the pool allows: the username
    /// first (Cognito's order), except for a login shaped like the pool's email addresses
    /// or phone numbers, which no username may be now. A username so shaped can only be
    /// one stored before that rule (and before usernames and aliases shared one space); it
    /// must not shadow the user who holds the login as a verified alias, so aliases are
    /// looked up first for it.
    pub async fn find_user(&self, pool: &UserPool, login: &str) -> DirectoryResult<Option<User>> {
        use super::model::AliasAttribute as A;
        let by_name = UserRef::Username(normalize_username(pool, login));
        let alias_shaped =
            pool.username_attributes.is_empty() && alias_shape(pool, login).is_some();
        if !alias_shaped {
            if let Some(user) = self.store.get_user(&pool.id, &by_name).await? {
                return Ok(Some(user));
            }
        }
        for alias in pool.sign_in_aliases() {
            let by = match alias {
                A::Email => UserRef::Email(normalize_email(login)),
                A::PhoneNumber => UserRef::PhoneNumber(normalize_phone(login)),
                A::PreferredUsername => UserRef::PreferredUsername(normalize_username(pool, login)),
            };
            if let Some(user) = self.store.get_user(&pool.id, &by).await? {
                return Ok(Some(user));
            }
        }
        if alias_shaped {
            return Ok(self.store.get_user(&pool.id, &by_name).await?);
        }
        Ok(None)
    }

    /// Finds a user by username, alias or `sub`, or fails with `UserNotFound`.
    pub async fn require_user(&self, pool: &UserPool, login: &str) -> DirectoryResult<User> {
        if let Some(user) = self.find_user(pool, login).await? {
            return Ok(user);
        }
        if uuid::Uuid::parse_str(login).is_ok() {
            if let Some(user) = self
                .store
                .get_user(&pool.id, &UserRef::Sub(login.to_string()))
                .await?
            {
                return Ok(user);
            }
        }
        Err(DirectoryError::UserNotFound)
    }

    /// Applies `change` to the current stored user, retrying when another writer got
    /// there first, so concurrent updates never lose each other's changes. A change to an
    /// immutable custom attribute once set is refused here, whatever the edge (Cognito:
    /// "Attribute cannot be updated"); the federated refresh leaves such changes out
    /// before it gets here ([`crate::federation::linking::refresh`]).
    pub async fn modify_user<F>(
        &self,
        pool: &UserPool,
        sub: &str,
        change: F,
    ) -> DirectoryResult<User>
    where
        F: Fn(&mut User) -> DirectoryResult<()>,
    {
        for _ in 0..20 {
            let mut user = self
                .store
                .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
                .await?
                .ok_or(DirectoryError::UserNotFound)?;
            let before = user.attributes.clone();
            change(&mut user)?;
            check_immutable(pool, &before, &user.attributes)?;
            user.lookup = lookup_for(pool, &user);
            match self.store.update_user(&user).await {
                Ok(stored) => return Ok(stored),
                Err(StoreError::VersionMismatch) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DirectoryError::Store(StoreError::VersionMismatch))
    }

    /// Sets a user's password (AdminSetUserPassword): permanent makes the user CONFIRMED,
    /// temporary puts them in FORCE_CHANGE_PASSWORD.
    pub async fn set_password(
        &self,
        pool: &UserPool,
        sub: &str,
        password: &SecretString,
        permanent: bool,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        self.check_new_password(pool, password).await?;
        // The verifier hashes the username (Cognito's USER_ID_FOR_SRP), which never changes.
        let current = self
            .store
            .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
            .await?
            .ok_or(DirectoryError::UserNotFound)?;
        let (hash, srp) = self
            .password_record(pool, sub, &current.username, password)
            .await?;
        let validity = i64::from(pool.password_policy.temporary_password_validity_days) * 86400;
        self.modify_user(pool, sub, |user| {
            if user.status == UserStatus::ExternalProvider {
                return Err(DirectoryError::InvalidParameter(
                    "federated users have no password in this pool".into(),
                ));
            }
            user.password_hash = Some(hash.clone());
            // Replaced, never kept: the old password must stop working for SRP too.
            user.srp = srp.clone();
            if permanent {
                user.status = UserStatus::Confirmed;
                user.temporary_password_expires_at = None;
            } else {
                user.status = UserStatus::ForceChangePassword;
                user.temporary_password_expires_at = Some(now + validity);
            }
            user.updated_at = now;
            Ok(())
        })
        .await
    }

    /// Checks a username (or alias) and password. An unknown user, a user without a
    /// password and a wrong password all cost exactly one password verification and give
    /// the same `NotAuthorized`, so neither the answer nor the work reveals who exists.
    /// A legacy hash (bcrypt, PBKDF2, scrypt, older Argon2) is upgraded on success.
    pub async fn authenticate(
        &self,
        pool: &UserPool,
        login: &str,
        password: &SecretString,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        let user = self.find_user(pool, login).await?;
        self.authenticate_found(pool, user, password, now).await
    }

    /// [`Directory::authenticate`] for a login already looked up with
    /// [`Directory::find_user`] (`None`: nobody has it), so a caller that needed the user
    /// first (the sign-in's brute-force count) does not look it up twice.
    pub async fn authenticate_found(
        &self,
        pool: &UserPool,
        user: Option<User>,
        password: &SecretString,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        let stored = user.as_ref().and_then(|u| u.password_hash.as_ref());
        let verification = self.passwords.verify(password, stored).await?;
        let Some(user) = user.filter(|_| verification.ok) else {
            return Err(DirectoryError::NotAuthorized);
        };
        Self::check_status(&user, now)?;
        // The password is in clear and right: a legacy hash is upgraded, and a user
        // without an SRP verifier (an imported hash, a user from before SRP, a verifier
        // this master key cannot open) gets one, so USER_SRP_AUTH works from now on.
        let srp_missing = self.srp_key.is_some() && self.open_srp_verifier(pool, &user).is_none();
        if verification.needs_rehash || srp_missing {
            let fresh = if verification.needs_rehash {
                Some(self.passwords.hash(password).await?)
            } else {
                None
            };
            let srp = self.srp_verifier(pool, &user.sub, &user.username, password);
            let expected = user.password_hash.clone();
            // Only upgrade the password that was verified; a concurrent password change
            // wins (with its own verifier).
            let upgraded = self
                .modify_user(pool, &user.sub, |u| {
                    if u.password_hash == expected {
                        if let Some(fresh) = &fresh {
                            u.password_hash = Some(fresh.clone());
                        }
                        if srp.is_some() {
                            u.srp = srp.clone();
                        }
                    }
                    Ok(())
                })
                .await;
            if let Ok(upgraded) = upgraded {
                return Ok(upgraded);
            }
        }
        Ok(user)
    }

    /// Whether `user`, whose password was just proven (in clear or by SRP), may go on
    /// signing in, by Cognito's rules: not disabled, confirmed, no reset pending, and a
    /// temporary password not expired at `now`.
    pub fn check_status(user: &User, now: UnixTime) -> DirectoryResult<()> {
        if !user.enabled {
            return Err(DirectoryError::UserDisabled);
        }
        match user.status {
            UserStatus::Unconfirmed => Err(DirectoryError::UserNotConfirmed),
            UserStatus::ResetRequired => Err(DirectoryError::PasswordResetRequired),
            UserStatus::ForceChangePassword
                if user.temporary_password_expires_at.is_some_and(|t| t <= now) =>
            {
                Err(DirectoryError::TemporaryPasswordExpired)
            }
            _ => Ok(()),
        }
    }

    pub async fn set_enabled(
        &self,
        pool: &UserPool,
        sub: &str,
        enabled: bool,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        self.modify_user(pool, sub, |u| {
            u.enabled = enabled;
            u.updated_at = now;
            Ok(())
        })
        .await
    }

    /// Replaces or removes attributes (an empty value removes one). An immutable custom
    /// attribute may be given while unset, never changed nor removed once set. Writing
    /// `email` (an administrator's AdminUpdateUserAttributes, or a user's change applied at
    /// once) drops a pending email change: a code mailed for it can no longer replace the
    /// address just written.
    pub async fn update_attributes(
        &self,
        pool: &UserPool,
        sub: &str,
        changes: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> DirectoryResult<User> {
        self.modify_user(pool, sub, |u| {
            if changes.contains_key("email") {
                u.pending_attributes.remove("email");
            }
            for (name, value) in changes {
                if value.is_empty() {
                    u.attributes.remove(name);
                } else {
                    u.attributes.insert(name.clone(), value.clone());
                }
            }
            validate_attributes(pool, &u.attributes, false)?;
            if u.status != UserStatus::ExternalProvider {
                check_login_attributes(pool, &u.attributes)?;
            }
            u.updated_at = now;
            Ok(())
        })
        .await
    }

    pub async fn delete_user(&self, pool: &UserPool, sub: &str) -> DirectoryResult<()> {
        if self.store.delete_user(&pool.id, sub).await? {
            Ok(())
        } else {
            Err(DirectoryError::UserNotFound)
        }
    }

    /// Creates or updates a group, keeping a stored group's origin and creation time; the
    /// rules and the write are [`AdminService::put_group`]'s.
    pub async fn put_group(
        &self,
        pool: &UserPool,
        spec: GroupSpec,
        origin: Origin,
        now: UnixTime,
    ) -> DirectoryResult<Group> {
        let GroupSpec {
            name,
            description,
            precedence,
            role_arn,
        } = spec;
        let existing = self.store.get_group(&pool.id, &name).await?;
        let group = Group {
            pool_id: pool.id.clone(),
            description,
            precedence,
            role_arn,
            origin: existing.as_ref().map_or(origin, |g| g.origin),
            created_at: existing.as_ref().map_or(now, |g| g.created_at),
            updated_at: now,
            name,
        };
        // The write and CreateGroup's rules are the administration service's.
        AdminService::new(&*self.store)
            .put_group(&group)
            .await
            .map_err(|e| match e {
                AdminError::Store(e) => DirectoryError::from(e),
                AdminError::NotFound { id, .. } => DirectoryError::PoolNotFound(id),
                other => DirectoryError::InvalidParameter(
                    other
                        .field_errors()
                        .iter()
                        .map(|f| f.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            })?;
        Ok(group)
    }

    pub async fn add_to_group(
        &self,
        pool: &UserPool,
        group: &str,
        sub: &str,
    ) -> DirectoryResult<()> {
        match self.store.add_member(&pool.id, group, sub).await {
            Ok(()) => Ok(()),
            Err(StoreError::MissingParent("group")) => {
                Err(DirectoryError::GroupNotFound(group.to_string()))
            }
            Err(StoreError::MissingParent(_)) => Err(DirectoryError::UserNotFound),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::AliasAttribute as A;

    fn pool(aliases: &[A]) -> UserPool {
        serde_json::from_value(serde_json::json!({
            "id": "us-east-1_test",
            "name": "t",
            "alias_attributes": aliases,
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap()
    }

    #[test]
    fn usernames_shaped_like_a_sign_in_alias_are_refused() {
        let email = pool(&[A::Email]);
        let phone = pool(&[A::PhoneNumber]);
        let none = pool(&[]);
        for name in ["vic@example.com", "vic@", "@", "vic\u{ff20}example.com"] {
            assert!(check_username(&email, name).is_err(), "{name}");
            assert!(check_username(&phone, name).is_ok(), "{name}");
            assert!(check_username(&none, name).is_ok(), "{name}");
        }
        for name in ["+14325551212", "+1", "\u{ff0b}\u{ff11}\u{ff12}"] {
            assert!(check_username(&phone, name).is_err(), "{name}");
            assert!(check_username(&email, name).is_ok(), "{name}");
        }
        // Not shaped like either: a plain name, a number without +, + and letters.
        for name in ["vic", "14325551212", "+vic", "+", "vic+1"] {
            assert!(check_username(&email, name).is_ok(), "{name}");
            assert!(check_username(&phone, name).is_ok(), "{name}");
        }
        // The basic rules still hold.
        assert!(check_username(&none, "").is_err());
        assert!(check_username(&none, "a b").is_err());
    }

    #[test]
    fn usernames_of_a_declared_providers_users_are_refused() {
        let with_google = |case_sensitive: bool| {
            let mut p = pool(&[A::PreferredUsername]);
            p.username_case_sensitive = case_sensitive;
            p.identity_providers = vec![serde_json::from_value(serde_json::json!({
                "name": "Google",
                "provider_type": "Google",
                "preset": "google",
                "display_name": "Google",
                "protocol": "oidc",
                "client_id": "c",
                "issuer": "https://accounts.google.com",
                "subject_claim": "sub",
                "created_at": 1,
                "updated_at": 1,
            }))
            .unwrap()];
            p
        };
        let folding = with_google(false);
        for name in ["Google_123", "google_123", "GOOGLE_x", "Google_"] {
            let e = check_username(&folding, name).unwrap_err().to_string();
            assert!(e.contains("starting with Google_"), "{name}: {e}");
        }
        let attrs = BTreeMap::from([("preferred_username".to_string(), "google_1".to_string())]);
        assert!(check_login_attributes(&folding, &attrs).is_err());
        for name in ["Googlefan", "Google", "my_Google_1", "Okta_1"] {
            assert!(check_username(&folding, name).is_ok(), "{name}");
        }
        // A case-sensitive pool compares as it stores: only the provider's own spelling.
        let exact = with_google(true);
        assert!(check_username(&exact, "Google_123").is_err());
        assert!(check_username(&exact, "google_123").is_ok());
        // Without the provider, the name is free.
        assert!(check_username(&pool(&[]), "Google_123").is_ok());
    }

    #[test]
    fn a_preferred_username_alias_obeys_the_same_shapes() {
        let attrs = |p: &str| BTreeMap::from([("preferred_username".to_string(), p.to_string())]);
        let both = pool(&[A::Email, A::PreferredUsername]);
        assert!(check_login_attributes(&both, &attrs("vic@example.com")).is_err());
        assert!(check_login_attributes(&both, &attrs("vic")).is_ok());
        // Not an alias: no sign-in identifier, no rule.
        let email = pool(&[A::Email]);
        assert!(check_login_attributes(&email, &attrs("vic@example.com")).is_ok());
    }
}
