//! `cognate idps ...`: a pool's identity providers, as Cognito's CreateIdentityProvider,
//! ListIdentityProviders and DeleteIdentityProvider. `add` takes SAML 2.0 providers from
//! their IdP's metadata file (the OpenID Connect and social presets are declared in the
//! configuration file, where their secrets are named by environment variables). The
//! provider is resolved as a `[[pools.identity_providers]]` declaration is (the `saml`
//! preset with the metadata and the flags over it) and checked by the core's
//! administration service, by the rules `check-config` applies to the file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{admin, confirm, iso, print_table, require_pool};
use crate::cli::{CliError, CliResult};
use crate::config::decl::IdpDecl;
use crate::core::admin::{AdminError, FieldError};
use crate::core::model::{Origin, ProtocolSettings, SamlBinding};
use crate::core::now;
use crate::federation::http::for_log_str;
use crate::federation::presets;
use crate::federation::saml::metadata::{self, IdpMetadata, MAX_METADATA_BYTES};
use crate::federation::saml::remote;
use crate::server::Node;

#[derive(Debug, Subcommand)]
pub enum IdpsCmd {
    /// Add a SAML 2.0 identity provider to a pool from its IdP's metadata file; prints
    /// its name.
    Add(IdpAddArgs),
    /// List a pool's identity providers.
    List {
        #[arg(long)]
        pool: String,
    },
    /// Delete an identity provider from a pool (its users stay, unlinked from it).
    Delete {
        #[arg(long)]
        pool: String,
        /// The provider's name.
        #[arg(long)]
        name: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Fetch a SAML provider's metadata_url now and report what it says (entity id,
    /// endpoints, signing certificates with their fingerprints and expiry) and whether it
    /// differs from the stored copy. Stores nothing.
    Check {
        #[arg(long)]
        pool: String,
        /// The provider's name.
        #[arg(long)]
        name: String,
    },
}

/// The binding AuthnRequests go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BindingArg {
    Redirect,
    Post,
}

impl From<BindingArg> for SamlBinding {
    fn from(b: BindingArg) -> Self {
        match b {
            BindingArg::Redirect => SamlBinding::Redirect,
            BindingArg::Post => SamlBinding::Post,
        }
    }
}

#[derive(Debug, Args)]
pub struct IdpAddArgs {
    #[arg(long)]
    pub pool: String,
    /// The provider's name (3 to 32 letters, digits, . or -; `_` only as the second
    /// character). Federated users are named `<name>_<id>`.
    #[arg(long)]
    pub name: String,
    /// The provider preset: `saml` (the others are declared in the configuration file).
    #[arg(long)]
    pub preset: String,
    /// The IdP's SAML 2.0 metadata XML (entity id, SSO endpoints, signing certificates).
    #[arg(long, value_name = "PATH")]
    pub metadata_file: Option<PathBuf>,
    /// An email domain routing sign-ins here (`idp_identifier`; repeatable).
    #[arg(long = "identifier", value_name = "DOMAIN")]
    pub identifiers: Vec<String>,
    /// The hosted UI's button text (default: the name).
    #[arg(long)]
    pub display_name: Option<String>,
    /// The attribute whose value is the user id instead of the NameID (needed for an IdP
    /// sending transient NameIDs).
    #[arg(long, value_name = "ATTRIBUTE")]
    pub user_id_attribute: Option<String>,
    /// Accept RSA-SHA1 signatures and SHA-1 digests from this IdP (old IdPs only).
    #[arg(long)]
    pub allow_sha1: bool,
    /// Accept AES-CBC encrypted assertions from this IdP (AES-GCM is always accepted).
    #[arg(long)]
    pub allow_aes_cbc: bool,
    /// How AuthnRequests are sent (default: redirect when the metadata offers it, else
    /// post).
    #[arg(long, value_enum)]
    pub request_binding: Option<BindingArg>,
    /// Sign AuthnRequests even if the metadata does not ask for it.
    #[arg(long)]
    pub sign_requests: bool,
    /// The attribute holding the user's groups at the IdP.
    #[arg(long, value_name = "ATTRIBUTE")]
    pub groups_attribute: Option<String>,
    /// An IdP group value granting a directory group, `IDP_VALUE=GROUP` (repeatable).
    #[arg(long = "group-mapping", value_name = "IDP_VALUE=GROUP")]
    pub group_mappings: Vec<String>,
}

