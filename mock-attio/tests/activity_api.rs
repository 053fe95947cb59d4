//! Black-box tests of the newer endpoints over HTTP: meetings, call recordings and transcripts,
//! comment threads, select options and statuses, a record's entries, task assignees by email.

#![allow(clippy::unwrap_used)]

use mock_attio::client::{Reply, TestClient as Client};
use mock_attio::seed::{
    id, ACME_ADMIN_MEMBER_ID, DEFAULT_SCOPES, HOOLI_MEETING, INITECH_ENTRY_THREAD, INITECH_THREAD, KICKOFF_MEETING,
    KICKOFF_RECORDING, KICKOFF_TRANSCRIPT_TURNS, SSO_FOLLOW_UP_MEETING, UMBRELLA_WORKSHOP_MEETING,
};
use mock_attio::{MockAttio, Settings};
use serde_json::{json, Value};

fn start() -> (MockAttio, Client, String) {
    let mock = MockAttio::start(Vec::new(), Settings::default()).unwrap();
    let client = Client::new(mock.base_url());
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    (mock, client, token)
}

/// A token carrying exactly `scopes` (the demo app's scopes are restored afterwards).
fn token_with(mock: &MockAttio, scopes: &[&str]) -> String {
    mock.with(|w| w.apps[0].scopes = scopes.iter().map(|s| s.to_string()).collect());
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    mock.with(|w| w.apps[0].scopes = DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect());
    token
}

fn items(reply: &Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["data"].as_array().unwrap().clone()
}

fn titles(reply: &Reply) -> Vec<String> {
    items(reply).iter().map(|m| m["title"].as_str().unwrap().to_string()).collect()
}

/// Asserts Attio's error envelope with this status and code.
fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["status_code"], status);
    assert_eq!(body["code"], code, "{}", reply.body);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

fn record(name: &str) -> String {
    id(&format!("acme/record/{name}")).to_string()
}

const KICKOFF: &str = "Initech renewal kickoff";
const HOOLI: &str = "Hooli expansion check-in";
const FOLLOW_UP: &str = "Initech SSO follow-up";
const WORKSHOP: &str = "Umbrella pilot workshop";

#[test]
fn meetings_list_in_start_order_with_their_shape() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let all = c.get("/v2/meetings", t);
    assert_eq!(titles(&all), [KICKOFF, HOOLI, FOLLOW_UP, WORKSHOP]);
    assert_eq!(all.json()["pagination"], json!({"next_cursor": null}));

    let kickoff = c.get(&format!("/v2/meetings/{}", id(KICKOFF_MEETING)), t).json()["data"].clone();
    assert_eq!(kickoff, items(&all)[0]);
    assert_eq!(kickoff["id"]["meeting_id"], id(KICKOFF_MEETING).to_string());
    assert_eq!(kickoff["id"]["workspace_id"], mock_attio::seed::ACME_WORKSPACE_ID);
    assert_eq!(kickoff["is_all_day"], false);
    assert_eq!(kickoff["start"], json!({"datetime": "2024-01-17T14:00:00.000000000Z", "timezone": "UTC"}));
    assert_eq!(kickoff["end"], json!({"datetime": "2024-01-17T15:00:00.000000000Z", "timezone": "UTC"}));
    assert_eq!(kickoff["created_at"], "2024-01-15T09:00:00.000000000Z");
    assert_eq!(kickoff["created_by_actor"], json!({"type": "workspace-member", "id": ACME_ADMIN_MEMBER_ID}));
    assert!(kickoff["description"].as_str().unwrap().contains("SSO"));
    let participants = kickoff["participants"].as_array().unwrap();
    assert_eq!(participants.len(), 3);
    assert_eq!(
        participants[0],
        json!({"status": "accepted", "is_organizer": true, "email_address": "ada@acme.example"})
    );
    assert!(participants.iter().any(|p| p["email_address"] == "peter@initech.example"));
    let linked = kickoff["linked_records"].as_array().unwrap();
    assert!(linked.contains(&json!({
        "object_slug": "companies", "object_id": id("acme/object/companies").to_string(), "record_id": record("initech"),
    })));
    assert!(linked.iter().any(|l| l["object_slug"] == "people" && l["record_id"] == record("peter")));

    let workshop = c.get(&format!("/v2/meetings/{}", id(UMBRELLA_WORKSHOP_MEETING)), t).json()["data"].clone();
    assert_eq!(workshop["is_all_day"], true);
    let (start, end) = (workshop["start"]["date"].as_str().unwrap(), workshop["end"]["date"].as_str().unwrap());
    assert_eq!((start.len(), end.len()), (10, 10), "all-day meetings carry dates");
    assert!(start < end, "the end date is exclusive: the day after");
    assert!(workshop["start"].get("datetime").is_none());

    let follow_up = c.get(&format!("/v2/meetings/{}", id(SSO_FOLLOW_UP_MEETING)), t).json()["data"].clone();
    let now = mock_attio::clock::format_timestamp(mock.with(|w| w.clock.now()));
    assert!(follow_up["start"]["datetime"].as_str().unwrap() > now.as_str(), "the follow-up is in the future");
}

