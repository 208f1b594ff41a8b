//! The IdP client against a tiny in-process fake that counts what it is asked.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap as AxumHeaders, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::*;

#[derive(Default)]
struct FakeState {
    hits: Mutex<HashMap<String, usize>>,
    kids: Mutex<Vec<String>>,
    failing: Mutex<bool>,
    base: Mutex<String>,
}

impl FakeState {
    fn hit(&self, uri: &Uri) {
        *self
            .hits
            .lock()
            .unwrap()
            .entry(uri.path().to_string())
            .or_default() += 1;
    }
}

/// A fake IdP on 127.0.0.1:0; dropping `stop` (or sending on it) shuts it down.
struct Fake {
    base: String,
    state: Arc<FakeState>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Fake {
    async fn start() -> Fake {
        let state = Arc::new(FakeState::default());
        *state.kids.lock().unwrap() = vec!["k1".into()];
        let jwks = |cache_control: Option<&'static str>| {
            move |State(s): State<Arc<FakeState>>, uri: Uri| async move {
                s.hit(&uri);
                if *s.failing.lock().unwrap() {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let keys: Vec<Value> = s
                    .kids
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|k| json!({"kty": "RSA", "kid": k, "n": "AQAB", "e": "AQAB"}))
                    .collect();
                let mut response = Json(json!({ "keys": keys })).into_response();
                if let Some(cc) = cache_control {
                    response
                        .headers_mut()
                        .insert(CACHE_CONTROL, cc.parse().unwrap());
                }
                response
            }
        };
        let app = Router::new()
            .route(
                "/jwks",
                get(jwks(Some("public, max-age=60, must-revalidate"))),
            )
            .route("/jwks-plain", get(jwks(None)))
            .route("/jwks-long", get(jwks(Some("max-age=31536000"))))
            .route("/jwks-nocache", get(jwks(Some("no-cache"))))
            .route(
                "/jwks-slow",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    Json(json!({"keys": []}))
                }),
            )
            .route(
                "/not-jwks",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    Json(json!({"issuer": "x"}))
                }),
            )
            .route(
                "/.well-known/openid-configuration",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    let base = s.base.lock().unwrap().clone();
                    Json(json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}))
                }),
            )
            .route(
                "/tenant/.well-known/openid-configuration",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    let base = s.base.lock().unwrap().clone();
                    Json(json!({"issuer": format!("{base}/tenant")}))
                }),
            )
            .route(
                "/liar/.well-known/openid-configuration",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    Json(json!({"issuer": "https://accounts.google.com"}))
                }),
            )
            .route(
                "/big",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    format!("\"{}\"", "x".repeat(2 * 1024 * 1024))
                }),
            )
            .route(
                "/big-stream",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    // No Content-Length: chunks until well past the cap.
                    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024]));
                    Body::from_stream(futures::stream::iter(chunks))
                }),
            )
            .route(
                "/redirect",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    Response::builder()
                        .status(StatusCode::FOUND)
                        .header("location", "/target")
                        .body(Body::empty())
                        .unwrap()
                }),
            )
            .route(
                "/target",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    Json(json!({"followed": true}))
                }),
            )
            .route(
                "/slow",
                get(|State(s): State<Arc<FakeState>>, uri: Uri| async move {
                    s.hit(&uri);
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    Json(json!({}))
                }),
            )
            .route(
                "/token",
                post(
                    |State(s): State<Arc<FakeState>>,
                     uri: Uri,
                     headers: AxumHeaders,
                     body: String| async move {
                        s.hit(&uri);
                        let auth = headers
                            .get(AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        if body.contains("code=bad") {
                            return (
                                StatusCode::BAD_REQUEST,
                                Json(json!({"error": "invalid_grant"})),
                            );
                        }
                        (
                            StatusCode::OK,
                            Json(json!({"authorization": auth, "body": body})),
                        )
                    },
                ),
            )
            .route(
                "/me",
                get(
                    |State(s): State<Arc<FakeState>>, uri: Uri, headers: AxumHeaders| async move {
                        s.hit(&uri);
                        let auth = headers
                            .get(AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        Json(json!({"id": "1", "authorization": auth, "query": uri.query()}))
                    },
                ),
            )
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *state.base.lock().unwrap() = base.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Fake {
            base,
            state,
            stop: Some(stop),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn set_kids(&self, kids: &[&str]) {
        *self.state.kids.lock().unwrap() = kids.iter().map(|k| k.to_string()).collect();
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

/// A manual clock, in seconds.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> Self {
        TestClock(Arc::new(AtomicI64::new(1_700_000_000)))
    }

    fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    fn clock(&self) -> Clock {
        let t = self.0.clone();
        Arc::new(move || t.load(Ordering::SeqCst))
    }
}

fn client(clock: &TestClock) -> IdpHttp {
    IdpHttp::with_clock(HttpSettings::default(), clock.clock())
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cache_control_max_age_is_honoured() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let url = fake.url("/jwks");

    http.jwks(&url, None).await.unwrap();
    http.jwks(&url, Some("k1")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 1);
    clock.advance(59);
    http.jwks(&url, None).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 1, "fresh for max-age=60");
    clock.advance(1);
    http.jwks(&url, None).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 2, "refetched once max-age passed");
    http.jwks(&url, None).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 2);
    fake.stop().await;
}

