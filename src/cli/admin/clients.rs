//! `cognate clients ...`: Cognito's CreateUserPoolClient, UpdateUserPoolClient (the user
//! pools API's settings), ListUserPoolClients, DescribeUserPoolClient and
//! DeleteUserPoolClient. The client is checked by the core's
//! administration service ([`crate::core::admin`]), by the same rules `check-config`
//! applies to `[[pools.clients]]`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{admin, admin_error, confirm, pretty, print_table, require_pool};
use crate::cli::{CliError, CliResult};
use crate::core::ids;
use crate::core::model::{
    default_auth_flows, AppClient, AuthFlow, Branding, OAuthFlow, Origin, RefreshRotation,
    TokenValidity, UserExistenceErrors,
};
use crate::core::now;
use crate::core::secrets::client_secret_context;
use crate::server::Node;

#[derive(Debug, Subcommand)]
pub enum ClientsCmd {
    /// Create an app client; prints its id, and its secret (once) with --generate-secret.
    Create(ClientCreateArgs),
    /// Change an app client's user pools API settings (its explicit auth flows and how
    /// unknown users are answered).
    Update(ClientUpdateArgs),
    /// List a pool's app clients.
    List {
        #[arg(long)]
        pool: String,
    },
    /// Print a client as Cognito's DescribeUserPoolClient does, secret included.
    Describe {
        /// The client id.
        id: String,
    },
    /// Delete an app client.
    Delete {
        /// The client id.
        id: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowArg {
    #[value(name = "code")]
    Code,
    #[value(name = "implicit")]
    Implicit,
    #[value(name = "client_credentials", alias = "client-credentials")]
    ClientCredentials,
}

impl From<FlowArg> for OAuthFlow {
    fn from(f: FlowArg) -> Self {
        match f {
            FlowArg::Code => OAuthFlow::Code,
            FlowArg::Implicit => OAuthFlow::Implicit,
            FlowArg::ClientCredentials => OAuthFlow::ClientCredentials,
        }
    }
}

/// Cognito's `PreventUserExistenceErrors`, as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExistenceArg {
    /// Unknown users are answered as known ones (the default).
    #[value(name = "enabled", alias = "ENABLED")]
    Enabled,
    /// `UserNotFoundException` tells that a user does not exist (Cognito's LEGACY).
    #[value(name = "legacy", alias = "LEGACY")]
    Legacy,
}

impl From<ExistenceArg> for UserExistenceErrors {
    fn from(e: ExistenceArg) -> Self {
        match e {
            ExistenceArg::Enabled => UserExistenceErrors::Enabled,
            ExistenceArg::Legacy => UserExistenceErrors::Legacy,
        }
    }
}

/// The user pools API's settings of a client, shared by `create` and `update`.
#[derive(Debug, Args)]
pub struct ApiSettingsArgs {
    /// The user pools API's sign-in flows the client may use (Cognito's ExplicitAuthFlows),
    /// comma-separated: ALLOW_USER_SRP_AUTH, ALLOW_USER_PASSWORD_AUTH,
    /// ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH,
    /// ALLOW_CUSTOM_AUTH; '' for none (hosted UI only). Default at creation: Cognito's
    /// ALLOW_USER_SRP_AUTH,ALLOW_CUSTOM_AUTH,ALLOW_REFRESH_TOKEN_AUTH.
    #[arg(long, value_name = "FLOWS", value_parser = parse_auth_flows)]
    pub explicit_auth_flows: Option<AuthFlows>,
    /// How sign-in, sign-up and recovery answer for a user that does not exist (Cognito's
    /// PreventUserExistenceErrors): `enabled` (as for a known user; the default) or
    /// `legacy` (UserNotFoundException).
    #[arg(long, value_enum, value_name = "enabled|legacy")]
    pub prevent_user_existence_errors: Option<ExistenceArg>,
}

/// A parsed `--explicit-auth-flows` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFlows(pub Vec<AuthFlow>);

/// Parses `--explicit-auth-flows`: Cognito's names, comma-separated, in the order given
/// (a name given twice is left for the core's rules to refuse, as in the file).
fn parse_auth_flows(text: &str) -> Result<AuthFlows, String> {
    let mut flows = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let flow = AuthFlow::parse(name).ok_or_else(|| {
            let names: Vec<&str> = AuthFlow::ALL.iter().map(|f| f.as_str()).collect();
            format!(
                "{name:?} is not an auth flow: use {} (comma-separated; '' for none)",
                names.join(", ")
            )
        })?;
        flows.push(flow);
    }
    Ok(AuthFlows(flows))
}