#[test]
fn meetings_page_with_an_opaque_cursor_to_the_last_page() {
    let (_m, c, token) = start();
    let t = Some(token.as_str());
    let mut seen = Vec::new();
    let mut path = "/v2/meetings?limit=1".to_string();
    let mut pages = 0;
    loop {
        let page = c.get(&path, t);
        assert_eq!(items(&page).len(), 1);
        seen.extend(titles(&page));
        pages += 1;
        match page.json()["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v2/meetings?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen, [KICKOFF, HOOLI, FOLLOW_UP, WORKSHOP]);

    let first = c.get("/v2/meetings?limit=3&sort=start_desc", t);
    assert_eq!(titles(&first), [WORKSHOP, FOLLOW_UP, HOOLI]);
    let cursor = first.json()["pagination"]["next_cursor"].as_str().unwrap().to_string();
    let last = c.get(&format!("/v2/meetings?limit=3&sort=start_desc&cursor={cursor}"), t);
    assert_eq!(titles(&last), [KICKOFF]);
    assert!(last.json()["pagination"]["next_cursor"].is_null());

    for bad in ["garbage", "bWVldGluZ3M6eA", "dHJhbnNjcmlwdDow"] {
        // Not base64; "meetings:x"; a transcript cursor ("transcript:0").
        assert_error(&c.get(&format!("/v2/meetings?cursor={bad}"), t), 400, "validation_type");
    }
}

#[test]
fn meetings_filter_by_linked_record_participants_and_time() {
    let (_m, c, token) = start();
    let t = Some(token.as_str());
    let initech = record("initech");
    let by_link = |object: &str, rid: &str| {
        titles(&c.get(&format!("/v2/meetings?linked_object={object}&linked_record_id={rid}"), t))
    };
    assert_eq!(by_link("companies", &initech), [KICKOFF, FOLLOW_UP]);
    assert_eq!(by_link(&id("acme/object/companies").to_string(), &initech), [KICKOFF, FOLLOW_UP], "object by id");
    assert_eq!(by_link("companies", &record("hooli")), [HOOLI]);
    assert_eq!(by_link("deals", &record("initech-renewal")), [KICKOFF]);
    assert_eq!(by_link("companies", &record("umbrella")), [WORKSHOP]);
    assert!(by_link("people", &initech).is_empty(), "the record must be linked as that object");
    assert_error(&c.get(&format!("/v2/meetings?linked_object=nope&linked_record_id={initech}"), t), 404, "not_found");

    let by_people = |emails: &str| titles(&c.get(&format!("/v2/meetings?participants={emails}"), t));
    assert_eq!(by_people("gavin@hooli.example,%20Alice@Umbrella.example"), [HOOLI, WORKSHOP]);
    assert_eq!(by_people("peter@initech.example"), [KICKOFF, FOLLOW_UP]);
    assert!(by_people("nobody@nowhere.example").is_empty());
    assert_eq!(by_people("").len(), 4, "empty means no filter");

    let when = |q: &str| titles(&c.get(&format!("/v2/meetings?{q}"), t));
    assert_eq!(when("starts_before=2024-01-20T00:00:00Z"), [KICKOFF]);
    assert!(when("starts_before=2024-01-17T14:00:00Z").is_empty(), "starts_before is exclusive");
    assert_eq!(when("ends_from=2024-01-17T15:00:00.000000000Z&starts_before=2024-01-18"), [KICKOFF], "inclusive");
    assert_eq!(when("ends_from=2024-01-17T15:00:00.001Z&starts_before=2024-01-23"), [HOOLI]);
    assert_eq!(when("ends_from=2024-01-17T16:00:00%2B01:00&starts_before=2024-01-18"), [KICKOFF], "offsets count");
    assert_eq!(when("timezone=Europe/Berlin").len(), 4, "timezone is accepted");
}

#[test]
fn meetings_validate_and_guard() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let initech = record("initech");
    for q in [
        "limit=0".to_string(),
        "limit=201".into(),
        "limit=ten".into(),
        "linked_object=companies".into(),
        format!("linked_record_id={initech}"),
        "linked_object=companies&linked_record_id=not-a-uuid".into(),
        "participants=peter".into(),
        "sort=title".into(),
        "ends_from=yesterday".into(),
        "starts_before=2024-02-30".into(),
    ] {
        assert_error(&c.get(&format!("/v2/meetings?{q}"), t), 400, "validation_type");
    }
    assert_eq!(items(&c.get("/v2/meetings?limit=200", t)).len(), 4);

    let missing = c.get(&format!("/v2/meetings/{}", uuid::Uuid::new_v4()), t);
    assert_error(&missing, 404, "not_found");
    assert!(missing.json()["message"].as_str().unwrap().contains("was not found"));
    assert_error(&c.get("/v2/meetings/not-a-uuid", t), 404, "not_found");
    assert_error(&c.send_json("POST", "/v2/meetings", t, &json!({})), 404, "not_found");

    let no_meetings = token_with(&mock, &["record_permission:read"]);
    assert_error(&c.get("/v2/meetings", Some(&no_meetings)), 403, "missing_scopes");
    let no_records = token_with(&mock, &["meeting:read"]);
    let denied = c.get(&format!("/v2/meetings/{}", id(KICKOFF_MEETING)), Some(&no_records));
    assert_error(&denied, 403, "missing_scopes");
    assert!(denied.json()["message"].as_str().unwrap().contains("record_permission:read"));
    let both = token_with(&mock, &["meeting:read", "record_permission:read"]);
    assert_eq!(c.get("/v2/meetings", Some(&both)).status, 200);
}

#[test]
fn call_recordings_list_and_get() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let (meeting, recording) = (id(KICKOFF_MEETING), id(KICKOFF_RECORDING));
    let list = c.get(&format!("/v2/meetings/{meeting}/call_recordings"), t);
    let recs = items(&list);
    assert_eq!(recs.len(), 1);
    assert!(list.json()["pagination"]["next_cursor"].is_null());
    let rec = &recs[0];
    assert_eq!(
        rec["id"],
        json!({"workspace_id": mock_attio::seed::ACME_WORKSPACE_ID, "meeting_id": meeting.to_string(), "call_recording_id": recording.to_string()})
    );
    assert_eq!(rec["status"], "completed");
    assert_eq!(rec["web_url"], format!("{}/acme/calls/{meeting}/{recording}", c.base));
    assert_eq!(rec["created_at"], "2024-01-17T15:10:00.000000000Z");
    assert_eq!(rec["created_by_actor"]["type"], "workspace-member");
    let one = c.get(&format!("/v2/meetings/{meeting}/call_recordings/{recording}"), t);
    assert_eq!(one.json()["data"], *rec);

    assert!(items(&c.get(&format!("/v2/meetings/{}/call_recordings", id(HOOLI_MEETING)), t)).is_empty());
    let page = c.get(&format!("/v2/meetings/{meeting}/call_recordings?limit=1"), t);
    assert_eq!(items(&page).len(), 1);
    assert!(page.json()["pagination"]["next_cursor"].is_null());

    for q in ["limit=0", "limit=201", "cursor=", "cursor=garbage"] {
        assert_error(&c.get(&format!("/v2/meetings/{meeting}/call_recordings?{q}"), t), 400, "validation_type");
    }
    let unknown = uuid::Uuid::new_v4();
    assert_error(&c.get(&format!("/v2/meetings/{unknown}/call_recordings"), t), 404, "not_found");
    assert_error(&c.get(&format!("/v2/meetings/{meeting}/call_recordings/{unknown}"), t), 404, "not_found");
    let elsewhere = c.get(&format!("/v2/meetings/{}/call_recordings/{recording}", id(HOOLI_MEETING)), t);
    assert_error(&elsewhere, 404, "not_found");

    let meetings_only = token_with(&mock, &["meeting:read", "record_permission:read"]);
    for path in [
        format!("/v2/meetings/{meeting}/call_recordings"),
        format!("/v2/meetings/{meeting}/call_recordings/{recording}"),
        format!("/v2/meetings/{meeting}/call_recordings/{recording}/transcript"),
    ] {
        assert_error(&c.get(&path, Some(&meetings_only)), 403, "missing_scopes");
    }
    let recordings_only = token_with(&mock, &["call_recording:read"]);
    assert_error(
        &c.get(&format!("/v2/meetings/{meeting}/call_recordings"), Some(&recordings_only)),
        403,
        "missing_scopes",
    );
}

