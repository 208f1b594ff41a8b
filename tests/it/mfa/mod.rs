//! Multi-factor authentication over real HTTP (issue 13), without a browser: the hosted
//! pages of `/login/mfa`, `/login/mfa-setup`, `/login/email` and `/account/security` driven
//! with reqwest as the page contract (`notes/contract.md`) describes them, TOTP codes
//! computed here with totp-rs from the key the page shows, emailed codes read from the
//! test SMTP sink.
//!
//! - [`totp`]: enrolment at sign-in, drift steps, replays, wrong codes, parallel guesses.
//! - [`rules`]: the pool's `mfa` setting (`ON` forces enrolment before any code, session
//!   or token; `OPTIONAL` asks only users with a factor).
//! - [`email`]: emailed codes as a second factor and as a passwordless first factor.
//! - [`recovery`]: recovery codes, single use, with a notice mail.
//! - [`account`]: the account security page's removal rules and its fresh sign-in.
//! - [`sessions`]: single sign-on after the pool's rule changes, `prompt=login`,
//!   `max_age`, refresh.
//! - [`cli`]: `cognate users mfa reset`.

mod account;
mod cli;
mod email;
mod recovery;
mod rules;
mod sessions;
mod totp;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;

use crate::claims::{authorize_url, claims_of, query_param, token, Answer, Pkce};
use crate::support::server::{absolute, browser_client, hidden, TestServer};

/// `mfa = "ON"`, TOTP (the default factor).
pub const ON: &str = "us-east-1_MfaOn00001";
pub const ON_SPA: &str = "mfaonspa00000000000000001";
pub const ON_OTHER: &str = "mfaonother000000000000001";
/// `mfa = "OPTIONAL"`, TOTP.
pub const OPT: &str = "us-east-1_MfaOpt0001";
pub const OPT_SPA: &str = "mfaoptspa0000000000000001";
pub const OPT_OTHER: &str = "mfaoptother00000000000001";
/// `mfa = "ON"`, email codes as the only second factor.
pub const EMAIL: &str = "us-east-1_MfaMail001";
pub const EMAIL_SPA: &str = "mfamailspa000000000000001";
/// `mfa = "OPTIONAL"` (TOTP), passwords and emailed sign-in codes as first factors.
pub const PWLESS: &str = "us-east-1_MfaPwless1";
pub const PWLESS_SPA: &str = "mfapwlessspa0000000000001";

pub const CALLBACK: &str = "http://127.0.0.1:9/cb";
pub const PASSWORD: &str = "Corr3ct-horse-mfa";

/// How many wrong second-factor codes an account takes before it is locked (Cognito
/// locks after five).
pub const MFA_LOCK_FAILURES: usize = cognate::core::throttle::MFA_LOCK_FAILURES as usize;

fn client_toml(id: &str, name: &str) -> String {
    format!(
        r#"
[[pools.clients]]
id = "{id}"
name = "{name}"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
"#
    )
}

pub fn pools_toml() -> String {
    format!(
        r#"
[[pools]]
id = "{ON}"
name = "MFA on"
mfa = "ON"
{on_spa}{on_other}
[[pools]]
id = "{OPT}"
name = "MFA optional"
mfa = "OPTIONAL"
{opt_spa}{opt_other}
[[pools]]
id = "{EMAIL}"
name = "MFA by email"
mfa = "ON"
mfa_factors = ["EMAIL"]
{email_spa}
[[pools]]
id = "{PWLESS}"
name = "Passwordless"
mfa = "OPTIONAL"
sign_in_factors = ["PASSWORD", "EMAIL_OTP"]
{pwless_spa}"#,
        on_spa = client_toml(ON_SPA, "spa"),
        on_other = client_toml(ON_OTHER, "other"),
        opt_spa = client_toml(OPT_SPA, "spa"),
        opt_other = client_toml(OPT_OTHER, "other"),
        email_spa = client_toml(EMAIL_SPA, "spa"),
        pwless_spa = client_toml(PWLESS_SPA, "spa"),
    )
}

/// The fixture's server; 127.0.0.1 is a trusted proxy, so tests may name client
/// addresses in `X-Forwarded-For`.
pub async fn start() -> TestServer {
    TestServer::start_with(&pools_toml(), "trusted_proxies = [\"127.0.0.1/32\"]", &[]).await
}

/// Sets a pool's `mfa` setting as an administrator would (UpdateUserPool).
pub async fn set_mfa(
    server: &TestServer,
    pool_id: &str,
    setting: cognate::core::model::MfaSetting,
) {
    cognate::core::admin::AdminService::new(server.node.store.clone())
        .update_pool(pool_id, |pool| {
            pool.mfa = setting;
            Ok::<_, cognate::core::admin::AdminError>(())
        })
        .await
        .unwrap_or_else(|e| panic!("update pool {pool_id}: {e:?}"));
}

