//! Reading CreateUserPool's and UpdateUserPool's members onto the pool record: the
//! updatable members with their defaults ([`apply_updatable`]), the schema ([`schema`]),
//! and the refusal of every member Cognate cannot honour ([`refuse_unhonoured`]).

use serde_json::{Map, Value};

use super::super::{invalid, optional, optional_bool, optional_int, required};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::model::{
    AliasAttribute, AttributeDataType, CustomAttribute, FirstFactor, MfaSetting, PasswordPolicy,
    PreTokenVersion, ThreatMode, TriggerKind, Triggers, UserPool,
};
use crate::web::aws::AwsError;

/// A refused member: `InvalidParameterException` naming it and why.
pub(super) fn refused(member: &str, why: &str) -> AwsError {
    invalid(format!("{member}: {why}"))
}

/// An optional structure member (absent or null is `None`).
pub(super) fn object<'a>(
    input: &'a Value,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(invalid(format!("{name} must be a structure."))),
    }
}

/// An optional enum member, checked against Cognito's value set.
pub(super) fn enum_member<'a>(
    input: &'a Value,
    name: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, AwsError> {
    let Some(value) = optional(input, name)? else {
        return Ok(None);
    };
    check_enum(value, name, allowed)?;
    Ok(Some(value))
}

pub(super) fn check_enum(value: &str, name: &str, allowed: &[&str]) -> Result<(), AwsError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    // Cognito names the member in lower camel case (`mfaConfiguration`).
    let mut chars = name.chars();
    let member: String = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    Err(invalid(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
         constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    )))
}

/// An optional list of enum values.
pub(super) fn enum_list(
    input: &Value,
    name: &str,
    allowed: &[&str],
) -> Result<Vec<String>, AwsError> {
    let items = super::super::string_list(input, name)?;
    for item in &items {
        check_enum(item, name, allowed)?;
    }
    Ok(items)
}

pub(super) fn alias(name: &str) -> AliasAttribute {
    match name {
        "email" => AliasAttribute::Email,
        "phone_number" => AliasAttribute::PhoneNumber,
        _ => AliasAttribute::PreferredUsername,
    }
}

pub(super) fn mfa_setting(name: &str) -> MfaSetting {
    match name {
        "ON" => MfaSetting::On,
        "OPTIONAL" => MfaSetting::Optional,
        _ => MfaSetting::Off,
    }
}

/// A number given as Cognito's string (`"256"`), or as a JSON number.
pub(super) fn length(v: Option<&Value>, name: &str) -> Result<Option<u32>, AwsError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .parse::<u32>()
            .map(Some)
            .map_err(|_| invalid(format!("{name}: {s:?} is not a length."))),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(format!("{name}: {n} is not a length."))),
        Some(_) => Err(invalid(format!("{name} must be a string."))),
    }
}

/// A `NumberAttributeConstraints` bound: botocore's string (`"10"`), or a JSON number from
/// a hand-written request; an integer either way, as Number values are.
fn bound(v: Option<&Value>, name: &str) -> Result<Option<i64>, AwsError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| invalid(format!("{name}: {s:?} is not an integer."))),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(format!("{name}: {n} is not an integer."))),
        Some(_) => Err(invalid(format!("{name} must be a string."))),
    }
}