#[test]
fn transcript_pages_over_three_pages() {
    let (_m, c, token) = start();
    let t = Some(token.as_str());
    let base = format!("/v2/meetings/{}/call_recordings/{}/transcript", id(KICKOFF_MEETING), id(KICKOFF_RECORDING));
    let mut segments: Vec<Value> = Vec::new();
    let mut sizes = Vec::new();
    let mut path = base.clone();
    loop {
        let reply = c.get(&path, t);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        let data = &body["data"];
        assert_eq!(data["id"]["call_recording_id"], id(KICKOFF_RECORDING).to_string());
        assert_eq!(
            data["web_url"],
            format!("{}/acme/calls/{}/{}/transcript", c.base, id(KICKOFF_MEETING), id(KICKOFF_RECORDING))
        );
        let page = data["transcript"].as_array().unwrap();
        let raw = data["raw_transcript"].as_str().unwrap();
        // One line per run of one speaker, holding that run's phrases in order.
        let runs = 1 + page.windows(2).filter(|p| p[0]["speaker"] != p[1]["speaker"]).count();
        assert_eq!(raw.lines().count(), runs, "one line per speaker turn");
        let last = page.last().unwrap();
        assert!(raw.ends_with(last["speech"].as_str().unwrap()), "{raw}");
        sizes.push(page.len());
        segments.extend(page.iter().cloned());
        match body["pagination"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("{base}?cursor={cursor}"),
            None => break,
        }
    }
    assert!(sizes[..sizes.len() - 1].iter().all(|s| *s == 50), "{sizes:?}");
    // As Attio sends them: short phrases, several per turn; the speaker changes 119 times.
    assert!(segments.len() > 3 * KICKOFF_TRANSCRIPT_TURNS, "{}", segments.len());
    assert!(segments.iter().all(|s| s["speech"].as_str().unwrap().split_whitespace().count() <= 3));
    assert_eq!(segments[0]["speaker"]["name"], "Ada Admin");
    assert_eq!(segments[0]["speech"], "Next on the");
    let changes = segments.windows(2).filter(|p| p[0]["speaker"] != p[1]["speaker"]).count();
    assert_eq!(changes, KICKOFF_TRANSCRIPT_TURNS - 1);
    assert!(segments.windows(2).all(|p| p[0]["end_time"].as_f64() < p[1]["start_time"].as_f64()));
    assert!(segments.iter().all(|s| s["start_time"].as_f64() < s["end_time"].as_f64()));
    assert_eq!(segments[0]["start_time"], 0.5);
    let first = c.get(&base, t).json();
    assert!(
        first["data"]["raw_transcript"]
            .as_str()
            .unwrap()
            .starts_with("[00:00] Ada Admin: Next on the agenda: single sign-on.\n[00:"),
        "one line per turn"
    );

    assert_error(&c.get(&format!("{base}?cursor=garbage"), t), 400, "validation_type");
    let meetings_cursor =
        c.get("/v2/meetings?limit=1", t).json()["pagination"]["next_cursor"].as_str().unwrap().to_string();
    assert_error(&c.get(&format!("{base}?cursor={meetings_cursor}"), t), 400, "validation_type");
    let unknown = uuid::Uuid::new_v4();
    assert_error(
        &c.get(&format!("/v2/meetings/{}/call_recordings/{unknown}/transcript", id(KICKOFF_MEETING)), t),
        404,
        "not_found",
    );
}

