//! What the federation tests share: the relying party that signs in through Cognate
//! ([`Client`]: its authorization request, its code redemption and ID token check by the
//! `openidconnect` crate, the errors it hears), the steps of a browserless federated
//! sign-in (Cognate's `/oauth2/authorize`, the fake IdP, back to `/oauth2/idpresponse`, on
//! to the client), the pages a refused attempt shows, and the pool configuration declaring
//! the fake IdPs.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::fake_apple::form_of;
use super::fake_oauth2::{FakeOAuth2, Vendor};
use super::fake_oidc::{ClientAuth, FakeOidc};
use super::server::{absolute, browser_client, page};

/// The `state` every test's client sends, and must hear back (RFC 6749 section 4.1.2).
pub const STATE: &str = "client-state";
/// What the page of a failed federated sign-in says (`error.federation_failed`).
pub const FAILED: &str = "did not work";
/// What the page of a wrong, spent or expired attempt says (`error.federation_expired`).
pub const EXPIRED: &str = "expired or was already used";
/// The page of an IdP answer at another provider's callback (RFC 9700 section 4.4).
pub const WRONG_CALLBACK: &str = "arrived at the address of another provider";
/// The page of an answer at the bare callback where it is refused; it names the URL.
pub const BARE_REFUSED: &str = "no longer accepts for it. The administrator must register";

/// Where a step of a sign-in left the browser: `Ok(the redirect's Location)`, or
/// `Err((status, page))` when Cognate answered with a page.
pub type Outcome = Result<String, (u16, String)>;

/// The relying party a test signs in to: a public client of the authorization code flow
/// with PKCE (S256), scopes `openid email profile` and the state [`STATE`].
pub struct Client {
    id: String,
    callback: String,
    verifier: String,
    nonce: Option<String>,
}

impl Client {
    /// The client `id` redirecting to `callback`, its PKCE verifier `verifier`.
    pub fn new(id: &str, callback: &str, verifier: &str) -> Client {
        Client {
            id: id.to_string(),
            callback: callback.to_string(),
            verifier: verifier.to_string(),
            nonce: None,
        }
    }

    /// The same client, sending this OpenID Connect `nonce` too.
    pub fn with_nonce(mut self, nonce: &str) -> Client {
        self.nonce = Some(nonce.to_string());
        self
    }

