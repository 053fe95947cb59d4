//! The deployer's control plane, without the pages (`routes/admin.rs`): who is an
//! administrator, whom they may manage, everyone connected with their apps, everyone's audit
//! log filtered and exported (CSV per RFC 4180, JSON Lines), and the administrators' own log.
//!
//! An administrator is, with Cloudflare Access configured, a person whose verified Access email
//! is in `ADMIN_EMAILS` (the deployer's people: they manage everyone); without Access, a person
//! signed in with Attio who is an admin of their Attio workspace (they manage that workspace
//! only). Nobody else reaches `/admin`.

use std::collections::HashMap;

use crate::attio::connection;
use crate::attio::vault::ConnectionStatus;
use crate::auth::session::Session;
use crate::base::http::Request;
use crate::base::user::UserId;
use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;
use crate::platform::Platform;
use crate::store::audit::Entry;
use crate::store::grant_index;
use crate::store::vault as store_vault;

/// Who is administering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admin {
    /// Listed in `ADMIN_EMAILS`, as Cloudflare Access verified them: manages everyone.
    Deployer { email: String },
    /// An Attio workspace admin, signed in with Attio: manages their workspace.
    WorkspaceAdmin { user: UserId },
}

impl Admin {
    /// How the administrators' log names them.
    pub fn name(&self) -> String {
        match self {
            Admin::Deployer { email } => email.clone(),
            Admin::WorkspaceAdmin { user } => format!("workspace-admin:{}:{}", user.workspace_id, user.member_id),
        }
    }

    pub fn may_manage(&self, user: &UserId) -> bool {
        match self {
            Admin::Deployer { .. } => true,
            Admin::WorkspaceAdmin { user: me } => me.workspace_id == user.workspace_id,
        }
    }

    /// Whether they may set the deployer-wide policy: the deployer's administrators, or a
    /// workspace admin of the one workspace a deployment serves (`ATTIO_ALLOWED_WORKSPACES`).
    pub fn may_set_policy(&self, config: &crate::config::Config) -> bool {
        match self {
            Admin::Deployer { .. } => true,
            Admin::WorkspaceAdmin { user } => {
                config.allowed_workspaces.as_ref().is_some_and(|w| w.len() == 1 && w[0] == user.workspace_id)
            }
        }
    }

    /// The CSRF token of this administrator's forms.
    pub fn csrf(&self, keys: &SigningKeys) -> String {
        keys.sign(&format!("admin-csrf|{}", self.name()))
    }

    pub fn check_csrf(&self, keys: &SigningKeys, token: &str) -> bool {
        keys.verify(&format!("admin-csrf|{}", self.name()), token)
    }
}

/// Why `/admin` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Signed in, but not an administrator.
    NotAdmin,
    /// Without Access: not signed in with Attio (or the connection is gone).
    SignIn,
    /// Attio could not say whether the person is an admin (a missing scope, an outage).
    Unknown,
    /// Owner mode behind `OWNER_PASSWORD`: the owner signs in with the password first.
    OwnerSignIn,
}

/// Who the request's administrator is, if it has one.
pub async fn identify<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Admin, Refusal> {
    let config = ctx.config;
    // Owner mode: whoever the gate admits owns the workspace key, so they administer (with
    // Access, narrowed to ADMIN_EMAILS when it is set).
    if config.owner.is_some() {
        return match (&ctx.person, config.access.is_some()) {
            (Some(email), true) if config.admin_emails.is_empty() || config.admin_emails.contains(email) => {
                Ok(Admin::Deployer { email: email.clone() })
            }
            (_, true) => Err(Refusal::NotAdmin),
            (_, false) if crate::auth::session::is_owner_admin(config.keys(), req, p.now_ms()) => {
                Ok(Admin::Deployer { email: "owner".into() })
            }
            (_, false) => Err(Refusal::OwnerSignIn),
        };
    }
    if config.access.is_some() {
        // The page was gated: `ctx.person` is the verified Access email.
        return match &ctx.person {
            Some(email) if config.admin_emails.contains(email) => Ok(Admin::Deployer { email: email.clone() }),
            _ => Err(Refusal::NotAdmin),
        };
    }
    let session = Session::from_request(config.keys(), req, p.now_ms()).ok_or(Refusal::SignIn)?;
    let conn = connection::usable(p, config, config.vault(), &session.user).await.map_err(|_| Refusal::SignIn)?;
    let token = connection::access_token(&conn).map_err(|_| Refusal::SignIn)?;
    match config.attio().member_is_admin(p, token, &session.user.member_id).await {
        Ok(true) => Ok(Admin::WorkspaceAdmin { user: session.user }),
        Ok(false) => Err(Refusal::NotAdmin),
        Err(e) => {
            p.log("admin.check_failed", &e.to_string());
            Err(Refusal::Unknown)
        }
    }
}

