//! Compromised passwords over HTTP (issue 17): the pool's `compromised_passwords` refusing
//! a common password (the built-in list) or a corpus hit (a small Pwned Passwords corpus
//! written here, as a range directory, a sorted SHA-1 file and a sorted NTLM file) at
//! sign-up (AWS SignUp and the hosted page), reset (ConfirmForgotPassword), change
//! (ChangePassword) and administrator set (AdminSetUserPassword), each beside a strong
//! password succeeding; `reset` refusing a password sign-in with a leaked password
//! (PasswordResetRequiredException, the user RESET_REQUIRED) until the user resets; `off`
//! letting everything through. On SQLite and (with `COGNATE_TEST_DATABASE_URL`)
//! PostgreSQL.

use std::path::Path;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
use aws_sdk_cognitoidentityprovider::Client;
use cognate::core::model::{CompromisedPasswords, UserStatus};
use cognate::core::threat::compromised::CorpusFormat;

use crate::account_attacks::{on_both_engines, Engine};
use crate::support::pg::PgNodeEnv;
use crate::support::server::{absolute, browser_client, hidden, TestServer};
use crate::user_pools::{operator_client, public_client};

const POOL: &str = "us-east-1_Compromis01";
const APP: &str = "compromisedapp00000000001";
const CALLBACK: &str = "http://127.0.0.1:9/cb";
/// In the built-in list ("p@ssw0rd", any case), yet it meets Cognito's default policy.
const COMMON: &str = "P@ssw0rd";
/// In no list: only in the corpus the tests write.
const LEAKED: &str = "Leaked-Tr0mbone-77";
const STRONG: &str = "Corr3ct-horse-battery";
const FRESH: &str = "Fresh-st4ple-Quartz";
/// What InvalidPasswordException says (after "Password does not conform to policy: ").
const MESSAGE: &str = "Password has been found in a data breach or is too common";
/// What the hosted pages say.
const PAGE_MESSAGE: &str = "This password has appeared in a data breach or is too common.";

const ALL_FLOWS: &str = r#"explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]"#;

fn pools_toml(mode: &str) -> String {
    pools_toml_with(mode, "")
}

/// [`pools_toml`] with more tables of the pool (`[pools.triggers]`).
fn pools_toml_with(mode: &str, tables: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Compromised passwords"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]

[pools.threat_protection]
compromised_passwords = "{mode}"

{tables}

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
{ALL_FLOWS}
"#
    )
}

/// The server on the engine, and its PostgreSQL schema.
struct Env {
    server: TestServer,
    pg: Option<PgNodeEnv>,
}

impl Env {
    /// `None` on PostgreSQL without a test database (said loudly by the support module).
    async fn start(engine: Engine, mode: &str, server_toml: &str) -> Option<Env> {
        Self::start_pools(engine, &pools_toml(mode), server_toml).await
    }

    async fn start_pools(engine: Engine, pools: &str, server_toml: &str) -> Option<Env> {
        match engine {
            Engine::Sqlite => Some(Env {
                server: TestServer::start_with(pools, server_toml, &[]).await,
                pg: None,
            }),
            Engine::Postgres => {
                let pg = PgNodeEnv::new("compromised").await?;
                let server = TestServer::start_with(pools, server_toml, &pg.vars()).await;
                Some(Env {
                    server,
                    pg: Some(pg),
                })
            }
        }
    }

    async fn stop(self) {
        self.server.stop().await;
        if let Some(pg) = self.pg {
            pg.cleanup().await;
        }
    }

    /// Sets the pool's `compromised_passwords` in the store (users made under `off` keep
    /// passwords the new mode would refuse).
    async fn set_mode(&self, mode: CompromisedPasswords) {
        let mut pool = self.server.pool(POOL).await;
        pool.threat_protection.compromised_passwords = mode;
        self.server.node.store.put_pool(&pool).await.unwrap();
    }

    async fn status(&self, username: &str) -> UserStatus {
        self.server.find_user(POOL, username).await.unwrap().status
    }
}

/// `(code, message)` of a refused SDK call.
fn refusal<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

