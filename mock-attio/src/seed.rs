//! Demo data: two workspaces ("Acme" with companies, people, deals, a custom object, a list,
//! notes, tasks, meetings with a call recording and its transcript, comment threads and two
//! members; "Globex", small, for isolation tests) and one OAuth app.
//!
//! Ids are fixed (name-based UUIDs; the Acme workspace and first member use the spec's example
//! UUIDs) so tests and docs can refer to them: `id("acme/record/initech")`, and so on. The Acme
//! data beyond records:
//!
//! | Id | What |
//! |---|---|
//! | `id("acme/member/bob")` | Bob Builder, the second member (Ada Admin is [`ACME_ADMIN_MEMBER_ID`]) |
//! | `id("acme/entry/key_accounts/<initech record id>")` | Initech's entry in the `key_accounts` list |
//! | [`KICKOFF_MEETING`] | "Initech renewal kickoff": past (2024-01-17 14:00–15:00 UTC), linked to Initech, Peter Gibbons and the Initech renewal deal |
//! | [`SSO_FOLLOW_UP_MEETING`] | "Initech SSO follow-up": 7 days after the seeding day, 15:00 UTC, linked to Initech and Peter |
//! | [`HOOLI_MEETING`] | "Hooli expansion check-in": past (2024-01-22), linked to Hooli and Gavin Belson |
//! | [`UMBRELLA_WORKSHOP_MEETING`] | "Umbrella pilot workshop": all day, 14 days after the seeding day, linked to Umbrella and Alice |
//! | [`KICKOFF_RECORDING`] | the kickoff's completed call recording: [`KICKOFF_TRANSCRIPT_TURNS`] turns, Ada Admin and Peter Gibbons taking turns, each turn a few short segments as Attio sends them (`"Right,"`, `"single sign-on came up"`, …) |
//! | [`INITECH_THREAD`] | a thread on the Initech company record: Ada's question, Bob's answer |
//! | [`INITECH_ENTRY_THREAD`] | a thread on Initech's `key_accounts` entry: one comment by Bob |
//!
//! Times are fixed relative to [`SEEDED_AT`] (2024-01-15T09:00:00Z), except the two future
//! meetings, which are placed relative to the mock's clock when the data is seeded (so they stay
//! in the future).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::Clock;
use crate::model::{
    App, Attribute, CallRecording, Comment, Entry, Faults, List, Meeting, Member, Note, Object, Participant, Record,
    Segment, Settings, Task, Thread, ThreadTarget, Workspace, World,
};
use crate::values::{actor, typed_values};

pub const ACME_WORKSPACE_ID: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
pub const ACME_ADMIN_MEMBER_ID: &str = "50cf242c-7fa3-4cad-87d0-75b1af71c57b";
pub const DEFAULT_CLIENT_ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
pub const DEFAULT_CLIENT_SECRET: &str = "mock-attio-client-secret";

/// The scopes the default app is configured with: everything the gateway's tools use, and the
/// read scopes of meetings, call recordings and comments (with comment writes).
pub const DEFAULT_SCOPES: &[&str] = &[
    "user_management:read",
    "record_permission:read-write",
    "object_configuration:read",
    "list_entry:read-write",
    "list_configuration:read",
    "note:read-write",
    "task:read-write",
    "meeting:read",
    "call_recording:read",
    "comment:read-write",
];

/// `id(KICKOFF_MEETING)`: the past "Initech renewal kickoff" meeting.
pub const KICKOFF_MEETING: &str = "acme/meeting/initech-renewal-kickoff";
/// `id(SSO_FOLLOW_UP_MEETING)`: the future "Initech SSO follow-up" meeting.
pub const SSO_FOLLOW_UP_MEETING: &str = "acme/meeting/initech-sso-follow-up";
/// `id(HOOLI_MEETING)`: the past "Hooli expansion check-in" meeting.
pub const HOOLI_MEETING: &str = "acme/meeting/hooli-expansion-check-in";
/// `id(UMBRELLA_WORKSHOP_MEETING)`: the future all-day "Umbrella pilot workshop".
pub const UMBRELLA_WORKSHOP_MEETING: &str = "acme/meeting/umbrella-pilot-workshop";
/// `id(KICKOFF_RECORDING)`: the kickoff meeting's call recording.
pub const KICKOFF_RECORDING: &str = "acme/call_recording/initech-renewal-kickoff";
/// How many speaker turns the kickoff recording's transcript has (each several segments: short
/// phrases, as Attio sends them).
pub const KICKOFF_TRANSCRIPT_TURNS: usize = 120;
/// `id(INITECH_THREAD)`: the comment thread on the Initech company record.
pub const INITECH_THREAD: &str = "acme/thread/initech-sso";
/// `id(INITECH_ENTRY_THREAD)`: the comment thread on Initech's `key_accounts` entry.
pub const INITECH_ENTRY_THREAD: &str = "acme/thread/initech-key-account";

