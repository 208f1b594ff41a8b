//! Applying `[[pools.identity_providers]]`. Providers live on the pool record, so they are
//! resolved (preset plus overrides, credentials sealed under the master key) before the
//! pool is written, and what only the declaration can tell (a known preset, a credential
//! at hand) is checked in the plan phase so a refused file writes nothing. The pool is
//! written through the administration service, whose whole-pool write runs the core's
//! rules on every provider it carries ([`crate::core::admin::validate_identity_providers`],
//! the rules `check-config` ran on the file), so the file cannot put an unchecked
//! provider in the store.

use super::{undeclared, Action, ApplyError, Kind, PoolPlan};
use crate::config::decl::{IdpDecl, PoolDecl};
use crate::core::model::{IdentityProvider, Origin, UserPool};
use crate::core::secrets::{
    constant_time_eq, idp_secret_context, EncryptedSecret, MasterKey, SecretString,
};
use crate::core::UnixTime;
use crate::federation::presets;
use crate::federation::saml::metadata::IdpMetadata;

/// The plan-phase checks of a pool's declared providers: none may take over an API-owned
/// provider, each names a known preset, and each OAuth one has its credential (from the
/// environment now, or stored by an earlier apply; SAML providers have none).
pub(super) fn check_declared(
    decl: &PoolDecl,
    id: &str,
    existing: Option<&UserPool>,
) -> Result<(), ApplyError> {
    let stored_providers = existing.map_or(&[][..], |p| &p.identity_providers);
    for idp in &decl.identity_providers {
        let stored = stored_providers.iter().find(|p| p.name == idp.name);
        if stored.is_some_and(|p| p.origin == Origin::Api) {
            return Err(ApplyError::ApiOwned {
                kind: Kind::IdentityProvider,
                id: format!("{} in pool {id}", idp.name),
            });
        }
        if presets::get(&idp.preset).is_none() {
            return Err(ApplyError::UnknownPreset {
                name: idp.name.clone(),
                preset: idp.preset.clone(),
            });
        }
        // A SAML provider has no credential: its metadata's certificates are public. Its
        // metadata from a URL was fetched before applying; when that failed, the copy
        // stored from the same URL stands in (see [`stored_metadata`]), else nothing is
        // written.
        if idp.is_saml() {
            if idp.metadata_url.is_some()
                && idp.saml_metadata.is_none()
                && stored_metadata(idp, stored).is_none()
            {
                return Err(ApplyError::IdpMetadataUnavailable {
                    pool_id: id.to_string(),
                    name: idp.name.clone(),
                    reason: idp
                        .metadata_fetch_error
                        .clone()
                        .unwrap_or_else(|| "it was not fetched".to_string()),
                });
            }
            continue;
        }
        let (given, kept) = if idp.uses_apple_key() {
            (
                idp.private_key.is_some(),
                stored.is_some_and(|p| p.protocol.apple_key().is_some()),
            )
        } else {
            (
                idp.client_secret.is_some(),
                stored.is_some_and(|p| p.protocol.client_secret().is_some()),
            )
        };
        if !given && !kept {
            return Err(missing_credential(id, idp));
        }
    }
    Ok(())
}

/// What applying did to each identity provider of a pool, by name.
pub(super) type ProviderActions = Vec<(Action, String)>;

