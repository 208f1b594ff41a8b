//! User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
//! AddCustomAttributes, GetSigningCertificate, SetUserPoolMfaConfig, GetUserPoolMfaConfig.
//!
//! The edge reads Cognito's `CreateUserPoolRequest` / `UpdateUserPoolRequest` members onto
//! the [`UserPool`] record and renders `UserPoolType`; every rule on the record (names,
//! attributes, password policy, factors, quotas, config ownership, deletion protection) is
//! the administration service's ([`crate::core::admin::pools`]), shared with the
//! configuration file and the CLI. `LambdaConfig` takes each trigger's webhook URL
//! (`input::lambda_config`). A member Cognate cannot honour (SMS, triggers it does not call,
//! message templates, advanced security ...) is refused when it asks for anything but
//! Cognito's default, never stored and ignored.
//!
//! UpdateUserPool follows Cognito: the request replaces the pool's settings, so an omitted
//! updatable member returns to its default; what UpdateUserPool cannot express (sign-in
//! attributes, schema, case sensitivity, identity providers, MFA factors, passkey and code
//! settings) is kept.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{
    epoch, invalid, not_found, optional, optional_bool, optional_int, pool, required, AdminNames,
};
use crate::core::admin::{AdminError, AdminService, FieldError};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::ids;
use crate::core::model::{
    AliasAttribute, AttributeDataType, FirstFactor, MfaFactor, MfaSetting, Origin, PageRequest,
    PasswordPolicy, UserPool,
};

mod input;
mod risk;

pub use risk::{describe_risk_configuration, set_risk_configuration};

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;
use input::{alias, apply_updatable, enum_list, enum_member, mfa_setting, object, refused, schema};

/// The record paths of [`crate::core::admin::validate_pool`] in the API's member names,
/// longest first (a prefix is replaced; the rest of the path, e.g. `[2].name`, is kept).
const PATHS: &[(&str, &str)] = &[
    (
        "password_policy.minimum_length",
        "Policies.PasswordPolicy.MinimumLength",
    ),
    (
        "password_policy.temporary_password_validity_days",
        "Policies.PasswordPolicy.TemporaryPasswordValidityDays",
    ),
    (
        "factors.passkeys.relying_party_id",
        "WebAuthnConfiguration.RelyingPartyId",
    ),
    (
        "factors.first",
        "Policies.SignInPolicy.AllowedFirstAuthFactors",
    ),
    ("factors.mfa", "MfaConfiguration"),
    ("auto_verified_attributes", "AutoVerifiedAttributes"),
    ("username_attributes", "UsernameAttributes"),
    ("alias_attributes", "AliasAttributes"),
    ("required_attributes", "Schema"),
    ("custom_attributes", "Schema"),
    ("deletion_protection", "DeletionProtection"),
    ("triggers.pre_sign_up", "LambdaConfig.PreSignUp"),
    (
        "triggers.post_confirmation",
        "LambdaConfig.PostConfirmation",
    ),
    (
        "triggers.pre_authentication",
        "LambdaConfig.PreAuthentication",
    ),
    (
        "triggers.post_authentication",
        "LambdaConfig.PostAuthentication",
    ),
    ("triggers.user_migration", "LambdaConfig.UserMigration"),
    (
        "triggers.pre_token_generation",
        "LambdaConfig.PreTokenGenerationConfig.LambdaArn",
    ),
    ("triggers", "LambdaConfig"),
    ("tags", "UserPoolTags"),
    ("name", "PoolName"),
    ("id", "UserPoolId"),
];

const NAMES: AdminNames = AdminNames {
    fields: &[],
    not_found: "User pool does not exist.",
    exists: ("InvalidParameterException", "The user pool already exists."),
};

