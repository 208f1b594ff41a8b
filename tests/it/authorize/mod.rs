//! The authorization check (issue 12, item 5) end to end: the example resource server
//! (`examples/file_store.rs`, run in-process) receives requests SigV4-signed with vended
//! credentials (signed with `aws-sigv4`, as an SDK signs) and asks Cognate's `POST
//! /iam/authorize`. Each attack sits beside the honest request succeeding.
//!
//! Credentials are vended through `core::identity_pools::credentials` over the running
//! server's master key until GetCredentialsForIdentity lands (the lead switches to it).

mod check;
mod endpoint;
mod sts;

#[path = "../../../examples/file_store.rs"]
pub(crate) mod file_store;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys, CreatedAdminKey, NewAdminKey};
use cognate::core::identity_pools::credentials::{
    self, SessionGrant, SessionUser, VendedCredentials,
};
use cognate::core::identity_pools::mapping::IdentityPoolRoles;
use cognate::core::model::{
    Identity, IdentityLogin, IdentityPool, IdentityPoolUserPool, Origin, Role, RoleTrust, TrustAmr,
    User,
};
use cognate::core::secrets::SecretString;

use crate::support::server::TestServer;

pub const POOL: &str = "us-east-1_AuthzPool1";
pub const IPOOL: &str = "us-east-1:0a0a0a0a-0000-4000-8000-00000000000a";
pub const OTHER_IPOOL: &str = "us-east-1:0b0b0b0b-0000-4000-8000-00000000000b";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/FilesUsers";
pub const GUEST_ROLE: &str = "arn:aws:iam::123456789012:role/FilesGuests";
pub const PASSWORD: &str = "Authz-password-1";

/// Own files under `<identity id>/`, never anything under `*/private/*`.
pub const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["files:PutObject","files:GetObject","files:DeleteObject","files:ListBucket"],
  "Resource":"arn:cognate:files:::${cognito-identity.amazonaws.com:sub}/*"},
 {"Effect":"Deny","Action":"files:*","Resource":"arn:cognate:files:::*/private/*"}]}"#;

pub struct World {
    pub server: TestServer,
    /// The file server's base URL.
    pub files: String,
    pub checker: CreatedAdminKey,
    pub alice: User,
    pub bob: User,
    pub alice_id: String,
    pub bob_id: String,
}

fn role(arn: &str, amr: TrustAmr, policy: &str) -> Role {
    Role {
        arn: arn.into(),
        trust: RoleTrust {
            identity_pool_ids: vec![IPOOL.into()],
            amr,
        },
        policy: policy.into(),
        max_session_secs: 3600,
        description: None,
        origin: Origin::Config,
        updated_at: 0,
    }
}

fn identity_pool(id: &str) -> IdentityPool {
    IdentityPool {
        id: id.into(),
        name: "files".into(),
        allow_unauthenticated: true,
        allow_classic_flow: true,
        user_pools: vec![IdentityPoolUserPool {
            pool_id: POOL.into(),
            client_id: "authzclient00000000000001".into(),
            server_side_token_check: false,
        }],
        supported_login_providers: BTreeMap::new(),
        developer_provider_name: None,
        roles: IdentityPoolRoles {
            authenticated: Some(ROLE.into()),
            unauthenticated: Some(GUEST_ROLE.into()),
        },
        role_mappings: BTreeMap::new(),
        tags: BTreeMap::new(),
        upstream_sts_endpoint: None,
        origin: Origin::Config,
        created_at: 0,
        updated_at: 0,
    }
}

/// An identity of `pool` for `user` (a guest without one), or with a chosen id.
pub async fn identity(
    server: &TestServer,
    pool: &str,
    user: Option<&User>,
    id: Option<&str>,
) -> String {
    let login = user.map(|u| IdentityLogin {
        provider: POOL.into(),
        subject: u.sub.clone(),
    });
    let now = cognate::core::now();
    let candidate = Identity {
        id: id
            .map(str::to_string)
            .unwrap_or_else(|| cognate::core::model::new_identity_id("us-east-1")),
        identity_pool_id: pool.into(),
        logins: vec![],
        created_at: now,
        updated_at: now,
    };
    server
        .node
        .store
        .get_or_create_identity(pool, login.as_ref(), &candidate)
        .await
        .expect("identity")
        .id
}

pub async fn world() -> World {
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Authz\"\n\n[[pools.clients]]\nid = \"authzclient00000000000001\"\nname = \"app\"\n"
    );
    let server = TestServer::start_with(&pools, "account_id = \"123456789012\"", &[]).await;
    let store = &server.node.store;
    store
        .put_identity_pool(&identity_pool(IPOOL))
        .await
        .unwrap();
    store
        .put_identity_pool(&identity_pool(OTHER_IPOOL))
        .await
        .unwrap();
    store
        .put_role(&role(ROLE, TrustAmr::Authenticated, POLICY))
        .await
        .unwrap();
    store
        .put_role(&role(GUEST_ROLE, TrustAmr::Unauthenticated, POLICY))
        .await
        .unwrap();
    let alice = server.user(POOL, "alice", PASSWORD).await;
    let bob = server.user(POOL, "bob", PASSWORD).await;
    let alice_id = identity(&server, IPOOL, Some(&alice), None).await;
    let bob_id = identity(&server, IPOOL, Some(&bob), None).await;
    let (files, checker) = file_store_for(&server, &server.base).await;
    World {
        server,
        files,
        checker,
        alice,
        bob,
        alice_id,
        bob_id,
    }
}