#[test]
fn threads_list_filter_and_get() {
    let (_m, c, token) = start();
    let t = Some(token.as_str());
    let all = items(&c.get("/v2/threads", t));
    assert_eq!(all.len(), 2);

    let initech = record("initech");
    let on_record = items(&c.get(&format!("/v2/threads?record_id={initech}&object=companies"), t));
    assert_eq!(on_record.len(), 1, "the entry thread is not a thread on the record");
    let thread = &on_record[0];
    assert_eq!(thread["id"]["thread_id"], id(INITECH_THREAD).to_string());
    assert_eq!(thread["created_at"], "2024-01-18T09:00:00.000000000Z");
    let comments = thread["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    let bob = id("acme/member/bob").to_string();
    assert_eq!(comments[0]["author"], json!({"type": "workspace-member", "id": ACME_ADMIN_MEMBER_ID}));
    assert_eq!(comments[1]["author"], json!({"type": "workspace-member", "id": bob}));
    assert_eq!(comments[0]["id"]["comment_id"], id("acme/comment/initech-sso-question").to_string());
    assert_eq!(comments[0]["thread_id"], id(INITECH_THREAD).to_string());
    assert!(comments[0]["entry"].is_null());
    assert_eq!(
        comments[0]["record"],
        json!({"record_id": initech, "object_id": id("acme/object/companies").to_string()})
    );
    assert!(comments[0]["resolved_at"].is_null());
    assert_eq!(comments[0]["resolved_by"], json!({"type": null, "id": null}));
    assert!(comments[0]["content_plaintext"].as_str().unwrap().contains("SSO"));
    let by_object_id = c.get(&format!("/v2/threads?record_id={initech}&object={}", id("acme/object/companies")), t);
    assert_eq!(items(&by_object_id).len(), 1);

    let entry = id(&format!("acme/entry/key_accounts/{initech}")).to_string();
    let on_entry = items(&c.get(&format!("/v2/threads?entry_id={entry}&list=key_accounts"), t));
    assert_eq!(on_entry.len(), 1);
    assert_eq!(on_entry[0]["id"]["thread_id"], id(INITECH_ENTRY_THREAD).to_string());
    let comment = &on_entry[0]["comments"][0];
    assert_eq!(comment["entry"], json!({"entry_id": entry, "list_id": id("acme/list/key_accounts").to_string()}));
    assert_eq!(comment["record"]["record_id"], initech, "an entry comment names the entry's parent record");

    assert!(items(&c.get(&format!("/v2/threads?record_id={}&object=companies", record("hooli")), t)).is_empty());
    assert_eq!(items(&c.get("/v2/threads?limit=1", t)).len(), 1);
    assert_eq!(items(&c.get("/v2/threads?limit=1&offset=1", t)).len(), 1);
    assert!(items(&c.get("/v2/threads?offset=2", t)).is_empty());

    for q in [
        format!("record_id={initech}"),
        "object=companies".to_string(),
        format!("entry_id={entry}"),
        "list=key_accounts".into(),
        format!("record_id={initech}&object=companies&entry_id={entry}&list=key_accounts"),
        "record_id=nope&object=companies".into(),
        "limit=51".into(),
        "limit=0".into(),
        "offset=-1".into(),
    ] {
        assert_error(&c.get(&format!("/v2/threads?{q}"), t), 400, "validation_type");
    }
    assert_error(&c.get(&format!("/v2/threads?record_id={initech}&object=nope"), t), 404, "not_found");

    let got = c.get(&format!("/v2/threads/{}", id(INITECH_THREAD)), t);
    assert_eq!(got.json()["data"], *thread);
    assert_error(&c.get(&format!("/v2/threads/{}", uuid::Uuid::new_v4()), t), 404, "not_found");
    let one = c.get(&format!("/v2/comments/{}", id("acme/comment/initech-sso-answer")), t);
    assert_eq!(one.json()["data"], comments[1]);
    assert_error(&c.get(&format!("/v2/comments/{}", uuid::Uuid::new_v4()), t), 404, "not_found");
}

#[test]
fn comment_scopes_follow_the_target() {
    let (mock, c, _token) = start();
    let thread = format!("/v2/threads/{}", id(INITECH_THREAD));
    let entry_thread = format!("/v2/threads/{}", id(INITECH_ENTRY_THREAD));
    let records = token_with(&mock, &["record_permission:read", "object_configuration:read"]);
    assert_error(&c.get("/v2/threads", Some(&records)), 403, "missing_scopes");
    assert_error(&c.get(&thread, Some(&records)), 403, "missing_scopes");

    let comments_only = token_with(&mock, &["comment:read"]);
    assert!(items(&c.get("/v2/threads", Some(&comments_only))).is_empty(), "no target is visible");
    assert_error(&c.get(&thread, Some(&comments_only)), 403, "missing_scopes");
    let filtered =
        c.get(&format!("/v2/threads?record_id={}&object=companies", record("initech")), Some(&comments_only));
    assert_error(&filtered, 403, "missing_scopes");

    let on_entries = token_with(&mock, &["comment:read", "list_configuration:read", "list_entry:read"]);
    let visible = items(&c.get("/v2/threads", Some(&on_entries)));
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0]["id"]["thread_id"], id(INITECH_ENTRY_THREAD).to_string());
    assert_eq!(c.get(&entry_thread, Some(&on_entries)).status, 200);
    assert_error(&c.get(&thread, Some(&on_entries)), 403, "missing_scopes");

    let reader = token_with(&mock, &["comment:read", "record_permission:read", "object_configuration:read"]);
    assert_eq!(c.get(&thread, Some(&reader)).status, 200);
    let body = json!({"data": {"format": "plaintext", "content": "x", "author": {"type": "workspace-member", "id": ACME_ADMIN_MEMBER_ID}, "thread_id": id(INITECH_THREAD).to_string()}});
    assert_error(&c.send_json("POST", "/v2/comments", Some(&reader), &body), 403, "missing_scopes");
    let comment = format!("/v2/comments/{}", id("acme/comment/initech-sso-answer"));
    assert_error(&c.delete(&comment, &reader), 403, "missing_scopes");
    let writer_without_records = token_with(&mock, &["comment:read-write"]);
    assert_error(&c.send_json("POST", "/v2/comments", Some(&writer_without_records), &body), 403, "missing_scopes");
    assert_eq!(c.delete(&comment, &writer_without_records).json(), json!({}), "delete needs only comment:read-write");
}

