//! The MCP endpoint `/mcp`: transport, revisions, tools, and the audit log they write.

use super::flow::*;
use super::*;

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
        entries[0]["client_id"].as_str().unwrap().starts_with("mcp_") && entries[0]["client_id"] != client_id.as_str()
    );
    let all = text(&r);
    for secret in [at.as_str(), api.as_str(), "attio-at-1", "secret-record", "secret@x.test"] {
        assert!(!all.contains(secret), "audit log holds {secret}");
    }
    assert_eq!(run(&p, get("/connect/audit")).status(), 401, "only the person themselves");
}

#[test]
fn tool_results_are_compact_and_arguments_are_checked() {
    let p = FakePlatform::with_settings(loopback_settings());
    let read = mcp_token(&p, "read");
    let call = |id: u32, name: &str, args: &str| {
        body(&mcp(
            &p,
            &read,
            &format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{args}}}}}"#
            ),
            &[],
        ))
    };
    let record = r#"{"data":[{"id":{"workspace_id":"w","object_id":"o","record_id":"r1"},"web_url":"https://app.attio.com/r1",
        "values":{"name":[{"value":"Acme","attribute_type":"text","active_from":"2024-01-01T00:00:00Z","active_until":null,
        "created_by_actor":{"type":"system","id":null}}],"description":[]}}]}"#;
    p.http.push(200, record);
    let r = call(1, "query_records", r#"{"object":"companies"}"#);
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        text,
        r#"{"data":[{"id":"r1","object_id":"o","values":{"name":"Acme"},"web_url":"https://app.attio.com/r1"}],"has_more":false}"#
    );
    assert_eq!(r["result"]["structuredContent"]["data"][0]["values"]["name"], "Acme");
    // raw: true is Attio's own JSON (without indentation).
    p.http.push(200, record);
    let r = call(2, "query_records", r#"{"object":"companies","raw":true}"#);
    assert!(r["result"]["content"][0]["text"].as_str().unwrap().contains("\"created_by_actor\""));
    // An unknown argument is refused by name, before anything is sent to Attio.
    let before = p.http.sent.borrow().len();
    let r = call(3, "list_notes", r#"{"record_id":"r1"}"#);
    assert_eq!(r["result"]["isError"], true);
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("unknown argument(s) record_id") && text.contains("parent_record_id"), "{text}");
    // limit 0 is not a page.
    let r = call(4, "query_records", r#"{"object":"companies","limit":0}"#);
    assert_eq!(r["result"]["isError"], true);
    assert_eq!(p.http.sent.borrow().len(), before, "nothing sent for refused arguments");
    // Search runs as the connected member, not as the whole workspace.
    p.http.push(200, r#"{"data":[]}"#);
    call(5, "search_records", r#"{"query":"acme","objects":["companies"]}"#);
    let sent: Value = serde_json::from_slice(p.http.sent.borrow().last().unwrap().body()).unwrap();
    assert_eq!(sent["request_as"], serde_json::json!({"type": "workspace-member", "workspace_member_id": "mem-1"}));
}

#[test]
fn tools_that_replace_what_is_stored_say_so() {
    for name in ["upsert_record", "update_record", "update_list_entry", "update_task"] {
        let tool = crate::mcp::tools::find(name).unwrap();
        assert!(tool.describe()["annotations"]["destructiveHint"] == true, "{name}");
    }
    for tool in crate::mcp::tools::all() {
        let schema = tool.input_schema();
        assert!(schema["properties"]["raw"]["description"].is_string(), "{}", tool.name);
    }
}

#[test]
fn every_tool_argument_says_what_it_is() {
    let mut missing = Vec::new();
    for tool in crate::mcp::tools::all() {
        let schema = tool.input_schema();
        for (name, prop) in schema["properties"].as_object().unwrap() {
            if prop["description"].as_str().is_none_or(|d| d.len() <= 10) {
                missing.push(format!("{}.{name}", tool.name));
            }
        }
    }
    assert!(missing.is_empty(), "arguments without a description: {missing:?}");
    // Output properties too, at every depth, and each schema is one a validator accepts.
    fn undescribed(path: &str, schema: &Value, out: &mut Vec<String>) {
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                let here = format!("{path}.{name}");
                if prop["description"].as_str().is_none_or(|d| d.len() <= 5) {
                    out.push(here.clone());
                }
                undescribed(&here, prop, out);
            }
        }
        if let Some(items) = schema.get("items") {
            undescribed(&format!("{path}[]"), items, out);
        }
    }
    for tool in crate::mcp::tools::all() {
        let d = tool.describe();
        undescribed(tool.name, &d["outputSchema"], &mut missing);
        undescribed(tool.name, &d["inputSchema"], &mut missing);
        for key in ["inputSchema", "outputSchema"] {
            assert!(jsonschema::validator_for(&d[key]).is_ok(), "{}: {key} is not a valid JSON Schema", tool.name);
        }
    }
    assert!(missing.is_empty(), "properties without a description: {missing:?}");
    let get_record = crate::mcp::tools::find("get_record").unwrap().input_schema();
    assert_eq!(get_record["properties"]["record_id"]["format"], "uuid");
}

/// The README's tool table is this list: every tool, whether it writes, and its Attio scopes.
fn readme_tool_table() -> String {
    let mut table = String::from("| Tool | What it does | Kind | Attio scopes |\n|---|---|---|---|\n");
    for t in crate::mcp::tools::all() {
        let kind = match (t.write, t.destructive) {
            (false, _) => "read",
            (true, false) => "write",
            (true, true) => "write (destructive)",
        };
        let scopes: Vec<String> = t.scopes.iter().map(|s| format!("`{s}`")).collect();
        table.push_str(&format!("| `{}` | {} | {kind} | {} |\n", t.name, t.title, scopes.join(" ")));
    }
    table
}

#[test]
fn the_readme_lists_every_tool_with_its_scopes() {
    let readme = include_str!("../../README.md");
    let table = readme_tool_table();
    assert!(readme.contains(&table), "README's tool table is out of date; it should read:\n{table}");
}

#[test]
fn whoami_options_hints_comments_and_activity_help_an_agent_on() {
    let p = FakePlatform::with_settings(loopback_settings());
    let read = mcp_token(&p, "read");
    let write = mcp_token(&p, "write");
    let call = |token: &str, id: u32, name: &str, args: &str| {
        let r = body(&mcp(
            &p,
            token,
            &format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"{name}","arguments":{args}}}}}"#
            ),
            &[],
        ));
        let text = r["result"]["content"][0]["text"].as_str().unwrap_or_default().to_string();
        (r["result"]["isError"] == true, text, r["result"]["structuredContent"].clone())
    };
    let sent_path = |back: usize| {
        let sent = p.http.sent.borrow();
        sent[sent.len() - back].uri().to_string()
    };

    // whoami: the workspace, and the member's name and email to assign tasks to "me".
    p.http.push(200, r#"{"active":true,"workspace_id":"ws","workspace_name":"Acme","workspace_slug":"acme","scope":"note:read task:read"}"#);
    p.http.push(200, r#"{"data":{"id":{"workspace_id":"ws","workspace_member_id":"mem-1"},"first_name":"Ada","last_name":"Lovelace","email_address":"ada@acme.example","access_level":"admin"}}"#);
    let (err, _, me) = call(&read, 1, "whoami", "{}");
    assert!(!err);
    assert_eq!(
        me["data"]["member"],
        serde_json::json!({"id": "mem-1", "name": "Ada Lovelace", "email": "ada@acme.example", "access_level": "admin"})
    );
    assert_eq!(
        (me["data"]["tool_access"].as_str(), me["data"]["attio_scopes"][1].as_str()),
        (Some("read-only"), Some("task:read"))
    );
    assert!(sent_path(1).ends_with("/v2/workspace_members/mem-1"));

    // A 403 for a scope missing on the Attio app names the scopes and who fixes it.
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"missing_scopes","message":"This action requires the scopes: meeting:read."}"#);
    let (err, text, _) = call(&read, 2, "list_meetings", "{}");
    assert!(err && text.contains("meeting:read") && text.contains("/setup") && text.contains("/connect"), "{text}");

    // A wrong select or status title points at the options tool.
    p.http.push(400, r#"{"status_code":400,"type":"invalid_request_error","code":"value_not_found","message":"Cannot find Status with title \"Negotiation\"."}"#);
    let (err, text, _) = call(
        &write,
        3,
        "update_list_entry",
        r#"{"list":"deals","entry_id":"e1","entry_values":{"stage":"Negotiation"}}"#,
    );
    assert!(err && text.contains("list_attribute_options"), "{text}");

    // Options of a status attribute: the options endpoint refuses, the statuses one answers.
    p.http.push(400, r#"{"status_code":400,"type":"invalid_request_error","code":"validation_type","message":"Attribute is not a select."}"#);
    p.http.push(200, r#"{"data":[{"id":{"workspace_id":"w","object_id":"o","attribute_id":"a","status_id":"s1"},"title":"Negotiation","is_archived":false,"celebration_enabled":false,"target_time_in_status":null}]}"#);
    let (err, _, options) = call(&read, 4, "list_attribute_options", r#"{"list":"deals","attribute":"stage"}"#);
    assert!(!err);
    assert_eq!(
        options["data"][0],
        serde_json::json!({"id": "s1", "title": "Negotiation", "is_archived": false, "celebration_enabled": false})
    );
    assert!(sent_path(1).contains("/statuses") && sent_path(2).contains("/options"));

    // A comment is written as the connected member, whatever the arguments say.
    p.http.push(200, r#"{"data":{"id":{"workspace_id":"w","comment_id":"c1"},"thread_id":"t1","content_plaintext":"Hi","author":{"type":"workspace-member","id":"mem-1"},"created_at":"2026-11-01T00:00:00Z"}}"#);
    let (err, _, _) = call(&write, 5, "create_comment", r#"{"content":"Hi","thread_id":"t1"}"#);
    assert!(!err);
    let sent: Value = serde_json::from_slice(p.http.sent.borrow().last().unwrap().body()).unwrap();
    assert_eq!(sent["data"]["author"], serde_json::json!({"type": "workspace-member", "id": "mem-1"}));

    // Activity: every part asked at once, merged newest first; a part without scope is skipped.
    p.http.push(200, r#"{"data":[{"id":{"workspace_id":"w","note_id":"n1"},"title":"Call","content_plaintext":"Renewal","created_at":"2026-11-20T00:00:00Z"}]}"#);
    p.http.push(200, r#"{"data":[{"id":{"workspace_id":"w","task_id":"t1"},"content_plaintext":"Send contract","is_completed":false,"deadline_at":"2026-12-01T00:00:00Z","created_at":"2020-01-01T00:00:00Z"}]}"#);
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"missing_scopes","message":"no"}"#);
    p.http.push(200, r#"{"data":[{"id":{"workspace_id":"w","thread_id":"th"},"created_at":"2026-11-21T00:00:00Z","comments":[{"id":{"workspace_id":"w","comment_id":"c"},"content_plaintext":"Signed?","created_at":"2026-11-22T00:00:00Z"}]}]}"#);
    p.http.push(
        200,
        r#"{"data":[{"list_id":"l","list_api_slug":"deals","entry_id":"e","created_at":"2026-11-10T00:00:00Z"}]}"#,
    );
    let (err, text, activity) =
        call(&read, 6, "record_activity", r#"{"object":"companies","record_id":"r1","since":"2026-11-01"}"#);
    assert!(!err, "{text}");
    let kinds: Vec<&str> = activity["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["comment_thread", "note", "list_entry", "task"], "{activity}");
    assert_eq!(activity["skipped"][0], "meetings: the Attio app lacks a scope for it");
    assert_eq!(activity["has_more"], false);
}

#[test]
fn a_grant_limited_to_some_tool_groups_sees_and_calls_only_those() {
    let p = FakePlatform::with_settings(loopback_settings());
    // The consent page offers every group, ticked.
    let client_id = register(&p);
    let consent =
        text(&run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp")))));
    for group in ["records", "lists", "notes", "tasks", "meetings", "comments"] {
        assert!(consent.contains(&format!("name=\"group_{group}\" value=on checked")), "{group}");
    }
    // The person keeps only notes and tasks.
    let choices = [("access", "write"), ("groups_shown", "1"), ("group_notes", "on"), ("group_tasks", "on")];
    let (client_id, code, _) = obtain_code_choosing(&p, client_id, "https://gateway.test/mcp", &choices);
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    assert_eq!(issued["scope"], "attio:read attio:write attio:notes attio:tasks");
    let token = issued["access_token"].as_str().unwrap().to_string();
    let list = body(&mcp(&p, &token, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]));
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"create_note") && names.contains(&"list_tasks") && names.contains(&"whoami"), "{names:?}");
    assert!(!names.contains(&"query_records") && !names.contains(&"get_transcript"), "{names:?}");
    // A tool outside the grant is refused with a challenge naming the scope it needs.
    let before = p.http.sent.borrow().len();
    let r = mcp(
        &p,
        &token,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query_records","arguments":{"object":"companies"}}}"#,
        &[],
    );
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("insufficient_scope") && challenge.contains("attio:records"), "{challenge}");
    assert_eq!(p.http.sent.borrow().len(), before, "nothing sent to Attio");
    // A refresh that names no group keeps the grant's groups.
    let refreshed = body(&run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &client_id),
                ("refresh_token", issued["refresh_token"].as_str().unwrap()),
                ("scope", "attio:read"),
            ],
            &[],
        ),
    ));
    assert_eq!(refreshed["scope"], "attio:read attio:notes attio:tasks", "{refreshed}");
    // Unticking everything is not an approval.
    let client_id = register(&p);
    let consent = run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))));
    let page = text(&consent);
    let (request, csrf) = (hidden(&page, "request"), hidden(&page, "csrf"));
    let r = run(
        &p,
        form(
            "/authorize",
            &[("request", &request), ("csrf", &csrf), ("decision", "approve"), ("groups_shown", "1")],
            &cookies(&consent),
        ),
    );
    assert_eq!(r.status(), 400);
}
