//! Token-endpoint and sign-in benchmark over real HTTP.
//!
//! ```sh
//! cargo run --release --example bench            # defaults: 32 connections, 5 s per phase
//! cargo run --release --example bench -- 64 10   # connections, seconds per phase
//! BENCH_ONLY=pre_token cargo run --release --example bench   # issue 16's figure alone
//! BENCH_ONLY=threat cargo run --release --example bench      # issue 17's figure alone
//! BENCH_ONLY=corpus cargo run --release --example bench      # issue 17's corpus lookup
//! ```
//!
//! It starts `target/release/cognate` as a separate process (so its resident memory can be
//! read from /proc), configures a pool with a confidential client, a resource server and a
//! user, and measures in one run:
//! - the machine's raw RS256 signing rate on one thread (aws-lc-rs, parsed key);
//! - `client_credentials` tokens/s, with its ratio to the raw signing rate;
//! - `refresh_token` grants/s (each signs an ID and an access token);
//! - complete password sign-ins/s through the hosted UI (authorize, login page, POST),
//!   with its ratio to the raw Argon2id rate on all cores: as many users as connections,
//!   taken in turn (honest load is many users; one account signing in from one address
//!   more than 10 times at once meets the brute-force reservation, as guesses would);
//! - InitiateAuth sign-ins/s over the user pools API: USER_PASSWORD_AUTH as a ratio to
//!   raw Argon2id, USER_SRP_AUTH as a ratio to USER_PASSWORD_AUTH (see [`auth`]);
//! - SAML sign-ins/s through the assertion consumer service (the IdP's cross-site POST and
//!   the same-site continuation that verifies the response and signs the user in), each
//!   response signed beforehand by `xmlsec1` as an IdP would, with its ratio to the raw
//!   RSA-SHA256 verification rate on one thread (skipped, saying so, without `xmlsec1`);
//! - p50/p99 latency of the token endpoint, and the server's peak resident memory;
//! - GetCredentialsForIdentity/s over the AWS JSON API (guest identities of a bench
//!   identity pool: the vending itself, no ID token to verify);
//! - authorization checks/s (`POST /iam/authorize`, vended credentials, pre-signed
//!   requests) at the given connections, then the check's p50/p99 in an open loop at half
//!   that rate (fixed schedule, latency from each scheduled start).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, RsaKeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use cognate::core::password::{PasswordHasher, StandardHasher};

/// Issue 14: InitiateAuth sign-ins over the user pools API.
#[path = "bench/auth.rs"]
mod auth;

/// Issue 16: sign-ins with a pre token generation webhook.
#[path = "bench/pre_token.rs"]
mod pre_token;

/// Issue 17: the breached-password corpus lookup (no server needed).
#[path = "bench/corpus.rs"]
mod corpus;
/// Issue 17: sign-ins with threat protection enforced.
#[path = "bench/threat.rs"]
mod threat;

/// The tests' independent SAML signer (`xmlsec1`), shared rather than copied.
#[allow(dead_code)]
#[path = "../tests/it/support/saml_sign.rs"]
mod saml_sign;

const POOL: &str = "us-east-1_BenchPool1";
const M2M: &str = "benchm2m00000000000000001";
const M2M_SECRET: &str = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz01";
const WEB: &str = "benchweb00000000000000001";
const PASSWORD: &str = "Bench-password-1";
const IDP_ENTITY: &str = "https://idp.bench.example/";
/// Responses signed before the SAML phase (each answers one flow, once).
const SAML_RESPONSES: usize = 600;