#[test]
fn comments_create_get_delete_round_trip() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let bob = id("acme/member/bob").to_string();
    let author = |member: &str| json!({"type": "workspace-member", "id": member});
    let post = |data: Value| c.send_json("POST", "/v2/comments", t, &json!({ "data": data }));

    // A reply on the seeded thread.
    let reply = post(
        json!({"format": "plaintext", "content": "Quote sent.", "author": author(&bob), "thread_id": id(INITECH_THREAD).to_string()}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = reply.json()["data"].clone();
    assert_eq!(reply["thread_id"], id(INITECH_THREAD).to_string());
    assert_eq!(reply["author"], author(&bob));
    assert_eq!(reply["record"]["record_id"], record("initech"));
    assert!(reply["entry"].is_null());
    let reply_id = reply["id"]["comment_id"].as_str().unwrap().to_string();
    assert_eq!(c.get(&format!("/v2/comments/{reply_id}"), t).json()["data"], reply);
    let thread = c.get(&format!("/v2/threads/{}", id(INITECH_THREAD)), t).json();
    assert_eq!(thread["data"]["comments"].as_array().unwrap().len(), 3);
    assert_eq!(thread["data"]["comments"][2], reply);

    // Deleting a reply leaves the thread.
    assert_eq!(c.delete(&format!("/v2/comments/{reply_id}"), &token).json(), json!({}));
    assert_error(&c.get(&format!("/v2/comments/{reply_id}"), t), 404, "not_found");
    assert_error(&c.delete(&format!("/v2/comments/{reply_id}"), &token), 404, "not_found");
    let thread = c.get(&format!("/v2/threads/{}", id(INITECH_THREAD)), t).json();
    assert_eq!(thread["data"]["comments"].as_array().unwrap().len(), 2);

    // A new thread on a record, backdated; then a reply; deleting the head takes the thread.
    let hooli = record("hooli");
    let first = post(
        json!({"format": "plaintext", "content": "Gavin wants a roadmap.", "author": author(ACME_ADMIN_MEMBER_ID),
        "created_at": "2024-02-01T10:00:00Z", "record": {"object": "companies", "record_id": hooli}}),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json()["data"].clone();
    assert_eq!(first["created_at"], "2024-02-01T10:00:00.000000000Z");
    let new_thread = first["thread_id"].as_str().unwrap().to_string();
    assert_ne!(new_thread, id(INITECH_THREAD).to_string());
    let threads = items(&c.get(&format!("/v2/threads?record_id={hooli}&object=companies"), t));
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["created_at"], "2024-02-01T10:00:00.000000000Z");
    let second = post(
        json!({"format": "plaintext", "content": "Drafting it.", "author": author(&bob), "thread_id": new_thread}),
    );
    let second_id = second.json()["data"]["id"]["comment_id"].as_str().unwrap().to_string();
    let head = first["id"]["comment_id"].as_str().unwrap();
    assert_eq!(c.delete(&format!("/v2/comments/{head}"), &token).json(), json!({}));
    assert_error(&c.get(&format!("/v2/threads/{new_thread}"), t), 404, "not_found");
    // The thread's replies go with it.
    assert_error(&c.get(&format!("/v2/comments/{second_id}"), t), 404, "not_found");

    // A new thread on a list entry (list by id, object by slug).
    let entry = id(&format!("acme/entry/key_accounts/{}", record("umbrella"))).to_string();
    let on_entry = post(json!({"format": "plaintext", "content": "Pilot scoping next week.", "author": author(&bob),
        "entry": {"list": id("acme/list/key_accounts").to_string(), "entry_id": entry}}));
    assert_eq!(on_entry.status, 200, "{}", on_entry.body);
    let on_entry = on_entry.json()["data"].clone();
    assert_eq!(on_entry["entry"]["entry_id"], entry);
    assert_eq!(on_entry["record"]["record_id"], record("umbrella"));
    assert_eq!(items(&c.get(&format!("/v2/threads?entry_id={entry}&list=key_accounts"), t)).len(), 1);
    assert_eq!(items(&c.get("/v2/threads", t)).len(), 3);

    // Deleting the seeded head comment deletes the seeded thread; a reset brings it back.
    let head = format!("/v2/comments/{}", id("acme/comment/initech-sso-question"));
    assert_eq!(c.delete(&head, &token).json(), json!({}));
    assert_error(&c.get(&format!("/v2/threads/{}", id(INITECH_THREAD)), t), 404, "not_found");
    assert_eq!(c.send_json("POST", "/__mock/reset", None, &json!({})).status, 204);
    let fresh = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    assert_eq!(c.get(&format!("/v2/threads/{}", id(INITECH_THREAD)), Some(&fresh)).status, 200);
    assert_eq!(items(&c.get("/v2/threads", Some(&fresh))).len(), 2);
}

#[test]
fn comment_bodies_are_validated() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let initech = record("initech");
    let ok = json!({"format": "plaintext", "content": "Hi", "author": {"type": "workspace-member", "id": ACME_ADMIN_MEMBER_ID},
        "record": {"object": "companies", "record_id": initech}});
    let with = |patch: Value| {
        let mut d = ok.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                d.as_object_mut().unwrap().remove(k);
            } else {
                d[k] = v.clone();
            }
        }
        c.send_json("POST", "/v2/comments", t, &json!({ "data": d }))
    };
    let hank = mock.with(|w| w.workspaces[1].members[0].id.to_string());
    for (patch, code) in [
        (json!({"format": "markdown"}), "validation_type"),
        (json!({"format": null}), "validation_type"),
        (json!({"content": 5}), "validation_type"),
        (json!({"author": {"type": "api-token", "id": ACME_ADMIN_MEMBER_ID}}), "validation_type"),
        (json!({"author": {"type": "workspace-member", "id": "ada"}}), "validation_type"),
        (json!({"author": {"type": "workspace-member", "id": hank}}), "value_not_found"),
        (json!({"record": null}), "validation_type"),
        (json!({"thread_id": id(INITECH_THREAD).to_string()}), "validation_type"),
        (json!({"title": "extra"}), "validation_type"),
        (json!({"created_at": "2999-01-01T00:00:00Z"}), "validation_type"),
        (json!({"created_at": "1969-12-31T23:59:59Z"}), "validation_type"),
        (json!({"created_at": "soon"}), "validation_type"),
        (json!({"record": {"object": "companies", "record_id": uuid::Uuid::new_v4().to_string()}}), "value_not_found"),
        (json!({"record": {"object": "nope", "record_id": initech}}), "value_not_found"),
        (json!({"record": {"object": "companies"}}), "validation_type"),
        (json!({"record": null, "thread_id": uuid::Uuid::new_v4().to_string()}), "value_not_found"),
        (
            json!({"record": null, "entry": {"list": "key_accounts", "entry_id": uuid::Uuid::new_v4().to_string()}}),
            "value_not_found",
        ),
        (json!({"record": null, "entry": {"list": "nope", "entry_id": "x"}}), "value_not_found"),
    ] {
        let r = with(patch.clone());
        assert_eq!(r.status, 400, "{patch}: {}", r.body);
        assert_eq!(r.json()["code"], code, "{patch}: {}", r.body);
    }
    assert_error(&c.send_json("POST", "/v2/comments", t, &json!({"format": "plaintext"})), 400, "validation_type");
    assert_eq!(with(json!({})).status, 200);
    assert_eq!(items(&c.get(&format!("/v2/threads?record_id={initech}&object=companies"), t)).len(), 2);
}