/// `LambdaConfig`: each trigger Cognate calls, given as its webhook's URL where Cognito
/// takes a Lambda ARN (the URL rules are the administration service's). A Lambda ARN, and
/// every trigger Cognate does not call yet, is refused by name. Pre token generation is
/// `PreTokenGenerationConfig {LambdaArn, LambdaVersion}`, or the legacy `PreTokenGeneration`
/// (version `V1_0`); given both, they must name the same URL, as in Cognito. The custom
/// senders are Cognito's `{LambdaVersion: "V1_0", LambdaArn}` objects (the URL in
/// `LambdaArn`), and `KMSKeyID` takes the RSA public key (PEM or JWK) their codes are
/// encrypted to, in place of a KMS key ARN (refused by name).
fn lambda_config(input: &Value) -> Result<Triggers, AwsError> {
    let mut triggers = Triggers::default();
    let Some(config) = object(input, "LambdaConfig")? else {
        return Ok(triggers);
    };
    for (member, value) in config {
        if value.is_null() || member == PRE_TOKEN_CONFIG {
            continue;
        }
        if member == KMS_KEY_ID {
            let Some(key) = value.as_str() else {
                return Err(invalid(format!(
                    "LambdaConfig.{KMS_KEY_ID} must be a string."
                )));
            };
            if let Err(reason) = crate::core::triggers::jwe::SenderKey::parse(key) {
                return Err(refused(&format!("LambdaConfig.{KMS_KEY_ID}"), &reason));
            }
            triggers.2 = Some(key.trim().to_string());
            continue;
        }
        let at = format!("LambdaConfig.{member}");
        let Some(kind) = TriggerKind::from_lambda_config_member(member) else {
            return Err(refused(
                &at,
                "not a member of LambdaConfig (PreSignUp, PostConfirmation, PreAuthentication, \
                 PostAuthentication, PreTokenGenerationConfig, UserMigration, CustomMessage, \
                 CustomEmailSender, CustomSMSSender, DefineAuthChallenge, CreateAuthChallenge, \
                 VerifyAuthChallengeResponse and KMSKeyID are)",
            ));
        };
        if kind.is_sender() {
            let Some(sender) = value.as_object() else {
                return Err(invalid(format!(
                    "{at} must be an object {{LambdaVersion, LambdaArn}}."
                )));
            };
            match sender.get("LambdaVersion") {
                Some(Value::String(v)) if v == "V1_0" => {}
                Some(Value::String(v)) => {
                    return Err(invalid(format!("{at}.LambdaVersion: {v:?} is not V1_0.")))
                }
                _ => return Err(invalid(format!("{at}.LambdaVersion must be a string."))),
            }
            let Some(url) = sender.get("LambdaArn").and_then(Value::as_str) else {
                return Err(invalid(format!("{at}.LambdaArn must be a string.")));
            };
            triggers
                .0
                .insert(kind, webhook_url(&format!("{at}.LambdaArn"), url)?);
            continue;
        }
        let Some(url) = value.as_str() else {
            return Err(invalid(format!("{at} must be a string.")));
        };
        triggers.0.insert(kind, webhook_url(&at, url)?);
    }
    if let Some(pre_token) = config.get(PRE_TOKEN_CONFIG).filter(|v| !v.is_null()) {
        let at = format!("LambdaConfig.{PRE_TOKEN_CONFIG}");
        let Some(pre_token) = pre_token.as_object() else {
            return Err(invalid(format!("{at} must be an object.")));
        };
        let url = match pre_token.get("LambdaArn") {
            Some(Value::String(url)) => webhook_url(&format!("{at}.LambdaArn"), url)?,
            _ => return Err(invalid(format!("{at}.LambdaArn must be a string."))),
        };
        triggers.1 = match pre_token.get("LambdaVersion") {
            Some(Value::String(v)) => PreTokenVersion::parse(v).ok_or_else(|| {
                invalid(format!(
                    "{at}.LambdaVersion: {v:?} is not V1_0, V2_0 or V3_0."
                ))
            })?,
            _ => return Err(invalid(format!("{at}.LambdaVersion must be a string."))),
        };
        if let Some(legacy) = triggers.url(TriggerKind::PreTokenGeneration) {
            if legacy != url {
                return Err(invalid(format!(
                    "LambdaConfig.PreTokenGeneration and {at}.LambdaArn must be the same."
                )));
            }
        }
        triggers.0.insert(TriggerKind::PreTokenGeneration, url);
    }
    Ok(triggers)
}

/// Cognito's member holding the pre token generation trigger with its event version.
const PRE_TOKEN_CONFIG: &str = "PreTokenGenerationConfig";
/// Cognito's member holding the custom senders' KMS key; here their RSA public key.
const KMS_KEY_ID: &str = "KMSKeyID";

