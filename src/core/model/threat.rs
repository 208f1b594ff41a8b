//! Threat protection (issue 17): what a pool asks for ([`ThreatProtection`], Cognito's
//! advanced security mode with its risk configuration), and what it records
//! ([`AuthEvent`], the rows of the auth event log that AdminListUserAuthEvents lists).

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::core::UnixTime;

/// A pool's threat protection (`[pools.threat_protection]`; Cognito's `UserPoolAddOns`
/// with `SetRiskConfiguration`). Everything is computed on this machine: nothing leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ThreatProtection {
    /// Cognito's `AdvancedSecurityMode`: `off` records nothing and scores nothing;
    /// `audit` records every auth event with its risk, acting on none; `enforced` also
    /// takes each risk level's action.
    pub mode: ThreatMode,
    /// What happens to a password found in the common-password list or the operator's
    /// breached-password corpus (independent of `mode`, since it is a password rule).
    pub compromised_passwords: CompromisedPasswords,
    /// The action for each risk level (used in `enforced` mode).
    pub low: LevelAction,
    pub medium: LevelAction,
    pub high: LevelAction,
    /// Signal weights and level thresholds (see [`RiskTuning`]).
    pub tuning: RiskTuning,
}

impl ThreatProtection {
    /// Whether auth events are recorded (and risk scored) at all.
    pub fn records_events(&self) -> bool {
        self.mode != ThreatMode::Off
    }

    /// The action for `level` (`None` scores no action).
    pub fn action_for(&self, level: RiskLevel) -> LevelAction {
        match level {
            RiskLevel::None => LevelAction::default(),
            RiskLevel::Low => self.low,
            RiskLevel::Medium => self.medium,
            RiskLevel::High => self.high,
        }
    }
}

/// Cognito's `AdvancedSecurityMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ThreatMode {
    #[default]
    Off,
    Audit,
    Enforced,
}

impl ThreatMode {
    /// Cognito's spelling: `OFF`, `AUDIT`, `ENFORCED`.
    pub fn as_cognito(self) -> &'static str {
        match self {
            ThreatMode::Off => "OFF",
            ThreatMode::Audit => "AUDIT",
            ThreatMode::Enforced => "ENFORCED",
        }
    }
}

/// What a compromised password meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CompromisedPasswords {
    /// No check.
    #[default]
    Off,
    /// A compromised password is refused wherever a password is chosen (sign-up, change,
    /// reset, administrator set, new-password challenge, lazy migration).
    Block,
    /// As `block`, and a password sign-in with a password found compromised is refused
    /// with Cognito's `PasswordResetRequiredException`: the user must reset it (Cognito's
    /// compromised-credentials `BLOCK` at `SIGN_IN`).
    Reset,
}

/// What one risk level does (Cognito's `AccountTakeoverActionType`: `Notify` and
/// `EventAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LevelAction {
    pub action: RiskAction,
    /// Mail the user a "was this you?" notice with a single-use "not me" link.
    pub notify: bool,
}

/// Cognito's `EventAction` for account takeover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RiskAction {
    /// `NO_ACTION`.
    #[default]
    Allow,
    /// `MFA_IF_CONFIGURED`/`MFA_REQUIRED`: a second factor the user has enrolled (or an
    /// emailed code, where the pool allows email MFA and the email is verified) before
    /// any token; a user with neither is blocked.
    Mfa,
    /// `BLOCK`: the sign-in is refused.
    Block,
}

/// Signal weights (points added when a signal fires) and the level thresholds (a score at
/// or above `medium_at` is medium, at or above `high_at` high; above 0 low). The README
/// explains each signal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskTuning {
    pub new_device: u32,
    pub new_network: u32,
    pub failure_burst: u32,
    pub impossible_travel: u32,
    pub medium_at: u32,
    pub high_at: u32,
    /// Failed sign-ins from one client address (any accounts) within 10 minutes from
    /// which the failure-burst signal fires.
    pub burst_failures: u32,
    /// Travel faster than this (km/h) between two sign-ins is impossible.
    pub max_travel_kmh: u32,
}

impl Default for RiskTuning {
    fn default() -> Self {
        RiskTuning {
            new_device: 20,
            new_network: 20,
            failure_burst: 50,
            impossible_travel: 70,
            medium_at: 40,
            high_at: 70,
            burst_failures: 10,
            max_travel_kmh: 1000,
        }
    }
}

/// Cognito's `RiskLevel` (`None` where nothing fired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    None,
    Low,
    Medium,
    High,
}

