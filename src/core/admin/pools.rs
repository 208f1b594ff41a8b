//! User pools: CreateUserPool / UpdateUserPool / DeleteUserPool and their rules.

use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{
    valid, validate_identity_providers, AdminError, AdminResult, AdminService, Errors, FieldError,
    RecordKind, Rule,
};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::delivery::NO_SMS_SENDER;
use crate::core::ids;
use crate::core::model::{
    AliasAttribute, AttributeDataType, CodeLimits, CustomAttribute, FirstFactor, MfaFactor,
    MfaSetting, Origin, PasskeySettings, UserPool,
};
use crate::core::storage::{Store, StoreError};

/// Cognito's limits: pool names 1 to 128 characters, passwords 6 to 99, temporary passwords
/// valid at most 365 days, custom attribute names 1 to 20 characters, values 2048.
const MAX_POOL_NAME: usize = 128;
const MAX_CUSTOM_NAME: usize = 20;
const MAX_ATTRIBUTE_LEN: u32 = 2048;
const MAX_TEMPORARY_DAYS: u32 = 365;
/// Cognito's quotas: 1,000 user pools per account (region), 50 custom attributes per pool,
/// 50 tags per pool (keys 1 to 128 characters, values up to 256).
pub const MAX_POOLS: u32 = 1000;
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;
const MAX_TAGS: usize = 50;
/// Upper bounds of the code budgets (per hour; see [`check_code_limits`]).
const MAX_SENDS_PER_DESTINATION: u32 = 100;
const MAX_TRIES_PER_DESTINATION: u32 = 100;
const MAX_PER_CLIENT_ADDRESS: u32 = 100_000;
/// How many times [`AdminService::modify_pool`] re-reads the pool and re-applies its change
/// after losing to another writer. Each round one writer wins, so this many concurrent
/// changes of one pool (Terraform's default parallelism is 10) all land.
const POOL_WRITE_ATTEMPTS: u32 = 64;

/// A pool's triggers: only the kinds Cognate calls, each at a webhook URL it may call
/// (https, or http to a loopback host, as IdP URLs; no credentials in it: the request is
/// signed instead). The custom senders need the pool's sender key (their codes are
/// encrypted to it, [`crate::core::triggers::jwe`]), and a sender key must be an RSA
/// public key. Paths are `triggers.<key>`.
fn check_triggers(e: &mut Errors, pool: &UserPool) {
    for (kind, url) in &pool.triggers.0 {
        let at = format!("triggers.{}", kind.key());
        if let Err(message) = check_webhook_url(url) {
            e.push(
                at.clone(),
                Rule::Invalid,
                message,
                "write e.g. \"https://hooks.example.com/pre-signup\"",
            );
        }
        if kind.is_sender() && pool.triggers.sender_key().is_none() {
            e.push(
                at,
                Rule::Invalid,
                format!(
                    "the {} trigger receives codes encrypted to the pool's sender key, and \
                     the pool has none",
                    kind.key()
                ),
                "set triggers.sender_key to an RSA public key (PEM \"-----BEGIN PUBLIC \
                 KEY-----\" or an RSA JWK; the API's LambdaConfig.KMSKeyID)",
            );
        }
    }
    if let Some(key) = pool.triggers.sender_key() {
        if let Err(message) = crate::core::triggers::jwe::SenderKey::parse(key) {
            e.push(
                "triggers.sender_key",
                Rule::Invalid,
                message,
                "give the public key of an RSA key pair of 2048 bits or more, e.g. the \
                 output of `openssl rsa -in sender.pem -pubout`",
            );
        }
    }
}

/// A trigger's webhook URL: the IdP URL rule, and no user name or password in it.
pub fn check_webhook_url(text: &str) -> Result<(), String> {
    super::identity_providers::check_service_url(
        text,
        "a webhook on the same machine",
        "webhooks are called over https",
    )?;
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{:?} carries credentials; remove them (Cognate signs every call instead)",
            crate::federation::http::for_log(&url)
        ));
    }
    Ok(())
}