pub async fn idps(node: Node, cmd: IdpsCmd) -> CliResult {
    match cmd {
        IdpsCmd::Add(args) => add(&node, args).await,
        IdpsCmd::Check { pool, name } => check(&node, &pool, &name).await,
        IdpsCmd::List { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let rows: Vec<Vec<String>> = pool
                .identity_providers
                .iter()
                .map(|p| {
                    let upstream = match &p.protocol {
                        ProtocolSettings::Saml(saml) => saml.entity_id.clone(),
                        ProtocolSettings::Oidc(oidc) => oidc.issuer.clone().unwrap_or_default(),
                        ProtocolSettings::OAuth2(oauth2) => {
                            oauth2.endpoints.token.clone().unwrap_or_default()
                        }
                    };
                    vec![
                        p.name.clone(),
                        p.provider_type.as_str().to_string(),
                        match p.origin {
                            Origin::Config => "config",
                            Origin::Api => "api",
                        }
                        .to_string(),
                        p.identifiers.join(","),
                        upstream,
                    ]
                })
                .collect();
            print_table(
                &[
                    "NAME",
                    "TYPE",
                    "ORIGIN",
                    "IDENTIFIERS",
                    "ISSUER / ENTITY ID",
                ],
                &rows,
            );
            Ok(())
        }
        IdpsCmd::Delete { pool, name, yes } => {
            let pool = require_pool(&node, &pool).await?;
            let Some(idp) = pool.identity_provider(&name) else {
                return Err(CliError(format!(
                    "--name: identity provider {name:?} does not exist in pool {} (see \
                     `cognate idps list --pool {}`)",
                    pool.id, pool.id
                )));
            };
            confirm(yes, &format!("deleting identity provider {name:?}"))?;
            if idp.origin == Origin::Config {
                let file = node
                    .config
                    .source
                    .as_ref()
                    .map(|f| format!(" ({})", f.display()))
                    .unwrap_or_default();
                eprintln!(
                    "warning: identity provider {name} is declared in the configuration \
                     file{file}; the next apply or start recreates it unless you remove it \
                     there"
                );
            }
            admin(&node)
                .remove_identity_provider(&pool.id, &name, now())
                .await
                .map_err(|e| CliError(e.to_string()))?;
            println!("deleted identity provider {name}");
            Ok(())
        }
    }
}

/// `idps check`: fetches the provider's metadata URL and compares it with the stored copy.
async fn check(node: &Node, pool: &str, name: &str) -> CliResult {
    let pool = require_pool(node, pool).await?;
    let Some(idp) = pool.identity_provider(name) else {
        return Err(CliError(format!(
            "--name: identity provider {name:?} does not exist in pool {} (see `cognate idps \
             list --pool {}`)",
            pool.id, pool.id
        )));
    };
    let Some(saml) = idp.protocol.as_saml() else {
        return Err(CliError(format!(
            "--name: identity provider {name} is not a SAML provider; only SAML metadata \
             URLs are checked"
        )));
    };
    let Some(url) = &saml.metadata_url else {
        return Err(CliError(format!(
            "--name: identity provider {name} has no metadata_url (its metadata was given \
             inline or as a file); nothing to fetch"
        )));
    };
    let fresh = remote::fetch(&node.idp_http, url)
        .await
        .map_err(|e| CliError(format!("fetching the metadata of {name} failed: {e}")))?;
    let at = now();
    println!("identity provider {name} of pool {}", pool.id);
    println!("metadata URL: {}", for_log_str(url));
    println!("entity id: {}", fresh.entity_id);
    for (what, value) in [
        ("SSO HTTP-Redirect", &fresh.sso_redirect_url),
        ("SSO HTTP-POST", &fresh.sso_post_url),
        ("SLO HTTP-Redirect", &fresh.slo_redirect_url),
    ] {
        println!("{what}: {}", value.as_deref().unwrap_or("-"));
    }
    println!(
        "WantAuthnRequestsSigned: {}",
        fresh.want_authn_requests_signed
    );
    for (n, cert) in fresh.signing_certificates.iter().enumerate() {
        let stored = if saml.signing_certificates.contains(cert) {
            "stored"
        } else {
            "NEW"
        };
        match metadata::certificate_summary(cert) {
            Some(c) => println!(
                "signing certificate {}: SHA-256 {}; subject {}; expires {}{}; {stored}",
                n + 1,
                c.sha256,
                c.subject,
                iso(c.not_after),
                if c.not_after < at { " (EXPIRED)" } else { "" }
            ),
            None => println!("signing certificate {}: unreadable; {stored}", n + 1),
        }
    }
    let removed = saml
        .signing_certificates
        .iter()
        .filter(|c| !fresh.signing_certificates.contains(c))
        .count();
    if removed > 0 {
        println!("{removed} stored signing certificate(s) are no longer in the metadata");
    }
    let mut differs = Vec::new();
    if fresh.entity_id != saml.entity_id {
        differs.push(format!(
            "entity id (stored {:?}; a refresh refuses this copy)",
            saml.entity_id
        ));
    }
    if fresh.sso_redirect_url != saml.sso_redirect_url
        || fresh.sso_post_url != saml.sso_post_url
        || fresh.slo_redirect_url != saml.slo_redirect_url
    {
        differs.push("endpoints".to_string());
    }
    if fresh.signing_certificates != saml.signing_certificates {
        differs.push("signing certificates".to_string());
    }
    if differs.is_empty() {
        println!("same as the stored copy");
    } else {
        println!("differs from the stored copy: {}", differs.join(", "));
    }
    Ok(())
}