fn assert_compromised<E: ProvideErrorMetadata>(err: &E) {
    let (code, message) = refusal(err);
    assert_eq!(code, "InvalidPasswordException", "{message}");
    assert!(
        message.starts_with("Password does not conform to policy: ") && message.contains(MESSAGE),
        "{message}"
    );
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

async fn sign_up(sdk: &Client, username: &str, password: &str) -> Result<(), (String, String)> {
    sdk.sign_up()
        .client_id(APP)
        .username(username)
        .password(password)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| refusal(&e))
}

async fn password_auth(sdk: &Client, username: &str, password: &str) -> Result<String, String> {
    sdk.initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map(|out| {
            out.authentication_result
                .and_then(|r| r.access_token)
                .expect("tokens")
        })
        .map_err(|e| refusal(&e).0)
}

/// USER_SRP_AUTH with the independent `aws-cognito-srp` client; the access token.
async fn srp_sign_in(sdk: &Client, username: &str, password: &str) -> String {
    use aws_cognito_srp::{SrpClient, User as SrpUser, UserAuthenticationParameters};
    use aws_sdk_cognitoidentityprovider::types::ChallengeNameType;
    let srp = SrpClient::new(SrpUser::new(POOL, username, password), APP, None);
    let UserAuthenticationParameters { a, username } = srp.get_auth_parameters();
    let challenge = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", a)
        .send()
        .await
        .unwrap();
    let p = challenge.challenge_parameters().unwrap();
    let v = srp
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    let out = sdk
        .respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .unwrap();
    out.authentication_result()
        .and_then(|r| r.access_token())
        .expect("tokens")
        .to_string()
}

/// Writes the corpus: `hits` (with counts) and a few decoys, in `format`, as a sorted
/// single file (`dir/pwned.txt`) or range files (`dir/ranges/<prefix>.txt`); returns the
/// path to configure.
fn write_corpus(dir: &Path, format: CorpusFormat, ranges: bool, hits: &[&str]) -> String {
    let mut lines: Vec<String> = hits
        .iter()
        .map(|pw| format!("{}:{}", format.hash_hex(pw), 42))
        .chain((0..200).map(|i| format!("{}:{}", format.hash_hex(&format!("decoy-{i}")), i + 1)))
        .collect();
    lines.sort();
    if ranges {
        let root = dir.join("ranges");
        std::fs::create_dir_all(&root).unwrap();
        let mut files: std::collections::BTreeMap<String, String> = Default::default();
        for line in &lines {
            files
                .entry(line[..5].to_string())
                .or_default()
                .push_str(&format!("{}\r\n", &line[5..]));
        }
        for (prefix, text) in files {
            std::fs::write(root.join(format!("{prefix}.txt")), text).unwrap();
        }
        root.display().to_string()
    } else {
        let path = dir.join("pwned.txt");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path.display().to_string()
    }
}

fn corpus_toml(path: &str, format: &str) -> String {
    format!("breached_password_corpus = \"{path}\"\nbreached_password_corpus_format = \"{format}\"")
}

on_both_engines!(
    block_refuses_a_common_password_wherever_one_is_chosen,
    block_refuses_corpus_hits_in_each_format,
    reset_forces_a_reset_at_password_sign_in,
    off_lets_common_passwords_through,
    a_migrated_compromised_password_makes_the_user_reset,
);

