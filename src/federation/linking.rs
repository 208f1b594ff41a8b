//! Who a federated sign-in becomes, beyond "the user this identity is linked to": linking
//! an identity that has no link yet to an existing user by its verified email, the
//! attributes a sign-in may change on a user, and what a brand-new federated user must
//! bring.
//!
//! An upstream identity (provider, upstream user id) is linked to at most one user; the
//! store's unique index on federated links keeps it so across nodes and concurrent
//! sign-ins. Links are made by the first sign-in (a new `<Provider>_<id>` user), by an
//! administrator (`cognate users link`, Cognito's AdminLinkProviderForUser), or, when the
//! pool sets `link_federated_users_by_email`, by [`by_email`].
//!
//! Linking by email hands an existing account to whoever the IdP vouches for, so it is
//! strict, and anything short of a clear match signs in as before (a new user):
//! - the upstream email is verified: the provider's own `email_verified` claim (Apple's
//!   `"true"` string included, as the mapping normalizes it), or the operator's
//!   `emails_verified = true` for a provider that sends no claim;
//! - the provider is authorized for the address's domain: the domain is one of its
//!   `identifiers`, or the operator opted it in for every domain (`link_by_email`, which
//!   the social presets set and the generic OpenID Connect preset does not). An
//!   enterprise IdP's administrator sets any `email` and `email_verified` he likes, so
//!   a tenant's IdP must not vouch for another tenant's domain (nor the local `admin`);
//!   its user signs in as a new user of its own instead;
//! - exactly one user of the pool has that email verified (compared as the directory
//!   normalizes addresses). Only verified copies count: an address someone registered
//!   without proving it must not capture its owner's later sign-in (account
//!   pre-hijacking, Sudhodanan and Paverd, USENIX Security 2022), nor block it;
//! - that user is not linked to another identity at the same provider, every provider
//!   it is linked to (or was created by) is authorized for the domain too, and it has
//!   room for a link (Cognito allows five). A user another IdP brought is that IdP's to
//!   vouch for: a second IdP trusted for the domain may join it, any other may not.
//!
//! A disabled match refuses the sign-in (the "account disabled" page) instead of creating
//! a fresh account beside the disabled one, which would undo the administrator's decision.
//!
//! A link is keyed by the provider's name, which is the operator's label: each link also
//! records who issued its subject ([`IdentityProvider::link_binding`]: the OIDC issuer,
//! or a plain OAuth 2.0 provider's token endpoint and client id), and [`check_binding`]
//! refuses a sign-in through a link made with another issuer (a provider repointed at
//! another IdP, or a removed provider's name reused), whose `"1"` is someone else. The
//! operator decides: `cognate users relink` ([`relink`]) rebinds the provider's links
//! when the new IdP issues the same subjects, or `users unlink`/`delete` when not.

use std::collections::BTreeMap;

use super::error::FederationError;
use super::mapping::Mapped;
use crate::core::attributes::is_mutable;
use crate::core::directory::{lookup_for, normalize_email, Directory};
use crate::core::model::{
    FederatedIdentity, IdentityProvider, PageRequest, ProviderType, User, UserPool,
    MAX_LINKED_IDENTITIES,
};
use crate::core::storage::{StoreError, UserRef};
use crate::core::UnixTime;

/// How often a link is retried when another writer changed the user meanwhile.
const ATTEMPTS: usize = 10;
/// How many holders of an address are read to find the one that may be linked (the
/// others held by IdPs not authorized for its domain); this many or more links nothing.
const CANDIDATES: u32 = 16;

