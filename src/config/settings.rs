//! Every setting and binding the worker reads: name, kind (var or secret), whether it is
//! required, and what it means (the text `/health`, `/setup` and the README share).

/// Where a setting comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingKind {
    /// A plain `[vars]` entry: not secret, may be shown.
    Var,
    /// A `wrangler secret put` value: never shown.
    Secret,
}

/// One setting the worker reads.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub name: &'static str,
    pub kind: SettingKind,
    /// `None`: optional. `Some(None)`: required. `Some(Some(v))`: defaults to `v` when unset.
    pub required: Requirement,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Required,
    Optional,
    Default(&'static str),
}

pub const ATTIO_APP_BASE_URL: &str = "ATTIO_APP_BASE_URL";
pub const ATTIO_API_BASE_URL: &str = "ATTIO_API_BASE_URL";
pub const ATTIO_CLIENT_ID: &str = "ATTIO_CLIENT_ID";
pub const ATTIO_CLIENT_SECRET: &str = "ATTIO_CLIENT_SECRET";
pub const VAULT_KEYS: &str = "VAULT_KEYS";
pub const SIGNING_KEY: &str = "SIGNING_KEY";
pub const ATTIO_USE_PKCE: &str = "ATTIO_USE_PKCE";
pub const ATTIO_ALLOWED_WORKSPACES: &str = "ATTIO_ALLOWED_WORKSPACES";
pub const ATTIO_ALLOWED_MEMBERS: &str = "ATTIO_ALLOWED_MEMBERS";
pub const ACCESS_TEAM_DOMAIN: &str = "ACCESS_TEAM_DOMAIN";
pub const ACCESS_AUD: &str = "ACCESS_AUD";
pub const ADMIN_EMAILS: &str = "ADMIN_EMAILS";
pub const ATTIO_API_KEY: &str = "ATTIO_API_KEY";
pub const ATTIO_ACCESS_TOKEN: &str = "ATTIO_ACCESS_TOKEN";
pub const OWNER_PASSWORD: &str = "OWNER_PASSWORD";
pub const OWNER_GRANT_DAYS: &str = "OWNER_GRANT_DAYS";
pub const ATTIO_TIMEOUT_MS: &str = "ATTIO_TIMEOUT_MS";
pub const PUBLIC_ORIGIN: &str = "PUBLIC_ORIGIN";
pub const TOKEN_EXCHANGE_CLIENTS: &str = "TOKEN_EXCHANGE_CLIENTS";
pub const MCP_ALLOWED_ORIGINS: &str = "MCP_ALLOWED_ORIGINS";
pub const SETUP_PAGE: &str = "SETUP_PAGE";
pub const INSECURE_TEST_MODE: &str = "INSECURE_TEST_MODE";
pub const TEST_ATTIO_TOKEN: &str = "TEST_ATTIO_TOKEN";
pub const TEST_AUTO_APPROVE: &str = "TEST_AUTO_APPROVE";
pub const TEST_CIMD_ALLOW_LOOPBACK: &str = "TEST_CIMD_ALLOW_LOOPBACK";