#[test]
fn select_options_and_statuses() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let options = items(&c.get("/v2/objects/companies/attributes/categories/options", t));
    let names: Vec<&str> = options.iter().map(|o| o["title"].as_str().unwrap()).collect();
    assert_eq!(names, ["B2B", "B2C", "SaaS", "Manufacturing"]);
    let b2b = &options[0];
    assert_eq!(b2b["is_archived"], false);
    assert_eq!(b2b["id"]["workspace_id"], mock_attio::seed::ACME_WORKSPACE_ID);
    assert_eq!(b2b["id"]["object_id"], id("acme/object/companies").to_string());
    assert_eq!(b2b["id"]["attribute_id"], id("acme/companies/attr/categories").to_string());
    assert_eq!(b2b.as_object().unwrap().len(), 3);
    // Record values name the same option id.
    let initech = c.get(&format!("/v2/objects/companies/records/{}", record("initech")), t).json();
    assert_eq!(initech["data"]["values"]["categories"][0]["option"]["id"]["option_id"], b2b["id"]["option_id"]);
    // The same by object id and attribute id, and with show_archived.
    let by_ids = format!(
        "/v2/objects/{}/attributes/{}/options?show_archived=true",
        id("acme/object/companies"),
        id("acme/companies/attr/categories")
    );
    assert_eq!(items(&c.get(&by_ids, t)), options);

    let statuses = items(&c.get("/v2/objects/deals/attributes/stage/statuses?show_archived=false", t));
    assert_eq!(statuses.len(), 4);
    let won = statuses.iter().find(|s| s["title"] == "Won 🎉").unwrap();
    assert_eq!(won["celebration_enabled"], true);
    assert!(won["target_time_in_status"].is_null());
    assert!(won["id"]["status_id"].is_string());
    assert!(won["id"].get("option_id").is_none());
    assert!(statuses.iter().filter(|s| s["title"] != "Won 🎉").all(|s| s["celebration_enabled"] == false));
    let deal = c.get(&format!("/v2/objects/deals/records/{}", record("initech-renewal")), t).json();
    let in_progress = statuses.iter().find(|s| s["title"] == "In Progress").unwrap();
    assert_eq!(deal["data"]["values"]["stage"][0]["status"]["id"]["status_id"], in_progress["id"]["status_id"]);

    let list_options = items(&c.get("/v2/lists/key_accounts/attributes/priority/options", t));
    assert_eq!(list_options.len(), 3);
    assert_eq!(list_options[0]["id"]["object_id"], id("acme/list/key_accounts").to_string());
    let list_statuses =
        items(&c.get(&format!("/v2/lists/{}/attributes/stage/statuses", id("acme/list/key_accounts")), t));
    let titles: Vec<&str> = list_statuses.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Prospecting", "Negotiation", "Closed"]);

    for path in [
        "/v2/objects/deals/attributes/stage/options",
        "/v2/objects/companies/attributes/categories/statuses",
        "/v2/objects/companies/attributes/name/options",
        "/v2/lists/key_accounts/attributes/priority/statuses",
        "/v2/objects/companies/attributes/categories/options?show_archived=maybe",
    ] {
        assert_error(&c.get(path, t), 400, "validation_type");
    }
    let wrong = c.get("/v2/objects/deals/attributes/stage/options", t).json();
    assert!(wrong["message"].as_str().unwrap().contains("statuses"), "{wrong}");
    let missing = c.get("/v2/objects/companies/attributes/nope/options", t);
    assert_error(&missing, 404, "not_found");
    assert_eq!(missing.json()["message"], "Attribute with slug/ID \"nope\" not found.");
    assert_error(&c.get("/v2/objects/nope/attributes/stage/statuses", t), 404, "not_found");
    assert_error(&c.get("/v2/lists/nope/attributes/stage/statuses", t), 404, "not_found");

    let no_config = token_with(&mock, &["record_permission:read"]);
    assert_error(&c.get("/v2/objects/deals/attributes/stage/statuses", Some(&no_config)), 403, "missing_scopes");
}