#[tokio::test]
async fn freshness_defaults_to_an_hour_and_is_capped_at_a_day() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let (plain, long, nocache) = (
        fake.url("/jwks-plain"),
        fake.url("/jwks-long"),
        fake.url("/jwks-nocache"),
    );
    for url in [&plain, &long, &nocache] {
        http.jwks(url, None).await.unwrap();
    }
    http.jwks(&nocache, None).await.unwrap();
    assert_eq!(
        fake.hits("/jwks-nocache"),
        2,
        "no-cache: always revalidated"
    );
    clock.advance(3599);
    http.jwks(&plain, None).await.unwrap();
    assert_eq!(fake.hits("/jwks-plain"), 1);
    clock.advance(1);
    http.jwks(&plain, None).await.unwrap();
    assert_eq!(fake.hits("/jwks-plain"), 2, "an hour without max-age");
    clock.advance(86400 - 3600 - 1);
    http.jwks(&long, None).await.unwrap();
    assert_eq!(fake.hits("/jwks-long"), 1);
    clock.advance(1);
    http.jwks(&long, None).await.unwrap();
    assert_eq!(
        fake.hits("/jwks-long"),
        2,
        "a year's max-age is capped at a day"
    );
    fake.stop().await;
}

#[tokio::test]
async fn an_unknown_kid_refetches_at_most_once_per_interval() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let url = fake.url("/jwks");

    assert_eq!(kids(&http.jwks(&url, Some("k1")).await.unwrap()), ["k1"]);
    assert_eq!(fake.hits("/jwks"), 1);

    // The IdP rotated in k2: the first token signed with it triggers one refetch.
    fake.set_kids(&["k1", "k2"]);
    assert_eq!(
        kids(&http.jwks(&url, Some("k2")).await.unwrap()),
        ["k1", "k2"]
    );
    assert_eq!(fake.hits("/jwks"), 2);
    http.jwks(&url, Some("k2")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 2, "k2 is now cached");

    // A forged kid within 30 s: no request, the cached set is returned.
    clock.advance(10);
    assert_eq!(
        kids(&http.jwks(&url, Some("forged")).await.unwrap()),
        ["k1", "k2"]
    );
    clock.advance(19);
    http.jwks(&url, Some("forged-again")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 2, "rate limited");

    // 30 s after the last kid refetch, another unknown kid may refetch (once).
    clock.advance(1);
    fake.set_kids(&["k3"]);
    assert_eq!(kids(&http.jwks(&url, Some("k3")).await.unwrap()), ["k3"]);
    assert_eq!(fake.hits("/jwks"), 3);
    http.jwks(&url, Some("k4")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 3);
    fake.stop().await;
}

