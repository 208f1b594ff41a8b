//! A pool's triggers: Cognito's Lambda triggers, called here as HTTP webhooks that
//! receive Cognito's own event JSON (see [`crate::core::triggers`] for delivery).
//!
//! The record names every Cognito trigger; Cognate calls each of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One of Cognito's triggers (`LambdaConfig` members), by its configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    UserMigration,
    CustomMessage,
    CustomEmailSender,
    CustomSmsSender,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallenge,
}

impl TriggerKind {
    pub const ALL: [TriggerKind; 12] = [
        TriggerKind::PreSignUp,
        TriggerKind::PostConfirmation,
        TriggerKind::PreAuthentication,
        TriggerKind::PostAuthentication,
        TriggerKind::PreTokenGeneration,
        TriggerKind::UserMigration,
        TriggerKind::CustomMessage,
        TriggerKind::CustomEmailSender,
        TriggerKind::CustomSmsSender,
        TriggerKind::DefineAuthChallenge,
        TriggerKind::CreateAuthChallenge,
        TriggerKind::VerifyAuthChallenge,
    ];

    /// The configuration file's key (`[pools.triggers]`).
    pub fn key(self) -> &'static str {
        match self {
            TriggerKind::PreSignUp => "pre_sign_up",
            TriggerKind::PostConfirmation => "post_confirmation",
            TriggerKind::PreAuthentication => "pre_authentication",
            TriggerKind::PostAuthentication => "post_authentication",
            TriggerKind::PreTokenGeneration => "pre_token_generation",
            TriggerKind::UserMigration => "user_migration",
            TriggerKind::CustomMessage => "custom_message",
            TriggerKind::CustomEmailSender => "custom_email_sender",
            TriggerKind::CustomSmsSender => "custom_sms_sender",
            TriggerKind::DefineAuthChallenge => "define_auth_challenge",
            TriggerKind::CreateAuthChallenge => "create_auth_challenge",
            TriggerKind::VerifyAuthChallenge => "verify_auth_challenge",
        }
    }

    /// The member of Cognito's `LambdaConfigType`.
    pub fn lambda_config_member(self) -> &'static str {
        match self {
            TriggerKind::PreSignUp => "PreSignUp",
            TriggerKind::PostConfirmation => "PostConfirmation",
            TriggerKind::PreAuthentication => "PreAuthentication",
            TriggerKind::PostAuthentication => "PostAuthentication",
            TriggerKind::PreTokenGeneration => "PreTokenGeneration",
            TriggerKind::UserMigration => "UserMigration",
            TriggerKind::CustomMessage => "CustomMessage",
            TriggerKind::CustomEmailSender => "CustomEmailSender",
            TriggerKind::CustomSmsSender => "CustomSMSSender",
            TriggerKind::DefineAuthChallenge => "DefineAuthChallenge",
            TriggerKind::CreateAuthChallenge => "CreateAuthChallenge",
            // Cognito's member keeps the Lambda's old name.
            TriggerKind::VerifyAuthChallenge => "VerifyAuthChallengeResponse",
        }
    }

    /// The kind a `LambdaConfig` member names.
    pub fn from_lambda_config_member(member: &str) -> Option<TriggerKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.lambda_config_member() == member)
    }

    /// Whether this is a custom sender (Cognito's `CustomEmailSender` / `CustomSMSSender`,
    /// `{LambdaVersion: "V1_0", LambdaArn}` objects in `LambdaConfig`), which receives the
    /// code encrypted to the pool's sender key ([`Triggers::sender_key`]).
    pub fn is_sender(self) -> bool {
        matches!(
            self,
            TriggerKind::CustomEmailSender | TriggerKind::CustomSmsSender
        )
    }

    /// The name Cognito's error messages use ("PreSignUp failed with error ...").
    pub fn error_name(self) -> &'static str {
        match self {
            TriggerKind::CustomSmsSender => "CustomSMSSender",
            other => other.lambda_config_member(),
        }
    }
}