/// Every setting the worker reads, in the order `/health` lists them.
pub const SETTINGS: &[SettingSpec] = &[
    SettingSpec {
        name: ATTIO_APP_BASE_URL,
        kind: SettingKind::Var,
        required: Requirement::Default("https://app.attio.com"),
        description: "Origin of Attio's app host (OAuth authorize and token endpoints).",
    },
    SettingSpec {
        name: ATTIO_API_BASE_URL,
        kind: SettingKind::Var,
        required: Requirement::Default("https://api.attio.com"),
        description: "Origin of Attio's REST API.",
    },
    SettingSpec {
        name: ATTIO_CLIENT_ID,
        kind: SettingKind::Secret,
        required: Requirement::Required,
        description: "Client ID of your Attio OAuth app (build.attio.com).",
    },
    SettingSpec {
        name: ATTIO_CLIENT_SECRET,
        kind: SettingKind::Secret,
        required: Requirement::Required,
        description: "Client secret of your Attio OAuth app.",
    },
    SettingSpec {
        name: VAULT_KEYS,
        kind: SettingKind::Secret,
        required: Requirement::Required,
        description: "Keys that encrypt stored Attio tokens: `kid:base64url(32 bytes)`, comma-separated, \
                      newest first (older keys only decrypt, for rotation).",
    },
    SettingSpec {
        name: SIGNING_KEY,
        kind: SettingKind::Secret,
        required: Requirement::Required,
        description: "32 bytes, base64url: keys the hashes of issued tokens and signs cookies. \
                      Several, comma-separated and newest first, while rotating (older ones only \
                      recognise what they made).",
    },
    SettingSpec {
        name: ATTIO_USE_PKCE,
        kind: SettingKind::Var,
        required: Requirement::Default("false"),
        description: "`true` sends a PKCE S256 challenge to Attio's authorize endpoint (for Attio \
                      apps or deployments that support it).",
    },
    SettingSpec {
        name: ATTIO_ALLOWED_WORKSPACES,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Comma-separated Attio workspace ids or slugs allowed to connect; unset allows any.",
    },
    SettingSpec {
        name: ATTIO_ALLOWED_MEMBERS,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Comma-separated email addresses of the workspace members allowed to connect; unset \
                      allows any member. Needs the user_management:read scope to learn each member's email.",
    },
    SettingSpec {
        name: ACCESS_TEAM_DOMAIN,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Your Cloudflare Access team domain (e.g. acme.cloudflareaccess.com). With ACCESS_AUD, the \
                      pages people use (/connect, consent, /account, /admin) require a valid Access login.",
    },
    SettingSpec {
        name: ACCESS_AUD,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "The Application Audience (AUD) tag of the Access application protecting this gateway.",
    },
    SettingSpec {
        name: ATTIO_API_KEY,
        kind: SettingKind::Secret,
        required: Requirement::Optional,
        description: "Owner mode: an Attio workspace API key used instead of an Attio OAuth app (no \
                      ATTIO_CLIENT_ID or ATTIO_CLIENT_SECRET needed). Requires an admission gate: Cloudflare \
                      Access or OWNER_PASSWORD.",
    },
    SettingSpec {
        name: ATTIO_ACCESS_TOKEN,
        kind: SettingKind::Secret,
        required: Requirement::Optional,
        description: "Owner mode with an Attio access token instead of an API key (ATTIO_API_KEY wins when \
                      both are set).",
    },
    SettingSpec {
        name: OWNER_PASSWORD,
        kind: SettingKind::Secret,
        required: Requirement::Optional,
        description: "Owner mode's gate without Cloudflare Access: the salted hash printed by \
                      ./scripts/hash-password (never the password itself).",
    },
    SettingSpec {
        name: OWNER_GRANT_DAYS,
        kind: SettingKind::Var,
        required: Requirement::Default("7"),
        description: "Owner mode: days an app's approval lasts before the person must approve it again through \
                      the gate (1-30). Owner mode has no Attio member to re-check, so this is how someone taken \
                      off the Access policy, or no longer given the password, loses access.",
    },
    SettingSpec {
        name: ADMIN_EMAILS,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Comma-separated emails of the gateway's administrators (/admin), matched against the \
                      Cloudflare Access login. Without Access, Attio workspace admins administer their workspace.",
    },
    SettingSpec {
        name: ATTIO_TIMEOUT_MS,
        kind: SettingKind::Var,
        required: Requirement::Default("15000"),
        description: "How long a call to Attio may take, in milliseconds (100-60000).",
    },
    SettingSpec {
        name: PUBLIC_ORIGIN,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "The gateway's public origin (https://host). Unset: taken from each request.",
    },
    SettingSpec {
        name: MCP_ALLOWED_ORIGINS,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Browser origins, besides the gateway's own, that may call /mcp (e.g. MCP Inspector's \
                      http://localhost:6274), comma-separated. Requests without an Origin are unaffected.",
    },
    SettingSpec {
        name: TOKEN_EXCHANGE_CLIENTS,
        kind: SettingKind::Secret,
        required: Requirement::Optional,
        description: "Backends allowed to use RFC 8693 token exchange: `id:secret`, comma-separated \
                      (secrets of at least 32 characters). Unset: token exchange is off.",
    },
    SettingSpec {
        name: SETUP_PAGE,
        kind: SettingKind::Var,
        required: Requirement::Default("true"),
        description: "Serve /setup, the deployer's checklist (redirect URI, scopes, which settings are \
                      present, whether Attio answers; never a value or user data). `false` turns it off.",
    },
    SettingSpec {
        name: INSECURE_TEST_MODE,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Tests only. `1` enables test-only routes, and only while both Attio base URLs \
                      are loopback, so it is inert in any real deploy.",
    },
    SettingSpec {
        name: TEST_ATTIO_TOKEN,
        kind: SettingKind::Secret,
        required: Requirement::Optional,
        description: "Tests only: an Attio token the test-only diagnostics route uses.",
    },
    SettingSpec {
        name: TEST_AUTO_APPROVE,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Tests only (needs test mode): `/authorize` approves at once as the owner of \
                      TEST_ATTIO_TOKEN, without consent or Attio sign-in (for the MCP conformance suite).",
    },
    SettingSpec {
        name: TEST_CIMD_ALLOW_LOOPBACK,
        kind: SettingKind::Var,
        required: Requirement::Optional,
        description: "Tests only (needs test mode): client metadata documents may be fetched from \
                      http://127.0.0.1 (normally only public https URLs are fetched).",
    },
];