#[tokio::test]
async fn the_stale_copy_is_served_while_the_idp_is_down() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let url = fake.url("/jwks");
    http.jwks(&url, None).await.unwrap();

    // The IdP answers 503: the expired copy is served, and retried only after 30 s.
    *fake.state.failing.lock().unwrap() = true;
    clock.advance(61);
    assert_eq!(kids(&http.jwks(&url, None).await.unwrap()), ["k1"]);
    assert_eq!(fake.hits("/jwks"), 2);
    http.jwks(&url, None).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 2, "no retry within the back-off");
    // Unknown kids while failing are rate limited too.
    clock.advance(30);
    http.jwks(&url, Some("k9")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 3);
    http.jwks(&url, Some("k9")).await.unwrap();
    assert_eq!(fake.hits("/jwks"), 3);

    // Stopped altogether: still served.
    let base = fake.base.clone();
    fake.stop().await;
    clock.advance(3600);
    assert_eq!(kids(&http.jwks(&url, None).await.unwrap()), ["k1"]);

    // A day past its freshness the copy is no longer trusted.
    clock.advance(86400);
    let err = http.jwks(&url, None).await.unwrap_err();
    // Refused; or, on a pooled connection the fake closed, failed mid-request.
    assert!(
        matches!(err, HttpError::Connect { .. } | HttpError::Request { .. }),
        "{err}"
    );
    // Never fetched, never served.
    let err = http.jwks(&format!("{base}/other"), None).await.unwrap_err();
    // Refused; or, on a pooled connection the fake closed, failed mid-request.
    assert!(
        matches!(err, HttpError::Connect { .. } | HttpError::Request { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn concurrent_misses_make_one_request() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let url = fake.url("/jwks-slow");
    let calls = (0..8).map(|_| http.jwks(&url, None));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(fake.hits("/jwks-slow"), 1);
    fake.stop().await;
}

#[tokio::test]
async fn documents_of_the_wrong_shape_are_refused_and_not_cached() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    let err = http.jwks(&fake.url("/not-jwks"), None).await.unwrap_err();
    assert!(err.to_string().contains("\"keys\" array"), "{err}");
    http.jwks(&fake.url("/not-jwks"), None).await.unwrap_err();
    assert_eq!(fake.hits("/not-jwks"), 2);
    fake.stop().await;
}

#[tokio::test]
async fn discovery_checks_the_issuer_and_keeps_its_path() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);

    let doc = http.discovery(&fake.base).await.unwrap();
    assert_eq!(doc["jwks_uri"], fake.url("/jwks"));
    http.discovery(&format!("{}/", fake.base))
        .await
        .unwrap_err();
    let tenant = http.discovery(&fake.url("/tenant")).await.unwrap();
    assert_eq!(tenant["issuer"], fake.url("/tenant"));
    assert_eq!(fake.hits("/tenant/.well-known/openid-configuration"), 1);

    // OIDC Discovery 4.3: a document naming another issuer is refused.
    let err = http.discovery(&fake.url("/liar")).await.unwrap_err();
    assert!(err.to_string().contains("accounts.google.com"), "{err}");

    http.discovery(&fake.base).await.unwrap();
    assert_eq!(
        fake.hits("/.well-known/openid-configuration"),
        1,
        "one fetch, cached (the trailing-slash issuer was refused from the cache)"
    );
    fake.stop().await;

    assert_eq!(
        discovery_url("https://idp.example/tenant/").unwrap(),
        "https://idp.example/tenant/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://accounts.google.com").unwrap(),
        "https://accounts.google.com/.well-known/openid-configuration"
    );
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    let fake = Fake::start().await;
    let clock = TestClock::new();
    let http = client(&clock);
    for path in ["/big", "/big-stream"] {
        let err = http.get_json(&fake.url(path), None).await.unwrap_err();
        assert!(
            matches!(err, HttpError::TooLarge { limit: 1048576, .. }),
            "{path}: {err}"
        );
    }
    let err = http.jwks(&fake.url("/big"), None).await.unwrap_err();
    assert!(matches!(err, HttpError::TooLarge { .. }), "{err}");
    fake.stop().await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let fake = Fake::start().await;
    let http = client(&TestClock::new());
    let err = http
        .get_json(&fake.url("/redirect"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, HttpError::Redirect { status: 302, .. }),
        "{err}"
    );
    let raw = http
        .execute(http.client().unwrap().get(fake.url("/redirect")))
        .await
        .unwrap();
    assert_eq!(raw.status, 302);
    assert_eq!(fake.hits("/target"), 0);
    fake.stop().await;
}