/// A trigger member's URL: a Lambda ARN is refused by name.
fn webhook_url(at: &str, url: &str) -> Result<String, AwsError> {
    if url.starts_with("arn:") {
        return Err(refused(
            at,
            "Cognate calls triggers as webhooks: give the webhook's URL \
             (https://...), not a Lambda ARN",
        ));
    }
    Ok(url.to_string())
}

/// `LambdaConfig` as Cognito renders it: each trigger's member with its webhook URL, and
/// pre token generation also as `PreTokenGenerationConfig` with its version.
pub(super) fn lambda_config_out(triggers: &Triggers) -> Map<String, Value> {
    let mut out: Map<String, Value> = triggers
        .0
        .iter()
        .map(|(kind, url)| {
            let value = if kind.is_sender() {
                serde_json::json!({"LambdaVersion": "V1_0", "LambdaArn": url})
            } else {
                Value::String(url.clone())
            };
            (kind.lambda_config_member().to_string(), value)
        })
        .collect();
    if let Some(key) = triggers.sender_key() {
        out.insert(KMS_KEY_ID.into(), Value::String(key.to_string()));
    }
    if let Some(url) = triggers.url(TriggerKind::PreTokenGeneration) {
        out.insert(
            PRE_TOKEN_CONFIG.into(),
            serde_json::json!({
                "LambdaArn": url,
                "LambdaVersion": triggers.pre_token_version().as_str(),
            }),
        );
    }
    out
}