fn raw_signing_rate(seconds: f64) -> f64 {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("key");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut sig = vec![0u8; pair.public_modulus_len()];
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
            .expect("sign");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// RSA-SHA256 (PKCS#1 v1.5, 2048-bit) verifications per second on one thread: the
/// signature check at the heart of every SAML response.
fn raw_verify_rate(seconds: f64) -> f64 {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("key");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let msg = b"<ds:SignedInfo>bench</ds:SignedInfo>";
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
        .expect("sign");
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref());
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        public.verify(msg, &sig).expect("verify");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Cognate's SAML response verification alone, in process on one thread: one signed
/// response (4 KB, the assertion signed, as IdPs send) checked over and over.
fn verify_rate(seconds: f64) -> f64 {
    use cognate::federation::saml::response::{verify, Expectations};
    let acs = "https://sp.bench.example/saml2/idpresponse";
    let audience = format!("urn:amazon:cognito:sp:{POOL}");
    let now = cognate::core::now();
    let mut spec = saml_sign::ResponseSpec::new(now);
    spec.response_issuer = Some(IDP_ENTITY.to_string());
    spec.assertion_issuer = IDP_ENTITY.to_string();
    spec.destination = Some(acs.to_string());
    spec.recipient = acs.to_string();
    spec.audience = audience.clone();
    let response = saml_sign::b64(&spec.signed());
    let certificates = vec![saml_sign::idp().cert_der.clone()];
    let expect = Expectations {
        idp_entity_id: IDP_ENTITY,
        certificates: &certificates,
        allow_sha1: false,
        sp_entity_id: &audience,
        acs_url: acs,
        in_response_to: Some(spec.in_response_to.as_deref().unwrap_or_default()),
        now,
        skew_secs: 120,
        decryption_keys: &[],
        allow_aes_cbc: false,
    };
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        verify(&response, &expect).expect("the bench's response verifies");
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The SAML IdP the bench's pool trusts: the test signer's key, an https SSO URL Cognate
/// redirects to (the bench answers in the IdP's place).
fn saml_idp_toml() -> String {
    use base64::Engine;
    let cert = base64::engine::general_purpose::STANDARD.encode(&saml_sign::idp().cert_der);
    format!(
        r#"
[[pools.identity_providers]]
name = "Corp"
preset = "saml"
metadata = '''<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{IDP_ENTITY}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.bench.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'''
"#
    )
}

/// One SAML sign-in made ready: the browser that started it (its cookie), and the
/// IdP's signed answer to post to the ACS.
struct SamlFlow {
    browser: reqwest::Client,
    fields: Vec<(String, String)>,
}

/// Starts `n` SAML flows at Cognate (each its own browser) and signs each one's response
/// with `xmlsec1` on every core: what an IdP would post back.
async fn prepare_saml(base: &str, n: usize, users: usize) -> Vec<SamlFlow> {
    use std::io::Read;

    use base64::Engine;
    let authorize = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid&state=s&identity_provider=Corp"
    );
    let mut started = Vec::with_capacity(n);
    for _ in 0..n {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = browser.get(&authorize).send().await.expect("authorize");
        let to = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        let query: std::collections::HashMap<String, String> = url::Url::parse(&to)
            .expect("url")
            .query_pairs()
            .into_owned()
            .collect();
        let deflated = base64::engine::general_purpose::STANDARD
            .decode(&query["SAMLRequest"])
            .expect("base64");
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(&deflated[..])
            .read_to_string(&mut xml)
            .expect("inflate");
        let id = xml
            .split(" ID=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("request id")
            .to_string();
        started.push((browser, id, query["RelayState"].clone()));
    }
    let acs = format!("{base}/saml2/idpresponse");
    let audience = format!("urn:amazon:cognito:sp:{POOL}");
    let ids: Vec<(usize, String)> = started
        .iter()
        .map(|(_, id, _)| id.clone())
        .enumerate()
        .collect();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunks: Vec<Vec<(usize, String)>> = ids
        .chunks(n.div_ceil(cores).max(1))
        .map(<[_]>::to_vec)
        .collect();
    let signed: Vec<Vec<(usize, String)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (acs, audience) = (acs.clone(), audience.clone());
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(i, id)| {
                            let mut spec = saml_sign::ResponseSpec::new(cognate::core::now());
                            spec.response_id = format!("_r{i}x{id}");
                            spec.assertion_id = format!("_a{i}x{id}");
                            spec.response_issuer = Some(IDP_ENTITY.to_string());
                            spec.assertion_issuer = IDP_ENTITY.to_string();
                            spec.destination = Some(acs.clone());
                            spec.recipient = acs.clone();
                            spec.in_response_to = Some(id.clone());
                            spec.scd_in_response_to = Some(id);
                            spec.audience = audience.clone();
                            spec.not_on_or_after += 600;
                            spec.scd_not_on_or_after += 600;
                            let user = format!("bench-saml-{}", i % users);
                            spec.name_id = Some((
                                user.clone(),
                                "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
                            ));
                            spec.attributes = vec![(
                                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".into(),
                                vec![format!("{user}@corp.example")],
                            )];
                            (i, saml_sign::b64(&spec.signed()))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("signer"))
            .collect()
    });
    let mut responses: Vec<Option<String>> = vec![None; n];
    for (i, response) in signed.into_iter().flatten() {
        responses[i] = Some(response);
    }
    started
        .into_iter()
        .zip(responses)
        .map(|((browser, _, relay), response)| SamlFlow {
            browser,
            fields: vec![
                ("SAMLResponse".to_string(), response.expect("signed")),
                ("RelayState".to_string(), relay),
            ],
        })
        .collect()
}