#[test]
fn a_records_entries_across_lists() {
    let (mock, c, token) = start();
    let t = Some(token.as_str());
    let initech = record("initech");
    let path = format!("/v2/objects/companies/records/{initech}/entries");
    let entries = items(&c.get(&path, t));
    assert_eq!(
        entries,
        [json!({
            "list_id": id("acme/list/key_accounts").to_string(),
            "list_api_slug": "key_accounts",
            "entry_id": id(&format!("acme/entry/key_accounts/{initech}")).to_string(),
            "created_at": "2024-01-15T09:00:00.000000000Z",
        })]
    );
    assert_eq!(items(&c.get(&format!("{path}?limit=1000&offset=0"), t)).len(), 1);
    assert!(items(&c.get(&format!("{path}?offset=1"), t)).is_empty());
    assert!(items(&c.get(&format!("/v2/objects/companies/records/{}/entries", record("hooli")), t)).is_empty());
    for q in ["limit=0", "limit=1001", "offset=x"] {
        assert_error(&c.get(&format!("{path}?{q}"), t), 400, "validation_type");
    }
    let unknown = uuid::Uuid::new_v4();
    assert_error(&c.get(&format!("/v2/objects/companies/records/{unknown}/entries"), t), 404, "not_found");
    assert_error(&c.get(&format!("/v2/objects/people/records/{initech}/entries"), t), 404, "not_found");
    let no_entries = token_with(&mock, &["record_permission:read", "object_configuration:read"]);
    assert_error(&c.get(&path, Some(&no_entries)), 403, "missing_scopes");
}

