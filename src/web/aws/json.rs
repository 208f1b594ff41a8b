//! The AWS JSON 1.1 protocol: `X-Amz-Target: <Service>.<Action>`, a JSON object in the
//! body (`application/x-amz-json-1.1`), a JSON object back, errors as `__type`.
//!
//! Each target prefix has a table of [`JsonAction`]s; an action names its handler and
//! whether it must be SigV4-signed with an operator key. To add one, write
//!
//! ```ignore
//! async fn get_id(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError>
//! ```
//!
//! and list it in the table: `json_action!("GetId", Auth::Public, get_id)`. The
//! dispatcher has checked the signature (for `Auth::Operator`) before the handler runs;
//! public actions receive [`Caller::Unsigned`](super::Caller) whatever the request carries,
//! as AWS ignores a signature on them.

use futures::future::BoxFuture;
use serde_json::Value;

use super::{AwsCall, AwsError};
use crate::web::AppState;

/// The body's media type, and the answers'.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The prefix of the identity pools API (`cognito-identity`).
pub const IDENTITY_PREFIX: &str = "AWSCognitoIdentityService";
/// The prefix of the user pools API (`cognito-idp`).
pub const IDP_PREFIX: &str = "AWSCognitoIdentityProviderService";

/// Who may call an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Unsigned, as AWS serves it (GetId, GetCredentialsForIdentity, InitiateAuth...).
    Public,
    /// SigV4-signed with an operator key of purpose `operator` (an `authorize` key is
    /// refused with `AccessDeniedException`).
    Operator,
    /// P3: SigV4-signed by an operator key (either purpose) or by vended session
    /// credentials (`ASIA...` with `x-amz-security-token`): STS's GetCallerIdentity.
    AnySigned,
}

/// A JSON action's handler.
pub type JsonHandler =
    for<'a> fn(&'a AppState, &'a AwsCall, Value) -> BoxFuture<'a, Result<Value, AwsError>>;

/// One action of a JSON API.
#[derive(Clone, Copy)]
pub struct JsonAction {
    pub name: &'static str,
    pub auth: Auth,
    pub run: JsonHandler,
}

/// A [`JsonAction`] from an `async fn(&AppState, &AwsCall, Value) -> Result<Value,
/// AwsError>`.
#[macro_export]
macro_rules! json_action {
    ($name:literal, $auth:expr, $handler:path) => {
        $crate::web::aws::json::JsonAction {
            name: $name,
            auth: $auth,
            run: {
                fn run<'a>(
                    state: &'a $crate::web::AppState,
                    call: &'a $crate::web::aws::AwsCall,
                    input: ::serde_json::Value,
                ) -> ::futures::future::BoxFuture<
                    'a,
                    Result<::serde_json::Value, $crate::web::aws::AwsError>,
                > {
                    Box::pin($handler(state, call, input))
                }
                run
            },
        }
    };
}

/// One JSON API: its target prefix, the SigV4 service name its signatures are scoped to,
/// and its actions.
pub struct JsonApi {
    pub prefix: &'static str,
    pub service: &'static str,
    pub actions: &'static [JsonAction],
}

