//! Infrastructure code's whole view of issue 15: the official AWS SDK for Rust, signed with
//! an operator key, builds a pool with custom attributes, a resource server, an identity
//! provider of each kind, a client with every setting and a domain; reads them back; a user
//! signs in through the hosted UI of that pool with an independent relying party
//! (`openidconnect`); the records are updated (omitted members return to their defaults);
//! and everything is deleted again.

use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AttributeDataType, AttributeType, ExplicitAuthFlowsType,
    IdentityProviderTypeType, MessageActionType, NumberAttributeConstraintsType, OAuthFlowType,
    PasswordPolicyType, PreventUserExistenceErrorTypes, ResourceServerScopeType,
    SchemaAttributeType, StringAttributeConstraintsType, TimeUnitsType, TokenValidityUnitsType,
    UserPoolPolicyType, VerifiedAttributeType,
};
use aws_sdk_cognitoidentityprovider::Client;
use openidconnect::core::CoreClient;
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};

use super::super::{operator_client, start, CALLBACK};
use crate::claims::query_param;
use crate::support::fake_apple::generate_p8;
use crate::support::fake_saml::FakeSaml;
use crate::support::server::{browser_client, sign_in};

const API: &str = "https://api.lifecycle.example";
const PASSWORD: &str = "Lifecycle-passw0rd";

fn code(err: &impl aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata) -> String {
    err.code().unwrap_or_default().to_string()
}

async fn create_pool(sdk: &Client) -> String {
    let created = sdk
        .create_user_pool()
        .pool_name("lifecycle")
        .alias_attributes(AliasAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(12)
                        .require_uppercase(true)
                        .require_lowercase(true)
                        .require_numbers(true)
                        .require_symbols(false)
                        .temporary_password_validity_days(3)
                        .build(),
                )
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("tenant")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .min_length("1")
                        .max_length("64")
                        .build(),
                )
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("seats")
                .attribute_data_type(AttributeDataType::Number)
                .mutable(true)
                .number_attribute_constraints(
                    NumberAttributeConstraintsType::builder()
                        .min_value("0")
                        .max_value("1000")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateUserPool");
    created.user_pool().unwrap().id().unwrap().to_string()
}

