//! Demo data: two workspaces ("Acme" with companies, people, deals, a custom object, a list,
//! notes, tasks and two members; "Globex", small, for isolation tests) and one OAuth app.
//!
//! Ids are fixed (name-based UUIDs; the Acme workspace and first member use the spec's example
//! UUIDs) so tests and docs can refer to them.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::Clock;
use crate::model::{
    App, Attribute, Entry, Faults, List, Member, Note, Object, Record, Settings, Task, Workspace, World,
};
use crate::values::{actor, typed_values};

pub const ACME_WORKSPACE_ID: &str = "14beef7a-99f7-4534-a87e-70b564330a4c";
pub const ACME_ADMIN_MEMBER_ID: &str = "50cf242c-7fa3-4cad-87d0-75b1af71c57b";
pub const DEFAULT_CLIENT_ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
pub const DEFAULT_CLIENT_SECRET: &str = "mock-attio-client-secret";

/// The scopes the default app is configured with: everything the gateway's tools use.
pub const DEFAULT_SCOPES: &[&str] = &[
    "user_management:read",
    "record_permission:read-write",
    "object_configuration:read",
    "list_entry:read-write",
    "list_configuration:read",
    "note:read-write",
    "task:read-write",
];

/// A stable id derived from a name, so seeded data has the same ids on every run.
pub fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("mock-attio:{name}").as_bytes())
}

/// Seeded records were created at 2024-01-15T09:00:00Z.
const SEEDED_AT: i64 = 1_705_309_200;

pub fn world(redirect_uris: Vec<String>, settings: Settings) -> World {
    World {
        base_url: String::new(),
        clock: Clock::default(),
        settings,
        faults: Faults::default(),
        apps: vec![App {
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            redirect_uris,
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        }],
        workspaces: vec![acme(), globex()],
        access_tokens: Default::default(),
        refresh_tokens: Default::default(),
        codes: Default::default(),
        log: Vec::new(),
    }
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

    fn entry(&mut self, list: &str, parent: Uuid, values: Value) {
        let l = self.ws.list(list).unwrap_or_else(|| panic!("seed: no list {list}"));
        let e = Entry {
            id: id(&format!("{}/entry/{list}/{parent}", self.ws.slug)),
            list_id: l.id,
            parent_record_id: parent,
            parent_object: l.parent_object.clone(),
            created_at: SEEDED_AT,
            values: typed(&l.attributes, &values, &self.by),
        };
        self.ws.entries.push(e);
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

fn acme() -> Workspace {
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
    b.record(
        "people",
        "alice",
        json!({
            "name": {"first_name": "Alice", "last_name": "Wesker"}, "email_addresses": ["alice@umbrella.example"],
            "job_title": "Head of Procurement", "phone_numbers": ["+1 555 0100"],
            "company": {"target_object": "companies", "target_record_id": umbrella.to_string()},
        }),
    );
    b.record(
        "people",
        "gavin",
        json!({
            "name": {"first_name": "Gavin", "last_name": "Belson"}, "email_addresses": ["gavin@hooli.example"],
            "job_title": "CEO", "company": {"target_object": "companies", "target_record_id": hooli.to_string()},
        }),
    );
    b.record(
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
    b.entry("key_accounts", initech, json!({"priority": "High", "stage": "Negotiation"}));
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
    b.ws
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
    };
    let mut b = Builder { ws, by: actor(hank) };
    b.record("companies", "globex", json!({"name": "Globex Corporation", "domains": ["globex.example"]}));
    b.ws
}
