//! The `mfa` field of an exported user, written and read only with `--include-mfa`.
//!
//! TOTP keys are sealed under the master key and bound to the pool, the user and the
//! factor; an export that kept them sealed would be useless to another deployment (another
//! master key) or another pool. So the export opens them and writes them as base32 text:
//! a file made with `--include-mfa` holds every user's authenticator key, and is created
//! owner-only like every export. Import seals each key again under the importing node's
//! master key and the target pool. Recovery codes travel as their hashes (bound to the
//! sub, which import keeps); passkeys as their public credential.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::core::model::{Factor, FactorData, MfaFactor, RecoveryCode, User, UserMfa};
use crate::core::secrets::{totp_secret_context, MasterKey, SecretString};

/// Bytes a TOTP key must have at least (RFC 4226 section 4: 128 bits).
const MIN_TOTP_KEY: usize = 16;
/// Factors a record may carry.
const MAX_FACTORS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaRecord {
    #[serde(default)]
    pub factors: Vec<FactorRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<MfaFactor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_codes: Vec<RecoveryCode>,
}

/// (Not `deny_unknown_fields`: serde cannot deny them beside a flattened field.)
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FactorRecord {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(flatten)]
    pub data: FactorRecordData,
}

/// A factor's data in the file; `type` names the kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FactorRecordData {
    Totp {
        /// The key, base32 (RFC 4648, no padding), as authenticator apps take it.
        secret: SecretString,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_step: Option<u64>,
    },
    Email,
    /// Codes texted to the verified phone number at the time they are sent.
    Sms,
    Passkey {
        credential_id: String,
        credential: serde_json::Value,
        #[serde(default)]
        counter: u32,
        #[serde(default)]
        backup_eligible: bool,
        #[serde(default)]
        backup_state: bool,
    },
}

/// The portable form of `user`'s factors (`None` when they have none).
pub fn export_mfa(master: &MasterKey, user: &User) -> Result<Option<MfaRecord>, String> {
    if user.mfa.is_empty() {
        return Ok(None);
    }
    let mut factors = Vec::with_capacity(user.mfa.factors.len());
    for f in &user.mfa.factors {
        let data = match &f.data {
            FactorData::Totp { secret, last_step } => {
                let context = totp_secret_context(&user.pool_id, &user.sub, &f.id);
                let key = master.open(&context, secret).map_err(|e| {
                    format!(
                        "user {}: the TOTP key of factor {} cannot be opened: {e}",
                        user.username, f.id
                    )
                })?;
                let totp_rs::Secret::Encoded(text) = totp_rs::Secret::Raw(key).to_encoded() else {
                    return Err("base32 encoding failed".into());
                };
                FactorRecordData::Totp {
                    secret: SecretString::new(text),
                    last_step: *last_step,
                }
            }
            FactorData::Email => FactorRecordData::Email,
            FactorData::Sms => FactorRecordData::Sms,
            FactorData::Passkey {
                credential_id,
                credential,
                counter,
                backup_eligible,
                backup_state,
            } => FactorRecordData::Passkey {
                credential_id: credential_id.clone(),
                credential: credential.clone(),
                counter: *counter,
                backup_eligible: *backup_eligible,
                backup_state: *backup_state,
            },
        };
        factors.push(FactorRecord {
            id: f.id.clone(),
            name: f.name.clone(),
            created_at: Some(Timestamp(f.created_at)),
            last_used_at: f.last_used_at.map(Timestamp),
            data,
        });
    }
    Ok(Some(MfaRecord {
        factors,
        preferred: user.mfa.preferred,
        recovery_codes: user.mfa.recovery_codes.clone(),
    }))
}

/// Checks a record's factors and builds them for user `sub` of pool `pool_id`, sealing
/// each TOTP key under `master`.
pub fn import_mfa(
    master: &MasterKey,
    pool_id: &str,
    sub: &str,
    record: MfaRecord,
    now: i64,
) -> Result<UserMfa, String> {
    if record.factors.len() > MAX_FACTORS {
        return Err(format!("mfa.factors: at most {MAX_FACTORS}"));
    }
    let mut factors: Vec<Factor> = Vec::with_capacity(record.factors.len());
    for (k, f) in record.factors.into_iter().enumerate() {
        let at = |what: &str| format!("mfa.factors[{k}]: {what}");
        if f.id.is_empty()
            || f.id.len() > 64
            || !f
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(at("id must be 1 to 64 letters, digits, - or _"));
        }
        if factors.iter().any(|o| o.id == f.id) {
            return Err(at(&format!("id {:?} appears twice", f.id)));
        }
        let (kind, data) = match f.data {
            FactorRecordData::Totp { secret, last_step } => {
                let text = secret
                    .expose()
                    .trim()
                    .trim_end_matches('=')
                    .to_ascii_uppercase();
                let key = totp_rs::Secret::Encoded(text)
                    .to_bytes()
                    .map_err(|_| at("secret is not base32"))?;
                if key.len() < MIN_TOTP_KEY {
                    return Err(at("secret must hold at least 128 bits"));
                }
                let context = totp_secret_context(pool_id, sub, &f.id);
                (
                    MfaFactor::Totp,
                    FactorData::Totp {
                        secret: master.seal(&context, &key),
                        last_step,
                    },
                )
            }
            FactorRecordData::Email => (MfaFactor::Email, FactorData::Email),
            FactorRecordData::Sms => (MfaFactor::Sms, FactorData::Sms),
            FactorRecordData::Passkey {
                credential_id,
                credential,
                counter,
                backup_eligible,
                backup_state,
            } => {
                if credential_id.is_empty() || !credential.is_object() {
                    return Err(at(
                        "a passkey needs its credential_id and its credential object",
                    ));
                }
                (
                    MfaFactor::Passkey,
                    FactorData::Passkey {
                        credential_id,
                        credential,
                        counter,
                        backup_eligible,
                        backup_state,
                    },
                )
            }
        };
        let created_at = f.created_at.map_or(now, |t| t.0);
        factors.push(Factor {
            id: f.id,
            kind,
            name: f.name,
            created_at,
            last_used_at: f.last_used_at.map(|t| t.0),
            data,
        });
    }
    let mfa = UserMfa {
        factors,
        preferred: record.preferred,
        recovery_codes: record.recovery_codes,
    };
    if let Some(p) = mfa.preferred {
        if !mfa.has(p) {
            return Err(format!("mfa.preferred: the user has no {p} factor"));
        }
    }
    if mfa.factors.is_empty() && !mfa.recovery_codes.is_empty() {
        return Err("mfa.recovery_codes: recovery codes need a factor".into());
    }
    if mfa
        .recovery_codes
        .iter()
        .any(|c| c.hash.len() != 64 || !c.hash.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err("mfa.recovery_codes: each hash is 64 hexadecimal digits (SHA-256)".into());
    }
    Ok(mfa)
}
