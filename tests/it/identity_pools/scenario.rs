//! The issue's scenario end to end, as the README tells it: users sign in through the
//! hosted UI, exchange their ID tokens with the official AWS SDK (enhanced flow, and the
//! basic flow through STS), and use the credentials against the example file store
//! (`examples/file_store.rs`), where the role's policy decides per user.

use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use std::time::SystemTime;

use super::{client, id_token, key, user};
use crate::authorize::file_store;
use crate::support::server::TestServer;

pub(super) const POOL: &str = "us-east-1_Scenario1";
pub(super) const WEB: &str = "scenarioweb00000000000001";
pub(super) const IPOOL: &str = "us-east-1:5ce0a210-0000-4000-8000-000000000001";
const FILES_ROLE: &str = "arn:aws:iam::123456789012:role/FilesUsers";

pub(super) fn toml() -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "scenario"
required_attributes = ["email"]

[[pools.clients]]
id = "{WEB}"
name = "web"
callback_urls = ["{callback}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]

[[roles]]
arn = "{FILES_ROLE}"
trust = {{ identity_pools = ["{IPOOL}"], amr = "authenticated" }}
policy = '''
{{"Version": "2012-10-17", "Statement": [
  {{"Effect": "Allow", "Action": ["files:GetObject", "files:PutObject"],
   "Resource": "arn:cognate:files:::users/${{cognito-identity.amazonaws.com:sub}}/*"}},
  {{"Effect": "Deny", "Action": "files:PutObject",
   "Resource": "arn:cognate:files:::users/*/readonly/*"}}
]}}'''

[[identity_pools]]
id = "{IPOOL}"
name = "scenario"
allow_classic_flow = true
authenticated_role = "{FILES_ROLE}"

[[identity_pools.user_pools]]
pool = "{POOL}"
client = "{WEB}"
"#,
        callback = crate::claims::SPA_CALLBACK,
    )
}

/// Temporary credentials as the SDKs hand them out.
pub(super) struct Creds {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
}

/// Signs like any AWS SDK (SigV4, service `files`) and sends to the file store.
pub(super) async fn send(creds: &Creds, method: &str, url: &str, body: &[u8]) -> u16 {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        &creds.access_key_id,
        &creds.secret,
        Some(creds.token.clone()),
        None,
        "scenario",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(file_store::SERVICE)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
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
    let mut request = crate::authorize::client().request(method.parse().unwrap(), url);
    for (k, v) in instructions.headers() {
        request = request.header(k, v);
    }
    request
        .body(body.to_vec())
        .send()
        .await
        .expect("file store")
        .status()
        .as_u16()
}

/// The enhanced flow: GetId then GetCredentialsForIdentity with the hosted UI's ID token.
async fn enhanced(server: &TestServer, id_token: &str) -> (String, Creds) {
    enhanced_on(&server.base, &key(server, POOL), id_token).await
}

/// [`enhanced`] at the node `base`, with the Logins key `login`.
pub(super) async fn enhanced_on(base: &str, login: &str, id_token: &str) -> (String, Creds) {
    let sdk = client(base, None);
    let identity = sdk
        .get_id()
        .identity_pool_id(IPOOL)
        .logins(login, id_token)
        .send()
        .await
        .expect("GetId")
        .identity_id()
        .unwrap()
        .to_string();
    let answer = sdk
        .get_credentials_for_identity()
        .identity_id(&identity)
        .logins(login, id_token)
        .send()
        .await
        .expect("GetCredentialsForIdentity");
    let c = answer.credentials().unwrap();
    let creds = Creds {
        access_key_id: c.access_key_id().unwrap().into(),
        secret: c.secret_key().unwrap().into(),
        token: c.session_token().unwrap().into(),
    };
    (identity, creds)
}