/// A stable id derived from a name, so seeded data has the same ids on every run.
pub fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("mock-attio:{name}").as_bytes())
}

/// The id of a select option or status: stable, derived from its attribute and title (record
/// values and the options/statuses endpoints agree on it).
pub fn option_id(attribute: Uuid, title: &str) -> Uuid {
    id(&format!("attribute/{attribute}/option/{title}"))
}

/// Seeded records were created at 2024-01-15T09:00:00Z.
pub const SEEDED_AT: i64 = 1_705_309_200;

pub fn world(redirect_uris: Vec<String>, settings: Settings) -> World {
    let clock = Clock::default();
    World {
        base_url: String::new(),
        workspaces: workspaces(&clock),
        clock,
        settings,
        faults: Faults::default(),
        apps: vec![App {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            redirect_uris,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        }],
        access_tokens: Default::default(),
        refresh_tokens: Default::default(),
        codes: Default::default(),
        log: Vec::new(),
    }
}

/// The seeded workspaces; future meetings are placed relative to `clock`.
pub fn workspaces(clock: &Clock) -> Vec<Workspace> {
    vec![acme(clock), globex()]
}

fn attr(scope: &str, slug: &str, title: &str, kind: &str) -> Attribute {
    Attribute {
        id: id(&format!("{scope}/attr/{slug}")),
        title: title.into(),
        api_slug: slug.into(),
        kind: kind.into(),
        is_multiselect: false,
        is_unique: false,
        is_required: false,
        is_system: false,
        options: Vec::new(),
        targets: Vec::new(),
    }
}

fn multi(mut a: Attribute) -> Attribute {
    a.is_multiselect = true;
    a
}

fn unique(mut a: Attribute) -> Attribute {
    a.is_unique = true;
    a
}

fn options(mut a: Attribute, opts: &[&str]) -> Attribute {
    a.options = opts.iter().map(|s| s.to_string()).collect();
    a
}

fn targets(mut a: Attribute, objects: &[&str]) -> Attribute {
    a.targets = objects.iter().map(|s| s.to_string()).collect();
    a
}

fn standard_objects(ws: &str) -> Vec<Object> {
    let o = |slug: &str, singular: &str, plural: &str, attributes: Vec<Attribute>| Object {
        id: id(&format!("{ws}/object/{slug}")),
        api_slug: slug.into(),
        singular_noun: singular.into(),
        plural_noun: plural.into(),
        created_at: SEEDED_AT,
        attributes,
    };
    let s = |obj: &str| format!("{ws}/{obj}");
    vec![
        o(
            "companies",
            "Company",
            "Companies",
            vec![
                attr(&s("companies"), "name", "Name", "text"),
                unique(multi(attr(&s("companies"), "domains", "Domains", "domain"))),
                attr(&s("companies"), "description", "Description", "text"),
                attr(&s("companies"), "employee_count", "Employee count", "number"),
                options(
                    multi(attr(&s("companies"), "categories", "Categories", "select")),
                    &["B2B", "B2C", "SaaS", "Manufacturing"],
                ),
            ],
        ),
        o(
            "people",
            "Person",
            "People",
            vec![
                attr(&s("people"), "name", "Name", "personal-name"),
                unique(multi(attr(&s("people"), "email_addresses", "Email addresses", "email-address"))),
                attr(&s("people"), "job_title", "Job title", "text"),
                multi(attr(&s("people"), "phone_numbers", "Phone numbers", "phone-number")),
                targets(attr(&s("people"), "company", "Company", "record-reference"), &["companies"]),
            ],
        ),
        o(
            "deals",
            "Deal",
            "Deals",
            vec![
                attr(&s("deals"), "name", "Deal name", "text"),
                options(attr(&s("deals"), "stage", "Deal stage", "status"), &["Lead", "In Progress", "Won 🎉", "Lost"]),
                attr(&s("deals"), "value", "Deal value", "currency"),
                attr(&s("deals"), "owner", "Deal owner", "actor-reference"),
                targets(
                    attr(&s("deals"), "associated_company", "Associated company", "record-reference"),
                    &["companies"],
                ),
            ],
        ),
    ]
}