/// The service's refusal in Cognito's terms: field paths in member names (`custom` names
/// AddCustomAttributes' list), a quota as `LimitExceededException`.
fn admin_error(state: &AppState, call: &AwsCall, e: AdminError, custom: &str) -> AwsError {
    let AdminError::Invalid { kind, errors } = e else {
        return super::admin_error(state, call, e, &NAMES);
    };
    let errors = errors
        .into_iter()
        .map(|f| {
            let api = PATHS
                .iter()
                .find(|(ours, _)| f.path.starts_with(ours))
                .map(|(ours, theirs)| {
                    let theirs = if *ours == "custom_attributes" {
                        custom
                    } else {
                        theirs
                    };
                    format!("{theirs}{}", &f.path[ours.len()..])
                })
                .unwrap_or_else(|| f.path.clone());
            FieldError { path: api, ..f }
        })
        .collect();
    super::admin_error(state, call, AdminError::Invalid { kind, errors }, &NAMES)
}

/// Why a pool change the edge hands the service ([`AdminService::update_pool_by`]) was
/// refused: by the edge's own checks, run on the current record at each attempt, or by
/// the service.
enum ChangeError {
    Edge(AwsError),
    Admin(AdminError),
}

impl From<AwsError> for ChangeError {
    fn from(e: AwsError) -> Self {
        ChangeError::Edge(e)
    }
}

impl From<AdminError> for ChangeError {
    fn from(e: AdminError) -> Self {
        ChangeError::Admin(e)
    }
}

fn change_error(state: &AppState, call: &AwsCall, e: ChangeError) -> AwsError {
    match e {
        ChangeError::Edge(e) => e,
        ChangeError::Admin(e) => admin_error(state, call, e, "Schema"),
    }
}

/// Cognito's `SchemaAttributeType` list: `sub`, the standard attributes, then the custom
/// ones (`custom:` prefixed).
fn schema_out(pool: &UserPool) -> Vec<Value> {
    let mut out = vec![json!({
        "Name": "sub",
        "AttributeDataType": "String",
        "DeveloperOnlyAttribute": false,
        "Mutable": false,
        "Required": true,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    })];
    for name in STANDARD_ATTRIBUTES {
        let data_type = match *name {
            "email_verified" | "phone_number_verified" => "Boolean",
            "updated_at" => "Number",
            _ => "String",
        };
        let mut attr = json!({
            "Name": name,
            "AttributeDataType": data_type,
            "DeveloperOnlyAttribute": false,
            "Mutable": true,
            "Required": pool.required_attributes.iter().any(|r| r == name),
        });
        if data_type == "String" {
            attr["StringAttributeConstraints"] = json!({"MinLength": "0", "MaxLength": "2048"});
        } else if data_type == "Number" {
            attr["NumberAttributeConstraints"] = json!({"MinValue": "0"});
        }
        out.push(attr);
    }
    for c in &pool.custom_attributes {
        let data_type = match c.data_type {
            AttributeDataType::String => "String",
            AttributeDataType::Number => "Number",
            AttributeDataType::Boolean => "Boolean",
            AttributeDataType::DateTime => "DateTime",
        };
        let mut attr = json!({
            "Name": format!("custom:{}", c.name),
            "AttributeDataType": data_type,
            "DeveloperOnlyAttribute": false,
            "Mutable": c.mutable,
            "Required": false,
        });
        if c.data_type == AttributeDataType::String {
            let mut constraints = Map::new();
            if let Some(min) = c.min_length {
                constraints.insert("MinLength".into(), json!(min.to_string()));
            }
            if let Some(max) = c.max_length {
                constraints.insert("MaxLength".into(), json!(max.to_string()));
            }
            attr["StringAttributeConstraints"] = Value::Object(constraints);
        }
        if c.data_type == AttributeDataType::Number {
            // Strings, as in botocore's `NumberAttributeConstraintsType`.
            let mut constraints = Map::new();
            if let Some(min) = c.min_value {
                constraints.insert("MinValue".into(), json!(min.to_string()));
            }
            if let Some(max) = c.max_value {
                constraints.insert("MaxValue".into(), json!(max.to_string()));
            }
            attr["NumberAttributeConstraints"] = Value::Object(constraints);
        }
        out.push(attr);
    }
    out
}

fn alias_names(list: &[AliasAttribute]) -> Vec<&'static str> {
    list.iter().map(|a| a.attribute_name()).collect()
}

fn arn(state: &AppState, pool: &UserPool) -> String {
    format!(
        "arn:aws:cognito-idp:{}:{}:userpool/{}",
        pool.region(),
        state.node.config.server.account_id,
        pool.id
    )
}

