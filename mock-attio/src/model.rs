//! The mock's data model: OAuth apps, issued credentials, workspaces and their CRM data
//! (records, lists and entries, notes, tasks, meetings with call recordings and transcripts,
//! comment threads).
//!
//! Everything lives in one [`World`] behind a mutex (see `state.rs`). Shapes follow Attio's
//! OpenAPI spec (`shared/reference/attio-openapi.yaml`): composite ids, typed value arrays,
//! nanosecond timestamps.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::Clock;

/// How `/oauth/token` issues tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStyle {
    /// Attio's documented REST-app behaviour: `{"access_token","token_type"}`, never expires.
    LongLived,
    /// The style some seed documents describe: `expires_in` plus a rotating `refresh_token`.
    Expiring,
}

/// An OAuth app registered at "build.attio.com".
#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    /// The scopes configured on the app; every token it obtains carries exactly these.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub access_level: &'static str,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub id: Uuid,
    pub title: String,
    pub api_slug: String,
    /// Attio's `attribute_type`, e.g. `text`, `email-address`, `record-reference`.
    pub kind: String,
    pub is_multiselect: bool,
    pub is_unique: bool,
    pub is_required: bool,
    pub is_system: bool,
    /// Titles of the options (`select`) or statuses (`status`).
    pub options: Vec<String>,
    /// For `record-reference`: the slugs of objects it may point at.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub id: Uuid,
    pub api_slug: String,
    pub singular_noun: String,
    pub plural_noun: String,
    pub created_at: i64,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub id: Uuid,
    pub object_id: Uuid,
    pub created_at: i64,
    /// attribute slug → array of typed value objects (as Attio returns them).
    pub values: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Clone)]
pub struct List {
    pub id: Uuid,
    pub api_slug: String,
    pub name: String,
    pub parent_object: String,
    pub created_at: i64,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    pub list_id: Uuid,
    pub parent_record_id: Uuid,
    pub parent_object: String,
    pub created_at: i64,
    pub values: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: Uuid,
    pub parent_object: String,
    pub parent_record_id: Uuid,
    pub title: String,
    pub content: String,
    pub created_by: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub id: Uuid,
    pub content: String,
    pub deadline_at: Option<String>,
    pub is_completed: bool,
    /// `{target_object_id, target_record_id}` pairs.
    pub linked_records: Vec<(Uuid, Uuid)>,
    pub assignees: Vec<Uuid>,
    pub created_by: Value,
    pub created_at: i64,
}

/// A participant of a meeting (`meeting.participants[]`).
#[derive(Debug, Clone)]
pub struct Participant {
    /// Normalised (lower-case) email address.
    pub email: String,
    /// `accepted`, `tentative`, `declined` or `pending`.
    pub status: &'static str,
    pub is_organizer: bool,
}

/// A calendar meeting. Times are seconds since the epoch; an all-day meeting spans whole UTC
/// days, `start` at midnight and `end` (exclusive, as in RFC 5545) at the midnight after.
#[derive(Debug, Clone)]
pub struct Meeting {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub is_all_day: bool,
    pub start: i64,
    pub end: i64,
    /// The IANA zone shown with the datetimes (`start.timezone`), if any.
    pub timezone: Option<String>,
    pub participants: Vec<Participant>,
    /// `(object_id, record_id)` pairs.
    pub linked_records: Vec<(Uuid, Uuid)>,
    pub created_by: Value,
    pub created_at: i64,
}

/// One speech segment of a transcript; times in seconds from the start of the recording.
#[derive(Debug, Clone)]
pub struct Segment {
    pub speech: String,
    pub start_time: f64,
    pub end_time: f64,
    pub speaker: String,
}

#[derive(Debug, Clone)]
pub struct CallRecording {
    pub id: Uuid,
    pub meeting_id: Uuid,
    /// `processing`, `completed` or `failed`.
    pub status: &'static str,
    pub created_by: Value,
    pub created_at: i64,
    pub transcript: Vec<Segment>,
}

/// What a comment thread hangs off: a record, or a list entry (whose parent record is kept too,
/// as a comment's `record` is never null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadTarget {
    pub object_id: Uuid,
    pub record_id: Uuid,
    /// `(list_id, entry_id)` for a thread on an entry.
    pub entry: Option<(Uuid, Uuid)>,
}

#[derive(Debug, Clone)]
pub struct Thread {
    pub id: Uuid,
    pub target: ThreadTarget,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub content: String,
    /// The workspace member who wrote it.
    pub author: Uuid,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub members: Vec<Member>,
    pub objects: Vec<Object>,
    pub records: Vec<Record>,
    pub lists: Vec<List>,
    pub entries: Vec<Entry>,
    pub notes: Vec<Note>,
    pub tasks: Vec<Task>,
    pub meetings: Vec<Meeting>,
    pub call_recordings: Vec<CallRecording>,
    pub threads: Vec<Thread>,
    /// Comments of every thread; a thread's comments in `created_at` order are its messages.
    pub comments: Vec<Comment>,
}

