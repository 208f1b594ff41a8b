//! A real headless Chromium driven over WebDriver (fantoccini + Debian's chromedriver).
//!
//! The harness starts Chromium itself (its own profile and XDG dirs in a per-test run
//! dir, its own short TMPDIR, `--remote-debugging-port=0`), reads the DevTools port from
//! `<profile>/DevToolsActivePort`, starts `chromedriver --port=0`, reads the port it
//! chose from its log, and attaches with `goog:chromeOptions.debuggerAddress`. Owning
//! the browser process (instead of letting chromedriver launch it) means dropping the
//! harness kills and reaps everything: both run in their own process group, killed as a
//! group, and die with the test process (`PR_SET_PDEATHSIG`) if it is killed.
//!
//! Chromium's singleton socket lives in TMPDIR and a Unix socket path holds at most 107
//! bytes, so TMPDIR is a short dir of its own under `/tmp` (a checkout at a deep path
//! made Chromium abort with "Socket path too long"); it is removed with the browser.
//! The run dir lives under Cargo's target tmp dir. It is removed when the test passes
//! (unless `COGNATE_KEEP_BROWSER_RUNS` is set) and kept when it panics, with
//! `failure.png` (a screenshot taken while unwinding) and both processes' logs.
//!
//! When Chromium or chromedriver is missing the harness prints a NOT RUN banner and
//! [`Browser::start`] returns `None`, so the test passes on a machine without them; with
//! `CI=true` it panics instead (CI installs them, see `.ci/run`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A phone's viewport in CSS pixels (an iPhone 12-15 sized screen).
pub const PHONE: (u32, u32) = (390, 844);
/// The desktop viewport the browser starts with.
pub const DESKTOP: (u32, u32) = (1280, 800);

/// A running headless Chromium with a WebDriver session attached.
pub struct Browser {
    /// The WebDriver session; use it for anything the helpers below lack.
    pub client: Client,
    run_dir: PathBuf,
    _tmp_dir: ShortTmp,
    session_id: String,
    driver_port: u16,
    chromium: Child,
    driver: Child,
    /// One browser at a time in this test binary: several Chromiums starting together on
    /// a loaded 2-core CI machine have aborted at start-up (SIGABRT).
    _slot: tokio::sync::OwnedSemaphorePermit,
}

static BROWSER_SLOT: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));

/// How many times a browser that dies while starting is started again.
const START_ATTEMPTS: usize = 3;

/// A browser that started, before it takes its slot.
struct Started {
    client: Client,
    run_dir: PathBuf,
    tmp_dir: ShortTmp,
    session_id: String,
    driver_port: u16,
    chromium: Child,
    driver: Child,
}

impl Started {
    fn into_browser(self, slot: tokio::sync::OwnedSemaphorePermit) -> Browser {
        Browser {
            client: self.client,
            run_dir: self.run_dir,
            _tmp_dir: self.tmp_dir,
            session_id: self.session_id,
            driver_port: self.driver_port,
            chromium: self.chromium,
            driver: self.driver,
            _slot: slot,
        }
    }
}

/// Chromium's TMPDIR: a short dir under `/tmp`, removed when dropped.
struct ShortTmp(PathBuf);