/// The identity pools API's actions.
pub const IDENTITY_ACTIONS: &[JsonAction] = &[
    // P1: the end-user and developer actions (web::aws::identity).
    json_action!("GetId", Auth::Public, super::identity::get_id),
    json_action!(
        "GetOpenIdToken",
        Auth::Public,
        super::identity::get_open_id_token
    ),
    json_action!(
        "GetCredentialsForIdentity",
        Auth::Public,
        super::identity::get_credentials_for_identity
    ),
    json_action!(
        "GetOpenIdTokenForDeveloperIdentity",
        Auth::Operator,
        super::identity::get_open_id_token_for_developer_identity
    ),
    // P2: the operator-signed management actions (`identity_admin`).
    json_action!(
        "CreateIdentityPool",
        Auth::Operator,
        super::identity_admin::create_identity_pool
    ),
    json_action!(
        "DescribeIdentityPool",
        Auth::Operator,
        super::identity_admin::describe_identity_pool
    ),
    json_action!(
        "UpdateIdentityPool",
        Auth::Operator,
        super::identity_admin::update_identity_pool
    ),
    json_action!(
        "DeleteIdentityPool",
        Auth::Operator,
        super::identity_admin::delete_identity_pool
    ),
    json_action!(
        "ListIdentityPools",
        Auth::Operator,
        super::identity_admin::list_identity_pools
    ),
    json_action!(
        "SetIdentityPoolRoles",
        Auth::Operator,
        super::identity_admin::set_identity_pool_roles
    ),
    json_action!(
        "GetIdentityPoolRoles",
        Auth::Operator,
        super::identity_admin::get_identity_pool_roles
    ),
    json_action!(
        "DescribeIdentity",
        Auth::Operator,
        super::identity_admin::describe_identity
    ),
    json_action!(
        "ListIdentities",
        Auth::Operator,
        super::identity_admin::list_identities
    ),
    json_action!(
        "DeleteIdentities",
        Auth::Operator,
        super::identity_admin::delete_identities
    ),
    json_action!(
        "UnlinkIdentity",
        Auth::Operator,
        super::identity_admin::unlink_identity
    ),
];
/// The user pools API's actions (issue 14; `super::idp`). Public actions are unsigned, as
/// in AWS; the Admin* and management actions are signed with operator credentials.
pub const IDP_ACTIONS: &[JsonAction] = &[
    json_action!(
        "InitiateAuth",
        Auth::Public,
        super::idp::auth::initiate_auth
    ),
    json_action!(
        "AdminInitiateAuth",
        Auth::Operator,
        super::idp::auth::admin_initiate_auth
    ),
    json_action!(
        "RespondToAuthChallenge",
        Auth::Public,
        super::idp::auth::respond_to_auth_challenge
    ),
    json_action!(
        "AdminRespondToAuthChallenge",
        Auth::Operator,
        super::idp::auth::admin_respond_to_auth_challenge
    ),
    json_action!(
        "GetTokensFromRefreshToken",
        Auth::Public,
        super::idp::auth::get_tokens_from_refresh_token
    ),
    json_action!("RevokeToken", Auth::Public, super::idp::auth::revoke_token),
    json_action!(
        "AssociateSoftwareToken",
        Auth::Public,
        super::idp::auth::associate_software_token
    ),
    json_action!(
        "VerifySoftwareToken",
        Auth::Public,
        super::idp::auth::verify_software_token
    ),
    json_action!("SignUp", Auth::Public, super::idp::user::sign_up),
    json_action!(
        "ConfirmSignUp",
        Auth::Public,
        super::idp::user::confirm_sign_up
    ),
    json_action!(
        "ResendConfirmationCode",
        Auth::Public,
        super::idp::user::resend_confirmation_code
    ),
    json_action!(
        "ForgotPassword",
        Auth::Public,
        super::idp::user::forgot_password
    ),
    json_action!(
        "ConfirmForgotPassword",
        Auth::Public,
        super::idp::user::confirm_forgot_password
    ),
    json_action!("GetUser", Auth::Public, super::idp::user::get_user),
    json_action!(
        "UpdateUserAttributes",
        Auth::Public,
        super::idp::user::update_user_attributes
    ),
    json_action!(
        "DeleteUserAttributes",
        Auth::Public,
        super::idp::user::delete_user_attributes
    ),
    json_action!(
        "VerifyUserAttribute",
        Auth::Public,
        super::idp::user::verify_user_attribute
    ),
    json_action!(
        "GetUserAttributeVerificationCode",
        Auth::Public,
        super::idp::user::get_user_attribute_verification_code
    ),
    json_action!(
        "ChangePassword",
        Auth::Public,
        super::idp::user::change_password
    ),
    json_action!("DeleteUser", Auth::Public, super::idp::user::delete_user),
    json_action!(
        "GlobalSignOut",
        Auth::Public,
        super::idp::user::global_sign_out
    ),
    json_action!(
        "AdminCreateUser",
        Auth::Operator,
        super::idp::admin::admin_create_user
    ),
    json_action!(
        "AdminGetUser",
        Auth::Operator,
        super::idp::admin::admin_get_user
    ),
    json_action!(
        "AdminUpdateUserAttributes",
        Auth::Operator,
        super::idp::admin::admin_update_user_attributes
    ),
    json_action!(
        "AdminDeleteUserAttributes",
        Auth::Operator,
        super::idp::admin::admin_delete_user_attributes
    ),
    json_action!(
        "AdminDeleteUser",
        Auth::Operator,
        super::idp::admin::admin_delete_user
    ),
    json_action!(
        "AdminDisableUser",
        Auth::Operator,
        super::idp::admin::admin_disable_user
    ),
    json_action!(
        "AdminEnableUser",
        Auth::Operator,
        super::idp::admin::admin_enable_user
    ),
    json_action!(
        "AdminSetUserPassword",
        Auth::Operator,
        super::idp::admin::admin_set_user_password
    ),
    json_action!(
        "AdminResetUserPassword",
        Auth::Operator,
        super::idp::admin::admin_reset_user_password
    ),
    json_action!(
        "AdminConfirmSignUp",
        Auth::Operator,
        super::idp::admin::admin_confirm_sign_up
    ),
    json_action!(
        "AdminUserGlobalSignOut",
        Auth::Operator,
        super::idp::admin::admin_user_global_sign_out
    ),
    json_action!(
        "AdminListUserAuthEvents",
        Auth::Operator,
        super::idp::events::admin_list_user_auth_events
    ),
    json_action!(
        "AdminUpdateAuthEventFeedback",
        Auth::Operator,
        super::idp::events::admin_update_auth_event_feedback
    ),
    json_action!(
        "AdminLinkProviderForUser",
        Auth::Operator,
        super::idp::admin::admin_link_provider_for_user
    ),
    json_action!(
        "AdminDisableProviderForUser",
        Auth::Operator,
        super::idp::admin::admin_disable_provider_for_user
    ),
    json_action!(
        "CreateGroup",
        Auth::Operator,
        super::idp::groups::create_group
    ),
    json_action!("GetGroup", Auth::Operator, super::idp::groups::get_group),
    json_action!(
        "UpdateGroup",
        Auth::Operator,
        super::idp::groups::update_group
    ),
    json_action!(
        "DeleteGroup",
        Auth::Operator,
        super::idp::groups::delete_group
    ),
    json_action!(
        "ListGroups",
        Auth::Operator,
        super::idp::groups::list_groups
    ),
    json_action!(
        "AdminAddUserToGroup",
        Auth::Operator,
        super::idp::groups::admin_add_user_to_group
    ),
    json_action!(
        "AdminRemoveUserFromGroup",
        Auth::Operator,
        super::idp::groups::admin_remove_user_from_group
    ),
    json_action!(
        "AdminListGroupsForUser",
        Auth::Operator,
        super::idp::groups::admin_list_groups_for_user
    ),
    json_action!(
        "ListUsersInGroup",
        Auth::Operator,
        super::idp::groups::list_users_in_group
    ),
    json_action!("ListUsers", Auth::Operator, super::idp::list::list_users),
    json_action!(
        "CreateUserPool",
        Auth::Operator,
        super::idp::pools::create_user_pool
    ),
    json_action!(
        "DescribeUserPool",
        Auth::Operator,
        super::idp::pools::describe_user_pool
    ),
    json_action!(
        "UpdateUserPool",
        Auth::Operator,
        super::idp::pools::update_user_pool
    ),
    json_action!(
        "DeleteUserPool",
        Auth::Operator,
        super::idp::pools::delete_user_pool
    ),
    json_action!(
        "ListUserPools",
        Auth::Operator,
        super::idp::pools::list_user_pools
    ),
    json_action!(
        "AddCustomAttributes",
        Auth::Operator,
        super::idp::pools::add_custom_attributes
    ),
    json_action!(
        "GetSigningCertificate",
        Auth::Operator,
        super::idp::pools::get_signing_certificate
    ),
    json_action!(
        "SetUserPoolMfaConfig",
        Auth::Operator,
        super::idp::pools::set_user_pool_mfa_config
    ),
    json_action!(
        "GetUserPoolMfaConfig",
        Auth::Operator,
        super::idp::pools::get_user_pool_mfa_config
    ),
    json_action!(
        "SetRiskConfiguration",
        Auth::Operator,
        super::idp::pools::set_risk_configuration
    ),
    json_action!(
        "DescribeRiskConfiguration",
        Auth::Operator,
        super::idp::pools::describe_risk_configuration
    ),
    json_action!(
        "CreateUserPoolClient",
        Auth::Operator,
        super::idp::clients::create_user_pool_client
    ),
    json_action!(
        "DescribeUserPoolClient",
        Auth::Operator,
        super::idp::clients::describe_user_pool_client
    ),
    json_action!(
        "UpdateUserPoolClient",
        Auth::Operator,
        super::idp::clients::update_user_pool_client
    ),
    json_action!(
        "DeleteUserPoolClient",
        Auth::Operator,
        super::idp::clients::delete_user_pool_client
    ),
    json_action!(
        "ListUserPoolClients",
        Auth::Operator,
        super::idp::clients::list_user_pool_clients
    ),
    json_action!(
        "CreateUserPoolDomain",
        Auth::Operator,
        super::idp::domains::create_user_pool_domain
    ),
    json_action!(
        "DescribeUserPoolDomain",
        Auth::Operator,
        super::idp::domains::describe_user_pool_domain
    ),
    json_action!(
        "UpdateUserPoolDomain",
        Auth::Operator,
        super::idp::domains::update_user_pool_domain
    ),
    json_action!(
        "DeleteUserPoolDomain",
        Auth::Operator,
        super::idp::domains::delete_user_pool_domain
    ),
    json_action!(
        "CreateResourceServer",
        Auth::Operator,
        super::idp::resource_servers::create_resource_server
    ),
    json_action!(
        "DescribeResourceServer",
        Auth::Operator,
        super::idp::resource_servers::describe_resource_server
    ),
    json_action!(
        "UpdateResourceServer",
        Auth::Operator,
        super::idp::resource_servers::update_resource_server
    ),
    json_action!(
        "DeleteResourceServer",
        Auth::Operator,
        super::idp::resource_servers::delete_resource_server
    ),
    json_action!(
        "ListResourceServers",
        Auth::Operator,
        super::idp::resource_servers::list_resource_servers
    ),
    json_action!(
        "CreateIdentityProvider",
        Auth::Operator,
        super::idp::providers::create_identity_provider
    ),
    json_action!(
        "DescribeIdentityProvider",
        Auth::Operator,
        super::idp::providers::describe_identity_provider
    ),
    json_action!(
        "UpdateIdentityProvider",
        Auth::Operator,
        super::idp::providers::update_identity_provider
    ),
    json_action!(
        "DeleteIdentityProvider",
        Auth::Operator,
        super::idp::providers::delete_identity_provider
    ),
    json_action!(
        "ListIdentityProviders",
        Auth::Operator,
        super::idp::providers::list_identity_providers
    ),
    json_action!(
        "GetIdentityProviderByIdentifier",
        Auth::Operator,
        super::idp::providers::get_identity_provider_by_identifier
    ),
    json_action!(
        "SetUserMFAPreference",
        Auth::Public,
        super::idp::mfa::set_user_mfa_preference
    ),
    json_action!(
        "AdminSetUserMFAPreference",
        Auth::Operator,
        super::idp::mfa::admin_set_user_mfa_preference
    ),
    json_action!(
        "SetUserSettings",
        Auth::Public,
        super::idp::mfa::set_user_settings
    ),
    json_action!(
        "AdminSetUserSettings",
        Auth::Operator,
        super::idp::mfa::admin_set_user_settings
    ),
    json_action!(
        "StartWebAuthnRegistration",
        Auth::Public,
        super::idp::passkeys::start_web_authn_registration
    ),
    json_action!(
        "CompleteWebAuthnRegistration",
        Auth::Public,
        super::idp::passkeys::complete_web_authn_registration
    ),
    json_action!(
        "ListWebAuthnCredentials",
        Auth::Public,
        super::idp::passkeys::list_web_authn_credentials
    ),
    json_action!(
        "DeleteWebAuthnCredential",
        Auth::Public,
        super::idp::passkeys::delete_web_authn_credential
    ),
];