struct Builder {
    ws: Workspace,
    by: Value,
}

impl Builder {
    fn record(&mut self, object: &str, key: &str, values: Value) -> Uuid {
        let obj = self.ws.object(object).unwrap_or_else(|| panic!("seed: no object {object}"));
        let rid = id(&format!("{}/record/{key}", self.ws.slug));
        let vals = typed(&obj.attributes, &values, &self.by);
        let object_id = obj.id;
        self.ws.records.push(Record { id: rid, object_id, created_at: SEEDED_AT, values: vals });
        rid
    }

    fn entry(&mut self, list: &str, parent: Uuid, values: Value) -> Uuid {
        let l = self.ws.list(list).unwrap_or_else(|| panic!("seed: no list {list}"));
        let e = Entry {
            id: id(&format!("{}/entry/{list}/{parent}", self.ws.slug)),
            list_id: l.id,
            parent_record_id: parent,
            parent_object: l.parent_object.clone(),
            created_at: SEEDED_AT,
            values: typed(&l.attributes, &values, &self.by),
        };
        let eid = e.id;
        self.ws.entries.push(e);
        eid
    }
}

fn typed(attributes: &[Attribute], values: &Value, by: &Value) -> BTreeMap<String, Vec<Value>> {
    let at = crate::clock::format_timestamp(SEEDED_AT);
    values
        .as_object()
        .into_iter()
        .flatten()
        .map(|(slug, v)| {
            let a =
                attributes.iter().find(|a| &a.api_slug == slug).unwrap_or_else(|| panic!("seed: no attribute {slug}"));
            let typed = typed_values(a, v, by, &at).unwrap_or_else(|e| panic!("seed: {slug}: {}", e.message));
            (slug.clone(), typed)
        })
        .collect()
}

fn member(id_: Uuid, first: &str, last: &str, email: &str, level: &'static str) -> Member {
    Member {
        id: id_,
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        access_level: level,
        created_at: SEEDED_AT,
    }
}