async fn block_refuses_a_common_password_wherever_one_is_chosen(engine: Engine) {
    let Some(env) = Env::start(engine, "block", "").await else {
        return;
    };
    let server = &env.server;
    let sdk = public_client(server);
    let admin = operator_client(server).await;

    // SignUp, in any case.
    for common in [COMMON, "p@SSW0RD", "Pa$$w0rd"] {
        let (code, message) = sign_up(&sdk, "ann", common).await.unwrap_err();
        assert_eq!(code, "InvalidPasswordException");
        assert!(message.contains(MESSAGE), "{message}");
    }
    assert!(server.find_user(POOL, "ann").await.is_none());
    sign_up(&sdk, "ann", STRONG)
        .await
        .expect("a strong password");

    // The hosted sign-up page says it in its own words.
    let browser = browser_client();
    let pkce = crate::claims::Pkce::new("compromised");
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        server.base,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>(),
        pkce.challenge
    );
    let r = browser.get(&authorize).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let page = browser
        .get(absolute(&server.base, &location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (flow, csrf) = (
        hidden(&page, "flow").unwrap(),
        hidden(&page, "_csrf").unwrap(),
    );
    let hosted_sign_up = |password: &'static str| {
        let form = [
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "bea"),
            ("email", "bea@example.com"),
            ("password", password),
            ("password_confirm", password),
        ];
        browser
            .post(format!("{}/signup", server.base))
            .form(&form)
            .send()
    };
    let r = hosted_sign_up(COMMON).await.unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains(PAGE_MESSAGE), "{body}");
    assert!(server.find_user(POOL, "bea").await.is_none());
    let r = hosted_sign_up(STRONG).await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(server.find_user(POOL, "bea").await.is_some());

    // ConfirmForgotPassword: the refusal spends nothing; the same code then takes a
    // strong password.
    server.user(POOL, "cid", STRONG).await;
    sdk.forgot_password()
        .client_id(APP)
        .username("cid")
        .send()
        .await
        .unwrap();
    let code = server.inbox.code_for("cid@example.com").await;
    let confirm = |password: &'static str| {
        sdk.confirm_forgot_password()
            .client_id(APP)
            .username("cid")
            .confirmation_code(code.clone())
            .password(password)
            .send()
    };
    assert_compromised(&confirm(COMMON).await.unwrap_err());
    confirm(FRESH).await.expect("a strong new password");
    password_auth(&sdk, "cid", FRESH).await.expect("signs in");

    // ChangePassword.
    server.user(POOL, "dee", STRONG).await;
    let token = password_auth(&sdk, "dee", STRONG).await.unwrap();
    let change = |proposed: &'static str| {
        sdk.change_password()
            .access_token(token.clone())
            .previous_password(STRONG)
            .proposed_password(proposed)
            .send()
    };
    assert_compromised(&change(COMMON).await.unwrap_err());
    change(FRESH).await.expect("a strong new password");

    // AdminSetUserPassword, permanent and temporary, and AdminCreateUser's temporary one.
    server.user(POOL, "eve", STRONG).await;
    for permanent in [true, false] {
        let err = admin
            .admin_set_user_password()
            .user_pool_id(POOL)
            .username("eve")
            .password(COMMON)
            .permanent(permanent)
            .send()
            .await
            .unwrap_err();
        assert_compromised(&err);
    }
    admin
        .admin_set_user_password()
        .user_pool_id(POOL)
        .username("eve")
        .password(FRESH)
        .permanent(true)
        .send()
        .await
        .expect("a strong password");
    password_auth(&sdk, "eve", FRESH).await.expect("signs in");
    let invite = |password: &'static str| {
        admin
            .admin_create_user()
            .user_pool_id(POOL)
            .username("fay")
            .temporary_password(password)
            .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
            .send()
    };
    assert_compromised(&invite(COMMON).await.unwrap_err());
    invite(FRESH).await.expect("a strong temporary password");
    // The invited user's NEW_PASSWORD_REQUIRED answer: refused, then a strong one.
    let challenge = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "fay")
        .auth_parameters("PASSWORD", FRESH)
        .send()
        .await
        .unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&aws_sdk_cognitoidentityprovider::types::ChallengeNameType::NewPasswordRequired)
    );
    let answer = |password: &'static str| {
        sdk.respond_to_auth_challenge()
            .client_id(APP)
            .challenge_name(
                aws_sdk_cognitoidentityprovider::types::ChallengeNameType::NewPasswordRequired,
            )
            .session(challenge.session().unwrap())
            .challenge_responses("USERNAME", "fay")
            .challenge_responses("NEW_PASSWORD", password)
            .send()
    };
    assert_compromised(&answer(COMMON).await.unwrap_err());
    let out = answer(STRONG).await.expect("a strong new password");
    assert!(out.authentication_result().is_some());

    // `block` checks passwords being chosen, not sign-ins: a user whose password the
    // list holds (made before the pool turned the check on) still signs in.
    env.set_mode(CompromisedPasswords::Off).await;
    server.user(POOL, "gus", COMMON).await;
    env.set_mode(CompromisedPasswords::Block).await;
    password_auth(&sdk, "gus", COMMON)
        .await
        .expect("block spares sign-ins");
    env.stop().await;
}