/// The members Cognate does not honour: refused unless they ask for Cognito's default
/// (a setting is a promise). `UserPoolTier` ESSENTIALS is accepted: it is pricing, not
/// behaviour.
pub(super) fn refuse_unhonoured(input: &Value) -> Result<(), AwsError> {
    for member in [
        "SmsConfiguration",
        "SmsVerificationMessage",
        "SmsAuthenticationMessage",
    ] {
        if input.get(member).is_some_and(|v| !v.is_null()) {
            return Err(refused(
                member,
                "Cognate sends text messages only through a custom SMS sender webhook \
                 (LambdaConfig.CustomSMSSender), which writes them; remove it",
            ));
        }
    }
    for member in [
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "InviteMessageTemplate",
    ] {
        if input.get(member).is_some_and(|v| !v.is_null()) {
            return Err(refused(
                member,
                "messages come from Cognate's mail templates (templates/), not from the pool",
            ));
        }
    }
    if let Some(t) = object(input, "VerificationMessageTemplate")? {
        let default_only = t
            .iter()
            .all(|(k, v)| v.is_null() || (k == "DefaultEmailOption" && v == "CONFIRM_WITH_CODE"));
        if !default_only {
            return Err(refused(
                "VerificationMessageTemplate",
                "only DefaultEmailOption CONFIRM_WITH_CODE is supported: messages come from \
                 Cognate's mail templates, and verification links are not sent",
            ));
        }
    }
    if let Some(e) = object(input, "EmailConfiguration")? {
        let default_only = e
            .iter()
            .all(|(k, v)| v.is_null() || (k == "EmailSendingAccount" && v == "COGNITO_DEFAULT"));
        if !default_only {
            return Err(refused(
                "EmailConfiguration",
                "mail is sent through the [mail] settings of Cognate's configuration; only \
                 EmailSendingAccount COGNITO_DEFAULT is accepted",
            ));
        }
    }
    if let Some(d) = object(input, "DeviceConfiguration")? {
        if d.values().any(|v| v == &Value::Bool(true)) {
            return Err(refused(
                "DeviceConfiguration",
                "device tracking (remembered devices) is not supported",
            ));
        }
    }
    if let Some(a) = object(input, "UserPoolAddOns")? {
        for (key, value) in a {
            match key.as_str() {
                // Read by `advanced_security_mode`.
                "AdvancedSecurityMode" => {}
                "AdvancedSecurityAdditionalFlows"
                    if value.is_null() || value.as_object().is_some_and(|o| o.is_empty()) => {}
                "AdvancedSecurityAdditionalFlows" => {
                    return Err(refused(
                        "UserPoolAddOns.AdvancedSecurityAdditionalFlows",
                        "a separate mode for custom authentication flows is not supported; \
                         AdvancedSecurityMode covers every sign-in",
                    ))
                }
                other => {
                    return Err(refused(
                        &format!("UserPoolAddOns.{other}"),
                        "unknown member",
                    ))
                }
            }
        }
    }
    if let Some(u) = object(input, "UserAttributeUpdateSettings")? {
        let asks = u
            .get("AttributesRequireVerificationBeforeUpdate")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if asks {
            return Err(refused(
                "UserAttributeUpdateSettings",
                "keeping the old value until the new one is verified is not supported",
            ));
        }
    }
    if let Some(r) = object(input, "AccountRecoverySetting")? {
        let mechanisms = r
            .get("RecoveryMechanisms")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Cognate's recovery: the verified email, then (in a pool with a custom SMS
        // sender) the verified phone number by SMS.
        let mut named: Vec<(i64, &str)> = mechanisms
            .iter()
            .map(|m| {
                (
                    m.get("Priority").and_then(Value::as_i64).unwrap_or(0),
                    m.get("Name").and_then(Value::as_str).unwrap_or(""),
                )
            })
            .collect();
        named.sort();
        let names: Vec<&str> = named.iter().map(|(_, n)| *n).collect();
        if names != ["verified_email"] && names != ["verified_email", "verified_phone_number"] {
            return Err(refused(
                "AccountRecoverySetting",
                "accounts are recovered by a code sent to the verified email address, then \
                 (with a custom SMS sender) by SMS to the verified phone number (no admin_only, \
                 no phone first); use [{\"Name\": \"verified_email\", \"Priority\": 1}, \
                 {\"Name\": \"verified_phone_number\", \"Priority\": 2}]",
            ));
        }
    }
    if let Some(tier) = enum_member(input, "UserPoolTier", &["LITE", "ESSENTIALS", "PLUS"])? {
        if tier != "ESSENTIALS" {
            return Err(refused(
                "UserPoolTier",
                "Cognate's feature set is Cognito's ESSENTIALS tier; use ESSENTIALS",
            ));
        }
    }
    for member in [
        "KeyConfiguration",
        "IssuerConfiguration",
        "AcrConfiguration",
    ] {
        if input.get(member).is_some_and(|v| !v.is_null()) {
            return Err(refused(member, "this setting is not supported"));
        }
    }
    Ok(())
}

