//! A pool's triggers: Cognito's Lambda triggers, called here as HTTP webhooks that
//! receive Cognito's own event JSON (see [`crate::core::triggers`] for delivery).
//!
//! The record names every Cognito trigger so a later part slots in by accepting its kind;
//! until then [`TriggerKind::is_supported`] is false for it and the administration rules
//! refuse it (a setting is a promise).

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
            TriggerKind::VerifyAuthChallenge => "VerifyAuthChallenge",
        }
    }

    /// The kind a `LambdaConfig` member names.
    pub fn from_lambda_config_member(member: &str) -> Option<TriggerKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.lambda_config_member() == member)
    }

    /// Whether Cognate calls this trigger yet. The others are refused where declared.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            TriggerKind::PreSignUp
                | TriggerKind::PostConfirmation
                | TriggerKind::PreAuthentication
                | TriggerKind::PostAuthentication
                | TriggerKind::UserMigration
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

/// The webhook URL of each trigger a pool declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Triggers(pub BTreeMap<TriggerKind, String>);

impl Triggers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The URL of `kind`, when declared.
    pub fn url(&self, kind: TriggerKind) -> Option<&str> {
        self.0.get(&kind).map(String::as_str)
    }
}