// --- TOTP -------------------------------------------------------------------------------

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The RFC 6238 code of `secret` (base32, as the page shows it) at `time`: SHA-1, six
/// digits, 30-second steps, as an authenticator app computes it.
pub fn totp_at(secret: &str, time: u64) -> String {
    let clean: String = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    let bytes = totp_rs::Secret::Encoded(clean.clone())
        .to_bytes()
        .unwrap_or_else(|e| panic!("the page's key {clean:?} is not base32: {e:?}"));
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).generate(time)
}

#[test]
fn the_test_computes_rfc_6238_codes() {
    // RFC 6238 appendix B, SHA-1: the key "12345678901234567890"; its 8-digit codes end in
    // these six digits.
    let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp_at(key, 59), "287082");
    assert_eq!(
        unescape("otpauth:&#x2f;&#x2F;a&amp;b&#39;&x"),
        "otpauth://a&b'&x"
    );
    assert_eq!(totp_at(key, 1_111_111_109), "081804");
    assert_eq!(
        totp_at("gezd gnbv gy3t qojq gezd gnbv gy3t qojq", 1_234_567_890),
        "005924"
    );
    assert_eq!(wrong("999999"), "000000");
}

/// The current 30-second step.
pub fn step_now() -> u64 {
    unix_now() / 30
}

/// Waits, if needed, so that at least `margin` seconds of the current step remain (a
/// code computed now is still in its step when the server checks it).
pub async fn clear_of_step_end(margin: u64) {
    let left = 30 - unix_now() % 30;
    if left <= margin {
        tokio::time::sleep(Duration::from_millis(left * 1000 + 200)).await;
    }
}

/// Waits until the 30-second step `step` has begun.
pub async fn wait_for_step(step: u64) {
    while step_now() < step {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A code that is not `code` (same length).
pub fn wrong(code: &str) -> String {
    let n: u64 = code.parse().unwrap();
    let modulus = 10u64.pow(code.len() as u32);
    format!("{:0width$}", (n + 1) % modulus, width = code.len())
}

// --- pages ------------------------------------------------------------------------------

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.location.as_deref().unwrap_or("")
    }

    /// The authorization code, when this is the completion (a redirect to the client).
    pub fn code(&self) -> Option<String> {
        let l = self.location.as_deref()?;
        if !l.starts_with(CALLBACK) {
            return None;
        }
        query_param(l, "code")
    }

    /// Asserts the completion and returns the code.
    pub fn expect_code(&self, what: &str) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{what}: {self:?}");
        self.code()
            .unwrap_or_else(|| panic!("{what}: no code in {:?}", self.location))
    }

    /// Asserts that nothing was granted: no authorization code in the redirect, if any (an
    /// error sent to the client is no grant).
    pub fn assert_no_code(&self, what: &str) {
        let location = self.location();
        let granted = if location.starts_with("http") {
            query_param(location, "code").is_some()
        } else {
            location.contains("?code=") || location.contains("&code=")
        };
        assert!(!granted, "{what}: {self:?}");
        if location.starts_with(CALLBACK) {
            assert!(query_param(location, "error").is_some(), "{what}: {self:?}");
        }
    }

    /// Asserts a refusal answered with the page again (200, no redirect).
    pub fn assert_refused(&self, what: &str) {
        assert_eq!(self.status, StatusCode::OK, "{what}: {self:?}");
        self.assert_no_code(what);
    }
}

/// The text of the element with `id` (up to its first child tag).
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[at..].find('>')? + at + 1;
    let end = html[start..].find('<')? + start;
    Some(unescape(html[start..end].trim()))
}

/// Decodes the character references an HTML template writes (`&amp;`, `&#x2f;`...), as a
/// browser does.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(end) = after.find(';').filter(|e| *e <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let entity = &after[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// An attribute of the element with `id`.
pub fn element_attribute(html: &str, id: &str, attribute: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let open = html[..at].rfind('<')?;
    let close = html[at..].find('>')? + at;
    let tag = &html[open..close];
    let marker = format!("{attribute}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The recovery codes a page lists (`<li class="recovery-code">CODE</li>`).
pub fn recovery_codes(html: &str) -> Vec<String> {
    let marker = "class=\"recovery-code\"";
    let mut codes = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at..];
        let Some(start) = after.find('>') else { break };
        let Some(end) = after[start..].find('<') else {
            break;
        };
        codes.push(unescape(after[start + 1..start + end].trim()));
        rest = &after[start + end..];
    }
    codes
}