/// Cognito's `UserPoolType`, but for `Domain` and `CustomDomain` ([`described`] adds them).
fn pool_type(state: &AppState, pool: &UserPool, users: u64) -> Value {
    let pp = &pool.password_policy;
    let first: Vec<&str> = pool
        .factors
        .first
        .iter()
        .map(|f| match f {
            FirstFactor::Password => "PASSWORD",
            FirstFactor::EmailOtp => "EMAIL_OTP",
            FirstFactor::Passkey => "WEB_AUTHN",
        })
        .collect();
    let mut out = json!({
        "Id": pool.id,
        "Name": pool.name,
        "Arn": arn(state, pool),
        "CreationDate": epoch(pool.created_at),
        "LastModifiedDate": epoch(pool.updated_at),
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": pp.minimum_length,
                "RequireUppercase": pp.require_uppercase,
                "RequireLowercase": pp.require_lowercase,
                "RequireNumbers": pp.require_numbers,
                "RequireSymbols": pp.require_symbols,
                "PasswordHistorySize": 0,
                "TemporaryPasswordValidityDays": pp.temporary_password_validity_days,
            },
            "SignInPolicy": {"AllowedFirstAuthFactors": first},
        },
        "DeletionProtection": if pool.deletion_protection { "ACTIVE" } else { "INACTIVE" },
        "LambdaConfig": input::lambda_config_out(&pool.triggers),
        "SchemaAttributes": schema_out(pool),
        "AutoVerifiedAttributes": alias_names(&pool.auto_verified_attributes),
        "MfaConfiguration": pool.mfa.as_str(),
        "EstimatedNumberOfUsers": users.min(i32::MAX as u64),
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": pool.admin_create_user_only,
            "UnusedAccountValidityDays": pp.temporary_password_validity_days,
        },
        "UsernameConfiguration": {"CaseSensitive": pool.username_case_sensitive},
        "UserPoolTags": pool.tags,
        "UserPoolTier": "ESSENTIALS",
        "EmailConfiguration": {"EmailSendingAccount": "COGNITO_DEFAULT"},
        "VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_CODE"},
        "AccountRecoverySetting": {
            "RecoveryMechanisms": if crate::core::delivery::sms_available(pool) {
                json!([
                    {"Priority": 1, "Name": "verified_email"},
                    {"Priority": 2, "Name": "verified_phone_number"},
                ])
            } else {
                json!([{"Priority": 1, "Name": "verified_email"}])
            },
        },
        "UserPoolAddOns": {
            "AdvancedSecurityMode": pool.threat_protection.mode.as_cognito(),
        },
    });
    if !pool.username_attributes.is_empty() {
        out["UsernameAttributes"] = json!(alias_names(&pool.username_attributes));
    }
    if !pool.alias_attributes.is_empty() {
        out["AliasAttributes"] = json!(alias_names(&pool.alias_attributes));
    }
    out
}

async fn described(state: &AppState, call: &AwsCall, pool: &UserPool) -> Result<Value, AwsError> {
    let users = state
        .node
        .store
        .count_users(&pool.id)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    let domains = AdminService::new(state.node.store.clone())
        .pool_domains(&pool.id)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    let mut out = pool_type(state, pool, users);
    if let Some(prefix) = domains.prefix {
        out["Domain"] = json!(prefix);
    }
    if let Some(custom) = domains.custom {
        out["CustomDomain"] = json!(custom);
    }
    Ok(out)
}

