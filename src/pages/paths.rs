//! The paths of the pages a person uses (connecting Attio, the account page): named once here
//! because pages link to each other's routes, and a route file never imports another.
//! Protocol endpoints keep their paths beside their handlers (`routes::token::TOKEN`, …).

/// Starts the Attio sign-in.
pub const CONNECT: &str = "/connect";
/// Where Attio sends the person back (registered at Attio as the app's redirect URI).
pub const ATTIO_CALLBACK: &str = "/oauth/attio/callback";
/// Whether this browser's person is connected.
pub const CONNECT_STATUS: &str = "/connect/status";
/// Disconnects (a form post).
pub const DISCONNECT: &str = "/connect/disconnect";
/// The person's recent activity, as JSON.
pub const AUDIT: &str = "/connect/audit";
/// The person's approved apps and connection.
pub const ACCOUNT: &str = "/account";
/// Revokes one approved app (a form post).
pub const ACCOUNT_REVOKE: &str = "/account/revoke";
/// The administrators' page, and its exports of the log.
pub const ADMIN: &str = "/admin";
pub const ADMIN_AUDIT_CSV: &str = "/admin/audit.csv";
pub const ADMIN_AUDIT_JSONL: &str = "/admin/audit.jsonl";
/// The administrators' forms: revoke an app, disconnect a person, set the policy, the owner's sign-in.
pub const ADMIN_REVOKE: &str = "/admin/revoke";
pub const ADMIN_DISCONNECT: &str = "/admin/disconnect";
pub const ADMIN_POLICY: &str = "/admin/policy";
pub const ADMIN_SIGN_IN: &str = "/admin/sign-in";