/// What the audit view is narrowed to (query parameters of `/admin` and its exports).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Filter {
    /// `<workspace>:<member>`, or a part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// A client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// A tool name or proxied request (`GET /v2/objects`), or a part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// `ok` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// `24h`, `7d` or `30d` (anything else: the whole 30 days kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// Entries before this time (ms): the page after one that ended there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<u64>,
}

impl Filter {
    /// The store's query for it at `now_ms`.
    pub fn query(&self, now_ms: u64) -> crate::store::audit::Query {
        let hours = match self.range.as_deref() {
            Some("24h") => 24,
            Some("7d") => 7 * 24,
            _ => 30 * 24,
        };
        crate::store::audit::Query {
            filter: crate::transitions::log::Filter {
                app: self.app.clone(),
                tool: self.tool.clone(),
                outcome: self.outcome.clone(),
                by: None,
                since_ms: now_ms.saturating_sub(hours * 3_600_000),
            },
            person: self.person.clone(),
            before_ms: self.before,
            usage: None,
        }
    }

    /// The query string of the same filter from `before` on (the next page).
    pub fn older(&self, before: u64) -> String {
        serde_urlencoded::to_string(Filter { before: Some(before), ..self.clone() }).unwrap_or_default()
    }
}

/// One field of a CSV record (RFC 4180 §2): quoted when it holds a comma, quote or line break;
/// a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The rows as CSV with a header line, CRLF line ends.
pub fn csv(rows: &[(UserId, Entry)]) -> String {
    let mut out = String::from("time_ms,time,workspace_id,member_id,by,app,kind,action,write,outcome\r\n");
    for (user, e) in rows {
        let fields = [
            e.at_ms.to_string(),
            crate::base::time::iso8601(e.at_ms),
            user.workspace_id.clone(),
            user.member_id.clone(),
            e.by.clone().unwrap_or_default(),
            e.client_id.clone(),
            e.kind.clone(),
            e.action.clone(),
            e.write.to_string(),
            e.outcome_text(),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The rows as JSON Lines: one object per line, the entry with its person.
pub fn json_lines(rows: &[(UserId, Entry)]) -> String {
    rows.iter()
        .map(|(user, e)| {
            let mut v = serde_json::to_value(e).unwrap_or_default();
            v["workspace_id"] = user.workspace_id.clone().into();
            v["member_id"] = user.member_id.clone().into();
            v.to_string() + "\n"
        })
        .collect()
}

/// A connected person as the page shows them.
#[derive(Debug, Clone)]
pub struct Person {
    pub user: UserId,
    pub workspace: String,
    pub email: Option<String>,
    /// Their name, as Attio gave it when they connected.
    pub name: Option<String>,
    pub active: bool,
    pub connected_at_ms: u64,
    pub apps: Vec<grant_index::Entry>,
}

/// Everyone the administrator may manage (of the first `max` connections), without their apps:
/// one KV listing.
pub async fn managed_users<P: Platform>(
    p: &P,
    admin: &Admin,
    max: usize,
) -> Result<Vec<UserId>, crate::platform::StoreError> {
    Ok(store_vault::summaries(p, max)
        .await?
        .into_iter()
        .map(|(user, _)| user)
        .filter(|u| admin.may_manage(u))
        .collect())
}

/// Everyone the administrator may manage (of the first `max` connections), with their apps: two KV listings (connections and
/// the grant index, each carrying its records as metadata), not a read per person.
pub async fn people<P: Platform>(p: &P, admin: &Admin, max: usize) -> Result<Vec<Person>, crate::platform::StoreError> {
    let mut apps: HashMap<UserId, Vec<grant_index::Entry>> = HashMap::new();
    for (user, entry) in grant_index::everyones(p, p.now_ms()).await? {
        apps.entry(user).or_default().push(entry);
    }
    let mut out = Vec::new();
    for (user, summary) in store_vault::summaries(p, max).await? {
        if !admin.may_manage(&user) {
            continue;
        }
        let mut apps = apps.remove(&user).unwrap_or_default();
        apps.sort_by_key(|e| std::cmp::Reverse(e.created_at_ms));
        out.push(match summary {
            Some(s) => Person {
                workspace: format!("{} ({})", s.workspace_name, s.workspace_slug),
                email: s.member_email,
                name: s.member_name,
                active: s.status == ConnectionStatus::Active,
                connected_at_ms: s.connected_at_ms,
                apps,
                user,
            },
            // A record from before summaries were kept, past this view's reads.
            None => Person {
                workspace: user.workspace_id.clone(),
                email: None,
                name: None,
                active: true,
                connected_at_ms: 0,
                apps,
                user,
            },
        });
    }
    Ok(out)
}

impl Person {
    /// What the pages call them: name and email, else either, else "member" and the start of
    /// their member id.
    pub fn label(&self) -> String {
        match (&self.name, &self.email) {
            (Some(name), Some(email)) => format!("{name} <{email}>"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => member_label(&self.user),
        }
    }
}

/// "member" and the start of a member id: a person Attio gave no name or email for.
pub fn member_label(user: &UserId) -> String {
    format!("member {}", user.member_id.chars().take(8).collect::<String>())
}

/// What the pages call an app: the name it registered (from a grant: `named` by
/// [`grant_index::client_key`], as listings name apps), else the name its sealed id carries,
/// else its metadata document's host, else "app" and the start of its id. Never fetched.
pub fn app_label(keys: &SigningKeys, named: &HashMap<String, String>, client_id: &str) -> String {
    if let Some(name) = named.get(&grant_index::client_key(client_id)) {
        return name.clone();
    }
    if let Some(name) = crate::oauth::clients::sealed_client::open(keys, client_id).and_then(|c| c.client_name) {
        return name;
    }
    if let Some(host) = url::Url::parse(client_id).ok().and_then(|u| u.host_str().map(str::to_string)) {
        return host;
    }
    format!("app {}", client_id.chars().take(10).collect::<String>())
}

/// How `/admin` names people, apps and tools ([`crate::pages::Names`]): people by their label,
/// apps by [`app_label`], each linking to their page (`/admin?person=…`, `/admin?app=…`).
#[derive(Debug)]
pub struct Labels<'a> {
    keys: &'a SigningKeys,
    people: HashMap<&'a UserId, String>,
    apps: HashMap<String, String>,
}

impl<'a> Labels<'a> {
    pub fn of(keys: &'a SigningKeys, people: &'a [Person]) -> Self {
        let apps = people
            .iter()
            .flat_map(|p| &p.apps)
            .map(|g| (grant_index::client_key(&g.client_id), g.client_name.clone()))
            .collect();
        Labels { keys, people: people.iter().map(|p| (&p.user, p.label())).collect(), apps }
    }
}

/// `/admin` narrowed to one `key` (`person`, `app`).
pub fn page_of(key: &str, value: &str) -> String {
    format!("{}?{}", crate::pages::paths::ADMIN, serde_urlencoded::to_string([(key, value)]).unwrap_or_default())
}

impl crate::pages::Names for Labels<'_> {
    fn person(&self, user: &UserId) -> (String, String) {
        let name = self.people.get(user).cloned().unwrap_or_else(|| member_label(user));
        (name, page_of("person", &format!("{}:{}", user.workspace_id, user.member_id)))
    }

    fn app(&self, client_id: &str) -> (String, String) {
        (app_label(self.keys, &self.apps, client_id), page_of("app", client_id))
    }

    fn tool(&self, action: &str) -> String {
        crate::mcp::tools::find(action).map_or_else(|| action.to_string(), |t| t.title.to_string())
    }
}

/// The calls usage views count as destructive: tools annotated `destructiveHint`, and proxied
/// requests that replace or remove (`PUT`, `DELETE`).
pub fn destructive_calls() -> Vec<String> {
    crate::mcp::tools::all()
        .filter(|t| t.destructive)
        .map(|t| t.name.to_string())
        .chain(["PUT ".to_string(), "DELETE ".to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, outcome: &str) -> Entry {
        Entry {
            at_ms: 1_795_843_447_000,
            client_id: "mcp_c1".into(),
            outcome: outcome.into(),
            ..Entry::call("tool", action, false, Vec::new())
        }
    }

    #[test]
    fn csv_quotes_what_it_must_and_never_starts_a_formula() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        let user = UserId::new("ws", "m").unwrap();
        let text = csv(&[(user.clone(), entry("GET /v2/objects", "ok"))]);
        assert!(text.starts_with("time_ms,time,workspace_id"));
        assert!(text.contains(",2026-11-28T05:24:07Z,ws,m,,mcp_c1,tool,GET /v2/objects,false,ok\r\n"), "{text}");
        let lines = json_lines(&[(user, entry("whoami", "ok"))]);
        let v: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
        assert_eq!((v["member_id"].as_str(), v["action"].as_str()), (Some("m"), Some("whoami")));
    }

    #[test]
    fn a_filter_becomes_the_stores_query_and_pages_on() {
        let now = 100 * 24 * 3_600_000;
        let f = Filter { tool: Some("query".into()), range: Some("24h".into()), ..Filter::default() };
        let q = f.query(now);
        assert_eq!((q.filter.tool.as_deref(), q.filter.since_ms, q.before_ms), (Some("query"), now - 86_400_000, None));
        assert_eq!(Filter::default().query(now).filter.since_ms, now - 30 * 86_400_000);
        assert_eq!(f.older(42), "tool=query&range=24h&before=42");
        let back: Filter = serde_urlencoded::from_str(&f.older(42)).unwrap();
        assert_eq!(back.query(now).before_ms, Some(42));
    }
}
