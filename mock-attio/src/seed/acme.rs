//! The "Acme" workspace: companies, people, deals, a custom object, the `key_accounts` list,
//! notes, tasks, comment threads and two members; its meetings come from [`super::meetings`].
//! Uses [`super::build`] and [`super::meetings`].

use serde_json::json;
use uuid::Uuid;

use super::build::{attr, member, options, standard_objects, targets, Builder, DAY, HOUR, SEEDED_AT};
use super::meetings::{self, Cast, KICKOFF_START};
use crate::clock::Clock;
use crate::ids::id;
use crate::model::{Comment, List, Note, Object, Task, Thread, ThreadTarget, Workspace};
use crate::values::actor;

pub const ACME_WORKSPACE_ID: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
pub const ACME_ADMIN_MEMBER_ID: &str = "50cf242c-7fa3-4cad-87d0-75b1af71c57b";

/// `id(INITECH_THREAD)`: the comment thread on the Initech company record.
pub const INITECH_THREAD: &str = "acme/thread/initech-sso";
/// `id(INITECH_ENTRY_THREAD)`: the comment thread on Initech's `key_accounts` entry.
pub const INITECH_ENTRY_THREAD: &str = "acme/thread/initech-key-account";

pub(super) fn acme(clock: &Clock) -> Workspace {
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

    meetings::add(&mut b, clock, Cast { admin, bob, initech, umbrella, hooli, peter, alice, gavin, renewal });

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
    let moved = KICKOFF_START + 2 * HOUR;
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