/// Trigger webhooks set through the API (`LambdaConfig`), beyond [`check_webhook_url`]:
/// any holder of an operator API key may set them, so they may not point the node at
/// its own or its network's internal services (server-side request forgery). A loopback
/// host (`localhost` and names under it, 127.0.0.0/8, `[::1]`) is refused unless the
/// operator allows it (`[server] api_webhooks_on_loopback`); an address written in the
/// URL must be public or in `private_networks` (`[server] idp_private_networks`). Host
/// names are checked where it counts, at delivery: the resolver keeps only public
/// addresses (and the networks allowed), so a name resolving to an internal address,
/// then or later (DNS rebinding), is never connected to, and redirects are never
/// followed ([`crate::federation::http`]). Paths are `triggers.<key>`.
pub fn validate_api_webhook_targets(
    pool: &UserPool,
    loopback_allowed: bool,
    private_networks: &[ipnet::IpNet],
) -> Vec<FieldError> {
    use crate::federation::http::guard;
    let mut e = Errors::default();
    for (kind, text) in &pool.triggers.0 {
        // Malformed URLs are the pool rules' to report.
        let Ok(url) = url::Url::parse(text) else {
            continue;
        };
        let Some(host) = url.host() else {
            continue;
        };
        let at = format!("triggers.{}", kind.key());
        if guard::is_loopback_host(&host) {
            if !loopback_allowed {
                e.push(
                    at,
                    Rule::Invalid,
                    format!(
                        "{:?} is on loopback, which webhooks set through the API may not be \
                         (the operator allows it with [server] api_webhooks_on_loopback = true)",
                        crate::federation::http::for_log(&url)
                    ),
                    "use a public https URL, or declare the trigger in the configuration file",
                );
            }
            continue;
        }
        if let Err(detail) = guard::check_literal(&url, private_networks) {
            e.push(
                at,
                Rule::Invalid,
                format!(
                    "{detail}: webhooks are called only on public addresses (or the \
                     networks in [server] idp_private_networks)"
                ),
                "use a public https URL",
            );
        }
    }
    e.into_vec()
}

