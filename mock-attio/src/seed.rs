//! Demo data: two workspaces ("Acme", full; "Globex", small, for isolation tests) and one OAuth
//! app, with fixed ids. This module holds the app, [`world`] and the public ids; `seed/` builds
//! the workspaces (`acme` uses `meetings` and `build`, `meetings` uses `build`, none uses this).
//!
//! "Acme" has companies, people, deals, a custom object, a list, notes, tasks, meetings with a
//! call recording and its transcript, comment threads and two members.
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

mod acme;
mod build;
mod meetings;

use serde_json::json;

use crate::clock::Clock;
use crate::model::{App, Faults, Settings, Workspace, World};
use crate::values::actor;
use build::{member, standard_objects, Builder};

pub use crate::ids::{id, option_id};
pub use acme::{ACME_ADMIN_MEMBER_ID, ACME_WORKSPACE_ID, INITECH_ENTRY_THREAD, INITECH_THREAD};
pub use build::SEEDED_AT;
pub use meetings::{
    HOOLI_MEETING, KICKOFF_MEETING, KICKOFF_RECORDING, KICKOFF_TRANSCRIPT_TURNS, SSO_FOLLOW_UP_MEETING,
    UMBRELLA_WORKSHOP_MEETING,
};

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
    vec![acme::acme(clock), globex()]
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