/// A binding the worker uses (declared in `wrangler.toml`).
#[derive(Debug, Clone, Copy)]
pub struct BindingSpec {
    pub name: &'static str,
    /// `kv_namespace`, `durable_object_namespace` or `ratelimit`.
    pub kind: &'static str,
    pub purpose: &'static str,
    /// Without it the gateway cannot serve (`/health` answers 503); an optional binding only
    /// turns a protection off, which `/health` and `/setup` report.
    pub required: bool,
}

pub const KV_BINDING: &str = "GATEWAY_KV";
pub const TRANSITIONS_BINDING: &str = "TRANSITIONS";
pub const REGISTRATION_LIMIT_BINDING: &str = "LIMIT_REGISTRATION";
pub const FLOWS_LIMIT_BINDING: &str = "LIMIT_FLOWS";
pub const TOKEN_FAILURES_LIMIT_BINDING: &str = "LIMIT_TOKEN_FAILURES";
pub const LOOKUPS_LIMIT_BINDING: &str = "LIMIT_LOOKUPS";

/// Every binding the worker uses.
pub const BINDINGS: &[BindingSpec] = &[
    BindingSpec {
        name: KV_BINDING,
        kind: "kv_namespace",
        purpose: "Read-mostly records: the encrypted token vault, client registrations.",
        required: true,
    },
    BindingSpec {
        name: TRANSITIONS_BINDING,
        kind: "durable_object_namespace",
        purpose: "Strongly consistent one-time transitions (OAuth state, codes, refresh rotation).",
        required: true,
    },
    BindingSpec {
        name: REGISTRATION_LIMIT_BINDING,
        kind: "ratelimit",
        purpose: "Client registrations per address (default 20 a minute).",
        required: false,
    },
    BindingSpec {
        name: FLOWS_LIMIT_BINDING,
        kind: "ratelimit",
        purpose: "Authorization and Attio sign-in starts per address (default 60 a minute).",
        required: false,
    },
    BindingSpec {
        name: TOKEN_FAILURES_LIMIT_BINDING,
        kind: "ratelimit",
        purpose: "Failed attempts at the token endpoint per client and per address (default 30 a minute).",
        required: false,
    },
    BindingSpec {
        name: LOOKUPS_LIMIT_BINDING,
        kind: "ratelimit",
        purpose: "Metadata-document fetches and untagged-token lookups per address (default 30 a minute).",
        required: false,
    },
];