fn acme(clock: &Clock) -> Workspace {
    let admin = Uuid::parse_str(ACME_ADMIN_MEMBER_ID).unwrap_or_else(|_| id("acme/member/ada"));
    let bob = id("acme/member/bob");
    let mut objects = standard_objects("acme");
    objects.push(Object {
        id: id("acme/object/projects"),
        api_slug: "projects".into(),
        singular_noun: "Project".into(),
        plural_noun: "Projects".into(),
        created_at: SEEDED_AT,
        attributes: vec![
            attr("acme/projects", "name", "Name", "text"),
            options(attr("acme/projects", "phase", "Phase", "select"), &["Discovery", "Build", "Done"]),
            attr("acme/projects", "budget", "Budget", "currency"),
            targets(attr("acme/projects", "client", "Client", "record-reference"), &["companies"]),
        ],
    });
    let ws = Workspace {
        id: Uuid::parse_str(ACME_WORKSPACE_ID).unwrap_or_else(|_| id("acme")),
        name: "Acme".into(),
        slug: "acme".into(),
        members: vec![
            member(admin, "Ada", "Admin", "ada@acme.example", "admin"),
            member(bob, "Bob", "Builder", "bob@acme.example", "member"),
        ],
        objects,
        records: Vec::new(),
        lists: Vec::new(),
        entries: Vec::new(),
        notes: Vec::new(),
        tasks: Vec::new(),
        meetings: Vec::new(),
        call_recordings: Vec::new(),
        threads: Vec::new(),
        comments: Vec::new(),
    };
    let mut b = Builder { ws, by: actor(admin) };
    b.ws.lists.push(List {
        id: id("acme/list/key_accounts"),
        api_slug: "key_accounts".into(),
        name: "Key accounts".into(),
        parent_object: "companies".into(),
        created_at: SEEDED_AT,
        attributes: vec![
            options(attr("acme/key_accounts", "priority", "Priority", "select"), &["High", "Medium", "Low"]),
            options(attr("acme/key_accounts", "stage", "Stage", "status"), &["Prospecting", "Negotiation", "Closed"]),
        ],
    });

    let initech = b.record(
        "companies",
        "initech",
        json!({
            "name": "Initech", "domains": ["initech.example"], "description": "Enterprise software and TPS reports.",
            "employee_count": 420, "categories": ["B2B", "SaaS"],
        }),
    );
    let umbrella = b.record(
        "companies",
        "umbrella",
        json!({
            "name": "Umbrella Corporation", "domains": ["umbrella.example"], "description": "Pharmaceuticals.",
            "employee_count": 52000, "categories": ["B2B", "Manufacturing"],
        }),
    );
    let hooli = b.record(
        "companies",
        "hooli",
        json!({
            "name": "Hooli", "domains": ["hooli.example"], "description": "Making the world a better place.",
            "employee_count": 9000, "categories": ["B2C"],
        }),
    );
    let peter = b.record("people", "peter", json!({
        "name": {"first_name": "Peter", "last_name": "Gibbons"}, "email_addresses": ["peter@initech.example"],
        "job_title": "Software Engineer", "company": {"target_object": "companies", "target_record_id": initech.to_string()},
    }));
    let alice = b.record(
        "people",
        "alice",
        json!({
            "name": {"first_name": "Alice", "last_name": "Wesker"}, "email_addresses": ["alice@umbrella.example"],
            "job_title": "Head of Procurement", "phone_numbers": ["+1 555 0100"],
            "company": {"target_object": "companies", "target_record_id": umbrella.to_string()},
        }),
    );
    let gavin = b.record(
        "people",
        "gavin",
        json!({
            "name": {"first_name": "Gavin", "last_name": "Belson"}, "email_addresses": ["gavin@hooli.example"],
            "job_title": "CEO", "company": {"target_object": "companies", "target_record_id": hooli.to_string()},
        }),
    );
    let renewal = b.record(
        "deals",
        "initech-renewal",
        json!({
            "name": "Initech renewal", "stage": "In Progress", "value": 48000,
            "owner": admin.to_string(), "associated_company": {"target_record_id": initech.to_string()},
        }),
    );
    b.record(
        "deals",
        "umbrella-pilot",
        json!({
            "name": "Umbrella pilot", "stage": "Lead", "value": 12000,
            "owner": bob.to_string(), "associated_company": {"target_record_id": umbrella.to_string()},
        }),
    );
    b.record(
        "deals",
        "hooli-expansion",
        json!({
            "name": "Hooli expansion", "stage": "Won 🎉", "value": 150000,
            "owner": admin.to_string(), "associated_company": {"target_record_id": hooli.to_string()},
        }),
    );
    b.record(
        "projects",
        "initech-migration",
        json!({
            "name": "Initech data migration", "phase": "Build", "budget": 30000,
            "client": {"target_record_id": initech.to_string()},
        }),
    );
    let initech_entry = b.entry("key_accounts", initech, json!({"priority": "High", "stage": "Negotiation"}));
    b.entry("key_accounts", umbrella, json!({"priority": "Medium", "stage": "Prospecting"}));

    let by = b.by.clone();
    b.ws.notes.push(Note {
        id: id("acme/note/initech-kickoff"),
        parent_object: "companies".into(),
        parent_record_id: initech,
        title: "Renewal kickoff".into(),
        content: "Met with Peter. They want SSO before renewing; follow up with a quote.".into(),
        created_by: by.clone(),
        created_at: SEEDED_AT,
    });
    b.ws.notes.push(Note {
        id: id("acme/note/peter-intro"),
        parent_object: "people".into(),
        parent_record_id: peter,
        title: "Intro call".into(),
        content: "Peter prefers email over phone.".into(),
        created_by: by.clone(),
        created_at: SEEDED_AT + 60,
    });
    let companies_id = id("acme/object/companies");
    b.ws.tasks.push(Task {
        id: id("acme/task/send-quote"),
        content: "Send Initech the SSO quote".into(),
        deadline_at: Some("2024-02-01T17:00:00.000000000Z".into()),
        is_completed: false,
        linked_records: vec![(companies_id, initech)],
        assignees: vec![admin],
        created_by: by.clone(),
        created_at: SEEDED_AT,
    });
    b.ws.tasks.push(Task {
        id: id("acme/task/umbrella-followup"),
        content: "Follow up on the Umbrella pilot".into(),
        deadline_at: None,
        is_completed: false,
        linked_records: vec![(companies_id, umbrella)],
        assignees: vec![bob],
        created_by: by.clone(),
        created_at: SEEDED_AT + 60,
    });
    b.ws.tasks.push(Task {
        id: id("acme/task/hooli-signed"),
        content: "Countersign the Hooli contract".into(),
        deadline_at: None,
        is_completed: true,
        linked_records: vec![(companies_id, hooli)],
        assignees: vec![admin],
        created_by: by,
        created_at: SEEDED_AT + 120,
    });

    let (people_id, deals_id) = (id("acme/object/people"), id("acme/object/deals"));
    let today = clock.now().div_euclid(DAY) * DAY;
    let p = |email: &str, status: &'static str, is_organizer: bool| Participant {
        email: email.into(),
        status,
        is_organizer,
    };
    let meeting = |key: &str, title: &str, description: &str, (start, end): (i64, i64)| Meeting {
        id: id(key),
        title: title.into(),
        description: description.into(),
        is_all_day: false,
        start,
        end,
        timezone: Some("UTC".into()),
        participants: Vec::new(),
        linked_records: Vec::new(),
        created_by: actor(admin),
        created_at: SEEDED_AT,
    };
    let kickoff_start = SEEDED_AT + 2 * DAY + 5 * HOUR;
    let kickoff = Meeting {
        participants: vec![
            p("ada@acme.example", "accepted", true),
            p("peter@initech.example", "accepted", false),
            p("bob@acme.example", "tentative", false),
        ],
        linked_records: vec![(companies_id, initech), (people_id, peter), (deals_id, renewal)],
        ..meeting(
            KICKOFF_MEETING,
            "Initech renewal kickoff",
            "Kick off the Initech renewal: SSO, seats, pricing and timeline.",
            (kickoff_start, kickoff_start + HOUR),
        )
    };
    let follow_up_start = today + 7 * DAY + 15 * HOUR;
    let follow_up = Meeting {
        participants: vec![
            p("ada@acme.example", "accepted", true),
            p("peter@initech.example", "pending", false),
            p("bob@acme.example", "accepted", false),
        ],
        linked_records: vec![(companies_id, initech), (people_id, peter)],
        ..meeting(
            SSO_FOLLOW_UP_MEETING,
            "Initech SSO follow-up",
            "Walk Initech's engineers through the SSO setup and the quote.",
            (follow_up_start, follow_up_start + HOUR / 2),
        )
    };
    let hooli_start = SEEDED_AT + 7 * DAY + 7 * HOUR;
    let hooli_meeting = Meeting {
        participants: vec![p("ada@acme.example", "accepted", true), p("gavin@hooli.example", "accepted", false)],
        linked_records: vec![(companies_id, hooli), (people_id, gavin)],
        ..meeting(
            HOOLI_MEETING,
            "Hooli expansion check-in",
            "How the expansion is landing with Hooli's teams.",
            (hooli_start, hooli_start + 45 * 60),
        )
    };
    let workshop_day = today + 14 * DAY;
    let workshop = Meeting {
        is_all_day: true,
        timezone: None,
        participants: vec![p("bob@acme.example", "accepted", true), p("alice@umbrella.example", "tentative", false)],
        linked_records: vec![(companies_id, umbrella), (people_id, alice)],
        created_by: actor(bob),
        ..meeting(
            UMBRELLA_WORKSHOP_MEETING,
            "Umbrella pilot workshop",
            "On-site day with Umbrella's procurement team to scope the pilot.",
            (workshop_day, workshop_day + DAY),
        )
    };
    b.ws.meetings = vec![kickoff, follow_up, hooli_meeting, workshop];
    b.ws.call_recordings.push(CallRecording {
        id: id(KICKOFF_RECORDING),
        meeting_id: id(KICKOFF_MEETING),
        status: "completed",
        created_by: actor(admin),
        created_at: kickoff_start + HOUR + 10 * 60,
        transcript: kickoff_transcript("Ada Admin", "Peter Gibbons"),
    });

    let thread = |key: &str, target: ThreadTarget, created_at: i64| Thread { id: id(key), target, created_at };
    let comment = |key: &str, thread: &str, author: Uuid, created_at: i64, content: &str| Comment {
        id: id(key),
        thread_id: id(thread),
        content: content.into(),
        author,
        created_at,
        resolved_at: None,
        resolved_by: None,
    };
    let asked = SEEDED_AT + 3 * DAY;
    b.ws.threads.push(thread(
        INITECH_THREAD,
        ThreadTarget { object_id: companies_id, record_id: initech, entry: None },
        asked,
    ));
    b.ws.comments.push(comment(
        "acme/comment/initech-sso-question",
        INITECH_THREAD,
        admin,
        asked,
        "Peter confirmed on the kickoff call that SSO is a must before they renew. bob@acme.example, can you price it?",
    ));
    b.ws.comments.push(comment(
        "acme/comment/initech-sso-answer",
        INITECH_THREAD,
        bob,
        asked + HOUR,
        "On it: the quote goes out on Friday.",
    ));
    let moved = kickoff_start + 2 * HOUR;
    let key_accounts = id("acme/list/key_accounts");
    b.ws.threads.push(thread(
        INITECH_ENTRY_THREAD,
        ThreadTarget { object_id: companies_id, record_id: initech, entry: Some((key_accounts, initech_entry)) },
        moved,
    ));
    b.ws.comments.push(comment(
        "acme/comment/initech-key-account-stage",
        INITECH_ENTRY_THREAD,
        bob,
        moved,
        "Moved to Negotiation after the kickoff call.",
    ));
    b.ws
}

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// The kickoff call: six agenda topics, twenty turns each, `host` and `guest` taking turns.
fn kickoff_transcript(host: &str, guest: &str) -> Vec<Segment> {
    const TOPICS: [&str; 6] =
        ["single sign-on", "the seat count", "pricing", "the data migration", "support hours", "the renewal timeline"];
    const TURNS: [&str; 20] = [
        "Next on the agenda: {topic}.",
        "Right, {topic} came up in our planning meeting last week.",
        "Where do things stand on your side with {topic}?",
        "Honestly, {topic} is one of the reasons we are talking about the renewal at all.",
        "Understood. What would a good outcome on {topic} look like for Initech?",
        "Something we can explain to Bill Lumbergh on one slide.",
        "That is fair. We have helped other customers with {topic} before.",
        "Do you have an example you can share?",
        "Yes, I will send a short write-up after this call.",
        "Great, please copy Milton on that email.",
        "Will do. Any hard deadlines around {topic}?",
        "Our fiscal year closes at the end of March, so ideally before then.",
        "March works for us if we agree on the scope this month.",
        "I think that is realistic.",
        "Who else on your team should weigh in on {topic}?",
        "Michael and Samir from engineering, mostly.",
        "Let's get them on the follow-up call.",
        "I will check their calendars.",
        "Perfect. I will note {topic} as an action item.",
        "Sounds good, let's move on.",
    ];
    // Centiseconds, so the times are exact to two decimals.
    let mut at: i64 = 50;
    let mut segments = Vec::new();
    for topic in TOPICS {
        for (turn, text) in TURNS.iter().enumerate() {
            let speaker = if turn % 2 == 0 { host } else { guest };
            for phrase in phrases(&text.replace("{topic}", topic)) {
                let words = phrase.split_whitespace().count() as i64;
                let end = at + 35 * words + 10;
                segments.push(Segment {
                    speech: phrase,
                    start_time: at as f64 / 100.0,
                    end_time: end as f64 / 100.0,
                    speaker: speaker.to_string(),
                });
                at = end + 5;
            }
            at += 60;
        }
    }
    segments
}

/// A turn cut as Attio's transcription cuts speech: short phrases of at most three words, ending
/// at punctuation (its own example: `"Hello,"`, `"Mr Watson,"`).
fn phrases(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in text.split_whitespace() {
        current.push(word);
        if current.len() == 3 || word.ends_with([',', '.', '?', ':', '!']) {
            out.push(current.join(" "));
            current.clear();
        }
    }
    if !current.is_empty() {
        out.push(current.join(" "));
    }
    out
}

fn globex() -> Workspace {
    let hank = id("globex/member/hank");
    let ws = Workspace {
        id: id("globex"),
        name: "Globex".into(),
        slug: "globex".into(),
        members: vec![member(hank, "Hank", "Scorpio", "hank@globex.example", "admin")],
        objects: standard_objects("globex"),
        records: Vec::new(),
        lists: Vec::new(),
        entries: Vec::new(),
        notes: Vec::new(),
        tasks: Vec::new(),
        meetings: Vec::new(),
        call_recordings: Vec::new(),
        threads: Vec::new(),
        comments: Vec::new(),
    };
    let mut b = Builder { ws, by: actor(hank) };
    b.record("companies", "globex", json!({"name": "Globex Corporation", "domains": ["globex.example"]}));
    b.ws
}
