//! Tests of the tool table ([`super`]): names, schemas, annotations, plans.

use super::*;

fn build(name: &str, args: Value) -> Result<Call, String> {
    match find(name).unwrap().build(&args)? {
        Plan::One(call) => Ok(call),
        other => panic!("{name}: not one call: {other:?}"),
    }
}

#[test]
fn every_tool_is_described_with_schemas_scopes_and_annotations() {
    let mut names: Vec<&str> = all().map(|t| t.name).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "unique names");
    for t in all() {
        let d = t.describe();
        assert_eq!(d["inputSchema"]["type"], "object", "{}", t.name);
        assert_eq!(d["outputSchema"]["type"], "object", "{}", t.name);
        assert!(d["outputSchema"]["required"].as_array().is_some_and(|r| !r.is_empty()), "{}", t.name);
        assert_eq!(d["annotations"]["readOnlyHint"], !t.write, "{}", t.name);
        assert!(t.description.len() > 20, "{}", t.name);
        assert!(!t.destructive || t.write, "{}: destructive implies write", t.name);
        assert!(!t.scopes.is_empty(), "{}: scopes", t.name);
        assert!(t.scopes.iter().all(|s| s.ends_with(":read") || s.ends_with(":read-write")), "{}", t.name);
        // A write tool needs a read-write scope; a read tool none.
        assert_eq!(t.write, t.scopes.iter().any(|s| s.ends_with(":read-write")), "{}", t.name);
    }
}

#[test]
fn the_scope_table_names_the_strongest_scope_once() {
    let table = scope_table();
    let notes: Vec<_> = table.iter().filter(|(s, _)| s.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].0, "note:read-write");
    assert!(notes[0].1.contains(&"list_notes") && notes[0].1.contains(&"create_note"));
    for scope in ["meeting:read", "call_recording:read", "comment:read-write", "user_management:read"] {
        assert!(table.iter().any(|(s, _)| s == scope), "{scope}");
    }
}

#[test]
fn requests_are_built_for_any_object() {
    let c = build(
        "query_records",
        json!({"object": "projects", "filter": {"phase": {"$eq": "Build"}}, "limit": 5, "offset": 10}),
    )
    .unwrap();
    assert_eq!(c.method, Method::POST);
    assert_eq!(c.path, "/v2/objects/projects/records/query");
    assert_eq!(c.body.unwrap(), json!({"filter": {"phase": {"$eq": "Build"}}, "limit": 5, "offset": 10}));
    let c = build(
        "upsert_record",
        json!({"object": "companies", "matching_attribute": "domains", "values": {"domains": ["a.com"]}}),
    )
    .unwrap();
    assert_eq!((c.method, c.path.as_str()), (Method::PUT, "/v2/objects/companies/records?matching_attribute=domains"));
    let c = build("update_record", json!({"object": "deals", "record_id": "r1", "values": {}, "mode": "overwrite"}))
        .unwrap();
    assert_eq!(c.method, Method::PUT);
    let c = build("list_notes", json!({"parent_object": "people", "parent_record_id": "p1", "limit": 5})).unwrap();
    assert_eq!(c.path, "/v2/notes?limit=5&parent_object=people&parent_record_id=p1");
}