/// One SAML sign-in at the ACS: the IdP's cross-site POST (no cookies), then the
/// browser's continuation, which must reach the client with a code.
async fn saml_sign_in(poster: &reqwest::Client, base: &str, flow: SamlFlow) -> bool {
    let Ok(r) = poster
        .post(format!("{base}/saml2/idpresponse"))
        .form(&flow.fields)
        .send()
        .await
    else {
        return false;
    };
    let Some(next) = r.headers().get("location").and_then(|l| l.to_str().ok()) else {
        return false;
    };
    let Ok(r) = flow.browser.get(next).send().await else {
        return false;
    };
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.contains("code="))
}

/// The SAML phase: `flows` consumed by `conns` workers.
async fn saml_phase(conns: usize, base: Arc<String>, flows: Vec<SamlFlow>) -> Phase {
    let queue = Arc::new(Mutex::new(flows));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let (ops, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (queue, lat, ops, errors, base) = (
                queue.clone(),
                lat.clone(),
                ops.clone(),
                errors.clone(),
                base.clone(),
            );
            tokio::spawn(async move {
                let poster = reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .expect("client");
                let mut mine = Vec::new();
                loop {
                    let Some(flow) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let t = Instant::now();
                    if saml_sign_in(&poster, &base, flow).await {
                        ops.fetch_add(1, Ordering::Relaxed);
                        mine.push(t.elapsed());
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let latencies = std::mem::take(&mut *lat.lock().unwrap());
    Phase {
        ops: ops.load(Ordering::Relaxed),
        seconds,
        latencies,
        errors: errors.load(Ordering::Relaxed),
    }
}

fn raw_argon2_rate(seconds: f64) -> f64 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let hash = StandardHasher.hash(PASSWORD).expect("hash");
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..cores)
        .map(|_| {
            let (hash, count) = (hash.clone(), count.clone());
            std::thread::spawn(move || {
                while start.elapsed().as_secs_f64() < seconds {
                    let _ = StandardHasher.verify(PASSWORD, &hash);
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Phase {
    ops: u64,
    seconds: f64,
    latencies: Vec<Duration>,
    errors: u64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.seconds
    }
    fn pct(&self, p: f64) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        if l.is_empty() {
            return 0.0;
        }
        let i = ((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1;
        l[i].as_secs_f64() * 1000.0
    }
}

/// Runs `op` on `conns` concurrent tasks for `seconds`.
async fn load<F, Fut>(conns: usize, seconds: f64, op: F) -> Phase
where
    F: Fn(reqwest::Client) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = bool> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let lat = Arc::new(Mutex::new(Vec::new()));
    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (stop, lat, ops, errors, op) = (
                stop.clone(),
                lat.clone(),
                ops.clone(),
                errors.clone(),
                op.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(reqwest::redirect::Policy::none())
                    .pool_max_idle_per_host(1)
                    .build()
                    .expect("client");
                let mut mine = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if op(client.clone()).await {
                        ops.fetch_add(1, Ordering::Relaxed);
                        mine.push(t.elapsed());
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.lock().unwrap().extend(mine);
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let seconds = start.elapsed().as_secs_f64();
    let latencies = std::mem::take(&mut *lat.lock().unwrap());
    Phase {
        ops: ops.load(Ordering::Relaxed),
        seconds,
        latencies,
        errors: errors.load(Ordering::Relaxed),
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

async fn sign_in_once(client: reqwest::Client, base: Arc<String>, user: &str) -> Option<String> {
    let authorize = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid&state=s&prompt=login"
    );
    let r = client.get(&authorize).send().await.ok()?;
    let login = r.headers().get("location")?.to_str().ok()?.to_string();
    let page = client
        .get(format!("{base}{login}"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let (flow, csrf) = (hidden(&page, "flow")?, hidden(&page, "_csrf")?);
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", user),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .ok()?;
    let loc = r.headers().get("location")?.to_str().ok()?.to_string();
    loc.contains("code=").then_some(loc)
}

#[tokio::main]
async fn main() {
    // reqwest is built without a TLS provider of its own (see Cargo.toml).
    cognate::federation::http::install_crypto_provider();
    // `BENCH_ONLY=corpus`: issue 17's corpus lookup alone, in this process.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("corpus") {
        corpus::figures();
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let conns: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let binary = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/cognate");
    assert!(
        binary.exists(),
        "build the server first: cargo build --release (the example runs target/release/cognate)"
    );
    // The SAML phase needs the independent signer (`xmlsec1` and `openssl`).
    let saml = std::env::var("CI").as_deref() != Ok("true") && saml_sign::available();
    let dir = tempfile::tempdir().expect("tempdir");
    let hook_secret = pre_token::Secret::default();
    let hook_url = pre_token::start_receiver(hook_secret.clone()).await;
    let config = format!(
        r#"
[server]
data_dir = "data"

[[pools]]
id = "{POOL}"
name = "bench"

[[pools.resource_servers]]
identifier = "api"
name = "API"
scopes = [{{ name = "read" }}]

[[pools.clients]]
id = "{M2M}"
name = "m2m"
generate_secret = true
allowed_oauth_flows = ["client_credentials"]
allowed_oauth_scopes = ["api/read"]

[[pools.clients]]
id = "{WEB}"
name = "web"
callback_urls = ["http://127.0.0.1:9/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
require_pkce = false
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
{supported}
{saml_idp}
{hooked}
{threat}
"#,
        hooked = pre_token::pool_toml(&hook_url),
        threat = threat::pool_toml(),
        supported = if saml {
            "supported_identity_providers = [\"COGNITO\", \"Corp\"]"
        } else {
            ""
        },
        saml_idp = if saml { saml_idp_toml() } else { String::new() },
    );
    std::fs::write(dir.path().join("cognate.toml"), config).expect("config");
    let secret_var = format!("COGNATE_CLIENT_SECRET_{M2M}");
    let status = std::process::Command::new(&binary)
        .current_dir(dir.path())
        .env(&secret_var, M2M_SECRET)
        .args(["-c", "cognate.toml", "apply"])
        .status()
        .expect("apply");
    assert!(status.success());
    for (i, pool) in (0..conns).flat_map(|i| {
        [
            (i, POOL),
            (i, pre_token::HOOKED_POOL),
            (i, threat::THREAT_POOL),
        ]
    }) {
        let (name, email) = (format!("bench{i}"), format!("email=bench{i}@example.com"));
        let status = std::process::Command::new(&binary)
            .current_dir(dir.path())
            .env(&secret_var, M2M_SECRET)
            .args(["-c", "cognate.toml", "users", "create", "--pool", pool])
            .args([
                name.as_str(),
                "--attribute",
                email.as_str(),
                "--password",
                PASSWORD,
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("create user");
        assert!(status.success());
    }
    // The hooked pool's webhook secret, for the receiver to verify signatures with.
    let printed = std::process::Command::new(&binary)
        .current_dir(dir.path())
        .env(&secret_var, M2M_SECRET)
        .args([
            "-c",
            "cognate.toml",
            "triggers",
            "secret",
            pre_token::HOOKED_POOL,
        ])
        .output()
        .expect("triggers secret");
    let printed = String::from_utf8_lossy(&printed.stdout);
    let key = printed
        .trim()
        .strip_prefix("whsec_")
        .and_then(|k| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(k).ok()
        })
        .expect("a whsec_ secret");
    let _ = hook_secret.set(key);
    // P3: the authorization check's records and credentials, written before the server
    // starts (one writer at a time on the SQLite file).
    let authorize_bench = prepare_authorize(&dir.path().join("data"), 256).await;
    let mut child = tokio::process::Command::new(&binary)
        .current_dir(dir.path())
        .env(&secret_var, M2M_SECRET)
        .env("RUST_LOG", "warn")
        .args(["-c", "cognate.toml", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("serve");
    let pid = child.id().expect("pid");
    let stdout = child.stdout.take().expect("stdout");
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut base = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(rest) = line.strip_prefix("Cognate listening on ") {
            base = rest.split_whitespace().next().unwrap_or("").to_string();
            break;
        }
    }
    assert!(!base.is_empty(), "server did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = Arc::new(base);
    let peak = Arc::new(AtomicU64::new(0));
    {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    println!(
        "Cognate benchmark: {conns} connections, {seconds} s per phase, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    // `BENCH_ONLY=pre_token`: issue 16's figure alone (the other phases take minutes).
    if std::env::var("BENCH_ONLY").as_deref() == Ok("pre_token") {
        pre_token::figures(conns, seconds, base.clone()).await;
        let _ = child.kill().await;
        return;
    }
    // `BENCH_ONLY=threat`: issue 17's figure alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("threat") {
        threat::figures(conns, seconds, base.clone()).await;
        let _ = child.kill().await;
        return;
    }
    let raw_sign = raw_signing_rate(2.0);
    println!("raw RS256 signing, 1 thread:          {raw_sign:>8.0} signs/s");

    // Warm-up (keys parsed, connections open).
    let cc = {
        let base = base.clone();
        move |client: reqwest::Client| {
            let base = base.clone();
            async move {
                client
                    .post(format!("{base}/oauth2/token"))
                    .basic_auth(M2M, Some(M2M_SECRET))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        }
    };
    let _ = load(conns, 1.0, cc.clone()).await;
    let phase = load(conns, seconds, cc).await;
    println!(
        "client_credentials:                   {:>8.0} tokens/s  ({:.2} of raw signing)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        phase.rate(),
        phase.rate() / raw_sign,
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );

    // A refresh token from one real sign-in.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let loc = sign_in_once(client.clone(), base.clone(), "bench0")
        .await
        .expect("sign-in");
    let code = url::Url::parse(&loc)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .expect("code");
    let tokens: serde_json::Value = client
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let refresh = Arc::new(
        tokens["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_string(),
    );
    let rt = {
        let (base, refresh) = (base.clone(), refresh.clone());
        move |client: reqwest::Client| {
            let (base, refresh) = (base.clone(), refresh.clone());
            async move {
                client
                    .post(format!("{base}/oauth2/token"))
                    .form(&[
                        ("grant_type", "refresh_token"),
                        ("client_id", WEB),
                        ("refresh_token", refresh.as_str()),
                    ])
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false)
            }
        }
    };
    let phase = load(conns, seconds, rt).await;
    println!(
        "refresh_token (ID + access token):    {:>8.0} grants/s  ({:.2} of raw signing / 2)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        phase.rate(),
        phase.rate() * 2.0 / raw_sign,
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );

    // Measured right before the sign-in phase, under the same conditions (the two cores
    // here are shared and noisy).
    let raw_argon = raw_argon2_rate(seconds);
    println!("raw Argon2id verification, all cores: {raw_argon:>8.1} hashes/s");
    let si = {
        let base = base.clone();
        let turn = Arc::new(AtomicU64::new(0));
        move |client: reqwest::Client| {
            let base = base.clone();
            let user = format!(
                "bench{}",
                turn.fetch_add(1, Ordering::Relaxed) % conns as u64
            );
            async move { sign_in_once(client, base, &user).await.is_some() }
        }
    };
    let phase = load(conns, seconds, si).await;
    println!(
        "password sign-in (hosted UI, 3 req):  {:>8.1} sign-ins/s ({:.2} of raw Argon2id)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        phase.rate(),
        phase.rate() / raw_argon,
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );
    auth::figures(conns, seconds, base.clone()).await;
    pre_token::figures(conns, seconds, base.clone()).await;
    threat::figures(conns, seconds, base.clone()).await;
    if saml {
        let flows = prepare_saml(&base, SAML_RESPONSES, conns).await;
        let raw_verify = raw_verify_rate(seconds.min(3.0));
        println!("raw RSA-SHA256 verification, 1 thread: {raw_verify:>7.0} verifications/s");
        let in_process = verify_rate(seconds.min(3.0));
        println!(
            "SAML response verify, in process, 1 thread: {in_process:>6.0} responses/s ({:.3} of raw RSA-SHA256 verification)",
            in_process / raw_verify
        );
        let phase = saml_phase(conns, base.clone(), flows).await;
        println!(
            "SAML sign-in at the ACS (POST + GET): {:>8.1} sign-ins/s ({:.3} of raw RSA-SHA256 verification)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
            phase.rate(),
            phase.rate() / raw_verify,
            phase.pct(0.50),
            phase.pct(0.99),
            phase.errors
        );
    } else {
        println!("SAML sign-in at the ACS: NOT RUN (xmlsec1 or openssl missing)");
    }
    // Identity pools: GetCredentialsForIdentity/s, then authorization checks/s and the
    // check's p99 at half that rate.
    get_credentials_figures(conns, seconds, base.clone(), &authorize_bench).await;
    authorize_figures(conns, seconds, base.clone(), authorize_bench).await;
    println!(
        "server resident memory: peak {:.1} MB, now {:.1} MB",
        peak.load(Ordering::Relaxed) as f64 / 1024.0,
        rss_kib(pid) as f64 / 1024.0
    );
    let _ = child.kill().await;
}

// --- P3: the authorization check (issue 12, item 5) ----------------------------------------

/// What the authorization phases send: pre-signed check requests (SigV4 signatures stay
/// valid 15 minutes, and a check has no nonce, so each is sent many times) and the
/// resource server's Basic credentials.
struct AuthorizeBench {
    key_id: String,
    secret: String,
    bodies: Vec<String>,
    /// The guest identities the credentials were vended for (GetCredentialsForIdentity's
    /// phase asks for theirs again, over the API).
    identities: Vec<String>,
}

const AUTHORIZE_KEY: &str = "bench-authorize";
const AUTHORIZE_SECRET: &str = "bench-authorize-secret-0123456789";
const BENCH_IPOOL: &str = "us-east-1:0c0c0c0c-0000-4000-8000-00000000000c";
const BENCH_ROLE: &str = "arn:aws:iam::123456789012:role/BenchFiles";

/// Writes an identity pool, a role, `n` identities and an `authorize` admin key straight
/// into the (stopped) server's SQLite store, and vends credentials for each identity with
/// the data directory's master key (`get_credentials_figures` asks for them again over
/// the API).
async fn prepare_authorize(data_dir: &std::path::Path, n: usize) -> AuthorizeBench {
    use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys, NewAdminKey};
    use cognate::core::identity_pools::credentials::{vend, SessionGrant};
    use cognate::core::model::{Identity, IdentityPool, Origin, Role, RoleTrust, TrustAmr};
    use cognate::core::secrets::{MasterKey, SecretString};
    use cognate::core::storage::Store;

    let master = MasterKey::read_file(&data_dir.join("master.key")).expect("master key");
    let store: Arc<dyn Store> = Arc::new(
        cognate::store::sqlite::SqliteStore::open(&data_dir.join("cognate.db"))
            .await
            .expect("store"),
    );
    let now = cognate::core::now();
    store
        .put_identity_pool(&IdentityPool {
            id: BENCH_IPOOL.into(),
            name: "bench".into(),
            allow_unauthenticated: true,
            allow_classic_flow: false,
            user_pools: vec![],
            supported_login_providers: Default::default(),
            developer_provider_name: None,
            // Guests get the bench role: GetCredentialsForIdentity's phase needs no token.
            roles: cognate::core::identity_pools::mapping::IdentityPoolRoles {
                authenticated: None,
                unauthenticated: Some(BENCH_ROLE.into()),
            },
            role_mappings: Default::default(),
            tags: Default::default(),
            upstream_sts_endpoint: None,
            origin: Origin::Config,
            created_at: now,
            updated_at: now,
        })
        .await
        .expect("identity pool");
    store
        .put_role(&Role {
            arn: BENCH_ROLE.into(),
            trust: RoleTrust {
                identity_pool_ids: vec![BENCH_IPOOL.into()],
                amr: TrustAmr::Any,
            },
            policy: r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"files:GetObject","Resource":"arn:cognate:files:::${cognito-identity.amazonaws.com:sub}/*"},
              {"Effect":"Deny","Action":"files:*","Resource":"arn:cognate:files:::*/private/*"}]}"#
                .into(),
            max_session_secs: 3600,
            description: None,
            origin: Origin::Config,
            updated_at: now,
        })
        .await
        .expect("role");
    let master = Arc::new(master);
    AdminKeys::new(store.clone(), master.clone())
        .create(
            NewAdminKey {
                access_key_id: Some(AUTHORIZE_KEY.into()),
                secret: Some(SecretString::new(AUTHORIZE_SECRET)),
                description: "bench".into(),
                purpose: AdminKeyPurpose::Authorize,
            },
            now,
        )
        .await
        .expect("authorize key");
    let mut bodies = Vec::with_capacity(n);
    let mut identities = Vec::with_capacity(n);
    for _ in 0..n {
        let candidate = Identity {
            id: cognate::core::model::new_identity_id("us-east-1"),
            identity_pool_id: BENCH_IPOOL.into(),
            logins: vec![],
            created_at: now,
            updated_at: now,
        };
        let identity = store
            .get_or_create_identity(BENCH_IPOOL, None, &candidate)
            .await
            .expect("identity");
        let creds = vend(
            &master,
            &SessionGrant {
                identity_id: identity.id.clone(),
                identity_pool_id: BENCH_IPOOL.into(),
                role_arn: BENCH_ROLE.into(),
                user: None,
                authenticated: false,
                issued_at: now,
                expires_at: now + 3600,
            },
        );
        bodies.push(signed_check(&creds, &identity.id));
        identities.push(identity.id);
    }
    AuthorizeBench {
        key_id: AUTHORIZE_KEY.into(),
        secret: AUTHORIZE_SECRET.into(),
        bodies,
        identities,
    }
}

/// The check body for `GET https://files.bench.example/files/<identity>/doc` signed with
/// `creds` as a client would (aws-sigv4, service `files`).
fn signed_check(
    creds: &cognate::core::identity_pools::credentials::VendedCredentials,
    identity_id: &str,
) -> String {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let path = format!(
        "/files/{}/doc",
        percent_encoding::utf8_percent_encode(identity_id, percent_encoding::NON_ALPHANUMERIC)
    );
    let url = format!("https://files.bench.example{path}");
    let identity = aws_credential_types::Credentials::new(
        &creds.access_key_id,
        creds.secret_access_key.expose(),
        Some(creds.session_token.clone()),
        None,
        "bench",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("files")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let host = [("host", "files.bench.example")];
    let request = SignableRequest::new("GET", &url, host.iter().copied(), SignableBody::Bytes(b""))
        .expect("signable");
    let (instructions, _) = sign(request, &params).expect("sign").into_parts();
    let mut headers: Vec<(String, String)> = vec![("host".into(), "files.bench.example".into())];
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    serde_json::json!({
        "request": {"method": "GET", "path": path, "query": "", "headers": headers,
            "body_sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        "service": "files", "region": "us-east-1",
        "action": "files:GetObject",
        "resource": format!("arn:cognate:files:::{identity_id}/doc"),
    })
    .to_string()
}

/// One check; true when answered `Allow`.
async fn check_once(
    client: &reqwest::Client,
    base: &str,
    bench: &AuthorizeBench,
    i: usize,
) -> bool {
    let Ok(r) = client
        .post(format!("{base}/iam/authorize"))
        .basic_auth(&bench.key_id, Some(&bench.secret))
        .header("content-type", "application/json")
        .body(bench.bodies[i % bench.bodies.len()].clone())
        .send()
        .await
    else {
        return false;
    };
    r.status().is_success()
        && r.json::<serde_json::Value>()
            .await
            .is_ok_and(|v| v["decision"] == "Allow")
}

/// Closed loop: checks/s at `conns` connections.
async fn authorize_phase(
    conns: usize,
    seconds: f64,
    base: Arc<String>,
    bench: Arc<AuthorizeBench>,
) -> Phase {
    let turn = Arc::new(AtomicU64::new(0));
    load(conns, seconds, move |client| {
        let (base, bench, turn) = (base.clone(), bench.clone(), turn.clone());
        async move {
            let i = turn.fetch_add(1, Ordering::Relaxed) as usize;
            check_once(&client, &base, &bench, i).await
        }
    })
    .await
}

/// Open loop: one check every `1 / rate` seconds on a fixed schedule for `seconds`, each
/// latency measured from its scheduled start (so a stall counts against every request
/// it delays, not only the one it hit).
async fn authorize_open_loop(
    rate: f64,
    seconds: f64,
    base: Arc<String>,
    bench: Arc<AuthorizeBench>,
) -> Phase {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let total = (rate * seconds) as usize;
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let at = start + interval * i as u32;
        tokio::time::sleep_until(at).await;
        let (client, base, bench) = (client.clone(), base.clone(), bench.clone());
        tasks.push(tokio::spawn(async move {
            let ok = check_once(&client, &base, &bench, i).await;
            (ok, at.elapsed())
        }));
    }
    let mut phase = Phase {
        ops: 0,
        seconds: 0.0,
        latencies: Vec::with_capacity(total),
        errors: 0,
    };
    for t in tasks {
        match t.await {
            Ok((true, latency)) => {
                phase.ops += 1;
                phase.latencies.push(latency);
            }
            _ => phase.errors += 1,
        }
    }
    phase.seconds = start.elapsed().as_secs_f64();
    phase
}

/// The authorization figures: closed-loop throughput at `conns`, then p99 at half of it.
async fn authorize_figures(conns: usize, seconds: f64, base: Arc<String>, bench: AuthorizeBench) {
    let bench = Arc::new(bench);
    // Warm-up: connections open, the role and keys read once.
    let _ = authorize_phase(conns, 1.0, base.clone(), bench.clone()).await;
    let closed = authorize_phase(conns, seconds, base.clone(), bench.clone()).await;
    println!(
        "authorization check (POST /iam/authorize): {:>8.0} checks/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        closed.rate(),
        closed.pct(0.50),
        closed.pct(0.99),
        closed.errors
    );
    let half = closed.rate() / 2.0;
    let open = authorize_open_loop(half, seconds, base, bench).await;
    println!(
        "authorization check, open loop at {half:.0}/s: p50 {:.2} ms  p99 {:.2} ms  errors {}",
        open.pct(0.50),
        open.pct(0.99),
        open.errors
    );
}

/// GetCredentialsForIdentity/s (the enhanced flow's vending: the identity read, the role
/// resolved and its trust checked, credentials sealed) at `conns` connections, for the
/// bench's guest identities (no ID token to verify, so the figure is the vending itself).
async fn get_credentials_figures(
    conns: usize,
    seconds: f64,
    base: Arc<String>,
    bench: &AuthorizeBench,
) {
    let identities = Arc::new(bench.identities.clone());
    let turn = Arc::new(AtomicU64::new(0));
    let phase = load(conns, seconds, move |client| {
        let (base, identities, turn) = (base.clone(), identities.clone(), turn.clone());
        async move {
            let i = turn.fetch_add(1, Ordering::Relaxed) as usize;
            let body = serde_json::json!({"IdentityId": identities[i % identities.len()]});
            let Ok(r) = client
                .post(base.as_str())
                .header("content-type", "application/x-amz-json-1.1")
                .header(
                    "x-amz-target",
                    "AWSCognitoIdentityService.GetCredentialsForIdentity",
                )
                .body(body.to_string())
                .send()
                .await
            else {
                return false;
            };
            r.status().is_success()
                && r.json::<serde_json::Value>()
                    .await
                    .is_ok_and(|v| v["Credentials"]["SessionToken"].is_string())
        }
    })
    .await;
    println!(
        "GetCredentialsForIdentity:            {:>8.0} credentials/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        phase.rate(),
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );
}