#[test]
fn task_assignees_by_email() {
    let (_m, c, token) = start();
    let t = Some(token.as_str());
    let bob = id("acme/member/bob").to_string();
    let task = |assignees: Value| {
        c.send_json(
            "POST",
            "/v2/tasks",
            t,
            &json!({"data": {"content": "Call Peter", "format": "plaintext", "deadline_at": null, "is_completed": false,
                "linked_records": [], "assignees": assignees}}),
        )
    };
    let created = task(json!([{"workspace_member_email_address": "BOB@acme.example"},
        {"referenced_actor_type": "workspace-member", "referenced_actor_id": ACME_ADMIN_MEMBER_ID}]));
    assert_eq!(created.status, 200, "{}", created.body);
    let created = created.json();
    assert_eq!(
        created["data"]["assignees"],
        json!([{"referenced_actor_type": "workspace-member", "referenced_actor_id": bob},
            {"referenced_actor_type": "workspace-member", "referenced_actor_id": ACME_ADMIN_MEMBER_ID}])
    );

    let unknown = task(json!([{"workspace_member_email_address": "nobody@acme.example"}]));
    assert_error(&unknown, 400, "validation_type");
    assert!(unknown.json()["message"].as_str().unwrap().contains("nobody@acme.example"));
    let mixed = task(json!([{"workspace_member_email_address": "bob@acme.example", "referenced_actor_id": bob}]));
    assert_error(&mixed, 400, "validation_type");
    assert_error(&task(json!([{"referenced_actor_id": bob}])), 400, "validation_type");
    assert_error(&task(json!(["bob@acme.example"])), 400, "validation_type");
    let stranger = uuid::Uuid::new_v4().to_string();
    assert_error(
        &task(json!([{"referenced_actor_type": "workspace-member", "referenced_actor_id": stranger}])),
        404,
        "not_found",
    );

    let tid = created["data"]["id"]["task_id"].as_str().unwrap();
    let patched = c.send_json(
        "PATCH",
        &format!("/v2/tasks/{tid}"),
        t,
        &json!({"data": {"assignees": [{"workspace_member_email_address": "ada@acme.example"}]}}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.json()["data"]["assignees"][0]["referenced_actor_id"], ACME_ADMIN_MEMBER_ID);
    let bad_patch = c.send_json(
        "PATCH",
        &format!("/v2/tasks/{tid}"),
        t,
        &json!({"data": {"assignees": [{"workspace_member_email_address": "ghost@acme.example"}]}}),
    );
    assert_error(&bad_patch, 400, "validation_type");
    assert!(bad_patch.json()["message"].as_str().unwrap().contains("ghost@acme.example"));
}
