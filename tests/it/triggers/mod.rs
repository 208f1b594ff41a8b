//! Issue 16, part A: trigger webhooks. A real server calls an in-process receiver
//! ([`crate::support::webhook`]) that verifies every delivery's Standard Webhooks signature
//! with the pool's secret, over real HTTP; the apps are the official AWS SDK and the
//! hosted UI.
//!
//! - [`events`]: each trigger fires at its moment with Cognito's event shape, and the
//!   answers change the result (autoConfirmUser, autoVerifyEmail; refusals);
//! - [`pre_token`]: the pre token generation trigger's sources, V1 / V2 / V3 answers,
//!   protected claims and failures (part B);
//! - [`delivery`]: retries, timeouts, redirects, oversized answers, signatures (replayed
//!   and forged), and LambdaConfig through the SDK;
//! - [`enumeration`]: pre authentication runs only after the first factor is proven, so
//!   its refusal cannot tell existing users from unknown ones;
//! - [`migration`] (part C): lazy user migration through the hosted UI, USER_PASSWORD_AUTH
//!   and ForgotPassword, and its guards (attempt limits, one call per burst, no SRP);
//! - [`senders`]: custom message, custom email sender (the code a JWE decrypted with
//!   OpenSSL), their failures and LambdaConfig's senders and KMSKeyID;
//! - [`sms`]: the custom SMS sender, phone verification, phone sign-in and reset by SMS,
//!   phone budgets under parallel bursts, and the refusal without a sender;
//! - [`sms_mfa`]: SMS as a second factor (SMS_MFA through the SDK and the hosted UI, its
//!   throttle and phone budget, enabling it by API, legacy MFAOptions and the account page);
//! - [`sms_invitations`]: AdminCreateUser invitations by SMS;
//! - [`custom_auth`]: CUSTOM_AUTH with define / create / verify auth challenge webhooks
//!   (rounds, sessions, unknown users, attempt limits, failures, ClientMetadata).

mod custom_auth;
mod delivery;
mod enumeration;
mod events;
mod migration;
mod pre_token;
mod senders;
mod sms;
mod sms_invitations;
mod sms_mfa;

use aws_sdk_cognitoidentityprovider::types::AttributeType;

use crate::support::server::TestServer;
use crate::support::webhook::Receiver;

pub const POOL: &str = "us-east-1_Triggers1";
pub const APP: &str = "trigapp00000000000000001";
pub const PASSWORD: &str = "Corr3ct-horse-hooks";

pub const PRE_SIGN_UP: &str = "/pre-sign-up";
pub const POST_CONFIRMATION: &str = "/post-confirmation";
pub const PRE_AUTH: &str = "/pre-auth";
pub const POST_AUTH: &str = "/post-auth";

/// The `[server]` settings of the trigger tests: a trigger attempt times out after 1 s;
/// webhooks set through the API may be on loopback, where the receiver is (off by
/// default: see `delivery::api_webhooks_may_not_target_internal_addresses`).
pub const SERVER_SETTINGS: &str = "trigger_timeout_ms = 1000\napi_webhooks_on_loopback = true";

/// A server whose pool calls the receiver for all four triggers; a trigger attempt times
/// out after 1 s (`trigger_timeout_ms`, so the timeout test is quick). The receiver is
/// given the pool's secret.
pub async fn start() -> (TestServer, Receiver) {
    let receiver = Receiver::start().await;
    let pools = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "triggers"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]

[pools.triggers]
pre_sign_up = "{}"
post_confirmation = "{}"
pre_authentication = "{}"
post_authentication = "{}"

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["https://app.example/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#,
        receiver.url(PRE_SIGN_UP),
        receiver.url(POST_CONFIRMATION),
        receiver.url(PRE_AUTH),
        receiver.url(POST_AUTH),
    );
    let server = TestServer::start_with(&pools, SERVER_SETTINGS, &[]).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    receiver.set_secret(&secret.display());
    (server, receiver)
}

pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}
