//! STS's query protocol: a form body (`Action=<Action>&Version=2011-06-15&...`), XML
//! answers in the `https://sts.amazonaws.com/doc/2011-06-15/` namespace:
//! `<XResponse><XResult>...</XResult><ResponseMetadata><RequestId>`.
//!
//! Actions are [`StsAction`]s in [`ACTIONS`]; a handler returns the inner XML of its
//! `<XResult>` (built with [`XmlOut`], which escapes every text). To add one:
//!
//! ```ignore
//! async fn assume_role_with_web_identity(state: &AppState, call: &AwsCall, params: &StsParams)
//!     -> Result<XmlOut, AwsError>
//! ```
//!
//! and list it: `sts_action!("AssumeRoleWithWebIdentity", Auth::Public, that_fn)`.
//!
//! Implemented: `GetCallerIdentity` for operator keys (either purpose: naming oneself
//! manages nothing). Its `Arn` is `arn:aws:iam::<account>:user/<access key id>`, its
//! `UserId` the access key id, `Account` the `[server] account_id`. For vended session
//! credentials (P3, [`Auth::AnySigned`]): `arn:aws:sts::<role's account>:assumed-role/<role
//! name>/CognitoIdentityCredentials`, `UserId` `AROA...:CognitoIdentityCredentials` (the
//! sealed grant records no session name, so every session shows Cognito's).
//! `AssumeRoleWithWebIdentity` (P3, unsigned) with the identity service's OpenID tokens:
//! see [`crate::core::identity_pools::sts`].

use futures::future::BoxFuture;

use super::json::Auth;
use super::{AwsCall, AwsError, Caller, Protocol};
use crate::core::identity_pools::sts as id_sts;
use crate::federation::saml::sp::xml_escape;
use crate::web::AppState;

/// The only API version STS has.
pub const VERSION: &str = "2011-06-15";
/// The namespace of every answer.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The SigV4 service name STS requests are scoped to.
pub const SERVICE: &str = "sts";

/// The form's fields, in order (a name may repeat, as list members do).
#[derive(Debug, Clone, Default)]
pub struct StsParams(pub Vec<(String, String)>);

impl StsParams {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// XML text for inside a `<XResult>`: elements whose text is escaped as it is added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlOut(String);

impl XmlOut {
    pub fn new() -> Self {
        XmlOut::default()
    }

    /// Adds `<name>text</name>` (`name` is the caller's constant; `text` is escaped).
    pub fn text(mut self, name: &str, text: &str) -> Self {
        self.0
            .push_str(&format!("<{name}>{}</{name}>", xml_escape(text)));
        self
    }

    /// Adds `<name>...</name>` around another fragment.
    pub fn element(mut self, name: &str, inner: XmlOut) -> Self {
        self.0.push_str(&format!("<{name}>{}</{name}>", inner.0));
        self
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An STS action's handler.
pub type StsHandler =
    for<'a> fn(&'a AppState, &'a AwsCall, &'a StsParams) -> BoxFuture<'a, Result<XmlOut, AwsError>>;

/// One STS action.
#[derive(Clone, Copy)]
pub struct StsAction {
    pub name: &'static str,
    pub auth: Auth,
    pub run: StsHandler,
}

/// An [`StsAction`] from an `async fn(&AppState, &AwsCall, &StsParams) -> Result<XmlOut,
/// AwsError>`.
#[macro_export]
macro_rules! sts_action {
    ($name:literal, $auth:expr, $handler:path) => {
        $crate::web::aws::sts::StsAction {
            name: $name,
            auth: $auth,
            run: {
                fn run<'a>(
                    state: &'a $crate::web::AppState,
                    call: &'a $crate::web::aws::AwsCall,
                    params: &'a $crate::web::aws::sts::StsParams,
                ) -> ::futures::future::BoxFuture<
                    'a,
                    Result<$crate::web::aws::sts::XmlOut, $crate::web::aws::AwsError>,
                > {
                    Box::pin($handler(state, call, params))
                }
                run
            },
        }
    };
}

/// The STS actions served.
pub const ACTIONS: &[StsAction] = &[
    crate::sts_action!("GetCallerIdentity", Auth::AnySigned, get_caller_identity),
    // P3: the classic identity-pool flow's second step.
    crate::sts_action!(
        "AssumeRoleWithWebIdentity",
        Auth::Public,
        assume_role_with_web_identity
    ),
];

/// The action of the form, after checking its `Version`.
pub fn action_of(params: &StsParams) -> Result<&str, AwsError> {
    let Some(action) = params.get("Action") else {
        return Err(AwsError::bad_request(
            "MissingAction",
            "The request must contain the parameter Action.",
        ));
    };
    match params.get("Version") {
        Some(VERSION) => Ok(action),
        Some(_) => Err(AwsError::unknown_operation(Protocol::Query, action)),
        None => Err(AwsError::bad_request(
            "MissingParameter",
            "The request must contain the parameter Version.",
        )),
    }
}

/// `<{action}Response>` around the result and the request id.
pub fn render_result(action: &str, result: &XmlOut, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        result.as_str(),
        xml_escape(request_id)
    )
}