impl ShortTmp {
    fn create() -> Result<ShortTmp, String> {
        let dir = Path::new("/tmp").join(format!("cgb-{}", super::process::unique()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(ShortTmp(dir))
    }
}

impl Drop for ShortTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The last lines of a log file, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

impl Browser {
    /// Starts Chromium and chromedriver for the test `name`, or returns `None` (after a
    /// loud banner) when they are not installed and `CI` is not `true`.
    pub async fn start(name: &str) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "browser tests need {missing:?}: apt-get install -y chromium chromium-driver"
                );
            }
            eprintln!(
                "\n==== NOT RUN: browser tests (install chromium chromium-driver) ====\n\
                 ==== {name}: missing {missing:?} ====\n"
            );
            return None;
        }
        let slot = BROWSER_SLOT
            .clone()
            .acquire_owned()
            .await
            .expect("the browser semaphore is never closed");
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(name).await {
                Ok(parts) => return Some(parts.into_browser(slot)),
                Err(e) => {
                    eprintln!("the browser did not start, trying again: {e}");
                    failures.push(e);
                }
            }
        }
        panic!(
            "the browser did not start in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    async fn try_start(name: &str) -> Result<Started, String> {
        let run_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("browser")
            .join(format!("{name}-{}", super::process::unique()));
        let profile = run_dir.join("profile");
        let tmp_dir = ShortTmp::create()?;
        for dir in ["profile", "xdg-config", "xdg-cache"] {
            std::fs::create_dir_all(run_dir.join(dir)).map_err(|e| e.to_string())?;
        }
        let log = |file: &str| -> Result<Stdio, String> {
            std::fs::File::create(run_dir.join(file))
                .map(Stdio::from)
                .map_err(|e| e.to_string())
        };

        let mut cmd = Command::new(CHROMIUM);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--password-store=basic",
            "--hide-scrollbars",
            "--window-size=1280,800",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .env("TMPDIR", &tmp_dir.0)
        .env("XDG_CONFIG_HOME", run_dir.join("xdg-config"))
        .env("XDG_CACHE_HOME", run_dir.join("xdg-cache"))
        .stdin(Stdio::null())
        .stdout(log("chromium.log")?)
        .stderr(log("chromium.log")?);
        let mut chromium = spawn_owned(&mut cmd).map_err(|e| format!("chromium: {e}"))?;

        let devtools = match wait_for(Duration::from_secs(30), || {
            if let Ok(Some(status)) = chromium.try_wait() {
                return Some(Err(format!("chromium exited with {status}")));
            }
            let text = std::fs::read_to_string(profile.join("DevToolsActivePort")).ok()?;
            let port: u16 = text.lines().next()?.trim().parse().ok()?;
            Some(Ok(port))
        })
        .await
        {
            Some(Ok(port)) => port,
            other => {
                kill_group(&mut chromium);
                let why = match other {
                    Some(Err(e)) => e,
                    _ => "no DevToolsActivePort within 30 s".into(),
                };
                return Err(format!(
                    "{why}; log in {}:\n{}",
                    run_dir.display(),
                    log_tail(&run_dir.join("chromium.log"))
                ));
            }
        };

        let mut cmd = Command::new(CHROMEDRIVER);
        cmd.arg("--port=0")
            .env("TMPDIR", &tmp_dir.0)
            .stdin(Stdio::null())
            .stdout(log("chromedriver.log")?)
            .stderr(log("chromedriver.log")?);
        let mut driver = match spawn_owned(&mut cmd) {
            Ok(child) => child,
            Err(e) => {
                kill_group(&mut chromium);
                return Err(format!("chromedriver: {e}"));
            }
        };
        // "ChromeDriver was started successfully on port 41715."
        let driver_port = wait_for(Duration::from_secs(30), || {
            if let Ok(Some(_)) = driver.try_wait() {
                return Some(None);
            }
            let text = std::fs::read_to_string(run_dir.join("chromedriver.log")).ok()?;
            let rest = text.split("started successfully on port ").nth(1)?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u16>().ok().map(Some)
        })
        .await
        .flatten();
        let Some(driver_port) = driver_port else {
            kill_group(&mut chromium);
            kill_group(&mut driver);
            return Err(format!(
                "chromedriver did not start; log in {}",
                run_dir.display()
            ));
        };

        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "debuggerAddress": format!("127.0.0.1:{devtools}") }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let connected = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{driver_port}"))
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                kill_group(&mut chromium);
                kill_group(&mut driver);
                return Err(format!("webdriver session: {e}"));
            }
        };
        let session_id = client.session_id().await.ok().flatten().unwrap_or_default();
        Ok(Started {
            client,
            run_dir,
            tmp_dir,
            session_id,
            driver_port,
            chromium,
            driver,
        })
    }

    /// The per-test run dir (profile, logs, screenshots).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Opens `url` and waits for the page load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    /// Resizes the window so the page's viewport is `width` x `height` CSS pixels (the
    /// window's own frame is measured and added).
    pub async fn set_size(&self, width: u32, height: u32) {
        let resize = |w: u32, h: u32| async move {
            self.client
                .set_window_size(w, h)
                .await
                .unwrap_or_else(|e| panic!("resize to {w}x{h}: {e}"));
        };
        resize(width, height).await;
        let (inner_w, inner_h) = self.viewport().await;
        let frame = |outer: u32, inner: u64| outer.saturating_sub(inner as u32);
        let (dw, dh) = (frame(width, inner_w), frame(height, inner_h));
        if dw > 0 || dh > 0 {
            resize(width + dw, height + dh).await;
        }
    }

    /// The viewport's width and height in CSS pixels, as the page sees them.
    pub async fn viewport(&self) -> (u64, u64) {
        let v = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .expect("viewport");
        (
            v[0].as_u64().unwrap_or_default(),
            v[1].as_u64().unwrap_or_default(),
        )
    }

    /// Sets the viewport to [`PHONE`] or [`DESKTOP`] (or any `(width, height)`).
    pub async fn set_viewport(&self, (width, height): (u32, u32)) {
        self.set_size(width, height).await;
    }

    /// Adds a WebDriver virtual authenticator to the browser (W3C WebAuthn level 2, 11.3
    /// "Add Virtual Authenticator", which chromedriver implements): a CTAP2 platform
    /// authenticator that stores discoverable (resident) credentials and always passes
    /// user verification, so registration and sign-in need no human. Returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let id = self
            .webdriver(
                axum::http::Method::POST,
                "webauthn/authenticator",
                Some(serde_json::json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                    "automaticPresenceSimulation": true,
                })),
            )
            .await
            .unwrap_or_else(|e| panic!("add a virtual authenticator: {e}"));
        id.as_str()
            .unwrap_or_else(|| panic!("the authenticator id is not a string: {id}"))
            .to_string()
    }

    /// The credentials the virtual authenticator `authenticator` holds (11.7 "Get
    /// Credentials"): objects with `credentialId`, `isResidentCredential`, `rpId`,
    /// `userHandle` and `signCount`.
    pub async fn virtual_credentials(&self, authenticator: &str) -> Vec<serde_json::Value> {
        let list = self
            .webdriver(
                axum::http::Method::GET,
                &format!("webauthn/authenticator/{authenticator}/credentials"),
                None,
            )
            .await
            .unwrap_or_else(|e| panic!("credentials of {authenticator}: {e}"));
        list.as_array().cloned().unwrap_or_default()
    }

    /// Sends a WebDriver command fantoccini has no method for (`path` is relative to the
    /// session, e.g. `webauthn/authenticator`) and returns the answer's `value`.
    pub async fn webdriver(
        &self,
        method: axum::http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, fantoccini::error::CmdError> {
        self.client
            .issue_cmd(SessionCommand {
                method,
                path: path.to_string(),
                body,
            })
            .await
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Types `text` into the element matching the CSS `selector`.
    pub async fn fill(&self, selector: &str, text: &str) {
        let el = self.find(selector).await;
        el.clear().await.ok();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {selector}: {e}"));
    }

    /// Clicks the element matching `selector` (a submit button submits its form).
    pub async fn click(&self, selector: &str) {
        self.find(selector)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    }

    /// The visible text of the element matching `selector`.
    pub async fn text(&self, selector: &str) -> String {
        self.find(selector)
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("text of {selector}: {e}"))
    }

    /// Waits (up to the session's implicit wait) for `selector` and returns it.
    pub async fn find(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no element {selector}: {e}"))
    }

    /// Takes a screenshot without the async runtime (usable while unwinding): asks
    /// chromedriver over a plain blocking HTTP/1.1 request.
    fn screenshot_blocking(&self, path: &Path) -> Result<(), String> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.driver_port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET /session/{}/screenshot HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.session_id, self.driver_port
        )
        .map_err(|e| e.to_string())?;
        // chromedriver answers with a Content-Length but keeps the connection open.
        let mut response = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        let body = loop {
            let n = stream.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed early".into());
            }
            response.extend_from_slice(&chunk[..n]);
            let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or("no Content-Length")?;
            if response.len() >= split + 4 + length {
                break response[split + 4..split + 4 + length].to_vec();
            }
        };
        let body: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let b64 = body["value"]
            .as_str()
            .ok_or("no screenshot in the answer")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| e.to_string())?;
        std::fs::write(path, png).map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let failed = std::thread::panicking();
        if failed {
            let shot = self.run_dir.join("failure.png");
            match self.screenshot_blocking(&shot) {
                Ok(()) => eprintln!("browser test failed: screenshot {}", shot.display()),
                Err(e) => eprintln!("browser test failed: no screenshot ({e})"),
            }
        }
        kill_group(&mut self.chromium);
        kill_group(&mut self.driver);
        if failed || std::env::var_os("COGNATE_KEEP_BROWSER_RUNS").is_some() {
            eprintln!("browser run dir kept: {}", self.run_dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.run_dir);
        }
    }
}