#[derive(Debug, Args)]
pub struct ClientUpdateArgs {
    /// The client id.
    pub id: String,
    #[command(flatten)]
    pub api: ApiSettingsArgs,
}

#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    /// The pool the client belongs to.
    #[arg(long)]
    pub pool: String,
    /// The client's name (1 to 128 characters).
    #[arg(long)]
    pub name: String,
    /// Make a confidential client with a secret (printed once; `clients describe` shows it).
    #[arg(long)]
    pub generate_secret: bool,
    /// Where the authorization server may redirect after sign-in (repeatable): https, or
    /// http on localhost / 127.0.0.1 / [::1], or a native app's custom scheme.
    #[arg(long = "callback-url", value_name = "URL")]
    pub callback_urls: Vec<String>,
    /// Where the logout endpoint may redirect (repeatable); same rules as callback URLs.
    #[arg(long = "logout-url", value_name = "URL")]
    pub logout_urls: Vec<String>,
    /// An allowed OAuth flow (repeatable). Defaults to `code` when a callback URL is given.
    #[arg(long = "flow", value_enum, value_name = "FLOW")]
    pub flows: Vec<FlowArg>,
    /// An allowed scope (repeatable): openid, email, phone, profile,
    /// aws.cognito.signin.user.admin or <resource server>/<scope>. Defaults to openid,
    /// email and profile for the code and implicit flows.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// An identity provider users of this client sign in with (repeatable; default COGNITO).
    #[arg(long = "identity-provider", value_name = "NAME")]
    pub identity_providers: Vec<String>,
    /// Require PKCE on the code flow (default: true for public clients, false with a secret).
    #[arg(long, value_name = "true|false", action = clap::ArgAction::Set)]
    pub require_pkce: Option<bool>,
    #[command(flatten)]
    pub api: ApiSettingsArgs,
}

pub async fn clients(node: Node, cmd: ClientsCmd) -> CliResult {
    match cmd {
        ClientsCmd::Create(args) => create_client(&node, args).await,
        ClientsCmd::Update(args) => update_client(&node, args).await,
        ClientsCmd::List { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let rows: Vec<Vec<String>> = node
                .store
                .list_clients(&pool.id)
                .await?
                .into_iter()
                .map(|c| {
                    let kind = if c.is_confidential() {
                        "confidential"
                    } else {
                        "public"
                    };
                    let flows: Vec<&str> = c
                        .allowed_oauth_flows
                        .iter()
                        .map(|f| flow_name(*f))
                        .collect();
                    let auth_flows: Vec<&str> =
                        c.explicit_auth_flows.iter().map(|f| f.as_str()).collect();
                    vec![
                        c.id,
                        c.name,
                        kind.to_string(),
                        flows.join(","),
                        auth_flows.join(","),
                        existence_name(c.prevent_user_existence_errors).to_string(),
                    ]
                })
                .collect();
            print_table(
                &[
                    "ID",
                    "NAME",
                    "TYPE",
                    "FLOWS",
                    "AUTH FLOWS",
                    "EXISTENCE ERRORS",
                ],
                &rows,
            );
            Ok(())
        }
        ClientsCmd::Describe { id } => {
            let client = require_client(&node, &id).await?;
            let secret = match &client.secret {
                Some(sealed) => Some(
                    node.master
                        .open_string(&client_secret_context(&client.id), sealed)
                        .map_err(|e| {
                            CliError(format!(
                                "the secret of client {} cannot be opened: {e}",
                                client.id
                            ))
                        })?,
                ),
                None => None,
            };
            let described = describe_client(&client, secret.as_ref().map(|s| s.expose()));
            println!("{}", pretty(&described)?);
            Ok(())
        }
        ClientsCmd::Delete { id, yes } => {
            let client = require_client(&node, &id).await?;
            confirm(yes, &format!("deleting app client {}", client.id))?;
            if client.origin == Origin::Config {
                eprintln!(
                    "warning: client {} is declared in the configuration file; the next apply \
                     or start recreates it unless you remove it there",
                    client.id
                );
            }
            admin(&node).delete_client(&client.id).await?;
            println!("deleted app client {}", client.id);
            Ok(())
        }
    }
}

