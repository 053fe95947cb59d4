//! Every tool, end to end: the built worker in workerd against the mock Attio's seeded data,
//! through one shared worker, mock and pair of grants (read-only and read-write). For each tool:
//! a happy path whose result holds the seeded values it should (a custom object where one
//! applies), its `structuredContent` valid against the `outputSchema` it declares (checked by a
//! JSON Schema validator), no value-history noise in the text; paging followed to the last page;
//! an Attio 404 and 429 turned into tool errors that say what to do; every write tool refused
//! under a read-only grant. Prints the bytes of each read tool's text beside Attio's raw JSON.

use std::collections::HashMap;

use mock_attio::seed::{
    id, INITECH_ENTRY_THREAD, INITECH_THREAD, KICKOFF_MEETING, KICKOFF_RECORDING, KICKOFF_TRANSCRIPT_TURNS,
};
use serde_json::{json, Value};

use crate::harness::*;

struct Agent<'a> {
    c: &'a TestClient,
    token: String,
    schemas: HashMap<String, Value>,
}

/// One tool call's result: whether it is an error, its text, its structured content.
struct Result_ {
    error: bool,
    text: String,
    structured: Value,
}

impl Agent<'_> {
    fn new(c: &TestClient, token: String) -> Agent<'_> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string();
        let list = mcp_post(c, &token, &[("mcp-protocol-version", "2025-11-25")], body.as_bytes()).json();
        // Issue 28's budgets, as a client receives the list: what a model is handed (name,
        // description, input schema) at most 25,000 bytes, the whole result at most the 59,878
        // of attio-mcp 1.6.1's.
        let whole = list["result"].to_string().len();
        let facing: usize = list["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| {
                json!({"name": t["name"], "description": t["description"], "inputSchema": t["inputSchema"]})
                    .to_string()
                    .len()
            })
            .sum();
        assert!(facing <= 25_000 && whole <= 59_878, "tools/list: {facing} B model-facing, {whole} B whole");
        let schemas = list["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_string(), t["outputSchema"].clone()))
            .collect();
        Agent { c, token, schemas }
    }

    fn reply(&self, name: &str, args: Value) -> Reply {
        let body =
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": args}});
        mcp_post(self.c, &self.token, &[("mcp-protocol-version", "2025-11-25")], body.to_string().as_bytes())
    }

    fn call(&self, name: &str, args: Value) -> Result_ {
        let reply = self.reply(name, args.clone());
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let result = reply.json()["result"].clone();
        let out = Result_ {
            error: result["isError"] == true,
            text: result["content"][0]["text"].as_str().unwrap_or_default().to_string(),
            structured: result["structuredContent"].clone(),
        };
        if !out.error {
            let schema = self.schemas.get(name).unwrap_or_else(|| panic!("{name} is not listed"));
            let validator = jsonschema::validator_for(schema).expect("a valid schema");
            let problems: Vec<String> = validator.iter_errors(&out.structured).map(|e| e.to_string()).collect();
            assert!(problems.is_empty(), "{name} {args}: result does not match its outputSchema: {problems:?}");
            let parsed: Value = serde_json::from_str(&out.text).expect("the text is the JSON result");
            assert_eq!(parsed, out.structured, "{name}: the text carries the whole structured result");
        }
        out
    }

    /// A call that must succeed and mention `expect`.
    fn ok(&self, name: &str, args: Value, expect: &str) -> Value {
        let r = self.call(name, args.clone());
        assert!(!r.error, "{name} {args}: {}", r.text);
        assert!(r.text.contains(expect), "{name} {args}: {expect:?} not in {}", r.text);
        if args.get("raw") != Some(&json!(true)) {
            for noise in ["active_from", "active_until", "created_by_actor", "attribute_type"] {
                assert!(!r.text.contains(noise), "{name}: {noise} in the default text");
            }
        }
        r.structured
    }
}