/// The `identities` entry of an upstream identity (Cognito leaves `issuer` null for the
/// social providers).
pub fn identity(
    provider: &IdentityProvider,
    subject: &str,
    attributes: &BTreeMap<String, String>,
    now: UnixTime,
) -> FederatedIdentity {
    FederatedIdentity {
        provider_name: provider.name.clone(),
        provider_type: provider.provider_type.as_str().to_string(),
        user_id: subject.to_string(),
        issuer: match provider.provider_type {
            ProviderType::Oidc => provider.protocol.issuer().map(str::to_string),
            // The IdP's entity id: the namespace of its NameIDs.
            ProviderType::Saml => provider.protocol.as_saml().map(|s| s.entity_id.clone()),
            _ => None,
        },
        attributes: attributes.clone(),
        bound_to: Some(provider.link_binding()),
        linked_at: now,
    }
}

/// Refuses a sign-in through a link made with another issuer than the provider's current
/// one ([`FederatedIdentity::bound_to`]). A link recorded before Cognate bound links is
/// held to the `issuer` it recorded when it is an OpenID Connect link (every sign-in
/// wrote it, so a provider repointed before the upgrade is caught too); any other passes
/// (social and plain OAuth 2.0 links recorded none), and [`refresh`] binds it to the
/// provider's current issuer.
pub fn check_binding(
    user: &User,
    pool: &UserPool,
    provider: &IdentityProvider,
    subject: &str,
) -> Result<(), FederationError> {
    let current = provider.link_binding();
    let linked = user
        .identities
        .iter()
        .find(|i| i.provider_name == provider.name && i.user_id == subject);
    let recorded = linked.and_then(|i| {
        i.bound_to.as_deref().or_else(|| {
            (i.provider_type == ProviderType::Oidc.as_str())
                .then_some(i.issuer.as_deref())
                .flatten()
        })
    });
    match recorded {
        Some(old) if old != current => {
            // Issuers and client ids only: never the subject, the user or its attributes.
            tracing::warn!(pool = %pool.id, provider = %provider.name, old_issuer = %old,
                new_issuer = %current,
                "refusing a federated sign-in: the provider's issuer changed since the link \
                 was made; relink with `cognate users relink` if the new issuer's subjects \
                 are the same people");
            Err(FederationError::IssuerChanged(provider.name.clone()))
        }
        _ => Ok(()),
    }
}

/// Binds every link of `provider` in the pool to the provider's current issuer (the
/// operator's `cognate users relink`, after repointing the provider at an IdP that issues
/// the same subjects). Returns how many links it rebound.
pub async fn relink(
    directory: &Directory,
    pool: &UserPool,
    provider: &IdentityProvider,
    now: UnixTime,
) -> Result<u64, FederationError> {
    let current = provider.link_binding();
    let stale = |u: &User| {
        u.identities
            .iter()
            .any(|i| i.provider_name == provider.name && i.bound_to.as_ref() != Some(&current))
    };
    let mut rebound = 0;
    let mut page = PageRequest {
        limit: 500,
        after: None,
    };
    loop {
        let listed = directory.store().list_users(&pool.id, &page).await?;
        for user in listed.items.iter().filter(|u| stale(u)) {
            directory
                .modify_user(pool, &user.sub, |u| {
                    for i in u.identities.iter_mut() {
                        if i.provider_name == provider.name {
                            i.bound_to = Some(current.clone());
                        }
                    }
                    u.updated_at = now;
                    Ok(())
                })
                .await?;
            rebound += 1;
        }
        match listed.next {
            Some(next) => page.after = Some(next),
            None => return Ok(rebound),
        }
    }
}