/// CreateUserPool: a new `Origin::Api` pool with an id `<region>_<9 alphanumerics>` and
/// its signing keys.
pub async fn create_user_pool(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "PoolName")?;
    let username_attributes = enum_list(&input, "UsernameAttributes", &["phone_number", "email"])?;
    let alias_attributes = enum_list(
        &input,
        "AliasAttributes",
        &["phone_number", "email", "preferred_username"],
    )?;
    // Cognito's API default is case-sensitive (the file's `username_case_sensitive` defaults
    // to false, the best practice); a given UsernameConfiguration must say which.
    let case_sensitive = match object(&input, "UsernameConfiguration")? {
        Some(u) => {
            let u = Value::Object(u.clone());
            optional_bool(&u, "CaseSensitive")?.ok_or_else(|| {
                invalid("UsernameConfiguration.CaseSensitive: a value is required (true or false)")
            })?
        }
        None => true,
    };
    let (required_attributes, custom_attributes) = schema(&input, "Schema", false)?;
    let mut pool = UserPool {
        id: ids::new_pool_id(&state.node.config.server.region),
        name: name.to_string(),
        origin: Origin::Api,
        username_case_sensitive: case_sensitive,
        username_attributes: username_attributes.iter().map(|a| alias(a)).collect(),
        alias_attributes: alias_attributes.iter().map(|a| alias(a)).collect(),
        auto_verified_attributes: Vec::new(),
        required_attributes,
        custom_attributes,
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa: MfaSetting::Off,
        factors: Default::default(),
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        code_limits: Default::default(),
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        deletion_protection: false,
        tags: Default::default(),
        created_at: call.now,
        updated_at: call.now,
        version: 0,
    };
    apply_updatable(&mut pool, &input)?;
    check_passkeys(state, &pool)?;
    let admin = AdminService::new(state.node.store.clone())
        .with_pool_quota(state.node.config.server.max_user_pools);
    admin
        .create_pool(&pool)
        .await
        .map_err(|e| admin_error(state, call, e, "Schema"))?;
    // A pool without signing keys cannot issue tokens: take it back out if they fail.
    if let Err(e) = state.node.keys.ensure_pool_keys(&pool.id, call.now).await {
        let _ = admin.delete_pool(&pool.id).await;
        return Err(AwsError::internal(call.protocol, e));
    }
    Ok(json!({ "UserPool": pool_type(state, &pool, 0) }))
}

/// The rules of an API-made pool that need the server's settings: passkeys (the public
/// URL, as `check-config` runs them) and where its trigger webhooks may point.
fn check_passkeys(state: &AppState, pool: &UserPool) -> Result<(), AwsError> {
    // A pool the file owns is refused by the service as config-owned, whatever its
    // settings: that refusal, not this one, is the answer.
    if pool.origin == Origin::Config {
        return Ok(());
    }
    let server = &state.node.config.server;
    let mut errors = crate::core::admin::validate_api_webhook_targets(
        pool,
        server.api_webhooks_on_loopback,
        &server.idp_private_networks,
    );
    if let Ok(public_url) = url::Url::parse(&state.node.config.public_url()) {
        errors.extend(crate::core::admin::validate_passkeys_at(pool, &public_url));
    }
    if let Some(e) = errors.first() {
        let api = PATHS
            .iter()
            .find(|(ours, _)| e.path.starts_with(ours))
            .map_or(e.path.as_str(), |(_, theirs)| theirs);
        return Err(invalid(format!("{api}: {}", e.message)));
    }
    Ok(())
}

/// DescribeUserPool.
pub async fn describe_user_pool(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, id).await?;
    Ok(json!({ "UserPool": described(state, call, &pool).await? }))
}

/// UpdateUserPool: the updatable members replace the pool's (omitted ones return to their
/// defaults); `PoolName` omitted keeps the name.
pub async fn update_user_pool(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let name = optional(&input, "PoolName")?;
    // The change is applied to the current record (again, if another writer got there
    // first), so what others changed meanwhile is kept.
    AdminService::new(state.node.store.clone())
        .update_pool_by(id, Origin::Api, |updated| {
            if let Some(name) = name {
                updated.name = name.to_string();
            }
            apply_updatable(updated, &input)?;
            updated.updated_at = call.now;
            check_passkeys(state, updated)?;
            Ok(())
        })
        .await
        .map_err(|e| change_error(state, call, e))?;
    Ok(json!({}))
}

/// DeleteUserPool: the pool with its users, clients, groups and keys.
pub async fn delete_user_pool(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let existed = AdminService::new(state.node.store.clone())
        .delete_pool_by(id, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e, "Schema"))?;
    if !existed {
        return Err(not_found(format!("User pool {id} does not exist.")));
    }
    Ok(json!({}))
}

