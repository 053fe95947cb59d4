//! The MCP endpoint `/mcp`: transport, revisions, and the audit log tool calls write (the tools
//! themselves: `tools.rs`).

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn a_rebound_host_is_refused_once_the_public_origin_is_known() {
    let mut settings = loopback_settings();
    settings.insert(PUBLIC_ORIGIN, "https://gateway.test".into());
    let p = FakePlatform::with_settings(settings);
    let at = mcp_token(&p, "read");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    // A page on evil.test rebound to the gateway's address: its own host in Host and Origin.
    let rebound = mcp_at(&p, "https://evil.test/mcp", &at, ping, &[("origin", "https://evil.test")]);
    assert_eq!(rebound.status(), 403);
    assert_eq!(body(&rebound)["error"]["code"], -32600);
    assert_eq!(mcp_at(&p, "https://evil.test/mcp", &at, ping, &[]).status(), 403, "no Origin either");
    let ours = mcp_at(&p, "https://gateway.test/mcp", &at, ping, &[("origin", "https://gateway.test")]);
    assert_eq!(ours.status(), 200);
    // Without PUBLIC_ORIGIN the request's own host is the only reference: Origin is checked
    // against it (see mcp_transport_edge_cases).
    let open = FakePlatform::with_settings(loopback_settings());
    let at = mcp_token(&open, "read");
    assert_eq!(mcp_at(&open, "https://gateway.test/mcp", &at, ping, &[]).status(), 200);
}