impl RiskLevel {
    /// Cognito's spelling (`Low`, `Medium`, `High`; no level is left out of the answer).
    pub fn as_cognito(self) -> Option<&'static str> {
        match self {
            RiskLevel::None => None,
            RiskLevel::Low => Some("Low"),
            RiskLevel::Medium => Some("Medium"),
            RiskLevel::High => Some("High"),
        }
    }
}

/// Cognito's `EventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthEventKind {
    SignIn,
    SignUp,
    ForgotPassword,
    PasswordChange,
    ResendCode,
    /// A sign-up confirmation or attribute verification.
    Confirmation,
    /// An MFA preference or factor change.
    MfaChange,
    /// A sign-in through an upstream IdP.
    FederatedSignIn,
}

impl AuthEventKind {
    /// The name AdminListUserAuthEvents gives it (Cognito's `EventType`; the last three
    /// are Cognate's, since Cognito records none of them).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthEventKind::SignIn => "SignIn",
            AuthEventKind::SignUp => "SignUp",
            AuthEventKind::ForgotPassword => "ForgotPassword",
            AuthEventKind::PasswordChange => "PasswordChange",
            AuthEventKind::ResendCode => "ResendCode",
            AuthEventKind::Confirmation => "Confirmation",
            AuthEventKind::MfaChange => "MfaChange",
            AuthEventKind::FederatedSignIn => "FederatedSignIn",
        }
    }
}

/// Cognito's `EventResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthEventOutcome {
    Pass,
    Fail,
    /// Went on to a challenge (MFA, new password).
    InProgress,
}

impl AuthEventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthEventOutcome::Pass => "Pass",
            AuthEventOutcome::Fail => "Fail",
            AuthEventOutcome::InProgress => "InProgress",
        }
    }
}

/// The risk scored for one event and what was done about it (Cognito's `EventRisk`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct EventRisk {
    pub level: RiskLevel,
    pub score: u32,
    /// The signals that fired (`new_device`, `new_network`, ...), for the log and the
    /// README's explanation.
    pub signals: Vec<String>,
    /// What was done: `allow`, `notify`, `mfa`, `block`, or `audit` (scored, not acted on).
    pub decision: String,
    /// The compromised-password check found the password leaked.
    pub compromised_credentials: bool,
}

/// A user's answer about an event (Cognito's `EventFeedbackType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFeedback {
    /// `Valid` or `Invalid`.
    pub value: String,
    /// `User` (the "not me" page) or `Admin` (AdminUpdateAuthEventFeedback).
    pub provider: String,
    pub at: UnixTime,
}

/// One entry of the auth event log (Cognito's `AuthEventType`), stored whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthEvent {
    /// Random, unique; Cognito's `EventId`.
    pub id: String,
    pub pool_id: String,
    /// The user's `sub`; `None` for a login nobody has (still recorded: failures against
    /// unknown logins feed the per-address signals and the operator's review).
    pub sub: Option<String>,
    /// The login as typed or the username.
    pub username: String,
    pub kind: AuthEventKind,
    pub outcome: AuthEventOutcome,
    /// Challenges met on the way (`Password:Success`, `Mfa:Failure`...), Cognito's
    /// `ChallengeResponses`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<String>,
    pub created_at: UnixTime,
    pub client_id: Option<String>,
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The device cookie's id (hashed), where the edge has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Country and coordinates from the operator's GeoIP file, where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub risk: EventRisk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<EventFeedback>,
    /// Anything else worth showing (the IdP of a federated sign-in, the MFA factor
    /// changed...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

impl AuthEvent {
    /// Whether the event is sign-in history the risk signals compare a new sign-in with:
    /// a `SignIn` that ended in tokens, or went on to a challenge of the pool's own (its
    /// MFA, a new password), not one the risk's `mfa` action asked (which counts once the
    /// factor is passed, as that step's event), and not one its user or an administrator
    /// marked `Invalid`. Other kinds never count: anyone can have a `ForgotPassword` or a
    /// failed attempt recorded under someone's name.
    pub fn counts_as_history(&self) -> bool {
        if self.kind != AuthEventKind::SignIn
            || self.feedback.as_ref().is_some_and(|f| f.value == "Invalid")
        {
            return false;
        }
        match self.outcome {
            AuthEventOutcome::Pass => true,
            AuthEventOutcome::InProgress => !self.risk.decision.starts_with("mfa"),
            AuthEventOutcome::Fail => false,
        }
    }
}

/// Where an address is, by the GeoIP file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// ISO 3166-1 alpha-2, where the file has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
}