/// ListUserPools: `MaxResults` 1 to 60 (required, as in Cognito), oldest first.
pub async fn list_user_pools(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let Some(limit) = optional_int(&input, "MaxResults", 1..=60)? else {
        return Err(invalid(
            "1 validation error detected: Value at 'maxResults' failed to satisfy \
             constraint: Member must not be null",
        ));
    };
    let offset = match optional(&input, "NextToken")? {
        None => 0,
        Some(token) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("pools:").and_then(|n| n.parse().ok()))
            .ok_or_else(|| invalid("NextToken is not a token this listing issued."))?,
    };
    let mut pools = state
        .node
        .store
        .list_pools()
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    pools.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let total = pools.len();
    let page: Vec<Value> = pools
        .iter()
        .skip(offset)
        .take(limit as usize)
        .map(|p| {
            json!({
                "Id": p.id,
                "Name": p.name,
                "LambdaConfig": input::lambda_config_out(&p.triggers),
                "CreationDate": epoch(p.created_at),
                "LastModifiedDate": epoch(p.updated_at),
            })
        })
        .collect();
    let end = offset.saturating_add(page.len());
    let mut out = json!({ "UserPools": page });
    if end < total {
        out["NextToken"] = json!(PageRequest::token_after(&format!("pools:{end}")));
    }
    Ok(out)
}

/// AddCustomAttributes: appends custom attributes (names without `custom:`).
pub async fn add_custom_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    if !input.get("CustomAttributes").is_some_and(Value::is_array) {
        return Err(invalid(
            "1 validation error detected: Value at 'customAttributes' failed to satisfy \
             constraint: Member must not be null",
        ));
    }
    let (required_custom, added) = schema(&input, "CustomAttributes", true)?;
    if let Some(name) = required_custom.first() {
        return Err(refused(
            &format!("CustomAttributes({name})"),
            "custom attributes cannot be required",
        ));
    }
    if added.is_empty() {
        return Err(invalid(
            "1 validation error detected: Value at 'customAttributes' failed to satisfy \
             constraint: Member must have length greater than or equal to 1",
        ));
    }
    let pool = pool(state, call, id).await?;
    AdminService::new(state.node.store.clone())
        .add_custom_attributes(&pool.id, added, Origin::Api, call.now)
        .await
        .map_err(|e| admin_error(state, call, e, "CustomAttributes"))?;
    Ok(json!({}))
}

/// GetSigningCertificate: the pool's SAML signing certificate, base64 DER.
pub async fn get_signing_certificate(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, id).await?;
    let key = state
        .node
        .sp_keys
        .active(&pool.id, call.now)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    let certificate = base64::engine::general_purpose::STANDARD.encode(key.certificate_der());
    Ok(json!({ "Certificate": certificate }))
}

/// The MFA configuration as SetUserPoolMfaConfig answers it and GetUserPoolMfaConfig
/// returns it.
fn mfa_config_out(state: &AppState, pool: &UserPool) -> Value {
    let rp_id = pool
        .factors
        .passkeys
        .relying_party_id
        .clone()
        .or_else(|| {
            url::Url::parse(&state.node.config.public_url())
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
        })
        .unwrap_or_default();
    let mut out = json!({
        "MfaConfiguration": pool.mfa.as_str(),
        "SoftwareTokenMfaConfiguration": {"Enabled": pool.factors.allows_mfa(MfaFactor::Totp)},
        "WebAuthnConfiguration": {"RelyingPartyId": rp_id, "UserVerification": "required"},
    });
    if pool.factors.allows_mfa(MfaFactor::Email) {
        out["EmailMfaConfiguration"] = json!({});
    }
    if pool.factors.allows_mfa(MfaFactor::Sms) {
        out["SmsMfaConfiguration"] = json!({});
    }
    out
}