/// The factors the account page lists: (id, kind) of each `<li class="factor" ...>`.
pub fn factors(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<li") {
        let after = &rest[at..];
        let end = after.find('>').unwrap_or(after.len());
        let tag = &after[..end];
        if tag.contains("class=\"factor\"") {
            let attr = |name: &str| {
                let marker = format!("{name}=\"");
                tag.find(&marker).and_then(|s| {
                    let s = s + marker.len();
                    tag[s..].find('"').map(|e| tag[s..s + e].to_string())
                })
            };
            if let (Some(id), Some(kind)) = (attr("data-factor-id"), attr("data-kind")) {
                found.push((id, kind));
            }
        }
        rest = &after[end.min(after.len())..];
        if end == after.len() {
            break;
        }
    }
    found
}

/// The first 6-to-8-digit number of a message's body (an emailed code).
fn digits_in_body(message: &str) -> Option<String> {
    let body = message
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
            let mut j = i;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if (6..=8).contains(&(j - i)) {
                return Some(body[i..j].to_string());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

/// How many messages the sink holds for `to`.
pub fn mails_to(server: &TestServer, to: &str) -> usize {
    let header = format!("To: {to}");
    server
        .inbox
        .all()
        .iter()
        .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&header)))
        .count()
}

/// Waits for a message to `to` beyond the first `before`, and returns the newest message.
pub async fn next_mail(server: &TestServer, to: &str, before: usize) -> String {
    let header = format!("To: {to}");
    for _ in 0..400 {
        let all: Vec<String> = server
            .inbox
            .all()
            .into_iter()
            .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&header)))
            .collect();
        if all.len() > before {
            return all.last().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no new mail to {to} (had {before}); inbox: {:?}",
        server.inbox.all()
    );
}

/// Waits for a new code mailed to `to` (beyond the first `before` messages).
pub async fn next_code(server: &TestServer, to: &str, before: usize) -> String {
    let mail = next_mail(server, to, before).await;
    digits_in_body(&mail).unwrap_or_else(|| panic!("no code in the mail to {to}: {mail}"))
}

/// One browser (a cookie jar) on the server.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

/// A login flow started by an authorization request.
pub struct Flow {
    pub flow: String,
    pub csrf: String,
    pub pkce: Pkce,
    pub client_id: String,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        Browser {
            client: browser_client(),
            base: server.base.clone(),
        }
    }

    async fn read(r: reqwest::Response) -> Page {
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Page {
            status,
            location,
            body: r.text().await.unwrap_or_default(),
        }
    }

    /// GET a path (or an absolute URL).
    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .client
            .get(absolute(&self.base, path))
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    /// POST a form to a path.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self
            .client
            .post(absolute(&self.base, path))
            .form(fields)
            .send()
            .await
            .unwrap();
        Self::read(r).await
    }

    /// POST a flow's form (with its `flow` and `_csrf`).
    pub async fn form(&self, flow: &Flow, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form = vec![("flow", flow.flow.as_str()), ("_csrf", flow.csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(path, &form).await
    }

    /// The client's authorization request with PKCE and `extra` parameters.
    pub fn authorize_url(&self, client_id: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
            ("state", "st"),
            ("nonce", "n"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        authorize_url(&self.base, &params)
    }

    /// `GET /oauth2/authorize` for `client_id`: where it sends the browser.
    pub async fn authorize(&self, client_id: &str, pkce: &Pkce, extra: &[(&str, &str)]) -> Page {
        self.get(&self.authorize_url(client_id, pkce, extra)).await
    }

    /// Starts a login flow for `client_id` (the authorization request must show the form).
    pub async fn start(&self, client_id: &str, extra: &[(&str, &str)]) -> Flow {
        let pkce = Pkce::new(&format!("mfa-{client_id}"));
        let r = self.authorize(client_id, &pkce, extra).await;
        assert!(
            r.location().starts_with("/login?flow="),
            "authorize should show the form: {r:?}"
        );
        self.flow_at(r.location(), client_id, pkce).await
    }

    /// Reads the login page at `location` into a flow.
    pub async fn flow_at(&self, location: &str, client_id: &str, pkce: Pkce) -> Flow {
        let page = self.get(location).await;
        assert_eq!(page.status, StatusCode::OK, "{location}: {page:?}");
        Flow {
            flow: hidden(&page.body, "flow").expect("flow on the login page"),
            csrf: hidden(&page.body, "_csrf").expect("_csrf on the login page"),
            pkce,
            client_id: client_id.to_string(),
        }
    }

    /// Starts a flow and posts the password.
    pub async fn password(&self, client_id: &str, username: &str) -> (Flow, Page) {
        let flow = self.start(client_id, &[]).await;
        let page = self
            .form(
                &flow,
                "/login",
                &[("username", username), ("password", PASSWORD)],
            )
            .await;
        (flow, page)
    }

    /// Posts the password on a flow already started.
    pub async fn password_on(&self, flow: &Flow, username: &str) -> Page {
        self.form(
            flow,
            "/login",
            &[("username", username), ("password", PASSWORD)],
        )
        .await
    }

    /// Password, then a TOTP code for `secret` now: the completion's code.
    pub async fn sign_in_with_totp(
        &self,
        client_id: &str,
        username: &str,
        secret: &str,
        time: u64,
    ) -> (Flow, Page) {
        let (flow, page) = self.password(client_id, username).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
        assert!(
            page.location().starts_with("/login/mfa?flow="),
            "the password should lead to the second factor: {page:?}"
        );
        let challenge = self.get(page.location()).await;
        assert_eq!(challenge.status, StatusCode::OK, "{challenge:?}");
        let code = totp_at(secret, time);
        let page = self
            .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &code)])
            .await;
        (flow, page)
    }
}