fn fail_next(stack: &Stack, status: u16, count: u32) {
    let body = match status {
        404 => Some(r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Not found."}"#),
        _ => None,
    };
    let mut fault = json!({"status": status, "count": count, "path_prefix": "/v2/", "retry_after": "seconds"});
    if let Some(b) = body {
        fault["body"] = json!(b);
    }
    let r = TestClient::new(stack.mock.base_url()).send_json("POST", "/__mock/fail-next", None, &fault);
    assert!(r.status < 300, "{}", r.body);
}

/// Follows a tool's paging (offset or cursor) one item at a time to the last page.
fn follow_pages(agent: &Agent, name: &str, args: Value) -> usize {
    let mut args = args;
    let mut seen = 0;
    for page in 0..400 {
        let r = agent.call(name, args.clone());
        assert!(!r.error, "{name} page {page}: {}", r.text);
        let s = &r.structured;
        seen += match &s["data"] {
            Value::Array(items) => items.len(),
            Value::Object(o) => o.get("transcript").and_then(Value::as_array).map_or(1, Vec::len),
            _ => 0,
        };
        if s["has_more"] != true {
            assert!(
                s.get("next_offset").is_none() && s.get("next_cursor").is_none(),
                "{name}: a last page says no way on"
            );
            return seen;
        }
        if let Some(next) = s["next_offset"].as_u64() {
            args["offset"] = json!(next);
        } else {
            args["cursor"] = s["next_cursor"].clone();
            assert!(args["cursor"].is_string(), "{name}: has_more without a way to continue: {s}");
        }
    }
    panic!("{name}: paging never ended");
}

#[test]
fn every_tool_works_end_to_end() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let w = Agent::new(&c, stack.mcp_access_token("write"));
    let r = Agent::new(&c, stack.mcp_access_token("read"));
    assert!(r.schemas.len() < w.schemas.len(), "a read-only grant lists only read tools");
    let initech = id("acme/record/initech").to_string();
    let hooli = id("acme/record/hooli").to_string();
    let project = id("acme/record/initech-migration").to_string();
    let entry = id(&format!("acme/entry/key_accounts/{initech}")).to_string();
    let (meeting, recording) = (id(KICKOFF_MEETING).to_string(), id(KICKOFF_RECORDING).to_string());
    let thread = id(INITECH_THREAD).to_string();
    let note = id("acme/note/initech-kickoff").to_string();
    let task = id("acme/task/send-quote").to_string();
    let at_initech = json!({"object": "companies", "record_id": initech});

    // Reads, each with the seeded values it should show (custom object `projects` where it applies).
    let reads: Vec<(&str, Value, &str)> = vec![
        ("whoami", json!({}), "ada@acme.example"),
        ("list_objects", json!({}), "projects"),
        ("list_attributes", json!({"object": "projects"}), "phase"),
        ("list_attribute_options", json!({"object": "projects", "attribute": "phase"}), "Discovery"),
        ("list_attribute_options", json!({"list": "key_accounts", "attribute": "stage"}), "Negotiation"),
        ("search_records", json!({"query": "initech", "objects": ["companies"]}), "Initech"),
        ("query_records", json!({"object": "projects"}), "Initech data migration"),
        ("get_record", json!({"object": "projects", "record_id": project}), "Build"),
        (
            "get_record",
            json!({"object": "companies", "record_id": initech, "attributes": ["domains"]}),
            "initech.example",
        ),
        ("list_record_entries", at_initech.clone(), "key_accounts"),
        (
            "record_activity",
            json!({"object": "companies", "record_id": initech, "since": "2024-01-01"}),
            "Initech renewal kickoff",
        ),
        ("list_lists", json!({}), "key_accounts"),
        ("get_list", json!({"list": "key_accounts"}), "Key accounts"),
        ("query_list_entries", json!({"list": "key_accounts"}), "Negotiation"),
        ("get_list_entry", json!({"list": "key_accounts", "entry_id": entry}), "High"),
        ("list_notes", json!({"parent_object": "companies", "parent_record_id": initech}), "Renewal kickoff"),
        ("get_note", json!({"note_id": note}), "SSO before renewing"),
        ("list_tasks", json!({"linked_object": "companies", "linked_record_id": initech}), "SSO quote"),
        ("get_task", json!({"task_id": task}), "SSO quote"),
        ("list_workspace_members", json!({}), "bob@acme.example"),
        (
            "list_meetings",
            json!({"linked_object": "companies", "linked_record_id": initech}),
            "Initech renewal kickoff",
        ),
        ("get_meeting", json!({"meeting_id": meeting}), "peter@initech.example (accepted)"),
        ("list_call_recordings", json!({"meeting_id": meeting}), "completed"),
        ("get_call_recording", json!({"meeting_id": meeting, "call_recording_id": recording}), "completed"),
        ("get_transcript", json!({"meeting_id": meeting, "call_recording_id": recording}), "] Peter Gibbons: "),
        ("list_comment_threads", at_initech.clone(), "workspace-member:"),
        ("get_comment_thread", json!({"thread_id": thread}), "workspace-member:"),
    ];
    // Before this gateway compacted results, a tool's text was Attio's JSON pretty-printed.
    println!("| tool | text now (bytes) | before: Attio's JSON pretty-printed | Attio's JSON |\n|---|---|---|---|");
    for (name, args, expect) in &reads {
        r.ok(name, args.clone(), expect);
        let mut raw = args.clone();
        raw["raw"] = json!(true);
        let raw_text = r.call(name, raw).text;
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(&raw_text).unwrap()).unwrap();
        let text = r.call(name, args.clone()).text;
        println!("| `{name}` {} | {} | {} | {} |", args, text.len(), pretty.len(), raw_text.len());
    }
    // Facts an agent relies on.
    let me = r.ok("whoami", json!({}), "Ada Admin");
    assert_eq!(
        (me["data"]["member"]["id"].as_str(), me["data"]["tool_access"].as_str()),
        (Some(ACME_ADMIN_MEMBER_ID), Some("read-only"))
    );
    let activity =
        r.ok("record_activity", json!({"object": "companies", "record_id": initech, "since": "2024-01-01"}), "note");
    let kinds: Vec<&str> = activity["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["note", "task", "meeting", "comment_thread", "list_entry"] {
        assert!(kinds.contains(&kind), "record_activity lacks {kind}: {activity}");
    }
    // The thread on Initech's key_accounts entry, beside the one on the record.
    let entry_thread = id(INITECH_ENTRY_THREAD).to_string();
    let on_entry = activity["data"].as_array().unwrap().iter().find(|e| e["id"] == json!(entry_thread));
    assert_eq!(on_entry.map(|e| e["detail"]["list"].clone()), Some(json!("key_accounts")), "{activity}");
    // A narrow window says how many older items it hides and how to see them.
    let recent = r.ok("record_activity", json!({"object": "companies", "record_id": initech}), "older");
    assert!(recent["older"].as_str().unwrap().contains("earlier `since`"), "{recent}");
    let recorded =
        activity["data"].as_array().unwrap().iter().find(|e| e["id"] == json!(meeting)).expect("the kickoff");
    assert_eq!(recorded["detail"]["recordings"][0]["id"], json!(recording), "{recorded}");
    let ats: Vec<&str> = activity["data"].as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(ats.windows(2).all(|p| p[0] >= p[1]), "newest first: {ats:?}");
    let projected =
        r.ok("get_record", json!({"object": "companies", "record_id": initech, "attributes": ["domains"]}), "domains");
    assert_eq!(projected["data"]["values"].as_object().unwrap().len(), 1, "attributes projects: {projected}");

    // Paging, followed to the last page.
    let total_people =
        r.call("query_records", json!({"object": "people", "limit": 500})).structured["data"].as_array().unwrap().len();
    assert_eq!(follow_pages(&r, "query_records", json!({"object": "people", "limit": 1})), total_people);
    assert_eq!(follow_pages(&r, "query_list_entries", json!({"list": "key_accounts", "limit": 1})), 2);
    assert_eq!(follow_pages(&r, "list_tasks", json!({"limit": 1})), 3);
    assert!(follow_pages(&r, "list_notes", json!({"limit": 1})) >= 2);
    assert_eq!(follow_pages(&r, "list_meetings", json!({"limit": 1})), 4);
    assert_eq!(follow_pages(&r, "list_call_recordings", json!({"meeting_id": meeting, "limit": 1})), 1);
    assert_eq!(
        follow_pages(&r, "list_record_entries", json!({"object": "companies", "record_id": initech, "limit": 1})),
        1
    );
    assert_eq!(
        follow_pages(&r, "list_comment_threads", json!({"object": "companies", "record_id": initech, "limit": 1})),
        1
    );
    assert_eq!(
        follow_pages(
            &r,
            "record_activity",
            json!({"object": "companies", "record_id": initech, "since": "2024-01-01", "limit": 2})
        ),
        kinds.len()
    );
    let transcript = json!({"meeting_id": meeting, "call_recording_id": recording});
    // Attio sends short phrases; each speaker turn is one line, and no page splits a turn.
    assert_eq!(follow_pages(&r, "get_transcript", transcript.clone()), KICKOFF_TRANSCRIPT_TURNS);
    let first = r.call("get_transcript", transcript);
    assert_eq!(
        first.structured["data"]["transcript"][0], "[00:00] Ada Admin: Next on the agenda: single sign-on.",
        "{}",
        first.text
    );

    // Writes, in an order that creates what the next one changes and removes.
    let made = w.ok(
        "create_record",
        json!({"object": "projects", "values": {"name": "E2E project", "phase": "Discovery"}}),
        "E2E project",
    );
    let made_id = made["data"]["id"].as_str().unwrap().to_string();
    w.ok(
        "update_record",
        json!({"object": "projects", "record_id": made_id, "values": {"phase": "Build"}, "mode": "overwrite"}),
        "Build",
    );
    w.ok("upsert_record", json!({"object": "companies", "matching_attribute": "domains", "values": {"name": "Initrode", "domains": ["initrode.example"]}}), "Initrode");
    let added = w.ok("add_list_entry", json!({"list": "key_accounts", "parent_object": "companies", "parent_record_id": hooli, "entry_values": {"stage": "Prospecting"}}), "Prospecting");
    let added_id = added["data"]["id"].as_str().unwrap().to_string();
    w.ok(
        "update_list_entry",
        json!({"list": "key_accounts", "entry_id": added_id, "entry_values": {"stage": "Closed"}}),
        "Closed",
    );
    w.ok("remove_list_entry", json!({"list": "key_accounts", "entry_id": added_id}), "deleted");
    let n = w.ok("create_note", json!({"parent_object": "companies", "parent_record_id": initech, "title": "E2E note", "content": "From the tools test"}), "E2E note");
    w.ok("delete_note", json!({"note_id": n["data"]["id"]}), "deleted");
    let t = w.ok(
        "create_task",
        json!({"content": "E2E task", "assignees": ["bob@acme.example"], "deadline_at": "2026-12-01T17:00:00Z",
        "linked_records": [{"target_object": "companies", "target_record_id": initech}]}),
        "E2E task",
    );
    let bob = id("acme/member/bob").to_string();
    assert_eq!(t["data"]["assignees"], json!([format!("workspace-member:{bob}")]), "assigned by email");
    w.ok("update_task", json!({"task_id": t["data"]["id"], "is_completed": true}), "\"is_completed\":true");
    w.ok("delete_task", json!({"task_id": t["data"]["id"]}), "deleted");
    let comment = w.ok(
        "create_comment",
        json!({"content": "E2E comment", "object": "companies", "record_id": initech}),
        "E2E comment",
    );
    assert_eq!(
        comment["data"]["author"],
        json!(format!("workspace-member:{ACME_ADMIN_MEMBER_ID}")),
        "written as the member"
    );
    w.ok("delete_comment", json!({"comment_id": comment["data"]["id"]}), "deleted");
    w.ok("delete_record", json!({"object": "projects", "record_id": made_id}), "deleted");
    let gone = w.call("get_record", json!({"object": "projects", "record_id": made_id}));
    assert!(gone.error && gone.text.contains("404"), "{}", gone.text);

    // Every write tool is refused under the read-only grant (403 insufficient_scope), untried.
    let writes: Vec<String> = w.schemas.keys().filter(|n| !r.schemas.contains_key(*n)).cloned().collect();
    assert_eq!(writes.len(), 14, "{writes:?}");
    let api_calls = || stack.mock.with(|m| m.log.iter().filter(|q| q.path.starts_with("/v2/")).count());
    let sent_before = api_calls();
    for name in &writes {
        let reply = r.reply(name, json!({}));
        assert_eq!(reply.status, 403, "{name}: {}", reply.body);
        assert!(reply.header("www-authenticate").is_some_and(|h| h.contains("insufficient_scope")), "{name}");
    }
    assert_eq!(api_calls(), sent_before, "nothing reached Attio");

    // An Attio 404 and 429, for every tool: errors that say what to do next.
    let mut every: Vec<(&str, Value)> = reads.iter().map(|(n, a, _)| (*n, a.clone())).collect();
    every.extend([
        ("create_record", json!({"object": "projects", "values": {"name": "x"}})),
        (
            "upsert_record",
            json!({"object": "companies", "matching_attribute": "domains", "values": {"domains": ["x.example"]}}),
        ),
        ("update_record", json!({"object": "projects", "record_id": project, "values": {}})),
        ("delete_record", json!({"object": "projects", "record_id": project})),
        ("add_list_entry", json!({"list": "key_accounts", "parent_object": "companies", "parent_record_id": hooli})),
        ("update_list_entry", json!({"list": "key_accounts", "entry_id": entry, "entry_values": {}})),
        ("remove_list_entry", json!({"list": "key_accounts", "entry_id": entry})),
        (
            "create_note",
            json!({"parent_object": "companies", "parent_record_id": initech, "title": "x", "content": "x"}),
        ),
        ("delete_note", json!({"note_id": note})),
        ("create_task", json!({"content": "x"})),
        ("update_task", json!({"task_id": task, "is_completed": true})),
        ("delete_task", json!({"task_id": task})),
        ("create_comment", json!({"content": "x", "thread_id": thread})),
        ("delete_comment", json!({"comment_id": thread})),
    ]);
    let mut covered: Vec<&str> = every.iter().map(|(n, _)| *n).collect();
    covered.sort_unstable();
    covered.dedup();
    assert_eq!(covered.len(), w.schemas.len(), "every tool is tried");
    for (name, args) in &every {
        // record_activity asks five parts at once, whoami two: all fail for it to fail (a part
        // alone failing is reported inside the result).
        let count = match *name {
            "record_activity" => 5,
            "whoami" => 2,
            _ => 1,
        };
        fail_next(&stack, 404, count);
        let e = w.call(name, args.clone());
        assert!(e.error && e.text.contains("404") && e.text.contains("Hint:"), "{name} on a 404: {}", e.text);
        fail_next(&stack, 429, count);
        let e = w.call(name, args.clone());
        assert!(e.error && e.text.contains("Retry in"), "{name} on a 429: {}", e.text);
    }
    // Nothing was changed by the failed calls: the seeded task is still open.
    assert!(!r.call("get_task", json!({"task_id": task})).text.contains("\"is_completed\":true"));

    // A grant the person limited to meetings and comments at consent: only those tools are
    // listed, a records tool is refused naming the scope it needs, and the record's activity
    // leaves out (and names) what was not granted.
    stack.auto_approve();
    let choices = [("access", "read"), ("groups_shown", "1"), ("group_meetings", "on"), ("group_comments", "on")];
    let limited = Agent::new(&c, stack.access_token_choosing("/mcp", &choices));
    let mut names: Vec<&str> = limited.schemas.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "get_call_recording",
            "get_comment_thread",
            "get_meeting",
            "get_transcript",
            "list_call_recordings",
            "list_comment_threads",
            "list_meetings",
            "list_workspace_members",
            "whoami"
        ]
    );
    let refused = limited.reply("query_records", json!({"object": "companies"}));
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused
        .header("www-authenticate")
        .is_some_and(|h| h.contains("insufficient_scope") && h.contains("attio:records")));
    limited.ok("get_meeting", json!({"meeting_id": meeting}), "Initech renewal kickoff");
    let choices = [("access", "read"), ("groups_shown", "1"), ("group_records", "on"), ("group_notes", "on")];
    let notes_only = Agent::new(&c, stack.access_token_choosing("/mcp", &choices));
    let activity = notes_only.ok(
        "record_activity",
        json!({"object": "companies", "record_id": initech, "since": "2024-01-01"}),
        "note",
    );
    let kinds: Vec<&str> = activity["data"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.iter().all(|k| *k == "note"), "{kinds:?}");
    assert_eq!(activity["skipped"].as_array().map(Vec::len), Some(4), "{activity}");
}

