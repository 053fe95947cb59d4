//! Faults and load, end to end (bounded, loopback only): whatever Attio does — rate limits in
//! both `Retry-After` forms, 5xx, answers slower than the worker's timeout, truncated JSON, a
//! refused connection, a revoked token — the MCP client and the proxy caller get the documented
//! error, and afterwards the stored connection and the grants still work (or, for a revoked
//! token, are correctly revoked). Then a burst of concurrent calls and refreshes from several
//! clients of several people: nothing crosses, nothing is lost, no refresh happens twice.

use std::sync::Arc;
use std::thread;

use serde_json::{json, Value};

use crate::harness::*;

fn mcp_call(c: &TestClient, token: &str, name: &str, arguments: Value) -> Reply {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}});
    mcp_post(c, token, &[], body.to_string().as_bytes())
}

fn tool_text(reply: &Reply) -> (bool, String) {
    let v = reply.json();
    let result = &v["result"];
    (result["isError"] == true, result["content"][0]["text"].as_str().unwrap_or_default().to_string())
}

fn proxied(c: &TestClient, token: &str, path: &str) -> Reply {
    c.request("GET", path, &[("authorization", &format!("Bearer {token}"))], None)
}

#[test]
fn attio_faults_give_documented_errors_and_lose_nothing() {
    let stack = Stack::start(&[("ATTIO_TIMEOUT_MS", "1500")]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let mcp = stack.mcp_access_token("write");
    let rest = stack.access_token("/v2", "read");
    let knobs = TestClient::new(stack.mock.base_url());
    let fail = |body: Value| assert!(knobs.send_json("POST", "/__mock/fail-next", None, &body).status < 300);
    let healthy = |what: &str| {
        let (err, text) = tool_text(&mcp_call(&c, &mcp, "whoami", json!({})));
        assert!(!err, "after {what}, the connection no longer works: {text}");
        assert_eq!(proxied(&c, &rest, "/v2/objects").status, 200, "after {what}, the proxy no longer works");
    };

    // 429 with an HTTP-date and with seconds: the proxy passes it on; the tool says when.
    for form in ["http-date", "seconds"] {
        fail(json!({"status": 429, "count": 1, "retry_after": form}));
        let limited = proxied(&c, &rest, "/v2/objects");
        assert_eq!(limited.status, 429, "{form}");
        let retry = limited.header("retry-after").unwrap().to_string();
        assert!(if form == "seconds" { retry.parse::<u64>().is_ok() } else { retry.ends_with("GMT") }, "{retry}");
        fail(json!({"status": 429, "count": 1, "retry_after": form}));
        let (err, text) = tool_text(&mcp_call(&c, &mcp, "list_objects", json!({})));
        // Either form becomes a number of seconds.
        let secs = text.split("Retry in ").nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse::<u64>().ok());
        assert!(err && secs.is_some_and(|n| (1..=120).contains(&n)), "{form}: {text}");
        healthy(&format!("429 ({form})"));
    }

    // 5xx: passed through by the proxy; a tool error (not a protocol error) over MCP.
    for status in [500, 502, 503] {
        fail(json!({"status": status, "count": 1}));
        assert_eq!(proxied(&c, &rest, "/v2/objects").status, status);
        fail(json!({"status": status, "count": 1}));
        let reply = mcp_call(&c, &mcp, "list_objects", json!({}));
        assert_eq!(reply.status, 200);
        let (err, text) = tool_text(&reply);
        assert!(err && text.contains(&status.to_string()), "{status}: {text}");
        healthy(&format!("HTTP {status}"));
    }

    // Slower than ATTIO_TIMEOUT_MS: 504 from the proxy, a retryable tool error over MCP.
    knobs.send_json("POST", "/__mock/delay", None, &json!({"ms": 3000}));
    let slow = proxied(&c, &rest, "/v2/objects");
    assert_eq!(slow.status, 504, "{}", slow.body);
    let (err, text) = tool_text(&mcp_call(&c, &mcp, "list_objects", json!({})));
    assert!(err && text.contains("try again"), "{text}");
    knobs.send_json("POST", "/__mock/clear-faults", None, &json!({}));
    healthy("a timeout");

    // A prompt head, then a body dripping a byte every 100 ms: the one deadline covers the body
    // too, so the call ends at ATTIO_TIMEOUT_MS instead of lasting as long as Attio drips.
    knobs.send_json("POST", "/__mock/drip", None, &json!({"ms_per_byte": 100}));
    let started = std::time::Instant::now();
    let dripped = proxied(&c, &rest, "/v2/objects");
    assert_eq!(dripped.status, 504, "{}", dripped.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "took {:?}", started.elapsed());
    knobs.send_json("POST", "/__mock/clear-faults", None, &json!({}));
    healthy("a dripping body");

    // Truncated JSON with a 200: the proxy passes the bytes on untouched; the tool reports it.
    fail(json!({"status": 200, "count": 1, "body": "{\"data\": [{\"id\":"}));
    let truncated = proxied(&c, &rest, "/v2/objects");
    assert_eq!((truncated.status, truncated.body.as_str()), (200, "{\"data\": [{\"id\":"));
    fail(json!({"status": 200, "count": 1, "body": "{\"data\": [{\"id\":"}));
    let reply = mcp_call(&c, &mcp, "list_objects", json!({}));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (err, text) = tool_text(&reply);
    assert!(err && text.contains("not JSON"), "{text}");
    healthy("truncated JSON");

    // A revoked Attio token: both callers are told to reconnect, and the connection is revoked.
    knobs.send_json("POST", "/__mock/revoke", None, &json!({"workspace_id": ACME_WORKSPACE_ID}));
    let revoked = proxied(&c, &rest, "/v2/objects");
    assert_eq!(revoked.status, 401);
    assert!(revoked.header("www-authenticate").unwrap().contains("resource_metadata="));
    // The proxy's answer says where the person reconnects.
    let message = revoked.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains(&format!("{}/connect", c.base)), "{message}");
    let (err, text) = tool_text(&mcp_call(&c, &mcp, "whoami", json!({})));
    assert!(err && text.contains("/connect"), "{text}");
}