/// The pool's identity providers after applying: the declared ones resolved against
/// their presets (credentials sealed under the master key, re-sealed only when they
/// changed, so an unchanged file leaves the pool unchanged), then the undeclared stored
/// ones: API-owned ones kept untouched, file-owned ones kept or, with `prune`, dropped.
/// Also returns what happened to each (for the report).
pub(super) fn resolve(
    master: &MasterKey,
    plan: &PoolPlan<'_>,
    prune: bool,
    now: UnixTime,
) -> Result<(Vec<IdentityProvider>, ProviderActions), ApplyError> {
    let stored = plan
        .existing
        .as_ref()
        .map_or(&[][..], |p| &p.identity_providers);
    let mut providers = Vec::new();
    let mut actions = Vec::new();
    for decl in &plan.decl.identity_providers {
        let existing = stored.iter().find(|p| p.name == decl.name);
        let fallback;
        let decl = match stored_metadata(decl, existing) {
            Some(metadata) if decl.saml_metadata.is_none() && decl.metadata_url.is_some() => {
                tracing::warn!(
                    pool = %plan.id,
                    provider = %decl.name,
                    error = decl.metadata_fetch_error.as_deref().unwrap_or("not fetched"),
                    "the IdP's metadata URL failed; applying with the stored copy"
                );
                fallback = IdpDecl {
                    saml_metadata: Some(metadata),
                    ..decl.clone()
                };
                &fallback
            }
            _ => decl,
        };
        let (secret, apple_key) = if decl.is_saml() {
            (None, None)
        } else if decl.uses_apple_key() {
            let stored_key = existing
                .and_then(|e| e.protocol.apple_key())
                .map(|a| &a.private_key);
            let key = idp_credential(
                master,
                &plan.id,
                decl,
                decl.private_key.as_ref(),
                stored_key,
            )?;
            (None, Some(key))
        } else {
            let stored_secret = existing.and_then(|e| e.protocol.client_secret());
            let secret = idp_credential(
                master,
                &plan.id,
                decl,
                decl.client_secret.as_ref(),
                stored_secret,
            )?;
            (Some(secret), None)
        };
        let record = decl
            .to_record(secret, apple_key, now, existing)
            .ok_or_else(|| ApplyError::UnknownPreset {
                name: decl.name.clone(),
                preset: decl.preset.clone(),
            })?;
        let action = match existing {
            None => Action::Created,
            Some(e) if *e == record => Action::Unchanged,
            Some(_) => Action::Updated,
        };
        actions.push((action, record.name.clone()));
        providers.push(record);
    }
    for idp in stored {
        if plan
            .decl
            .identity_providers
            .iter()
            .any(|d| d.name == idp.name)
        {
            continue;
        }
        match idp.origin {
            Origin::Api => providers.push(idp.clone()),
            Origin::Config => {
                if !prune {
                    providers.push(idp.clone());
                }
                actions.push((undeclared(prune), idp.name.clone()));
            }
        }
    }
    Ok((providers, actions))
}

/// The sealed credential (client secret or Apple `.p8` PEM) of an identity provider: the
/// environment's value when given, re-sealed only if it differs from the stored one; else
/// the stored one (applied without the environment, e.g. by a second tool); else an error.
fn idp_credential(
    master: &MasterKey,
    pool_id: &str,
    decl: &IdpDecl,
    wanted: Option<&SecretString>,
    stored: Option<&EncryptedSecret>,
) -> Result<EncryptedSecret, ApplyError> {
    let context = idp_secret_context(pool_id, &decl.name);
    match (wanted, stored) {
        (Some(wanted), Some(sealed)) => {
            let current =
                master
                    .open_string(&context, sealed)
                    .map_err(|source| ApplyError::IdpSecret {
                        pool_id: pool_id.to_string(),
                        name: decl.name.clone(),
                        source,
                    })?;
            if constant_time_eq(current.expose().as_bytes(), wanted.expose().as_bytes()) {
                Ok(sealed.clone())
            } else {
                Ok(master.seal(&context, wanted.expose().as_bytes()))
            }
        }
        (Some(wanted), None) => Ok(master.seal(&context, wanted.expose().as_bytes())),
        (None, Some(sealed)) => Ok(sealed.clone()),
        (None, None) => Err(missing_credential(pool_id, decl)),
    }
}

/// The metadata of the stored provider, when it was fetched from the URL the declaration
/// names: what applying uses when that URL fails now.
fn stored_metadata(decl: &IdpDecl, stored: Option<&IdentityProvider>) -> Option<IdpMetadata> {
    let url = decl.metadata_url.as_ref()?;
    let saml = stored?.protocol.as_saml()?;
    if saml.metadata_url.as_ref() != Some(url) || saml.entity_id.is_empty() {
        return None;
    }
    Some(IdpMetadata::from_settings(saml))
}

fn missing_credential(pool_id: &str, decl: &IdpDecl) -> ApplyError {
    let var = if decl.uses_apple_key() {
        &decl.private_key_env
    } else {
        &decl.client_secret_env
    };
    ApplyError::MissingIdpCredential {
        pool_id: pool_id.to_string(),
        name: decl.name.clone(),
        var: var
            .clone()
            .unwrap_or_else(|| "<the variable named in the file>".to_string()),
    }
}

#[cfg(test)]
mod tests;