/// CreateUserPool's rules on a pool record. Its identity providers have their own rules
/// ([`super::validate_identity_providers`]), which [`AdminService::put_pool`] runs too.
pub fn validate_pool(pool: &UserPool) -> Vec<FieldError> {
    let mut e = Errors::default();
    if !ids::is_valid_pool_id(&pool.id) {
        e.push(
            "id",
            Rule::IdFormat,
            format!(
                "{:?} is not a pool id; pool ids look like <region>_<letters and digits>",
                pool.id
            ),
            "write e.g. \"us-east-1_AbC123dEf\"",
        );
    }
    if pool.name.trim().is_empty() || pool.name.chars().count() > MAX_POOL_NAME {
        e.push(
            "name",
            Rule::Invalid,
            "a pool name must have 1 to 128 characters",
            "write e.g. name = \"customers\"",
        );
    }
    for (k, attr) in pool.username_attributes.iter().enumerate() {
        if *attr == AliasAttribute::PreferredUsername {
            e.push(
                format!("username_attributes[{k}]"),
                Rule::Invalid,
                "only email and phone_number can replace the username",
                "use \"email\" and/or \"phone_number\", or move preferred_username to \
                 alias_attributes",
            );
        }
    }
    if !pool.username_attributes.is_empty() && !pool.alias_attributes.is_empty() {
        e.push(
            "alias_attributes",
            Rule::Exclusive,
            "username_attributes and alias_attributes cannot both be set (Cognito: a pool \
             signs in either with email/phone as the username, or with a username plus aliases)",
            "remove one of username_attributes and alias_attributes",
        );
    }
    for (k, attr) in pool.auto_verified_attributes.iter().enumerate() {
        match attr {
            AliasAttribute::PreferredUsername => e.push(
                format!("auto_verified_attributes[{k}]"),
                Rule::Invalid,
                "only email and phone_number can be verified by a code",
                "use \"email\"",
            ),
            // Verifying a phone number needs SMS, which Cognate sends only through a
            // custom SMS sender webhook: without one a pool that asked for it would leave
            // every number unverified while promising otherwise.
            AliasAttribute::PhoneNumber if !crate::core::delivery::sms_available(pool) => e.push(
                format!("auto_verified_attributes[{k}]"),
                Rule::NotSupported,
                format!(
                    "phone_number cannot be verified: {}",
                    crate::core::delivery::NO_SMS_SENDER
                ),
                "declare triggers.custom_sms_sender and triggers.sender_key, or remove \
                 \"phone_number\" (an administrator can still set phone_number_verified)",
            ),
            AliasAttribute::PhoneNumber => {}
            AliasAttribute::Email => {}
        }
    }
    check_factors(&mut e, pool);
    for (k, name) in pool.required_attributes.iter().enumerate() {
        if !STANDARD_ATTRIBUTES.contains(&name.as_str()) {
            e.push(
                format!("required_attributes[{k}]"),
                Rule::Unknown,
                format!(
                    "{name:?} is not a standard attribute (custom attributes cannot be required)"
                ),
                format!("use one of: {}", STANDARD_ATTRIBUTES.join(", ")),
            );
        } else if pool.required_attributes[..k].contains(name) {
            e.push(
                format!("required_attributes[{k}]"),
                Rule::Duplicate,
                format!("{name:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
    check_custom_attributes(&mut e, pool);
    check_triggers(&mut e, pool);
    let pp = &pool.password_policy;
    if !(6..=99).contains(&pp.minimum_length) {
        e.push(
            "password_policy.minimum_length",
            Rule::Invalid,
            format!(
                "minimum_length {} is outside Cognito's range 6 to 99",
                pp.minimum_length
            ),
            "use a value from 6 to 99 (Cognito's default is 8)",
        );
    }
    if pp.temporary_password_validity_days > MAX_TEMPORARY_DAYS {
        e.push(
            "password_policy.temporary_password_validity_days",
            Rule::Invalid,
            "temporary passwords can stay valid at most 365 days",
            "use a value from 0 to 365 (Cognito's default is 7)",
        );
    }
    check_code_limits(&mut e, &pool.code_limits);
    if pool.tags.len() > MAX_TAGS {
        e.push(
            "tags",
            Rule::Invalid,
            format!(
                "{} tags: a pool can have at most {MAX_TAGS}",
                pool.tags.len()
            ),
            "remove some tags",
        );
    }
    for (key, value) in &pool.tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            e.push(
                format!("tags.{key}"),
                Rule::Invalid,
                format!("tag {key:?}: keys have 1 to 128 characters, values at most 256"),
                "shorten the tag",
            );
        }
    }
    if let Some(entity_id) = &pool.saml_sp_entity_id {
        if let Err(message) = check_sp_entity_id(entity_id) {
            e.push(
                "saml_sp_entity_id",
                Rule::Invalid,
                message,
                "write an absolute URI or a URN, e.g. saml_sp_entity_id = \
                 \"https://auth.example.com/saml\", or remove the line for Cognito's \
                 urn:amazon:cognito:sp:<poolId>",
            );
        }
    }
    e.into_vec()
}

/// The longest entity id SAML allows (SAML 2.0 Core section 8.3.6).
pub const MAX_ENTITY_ID: usize = 1024;

/// A SAML entity id: an absolute URI (SAML 2.0 Core section 8.3.6), at most
/// [`MAX_ENTITY_ID`] characters, with no white space or control character (IdPs compare
/// it byte for byte with the Audience they send); a URN needs its namespace id and a
/// specific string (`urn:<NID>:<NSS>`, RFC 8141 section 2).
pub fn check_sp_entity_id(text: &str) -> Result<(), String> {
    let length = text.chars().count();
    if length == 0 || length > MAX_ENTITY_ID {
        return Err(format!(
            "an entity id must have 1 to {MAX_ENTITY_ID} characters (this one has {length})"
        ));
    }
    if let Some(bad) = text.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "the entity id contains {bad:?}: white space and control characters are not \
             allowed in a URI"
        ));
    }
    let parsed =
        url::Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URI ({e})"))?;
    if parsed.scheme() == "urn" {
        let mut parts = text.splitn(3, ':').skip(1);
        let nid = parts.next().unwrap_or_default();
        let nss = parts.next().unwrap_or_default();
        let nid_ok = (2..=32).contains(&nid.len())
            && nid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !nid.starts_with('-');
        if !nid_ok || nss.is_empty() {
            return Err(format!(
                "{text:?} is not a URN: write urn:<namespace>:<name>, e.g. \
                 urn:example:sp:shop"
            ));
        }
    }
    Ok(())
}