/// GetCallerIdentity: who signed the request.
async fn get_caller_identity(
    state: &AppState,
    call: &AwsCall,
    _params: &StsParams,
) -> Result<XmlOut, AwsError> {
    let account = &state.node.config.server.account_id;
    match &call.caller {
        Caller::Operator { access_key_id, .. } => Ok(XmlOut::new()
            .text(
                "Arn",
                &format!("arn:aws:iam::{account}:user/{access_key_id}"),
            )
            .text("UserId", access_key_id)
            .text("Account", account)),
        // P3: vended credentials name their assumed role. The grant does not record the
        // session name, so it is Cognito's for vended credentials.
        Caller::Session { grant, .. } => {
            let arn = id_sts::assumed_role_arn(grant, SESSION_NAME).ok_or_else(|| {
                AwsError::internal(Protocol::Query, "a session's role ARN does not parse")
            })?;
            let account = id_sts::role_name_and_account(&grant.role_arn)
                .map(|(_, a)| a.to_string())
                .unwrap_or_else(|| account.clone());
            Ok(XmlOut::new()
                .text("Arn", &arn)
                .text(
                    "UserId",
                    &format!("{}:{SESSION_NAME}", id_sts::role_id(&grant.role_arn)),
                )
                .text("Account", &account))
        }
        Caller::Unsigned => Err(AwsError::sigv4(
            Protocol::Query,
            &crate::core::sigv4::SigV4Error::MissingAuthentication,
        )),
    }
}

/// The session name GetCallerIdentity shows for vended credentials (Cognito's for
/// GetCredentialsForIdentity; the sealed grant keeps no name of its own).
pub const SESSION_NAME: &str = "CognitoIdentityCredentials";

/// ISO 8601 UTC, as STS writes `Expiration`.
fn iso8601(t: crate::core::UnixTime) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A required form field.
fn required<'a>(params: &'a StsParams, name: &str) -> Result<&'a str, AwsError> {
    params.get(name).ok_or_else(|| {
        AwsError::bad_request(
            "MissingParameter",
            format!("The request must contain the parameter {name}."),
        )
    })
}

/// P3: AssumeRoleWithWebIdentity with an OpenID token of the identity service
/// ([`crate::core::identity_pools::sts`]); unsigned, as in AWS.
async fn assume_role_with_web_identity(
    state: &AppState,
    call: &AwsCall,
    params: &StsParams,
) -> Result<XmlOut, AwsError> {
    use axum::http::StatusCode;
    let duration_secs = match params.get("DurationSeconds") {
        None => None,
        Some(d) => Some(d.parse::<i64>().map_err(|_| {
            AwsError::bad_request("ValidationError", "DurationSeconds must be an integer.")
        })?),
    };
    let req = id_sts::WebIdentityRequest {
        role_arn: required(params, "RoleArn")?,
        role_session_name: required(params, "RoleSessionName")?,
        web_identity_token: required(params, "WebIdentityToken")?,
        duration_secs,
    };
    let assumed = id_sts::assume_role_with_web_identity(
        &state.node.store,
        &state.node.master,
        &state.node.identity_tokens,
        &req,
        call.now,
    )
    .await
    .map_err(|e| match e {
        id_sts::StsError::Validation(m) => AwsError::bad_request("ValidationError", m),
        id_sts::StsError::InvalidToken(why) => {
            tracing::info!(%why, "STS: web identity token refused");
            AwsError::bad_request(
                "InvalidIdentityToken",
                "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.",
            )
        }
        id_sts::StsError::ExpiredToken => AwsError::bad_request(
            "ExpiredTokenException",
            "Token expired: current date/time is later than the token's expiry.",
        ),
        id_sts::StsError::AccessDenied(why) => {
            tracing::info!(why, role = req.role_arn, "STS: AssumeRoleWithWebIdentity denied");
            AwsError::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            )
        }
        e @ (id_sts::StsError::Store(_) | id_sts::StsError::Keys(_)) => {
            AwsError::internal(Protocol::Query, e)
        }
    })?;
    let c = &assumed.credentials;
    Ok(XmlOut::new()
        .element(
            "Credentials",
            XmlOut::new()
                .text("AccessKeyId", &c.access_key_id)
                .text("SecretAccessKey", c.secret_access_key.expose())
                .text("SessionToken", &c.session_token)
                .text("Expiration", &iso8601(c.expiration)),
        )
        .text("SubjectFromWebIdentityToken", &assumed.subject)
        .element(
            "AssumedRoleUser",
            XmlOut::new()
                .text("Arn", &assumed.assumed_role_arn)
                .text("AssumedRoleId", &assumed.assumed_role_id),
        )
        .text("Audience", &assumed.audience)
        .text("Provider", state.node.identity_tokens.issuer()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> StsParams {
        StsParams(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn action_needs_the_version() {
        let p = params(&[("Action", "GetCallerIdentity"), ("Version", VERSION)]);
        assert_eq!(action_of(&p).unwrap(), "GetCallerIdentity");
        let old = params(&[("Action", "GetCallerIdentity"), ("Version", "2010-01-01")]);
        assert_eq!(action_of(&old).unwrap_err().code, "InvalidAction");
        let none = params(&[("Action", "GetCallerIdentity")]);
        assert_eq!(action_of(&none).unwrap_err().code, "MissingParameter");
        let no_action = params(&[("Version", VERSION)]);
        assert_eq!(action_of(&no_action).unwrap_err().code, "MissingAction");
    }

    #[test]
    fn results_are_escaped() {
        let out = XmlOut::new()
            .text("Arn", "a<b>&\"c\"")
            .element("Inner", XmlOut::new().text("X", "1"));
        let xml = render_result("GetCallerIdentity", &out, "req-1");
        assert_eq!(
            xml,
            format!("<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\"><GetCallerIdentityResult><Arn>a&lt;b&gt;&amp;&quot;c&quot;</Arn><Inner><X>1</X></Inner></GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>")
        );
    }
}
