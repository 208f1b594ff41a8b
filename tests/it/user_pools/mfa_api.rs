//! Issue 15: MFA preferences through the user pools API (SetUserMFAPreference,
//! AdminSetUserMFAPreference), with the official AWS SDK for Rust: TOTP set up through the
//! API (AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference) and then asked
//! by the hosted UI; TOTP enrolled on the hosted account page, then seen and switched off
//! through the API; wrong and replayed codes; email as a second factor (a verified address,
//! a pool that allows it); SMS refused; the last factor of an `ON` pool kept; the
//! administrator's action.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, EmailMfaSettingsType, SmsMfaSettingsType,
    SoftwareTokenMfaSettingsType,
};
use aws_sdk_cognitoidentityprovider::Client;
use reqwest::StatusCode;

use super::public_client;
use crate::mfa::{clear_of_step_end, totp_at, unix_now, wrong, Browser, CALLBACK, PASSWORD};
use crate::support::server::TestServer;

/// `mfa = "OPTIONAL"`, TOTP and email as second factors.
pub const OPT: &str = "us-east-1_MfaApiOpt01";
pub const OPT_APP: &str = "mfaapiopt0000000000000001";
/// `mfa = "OPTIONAL"`, TOTP only (Cognate's default factors).
pub const TOTP_ONLY: &str = "us-east-1_MfaApiTotp1";
pub const TOTP_APP: &str = "mfaapitotp000000000000001";
/// `mfa = "ON"`, TOTP and email.
pub const ON: &str = "us-east-1_MfaApiOn001";
pub const ON_APP: &str = "mfaapion00000000000000001";

fn client_toml(id: &str) -> String {
    format!(
        r#"
[[pools.clients]]
id = "{id}"
name = "app"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    )
}

fn pools_toml() -> String {
    format!(
        r#"
[[pools]]
id = "{OPT}"
name = "MFA API optional"
mfa = "OPTIONAL"
mfa_factors = ["TOTP", "EMAIL"]
{opt}
[[pools]]
id = "{TOTP_ONLY}"
name = "MFA API TOTP only"
mfa = "OPTIONAL"
{totp}
[[pools]]
id = "{ON}"
name = "MFA API on"
mfa = "ON"
mfa_factors = ["TOTP", "EMAIL"]
{on}"#,
        opt = client_toml(OPT_APP),
        totp = client_toml(TOTP_APP),
        on = client_toml(ON_APP),
    )
}

async fn start() -> TestServer {
    TestServer::start_with(&pools_toml(), "trusted_proxies = [\"127.0.0.1/32\"]", &[]).await
}

