//! The tools through `/mcp`: compact results and checked arguments, schemas that describe every
//! property, the README's tool table, the friendly edges (whoami, hints, options, comments,
//! activity) and per-grant tool groups.

use crate::tests::flow::*;
use crate::tests::*;

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
    // `raw` is declared where Attio's own JSON says more (records and entries); every tool
    // accepts it.
    for name in ["query_records", "get_record", "upsert_record", "query_list_entries", "get_list_entry"] {
        let schema = crate::mcp::tools::find(name).unwrap().input_schema();
        assert!(schema["properties"]["raw"]["description"].is_string(), "{name}");
    }
    for tool in crate::mcp::tools::all() {
        let refused = tool.build(&serde_json::json!({"raw": true})).err().unwrap_or_default();
        assert!(!refused.contains("unknown argument"), "{}: {refused}", tool.name);
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
    let readme = include_str!("../../../README.md");
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

/// Issue 28: a lean tool list. What most clients hand the model (each tool's name, description
/// and input schema, compact JSON) is at most 25,000 bytes, and the whole `tools/list` result at
/// most the 59,878 bytes of `attio-mcp` 1.6.1's (the peer the task benchmark runs beside), as a
/// client with every group and writes meets it.
#[test]
fn the_tool_list_is_within_its_byte_budgets() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "write");
    let r = mcp(&p, &token, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]);
    let result = &body(&r)["result"];
    let whole = serde_json::to_string(result).unwrap().len();
    let tools = result["tools"].as_array().unwrap();
    let facing = |t: &Value| {
        serde_json::to_string(
            &serde_json::json!({"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]}),
        )
        .unwrap()
        .len()
    };
    // prompts/list is handed to the model too (as slash commands): it counts in the budget.
    let prompts = mcp(&p, &token, r#"{"jsonrpc":"2.0","id":2,"method":"prompts/list"}"#, &[]);
    let prompts = serde_json::to_string(&body(&prompts)["result"]).unwrap().len();
    let model: usize = tools.iter().map(facing).sum::<usize>() + prompts;
    let output: usize = tools.iter().map(|t| serde_json::to_string(&t["outputSchema"]).unwrap().len()).sum();
    let mut sizes: Vec<(usize, &str)> = tools.iter().map(|t| (facing(t), t["name"].as_str().unwrap())).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    eprintln!(
        "tools/list: {} tools, {whole} B whole, {model} B model-facing with prompts/list's {prompts}, {output} B output schemas",
        tools.len()
    );
    eprintln!("largest model-facing: {:?}", &sizes[..8]);
    if let Ok(path) = std::env::var("TOOLS_JSON") {
        std::fs::write(path, serde_json::to_string_pretty(result).unwrap()).unwrap();
    }
    assert!(model <= 25_000, "model-facing {model} B");
    assert!(whole <= 59_878, "whole {whole} B");
}

/// Issue 28: workflows as prompts. `initialize` offers prompts and completions; `prompts/list`
/// lists three (two for a read-only grant); `completion/complete` suggests record names from
/// Attio's search as the connected member sees them; `prompts/get` names the chosen record and
/// the tools to use, and says what is missing.
#[test]
fn prompts_are_listed_completed_from_attio_and_got() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "write");
    let rpc = |token: &str, method: &str, params: Value| {
        let message = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        body(&mcp(&p, token, &message.to_string(), &[]))
    };
    let init = rpc(
        &token,
        "initialize",
        serde_json::json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    assert!(
        init["result"]["capabilities"]["prompts"].is_object()
            && init["result"]["capabilities"]["completions"].is_object()
    );
    let names = |list: &Value| -> Vec<String> {
        list["result"]["prompts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(
        names(&rpc(&token, "prompts/list", serde_json::json!({}))),
        ["account_brief", "meeting_prep", "log_a_call"]
    );
    p.http.push(
        200,
        r#"{"data":[{"id":{"workspace_id":"ws-1","object_id":"o-1","record_id":"11111111-1111-4111-8111-111111111111"},"record_text":"Initech","object_slug":"companies","domains":["initech.example"],"email_addresses":[]}]}"#,
    );
    let c = rpc(
        &token,
        "completion/complete",
        serde_json::json!({"ref": {"type": "ref/prompt", "name": "account_brief"}, "argument": {"name": "record", "value": "Ini"}}),
    );
    assert_eq!(c["result"]["completion"]["values"], serde_json::json!(["Initech"]), "{c}");
    let sent: Value = serde_json::from_slice(p.http.sent.borrow().last().unwrap().body()).unwrap();
    assert_eq!((sent["query"].as_str(), sent["objects"].as_array().map(Vec::len)), (Some("ini"), Some(3)));
    let brief =
        rpc(&token, "prompts/get", serde_json::json!({"name": "account_brief", "arguments": {"record": "Initech"}}));
    let text = brief["result"]["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("brief on Initech") && text.contains("record_activity"), "{text}");
    let missing =
        rpc(&token, "prompts/get", serde_json::json!({"name": "log_a_call", "arguments": {"record": "Initech"}}));
    assert_eq!(missing["error"]["code"], -32602);
    assert!(missing["error"]["message"].as_str().unwrap().contains("summary"));
    // A read-only grant is not offered the prompt that writes.
    let reader = mcp_token(&p, "read");
    assert_eq!(names(&rpc(&reader, "prompts/list", serde_json::json!({}))), ["account_brief", "meeting_prep"]);
    let refused = rpc(
        &reader,
        "prompts/get",
        serde_json::json!({"name": "log_a_call", "arguments": {"record": "x", "summary": "y"}}),
    );
    assert_eq!(refused["error"]["code"], -32602);
}