async fn block_refuses_corpus_hits_in_each_format(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (CorpusFormat::Sha1, true, "sha1"),
        (CorpusFormat::Sha1, false, "sha1"),
        (CorpusFormat::Ntlm, false, "ntlm"),
    ];
    for (i, (format, ranges, name)) in cases.into_iter().enumerate() {
        let sub = dir.path().join(i.to_string());
        std::fs::create_dir_all(&sub).unwrap();
        let path = write_corpus(&sub, format, ranges, &[LEAKED]);
        let Some(env) = Env::start(engine, "block", &corpus_toml(&path, name)).await else {
            return;
        };
        let sdk = public_client(&env.server);
        let (code, message) = sign_up(&sdk, "hal", LEAKED).await.unwrap_err();
        assert_eq!(code, "InvalidPasswordException", "{name} {ranges}");
        assert!(message.contains(MESSAGE), "{message}");
        // The list still applies beside the corpus; a password in neither passes.
        assert!(sign_up(&sdk, "hal", COMMON).await.is_err());
        sign_up(&sdk, "hal", STRONG).await.expect("in no corpus");
        env.stop().await;
    }
}

async fn reset_forces_a_reset_at_password_sign_in(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), CorpusFormat::Sha1, false, &[LEAKED]);
    let Some(env) = Env::start(engine, "off", &corpus_toml(&path, "sha1")).await else {
        return;
    };
    let server = &env.server;
    let sdk = public_client(server);
    let admin = operator_client(server).await;
    // Users whose passwords leaked after they chose them.
    for name in ["ida", "jon", "kit", "mia"] {
        server.user(POOL, name, LEAKED).await;
    }
    server.user(POOL, "lee", STRONG).await;
    env.set_mode(CompromisedPasswords::Reset).await;
    // The auth event log on (audit: recorded, never acted on), to see the flag.
    let mut pool = server.pool(POOL).await;
    pool.threat_protection.mode = cognate::core::model::ThreatMode::Audit;
    server.node.store.put_pool(&pool).await.unwrap();

    // A wrong password is only wrong: no one can force someone else into a reset.
    assert_eq!(
        password_auth(&sdk, "ida", "Wrong-passw0rd-1")
            .await
            .unwrap_err(),
        "NotAuthorizedException"
    );
    assert_eq!(env.status("ida").await, UserStatus::Confirmed);
    // The right, leaked password: PasswordResetRequiredException, RESET_REQUIRED.
    assert_eq!(
        password_auth(&sdk, "ida", LEAKED).await.unwrap_err(),
        "PasswordResetRequiredException"
    );
    assert_eq!(env.status("ida").await, UserStatus::ResetRequired);
    // The event says why (Cognito's CompromisedCredentialsDetected); the wrong password's
    // does not.
    let ida = server.find_user(POOL, "ida").await.unwrap();
    let logged = server
        .node
        .events
        .list(
            POOL,
            Some(&ida.sub),
            &cognate::core::model::PageRequest::default(),
            cognate::core::now(),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(logged[0].risk.compromised_credentials, "{:?}", logged[0]);
    assert_eq!(
        logged[0].details.get("reason").map(String::as_str),
        Some("PasswordResetRequired")
    );
    assert!(!logged[1].risk.compromised_credentials, "{:?}", logged[1]);
    // A strong password signs in as ever.
    password_auth(&sdk, "lee", STRONG).await.expect("signs in");

    // The reset: a leaked or common new password is refused, a fresh one works.
    sdk.forgot_password()
        .client_id(APP)
        .username("ida")
        .send()
        .await
        .unwrap();
    let code = server.inbox.code_for("ida@example.com").await;
    for bad in [LEAKED, COMMON] {
        let err = sdk
            .confirm_forgot_password()
            .client_id(APP)
            .username("ida")
            .confirmation_code(code.clone())
            .password(bad)
            .send()
            .await
            .unwrap_err();
        assert_compromised(&err);
    }
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username("ida")
        .confirmation_code(code)
        .password(FRESH)
        .send()
        .await
        .expect("reset");
    assert_eq!(env.status("ida").await, UserStatus::Confirmed);
    password_auth(&sdk, "ida", FRESH).await.expect("signs in");

    // ADMIN_USER_PASSWORD_AUTH.
    let err = admin
        .admin_initiate_auth()
        .user_pool_id(POOL)
        .client_id(APP)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "jon")
        .auth_parameters("PASSWORD", LEAKED)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "PasswordResetRequiredException");
    assert_eq!(env.status("jon").await, UserStatus::ResetRequired);

    // The hosted sign-in page sends the user to the reset page.
    let browser = browser_client();
    let pkce = crate::claims::Pkce::new("compromised-reset");
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        server.base,
        url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>(),
        pkce.challenge
    );
    let r = browser.get(&authorize).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let page = browser
        .get(absolute(&server.base, &location))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (flow, csrf) = (
        hidden(&page, "flow").unwrap(),
        hidden(&page, "_csrf").unwrap(),
    );
    let r = browser
        .post(format!("{}/login", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "kit"),
            ("password", LEAKED),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/forgot-password?flow="), "{location}");
    assert_eq!(env.status("kit").await, UserStatus::ResetRequired);

    // SRP cannot be checked (no password reaches the server, as in Cognito): the user
    // signs in, and may then replace the leaked password with ChangePassword (a
    // compromised proposal is still refused).
    let token = srp_sign_in(&sdk, "mia", LEAKED).await;
    let change = |proposed: &'static str| {
        sdk.change_password()
            .access_token(token.clone())
            .previous_password(LEAKED)
            .proposed_password(proposed)
            .send()
    };
    assert_compromised(&change(COMMON).await.unwrap_err());
    change(FRESH).await.expect("the leaked password replaced");
    assert_eq!(env.status("mia").await, UserStatus::Confirmed);
    password_auth(&sdk, "mia", FRESH).await.expect("signs in");
    env.stop().await;
}