#[tokio::test]
async fn the_timeout_fires() {
    let fake = Fake::start().await;
    let settings = HttpSettings {
        timeout: Duration::from_millis(300),
        ..HttpSettings::default()
    };
    let http = IdpHttp::with_clock(settings, TestClock::new().clock());
    let started = Instant::now();
    let err = http.get_json(&fake.url("/slow"), None).await.unwrap_err();
    assert!(matches!(err, HttpError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    fake.stop().await;
}

#[tokio::test]
async fn token_requests_and_profile_calls() {
    let fake = Fake::start().await;
    let http = client(&TestClock::new());

    // A token request as the oauth2 crate builds it: method, headers and body arrive as
    // they were; any status comes back as it is, with its headers and body.
    let request = oauth2::http::Request::builder()
        .method("POST")
        .uri(fake.url("/token"))
        .header("authorization", "Basic abc")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"grant_type=authorization_code&code=a+b%26c".to_vec())
        .unwrap();
    let answer = http.send(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    let echoed: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(echoed["authorization"], "Basic abc");
    assert_eq!(echoed["body"], "grant_type=authorization_code&code=a+b%26c");
    let request = oauth2::http::Request::builder()
        .method("POST")
        .uri(fake.url("/token"))
        .body(b"code=bad".to_vec())
        .unwrap();
    let answer = http.send(request).await.unwrap();
    assert_eq!(answer.status(), 400);
    let refused: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(refused["error"], "invalid_grant");

    // A profile call with a bearer token; the message of a failure hides the query.
    let token = SecretString::new("EAAB-token");
    let me = http
        .get_json(
            &fake.url("/me?fields=id,email&appsecret_proof=abc"),
            Some(&token),
        )
        .await
        .unwrap();
    assert_eq!(me["authorization"], "Bearer EAAB-token");
    assert_eq!(me["query"], "fields=id,email&appsecret_proof=abc");
    let err = http
        .get_json(&fake.url("/nothing?access_token=SECRET"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, HttpError::Status { status: 404, .. }));
    assert!(!err.to_string().contains("SECRET"), "{err}");
    let gone = fake.url("/me?access_token=SECRET");
    fake.stop().await;

    // Connection refused names the URL without its query either.
    let err = http.get_json(&gone, None).await.unwrap_err();
    // Refused; or, on a pooled connection the fake closed, failed mid-request.
    assert!(
        matches!(err, HttpError::Connect { .. } | HttpError::Request { .. }),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("SECRET"), "{err:?}");
}

#[test]
fn cache_control_parsing() {
    let headers = |values: &[&str]| {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CACHE_CONTROL, v.parse().unwrap());
        }
        h
    };
    assert_eq!(max_age(&headers(&[])), None);
    assert_eq!(max_age(&headers(&["public"])), None);
    assert_eq!(
        max_age(&headers(&[
            "public, max-age=19803, must-revalidate, no-transform"
        ])),
        Some(19803)
    );
    assert_eq!(max_age(&headers(&["Max-Age=\"60\""])), Some(60));
    assert_eq!(max_age(&headers(&["private", "max-age=5"])), Some(5));
    assert_eq!(max_age(&headers(&["max-age=60, no-store"])), Some(0));
    assert_eq!(max_age(&headers(&["no-cache"])), Some(0));
    assert_eq!(max_age(&headers(&["max-age=-1"])), None);
    assert_eq!(max_age(&headers(&["max-age=99999999999999999999"])), None);
    assert_eq!(
        max_age(&headers(&["max-age=18446744073709551615"])),
        Some(i64::MAX)
    );
}

#[test]
fn debug_of_a_response_leaves_out_the_body() {
    let response = RawResponse {
        status: 200,
        headers: HeaderMap::new(),
        body: br#"{"access_token":"upstream-access-token"}"#.to_vec(),
    };
    let text = format!("{response:?}");
    assert!(!text.contains("upstream-access-token"), "{text}");
    assert!(text.contains("200"), "{text}");
}