/// Starts the example file store in-process, checking with Cognate at `cognate_url`
/// (`server`'s node, or another node on the same database) with a new `authorize` key made
/// through `server`; returns the store's base URL and the key.
pub async fn file_store_for(server: &TestServer, cognate_url: &str) -> (String, CreatedAdminKey) {
    let checker = AdminKeys::new(server.node.store.clone(), server.node.master.clone())
        .create(
            NewAdminKey {
                access_key_id: None,
                secret: None,
                description: "file store".into(),
                purpose: AdminKeyPurpose::Authorize,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files = format!("http://{}", listener.local_addr().unwrap());
    let config = file_store::FileStoreConfig {
        cognate_url: cognate_url.to_string(),
        key_id: checker.access_key_id.clone(),
        secret: checker.secret.expose().to_string(),
        region: "us-east-1".into(),
    };
    tokio::spawn(file_store::serve(listener, config));
    (files, checker)
}

/// A grant for `identity_id` (of [`IPOOL`], role [`ROLE`]) for `user`, valid `secs` from now.
pub fn grant(identity_id: &str, user: Option<&User>, secs: i64) -> SessionGrant {
    let now = cognate::core::now();
    SessionGrant {
        identity_id: identity_id.into(),
        identity_pool_id: IPOOL.into(),
        role_arn: ROLE.into(),
        user: user.map(|u| SessionUser {
            pool_id: POOL.into(),
            sub: u.sub.clone(),
        }),
        authenticated: true,
        issued_at: now - 10,
        expires_at: now + secs,
    }
}

impl World {
    pub fn vend(&self, grant: &SessionGrant) -> VendedCredentials {
        credentials::vend(&self.server.node.master, grant)
    }

    /// Fresh credentials for alice / bob.
    pub fn alice_creds(&self) -> VendedCredentials {
        self.vend(&grant(&self.alice_id, Some(&self.alice), 3600))
    }

    pub fn bob_creds(&self) -> VendedCredentials {
        self.vend(&grant(&self.bob_id, Some(&self.bob), 3600))
    }
}

/// How a request is signed (the honest defaults, then one thing changed per attack).
#[derive(Clone)]
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    pub exclude: &'static [&'static str],
}

impl<'a> Signer<'a> {
    pub fn new(creds: &'a VendedCredentials) -> Self {
        Signer {
            access_key_id: &creds.access_key_id,
            secret: creds.secret_access_key.expose(),
            token: Some(&creds.session_token),
            region: "us-east-1",
            service: "files",
            time: SystemTime::now(),
            exclude: &[],
        }
    }

    /// The signature's headers for `method url` with `body`.
    pub fn headers(&self, method: &str, url: &str, body: &[u8]) -> Vec<(String, String)> {
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id,
            self.secret,
            self.token.map(str::to_string),
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        let mut excluded = settings.excluded_headers.take().unwrap_or_default();
        excluded.extend(self.exclude.iter().map(|h| std::borrow::Cow::Borrowed(*h)));
        settings.excluded_headers = Some(excluded);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let host = url.split('/').nth(2).unwrap().to_string();
        let headers = [("host", host.as_str())];
        let request = SignableRequest::new(
            method,
            url,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Signs `body` and sends `send_body` (the same, unless an attack swaps it).
    pub async fn send_with(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        send_body: &[u8],
    ) -> (u16, String) {
        let headers = self.headers(method, url, body);
        let mut request = client().request(method.parse().unwrap(), url);
        for (k, v) in &headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let answer = request
            .body(send_body.to_vec())
            .send()
            .await
            .expect("request");
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap_or_default())
    }

    pub async fn send(&self, method: &str, url: &str, body: &[u8]) -> (u16, String) {
        self.send_with(method, url, body, body).await
    }
}

pub fn client() -> reqwest::Client {
    cognate::federation::http::install_crypto_provider();
    reqwest::Client::new()
}

/// `minutes` from now.
pub fn minutes_off(minutes: i64) -> SystemTime {
    let d = Duration::from_secs(minutes.unsigned_abs() * 60);
    if minutes < 0 {
        SystemTime::now() - d
    } else {
        SystemTime::now() + d
    }
}

/// The URL of `key` on the file server (the key percent-encoded as a path).
pub fn file_url(world: &World, key: &str) -> String {
    let encoded: String =
        percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .replace("%2F", "/");
    format!("{}/files/{encoded}", world.files)
}

pub fn secret_of(key: &CreatedAdminKey) -> &str {
    key.secret.expose()
}

pub fn secret(text: &str) -> SecretString {
    SecretString::new(text)
}