async fn off_lets_common_passwords_through(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_corpus(dir.path(), CorpusFormat::Sha1, true, &[LEAKED]);
    let Some(env) = Env::start(engine, "off", &corpus_toml(&path, "sha1")).await else {
        return;
    };
    let sdk = public_client(&env.server);
    sign_up(&sdk, "max", COMMON)
        .await
        .expect("off checks nothing");
    env.server.user(POOL, "ned", LEAKED).await;
    password_auth(&sdk, "ned", LEAKED).await.expect("signs in");
    assert_eq!(env.status("ned").await, UserStatus::Confirmed);
    env.stop().await;
}

async fn a_migrated_compromised_password_makes_the_user_reset(engine: Engine) {
    use crate::support::webhook::{Answer, Receiver};
    let receiver = Receiver::start().await;
    let tables = format!(
        "[pools.triggers]\nuser_migration = \"{}\"",
        receiver.url("/migrate")
    );
    let pools = pools_toml_with("block", &tables);
    let Some(env) = Env::start_pools(engine, &pools, "trigger_timeout_ms = 2000").await else {
        return;
    };
    let secret = env.server.node.webhooks.secret(POOL).await.unwrap();
    receiver.set_secret(&secret.display());
    // The old system knows every user it is asked about.
    receiver.answer(
        "/migrate",
        Answer::compute(|event| {
            let name = event["userName"].as_str().unwrap_or_default();
            serde_json::json!({
                "userAttributes": {"email": format!("{name}@example.com"), "email_verified": "true"},
                "finalUserStatus": "CONFIRMED",
                "messageAction": "SUPPRESS",
            })
        }),
    );
    let sdk = public_client(&env.server);
    // A strong password migrates and signs in.
    password_auth(&sdk, "pam", STRONG).await.expect("migrated");
    assert_eq!(env.status("pam").await, UserStatus::Confirmed);
    // A common one migrates too, but RESET_REQUIRED: the sign-in says so, and the reset
    // (refusing the common password again) makes the user choose another.
    assert_eq!(
        password_auth(&sdk, "olga", COMMON).await.unwrap_err(),
        "PasswordResetRequiredException"
    );
    assert_eq!(env.status("olga").await, UserStatus::ResetRequired);
    sdk.forgot_password()
        .client_id(APP)
        .username("olga")
        .send()
        .await
        .unwrap();
    let code = env.server.inbox.code_for("olga@example.com").await;
    let confirm = |password: &'static str| {
        sdk.confirm_forgot_password()
            .client_id(APP)
            .username("olga")
            .confirmation_code(code.clone())
            .password(password)
            .send()
    };
    assert_compromised(&confirm(COMMON).await.unwrap_err());
    confirm(FRESH).await.expect("reset");
    password_auth(&sdk, "olga", FRESH).await.expect("signs in");
    env.stop().await;
}