/// A confirmed user; `email` with `email_verified` as given.
async fn user(server: &TestServer, pool: &str, name: &str, verified: bool) {
    let attributes: BTreeMap<String, String> = [
        ("email", format!("{name}@example.com")),
        ("email_verified", verified.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    server.create_user(pool, name, attributes, PASSWORD).await;
}

/// The code and message of a refused call.
pub(super) fn refusal<
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let e = result.expect_err("the call must be refused");
    let service = e
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"));
    (
        service.code().unwrap_or_default().to_string(),
        service.message().unwrap_or_default().to_string(),
    )
}

/// USER_PASSWORD_AUTH for a user without a second factor: the access token.
async fn access_token(sdk: &Client, app: &str, name: &str) -> String {
    let out = sdk
        .initiate_auth()
        .client_id(app)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", name)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    out.authentication_result()
        .unwrap_or_else(|| panic!("tokens expected: {out:?}"))
        .access_token()
        .unwrap()
        .to_string()
}

fn totp(enabled: bool, preferred: bool) -> SoftwareTokenMfaSettingsType {
    SoftwareTokenMfaSettingsType::builder()
        .enabled(enabled)
        .preferred_mfa(preferred)
        .build()
}

fn email(enabled: bool, preferred: bool) -> EmailMfaSettingsType {
    EmailMfaSettingsType::builder()
        .enabled(enabled)
        .preferred_mfa(preferred)
        .build()
}

/// GetUser's `UserMFASettingList` and `PreferredMfaSetting`.
async fn mfa_of(sdk: &Client, token: &str) -> (Vec<String>, Option<String>) {
    let out = sdk
        .get_user()
        .access_token(token)
        .send()
        .await
        .expect("GetUser");
    (
        out.user_mfa_setting_list().to_vec(),
        out.preferred_mfa_setting().map(str::to_string),
    )
}

#[tokio::test]
async fn totp_set_up_through_the_api_is_asked_by_the_hosted_ui_and_codes_are_single_use() {
    let server = start().await;
    let sdk = public_client(&server);
    user(&server, OPT, "ann", true).await;
    let token = access_token(&sdk, OPT_APP, "ann").await;

    // Attack: TOTP enabled before any authenticator app was verified.
    let (code, message) = refusal(
        sdk.set_user_mfa_preference()
            .access_token(&token)
            .software_token_mfa_settings(totp(true, true))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(message, "User has not set up software token mfa");
    assert_eq!(mfa_of(&sdk, &token).await, (vec![], None));

    let secret = sdk
        .associate_software_token()
        .access_token(&token)
        .send()
        .await
        .expect("AssociateSoftwareToken")
        .secret_code()
        .unwrap()
        .to_string();
    clear_of_step_end(4).await;
    let now = unix_now();
    // Attack: a wrong code does not enrol the app.
    let (code, _) = refusal(
        sdk.verify_software_token()
            .access_token(&token)
            .user_code(wrong(&totp_at(&secret, now)))
            .send()
            .await,
    );
    assert_eq!(code, "EnableSoftwareTokenMFAException");
    let verified = sdk
        .verify_software_token()
        .access_token(&token)
        .user_code(totp_at(&secret, now))
        .friendly_device_name("Phone")
        .send()
        .await
        .expect("VerifySoftwareToken");
    assert_eq!(verified.status().map(|s| s.as_str()), Some("SUCCESS"));

    sdk.set_user_mfa_preference()
        .access_token(&token)
        .software_token_mfa_settings(totp(true, true))
        .send()
        .await
        .expect("SetUserMFAPreference");
    assert_eq!(
        mfa_of(&sdk, &token).await,
        (
            vec!["SOFTWARE_TOKEN_MFA".to_string()],
            Some("SOFTWARE_TOKEN_MFA".to_string())
        )
    );

    // The hosted UI asks for the code after the password. The step the API verified with
    // was consumed: its code is refused (replay), the next step's passes.
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(OPT_APP, "ann").await;
    assert!(
        page.location().starts_with("/login/mfa?flow="),
        "the password leads to the second factor: {page:?}"
    );
    let replayed = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "totp"), ("code", &totp_at(&secret, now))],
        )
        .await;
    replayed.assert_refused("the code VerifySoftwareToken used, replayed");
    let done = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "totp"), ("code", &totp_at(&secret, now + 30))],
        )
        .await;
    done.expect_code("the next step's code");

    // The API's sign-in asks too, and refuses the code the hosted UI just used.
    let out = sdk
        .initiate_auth()
        .client_id(OPT_APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    assert_eq!(
        out.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    let (code, _) = refusal(
        sdk.respond_to_auth_challenge()
            .client_id(OPT_APP)
            .challenge_name(ChallengeNameType::SoftwareTokenMfa)
            .session(out.session().unwrap())
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_at(&secret, now + 30))
            .send()
            .await,
    );
    assert_eq!(code, "CodeMismatchException");
    server.stop().await;
}