/// The updatable members (CreateUserPool's and UpdateUserPool's), onto `pool`: each
/// omitted one takes Cognito's default.
pub(super) fn apply_updatable(pool: &mut UserPool, input: &Value) -> Result<(), AwsError> {
    refuse_unhonoured(input)?;
    // Omitted, LambdaConfig clears every trigger (UpdateUserPool's reset, as in Cognito).
    pool.triggers = lambda_config(input)?;
    let mut policy = PasswordPolicy::default();
    let mut temporary_days_given = false;
    let mut first = vec![FirstFactor::Password];
    if let Some(policies) = object(input, "Policies")?.map(|m| Value::Object(m.clone())) {
        if let Some(pp) = object(&policies, "PasswordPolicy")?.map(|m| Value::Object(m.clone())) {
            // A given policy's omitted booleans are false, as in Cognito.
            policy = PasswordPolicy {
                minimum_length: optional_int(&pp, "MinimumLength", 0..=i64::from(u32::MAX))?
                    .map_or(8, |v| v as u32),
                require_uppercase: optional_bool(&pp, "RequireUppercase")?.unwrap_or(false),
                require_lowercase: optional_bool(&pp, "RequireLowercase")?.unwrap_or(false),
                require_numbers: optional_bool(&pp, "RequireNumbers")?.unwrap_or(false),
                require_symbols: optional_bool(&pp, "RequireSymbols")?.unwrap_or(false),
                // The Rust SDK sends an unset primitive as 0; a temporary password valid
                // for no time is no setting, so 0 is Cognito's default of 7 days.
                temporary_password_validity_days: optional_int(
                    &pp,
                    "TemporaryPasswordValidityDays",
                    0..=i64::from(u32::MAX),
                )?
                .filter(|v| *v > 0)
                .map_or(7, |v| v as u32),
            };
            temporary_days_given = pp
                .get("TemporaryPasswordValidityDays")
                .and_then(Value::as_i64)
                .is_some_and(|v| v > 0);
            if optional_int(&pp, "PasswordHistorySize", 0..=24)?.is_some_and(|n| n > 0) {
                return Err(refused(
                    "Policies.PasswordPolicy.PasswordHistorySize",
                    "password history is not kept; use 0",
                ));
            }
        }
        if let Some(sp) = object(&policies, "SignInPolicy")?.map(|m| Value::Object(m.clone())) {
            let factors = enum_list(
                &sp,
                "AllowedFirstAuthFactors",
                &["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"],
            )?;
            first = Vec::new();
            for f in factors {
                first.push(match f.as_str() {
                    "PASSWORD" => FirstFactor::Password,
                    "EMAIL_OTP" => FirstFactor::EmailOtp,
                    "WEB_AUTHN" => FirstFactor::Passkey,
                    _ => {
                        return Err(refused(
                            "Policies.SignInPolicy.AllowedFirstAuthFactors",
                            "SMS_OTP is refused: text message codes are a second factor only \
                             (SMS in the MFA configuration, SMS_MFA), not a way to sign in",
                        ))
                    }
                });
            }
        }
    }
    pool.password_policy = policy;
    pool.factors.first = first;
    pool.deletion_protection =
        enum_member(input, "DeletionProtection", &["ACTIVE", "INACTIVE"])? == Some("ACTIVE");
    pool.auto_verified_attributes =
        enum_list(input, "AutoVerifiedAttributes", &["phone_number", "email"])?
            .iter()
            .map(|a| alias(a))
            .collect();
    pool.mfa = enum_member(input, "MfaConfiguration", &["OFF", "ON", "OPTIONAL"])?
        .map_or(MfaSetting::Off, mfa_setting);
    let admin = object(input, "AdminCreateUserConfig")?.map(|m| Value::Object(m.clone()));
    pool.admin_create_user_only = match &admin {
        Some(a) => {
            // Cognito's deprecated alias of TemporaryPasswordValidityDays: used only when
            // the password policy does not give it (0 is the SDKs' unset value).
            let unused = optional_int(a, "UnusedAccountValidityDays", 0..=365)?;
            if let Some(days) = unused.filter(|d| *d > 0 && !temporary_days_given) {
                pool.password_policy.temporary_password_validity_days = days as u32;
            }
            if a.get("InviteMessageTemplate").is_some_and(|v| !v.is_null()) {
                return Err(refused(
                    "AdminCreateUserConfig.InviteMessageTemplate",
                    "messages come from Cognate's mail templates (templates/), not from the \
                     pool",
                ));
            }
            optional_bool(a, "AllowAdminCreateUserOnly")?.unwrap_or(false)
        }
        None => false,
    };
    pool.tags = super::super::string_map(input, "UserPoolTags")?;
    // Omitted, it is OFF (UpdateUserPool's reset, as in Cognito); the rest of the pool's
    // threat protection (actions, tuning) is the configuration file's.
    pool.threat_protection.mode = advanced_security_mode(input)?;
    Ok(())
}