    /// Cognate's `/oauth2/authorize` at `base` for this client, then the `extra`
    /// parameters (`identity_provider`, `idp_identifier`...).
    pub fn authorize_url(&self, base: &str, extra: &[(&str, &str)]) -> String {
        let challenge = cognate::core::oauth::grants::pkce_challenge(&self.verifier);
        let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.id)
            .append_pair("redirect_uri", &self.callback)
            .append_pair("scope", "openid email profile")
            .append_pair("state", STATE);
        if let Some(nonce) = &self.nonce {
            url.query_pairs_mut().append_pair("nonce", nonce);
        }
        url.query_pairs_mut()
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .extend_pairs(extra);
        url.into()
    }

    /// The client's token request at `base` for the code of `redirect`, which must be
    /// this client's callback with its state; Cognate's answer, whatever it is.
    pub async fn token_response(&self, base: &str, redirect: &str) -> reqwest::Response {
        assert!(redirect.starts_with(&self.callback), "{redirect}");
        assert_eq!(param(redirect, "state").as_deref(), Some(STATE));
        let code = param(redirect, "code").expect("a code");
        super::http()
            .post(format!("{base}/oauth2/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.id.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", self.callback.as_str()),
                ("code_verifier", self.verifier.as_str()),
            ])
            .send()
            .await
            .unwrap()
    }

    /// The tokens of a successful redirect, redeemed and checked by an independent OpenID
    /// Connect library (`openidconnect` as a relying party): discovery at the issuer the
    /// redirect names (RFC 9207 `iss`), the code exchange with PKCE, and the ID token's
    /// signature (against the served JWKS), `iss`, `aud`, `exp` and `nonce`. The token
    /// response as JSON.
    ///
    /// Every request goes to the node at `base`: where several nodes share one public URL
    /// (the multi-node tests), the test is the load balancer, so the discovery document,
    /// JWKS and token endpoint the issuer names are fetched from that node.
    pub async fn tokens(&self, base: &str, redirect: &str) -> Value {
        use openidconnect::core::{
            CoreClient, CoreJsonWebKeySet, CoreProviderMetadata, CoreTokenResponse,
        };
        use openidconnect::{
            AuthorizationCode, ClientId, JsonWebKeySetUrl, Nonce, NonceVerifier, PkceCodeVerifier,
            RedirectUrl, TokenResponse, TokenUrl,
        };

        assert!(redirect.starts_with(&self.callback), "{redirect}");
        assert_eq!(param(redirect, "state").as_deref(), Some(STATE));
        let code = param(redirect, "code").expect("a code");
        let issuer = param(redirect, "iss").expect("RFC 9207 iss on the redirect");
        let at_node = |url: &str| {
            let url = url::Url::parse(url).unwrap();
            format!("{base}{}", url.path())
        };
        let http = super::http();
        let discovery = format!("{}/.well-known/openid-configuration", at_node(&issuer));
        let text = http
            .get(&discovery)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let metadata: CoreProviderMetadata = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("discovery document: {e}: {text}"));
        assert_eq!(metadata.issuer().as_str(), issuer, "OIDC Discovery 4.3");
        let jwks_url = JsonWebKeySetUrl::new(at_node(metadata.jwks_uri().as_str())).unwrap();
        let jwks = CoreJsonWebKeySet::fetch_async(&jwks_url, &http)
            .await
            .unwrap_or_else(|e| panic!("JWKS: {e:?}"));
        let token_url = at_node(
            metadata
                .token_endpoint()
                .expect("a token endpoint")
                .as_str(),
        );
        let client = CoreClient::from_provider_metadata(
            metadata.set_jwks(jwks),
            ClientId::new(self.id.clone()),
            None,
        )
        .set_token_uri(TokenUrl::new(token_url).unwrap())
        .set_redirect_uri(RedirectUrl::new(self.callback.clone()).unwrap());
        let answer: CoreTokenResponse = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(self.verifier.clone()))
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
        let id_token = answer.id_token().expect("an ID token");
        let expected = self.nonce.clone().map(Nonce::new);
        let nonce_check = |claimed: Option<&Nonce>| match &expected {
            Some(nonce) => nonce.verify(claimed),
            None if claimed.is_none() => Ok(()),
            None => Err("a nonce nobody sent".to_string()),
        };
        id_token
            .claims(&client.id_token_verifier(), nonce_check)
            .unwrap_or_else(|e| panic!("the relying party refused the ID token: {e:?}"));
        serde_json::to_value(&answer).unwrap()
    }

    /// The claims of the ID token among [`Client::tokens`] (verified there).
    pub async fn id_token(&self, base: &str, redirect: &str) -> Value {
        payload(
            self.tokens(base, redirect).await["id_token"]
                .as_str()
                .unwrap(),
        )
    }

    /// The client heard the OAuth error `code` on its redirect URI (RFC 6749 section
    /// 4.1.2.1), with its own state and no code.
    pub fn assert_error(&self, redirect: &str, code: &str) {
        assert!(redirect.starts_with(&self.callback), "{redirect}");
        assert_eq!(
            param(redirect, "error").as_deref(),
            Some(code),
            "{redirect}"
        );
        assert_eq!(param(redirect, "state").as_deref(), Some(STATE));
        assert_eq!(param(redirect, "code"), None);
    }

    /// The error page of a failed attempt that was this browser's offers the way back to
    /// the client, carrying the OAuth error `code`, the client's state and Cognate's `iss`.
    pub fn assert_back_to_client(&self, page: &str, code: &str, what: &str) {
        let href = page
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|h| h.replace("&#x2f;", "/").replace("&amp;", "&"))
            .find(|h| h.starts_with(&self.callback))
            .unwrap_or_else(|| panic!("{what}: no way back to the client: {page}"));
        assert_eq!(
            param(&href, "error").as_deref(),
            Some(code),
            "{what}: {href}"
        );
        assert_eq!(param(&href, "state").as_deref(), Some(STATE), "{what}");
        assert!(param(&href, "iss").is_some(), "{what}: {href}");
        assert!(param(&href, "code").is_none(), "{what}: {href}");
    }

    /// The pool's `[[pools.clients]]` entry for this client, signing in with the pool's
    /// own users (`COGNITO`) and the identity providers `idps`.
    pub fn toml(&self, idps: &[&str]) -> String {
        let idps: String = idps.iter().map(|idp| format!(", \"{idp}\"")).collect();
        format!(
            r#"
[[pools.clients]]
id = "{}"
name = "web"
callback_urls = ["{}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["COGNITO"{idps}]
"#,
            self.id, self.callback
        )
    }
}

/// A redirect's `Location`.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The query parameter `name` of `url`.
pub fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

/// The claims of a JWT, unverified.
pub fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A response as the browser meets it: a redirect, or a page.
pub async fn outcome(r: reqwest::Response) -> Outcome {
    match r.headers().get("location") {
        Some(l) => Ok(l.to_str().unwrap().to_string()),
        None => Err((r.status().as_u16(), r.text().await.unwrap())),
    }
}