/// Applies a sign-in's mapped attributes to the user it signs in as (Cognito refreshes
/// them at every sign-in) and records them on the identity. A user the identity did not
/// create itself (linked by an administrator or by email) keeps a verified email and a
/// verified phone number: the IdP may not move the address or number the account signs
/// in and receives its codes with, nor mark them unverified.
///
/// An immutable custom attribute once set keeps its value: the change is left out and
/// logged, and the sign-in goes on. Cognito refuses the whole sign-in instead ("Attribute
/// cannot be updated"), which locks users out whenever their IdP's claim moves, a
/// long-standing complaint of its users; the directory refuses every other edge's change.
pub fn refresh(
    user: &mut User,
    pool: &UserPool,
    provider: &IdentityProvider,
    subject: &str,
    attributes: &BTreeMap<String, String>,
    now: UnixTime,
) {
    let own_user = user.username == format!("{}_{subject}", provider.name);
    let keep_email = !own_user && user.attribute("email_verified") == Some("true");
    let keep_phone = !own_user && user.attribute("phone_number_verified") == Some("true");
    for (name, value) in attributes {
        if keep_email && (name == "email" || name == "email_verified") {
            continue;
        }
        if keep_phone && (name == "phone_number" || name == "phone_number_verified") {
            continue;
        }
        let current = user.attribute(name).filter(|v| !v.is_empty());
        if current.is_some_and(|v| v != value) && !is_mutable(pool, name) {
            // Which attribute and whose, never the values.
            tracing::info!(pool = %pool.id, provider = %provider.name, sub = %user.sub,
                attribute = %name,
                "keeping an immutable attribute a federated sign-in would change");
            continue;
        }
        user.attributes.insert(name.clone(), value.clone());
    }
    if let Some(identity) = user
        .identities
        .iter_mut()
        .find(|i| i.provider_name == provider.name && i.user_id == subject)
    {
        identity.attributes = attributes.clone();
        // A link made before links were bound adopts the provider's current issuer.
        if identity.bound_to.is_none() {
            identity.bound_to = Some(provider.link_binding());
        }
    }
    user.updated_at = now;
}

