//! Multi-factor records (issue 13): what a pool allows ([`FactorSettings`]) and what a
//! user has enrolled ([`UserMfa`], kept inside the user record so a factor changes with
//! the user's optimistic version: a TOTP step, a recovery code or a passkey counter is
//! used once even when two nodes accept the same proof at once).

use serde::{Deserialize, Serialize};

use crate::core::secrets::EncryptedSecret;
use crate::core::UnixTime;

/// A second factor a pool may allow (Cognito's `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`,
/// `SMS_MFA`, and `WEB_AUTHN` used after a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaFactor {
    /// RFC 6238 codes from an authenticator app.
    Totp,
    /// A code mailed to the user's verified email address.
    Email,
    /// A WebAuthn credential (user verification required).
    Passkey,
    /// A code texted to the user's verified phone number through the pool's custom SMS
    /// sender (Cognito's `SMS_MFA`).
    Sms,
}

impl MfaFactor {
    pub const ALL: [MfaFactor; 4] = [
        MfaFactor::Totp,
        MfaFactor::Email,
        MfaFactor::Sms,
        MfaFactor::Passkey,
    ];

    /// The configuration's spelling: `TOTP`, `EMAIL`, `PASSKEY`.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaFactor::Totp => "TOTP",
            MfaFactor::Email => "EMAIL",
            MfaFactor::Passkey => "PASSKEY",
            MfaFactor::Sms => "SMS",
        }
    }

    /// The `amr` value (RFC 8176) a session records for this factor.
    pub fn amr(self) -> &'static str {
        match self {
            MfaFactor::Totp => "otp",
            MfaFactor::Email => "email",
            MfaFactor::Passkey => "hwk",
            MfaFactor::Sms => "sms",
        }
    }
}

impl std::fmt::Display for MfaFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A way to start signing in (Cognito's `AllowedFirstAuthFactors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FirstFactor {
    Password,
    /// A code mailed to the user's verified email address, no password (`EMAIL_OTP`).
    EmailOtp,
    /// A passkey alone (`WEB_AUTHN`): user verification makes it two factors.
    Passkey,
}

impl FirstFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            FirstFactor::Password => "PASSWORD",
            FirstFactor::EmailOtp => "EMAIL_OTP",
            FirstFactor::Passkey => "PASSKEY",
        }
    }
}

impl std::fmt::Display for FirstFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A pool's passkey (WebAuthn relying party) settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PasskeySettings {
    /// The relying-party id; `None` is the public URL's host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relying_party_id: Option<String>,
    /// Origins allowed to run ceremonies (`https://login.example.com`); empty is the
    /// public URL's origin.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
    /// Offer passkey registration right after sign-up.
    pub register_at_sign_up: bool,
}

/// Which factors a pool allows. Pools stored before issue 13 get the defaults: password
/// sign-in, TOTP as the second factor, no passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FactorSettings {
    /// Second factors users may enrol and pass (under `mfa` `OPTIONAL` or `ON`).
    pub mfa: Vec<MfaFactor>,
    /// Ways to start signing in on the hosted UI.
    pub first: Vec<FirstFactor>,
    pub passkeys: PasskeySettings,
}

impl Default for FactorSettings {
    fn default() -> Self {
        FactorSettings {
            mfa: vec![MfaFactor::Totp],
            first: vec![FirstFactor::Password],
            passkeys: PasskeySettings::default(),
        }
    }
}

impl FactorSettings {
    /// Whether users of this pool may hold passkeys at all (as a sign-in or a second
    /// factor).
    pub fn passkeys_enabled(&self) -> bool {
        self.mfa.contains(&MfaFactor::Passkey) || self.first.contains(&FirstFactor::Passkey)
    }

    pub fn allows_mfa(&self, factor: MfaFactor) -> bool {
        self.mfa.contains(&factor)
    }

    pub fn allows_first(&self, factor: FirstFactor) -> bool {
        self.first.contains(&factor)
    }
}

/// The secret part of one enrolled factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FactorData {
    Totp {
        /// The RFC 6238 key, sealed under the master key
        /// ([`crate::core::secrets::totp_secret_context`]).
        secret: EncryptedSecret,
        /// The last time step a code was accepted for: that step and earlier ones are
        /// never accepted again.
        #[serde(default)]
        last_step: Option<u64>,
    },
    /// Codes go to the user's verified `email` attribute at the time they are sent.
    Email,
    /// Codes go to the user's verified `phone_number` attribute at the time they are sent.
    Sms,
    Passkey {
        /// The credential id, base64url without padding (unique per pool).
        credential_id: String,
        /// webauthn-rs's `Passkey` (public key, counter, backup flags), as its serde
        /// form.
        credential: serde_json::Value,
        /// The authenticator's signature counter last seen.
        #[serde(default)]
        counter: u32,
        #[serde(default)]
        backup_eligible: bool,
        #[serde(default)]
        backup_state: bool,
    },
}

/// One enrolled factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Random, stable id (shown on the account page, named by the CLI).
    pub id: String,
    pub kind: MfaFactor,
    /// The user's name for it ("Work laptop", "Authenticator").
    #[serde(default)]
    pub name: String,
    pub created_at: UnixTime,
    #[serde(default)]
    pub last_used_at: Option<UnixTime>,
    pub data: FactorData,
}

/// One recovery code: only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCode {
    /// SHA-256 of the normalized code, hex ([`crate::core::oauth::token_hash`]-like).
    pub hash: String,
    #[serde(default)]
    pub used_at: Option<UnixTime>,
}

/// A user's enrolled factors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct UserMfa {
    pub factors: Vec<Factor>,
    /// The factor the sign-in asks for first (Cognito's `PreferredMfaSetting`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred: Option<MfaFactor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<RecoveryCode>,
}

impl UserMfa {
    pub fn is_empty(&self) -> bool {
        self.factors.is_empty() && self.preferred.is_none() && self.recovery_codes.is_empty()
    }

    /// The kinds of factors enrolled, each once, in [`MfaFactor::ALL`] order.
    pub fn kinds(&self) -> Vec<MfaFactor> {
        MfaFactor::ALL
            .into_iter()
            .filter(|k| self.factors.iter().any(|f| f.kind == *k))
            .collect()
    }

    pub fn has(&self, kind: MfaFactor) -> bool {
        self.factors.iter().any(|f| f.kind == kind)
    }

    /// Recovery codes not used yet.
    pub fn unused_recovery_codes(&self) -> usize {
        self.recovery_codes
            .iter()
            .filter(|c| c.used_at.is_none())
            .count()
    }
}