/// GETs `url` (Cognate's callback, or a form_post's continuation) in `browser`.
pub async fn callback(browser: &reqwest::Client, url: &str) -> Outcome {
    outcome(browser.get(url).send().await.unwrap()).await
}

/// At the fake IdP, which consents at once: from `upstream` (where Cognate sent the
/// browser) to the IdP's answer at Cognate's callback: the bare
/// `/oauth2/idpresponse?code=..&state=..` on an instance where it is safe, else the
/// provider's own `/oauth2/idpresponse/<pool>/<provider>?code=..`. The redirect_uri
/// Cognate sent is the one the IdP answers at.
pub async fn at_idp(browser: &reqwest::Client, upstream: &str) -> String {
    let sent = param(upstream, "redirect_uri").expect("Cognate sends a redirect_uri");
    let r = browser.get(upstream).send().await.unwrap();
    let back = location(&r);
    assert!(
        back.starts_with(&format!("{sent}?")),
        "{back} is not at {sent}"
    );
    let path = url::Url::parse(&sent).unwrap().path().to_string();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    assert!(
        segments[..2] == ["oauth2", "idpresponse"] && matches!(segments.len(), 2 | 4),
        "{sent}"
    );
    back
}

/// Authorizes at Cognate with `authorize_url` (which names the IdP) and consents at the
/// IdP: the URL the IdP sends the browser back to.
pub async fn through_idp(browser: &reqwest::Client, authorize_url: &str) -> String {
    let r = browser.get(authorize_url).send().await.unwrap();
    at_idp(browser, &location(&r)).await
}

/// A whole sign-in from `authorize_url` in a fresh browser: the client's redirect, or the
/// page shown.
pub async fn sign_in(authorize_url: &str) -> Outcome {
    let browser = browser_client();
    let back = through_idp(&browser, authorize_url).await;
    callback(&browser, &back).await
}

/// The sign-in page's button for `provider`: its link, absolute on `base`.
pub fn button_href(base: &str, page: &str, provider: &str) -> String {
    // minijinja escapes `/` and `&` in attributes.
    let page = page.replace("&#x2f;", "/").replace("&amp;", "&");
    let href = page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| {
            href.starts_with("/oauth2/idp?") && href.ends_with(&format!("provider={provider}"))
        })
        .unwrap_or_else(|| panic!("no {provider} button: {page}"));
    absolute(base, href)
}

/// `authorize_url` (which names no IdP) leads to Cognate's sign-in page at `base`: its
/// URL, and the page.
pub async fn login_page(
    browser: &reqwest::Client,
    base: &str,
    authorize_url: &str,
) -> (String, String) {
    let r = browser.get(authorize_url).send().await.unwrap();
    let login = absolute(base, &location(&r));
    let page = page(browser, &login).await;
    (login, page)
}

/// The browser was shown an HTML page (no redirect anywhere) with `status` and `sentence`.
pub fn assert_page(outcome: Outcome, status: u16, sentence: &str, what: &str) {
    match outcome {
        Ok(redirect) => panic!("{what}: redirected instead of a page: {redirect}"),
        Err((got, page)) => {
            assert_eq!(got, status, "{what}: {page}");
            assert!(page.contains("<html"), "{what}: not a page: {page}");
            assert!(page.contains(sentence), "{what}: not a clear page: {page}");
        }
    }
}

/// The sign-in failed with a clear page: [`FAILED`] or [`EXPIRED`], an error status.
pub fn assert_failed_page(outcome: Outcome, what: &str) {
    match outcome {
        Ok(redirect) => panic!("{what}: signed in anyway: {redirect}"),
        Err((status, page)) => {
            assert!(status >= 400, "{what}: {status}");
            assert!(
                page.contains(FAILED) || page.contains(EXPIRED),
                "{what}: not a clear page: {page}"
            );
        }
    }
}

/// At the fake Apple: Cognate's request at `upstream` asks for `response_mode=form_post`,
/// and Apple's page holds the form the browser POSTs back: its action and fields.
pub async fn apple_form(
    browser: &reqwest::Client,
    upstream: &str,
) -> (String, Vec<(String, String)>) {
    assert_eq!(
        param(upstream, "response_mode").as_deref(),
        Some("form_post")
    );
    let page = browser.get(upstream).send().await.unwrap();
    assert_eq!(page.status(), 200);
    form_of(&page.text().await.unwrap())
}