/// SetUserPoolMfaConfig: `MfaConfiguration`, TOTP (`SoftwareTokenMfaConfiguration`),
/// email (`EmailMfaConfiguration` present), SMS (`SmsMfaConfiguration` present: only for
/// a pool that can send SMS, through its custom SMS sender, which writes the message, so
/// `SmsAuthenticationMessage` and `SmsConfiguration` (SNS) are refused by name) and the
/// passkeys' relying party. The factor
/// members replace the pool's (an omitted one is off); an omitted `MfaConfiguration` or
/// `WebAuthnConfiguration` keeps the pool's. PASSKEY as a second factor (Cognate's own)
/// is kept as it is.
pub async fn set_user_pool_mfa_config(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let sms = match object(&input, "SmsMfaConfiguration")? {
        Some(s) => {
            for (member, why) in [
                (
                    "SmsAuthenticationMessage",
                    "the pool's custom SMS sender webhook writes the text message (it \
                     receives the code, encrypted); send an empty SmsMfaConfiguration",
                ),
                (
                    "SmsConfiguration",
                    "Cognate sends no SMS through Amazon SNS: text messages go through the \
                     pool's custom SMS sender webhook (LambdaConfig.CustomSMSSender); send \
                     an empty SmsMfaConfiguration",
                ),
            ] {
                if s.get(member).is_some_and(|v| !v.is_null()) {
                    return Err(refused(&format!("SmsMfaConfiguration.{member}"), why));
                }
            }
            true
        }
        None => false,
    };
    let mfa = enum_member(&input, "MfaConfiguration", &["OFF", "ON", "OPTIONAL"])?;
    let totp = match object(&input, "SoftwareTokenMfaConfiguration")? {
        Some(t) => optional_bool(&Value::Object(t.clone()), "Enabled")?.unwrap_or(false),
        None => false,
    };
    let email = match object(&input, "EmailMfaConfiguration")? {
        Some(e) => {
            if e.values().any(|v| !v.is_null()) {
                return Err(refused(
                    "EmailMfaConfiguration",
                    "Message and Subject come from Cognate's mail templates (templates/); \
                     send an empty EmailMfaConfiguration to enable email codes",
                ));
            }
            true
        }
        None => false,
    };
    let webauthn = object(&input, "WebAuthnConfiguration")?.map(|m| Value::Object(m.clone()));
    // Applied to the current record (again, if another writer got there first), so
    // what others changed meanwhile is kept.
    let updated = AdminService::new(state.node.store.clone())
        .update_pool_by(id, Origin::Api, |stored| {
            if let Some(m) = mfa {
                stored.mfa = mfa_setting(m);
            }
            if sms && !crate::core::delivery::sms_available(stored) {
                return Err(refused(
                    "SmsMfaConfiguration",
                    &format!(
                        "SMS as a second factor needs a way to send SMS: {}",
                        crate::core::delivery::NO_SMS_SENDER
                    ),
                )
                .into());
            }
            let passkey = stored.factors.allows_mfa(MfaFactor::Passkey);
            stored.factors.mfa = MfaFactor::ALL
                .into_iter()
                .filter(|f| match f {
                    MfaFactor::Totp => totp,
                    MfaFactor::Email => email,
                    MfaFactor::Sms => sms,
                    MfaFactor::Passkey => passkey,
                })
                .collect();
            if let Some(w) = &webauthn {
                if let Some(uv) = enum_member(w, "UserVerification", &["required", "preferred"])? {
                    if uv == "preferred" {
                        return Err(refused(
                            "WebAuthnConfiguration.UserVerification",
                            "Cognate always requires user verification (a passkey is two factors); \
                             use required",
                        ).into());
                    }
                }
                if w.get("FactorConfiguration").is_some_and(|v| !v.is_null()) {
                    return Err(refused(
                        "WebAuthnConfiguration.FactorConfiguration",
                        "passkeys always count as two factors in Cognate (user verification is \
                         required); remove it",
                    )
                    .into());
                }
                stored.factors.passkeys.relying_party_id =
                    optional(w, "RelyingPartyId")?.map(str::to_string);
            }
            stored.updated_at = call.now;
            check_passkeys(state, stored)?;
            Ok(())
        })
        .await
        .map_err(|e| change_error(state, call, e))?;
    Ok(mfa_config_out(state, &updated))
}

/// GetUserPoolMfaConfig.
pub async fn get_user_pool_mfa_config(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, id).await?;
    Ok(mfa_config_out(state, &pool))
}