/// What an enrolment at sign-in gave: the TOTP key, the recovery codes, the completion.
pub struct Enrolment {
    pub secret: String,
    pub recovery_codes: Vec<String>,
    /// The step whose code confirmed the enrolment.
    pub step: u64,
    pub flow: Flow,
    pub completion: Page,
}

/// Signs `username` (without a factor) in to an `ON` pool's client and enrols TOTP at the
/// MFA_SETUP step with the code of `time_offset` seconds from now (0, or -30 for the
/// previous step); finishes the sign-in. Asserts every page of the contract on the way.
pub async fn enrol_totp_at_sign_in(
    browser: &Browser,
    client_id: &str,
    username: &str,
    time_offset: i64,
) -> Enrolment {
    let (flow, page) = browser.password(client_id, username).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(
        page.location().starts_with("/login/mfa-setup?flow="),
        "a user without a factor under ON enrols first: {page:?}"
    );
    let setup = browser
        .get(&format!("/login/mfa-setup?flow={}&factor=totp", flow.flow))
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{setup:?}");
    let secret = element_text(&setup.body, "totp-secret")
        .unwrap_or_else(|| panic!("no #totp-secret: {}", setup.body));
    let uri = element_attribute(&setup.body, "totp-uri", "href")
        .unwrap_or_else(|| panic!("no #totp-uri: {}", setup.body));
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let compact: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        uri.contains(&format!("secret={compact}")),
        "the URI carries the key shown: {uri} / {secret}"
    );
    assert!(setup.body.contains("<svg"), "the QR code is inline SVG");
    let enrolment = hidden(&setup.body, "enrolment").expect("enrolment id in the form");

    clear_of_step_end(3).await;
    let time = unix_now().saturating_add_signed(time_offset);
    let code = totp_at(&secret, time);
    // A wrong code first: the form again, the same enrolment, nothing granted.
    let refused = browser
        .form(
            &flow,
            "/login/mfa-setup",
            &[
                ("factor", "totp"),
                ("enrolment", &enrolment),
                ("code", &wrong(&code)),
                ("name", "Phone"),
            ],
        )
        .await;
    refused.assert_refused("a wrong code at enrolment");
    assert!(recovery_codes(&refused.body).is_empty(), "{refused:?}");
    assert_eq!(
        hidden(&refused.body, "enrolment").as_deref(),
        Some(enrolment.as_str()),
        "the enrolment is kept after a wrong code"
    );
    let done = browser
        .form(
            &flow,
            "/login/mfa-setup",
            &[
                ("factor", "totp"),
                ("enrolment", &enrolment),
                ("code", &code),
                ("name", "Phone"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "enrolled: {done:?}");
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), 10, "ten recovery codes: {}", done.body);
    let completion = browser.form(&flow, "/login/mfa-setup/done", &[]).await;
    Enrolment {
        secret,
        recovery_codes: codes,
        step: time / 30,
        flow,
        completion,
    }
}

/// The code exchange of the flow's client.
pub async fn exchange(base: &str, flow: &Flow, code: &str) -> Answer {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", flow.client_id.as_str()),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", flow.pkce.verifier.as_str()),
        ],
        None,
    )
    .await
}

/// Exchanges the code; asserts tokens for `username`; returns the ID token's claims and
/// the token answer.
pub async fn tokens_for(
    base: &str,
    flow: &Flow,
    code: &str,
    username: &str,
) -> (serde_json::Value, Answer) {
    let answer = exchange(base, flow, code).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let id = claims_of(&answer.str("id_token"));
    assert_eq!(id["cognito:username"], username, "{id}");
    assert!(answer.json["access_token"].is_string(), "{}", answer.json);
    (id, answer)
}