/// A provider's name, type and `ProviderDetails`.
type ProviderSpec<'a> = (&'a str, IdentityProviderTypeType, Vec<(&'a str, String)>);

/// One identity provider of each kind Cognito has, with its `ProviderDetails`.
async fn create_providers(sdk: &Client, pool_id: &str, saml: &FakeSaml) -> Vec<String> {
    let (apple_key, _) = generate_p8();
    let kinds: Vec<ProviderSpec> = vec![
        (
            "Google",
            IdentityProviderTypeType::Google,
            vec![
                (
                    "client_id",
                    "google-client.apps.googleusercontent.com".into(),
                ),
                ("client_secret", "google-secret".into()),
                ("authorize_scopes", "openid email profile".into()),
            ],
        ),
        (
            "Facebook",
            IdentityProviderTypeType::Facebook,
            vec![
                ("client_id", "1234567890".into()),
                ("client_secret", "facebook-secret".into()),
                ("authorize_scopes", "public_profile,email".into()),
                ("api_version", "v17.0".into()),
            ],
        ),
        (
            "LoginWithAmazon",
            IdentityProviderTypeType::LoginWithAmazon,
            vec![
                ("client_id", "amzn1.application-oa2-client.lifecycle".into()),
                ("client_secret", "amazon-secret".into()),
                ("authorize_scopes", "profile".into()),
            ],
        ),
        (
            "SignInWithApple",
            IdentityProviderTypeType::SignInWithApple,
            vec![
                ("client_id", "com.example.lifecycle".into()),
                ("team_id", "TEAMID1234".into()),
                ("key_id", "KEYID12345".into()),
                ("private_key", apple_key),
                ("authorize_scopes", "email name".into()),
            ],
        ),
        (
            "Corporate",
            IdentityProviderTypeType::Oidc,
            vec![
                ("client_id", "corporate-client".into()),
                ("client_secret", "corporate-secret".into()),
                ("attributes_request_method", "GET".into()),
                ("oidc_issuer", "https://idp.corporate.example".into()),
                ("authorize_scopes", "openid email".into()),
                (
                    "authorize_url",
                    "https://idp.corporate.example/authorize".into(),
                ),
                ("token_url", "https://idp.corporate.example/token".into()),
                (
                    "attributes_url",
                    "https://idp.corporate.example/userinfo".into(),
                ),
                ("jwks_uri", "https://idp.corporate.example/jwks".into()),
            ],
        ),
        (
            "Okta",
            IdentityProviderTypeType::Saml,
            vec![("MetadataFile", saml.metadata(false))],
        ),
    ];
    let mut names = Vec::new();
    for (name, kind, details) in kinds {
        let mut call = sdk
            .create_identity_provider()
            .user_pool_id(pool_id)
            .provider_name(name)
            .provider_type(kind)
            .attribute_mapping("email", "email");
        for (k, v) in details {
            call = call.provider_details(k, v);
        }
        call.send()
            .await
            .unwrap_or_else(|e| panic!("CreateIdentityProvider {name}: {e:?}"));
        names.push(name.to_string());
    }
    names
}

#[tokio::test]
async fn infrastructure_code_builds_uses_and_tears_down_a_pool() {
    let server = start().await;
    let sdk = operator_client(&server).await;
    let saml = FakeSaml::start().await;

    // The pool, with custom attributes, read back.
    let pool_id = create_pool(&sdk).await;
    assert!(pool_id.starts_with("us-east-1_"), "{pool_id}");
    let described = sdk
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .expect("DescribeUserPool");
    let pool = described.user_pool().unwrap();
    assert_eq!(pool.name(), Some("lifecycle"));
    let schema: Vec<&str> = pool
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert!(
        schema.contains(&"custom:tenant") && schema.contains(&"custom:seats"),
        "{schema:?}"
    );
    assert_eq!(
        pool.policies()
            .and_then(|p| p.password_policy())
            .and_then(|p| p.minimum_length()),
        Some(12)
    );

    // A resource server, and an identity provider of each kind.
    sdk.create_resource_server()
        .user_pool_id(&pool_id)
        .identifier(API)
        .name("orders")
        .scopes(
            ResourceServerScopeType::builder()
                .scope_name("read")
                .scope_description("read orders")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateResourceServer");
    let providers = create_providers(&sdk, &pool_id, &saml).await;
    let listed = sdk
        .list_identity_providers()
        .user_pool_id(&pool_id)
        .max_results(60)
        .send()
        .await
        .expect("ListIdentityProviders");
    let mut listed: Vec<String> = listed
        .providers()
        .iter()
        .filter_map(|p| p.provider_name().map(str::to_string))
        .collect();
    listed.sort();
    let mut expected = providers.clone();
    expected.sort();
    assert_eq!(listed, expected);

    // A client with every setting, read back.
    let mut create = sdk
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .callback_urls(CALLBACK)
        .logout_urls("https://app.example/signed-out")
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes(format!("{API}/read"))
        .supported_identity_providers("COGNITO")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .access_token_validity(30)
        .id_token_validity(30)
        .refresh_token_validity(7)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .id_token(TimeUnitsType::Minutes)
                .refresh_token(TimeUnitsType::Days)
                .build(),
        )
        .read_attributes("email")
        .read_attributes("email_verified")
        .read_attributes("custom:tenant")
        .write_attributes("email")
        .write_attributes("custom:tenant")
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .enable_token_revocation(true);
    for name in &providers {
        create = create.supported_identity_providers(name);
    }
    let client = create.send().await.expect("CreateUserPoolClient");
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_string();
    let read = sdk
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .expect("DescribeUserPoolClient");
    let read = read.user_pool_client().unwrap();
    assert_eq!(read.callback_urls(), [CALLBACK]);
    assert_eq!(read.access_token_validity(), Some(30));
    assert_eq!(
        read.supported_identity_providers().len(),
        1 + providers.len()
    );
    assert!(read
        .allowed_o_auth_scopes()
        .contains(&format!("{API}/read")));

    // A domain.
    sdk.create_user_pool_domain()
        .user_pool_id(&pool_id)
        .domain("lifecycle-demo")
        .send()
        .await
        .expect("CreateUserPoolDomain");
    let domain = sdk
        .describe_user_pool_domain()
        .domain("lifecycle-demo")
        .send()
        .await
        .expect("DescribeUserPoolDomain");
    assert_eq!(
        domain.domain_description().and_then(|d| d.user_pool_id()),
        Some(pool_id.as_str())
    );

    // A user, made through the API, signs in through the hosted UI of that pool: an
    // independent relying party discovers the pool, runs the code flow with PKCE, and
    // checks the ID token.
    sdk.admin_create_user()
        .user_pool_id(&pool_id)
        .username("lena")
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("lena@example.com")
                .build()
                .unwrap(),
        )
        .user_attributes(
            AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .unwrap(),
        )
        .user_attributes(
            AttributeType::builder()
                .name("custom:tenant")
                .value("acme")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AdminCreateUser");
    sdk.admin_set_user_password()
        .user_pool_id(&pool_id)
        .username("lena")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");

    let http = crate::oidc::rp_http();
    let metadata = crate::oidc::discover(&server.base, &pool_id, &http).await;
    let rp = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.clone()), None)
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new(format!("{API}/read")))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser_client();
    let location = sign_in(&browser, &server.base, url.as_str(), "lena", PASSWORD)
        .await
        .unwrap_or_else(|body| panic!("hosted sign-in failed: {body}"));
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let grant = AuthorizationCode::new(query_param(&location, "code").expect("a code"));
    let tokens = rp
        .exchange_code(grant)
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("the code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    assert_eq!(
        claims.issuer().as_str(),
        format!("{}/{pool_id}", server.base)
    );
    assert_eq!(claims.email().map(|e| e.as_str()), Some("lena@example.com"));
    // The access token carries the resource server's scope (Cognito's token response
    // names no `scope`; the access token's `scope` claim does).
    let access = crate::support::federated::payload(tokens.access_token().secret());
    let scopes: Vec<&str> = access["scope"]
        .as_str()
        .expect("a scope claim")
        .split(' ')
        .collect();
    assert!(
        scopes.contains(&format!("{API}/read").as_str()),
        "{scopes:?}"
    );
    assert!(scopes.contains(&"email"), "{scopes:?}");
    // The access token lives the client's 30 minutes.
    assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(1800));

    // Updates replace the whole record: omitted members return to their defaults.
    sdk.update_user_pool()
        .user_pool_id(&pool_id)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .expect("UpdateUserPool");
    let pool = sdk
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        pool.user_pool()
            .and_then(|p| p.policies())
            .and_then(|p| p.password_policy())
            .and_then(|p| p.minimum_length()),
        Some(8),
        "the omitted password policy is back to Cognito's default"
    );
    sdk.update_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .client_name("web, renamed")
        .send()
        .await
        .expect("UpdateUserPoolClient");
    let read = sdk
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .unwrap();
    let read = read.user_pool_client().unwrap();
    assert_eq!(read.client_name(), Some("web, renamed"));
    assert!(
        read.callback_urls().is_empty(),
        "{:?}",
        read.callback_urls()
    );
    assert!(read.allowed_o_auth_scopes().is_empty());

    // Everything is deleted again.
    sdk.delete_user_pool_domain()
        .user_pool_id(&pool_id)
        .domain("lifecycle-demo")
        .send()
        .await
        .expect("DeleteUserPoolDomain");
    sdk.delete_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .expect("DeleteUserPoolClient");
    for name in &providers {
        sdk.delete_identity_provider()
            .user_pool_id(&pool_id)
            .provider_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeleteIdentityProvider {name}: {e:?}"));
    }
    sdk.delete_resource_server()
        .user_pool_id(&pool_id)
        .identifier(API)
        .send()
        .await
        .expect("DeleteResourceServer");
    sdk.delete_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .expect("DeleteUserPool");
    let gone = sdk
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&gone), "ResourceNotFoundException");
    let domain = sdk
        .describe_user_pool_domain()
        .domain("lifecycle-demo")
        .send()
        .await
        .expect("an unknown domain is an empty description, as in Cognito");
    assert!(domain
        .domain_description()
        .is_none_or(|d| d.user_pool_id().is_none()));
    // The pool's users went with it.
    assert!(server
        .node
        .store
        .get_pool(&pool_id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(server.user_count(&pool_id).await, 0);
}