/// The factor settings (issue 13): what `mfa` may ask, which first factors a pool offers,
/// and the passkeys' relying party as far as it can be judged without the public URL
/// ([`validate_passkeys_at`] judges the rest).
fn check_factors(e: &mut Errors, pool: &UserPool) {
    let f = &pool.factors;
    for (k, factor) in f.mfa.iter().enumerate() {
        if f.mfa[..k].contains(factor) {
            e.push(
                format!("factors.mfa[{k}]"),
                Rule::Duplicate,
                format!("{factor} is listed twice"),
                "remove the duplicate",
            );
        }
    }
    for (k, factor) in f.first.iter().enumerate() {
        if f.first[..k].contains(factor) {
            e.push(
                format!("factors.first[{k}]"),
                Rule::Duplicate,
                format!("{factor} is listed twice"),
                "remove the duplicate",
            );
        }
    }
    // A pool that asks for a second factor must offer one to enrol (Cognito: an MFA
    // configuration of ON or OPTIONAL needs a software token, SMS or email MFA enabled).
    if pool.mfa != MfaSetting::Off && f.mfa.is_empty() {
        e.push(
            "factors.mfa",
            Rule::Missing,
            format!(
                "mfa {} needs at least one second factor, and none is allowed",
                pool.mfa
            ),
            "allow at least one of TOTP, EMAIL, SMS and PASSKEY, e.g. mfa_factors = [\"TOTP\"], \
             or set mfa = \"OFF\"",
        );
    }
    // SMS codes go out only through the pool's custom SMS sender (a setting is a promise:
    // a factor the pool cannot deliver is refused, not left to fail at sign-in).
    if let Some(k) = f.mfa.iter().position(|x| *x == MfaFactor::Sms) {
        if !crate::core::delivery::sms_available(pool) {
            e.push(
                format!("factors.mfa[{k}]"),
                Rule::Missing,
                format!("SMS as a second factor needs a way to send SMS: {NO_SMS_SENDER}"),
                "declare custom_sms_sender and sender_key in [pools.triggers] \
                 (LambdaConfig.CustomSMSSender and KMSKeyID through the API), or remove \"SMS\"",
            );
        }
    }
    // The hosted sign-up sets a password; a pool without password sign-in would create
    // users who cannot sign in until they have another factor.
    if !f.first.contains(&FirstFactor::Password) {
        e.push(
            "factors.first",
            Rule::Missing,
            "the sign-in factors must include PASSWORD: the hosted sign-up sets a password",
            "add \"PASSWORD\", e.g. sign_in_factors = [\"PASSWORD\", \"PASSKEY\"]",
        );
    }
    // Cognito: passwordless sign-in with an emailed code is one factor, so a pool whose
    // MFA is required cannot offer it (a passkey passes: user verification makes it two).
    if pool.mfa == MfaSetting::On {
        if let Some(k) = f.first.iter().position(|x| *x == FirstFactor::EmailOtp) {
            e.push(
                format!("factors.first[{k}]"),
                Rule::Exclusive,
                "EMAIL_OTP sign-in is one factor, which a pool with mfa ON cannot accept \
                 (as in Cognito)",
                "remove \"EMAIL_OTP\", or set mfa = \"OPTIONAL\"",
            );
        }
    }
    if f.passkeys.register_at_sign_up && !f.passkeys_enabled() {
        e.push(
            "factors.passkeys.register_at_sign_up",
            Rule::Missing,
            "register_at_sign_up offers a passkey after sign-up, but the pool allows no \
             passkeys",
            "add \"PASSKEY\" to sign_in_factors or mfa_factors, or remove \
             register_at_sign_up",
        );
    }
    check_passkey_settings(e, &f.passkeys);
}

