//! The seed's building blocks: the seeding time, attribute and object templates, the standard
//! objects every workspace has, members, and [`Builder`], which adds typed records and entries
//! to a workspace. Uses no other file of `seed/`.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::ids::id;
use crate::model::{Attribute, Entry, Member, Object, Record, Workspace};
use crate::values::typed_values;

/// Seeded records were created at 2024-01-15T09:00:00Z.
pub const SEEDED_AT: i64 = 1_705_309_200;

pub(super) const HOUR: i64 = 3600;
pub(super) const DAY: i64 = 86_400;

pub(super) fn attr(scope: &str, slug: &str, title: &str, kind: &str) -> Attribute {
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

pub(super) fn options(mut a: Attribute, opts: &[&str]) -> Attribute {
    a.options = opts.iter().map(|s| s.to_string()).collect();
    a
}

pub(super) fn targets(mut a: Attribute, objects: &[&str]) -> Attribute {
    a.targets = objects.iter().map(|s| s.to_string()).collect();
    a
}

pub(super) fn standard_objects(ws: &str) -> Vec<Object> {
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

pub(super) struct Builder {
    pub(super) ws: Workspace,
    pub(super) by: Value,
}

impl Builder {
    pub(super) fn record(&mut self, object: &str, key: &str, values: Value) -> Uuid {
        let obj = self.ws.object(object).unwrap_or_else(|| panic!("seed: no object {object}"));
        let rid = id(&format!("{}/record/{key}", self.ws.slug));
        let vals = typed(&obj.attributes, &values, &self.by);
        let object_id = obj.id;
        self.ws.records.push(Record { id: rid, object_id, created_at: SEEDED_AT, values: vals });
        rid
    }

    pub(super) fn entry(&mut self, list: &str, parent: Uuid, values: Value) -> Uuid {
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

pub(super) fn member(id_: Uuid, first: &str, last: &str, email: &str, level: &'static str) -> Member {
    Member {
        id: id_,
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        access_level: level,
        created_at: SEEDED_AT,
    }
}