/// Enrols TOTP on the hosted account security page of a browser signed in to
/// `client_id`'s pool; returns the key (as `crate::mfa`'s rules tests do).
async fn enrol_totp_on_account_page(browser: &Browser, client_id: &str) -> String {
    use crate::support::server::hidden;
    let account = browser
        .get(&format!("/account/security?client_id={client_id}"))
        .await;
    assert_eq!(account.status, StatusCode::OK, "{account:?}");
    let csrf = hidden(&account.body, "_csrf").expect("_csrf");
    let started = browser
        .post(
            "/account/security/totp/start",
            &[("_csrf", &csrf), ("client_id", client_id)],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{started:?}");
    let secret = crate::mfa::element_text(&started.body, "totp-secret").expect("#totp-secret");
    let enrolment = hidden(&started.body, "enrolment").expect("enrolment");
    let csrf = hidden(&started.body, "_csrf").unwrap_or(csrf);
    clear_of_step_end(3).await;
    let confirmed = browser
        .post(
            "/account/security/totp/confirm",
            &[
                ("_csrf", &csrf),
                ("client_id", client_id),
                ("enrolment", &enrolment),
                ("code", &totp_at(&secret, unix_now())),
                ("name", "Phone"),
            ],
        )
        .await;
    assert!(
        confirmed.status == StatusCode::OK || confirmed.status == StatusCode::SEE_OTHER,
        "{confirmed:?}"
    );
    secret
}

#[tokio::test]
async fn totp_enrolled_on_the_account_page_is_seen_and_switched_off_through_the_api() {
    let server = start().await;
    let sdk = public_client(&server);
    user(&server, OPT, "bob", true).await;
    let browser = Browser::new(&server);
    let (_, page) = browser.password(OPT_APP, "bob").await;
    page.expect_code("no factor yet: signed in with the password");
    let secret = enrol_totp_on_account_page(&browser, OPT_APP).await;

    // The API sees the factor enrolled on the page: its sign-in asks for the code.
    let out = sdk
        .initiate_auth()
        .client_id(OPT_APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    assert_eq!(
        out.challenge_name(),
        Some(&ChallengeNameType::SoftwareTokenMfa)
    );
    let tokens = sdk
        .respond_to_auth_challenge()
        .client_id(OPT_APP)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(out.session().unwrap())
        .challenge_responses("USERNAME", "bob")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_at(&secret, unix_now() + 30))
        .send()
        .await
        .expect("the next step's code");
    let token = tokens
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .to_string();
    assert_eq!(
        mfa_of(&sdk, &token).await.0,
        vec!["SOFTWARE_TOKEN_MFA".to_string()]
    );

    // Switched off through the API: GetUser lists nothing, the hosted UI asks nothing.
    sdk.set_user_mfa_preference()
        .access_token(&token)
        .software_token_mfa_settings(totp(false, false))
        .send()
        .await
        .expect("TOTP disabled");
    assert_eq!(mfa_of(&sdk, &token).await, (vec![], None));
    let fresh = Browser::new(&server);
    let (_, page) = fresh.password(OPT_APP, "bob").await;
    page.expect_code("no second factor any more");
    server.stop().await;
}

#[tokio::test]
async fn email_needs_a_verified_address_and_a_pool_that_allows_it_and_sms_is_refused() {
    let server = start().await;
    let sdk = public_client(&server);
    user(&server, OPT, "unverified", false).await;
    user(&server, OPT, "carol", true).await;
    user(&server, TOTP_ONLY, "dan", true).await;

    // Attack: email codes to an address nobody proved.
    let unverified = access_token(&sdk, OPT_APP, "unverified").await;
    let (code, message) = refusal(
        sdk.set_user_mfa_preference()
            .access_token(&unverified)
            .email_mfa_settings(email(true, false))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("verified email"), "{message}");

    // Attack: a factor the pool does not allow.
    let dan = access_token(&sdk, TOTP_APP, "dan").await;
    let (code, message) = refusal(
        sdk.set_user_mfa_preference()
            .access_token(&dan)
            .email_mfa_settings(email(true, true))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("EmailMfaSettings") && message.contains("not enabled"),
        "{message}"
    );
    assert_eq!(mfa_of(&sdk, &dan).await, (vec![], None));

    // SMS: not allowed by this pool (no custom SMS sender), so never enabled; switching
    // it off is accepted.
    let carol = access_token(&sdk, OPT_APP, "carol").await;
    let (code, message) = refusal(
        sdk.set_user_mfa_preference()
            .access_token(&carol)
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("SMSMfaSettings"), "{message}");
    sdk.set_user_mfa_preference()
        .access_token(&carol)
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(false).build())
        .send()
        .await
        .expect("SMS off is accepted");

    // Preferred but disabled is a contradiction.
    let (code, _) = refusal(
        sdk.set_user_mfa_preference()
            .access_token(&carol)
            .email_mfa_settings(email(false, true))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");

    // The honest request: email enabled and preferred, then asked at sign-in.
    sdk.set_user_mfa_preference()
        .access_token(&carol)
        .email_mfa_settings(email(true, true))
        .send()
        .await
        .expect("email enabled");
    assert_eq!(
        mfa_of(&sdk, &carol).await,
        (vec!["EMAIL_OTP".to_string()], Some("EMAIL_OTP".to_string()))
    );
    let out = sdk
        .initiate_auth()
        .client_id(OPT_APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "carol")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));

    // A wrongly typed member is Cognito's validation error, not a 500.
    let raw = crate::aws_edge::client()
        .post(&server.base)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.SetUserMFAPreference",
        )
        .body(
            serde_json::json!({"AccessToken": carol, "EmailMfaSettings": {"Enabled": "yes"}})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn the_last_factor_of_an_on_pool_is_kept_and_the_administrator_sets_preferences() {
    let server = start().await;
    user(&server, ON, "erin", true).await;
    let admin = super::operator_client(&server).await;

    // Attack: an app key (not an operator's) cannot use the administrator's action.
    let (code, _) = refusal(
        public_client(&server)
            .admin_set_user_mfa_preference()
            .user_pool_id(ON)
            .username("erin")
            .email_mfa_settings(email(true, true))
            .send()
            .await,
    );
    assert_eq!(code, "UnrecognizedClientException");
    assert!(
        server
            .find_user(ON, "erin")
            .await
            .unwrap()
            .mfa
            .factors
            .is_empty(),
        "nothing changed"
    );

    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(ON)
        .username("erin")
        .email_mfa_settings(email(true, true))
        .send()
        .await
        .expect("AdminSetUserMFAPreference");
    let got = admin
        .admin_get_user()
        .user_pool_id(ON)
        .username("erin")
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(got.user_mfa_setting_list(), ["EMAIL_OTP".to_string()]);
    assert_eq!(got.preferred_mfa_setting(), Some("EMAIL_OTP"));

    // Under ON the last factor stays.
    let (code, message) = refusal(
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id(ON)
            .username("erin")
            .email_mfa_settings(email(false, false))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("last factor"), "{message}");

    let (code, message) = refusal(
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id(ON)
            .username("nobody")
            .email_mfa_settings(email(true, false))
            .send()
            .await,
    );
    assert_eq!(code, "UserNotFoundException", "{message}");
    let (code, _) = refusal(
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id("us-east-1_NoSuchPool1")
            .username("erin")
            .email_mfa_settings(email(true, false))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    server.stop().await;
}