/// Links an identity that has no link yet to the one user of the pool holding its
/// verified email, when the pool asks for it (see the module documentation for every
/// condition). `Ok(None)`: no clear match, sign in as a new user. A disabled match is
/// [`FederationError::UserDisabled`]. Another user taking the identity meanwhile (a
/// concurrent first sign-in) is the store's `Conflict::FederatedIdentity`, upon which the
/// caller looks the identity up again.
pub async fn by_email(
    directory: &Directory,
    pool: &UserPool,
    provider: &IdentityProvider,
    mapped: &Mapped,
    attributes: &BTreeMap<String, String>,
    now: UnixTime,
) -> Result<Option<User>, FederationError> {
    if !pool.link_federated_users_by_email || mapped.email_verified != Some(true) {
        return Ok(None);
    }
    // The email as the pool accepted it (a value the pool refused was dropped).
    let Some(email) = attributes.get("email") else {
        return Ok(None);
    };
    let key = normalize_email(email);
    if !provider.vouches_for(domain_of(&key)) {
        // Not the address's owner: a new user of its own, as without the option.
        tracing::info!(pool = %pool.id, provider = %provider.name,
            "not linking by email: the provider is not authorized for the address's domain \
             (neither one of its identifiers nor link_by_email)");
        return Ok(None);
    }
    let store = directory.store();
    let found = store
        .users_by_verified_email(&pool.id, &key, CANDIDATES)
        .await?;
    if found.len() >= CANDIDATES as usize {
        tracing::info!(pool = %pool.id, provider = %provider.name,
            "not linking by email: too many users of the pool have the address verified");
        return Ok(None);
    }
    // A copy of the address that an IdP not authorized for its domain brought (a
    // tenant's user claiming another tenant's address) vouches for nothing: it neither
    // counts as a holder nor blocks the owner's link.
    let domain = domain_of(&key);
    let found: Vec<&User> = found
        .iter()
        .filter(|u| !holds_unauthorized_identity(u, domain, pool))
        .collect();
    let [candidate] = found.as_slice() else {
        if found.len() > 1 {
            tracing::info!(pool = %pool.id, provider = %provider.name,
                "not linking by email: several users of the pool have the address verified");
        }
        return Ok(None);
    };
    let by_sub = UserRef::Sub(candidate.sub.clone());
    for _ in 0..ATTEMPTS {
        // Decided on the current record: the user may have changed since the search.
        let Some(mut user) = store.get_user(&pool.id, &by_sub).await? else {
            return Ok(None);
        };
        if user
            .identities
            .iter()
            .any(|i| i.provider_name == provider.name && i.user_id == mapped.subject)
        {
            // A concurrent first sign-in of this identity linked it already: answer as a
            // sign-in through that link would (its binding, a disabled user).
            check_binding(&user, pool, provider, &mapped.subject)?;
            if !user.enabled {
                return Err(FederationError::UserDisabled);
            }
            return Ok(Some(user));
        }
        if let Some(reason) = not_linkable(&user, &key, provider, pool) {
            tracing::info!(pool = %pool.id, provider = %provider.name, sub = %user.sub,
                reason, "not linking by email");
            return Ok(None);
        }
        if !user.enabled {
            tracing::info!(pool = %pool.id, provider = %provider.name, sub = %user.sub,
                "refusing a federated sign-in: its verified email belongs to a disabled user");
            return Err(FederationError::UserDisabled);
        }
        user.identities
            .push(identity(provider, &mapped.subject, attributes, now));
        refresh(&mut user, pool, provider, &mapped.subject, attributes, now);
        user.lookup = lookup_for(pool, &user);
        match store.update_user(&user).await {
            Ok(stored) => {
                // Who and through which provider; never the address (nor the username,
                // which may be one).
                tracing::info!(pool = %pool.id, provider = %provider.name, sub = %stored.sub,
                    "linked a federated identity to the existing user with its verified email");
                return Ok(Some(stored));
            }
            Err(StoreError::VersionMismatch) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::VersionMismatch.into())
}

/// The domain of a normalized address: what follows its last `@` (the whole text when
/// there is none, which no identifier matches).
fn domain_of(key: &str) -> &str {
    key.rsplit_once('@').map_or(key, |(_, domain)| domain)
}

/// Whether the user holds the identity of a provider not authorized for `domain`. Such
/// a user is that provider's: it may be joined only when its providers vouch for the
/// domain as well (a provider since removed vouches for nothing).
fn holds_unauthorized_identity(user: &User, domain: &str, pool: &UserPool) -> bool {
    user.identities.iter().any(|i| {
        pool.identity_provider(&i.provider_name)
            .is_none_or(|other| !other.vouches_for(domain))
    })
}

/// Why this user cannot take the identity, if it cannot.
fn not_linkable(
    user: &User,
    key: &str,
    provider: &IdentityProvider,
    pool: &UserPool,
) -> Option<&'static str> {
    if user.attribute("email").map(normalize_email).as_deref() != Some(key) {
        return Some("the user's email changed");
    }
    if user.attribute("email_verified") != Some("true") {
        return Some("the user's own email is not verified");
    }
    if user
        .identities
        .iter()
        .any(|i| i.provider_name == provider.name)
    {
        return Some("the user is linked to another identity at this provider");
    }
    if holds_unauthorized_identity(user, domain_of(key), pool) {
        return Some("the user holds the identity of a provider not authorized for the domain");
    }
    if user.identities.len() >= MAX_LINKED_IDENTITIES {
        return Some("the user has as many links as allowed");
    }
    None
}