/// A loopback TCP forwarder to the mock that can stop answering: while "down", each connection
/// is accepted and closed at once, which the worker sees exactly as it sees a refused one (no
/// HTTP response at all). Rebinding a closed port is not reliable, hence this switch.
struct Forwarder {
    port: u16,
    down: Arc<std::sync::atomic::AtomicBool>,
    /// Open client connections, cut when going down (the worker keeps connections alive).
    open: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Forwarder {
    fn start(target_port: u16) -> Forwarder {
        use std::net::{Shutdown, TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, tracked) = (down.clone(), open.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                if let Ok(copy) = client.try_clone() {
                    tracked.lock().unwrap().push(copy);
                }
                thread::spawn(move || {
                    let Ok(upstream) = TcpStream::connect(("127.0.0.1", target_port)) else { return };
                    let (mut c_read, mut c_write) = (client.try_clone().unwrap(), client);
                    let (mut u_read, mut u_write) = (upstream.try_clone().unwrap(), upstream);
                    thread::spawn(move || {
                        let _ = std::io::copy(&mut c_read, &mut u_write);
                        let _ = u_write.shutdown(Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut u_read, &mut c_write);
                    let _ = c_write.shutdown(Shutdown::Both);
                });
            }
        });
        Forwarder { port, down, open }
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
        if down {
            for c in self.open.lock().unwrap().drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

#[test]
fn an_unreachable_attio_is_a_clear_error_and_changes_nothing() {
    let mock = Stack::mock();
    let forwarder = Forwarder::start(port_of(&mock.base_url()));
    let api = format!("http://127.0.0.1:{}", forwarder.port);
    let stack = Stack::with_mock(mock, &[("ATTIO_API_BASE_URL", &api)]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let mcp = stack.mcp_access_token("read");
    let rest = stack.access_token("/v2", "read");

    forwarder.set_down(true);
    let proxied_reply = proxied(&c, &rest, "/v2/objects");
    assert_eq!(proxied_reply.status, 502, "{}", proxied_reply.body);
    let reply = mcp_call(&c, &mcp, "whoami", json!({}));
    assert_eq!(reply.status, 200);
    let (err, text) = tool_text(&reply);
    assert!(err && text.contains("could not be reached"), "{text}");
    // Nothing was revoked or lost: once Attio answers again, both work with the same tokens.
    forwarder.set_down(false);
    assert_eq!(proxied(&c, &rest, "/v2/objects").status, 200);
    let (err, text) = tool_text(&mcp_call(&c, &mcp, "whoami", json!({})));
    assert!(!err, "{text}");
}

#[test]
fn a_burst_from_several_clients_of_several_people_crosses_nothing() {
    // Expiring Attio tokens that live 45 s: the gateway refreshes 60 s ahead, so every stored
    // token is due at once.
    let mock = Stack::mock();
    mock.with(|w| {
        w.settings.token_style = mock_attio::TokenStyle::Expiring;
        w.settings.access_token_ttl_secs = 45;
    });
    let stack = Arc::new(Stack::with_mock(mock, &[]));
    let bob = mock_attio::seed::id("acme/member/bob");
    // Two people of the same workspace, two apps each (read-write and read-only).
    let mut clients: Vec<(String, String)> = Vec::new();
    for (member, who) in
        [(ACME_ADMIN_MEMBER_ID.parse().unwrap(), ACME_ADMIN_MEMBER_ID.to_string()), (bob, bob.to_string())]
    {
        stack.mock.with(|w| w.settings.auto_approve_member = Some(member));
        for access in ["write", "read"] {
            clients.push((stack.mcp_access_token_as_approved(access), who.clone()));
        }
    }
    // Refreshed tokens live an hour, so one refresh per person settles it.
    stack.mock.with(|w| w.settings.access_token_ttl_secs = 3600);
    let refreshes_before = stack.mock_requests("/oauth/token", "grant_type=refresh_token");

    let base = stack.worker.client.base.clone();
    let handles: Vec<_> = clients
        .iter()
        .flat_map(|(token, who)| (0..4).map(move |_| (token.clone(), who.clone())))
        .map(|(token, who)| {
            let base = base.clone();
            thread::spawn(move || {
                let c = TestClient::new(base);
                let reply = mcp_call(&c, &token, "whoami", json!({}));
                let me = reply.json()["result"]["structuredContent"]["data"]["member"]["id"].clone();
                (who, reply.status, me)
            })
        })
        .collect();
    for h in handles {
        let (who, status, me) = h.join().unwrap();
        assert_eq!(status, 200);
        assert_eq!(me, json!(who), "a call answered with another person's identity");
    }
    // One refresh per person, however many calls needed it at once.
    let refreshes = stack.mock_requests("/oauth/token", "grant_type=refresh_token") - refreshes_before;
    assert_eq!(refreshes, 2, "each person's Attio token was refreshed exactly once");
    // No grant lost: every app still works, each as its own person.
    let c = TestClient::new(base);
    for (token, who) in &clients {
        let reply = mcp_call(&c, token, "whoami", json!({}));
        assert_eq!(reply.json()["result"]["structuredContent"]["data"]["member"]["id"], json!(who));
    }
}