/// `UserPoolAddOns.AdvancedSecurityMode` (`OFF`, `AUDIT`, `ENFORCED`): the pool's
/// threat protection mode ([`ThreatMode`]).
fn advanced_security_mode(input: &Value) -> Result<ThreatMode, AwsError> {
    let Some(addons) = object(input, "UserPoolAddOns")?.map(|m| Value::Object(m.clone())) else {
        return Ok(ThreatMode::Off);
    };
    Ok(
        match enum_member(
            &addons,
            "AdvancedSecurityMode",
            &["OFF", "AUDIT", "ENFORCED"],
        )? {
            Some("AUDIT") => ThreatMode::Audit,
            Some("ENFORCED") => ThreatMode::Enforced,
            _ => ThreatMode::Off,
        },
    )
}

/// Cognito's `Schema` (CreateUserPool) or `CustomAttributes` (AddCustomAttributes):
/// standard attributes' `Required` and the custom attributes. `custom_only` reads every
/// entry as a custom attribute.
pub(super) fn schema(
    input: &Value,
    member: &str,
    custom_only: bool,
) -> Result<(Vec<String>, Vec<CustomAttribute>), AwsError> {
    let items = match input.get(member) {
        None | Some(Value::Null) => return Ok((Vec::new(), Vec::new())),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{member} must be a list."))),
    };
    let mut required_attributes = Vec::new();
    let mut custom = Vec::new();
    for item in items {
        let name = required(item, "Name")?;
        let at = format!("{member}({name})");
        let data_type = match enum_member(
            item,
            "AttributeDataType",
            &["String", "Number", "DateTime", "Boolean"],
        )? {
            Some("Number") => AttributeDataType::Number,
            Some("DateTime") => AttributeDataType::DateTime,
            Some("Boolean") => AttributeDataType::Boolean,
            _ => AttributeDataType::String,
        };
        if optional_bool(item, "DeveloperOnlyAttribute")? == Some(true) {
            return Err(refused(
                &at,
                "developer-only attributes are not supported (Cognito deprecated them)",
            ));
        }
        let mutable = optional_bool(item, "Mutable")?.unwrap_or(true);
        let is_required = optional_bool(item, "Required")?.unwrap_or(false);
        let strings = object(item, "StringAttributeConstraints")?;
        let min_length = length(strings.and_then(|s| s.get("MinLength")), &at)?;
        let max_length = length(strings.and_then(|s| s.get("MaxLength")), &at)?;
        let numbers = object(item, "NumberAttributeConstraints")?;
        let min_value = bound(
            numbers.and_then(|n| n.get("MinValue")),
            &format!("{at}.NumberAttributeConstraints.MinValue"),
        )?;
        let max_value = bound(
            numbers.and_then(|n| n.get("MaxValue")),
            &format!("{at}.NumberAttributeConstraints.MaxValue"),
        )?;
        let standard = !custom_only && STANDARD_ATTRIBUTES.contains(&name);
        if standard {
            if !mutable {
                return Err(refused(
                    &at,
                    "standard attributes are always mutable in Cognate",
                ));
            }
            let default_lengths =
                min_length.unwrap_or(0) == 0 && max_length.unwrap_or(2048) == 2048;
            if !default_lengths {
                return Err(refused(
                    &at,
                    "length constraints on standard attributes are not enforced; use \
                     MinLength 0 and MaxLength 2048",
                ));
            }
            // What DescribeUserPool shows for `updated_at` (MinValue 0) may come back.
            if min_value.unwrap_or(0) != 0 || max_value.is_some() {
                return Err(refused(
                    &at,
                    "value constraints on standard attributes are not enforced; omit \
                     NumberAttributeConstraints or use MinValue 0",
                ));
            }
            if is_required && !required_attributes.iter().any(|r| r == name) {
                required_attributes.push(name.to_string());
            }
            continue;
        }
        let bare = name.strip_prefix("custom:").unwrap_or(name);
        if is_required {
            // The service refuses it by name (custom attributes cannot be required).
            required_attributes.push(format!("custom:{bare}"));
        }
        custom.push(CustomAttribute {
            name: bare.to_string(),
            data_type,
            mutable,
            min_length,
            max_length,
            min_value,
            max_value,
        });
    }
    Ok((required_attributes, custom))
}
