//! Amplify v6 (`aws-amplify` from the npm registry, bundled with esbuild) in a real
//! Chromium against Cognate, with only Amplify's `userPoolEndpoint` pointing here: sign-up,
//! confirmation with the mailed code, sign-in with SRP (Amplify's default flow), a forced
//! refresh, sign-out (which revokes the refresh token) and global sign-out (which revokes
//! the access token). The test page is served from `http://localhost:PORT` and Cognate
//! answers on `http://127.0.0.1:PORT`, so every call is cross-origin and goes through CORS
//! as it does for a real web app.
//!
//! The npm project is `tests/amplify/` (a lockfile, `npm ci`, `npm run build`); the test
//! does that setup itself, skipped when it is up to date. Without Node.js and npm the test
//! prints a NOT RUN banner and passes, except under `CI=true`, where it fails (as the
//! browser harness does without Chromium, see [`crate::support::browser`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};

use super::{public_client, start, PASSWORD, POOL, SRP_ONLY};
use crate::support::browser::Browser;
use crate::support::server::TestServer;

/// The npm project's directory.
fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/amplify")
}

/// Whether `program --version` runs.
fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Whether `target` exists and is newer than every one of `sources`.
fn up_to_date(target: &Path, sources: &[PathBuf]) -> bool {
    let Some(built) = modified(target) else {
        return false;
    };
    sources
        .iter()
        .all(|s| modified(s).is_some_and(|changed| changed <= built))
}

/// Runs `npm <args>` in the project, its output in a log file; panics with the log's tail.
fn npm(args: &[&str], log_name: &str) {
    let log_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(log_name);
    let log = std::fs::File::create(&log_path).expect("npm log file");
    let status = Command::new("npm")
        .args(args)
        .current_dir(project_dir())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("npm log file"))
        .stderr(log)
        .status()
        .unwrap_or_else(|e| panic!("npm {args:?}: {e}"));
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(25).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "npm {args:?} failed ({status}) in {}; log {}:\n{}",
            project_dir().display(),
            log_path.display(),
            tail.join("\n")
        );
    }
}

/// The bundled test app (`tests/amplify/dist/app.js`): `npm ci` when `node_modules` is
/// older than the lockfile, `npm run build` when the bundle is older than its sources.
/// `None` after a loud banner when Node.js or npm is missing and `CI` is not `true`.
fn bundle() -> Option<PathBuf> {
    let missing: Vec<&str> = ["node", "npm"].into_iter().filter(|p| !runs(p)).collect();
    if !missing.is_empty() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the Amplify test needs {missing:?}: install Node.js 20 and npm");
        }
        eprintln!(
            "\n==== NOT RUN: Amplify v6 in Chromium (install nodejs and npm) ====\n\
             ==== amplify: missing {missing:?} ====\n"
        );
        return None;
    }
    let dir = project_dir();
    let lock = dir.join("package-lock.json");
    // npm writes node_modules/.package-lock.json at every install.
    if !up_to_date(
        &dir.join("node_modules/.package-lock.json"),
        std::slice::from_ref(&lock),
    ) {
        npm(&["ci", "--no-audit", "--no-fund"], "amplify-npm-ci.log");
    }
    let out = dir.join("dist/app.js");
    let sources = [dir.join("src/app.js"), dir.join("package.json"), lock];
    if !up_to_date(&out, &sources) {
        npm(&["run", "build"], "amplify-build.log");
    }
    assert!(out.exists(), "{} was not built", out.display());
    Some(out)
}