/// A WebDriver command under `/session/{id}/`, for extension commands fantoccini lacks
/// (the WebAuthn virtual authenticator's).
#[derive(Debug)]
struct SessionCommand {
    method: axum::http::Method,
    path: String,
    body: Option<serde_json::Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url
            .join(&format!("session/{}/", session_id.unwrap_or_default()))?
            .join(&self.path)
    }

    fn method_and_body(&self, _url: &url::Url) -> (axum::http::Method, Option<String>) {
        // chromedriver wants a JSON body on every POST, even an empty one.
        let body = match (&self.body, self.method == axum::http::Method::POST) {
            (Some(b), _) => Some(b.to_string()),
            (None, true) => Some("{}".to_string()),
            (None, false) => None,
        };
        (self.method.clone(), body)
    }
}

/// Spawns `cmd` as the leader of a new process group, set to be killed if the test
/// process dies (`PR_SET_PDEATHSIG`, prctl(2)).
fn spawn_owned(cmd: &mut Command) -> std::io::Result<Child> {
    unsafe extern "C" {
        fn prctl(option: i32, ...) -> i32;
    }
    const PR_SET_PDEATHSIG: i32 = 1;
    const SIGKILL: i32 = 9;
    cmd.process_group(0);
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            if prctl(PR_SET_PDEATHSIG, SIGKILL as std::ffi::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// Kills the process group led by `child` (the browser's renderer and GPU processes
/// with it) and reaps the leader.
fn kill_group(child: &mut Child) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with the negative id of a group this harness created.
        unsafe {
            kill(-pid, 9);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Polls `check` every 50 ms until it returns `Some` or `timeout` passes.
async fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