async fn add(node: &Node, args: IdpAddArgs) -> CliResult {
    if args.preset != "saml" {
        return Err(CliError(match presets::get(&args.preset) {
            Some(_) => format!(
                "--preset: the command line adds SAML providers (--preset saml); declare \
                 providers of preset {} in the configuration file \
                 ([[pools.identity_providers]]), where their secret is named by an \
                 environment variable",
                args.preset
            ),
            None => format!(
                "--preset: {:?} is not a provider preset (use saml here; the configuration \
                 file also takes {})",
                args.preset,
                presets::names()
                    .into_iter()
                    .filter(|n| *n != "saml")
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }));
    }
    let Some(file) = &args.metadata_file else {
        return Err(CliError(
            "--metadata-file: a SAML provider is added from its IdP's metadata XML; give \
             --metadata-file <PATH>"
                .into(),
        ));
    };
    let parsed = read_metadata(file)?;
    let mut group_mapping = BTreeMap::new();
    for spec in &args.group_mappings {
        let Some((value, group)) = spec.split_once('=') else {
            return Err(CliError(format!(
                "--group-mapping: {spec:?} is not IDP_VALUE=GROUP (e.g. Engineering=staff)"
            )));
        };
        group_mapping.insert(value.to_string(), group.to_string());
    }
    let pool = require_pool(node, &args.pool).await?;
    let decl = IdpDecl {
        name: args.name.clone(),
        preset: args.preset.clone(),
        identifiers: args.identifiers.clone(),
        display_name: args.display_name.clone(),
        user_id_attribute: args.user_id_attribute.clone(),
        allow_sha1: Some(args.allow_sha1),
        allow_aes_cbc: Some(args.allow_aes_cbc),
        request_binding: args.request_binding.map(SamlBinding::from),
        sign_requests: args.sign_requests.then_some(true),
        groups_attribute: args.groups_attribute.clone(),
        group_mapping: (!group_mapping.is_empty()).then_some(group_mapping),
        saml_metadata: Some(parsed.clone()),
        ..IdpDecl::default()
    };
    let now = now();
    let mut record = decl
        .to_record(None, None, now, None)
        .ok_or_else(|| CliError("--preset: the saml preset is missing".into()))?;
    record.origin = Origin::Api;
    admin(node)
        .add_identity_provider(&pool.id, record, now)
        .await
        .map_err(|e| match e {
            AdminError::Exists { id, .. } => CliError(format!(
                "--name: identity provider {id:?} already exists in pool {} (see `cognate \
                 idps list --pool {}`)",
                pool.id, pool.id
            )),
            AdminError::Invalid { errors, .. } => refusal(&errors, file),
            other => CliError(other.to_string()),
        })?;
    println!("{}", args.name);
    let public = node.config.public_url();
    eprintln!(
        "added SAML provider {} to pool {}: {parsed}\n\
         register Cognate at the IdP: SP metadata {public}/saml2/metadata/{pool_id}, ACS \
         {public}/saml2/idpresponse, SP entity id urn:amazon:cognito:sp:{pool_id}",
        args.name,
        pool.id,
        pool_id = pool.id
    );
    Ok(())
}

/// The metadata file, read (at most [`MAX_METADATA_BYTES`]) and parsed.
fn read_metadata(file: &Path) -> Result<IdpMetadata, CliError> {
    let shown = file.display();
    let cannot = |e: std::io::Error| CliError(format!("--metadata-file: cannot read {shown}: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .map_err(cannot)?
        .take(MAX_METADATA_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| CliError(format!("--metadata-file: {shown} is not UTF-8 text")))?;
    metadata::parse(&text).map_err(|e| CliError(format!("--metadata-file {shown}: {e}")))
}

/// The core's refusal, one line per field, each naming the flag its value came from.
fn refusal(errors: &[FieldError], file: &Path) -> CliError {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let field = e.path.strip_prefix("protocol.").unwrap_or(&e.path);
            let top = field.split(['.', '[']).next().unwrap_or(field);
            let flag = match top {
                "name" => "--name".to_string(),
                "identifiers" => "--identifier".to_string(),
                "display_name" => "--display-name".to_string(),
                "request_binding" => "--request-binding".to_string(),
                "user_id_attribute" => "--user-id-attribute".to_string(),
                "groups_attribute" => "--groups-attribute".to_string(),
                "group_mapping" => "--group-mapping".to_string(),
                "entity_id"
                | "sso_redirect_url"
                | "sso_post_url"
                | "slo_redirect_url"
                | "signing_certificates" => format!("--metadata-file {}", file.display()),
                other => other.to_string(),
            };
            format!("{flag}: {}", e.message)
        })
        .collect();
    CliError(lines.join("\nerror: "))
}