/// The event version of the pre token generation trigger (Cognito's
/// `PreTokenGenerationConfig.LambdaVersion`): `V1_0` customises the ID token; `V2_0` the ID
/// and access tokens of users, with scopes; `V3_0` also client-credentials access tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreTokenVersion {
    #[default]
    #[serde(rename = "V1_0")]
    V1,
    #[serde(rename = "V2_0")]
    V2,
    #[serde(rename = "V3_0")]
    V3,
}

impl PreTokenVersion {
    /// Cognito's name (`V1_0`...).
    pub fn as_str(self) -> &'static str {
        match self {
            PreTokenVersion::V1 => "V1_0",
            PreTokenVersion::V2 => "V2_0",
            PreTokenVersion::V3 => "V3_0",
        }
    }

    /// The name Cognito's name stands for, if any.
    pub fn parse(text: &str) -> Option<PreTokenVersion> {
        [
            PreTokenVersion::V1,
            PreTokenVersion::V2,
            PreTokenVersion::V3,
        ]
        .into_iter()
        .find(|v| v.as_str() == text)
    }
}

/// The webhook URL of each trigger a pool declares (`.0`), the pre token generation
/// trigger's event version (`.1`; stored beside the URLs only when not `V1_0`), and the
/// custom senders' key (`.2`: the RSA public key, PEM or JWK text, their codes are
/// encrypted to; Cognito's `KMSKeyID`; see [`crate::core::triggers::jwe`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredTriggers", into = "StoredTriggers")]
pub struct Triggers(
    pub BTreeMap<TriggerKind, String>,
    pub PreTokenVersion,
    pub Option<String>,
);

/// How [`Triggers`] is stored: the map of URLs as before versions existed, and the
/// version beside them.
#[derive(Serialize, Deserialize)]
struct StoredTriggers {
    #[serde(
        default,
        rename = "pre_token_generation_version",
        skip_serializing_if = "is_v1"
    )]
    version: PreTokenVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sender_key: Option<String>,
    #[serde(flatten)]
    urls: BTreeMap<TriggerKind, String>,
}

fn is_v1(v: &PreTokenVersion) -> bool {
    *v == PreTokenVersion::V1
}

impl From<StoredTriggers> for Triggers {
    fn from(s: StoredTriggers) -> Self {
        Triggers(s.urls, s.version, s.sender_key)
    }
}

impl From<Triggers> for StoredTriggers {
    fn from(t: Triggers) -> Self {
        StoredTriggers {
            version: t.1,
            sender_key: t.2,
            urls: t.0,
        }
    }
}

impl Triggers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URL of `kind`, when declared.
    pub fn url(&self, kind: TriggerKind) -> Option<&str> {
        self.0.get(&kind).map(String::as_str)
    }

    /// The pre token generation event version.
    pub fn pre_token_version(&self) -> PreTokenVersion {
        self.1
    }

    /// The custom senders' key (PEM or JWK text), when configured.
    pub fn sender_key(&self) -> Option<&str> {
        self.2.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_keeps_urls_and_version() {
        let old = r#"{"pre_sign_up":"https://h.example/a"}"#;
        let t: Triggers = serde_json::from_str(old).unwrap();
        assert_eq!(t.url(TriggerKind::PreSignUp), Some("https://h.example/a"));
        assert_eq!(t.pre_token_version(), PreTokenVersion::V1);
        assert_eq!(serde_json::to_string(&t).unwrap(), old);
        let mut v2 = t.clone();
        v2.0.insert(
            TriggerKind::PreTokenGeneration,
            "https://h.example/t".into(),
        );
        v2.1 = PreTokenVersion::V2;
        let text = serde_json::to_string(&v2).unwrap();
        assert!(
            text.contains(r#""pre_token_generation_version":"V2_0""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Triggers>(&text).unwrap(), v2);
    }
}