/// Every JSON API the endpoint serves.
pub const APIS: &[JsonApi] = &[
    JsonApi {
        prefix: IDENTITY_PREFIX,
        service: "cognito-identity",
        actions: IDENTITY_ACTIONS,
    },
    JsonApi {
        prefix: IDP_PREFIX,
        service: "cognito-idp",
        actions: IDP_ACTIONS,
    },
];

/// The API of a target's prefix and the action's name (`None` for a target that is not
/// `<prefix>.<action>` of a served API).
pub fn api_of(target: &str) -> Option<(&'static JsonApi, &str)> {
    let (prefix, action) = target.split_once('.')?;
    let api = APIS.iter().find(|api| api.prefix == prefix)?;
    Some((api, action))
}

/// An action of `actions` by its exact name.
pub fn find<'t>(actions: &'t [JsonAction], name: &str) -> Option<&'t JsonAction> {
    actions.iter().find(|a| a.name == name)
}

/// The body as a JSON object: an empty body counts as `{}` (some clients send none for
/// an input without members); anything else that is not an object is refused.
pub fn parse_body(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("The request body must be a JSON object.".into()),
        Err(_) => Err("The request body is not valid JSON.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo(_: &AppState, _: &AwsCall, input: Value) -> Result<Value, AwsError> {
        Ok(input)
    }

    const TABLE: &[JsonAction] = &[json_action!("Echo", Auth::Operator, echo)];

    #[test]
    fn targets_route_by_prefix() {
        let (api, action) = api_of("AWSCognitoIdentityService.GetId").unwrap();
        assert_eq!(api.service, "cognito-identity");
        assert_eq!(action, "GetId");
        let (api, action) = api_of("AWSCognitoIdentityProviderService.InitiateAuth").unwrap();
        assert_eq!(api.service, "cognito-idp");
        assert_eq!(action, "InitiateAuth");
        for bad in [
            "DynamoDB_20120810.GetItem",
            "AWSCognitoIdentityService",
            "",
            ".",
        ] {
            assert!(api_of(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn actions_are_found_by_exact_name() {
        let a = find(TABLE, "Echo").unwrap();
        assert_eq!(a.auth, Auth::Operator);
        assert!(find(TABLE, "echo").is_none());
        assert!(find(TABLE, "Echo2").is_none());
    }

    #[test]
    fn bodies_must_be_objects() {
        assert_eq!(parse_body(b"").unwrap(), serde_json::json!({}));
        assert_eq!(
            parse_body(b"{\"A\":1}").unwrap(),
            serde_json::json!({"A": 1})
        );
        for bad in [&b"[1]"[..], b"\"x\"", b"{", b"Action=GetId", b"null"] {
            assert!(parse_body(bad).is_err());
        }
    }
}
