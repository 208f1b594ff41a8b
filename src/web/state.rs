//! The application state every handler shares, and how a node's edge is built from a
//! [`Node`]: the hosted UI's templates, the mail router, the outbound client for upstream
//! IdPs, and the core services the handlers call.

use std::sync::Arc;

use super::cors;
use super::hosted::ui;
use crate::core::account::AccountService;
use crate::core::admin_keys::AdminKeys;
use crate::core::identity_pools::service::IdentityService;
use crate::core::signin::SignIn;
use crate::core::threat::Risk;
use crate::core::throttle::Throttle;
use crate::federation::flow::Federation;
use crate::server::Node;
use crate::telemetry::Metrics;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub node: Node,
    pub metrics: Arc<Metrics>,
    pub origins: cors::OriginCache,
    pub ui: Arc<ui::Ui>,
    pub accounts: AccountService,
    /// Password sign-in (the brute-force count, verification, the next step).
    pub signin: SignIn,
    /// Sign-in through upstream identity providers.
    pub federation: Federation,
    /// H1: operator credentials, for the AWS edge's SigV4 verification.
    pub admin_keys: AdminKeys,
    /// P1: the identity API's end-user and developer actions (GetId, GetOpenIdToken,
    /// GetCredentialsForIdentity, GetOpenIdTokenForDeveloperIdentity).
    pub identity: IdentityService,
    /// The resource servers' authorization check (keeps parsed policies).
    pub authorizer: crate::core::identity_pools::authorize::Authorizer,
    /// Second factors and passkeys (issue 13).
    pub mfa: crate::core::mfa::Mfa,
}

/// Why the edge could not be built (a broken template override, a bad SMTP URL).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("hosted UI templates: {0}")]
    Ui(#[from] ui::UiError),
    #[error("mail: {0}")]
    Mail(#[from] crate::core::mail::MailError),
}

impl AppState {
    pub fn new(node: Node) -> Result<Self, StartError> {
        let ui = ui::Ui::new(node.config.server.templates_dir.as_deref())?;
        let mail = crate::config::mail::mail_router(&node.config)?.with_texts(ui.texts().clone());
        let idp_http = node.idp_http.clone();
        let federation = Federation::new(
            node.directory.clone(),
            node.master.clone(),
            idp_http,
            node.config.public_url(),
            node.sp_keys.clone(),
        );
        let public_url = url::Url::parse(&node.config.public_url())
            .expect("the public URL was checked when the configuration was loaded");
        Ok(AppState {
            federation,
            admin_keys: AdminKeys::new(node.store.clone(), node.master.clone()),
            authorizer: crate::core::identity_pools::authorize::Authorizer::new(
                node.store.clone(),
                node.master.clone(),
            ),
            identity: IdentityService::new(
                node.store.clone(),
                node.tokens.clone(),
                node.identity_tokens.clone(),
                node.master.clone(),
                &node.config.public_url(),
                &node.config.server.region,
            ),
            mfa: crate::core::mfa::Mfa::new(
                node.directory.clone(),
                mail.clone(),
                node.master.clone(),
                public_url,
            ),
            accounts: AccountService::new(node.directory.clone(), mail.clone()),
            signin: SignIn::new(node.directory.clone(), Throttle::new(node.store.clone()))
                .with_risk(Risk::new(
                    node.directory.clone(),
                    node.events.clone(),
                    node.geo.clone(),
                    mail,
                    node.config.public_url(),
                )),
            metrics: {
                let metrics = Metrics::new();
                metrics.register_triggers(node.webhooks.metrics());
                Arc::new(metrics)
            },
            origins: cors::OriginCache::default(),
            ui: Arc::new(ui),
            node,
        })
    }
}