/// The relying-party id and the extra origins, on their own: a host name (not an IP
/// address; not a single label but `localhost`), and absolute http(s) origins (http only
/// for localhost) inside the relying party's domain.
fn check_passkey_settings(e: &mut Errors, p: &PasskeySettings) {
    let rp_id = p.relying_party_id.as_deref().map(str::trim);
    if let Some(id) = rp_id {
        if let Err(message) = check_relying_party_id(id) {
            e.push(
                "factors.passkeys.relying_party_id",
                Rule::Invalid,
                message,
                "write the public URL's host or a parent domain of it, e.g. \
                 relying_party_id = \"example.com\", or remove it for the public URL's host",
            );
        }
    }
    for (k, origin) in p.origins.iter().enumerate() {
        let at = format!("factors.passkeys.origins[{k}]");
        let host = match check_passkey_origin(origin) {
            Ok(host) => host,
            Err(message) => {
                e.push(
                    at,
                    Rule::Invalid,
                    message,
                    "write an origin such as \"https://app.example.com\" (http only for \
                     localhost)",
                );
                continue;
            }
        };
        if let Some(id) = rp_id.filter(|id| check_relying_party_id(id).is_ok()) {
            if !within_domain(&host, id) {
                e.push(
                    at,
                    Rule::Invalid,
                    format!(
                        "{origin:?} is outside the relying party {id:?}: browsers run passkey \
                         ceremonies only on the relying party's domain and its subdomains"
                    ),
                    format!("use an origin on {id} or one of its subdomains"),
                );
                continue;
            }
        }
        if p.origins[..k].contains(origin) {
            e.push(
                at,
                Rule::Duplicate,
                format!("{origin:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
}

/// A relying-party id: a lowercase host name (WebAuthn: a valid domain string, never an
/// IP address), with a dot unless it is `localhost`.
pub fn check_relying_party_id(id: &str) -> Result<(), String> {
    if id
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok()
    {
        return Err(format!(
            "{id:?} is an IP address: browsers refuse WebAuthn on IP addresses (use a host \
             name such as localhost)"
        ));
    }
    let valid_label = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if id.is_empty() || id.len() > 253 || !id.split('.').all(valid_label) {
        return Err(format!(
            "{id:?} is not a host name (lowercase letters, digits, - and dots, no scheme, \
             port or path)"
        ));
    }
    if !id.contains('.') && id != "localhost" {
        return Err(format!(
            "{id:?} is a single label: a relying party is a registrable domain such as \
             example.com (or localhost)"
        ));
    }
    Ok(())
}

/// An extra passkey origin: `scheme://host[:port]` with https, or http for localhost;
/// returns its host.
pub fn check_passkey_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not an origin ({e})"))?;
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(_) => {
            return Err(format!(
                "{text:?} has an IP address: browsers refuse WebAuthn on IP addresses (use a \
                 host name such as localhost)"
            ))
        }
        None => return Err(format!("{text:?} has no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if host == "localhost" || host.ends_with(".localhost") => {}
        "http" => {
            return Err(format!(
                "{text:?} uses http, which browsers allow for passkeys only on localhost"
            ))
        }
        other => return Err(format!("{text:?} has scheme {other:?}; use https")),
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "{text:?} is not an origin: write only scheme, host and port, without a path"
        ));
    }
    Ok(host)
}

/// Whether `host` is `domain` or one of its subdomains.
fn within_domain(host: &str, domain: &str) -> bool {
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

/// The passkey rules that need the server's public URL (`cognate check-config` runs them;
/// the pool alone cannot know): a pool with passkeys needs a public URL on a host name,
/// and its relying-party id must be that host or a parent domain of it.
pub fn validate_passkeys_at(pool: &UserPool, public_url: &url::Url) -> Vec<FieldError> {
    let mut e = Errors::default();
    let host = match public_url.host() {
        Some(url::Host::Domain(d)) => Some(d.to_ascii_lowercase()),
        _ => None,
    };
    let Some(host) = host else {
        if pool.factors.passkeys_enabled() {
            let path = if pool.factors.allows_first(FirstFactor::Passkey) {
                "factors.first"
            } else {
                "factors.mfa"
            };
            e.push(
                path,
                Rule::Invalid,
                format!(
                    "passkeys are enabled but the public URL {:?} is an IP address: \
                     browsers refuse WebAuthn on IP origins",
                    public_url.as_str().trim_end_matches('/')
                ),
                "serve under a host name, e.g. public_url = \"http://localhost:9000\" \
                 (a secure context over plain http) or \"https://auth.example.com\"; or \
                 remove PASSKEY",
            );
        }
        return e.into_vec();
    };
    // Without a relying-party id, the public URL's host is the relying party: an extra
    // origin must be on it (the core checks them against a declared id).
    if pool.factors.passkeys.relying_party_id.is_none() {
        for (k, origin) in pool.factors.passkeys.origins.iter().enumerate() {
            let Ok(origin_host) = check_passkey_origin(origin) else {
                continue;
            };
            if !within_domain(&origin_host, &host) {
                e.push(
                    format!("factors.passkeys.origins[{k}]"),
                    Rule::Invalid,
                    format!(
                        "{origin:?} is outside the relying party, which is the public URL's \
                         host {host:?}: browsers would refuse passkey ceremonies there"
                    ),
                    "set relying_party_id to a parent domain of both (e.g. \
                     relying_party_id = \"example.com\"), or remove the origin",
                );
            }
        }
    }
    if let Some(id) = pool
        .factors
        .passkeys
        .relying_party_id
        .as_deref()
        .map(str::trim)
    {
        if check_relying_party_id(id).is_ok() && !within_domain(&host, id) {
            e.push(
                "factors.passkeys.relying_party_id",
                Rule::Invalid,
                format!(
                    "relying party {id:?} is neither the public URL's host {host:?} nor a \
                     parent domain of it, so browsers would refuse every passkey ceremony"
                ),
                format!(
                    "write relying_party_id = \"{host}\" or a parent domain of it, or remove \
                     it for the public URL's host"
                ),
            );
        }
    }
    e.into_vec()
}

/// The code budgets' ranges. Zero would refuse every code (so every sign-up); the upper
/// bounds keep the guess bound meaningful (each try against a destination's codes wins
/// with probability one in a million, so `tries_per_destination` is the hourly odds in
/// millionths) and the store's counters small.
fn check_code_limits(e: &mut Errors, limits: &CodeLimits) {
    let ranges = [
        (
            "sends_per_destination",
            limits.sends_per_destination,
            MAX_SENDS_PER_DESTINATION,
            CodeLimits::default().sends_per_destination,
        ),
        (
            "tries_per_destination",
            limits.tries_per_destination,
            MAX_TRIES_PER_DESTINATION,
            CodeLimits::default().tries_per_destination,
        ),
        (
            "sends_per_client_address",
            limits.sends_per_client_address,
            MAX_PER_CLIENT_ADDRESS,
            CodeLimits::default().sends_per_client_address,
        ),
        (
            "tries_per_client_address",
            limits.tries_per_client_address,
            MAX_PER_CLIENT_ADDRESS,
            CodeLimits::default().tries_per_client_address,
        ),
    ];
    for (name, value, max, default) in ranges {
        if !(1..=max).contains(&value) {
            e.push(
                format!("code_limits.{name}"),
                Rule::Invalid,
                format!("{name} {value} is outside the range 1 to {max} (per hour)"),
                format!("use a value from 1 to {max} (the default is {default})"),
            );
        }
    }
}

/// Cognito's `SchemaAttributeType` rules for `custom:` attributes: the name without the
/// prefix, letters, digits, `_` and `-`, and string lengths within the attribute size.
fn check_custom_attributes(e: &mut Errors, pool: &UserPool) {
    if pool.custom_attributes.len() > MAX_CUSTOM_ATTRIBUTES {
        e.push(
            "custom_attributes",
            Rule::Limit,
            format!(
                "{} custom attributes: a pool can have at most {MAX_CUSTOM_ATTRIBUTES} \
                 (Cognito's quota)",
                pool.custom_attributes.len()
            ),
            "remove some custom attributes",
        );
    }
    for (k, attr) in pool.custom_attributes.iter().enumerate() {
        let at = format!("custom_attributes[{k}]");
        let valid = (1..=MAX_CUSTOM_NAME).contains(&attr.name.chars().count())
            && attr
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !valid {
            e.push(
                format!("{at}.name"),
                Rule::Invalid,
                format!(
                    "{:?} is not a custom attribute name: use 1 to 20 letters, digits, _ or -, \
                     without the custom: prefix",
                    attr.name
                ),
                "write e.g. name = \"tenant_id\"",
            );
        } else if pool.custom_attributes[..k]
            .iter()
            .any(|other| other.name == attr.name)
        {
            e.push(
                format!("{at}.name"),
                Rule::Duplicate,
                format!("custom attribute {:?} is declared twice", attr.name),
                "remove the duplicate or rename it",
            );
        }
        if attr.max_length.is_some_and(|m| m > MAX_ATTRIBUTE_LEN) {
            e.push(
                format!("{at}.max_length"),
                Rule::Invalid,
                "max_length must be at most 2048 (Cognito's attribute size limit)",
                "use a value from 1 to 2048",
            );
        }
        if let (Some(min), Some(max)) = (attr.min_length, attr.max_length) {
            if min > max {
                e.push(
                    format!("{at}.min_length"),
                    Rule::Invalid,
                    format!("min_length {min} is larger than max_length {max}"),
                    "make min_length at most max_length",
                );
            }
        }
        check_number_bounds(e, &at, attr);
    }
}

/// Cognito's `NumberAttributeConstraints`: value bounds belong to `Number` attributes
/// only (a bound on any other type would be a promise nothing keeps), and the least
/// value is at most the greatest. The bounds are integers by their type (`i64`).
fn check_number_bounds(e: &mut Errors, at: &str, attr: &CustomAttribute) {
    if attr.data_type != AttributeDataType::Number {
        for (key, bound) in [("min_value", attr.min_value), ("max_value", attr.max_value)] {
            if bound.is_some() {
                e.push(
                    format!("{at}.{key}"),
                    Rule::Invalid,
                    format!(
                        "{key} bounds Number attributes only; {:?} is a {:?} attribute",
                        attr.name, attr.data_type
                    ),
                    format!("remove {key}, or make the attribute's type Number"),
                );
            }
        }
        return;
    }
    if let (Some(min), Some(max)) = (attr.min_value, attr.max_value) {
        if min > max {
            e.push(
                format!("{at}.min_value"),
                Rule::Invalid,
                format!("min_value {min} is larger than max_value {max}"),
                "make min_value at most max_value",
            );
        }
    }
}

/// The pool's rules and its providers' rules: what writing a whole pool record checks.
fn whole_pool_errors(pool: &UserPool) -> Vec<FieldError> {
    let mut errors = validate_pool(pool);
    errors.extend(validate_identity_providers(pool));
    errors
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateUserPool: refuses an invalid pool or a taken id. The caller makes the pool's
    /// signing keys (a pool without them cannot issue tokens).
    pub async fn create_pool(&self, pool: &UserPool) -> AdminResult<()> {
        valid(RecordKind::Pool, whole_pool_errors(pool))?;
        if self.store().get_pool(&pool.id).await?.is_some() {
            return Err(AdminError::Exists {
                kind: RecordKind::Pool,
                id: pool.id.clone(),
            });
        }
        // Cognito's quota of user pools: checked here for a quick answer, then again by
        // the store, counted and inserted in one transaction under a store-wide lock (two
        // nodes creating the last pool at once cannot both pass).
        let max = self.max_pools;
        let full = |count: usize| AdminError::Invalid {
            kind: RecordKind::Pool,
            errors: vec![FieldError::new(
                "id",
                Rule::Limit,
                format!("there are {count} user pools, the quota is {max}"),
                "delete a pool first",
            )],
        };
        let count = self.store().list_pools().await?.len();
        if count >= max as usize {
            return Err(full(count));
        }
        match self.store().insert_pool(pool, max).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(full(max as usize)),
            Err(StoreError::Conflict(_)) => Err(AdminError::Exists {
                kind: RecordKind::Pool,
                id: pool.id.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a whole pool record, identity providers included, creating or replacing it
    /// (the configuration file, which resolves its providers itself). Every provider is
    /// checked as [`AdminService::add_identity_provider`] would, so no edge writes one
    /// unchecked; their errors' paths are under `identity_providers[i]`.
    pub async fn put_pool(&self, pool: &UserPool) -> AdminResult<()> {
        valid(RecordKind::Pool, whole_pool_errors(pool))?;
        self.store().put_pool(pool).await?;
        Ok(())
    }

    /// Replaces the stored pool `pool` was read as (`pool.version`), checking the whole
    /// record as [`AdminService::put_pool`] does. `StoreError::VersionMismatch` when another
    /// writer changed it since (the configuration file re-plans and tries again).
    pub async fn replace_pool(&self, pool: &UserPool) -> AdminResult<UserPool> {
        valid(RecordKind::Pool, whole_pool_errors(pool))?;
        Ok(self.store().replace_pool(pool).await?)
    }

    /// Applies `change` to the stored pool and writes it back with a compare-and-swap
    /// ([`Store::replace_pool`]); when another writer (on any node) changed the pool in
    /// between, re-reads it and applies `change` again, so concurrent changes of one pool
    /// (identity providers created in parallel) all survive and none is silently lost.
    /// `change` sees the current record each time and refuses by returning an error (a
    /// provider name another writer took meanwhile is then [`AdminError::Exists`]); its
    /// error type is the caller's, so an edge can refuse in its own terms. The result is
    /// checked as a whole pool ([`AdminService::put_pool`]'s rules); a change that leaves
    /// the record as it was writes nothing. Returns the stored pool and what `change`
    /// returned; [`AdminError::Concurrent`] after
    /// [`POOL_WRITE_ATTEMPTS`] lost rounds.
    pub async fn modify_pool<T, E, F>(
        &self,
        pool_id: &str,
        mut change: F,
    ) -> Result<(UserPool, T), E>
    where
        F: FnMut(&mut UserPool) -> Result<T, E> + Send,
        E: From<AdminError>,
        T: Send,
    {
        for attempt in 0..POOL_WRITE_ATTEMPTS {
            let mut pool = self.require_pool(pool_id).await?;
            let before = pool.clone();
            let out = change(&mut pool)?;
            if pool == before {
                // A change that changes nothing writes nothing.
                return Ok((pool, out));
            }
            match self.replace_pool(&pool).await {
                Ok(stored) => return Ok((stored, out)),
                Err(AdminError::Store(StoreError::VersionMismatch)) => back_off(attempt).await,
                Err(AdminError::Store(StoreError::NotFound)) => {
                    return Err(AdminError::NotFound {
                        kind: RecordKind::Pool,
                        id: pool_id.to_string(),
                    }
                    .into())
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AdminError::Concurrent {
            kind: RecordKind::Pool,
            id: pool_id.to_string(),
        }
        .into())
    }

    /// UpdateUserPool: applies `change` (the new settings) to the stored pool, through
    /// [`AdminService::modify_pool`]: a change computed from an older read would overwrite
    /// what other writers did meanwhile, so the edge passes the change itself and it is
    /// re-applied to the current record. The stored identity providers, custom
    /// attributes, origin and creation time are kept whatever `change` does (they change
    /// through [`AdminService::add_identity_provider`] and its siblings, and
    /// [`AdminService::add_custom_attributes`]). Returns the stored record.
    pub async fn update_pool<E, F>(&self, id: &str, change: F) -> Result<UserPool, E>
    where
        F: FnMut(&mut UserPool) -> Result<(), E> + Send,
        E: From<AdminError>,
    {
        self.update_pool_as(id, None, change).await
    }

    /// UpdateUserPool / SetUserPoolMfaConfig on behalf of `by`: [`AdminService::update_pool`]
    /// for a pool the caller owns; a pool declared in the configuration file changes only
    /// there ([`AdminError::ConfigOwned`] for an API write).
    pub async fn update_pool_by<E, F>(&self, id: &str, by: Origin, change: F) -> Result<UserPool, E>
    where
        F: FnMut(&mut UserPool) -> Result<(), E> + Send,
        E: From<AdminError>,
    {
        self.update_pool_as(id, Some(by), change).await
    }

    async fn update_pool_as<E, F>(
        &self,
        id: &str,
        by: Option<Origin>,
        mut change: F,
    ) -> Result<UserPool, E>
    where
        F: FnMut(&mut UserPool) -> Result<(), E> + Send,
        E: From<AdminError>,
    {
        let (stored, ()) = self
            .modify_pool::<(), E, _>(id, |pool| {
                if let Some(by) = by {
                    refuse_config_owned(RecordKind::Pool, id, pool.origin, by)?;
                }
                let kept = pool.clone();
                change(pool)?;
                pool.id = kept.id;
                pool.identity_providers = kept.identity_providers;
                pool.custom_attributes = kept.custom_attributes;
                pool.origin = kept.origin;
                pool.created_at = kept.created_at;
                pool.version = kept.version;
                Ok(())
            })
            .await?;
        Ok(stored)
    }

    /// DeleteUserPool on behalf of `by`: a pool declared in the configuration file is the
    /// file's to delete ([`AdminError::ConfigOwned`]), and a pool with deletion protection
    /// is refused until it is turned off (Cognito's `InvalidParameterException`). Returns
    /// whether it existed.
    pub async fn delete_pool_by(&self, id: &str, by: Origin) -> AdminResult<bool> {
        let Some(stored) = self.store().get_pool(id).await? else {
            return Ok(false);
        };
        refuse_config_owned(RecordKind::Pool, id, stored.origin, by)?;
        if stored.deletion_protection {
            return Err(AdminError::Invalid {
                kind: RecordKind::Pool,
                errors: vec![FieldError::new(
                    "deletion_protection",
                    Rule::Invalid,
                    "The pool cannot be deleted because deletion protection is activated. \
                     Deletion protection must be inactivated first.",
                    "update the pool with deletion protection INACTIVE, then delete it",
                )],
            });
        }
        self.delete_pool(id).await
    }

    /// AddCustomAttributes on behalf of `by`: appends `added` to the pool's custom
    /// attributes. A name the pool already has is refused (Cognito cannot change or remove
    /// a custom attribute), as is going over 50; every other rule is the pool's own
    /// ([`validate_pool`]). Returns the stored pool.
    pub async fn add_custom_attributes(
        &self,
        pool_id: &str,
        added: Vec<CustomAttribute>,
        by: Origin,
        now: crate::core::UnixTime,
    ) -> AdminResult<UserPool> {
        let (pool, ()) = self
            .modify_pool(pool_id, |pool| {
                refuse_config_owned(RecordKind::Pool, pool_id, pool.origin, by)?;
                let existing = pool.custom_attributes.len();
                let mut errors = Vec::new();
                for (k, attr) in added.iter().enumerate() {
                    if pool.custom_attributes.iter().any(|c| c.name == attr.name) {
                        errors.push(FieldError::new(
                            format!("custom_attributes[{}].name", existing + k),
                            Rule::Duplicate,
                            format!("Existing attribute already has name custom:{}.", attr.name),
                            "choose another name: a custom attribute cannot be changed or removed",
                        ));
                    }
                }
                valid(RecordKind::Pool, errors)?;
                pool.custom_attributes.extend(added.iter().cloned());
                pool.updated_at = now;
                Ok::<_, AdminError>(())
            })
            .await?;
        Ok(pool)
    }

    /// DeleteUserPool: the pool with its clients, users, groups and keys. Returns whether
    /// it existed.
    pub async fn delete_pool(&self, id: &str) -> AdminResult<bool> {
        Ok(self.store().delete_pool(id).await?)
    }

    /// The stored pool, or [`AdminError::NotFound`].
    pub(crate) async fn require_pool(&self, id: &str) -> AdminResult<UserPool> {
        self.store()
            .get_pool(id)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: RecordKind::Pool,
                id: id.to_string(),
            })
    }
}

/// Waits a few random milliseconds (more after each lost round) before the next attempt,
/// so writers that collided do not collide again in lockstep.
async fn back_off(attempt: u32) {
    let [jitter] = crate::core::secrets::random_bytes::<1>();
    let ceiling = 2 + u64::from(attempt.min(8)) * 2;
    let wait = u64::from(jitter) % ceiling;
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}

#[cfg(test)]
mod tests;