/// Apple's cross-site POST, made by a client without the browser's cookies (as the real
/// browser sends it: SameSite=Lax leaves them out): Cognate's 303 continuation URL.
pub async fn post_form(action: &str, fields: &[(String, String)]) -> reqwest::Response {
    browser_client()
        .post(action)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// A POST to `/oauth2/idpresponse` that was refused with the "expired or already used"
/// page, not sent on to a continuation.
pub async fn assert_refused_post(r: reqwest::Response, what: &str) {
    assert!(r.headers().get("location").is_none(), "{what}: continued");
    let status = r.status().as_u16();
    assert_page(Err((status, r.text().await.unwrap())), 400, EXPIRED, what);
}

/// A fake provider's authorize endpoint `authorize`, asked with `params`: the code it
/// redirects with (for the tests of the fakes themselves).
pub async fn fake_code(http: &reqwest::Client, authorize: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(authorize).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    let r = http.get(url.as_str()).send().await.unwrap();
    param(&location(&r), "code").unwrap()
}

/// The environment variable holding Google's client secret in [`google_idp`], and its
/// value.
pub const GOOGLE_SECRET_ENV: (&str, &str) = ("FED_GOOGLE_SECRET", "google-secret");

/// A fake Google, the client of [`google_idp`] registered (client_secret_post).
pub async fn fake_google() -> FakeOidc {
    FakeOidc::start("google-client", GOOGLE_SECRET_ENV.1, ClientAuth::Post).await
}

/// `Google`: the google preset, every endpoint pointed at the fake whose issuer is
/// `issuer`, the secret in [`GOOGLE_SECRET_ENV`].
pub fn google_idp(issuer: &str) -> String {
    format!(
        r#"
[[pools.identity_providers]]
name = "Google"
preset = "google"
client_id = "google-client"
client_secret_env = "{}"
issuer = "{issuer}"
endpoints = {{ authorize = "{issuer}/authorize", token = "{issuer}/token", jwks = "{issuer}/jwks", userinfo = "{issuer}/userinfo" }}
"#,
        GOOGLE_SECRET_ENV.0
    )
}

/// The environment variable holding Facebook's app secret in [`facebook_idp`], and its
/// value.
pub const FACEBOOK_SECRET_ENV: (&str, &str) = ("FED_FB_SECRET", "fb-app-secret");

/// A fake Facebook, the app of [`facebook_idp`] registered.
pub async fn fake_facebook() -> FakeOAuth2 {
    FakeOAuth2::start(Vendor::Facebook, "fb-app-id", FACEBOOK_SECRET_ENV.1).await
}

/// `Facebook`: the facebook preset, its endpoints on the fake at `base`, the secret in
/// [`FACEBOOK_SECRET_ENV`], and the `extra` settings.
pub fn facebook_idp(base: &str, extra: &str) -> String {
    format!(
        r#"
[[pools.identity_providers]]
name = "Facebook"
preset = "facebook"
client_id = "fb-app-id"
client_secret_env = "{}"
endpoints = {{ authorize = "{base}/v19.0/dialog/oauth", token = "{base}/v19.0/oauth/access_token", profile = "{base}/v19.0/me?fields=id,name,email,first_name,last_name,picture" }}
{extra}
"#,
        FACEBOOK_SECRET_ENV.0
    )
}

/// An enterprise IdP `name` by the oidc preset (discovery at `issuer`), its secret in the
/// variable `secret_env`, and the `extra` settings.
pub fn oidc_idp(
    name: &str,
    client_id: &str,
    secret_env: &str,
    issuer: &str,
    extra: &str,
) -> String {
    format!(
        r#"
[[pools.identity_providers]]
name = "{name}"
preset = "oidc"
client_id = "{client_id}"
client_secret_env = "{secret_env}"
issuer = "{issuer}"
{extra}
"#
    )
}

/// The environment variable holding the `.p8` key of [`apple_idp`].
pub const APPLE_KEY_ENV: &str = "FED_APPLE_KEY";

/// `SignInWithApple`: the apple preset for the Services ID `services_id` of `team`, the
/// key `key_id` in [`APPLE_KEY_ENV`], endpoints pointed at the fake at `base`.
pub fn apple_idp(base: &str, services_id: &str, team: &str, key_id: &str) -> String {
    format!(
        r#"
[[pools.identity_providers]]
name = "SignInWithApple"
preset = "apple"
client_id = "{services_id}"
team_id = "{team}"
key_id = "{key_id}"
private_key_env = "{APPLE_KEY_ENV}"
issuer = "{base}"
endpoints = {{ authorize = "{base}/auth/authorize", token = "{base}/auth/token", jwks = "{base}/auth/keys" }}
"#
    )
}