/// Serves the test page and the bundle on `http://localhost:PORT` (another origin than
/// Cognate's `http://127.0.0.1:PORT`): returns the page's base URL.
async fn serve_page(app_js: PathBuf) -> String {
    let page = std::fs::read_to_string(project_dir().join("index.html")).expect("index.html");
    let script = std::fs::read(&app_js).expect("the bundle");
    let router = Router::new()
        .route(
            "/",
            get(move || async move { axum::response::Html(page.clone()) }),
        )
        .route(
            "/app.js",
            get(move || async move {
                ([("content-type", "text/javascript")], script.clone()).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://localhost:{port}")
}

/// Calls `window.cognate[name](...args)` in the page and returns what it resolved to
/// (`{ok: ...}` or `{error: {name, message}}`).
async fn call(browser: &Browser, name: &str, args: Value) -> Value {
    browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.cognate[arguments[0]](...arguments[1]).then(done, \
               e => done({ error: { name: 'harness', message: String(e) } }));",
            vec![json!(name), args],
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `ok` member of an answer, or a panic naming the call and Amplify's error.
#[track_caller]
fn ok(answer: Value, what: &str) -> Value {
    match answer.get("ok") {
        Some(v) => v.clone(),
        None => panic!("{what} failed in Amplify: {answer}"),
    }
}

/// A JWT's payload (the signature is the server's concern, checked by its own tests).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("a JSON payload")
}

/// The page's tokens: `(access, id, refresh)`, each present.
#[track_caller]
fn tokens(session: &Value) -> (String, String, String) {
    let get = |k: &str| {
        session[k]
            .as_str()
            .unwrap_or_else(|| panic!("no {k} in the session: {session}"))
            .to_string()
    };
    (get("accessToken"), get("idToken"), get("refreshToken"))
}

/// Whether the user pools API refuses `access_token` as Cognito does a revoked one.
async fn access_refused(server: &TestServer, access_token: &str) -> bool {
    match public_client(server)
        .get_user()
        .access_token(access_token)
        .send()
        .await
    {
        Ok(_) => false,
        Err(e) => {
            assert_eq!(e.code(), Some("NotAuthorizedException"), "{e:?}");
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplify_signs_up_confirms_signs_in_with_srp_refreshes_and_signs_out() {
    let Some(app_js) = bundle() else {
        return;
    };
    let Some(browser) = Browser::start("amplify").await else {
        return;
    };
    let server = start().await;
    let page = serve_page(app_js).await;
    // The fixture's SRP_ONLY client has Cognito's default flows: SRP, custom, refresh.
    let endpoint = format!("{}/", server.base);
    let url = url::Url::parse_with_params(
        &format!("{page}/"),
        [
            ("pool", POOL),
            ("client", SRP_ONLY),
            ("endpoint", &endpoint),
        ],
    )
    .unwrap();
    browser.goto(url.as_str()).await;
    let ready = browser
        .client
        .execute("return window.cognateReady === true;", vec![])
        .await
        .expect("read the page");
    assert_eq!(ready, json!(true), "the bundle did not load");

    // Sign-up: Amplify's CONFIRM_SIGN_UP step, the code mailed to the address.
    let (username, email) = ("amy", "amy@example.com");
    let signed_up = ok(
        call(&browser, "signUp", json!([username, PASSWORD, email])).await,
        "signUp",
    );
    assert_eq!(signed_up["isSignUpComplete"], false, "{signed_up}");
    assert_eq!(
        signed_up["nextStep"]["signUpStep"], "CONFIRM_SIGN_UP",
        "{signed_up}"
    );
    assert_eq!(
        signed_up["nextStep"]["codeDeliveryDetails"]["deliveryMedium"], "EMAIL",
        "{signed_up}"
    );
    let sub = signed_up["userId"].as_str().unwrap_or_default().to_string();
    assert!(!sub.is_empty(), "SignUp's UserSub: {signed_up}");

    // A wrong code is refused, the mailed one confirms.
    let code = server.inbox.code_for(email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = call(&browser, "confirmSignUp", json!([username, wrong])).await;
    assert_eq!(
        refused["error"]["name"], "CodeMismatchException",
        "{refused}"
    );
    let confirmed = ok(
        call(&browser, "confirmSignUp", json!([username, code])).await,
        "confirmSignUp",
    );
    assert_eq!(confirmed["isSignUpComplete"], true, "{confirmed}");
    assert_eq!(confirmed["nextStep"]["signUpStep"], "DONE", "{confirmed}");

    // SRP sign-in (no authFlowType: Amplify's USER_SRP_AUTH): a wrong password first.
    let refused = call(&browser, "signIn", json!([username, "Wr0ng-password!"])).await;
    assert_eq!(
        refused["error"]["name"], "NotAuthorizedException",
        "{refused}"
    );
    let signed_in = ok(
        call(&browser, "signIn", json!([username, PASSWORD])).await,
        "signIn",
    );
    assert_eq!(signed_in["isSignedIn"], true, "{signed_in}");
    assert_eq!(signed_in["nextStep"]["signInStep"], "DONE", "{signed_in}");

    let session = ok(call(&browser, "session", json!([false])).await, "session");
    let (access, id, refresh) = tokens(&session);
    let id_claims = claims(&id);
    assert_eq!(id_claims["cognito:username"], username, "{id_claims}");
    assert_eq!(id_claims["token_use"], "id");
    assert_eq!(id_claims["aud"], SRP_ONLY);
    assert_eq!(id_claims["sub"], sub.as_str());
    assert_eq!(id_claims["email"], email);
    assert_eq!(id_claims["iss"], format!("{}/{POOL}", server.base));
    let access_claims = claims(&access);
    assert_eq!(access_claims["token_use"], "access", "{access_claims}");
    assert_eq!(access_claims["client_id"], SRP_ONLY);
    assert_eq!(session["sub"], sub.as_str());
    // The access token is Cognate's own: the API accepts it.
    let user = public_client(&server)
        .get_user()
        .access_token(&access)
        .send()
        .await
        .expect("GetUser with Amplify's access token");
    assert_eq!(user.username(), username);

    // A forced refresh (GetTokensFromRefreshToken in Amplify 6.22) gives new tokens.
    let refreshed = ok(call(&browser, "session", json!([true])).await, "refresh");
    let (access2, id2, _) = tokens(&refreshed);
    assert_ne!(access2, access, "forceRefresh gave the same access token");
    assert_eq!(claims(&id2)["cognito:username"], username);
    assert_eq!(
        claims(&access2)["origin_jti"],
        access_claims["origin_jti"],
        "the refreshed token belongs to the same sign-in"
    );

    // Sign-out revokes the refresh token (RevokeToken) and forgets the tokens.
    let refresh_now = tokens(&refreshed).2;
    ok(call(&browser, "signOut", json!([false])).await, "signOut");
    let after = ok(call(&browser, "session", json!([false])).await, "session");
    assert_eq!(after["accessToken"], Value::Null, "{after}");
    for token in [&refresh, &refresh_now] {
        let reused = public_client(&server)
            .initiate_auth()
            .client_id(SRP_ONLY)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", token)
            .send()
            .await;
        let e = reused.expect_err("a revoked refresh token is refused");
        assert_eq!(e.code(), Some("NotAuthorizedException"), "{e:?}");
    }

    // Global sign-out: a new sign-in, then every token of the user stops working.
    ok(
        call(&browser, "signIn", json!([username, PASSWORD])).await,
        "signIn again",
    );
    let again = ok(call(&browser, "session", json!([false])).await, "session");
    let (access3, _, _) = tokens(&again);
    assert!(!access_refused(&server, &access3).await, "honest token");
    ok(
        call(&browser, "signOut", json!([true])).await,
        "global signOut",
    );
    assert!(
        access_refused(&server, &access3).await,
        "after GlobalSignOut"
    );
    let after = ok(call(&browser, "session", json!([false])).await, "session");
    assert_eq!(after["accessToken"], Value::Null, "{after}");
}