/// The pool's required attributes a new federated user's mapped attributes lack. Cognito
/// refuses to create such a user ("Invalid user attributes: email: Attribute is
/// required."); a user already linked is never asked again.
pub fn require_attributes(
    pool: &UserPool,
    provider: &IdentityProvider,
    attributes: &BTreeMap<String, String>,
) -> Result<(), FederationError> {
    let missing: Vec<String> = pool
        .required_attributes
        .iter()
        .filter(|name| attributes.get(*name).is_none_or(|v| v.is_empty()))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(FederationError::MissingAttributes {
        provider: provider.display_name.clone(),
        attributes: missing,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::model::{OAuth2Endpoints, OAuth2Settings, OidcSettings, ProtocolSettings};

    fn provider() -> IdentityProvider {
        serde_json::from_value(json!({
            "name": "Google",
            "provider_type": "Google",
            "preset": "google",
            "display_name": "Google",
            "protocol": "oidc",
            "client_id": "c",
            "subject_claim": "sub",
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap()
    }

    fn user(username: &str, attributes: &[(&str, &str)]) -> User {
        let attributes: BTreeMap<&str, &str> = attributes.iter().copied().collect();
        serde_json::from_value(json!({
            "pool_id": "us-east-1_Pool1",
            "sub": "s",
            "username": username,
            "attributes": attributes,
            "status": "CONFIRMED",
            "enabled": true,
            "lookup": { "username": username },
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap()
    }

    fn mapped(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_linked_user_keeps_its_verified_email() {
        let upstream = mapped(&[
            ("email", "other@example.com"),
            ("email_verified", "false"),
            ("name", "Ana B"),
        ]);
        let mut ana = user(
            "ana",
            &[("email", "ana@example.com"), ("email_verified", "true")],
        );
        ana.identities
            .push(identity(&provider(), "g-1", &BTreeMap::new(), 5));
        refresh(
            &mut ana,
            &pool_with(vec![]),
            &provider(),
            "g-1",
            &upstream,
            9,
        );
        assert_eq!(ana.attribute("email"), Some("ana@example.com"));
        assert_eq!(ana.attribute("email_verified"), Some("true"));
        assert_eq!(
            ana.attribute("name"),
            Some("Ana B"),
            "other attributes refresh"
        );
        assert_eq!(ana.identities[0].attributes, upstream, "as received");
        assert_eq!(ana.updated_at, 9);

        // An unverified address is the IdP's to replace, and the identity's own user
        // follows its IdP.
        let mut unverified = user("bo", &[("email", "bo@example.com")]);
        refresh(
            &mut unverified,
            &pool_with(vec![]),
            &provider(),
            "g-2",
            &upstream,
            9,
        );
        assert_eq!(unverified.attribute("email"), Some("other@example.com"));
        let mut own = user(
            "Google_g-3",
            &[("email", "g3@example.com"), ("email_verified", "true")],
        );
        refresh(
            &mut own,
            &pool_with(vec![]),
            &provider(),
            "g-3",
            &upstream,
            9,
        );
        assert_eq!(own.attribute("email"), Some("other@example.com"));
        assert_eq!(own.attribute("email_verified"), Some("false"));
    }

    /// A pool holding `providers`.
    fn pool_with(providers: Vec<IdentityProvider>) -> UserPool {
        let mut pool: UserPool = serde_json::from_value(json!({
            "id": "us-east-1_Pool1",
            "name": "p",
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap();
        pool.identity_providers = providers;
        pool
    }

    /// An enterprise provider authorized for `domains` only.
    fn enterprise(name: &str, domains: &[&str]) -> IdentityProvider {
        IdentityProvider {
            name: name.into(),
            provider_type: ProviderType::Oidc,
            identifiers: domains.iter().map(|d| d.to_string()).collect(),
            ..provider()
        }
    }

    #[test]
    fn a_linked_user_keeps_its_verified_phone_and_immutable_attributes() {
        let mut pool = pool_with(vec![]);
        pool.custom_attributes = serde_json::from_value(json!([
            {"name": "tenant_id", "mutable": false},
            {"name": "team"},
        ]))
        .unwrap();
        let upstream = mapped(&[
            ("phone_number", "+15550000002"),
            ("phone_number_verified", "false"),
            ("custom:tenant_id", "globex"),
            ("custom:team", "blue"),
        ]);
        let mut ana = user(
            "ana",
            &[
                ("phone_number", "+15550000001"),
                ("phone_number_verified", "true"),
                ("custom:tenant_id", "acme"),
                ("custom:team", "red"),
            ],
        );
        refresh(&mut ana, &pool, &provider(), "g-1", &upstream, 9);
        assert_eq!(ana.attribute("phone_number"), Some("+15550000001"));
        assert_eq!(ana.attribute("phone_number_verified"), Some("true"));
        assert_eq!(ana.attribute("custom:tenant_id"), Some("acme"), "immutable");
        assert_eq!(ana.attribute("custom:team"), Some("blue"), "mutable");

        // The identity's own user follows its IdP's phone, never an immutable value set
        // once; an immutable attribute not yet set is given.
        let mut own = user(
            "Google_g-3",
            &[
                ("phone_number", "+15550000003"),
                ("phone_number_verified", "true"),
            ],
        );
        refresh(&mut own, &pool, &provider(), "g-3", &upstream, 9);
        assert_eq!(own.attribute("phone_number"), Some("+15550000002"));
        assert_eq!(
            own.attribute("custom:tenant_id"),
            Some("globex"),
            "first set"
        );
        let again = mapped(&[("custom:tenant_id", "initech")]);
        refresh(&mut own, &pool, &provider(), "g-3", &again, 10);
        assert_eq!(own.attribute("custom:tenant_id"), Some("globex"));
    }

    #[test]
    fn only_a_verified_unlinked_holder_of_the_address_may_take_the_identity() {
        let key = "ana@example.com";
        let pool = pool_with(vec![provider()]);
        let ok = user(
            "ana",
            &[("email", "Ana@Example.com"), ("email_verified", "true")],
        );
        assert_eq!(not_linkable(&ok, key, &provider(), &pool), None);
        let unverified = user("ana", &[("email", "ana@example.com")]);
        assert!(not_linkable(&unverified, key, &provider(), &pool).is_some());
        let moved = user(
            "ana",
            &[
                ("email", "ana@elsewhere.example"),
                ("email_verified", "true"),
            ],
        );
        assert!(not_linkable(&moved, key, &provider(), &pool).is_some());
        let mut taken = ok.clone();
        taken
            .identities
            .push(identity(&provider(), "g-9", &BTreeMap::new(), 0));
        assert!(not_linkable(&taken, key, &provider(), &pool).is_some());
    }

    #[test]
    fn a_provider_vouches_only_for_its_domains_unless_opted_in() {
        let corp = enterprise("Corp", &["Corp.Example"]);
        assert!(
            corp.vouches_for("corp.example"),
            "identifiers, without case"
        );
        assert!(!corp.vouches_for("tenant.example"));
        assert!(
            !corp.vouches_for("sub.corp.example"),
            "a subdomain is another domain"
        );
        let opted_in = IdentityProvider {
            link_by_email: true,
            ..enterprise("Any", &[])
        };
        assert!(opted_in.vouches_for("tenant.example"));
        assert_eq!(domain_of("a@b@corp.example"), "corp.example");
        assert_eq!(domain_of("nodomain"), "nodomain");
    }

    #[test]
    fn a_user_another_provider_brought_is_joined_only_by_a_provider_trusted_alike() {
        let key = "vic@corp.example";
        let corp = enterprise("Corp", &["corp.example"]);
        let corp2 = enterprise("Corp2", &["corp.example", "corp2.example"]);
        let tenant = IdentityProvider {
            link_by_email: true,
            ..enterprise("Tenant", &["tenant.example"])
        };
        let pool = pool_with(vec![corp.clone(), corp2.clone(), tenant.clone()]);
        let mut vic = user(
            "Corp_1",
            &[("email", "vic@corp.example"), ("email_verified", "true")],
        );
        vic.identities
            .push(identity(&corp, "1", &BTreeMap::new(), 0));
        assert_eq!(not_linkable(&vic, key, &corp2, &pool), None);
        let mut tenant_user = vic.clone();
        tenant_user.identities[0] = identity(&enterprise("Gone", &[]), "1", &BTreeMap::new(), 0);
        assert!(
            not_linkable(&tenant_user, key, &corp2, &pool).is_some(),
            "a removed provider vouches for nothing"
        );
        // Tenant (opted in for every domain) holding the user: both are authorized.
        let mut held = vic.clone();
        held.identities[0] = identity(&tenant, "1", &BTreeMap::new(), 0);
        assert_eq!(not_linkable(&held, key, &corp, &pool), None);
        // A tenant.example user held by Corp2, which is not authorized for that domain.
        let mut other = user(
            "Corp2_1",
            &[("email", "t@tenant.example"), ("email_verified", "true")],
        );
        other
            .identities
            .push(identity(&corp2, "1", &BTreeMap::new(), 0));
        assert!(not_linkable(&other, "t@tenant.example", &tenant, &pool).is_some());
    }

    #[test]
    fn a_link_is_bound_to_its_issuer_or_its_oauth2_client() {
        let mut corp = enterprise("Corp", &[]);
        corp.protocol = ProtocolSettings::Oidc(OidcSettings {
            issuer: Some("https://a.example".into()),
            ..OidcSettings::default()
        });
        let pool = pool_with(vec![corp.clone()]);
        let mut ana = user("Corp_1", &[]);
        ana.identities
            .push(identity(&corp, "1", &BTreeMap::new(), 0));
        assert_eq!(
            ana.identities[0].bound_to.as_deref(),
            Some("https://a.example")
        );
        assert!(check_binding(&ana, &pool, &corp, "1").is_ok());
        // The client id does not bind an OpenID Connect link (subjects are the issuer's).
        let rotated = IdentityProvider {
            client_id: "other".into(),
            ..corp.clone()
        };
        assert!(check_binding(&ana, &pool, &rotated, "1").is_ok());
        let mut repointed = corp.clone();
        repointed.protocol = ProtocolSettings::Oidc(OidcSettings {
            issuer: Some("https://b.example".into()),
            ..OidcSettings::default()
        });
        assert!(matches!(
            check_binding(&ana, &pool, &repointed, "1"),
            Err(FederationError::IssuerChanged(_))
        ));
        // A link from before binding is held to the issuer it recorded; without one it
        // passes, and its sign-in binds it.
        ana.identities[0].bound_to = None;
        assert!(check_binding(&ana, &pool, &repointed, "1").is_err());
        assert!(check_binding(&ana, &pool, &corp, "1").is_ok());
        ana.identities[0].issuer = None;
        assert!(check_binding(&ana, &pool, &repointed, "1").is_ok());
        refresh(&mut ana, &pool, &repointed, "1", &BTreeMap::new(), 1);
        assert_eq!(
            ana.identities[0].bound_to.as_deref(),
            Some("https://b.example")
        );

        // Plain OAuth 2.0: the token endpoint and the client id (app-scoped ids).
        let mut facebook = enterprise("Facebook", &[]);
        facebook.provider_type = ProviderType::Facebook;
        facebook.protocol = ProtocolSettings::OAuth2(OAuth2Settings {
            endpoints: OAuth2Endpoints {
                token: Some("https://graph.example/token".into()),
                ..OAuth2Endpoints::default()
            },
            ..OAuth2Settings::default()
        });
        let mut fb_user = user("Facebook_1", &[]);
        fb_user
            .identities
            .push(identity(&facebook, "1", &BTreeMap::new(), 0));
        assert!(check_binding(&fb_user, &pool, &facebook, "1").is_ok());
        let other_app = IdentityProvider {
            client_id: "another-app".into(),
            ..facebook.clone()
        };
        assert!(check_binding(&fb_user, &pool, &other_app, "1").is_err());
    }

    #[test]
    fn required_attributes_are_named_as_cognito_does() {
        let mut pool: UserPool = serde_json::from_value(json!({
            "id": "us-east-1_Pool1",
            "name": "p",
            "required_attributes": ["email", "name"],
            "created_at": 0,
            "updated_at": 0,
        }))
        .unwrap();
        let err = require_attributes(&pool, &provider(), &mapped(&[("name", "Ana")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid user attributes: email: Attribute is required."
        );
        assert!(require_attributes(
            &pool,
            &provider(),
            &mapped(&[("name", "Ana"), ("email", "a@example.com")])
        )
        .is_ok());
        pool.required_attributes.clear();
        assert!(require_attributes(&pool, &provider(), &BTreeMap::new()).is_ok());
    }
}