pub(super) fn sts(base: &str, creds: Option<&Creds>) -> aws_sdk_sts::Client {
    let mut config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base);
    if let Some(c) = creds {
        config = config.credentials_provider(Credentials::new(
            &c.access_key_id,
            &c.secret,
            Some(c.token.clone()),
            None,
            "scenario",
        ));
    }
    aws_sdk_sts::Client::from_conf(config.build())
}

#[tokio::test]
async fn hosted_sign_in_to_credentials_to_a_resource_the_policy_guards() {
    let server = TestServer::start_with(&toml(), "account_id = \"123456789012\"", &[]).await;
    user(&server, POOL, "alice").await;
    user(&server, POOL, "bob").await;

    // The example resource server, authenticated to Cognate with an `authorize` key.
    let (files, _) = crate::authorize::file_store_for(&server, &server.base).await;
    let files = format!("{files}/files");

    // Alice and Bob sign in through the hosted UI and take the enhanced flow.
    let alice_token = id_token(&server, WEB, "alice").await;
    let bob_token = id_token(&server, WEB, "bob").await;
    let (alice_id, alice) = enhanced(&server, &alice_token).await;
    let (bob_id, bob) = enhanced(&server, &bob_token).await;
    assert_ne!(alice_id, bob_id);

    // Each writes and reads under their own identity id.
    let alice_file = format!("{files}/users/{alice_id}/cat.txt");
    let bob_file = format!("{files}/users/{bob_id}/dog.txt");
    assert_eq!(send(&alice, "PUT", &alice_file, b"meow").await, 200);
    assert_eq!(send(&alice, "GET", &alice_file, b"").await, 200);
    assert_eq!(send(&bob, "PUT", &bob_file, b"woof").await, 200);
    // Nobody reads or writes another user's files.
    assert_eq!(send(&bob, "GET", &alice_file, b"").await, 403);
    assert_eq!(send(&alice, "PUT", &bob_file, b"mine now").await, 403);
    // A path spelled to pass the check as one's own but route elsewhere is refused.
    let sneaky = format!("{files}/users/{alice_id}%2F..%2F{bob_id}/dog.txt");
    assert_eq!(send(&alice, "GET", &sneaky, b"").await, 403);
    // The explicit Deny wins over the Allow on one's own prefix.
    let readonly = format!("{files}/users/{alice_id}/readonly/x.txt");
    assert_eq!(send(&alice, "PUT", &readonly, b"x").await, 403);
    // Outside every Allow: default deny.
    assert_eq!(
        send(&alice, "PUT", &format!("{files}/public/x"), b"x").await,
        403
    );

    // GetCallerIdentity signed with the vended credentials names the assumed role.
    let me = sts(&server.base, Some(&alice))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some(
            format!(
                "arn:aws:sts::123456789012:assumed-role/FilesUsers/{}",
                me.user_id().unwrap().split(':').nth(1).unwrap()
            )
            .as_str()
        ),
        "{me:?}"
    );
    assert_eq!(me.account(), Some("123456789012"));

    // The basic flow: GetOpenIdToken, then STS's AssumeRoleWithWebIdentity (unsigned).
    let open_id = client(&server.base, None)
        .get_open_id_token()
        .identity_id(&bob_id)
        .logins(key(&server, POOL), &bob_token)
        .send()
        .await
        .expect("GetOpenIdToken");
    let assumed = sts(&server.base, None)
        .assume_role_with_web_identity()
        .role_arn(FILES_ROLE)
        .role_session_name("bob-basic")
        .web_identity_token(open_id.token().unwrap())
        .send()
        .await
        .expect("AssumeRoleWithWebIdentity");
    let c = assumed.credentials().unwrap();
    let bob_basic = Creds {
        access_key_id: c.access_key_id().into(),
        secret: c.secret_access_key().into(),
        token: c.session_token().into(),
    };
    assert_eq!(send(&bob_basic, "GET", &bob_file, b"").await, 200);
    assert_eq!(send(&bob_basic, "GET", &alice_file, b"").await, 403);
    server.stop().await;
}