async fn require_client(node: &Node, id: &str) -> Result<AppClient, CliError> {
    node.store.get_client(id).await?.ok_or_else(|| {
        CliError(format!(
            "app client {id:?} does not exist (see `cognate clients list --pool <id>`)"
        ))
    })
}

fn flow_name(flow: OAuthFlow) -> &'static str {
    match flow {
        OAuthFlow::Code => "code",
        OAuthFlow::Implicit => "implicit",
        OAuthFlow::ClientCredentials => "client_credentials",
    }
}

/// The `clients create` flag of a client field.
fn client_flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "name" => "--name",
        "callback_urls" => "--callback-url",
        "logout_urls" => "--logout-url",
        "allowed_oauth_flows" => "--flow",
        "allowed_oauth_scopes" => "--scope",
        "supported_identity_providers" => "--identity-provider",
        "explicit_auth_flows" => "--explicit-auth-flows",
        "prevent_user_existence_errors" => "--prevent-user-existence-errors",
        _ => return None,
    })
}

/// Keeps the first of each repeated value (repeating a flag is not an error).
fn distinct<T: PartialEq + Clone>(values: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

async fn create_client(node: &Node, args: ClientCreateArgs) -> CliResult {
    let pool = require_pool(node, &args.pool).await?;
    let mut flows: Vec<OAuthFlow> = distinct(args.flows.iter().map(|f| OAuthFlow::from(*f)));
    if flows.is_empty() && !args.callback_urls.is_empty() {
        flows.push(OAuthFlow::Code);
    }
    let machine = flows.contains(&OAuthFlow::ClientCredentials);
    let mut scopes: Vec<String> = distinct(args.scopes.iter().cloned());
    if scopes.is_empty() && !flows.is_empty() && !machine {
        scopes = vec!["openid".into(), "email".into(), "profile".into()];
    }
    let mut providers: Vec<String> = distinct(args.identity_providers.iter().cloned());
    if providers.is_empty() {
        providers.push("COGNITO".into());
    }

    let id = ids::new_client_id();
    let secret = args.generate_secret.then(ids::new_client_secret);
    let now = now();
    let client = AppClient {
        id: id.clone(),
        pool_id: pool.id.clone(),
        name: args.name.trim().to_string(),
        origin: Origin::Api,
        secret: secret
            .as_ref()
            .map(|s| node.master.seal(&client_secret_context(&id), s.as_bytes())),
        callback_urls: args.callback_urls.clone(),
        logout_urls: args.logout_urls.clone(),
        allowed_oauth_flows: flows,
        allowed_oauth_scopes: scopes,
        supported_identity_providers: providers,
        token_validity: TokenValidity::default(),
        refresh_rotation: RefreshRotation::default(),
        // A public client cannot keep a secret, so PKCE is its only code binding.
        require_pkce: args.require_pkce.unwrap_or(secret.is_none()),
        read_attributes: Vec::new(),
        write_attributes: Vec::new(),
        allowed_cors_origins: Vec::new(),
        branding: Branding::default(),
        explicit_auth_flows: args
            .api
            .explicit_auth_flows
            .map_or_else(default_auth_flows, |f| f.0),
        prevent_user_existence_errors: args
            .api
            .prevent_user_existence_errors
            .map(UserExistenceErrors::from)
            .unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    admin(node)
        .put_client(&client)
        .await
        .map_err(|e| admin_error(e, client_flag))?;
    println!("{id}");
    if let Some(secret) = secret {
        println!("{secret}");
        eprintln!(
            "created app client {id} in pool {}; line 2 is its secret (`cognate clients \
             describe {id}` shows it again)",
            pool.id
        );
    }
    Ok(())
}

/// UpdateUserPoolClient for the user pools API's settings: only the flags given change.
async fn update_client(node: &Node, args: ClientUpdateArgs) -> CliResult {
    let mut client = require_client(node, &args.id).await?;
    let ApiSettingsArgs {
        explicit_auth_flows,
        prevent_user_existence_errors,
    } = args.api;
    if explicit_auth_flows.is_none() && prevent_user_existence_errors.is_none() {
        return Err(CliError(
            "nothing to change: give --explicit-auth-flows and/or \
             --prevent-user-existence-errors"
                .into(),
        ));
    }
    if let Some(flows) = explicit_auth_flows {
        client.explicit_auth_flows = flows.0;
    }
    if let Some(existence) = prevent_user_existence_errors {
        client.prevent_user_existence_errors = existence.into();
    }
    client.updated_at = now();
    admin(node)
        .put_client(&client)
        .await
        .map_err(|e| admin_error(e, client_flag))?;
    if client.origin == Origin::Config {
        eprintln!(
            "warning: client {} is declared in the configuration file; the next apply or \
             start puts back the file's settings unless you change them there",
            client.id
        );
    }
    println!("updated app client {}", client.id);
    Ok(())
}

/// Cognito's name of a `PreventUserExistenceErrors` value.
fn existence_name(e: UserExistenceErrors) -> &'static str {
    match e {
        UserExistenceErrors::Enabled => "ENABLED",
        UserExistenceErrors::Legacy => "LEGACY",
    }
}

/// A client in the shape of Cognito's `DescribeUserPoolClient` response (token
/// validities in seconds), plus Cognate's own settings.
fn describe_client(c: &AppClient, secret: Option<&str>) -> serde_json::Value {
    let mut out = json!({
        "UserPoolId": c.pool_id,
        "ClientName": c.name,
        "ClientId": c.id,
        "LastModifiedDate": c.updated_at,
        "CreationDate": c.created_at,
        "IdTokenValidity": c.token_validity.id_token_secs,
        "AccessTokenValidity": c.token_validity.access_token_secs,
        "RefreshTokenValidity": c.token_validity.refresh_token_secs,
        "TokenValidityUnits": {
            "IdToken": "seconds", "AccessToken": "seconds", "RefreshToken": "seconds"
        },
        "ReadAttributes": c.read_attributes,
        "WriteAttributes": c.write_attributes,
        "SupportedIdentityProviders": c.supported_identity_providers,
        "CallbackURLs": c.callback_urls,
        "LogoutURLs": c.logout_urls,
        "AllowedOAuthFlows": c.allowed_oauth_flows.iter().map(|f| flow_name(*f)).collect::<Vec<_>>(),
        "AllowedOAuthScopes": c.allowed_oauth_scopes,
        "AllowedOAuthFlowsUserPoolClient": !c.allowed_oauth_flows.is_empty(),
        "EnableTokenRevocation": true,
        "RefreshTokenRotation": {
            "Feature": if c.refresh_rotation.enabled { "ENABLED" } else { "DISABLED" },
            "RetryGracePeriodSeconds": c.refresh_rotation.grace_period_secs,
        },
        "RequirePkce": c.require_pkce,
        "AllowedCorsOrigins": c.allowed_cors_origins,
        "ExplicitAuthFlows": c.explicit_auth_flows.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "PreventUserExistenceErrors": existence_name(c.prevent_user_existence_errors),
    });
    if let (Some(secret), Some(obj)) = (secret, out.as_object_mut()) {
        obj.insert("ClientSecret".into(), json!(secret));
    }
    json!({ "UserPoolClient": out })
}