#[test]
fn the_new_endpoints_are_asked_as_attio_documents_them() {
    let c = build(
        "list_meetings",
        json!({"linked_object": "companies", "linked_record_id": "r1", "ends_from": "2026-11-01"}),
    )
    .unwrap();
    assert_eq!(
        c.path,
        "/v2/meetings?limit=25&linked_object=companies&linked_record_id=r1&ends_from=2026-11-01&sort=start_asc"
    );
    let c = build("list_meetings", json!({"participants": ["a@b.example", "c@d.example"], "cursor": "abc"})).unwrap();
    assert_eq!(c.path, "/v2/meetings?limit=25&cursor=abc&participants=a%40b.example%2Cc%40d.example&sort=start_desc");
    match find("get_transcript")
        .unwrap()
        .build(&json!({"meeting_id": "m", "call_recording_id": "r", "cursor": "t1.2.n2"}))
    {
        Ok(Plan::Transcript(r)) => assert_eq!(
            (r.path.as_str(), r.cursor.as_deref(), r.skip),
            ("/v2/meetings/m/call_recordings/r/transcript", Some("n2"), 2)
        ),
        other => panic!("{other:?}"),
    }
    let c = build("list_comment_threads", json!({"list": "deals", "entry_id": "e"})).unwrap();
    assert_eq!(c.path, "/v2/threads?limit=25&list=deals&entry_id=e");
    let c = build("create_comment", json!({"content": "Hi", "object": "companies", "record_id": "r"})).unwrap();
    assert_eq!(
        (c.as_member, c.body.unwrap()["data"]["record"].clone()),
        (Some(AsMember::Author), json!({"object": "companies", "record_id": "r"}))
    );
    let c = build("list_record_entries", json!({"object": "companies", "record_id": "r"})).unwrap();
    assert_eq!(c.path, "/v2/objects/companies/records/r/entries?limit=25");
    match find("list_attribute_options").unwrap().build(&json!({"list": "deals", "attribute": "stage"})).unwrap() {
        Plan::Options { options, statuses } => {
            assert_eq!(options.path, "/v2/lists/deals/attributes/stage/options?show_archived=false");
            assert_eq!(statuses.path, "/v2/lists/deals/attributes/stage/statuses?show_archived=false");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(find("whoami").unwrap().build(&json!({})), Ok(Plan::WhoAmI)));
    match find("record_activity")
        .unwrap()
        .build(&json!({"object": "companies", "record_id": "r", "since": "2026-11-01T00:00:00Z"}))
        .unwrap()
    {
        Plan::Activity(r) => {
            assert_eq!((r.limit, r.offset, r.since.as_deref()), (DEFAULT_LIMIT, 0, Some("2026-11-01T00:00:00Z")))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tasks_take_assignees_by_id_or_email_and_typed_links() {
    let c = build(
        "create_task",
        json!({"content": "Call", "assignees": ["m1", "ada@acme.example"],
        "linked_records": [{"target_object": "companies", "target_record_id": "r1"}]}),
    )
    .unwrap();
    let data = &c.body.unwrap()["data"];
    assert_eq!(
        data["assignees"],
        json!([{"referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}, {"workspace_member_email_address": "ada@acme.example"}])
    );
    assert_eq!(data["linked_records"][0]["target_record_id"], "r1");
    let e = build("create_task", json!({"content": "Call", "linked_records": [{"object": "companies"}]})).unwrap_err();
    assert!(e.contains("unknown field \"object\"") && e.contains("target_object"), "{e}");
    let e = build("create_task", json!({"content": "x".repeat(2001)})).unwrap_err();
    assert!(e.contains("2001 characters") && e.contains("2000"), "{e}");
    assert!(build("create_task", json!({"content": "x".repeat(2000)})).is_ok());
    let e = build("update_task", json!({"task_id": "t", "deadline_at": "next friday"})).unwrap_err();
    assert!(e.contains("ISO 8601"), "{e}");
    let c = build("update_task", json!({"task_id": "t", "deadline_at": null})).unwrap();
    assert_eq!(c.body.unwrap()["data"], json!({"deadline_at": null}));
}

#[test]
fn sorts_are_typed() {
    let ok = build("query_records", json!({"object": "people", "sorts": [{"attribute": "name", "direction": "desc"}]}));
    assert!(ok.is_ok());
    let e = build("query_records", json!({"object": "people", "sorts": [{"attribute": "name", "direction": "down"}]}))
        .unwrap_err();
    assert!(e.contains("direction") && e.contains("asc"), "{e}");
    let e = build("query_records", json!({"object": "people", "sorts": [{"direction": "asc"}]})).unwrap_err();
    assert!(e.contains("needs \"attribute\""), "{e}");
}

#[test]
fn arguments_that_exclude_each_other_are_one_of() {
    assert!(find("list_attributes")
        .unwrap()
        .build(&json!({"object": "people", "list": "deals"}))
        .unwrap_err()
        .contains("only one"));
    assert!(find("list_attributes").unwrap().build(&json!({})).unwrap_err().contains("exactly one"));
    let e = build("create_comment", json!({"content": "x", "thread_id": "t", "object": "people", "record_id": "r"}))
        .unwrap_err();
    assert!(e.contains("only one"), "{e}");
    let e = build("list_comment_threads", json!({"object": "people"})).unwrap_err();
    assert!(e.contains("together"), "{e}");
    let schema = find("create_comment").unwrap().input_schema();
    assert_eq!(
        schema["oneOf"],
        json!([{"required": ["thread_id"]}, {"required": ["object", "record_id"]}, {"required": ["list", "entry_id"]}])
    );
}

#[test]
fn arguments_cannot_escape_the_api_prefix() {
    for id in ["../../admin", "..", ".", "a/b", "a%2fb", "x?y=1", "x#y", "http://evil.test"] {
        match build("get_record", json!({"object": "people", "record_id": id})) {
            Ok(c) => {
                let tail = c.path.strip_prefix("/v2/objects/people/records/").expect("prefix kept");
                assert!(!tail.contains(['/', '?', '#']), "{id} -> {}", c.path);
            }
            Err(e) => assert!(e.contains("not allowed"), "{id}: {e}"),
        }
    }
    assert!(build("get_record", json!({"object": "..", "record_id": "x"})).is_err());
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    assert_eq!(build("get_record", json!({"object": "people"})).unwrap_err(), "\"record_id\" is required");
    assert!(build("query_records", json!({"object": "people", "filter": "name=x"})).unwrap_err().contains("filter"));
    assert!(build("query_records", json!({"object": "people", "limit": 9999})).unwrap_err().contains("limit"));
    assert!(build("query_records", json!({"object": "people", "limit": 0})).unwrap_err().contains("from 1"));
    assert!(build("update_task", json!({"task_id": "t"})).unwrap_err().contains("at least one"));
    assert!(build("get_record", json!({"object": "people", "record_id": 7})).unwrap_err().contains("not a number"));
    assert!(build("get_record", json!({"object": "people", "record_id": "r", "raw": "yes"}))
        .unwrap_err()
        .contains("raw"));
    assert!(build("get_record", json!({"object": "people", "record_id": "r", "attributes": "name"}))
        .unwrap_err()
        .contains("attributes"));
    assert!(find("whoami").unwrap().build(&json!([1])).is_err());
}