impl Workspace {
    pub fn object(&self, slug_or_id: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.api_slug == slug_or_id || o.id.to_string() == slug_or_id)
    }

    pub fn object_by_id(&self, id: Uuid) -> Option<&Object> {
        self.objects.iter().find(|o| o.id == id)
    }

    pub fn list(&self, slug_or_id: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.api_slug == slug_or_id || l.id.to_string() == slug_or_id)
    }

    pub fn member(&self, id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// A thread's comments sorted by `created_at` (ties in the order they were written).
    pub fn thread_comments(&self, thread: Uuid) -> Vec<&Comment> {
        let mut comments: Vec<&Comment> = self.comments.iter().filter(|c| c.thread_id == thread).collect();
        comments.sort_by_key(|c| c.created_at);
        comments
    }

    /// The comment that started a thread (the first one written to it, whatever its
    /// `created_at` says: a reply may be backdated).
    pub fn thread_head(&self, thread: Uuid) -> Option<&Comment> {
        self.comments.iter().find(|c| c.thread_id == thread)
    }

    /// Drops the threads (and their comments) whose target matches.
    pub fn drop_threads(&mut self, doomed: impl Fn(&ThreadTarget) -> bool) {
        let ids: Vec<Uuid> = self.threads.iter().filter(|t| doomed(&t.target)).map(|t| t.id).collect();
        self.threads.retain(|t| !ids.contains(&t.id));
        self.comments.retain(|c| !ids.contains(&c.thread_id));
    }
}

/// A token `/oauth/token` handed out.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub workspace_id: Uuid,
    pub member_id: Uuid,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub workspace_id: Uuid,
    pub member_id: Uuid,
    pub client_id: String,
    pub used: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct PendingCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub workspace_id: Uuid,
    pub member_id: Uuid,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    pub used: bool,
}

/// What a test can switch at run time (also settable from the command line).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub token_style: TokenStyle,
    /// Lifetime of access tokens in the `expiring` style.
    pub access_token_ttl_secs: i64,
    /// Require PKCE S256 at `/authorize` and verify it at `/oauth/token`.
    pub require_pkce: bool,
    /// Approve every `/authorize` request at once as this member (no page).
    pub auto_approve_member: Option<Uuid>,
    /// Lifetime of authorization codes.
    pub code_ttl_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_style: TokenStyle::LongLived,
            access_token_ttl_secs: 3600,
            require_pkce: false,
            auto_approve_member: None,
            code_ttl_secs: 600,
        }
    }
}

/// Injected failures, consumed request by request.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The next `count` requests (outside `/__mock`) answer with `status`.
    pub fail_next: Option<FailNext>,
    /// Every request (outside `/__mock`) waits this long before being handled.
    pub delay_ms: u64,
    /// Every response body (outside `/__mock`) is sent one byte each this many ms.
    pub drip_ms_per_byte: u64,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct FailNext {
    pub status: u16,
    pub count: u32,
    /// `http-date` (Attio's documented form) or `seconds`.
    #[serde(default)]
    pub retry_after: RetryAfterStyle,
    /// Only requests whose path starts with this are affected (default: all).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Answer this body (as `text/html`) instead of Attio's error envelope, e.g. a proxy's
    /// error page, or a 200 that is not JSON.
    #[serde(default)]
    pub body: Option<String>,
    /// A `Location` header for the failure (e.g. a 302 toward another host).
    #[serde(default)]
    pub location: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryAfterStyle {
    #[default]
    HttpDate,
    Seconds,
}

/// One request as the mock received it, for tests that assert what the gateway sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// The whole mock: apps, credentials, workspaces, knobs.
#[derive(Debug)]
pub struct World {
    /// The origin the mock is reachable at (for `web_url`s and the index page).
    pub base_url: String,
    pub clock: Clock,
    pub settings: Settings,
    pub faults: Faults,
    pub apps: Vec<App>,
    pub workspaces: Vec<Workspace>,
    pub access_tokens: HashMap<String, AccessGrant>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub codes: HashMap<String, PendingCode>,
    pub log: Vec<LoggedRequest>,
}

/// Most requests kept in the log; older ones are dropped.
pub const LOG_CAPACITY: usize = 1000;

impl World {
    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub fn workspace(&self, id: Uuid) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    pub fn workspace_mut(&mut self, id: Uuid) -> Option<&mut Workspace> {
        self.workspaces.iter_mut().find(|w| w.id == id)
    }

    /// Which workspace a member belongs to.
    pub fn workspace_of_member(&self, member: Uuid) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.member(member).is_some())
    }

    /// The live grant behind an access token, if it is neither revoked nor expired.
    pub fn live_grant(&self, token: &str) -> Option<&AccessGrant> {
        let now = self.clock.now();
        self.access_tokens.get(token).filter(|g| !g.revoked && g.expires_at.is_none_or(|exp| exp > now))
    }

    pub fn record_request(&mut self, entry: LoggedRequest) {
        if self.log.len() >= LOG_CAPACITY {
            self.log.remove(0);
        }
        self.log.push(entry);
    }
}

/// A fresh opaque credential: 32 random bytes, hex. The prefix only helps a human reading logs.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    // The mock runs on a host with an OS RNG; failure here means a broken machine.
    getrandom::getrandom(&mut bytes).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// The JSON Attio returns for a workspace member.
pub fn member_json(workspace: Uuid, m: &Member, clock: &Clock) -> Value {
    json!({
        "id": {"workspace_id": workspace, "workspace_member_id": m.id},
        "first_name": m.first_name,
        "last_name": m.last_name,
        "avatar_url": null,
        "email_address": m.email,
        "created_at": clock.format(m.created_at),
        "access_level": m.access_level,
    })
}
