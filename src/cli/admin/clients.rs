//! `cognate clients ...`: Cognito's CreateUserPoolClient, ListUserPoolClients,
//! DescribeUserPoolClient and DeleteUserPoolClient, with the same validation of callback
//! URLs, flows and scopes that `check-config` applies to `[[pools.clients]]`.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::{confirm, pretty, print_table, require_pool};
use crate::cli::{CliError, CliResult};
use crate::core::ids;
use crate::core::model::{AppClient, Branding, OAuthFlow, Origin, RefreshRotation, TokenValidity};
use crate::core::now;
use crate::core::secrets::client_secret_context;
use crate::core::storage::StoreError;
use crate::server::Node;

#[derive(Debug, Subcommand)]
pub enum ClientsCmd {
    /// Create an app client; prints its id, and its secret (once) with --generate-secret.
    Create(ClientCreateArgs),
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
}

/// OIDC and Cognito scopes a client may allow besides resource-server scopes.
const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];
/// Cognito's limits on redirect URL lists.
const MAX_URLS: usize = 100;

pub async fn clients(node: Node, cmd: ClientsCmd) -> CliResult {
    match cmd {
        ClientsCmd::Create(args) => create_client(&node, args).await,
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
                    vec![c.id, c.name, kind.to_string(), flows.join(",")]
                })
                .collect();
            print_table(&["ID", "NAME", "TYPE", "FLOWS"], &rows);
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
            node.store.delete_client(&client.id).await?;
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

async fn create_client(node: &Node, args: ClientCreateArgs) -> CliResult {
    let pool = require_pool(node, &args.pool).await?;
    let name = args.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(CliError(
            "--name: a client name must have 1 to 128 characters".into(),
        ));
    }
    check_urls("--callback-url", &args.callback_urls)?;
    check_urls("--logout-url", &args.logout_urls)?;

    let mut flows: Vec<OAuthFlow> = Vec::new();
    for f in &args.flows {
        let f = OAuthFlow::from(*f);
        if !flows.contains(&f) {
            flows.push(f);
        }
    }
    if flows.is_empty() && !args.callback_urls.is_empty() {
        flows.push(OAuthFlow::Code);
    }
    let machine = flows.contains(&OAuthFlow::ClientCredentials);
    if machine && flows.len() > 1 {
        return Err(CliError(
            "--flow: client_credentials cannot be combined with code or implicit (Cognito \
             rule); create a separate client for machine-to-machine access"
                .into(),
        ));
    }
    if machine && !args.generate_secret {
        return Err(CliError(
            "--flow client_credentials needs a confidential client: add --generate-secret".into(),
        ));
    }
    if !machine && !flows.is_empty() && args.callback_urls.is_empty() {
        return Err(CliError(
            "--callback-url: the code and implicit flows redirect to a callback URL; give at \
             least one"
                .into(),
        ));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in &args.scopes {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    if scopes.is_empty() && !flows.is_empty() && !machine {
        scopes = vec!["openid".into(), "email".into(), "profile".into()];
    }
    let declared: Vec<String> = node
        .store
        .list_resource_servers(&pool.id)
        .await?
        .iter()
        .flat_map(|rs| {
            rs.scopes
                .iter()
                .map(move |s| format!("{}/{}", rs.identifier, s.name))
        })
        .collect();
    check_scopes(&scopes, &declared, machine)?;

    let mut providers: Vec<String> = Vec::new();
    for p in &args.identity_providers {
        // Upstream IdPs are not stored yet, so the pool's own directory is the only one.
        if p != "COGNITO" {
            return Err(CliError(format!(
                "--identity-provider: {p:?} is not an identity provider of pool {}; use COGNITO \
                 (the pool's own directory)",
                pool.id
            )));
        }
        if !providers.contains(p) {
            providers.push(p.clone());
        }
    }
    if providers.is_empty() {
        providers.push("COGNITO".into());
    }

    let id = ids::new_client_id();
    let secret = args.generate_secret.then(ids::new_client_secret);
    let now = now();
    let client = AppClient {
        id: id.clone(),
        pool_id: pool.id.clone(),
        name: name.to_string(),
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
        created_at: now,
        updated_at: now,
    };
    node.store.put_client(&client).await.map_err(|e| match e {
        StoreError::MissingParent(_) => {
            CliError(format!("--pool: user pool {:?} does not exist", pool.id))
        }
        other => other.into(),
    })?;
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

/// Callback and logout URLs by Cognito's rule: absolute, no fragment, https except http on
/// a loopback host; a native app's custom scheme (`myapp://cb`) is allowed. The config
/// checker applies the same rule (`config::check::rules::check_redirect_url`, private there).
fn check_urls(flag: &str, urls: &[String]) -> CliResult {
    if urls.len() > MAX_URLS {
        return Err(CliError(format!(
            "{flag}: at most {MAX_URLS} URLs are allowed"
        )));
    }
    for (k, text) in urls.iter().enumerate() {
        if urls[..k].contains(text) {
            return Err(CliError(format!("{flag}: {text:?} is given twice")));
        }
        // The same rule as the configuration file's (Cognito's): https, or http on loopback.
        crate::config::check::check_redirect_url(text)
            .map_err(|(reason, fix)| CliError(format!("{flag}: {reason}; {fix}")))?;
    }
    Ok(())
}

fn check_scopes(scopes: &[String], declared: &[String], machine: bool) -> CliResult {
    if machine && scopes.is_empty() {
        return Err(CliError(
            "--scope: client_credentials needs at least one resource-server scope \
             (<identifier>/<scope>)"
                .into(),
        ));
    }
    let has_openid = scopes.iter().any(|s| s == "openid");
    for scope in scopes {
        let standard = STANDARD_SCOPES.contains(&scope.as_str());
        if !standard && !declared.contains(scope) {
            let mut known: Vec<&str> = STANDARD_SCOPES.to_vec();
            known.extend(declared.iter().map(String::as_str));
            return Err(CliError(format!(
                "--scope: {scope:?} is not a scope of this pool; use one of: {}",
                known.join(", ")
            )));
        }
        if standard && machine {
            return Err(CliError(format!(
                "--scope: client_credentials clients can only have resource-server scopes, not \
                 {scope:?}"
            )));
        }
        if matches!(scope.as_str(), "email" | "phone" | "profile") && !has_openid {
            return Err(CliError(format!(
                "--scope: the {scope} scope requires the openid scope (Cognito rule)"
            )));
        }
    }
    Ok(())
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
    });
    if let (Some(secret), Some(obj)) = (secret, out.as_object_mut()) {
        obj.insert("ClientSecret".into(), json!(secret));
    }
    json!({ "UserPoolClient": out })
}