#[test]
fn mcp_transport_edge_cases() {
    let p = FakePlatform::with_settings(loopback_settings());
    let at = mcp_token(&p, "read");
    let init = mcp(
        &p,
        &at,
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        &[],
    );
    assert_eq!(init.status(), 200);
    assert_eq!(body(&init)["result"]["protocolVersion"], "2025-06-18");
    assert!(init.headers().get("mcp-session-id").is_none(), "stateless: no session ids");
    assert_eq!(mcp(&p, &at, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &[]).status(), 202);
    assert_eq!(
        body(&mcp(&p, &at, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, &[]))["result"],
        serde_json::json!({})
    );
    let foreign = mcp(&p, &at, r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, &[("origin", "https://evil.test")]);
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        mcp(&p, &at, r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, &[("origin", "https://gateway.test")]).status(),
        200
    );
    assert_eq!(
        mcp(&p, &at, r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, &[("mcp-protocol-version", "1999-01-01")]).status(),
        400
    );
    let batch = mcp(&p, &at, r#"[{"jsonrpc":"2.0","id":5,"method":"ping"}]"#, &[]);
    assert_eq!((batch.status(), body(&batch)["error"]["code"].as_i64()), (http::StatusCode::BAD_REQUEST, Some(-32600)));
    let garbage = mcp(&p, &at, "{oops", &[]);
    assert_eq!(body(&garbage)["error"]["code"], -32700);
    assert_eq!(
        body(&mcp(&p, &at, r#"{"jsonrpc":"2.0","id":6,"method":"resources/list"}"#, &[]))["error"]["code"],
        -32601
    );
    let get = run(
        &p,
        http::Request::get("https://gateway.test/mcp")
            .header("authorization", format!("Bearer {at}"))
            .body(Vec::new())
            .unwrap(),
    );
    assert_eq!(get.status(), 405);
    let wrong_type = http::Request::post("https://gateway.test/mcp")
        .header("authorization", format!("Bearer {at}"))
        .header("content-type", "text/plain")
        .body(b"{}".to_vec())
        .unwrap();
    assert_eq!(run(&p, wrong_type).status(), 415);
    // No token: 401 pointing at the MCP resource's metadata.
    let anon = run(
        &p,
        http::Request::post("https://gateway.test/mcp")
            .header("content-type", "application/json")
            .body(b"{}".to_vec())
            .unwrap(),
    );
    assert_eq!(anon.status(), 401);
    assert!(anon.headers()["www-authenticate"].to_str().unwrap().contains("/.well-known/oauth-protected-resource/mcp"));
    // A REST-proxy token is not accepted here.
    let api_at = proxy_token(&p, "read");
    assert_eq!(mcp(&p, &api_at, r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#, &[]).status(), 401);
}

#[test]
fn mcp_checks_2026_headers_and_allowed_origins() {
    let mut m = loopback_settings();
    m.insert(crate::config::MCP_ALLOWED_ORIGINS, "http://localhost:6274".into());
    let p = FakePlatform::with_settings(m);
    let at = mcp_token(&p, "read");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    assert_eq!(mcp(&p, &at, ping, &[("origin", "http://localhost:6274")]).status(), 200, "allowlisted origin");
    assert_eq!(mcp(&p, &at, ping, &[("origin", "http://localhost:9999")]).status(), 403);
    assert_eq!(mcp(&p, &at, ping, &[("mcp-method", "ping")]).status(), 200);
    let r = mcp(&p, &at, ping, &[("mcp-method", "tools/call")]);
    assert_eq!((r.status(), body(&r)["error"]["code"].as_i64()), (http::StatusCode::BAD_REQUEST, Some(-32020)));
    p.http.push(200, r#"{"data":[]}"#);
    let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_lists"}}"#;
    assert_eq!(mcp(&p, &at, call, &[("mcp-method", "tools/call"), ("mcp-name", "list_lists")]).status(), 200);
    assert_eq!(body(&mcp(&p, &at, call, &[("mcp-name", "delete_task")]))["error"]["code"], -32020);
}

#[test]
fn mcp_tools_enforce_the_grant_and_explain_attio_errors() {
    let p = FakePlatform::with_settings(loopback_settings());
    let read = mcp_token(&p, "read");
    let list = body(&mcp(&p, &read, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]));
    let names: Vec<String> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"query_records".to_string()) && !names.contains(&"create_record".to_string()));
    // A write tool called anyway: 403 insufficient_scope, nothing sent to Attio.
    let before = p.http.sent.borrow().len();
    let denied = mcp(
        &p,
        &read,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_record","arguments":{"object":"companies","values":{"name":"X"}}}}"#,
        &[],
    );
    assert_eq!(denied.status(), 403);
    assert!(denied.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
    assert_eq!(p.http.sent.borrow().len(), before);
    // A read: Attio's answer as structured content and text.
    p.http.push(200, r#"{"data":[{"api_slug":"companies"}]}"#);
    let r = body(&mcp(
        &p,
        &read,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_objects","arguments":{}}}"#,
        &[],
    ));
    assert_eq!(r["result"]["isError"], false);
    assert_eq!(r["result"]["structuredContent"]["data"][0]["api_slug"], "companies");
    assert_eq!(p.http.sent.borrow().last().unwrap().headers()["authorization"], "Bearer attio-at-1");
    // Attio errors become tool errors with a hint; 429 says when to retry.
    p.http.push(
        400,
        r#"{"status_code":400,"type":"invalid_request_error","code":"filter_error","message":"Error in filter."}"#,
    );
    let r = body(&mcp(
        &p,
        &read,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"query_records","arguments":{"object":"people","filter":{"nope":1}}}}"#,
        &[],
    ));
    assert_eq!(r["result"]["isError"], true);
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("Error in filter.") && text.contains("list_attributes"), "{text}");
    let mut limited = reply(429, "{}");
    limited.headers_mut().insert("retry-after", "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
    p.http.replies.borrow_mut().push_back(Ok(limited));
    let r =
        body(&mcp(&p, &read, r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_lists"}}"#, &[]));
    // Attio's HTTP-date (here already past) becomes a number of seconds an agent can act on.
    assert!(r["result"]["content"][0]["text"].as_str().unwrap().contains("Retry in 1 second."), "{r}");
    // Bad arguments and unknown tools.
    let r = body(&mcp(
        &p,
        &read,
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_record","arguments":{"object":"people"}}}"#,
        &[],
    ));
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(
        body(&mcp(&p, &read, r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope"}}"#, &[]))
            ["error"]["code"],
        -32602
    );
    // A write grant may write.
    let write = mcp_token(&p, "write");
    p.http.push(200, r#"{"data":{"id":{"record_id":"r9"}}}"#);
    let r = body(&mcp(
        &p,
        &write,
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"create_record","arguments":{"object":"companies","values":{"name":"X"}}}}"#,
        &[],
    ));
    assert_eq!(r["result"]["structuredContent"]["data"]["id"], "r9", "the record's own id, not Attio's composite");
    let sent = p.http.sent.borrow();
    let last = sent.last().unwrap();
    assert_eq!((last.method().as_str(), last.uri().path()), ("POST", "/v2/objects/companies/records"));
}

#[test]
fn the_audit_log_records_who_did_what_without_secrets() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    p.http.push(200, SELF_ACTIVE);
    mcp(&p, &at, r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#, &[]);
    p.advance_ms(10);
    p.http.push(
        400,
        r#"{"status_code":400,"type":"invalid_request_error","code":"filter_error","message":"Error in filter."}"#,
    );
    mcp(
        &p,
        &at,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query_records","arguments":{"object":"people","filter":{"email":"secret@x.test"}}}}"#,
        &[],
    );
    p.advance_ms(10);
    let api = proxy_token(&p, "read");
    p.http.push(200, r#"{"data":[]}"#);
    proxied(&p, "GET", "/v2/notes?parent_record_id=secret-record", &api, "");

    let r = run(&p, with_cookies("/connect/audit", &jar));
    assert_eq!(r.status(), 200, "{}", text(&r));
    let all = body(&r)["entries"].as_array().unwrap().clone();
    // Approving each app is audited too.
    let approvals: Vec<&str> =
        all.iter().filter(|e| e["kind"] == "consent").map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(approvals, ["approved attio:read", "approved attio:read attio:write"]);
    let entries: Vec<Value> = all.into_iter().filter(|e| e["kind"] != "consent").collect();
    let actions: Vec<(&str, &str, bool)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap(), e["write"].as_bool().unwrap()))
        .collect();
    assert_eq!(actions, [("GET /v2/notes", "ok", false), ("query_records", "error", false), ("whoami", "ok", false)]);
    // The tool calls came from the MCP client; the proxied read from the second (REST) client.
    assert!(entries[1..].iter().all(|e| e["client_id"] == client_id.as_str()));
    assert!(
        entries[0]["client_id"].as_str().unwrap().starts_with("mcp2.") && entries[0]["client_id"] != client_id.as_str()
    );
    let all = text(&r);
    for secret in [at.as_str(), api.as_str(), "attio-at-1", "secret-record", "secret@x.test"] {
        assert!(!all.contains(secret), "audit log holds {secret}");
    }
    assert_eq!(run(&p, get("/connect/audit")).status(), 401, "only the person themselves");
}