/// Issue 28: the workflows as prompts, against the mock's data. A record name typed in part is
/// completed from Attio's search (as the connected member sees it), and each prompt's message
/// names the record chosen and the tools to use.
#[test]
fn prompts_complete_from_attio_and_name_real_records() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let token = stack.mcp_access_token("write");
    let rpc = |method: &str, params: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        mcp_post(&c, &token, &[("mcp-protocol-version", "2025-11-25")], body.as_bytes()).json()
    };
    let listed = rpc("prompts/list", json!({}));
    assert_eq!(listed["result"]["prompts"].as_array().map(Vec::len), Some(3), "{listed}");
    for (prompt, typed, expected, extra) in [
        ("account_brief", "Initech", "Initech", json!({})),
        ("meeting_prep", "Peter", "Peter Gibbons", json!({})),
        ("log_a_call", "Hool", "Hooli", json!({"summary": "Agreed on the pilot.", "follow_up": "Send the contract"})),
    ] {
        let completed = rpc(
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": "record", "value": typed}}),
        );
        let values: Vec<String> = completed["result"]["completion"]["values"]
            .as_array()
            .unwrap_or_else(|| panic!("{completed}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert!(values.iter().any(|v| v == expected), "{prompt}: {values:?}");
        let mut arguments = extra.clone();
        arguments["record"] = json!(expected);
        let got = rpc("prompts/get", json!({"name": prompt, "arguments": arguments}));
        let text = got["result"]["messages"][0]["content"]["text"].as_str().unwrap_or_else(|| panic!("{got}"));
        assert!(text.contains(expected) && text.contains("search_records"), "{prompt}: {text}");
    }
    let objects = rpc(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "account_brief"}, "argument": {"name": "object", "value": "comp"}}),
    );
    assert_eq!(objects["result"]["completion"]["values"], json!(["companies"]), "{objects}");
}
