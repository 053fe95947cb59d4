//! The gateway's configuration: every setting it reads, validated into a [`Config`].
//!
//! Settings arrive as Worker vars (non-secret, in `wrangler.toml`) and secrets
//! (`wrangler secret put`). Validation reports *which* setting is missing or malformed and why,
//! never its value, so `/health` and error responses are safe to show anyone.
//!
//! [`SETTINGS`] is the single list of what the worker reads; `.dev.vars.example`, `wrangler.toml`
//! and the README document the same names.

use std::cell::OnceCell;
use std::rc::Rc;

use base64::Engine;
use url::Url;

use crate::crypto::envelope::{Vault, VaultKeys};
use crate::crypto::keys::SigningKeys;

use crate::secret::{AttioAccessToken, ClientSecret, KeyMaterial};

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
        description: "32 bytes, base64url: keys the hashes of issued tokens and signs cookies.",
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

/// A binding the worker needs (declared in `wrangler.toml`).
#[derive(Debug, Clone, Copy)]
pub struct BindingSpec {
    pub name: &'static str,
    /// `kv_namespace` or `durable_object_namespace`.
    pub kind: &'static str,
    pub purpose: &'static str,
}

pub const KV_BINDING: &str = "GATEWAY_KV";
pub const TRANSITIONS_BINDING: &str = "TRANSITIONS";

/// Every binding the worker uses.
pub const BINDINGS: &[BindingSpec] = &[
    BindingSpec {
        name: KV_BINDING,
        kind: "kv_namespace",
        purpose: "Read-mostly records: the encrypted token vault, client registrations.",
    },
    BindingSpec {
        name: TRANSITIONS_BINDING,
        kind: "durable_object_namespace",
        purpose: "Strongly consistent one-time transitions (OAuth state, codes, refresh rotation).",
    },
];

/// Reads raw settings by name (the edge implements it over the Worker `Env`).
pub trait SettingsSource {
    /// The value of a var or secret; `None` when unset.
    fn get(&self, name: &str) -> Option<String>;

    /// Whether a binding from [`BINDINGS`] exists in this deployment.
    fn binding_present(&self, name: &str) -> bool;

    /// The validated configuration. This default reads and checks every setting on each call;
    /// the edge overrides it with a per-isolate cache, which is safe because a Worker's vars and
    /// secrets cannot change while an isolate lives (changing one deploys a new version), and
    /// it keeps the derived keys (HKDF) from being recomputed on every request.
    fn config(&self) -> Result<Rc<Config>, ConfigError>
    where
        Self: Sized,
    {
        Config::load(self).map(Rc::new)
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub attio_app_base: Url,
    pub attio_api_base: Url,
    pub attio_client_id: String,
    pub attio_client_secret: ClientSecret,
    pub vault_keys: VaultKeys,
    pub signing_key: KeyMaterial,
    /// Send a PKCE S256 challenge to Attio.
    pub attio_use_pkce: bool,
    /// Workspaces (ids or slugs) allowed to connect; `None` allows any.
    pub allowed_workspaces: Option<Vec<String>>,
    pub attio_timeout_ms: u32,
    /// The configured public origin, if any (otherwise each request's own).
    pub public_origin: Option<Url>,
    /// Backends that may exchange a person's token for a REST-proxy token (RFC 8693).
    pub exchange_clients: Vec<ExchangeClient>,
    /// Extra browser origins allowed at `/mcp`.
    pub mcp_allowed_origins: Vec<String>,
    /// Present only when test mode is asked for *and* Attio is on loopback.
    pub test_mode: Option<TestMode>,
    /// Keys derived from `signing_key` / `vault_keys`, on first use (HKDF once per request at
    /// most, and never on routes that need no key).
    derived_keys: OnceCell<SigningKeys>,
    derived_vault: OnceCell<Vault>,
}

impl Config {
    /// The purpose-bound keys derived from `SIGNING_KEY`.
    pub fn keys(&self) -> &SigningKeys {
        self.derived_keys.get_or_init(|| SigningKeys::new(&self.signing_key))
    }

    /// The vault, with every `VAULT_KEYS` entry expanded.
    pub fn vault(&self) -> &Vault {
        self.derived_vault.get_or_init(|| Vault::new(&self.vault_keys))
    }
}

/// A backend allowed to use token exchange.
#[derive(Debug, Clone)]
pub struct ExchangeClient {
    pub id: String,
    pub secret: ClientSecret,
}

#[derive(Debug, Clone)]
pub struct TestMode {
    pub attio_token: Option<AttioAccessToken>,
    /// Approve authorization requests without a person (needs `attio_token`).
    pub auto_approve: bool,
    /// Fetch client metadata documents from loopback too.
    pub cimd_allow_loopback: bool,
}

/// How one setting looks, for `/health`. Never carries a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SettingStatus {
    pub name: &'static str,
    pub kind: SettingKind,
    pub state: SettingState,
    /// What is wrong, in words that never include the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The value, for vars only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SettingState {
    Present,
    Default,
    Missing,
    Malformed,
    /// Set, but has no effect (e.g. test mode with a non-loopback Attio).
    Ignored,
    Unset,
}

/// Why the configuration is unusable: one line per bad setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the gateway is not configured: {}", problems.join("; "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// The outcome of reading every setting.
#[derive(Debug)]
pub struct ConfigReport {
    pub settings: Vec<SettingStatus>,
    pub config: Result<Config, ConfigError>,
}

impl Config {
    /// Validates every setting; on failure, lists each problem.
    pub fn load(src: &impl SettingsSource) -> Result<Config, ConfigError> {
        ConfigReport::inspect(src).config
    }
}

/// Reads one setting, applying its default, and records its status.
struct Reader<'a, S> {
    src: &'a S,
    statuses: Vec<SettingStatus>,
}

impl<S: SettingsSource> Reader<'_, S> {
    fn spec(name: &str) -> &'static SettingSpec {
        SETTINGS.iter().find(|s| s.name == name).unwrap_or(&SETTINGS[0])
    }

    /// The raw value (or default) handed to `parse`; a parse error marks it malformed.
    fn read<T>(&mut self, name: &'static str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let spec = Self::spec(name);
        let raw = self.src.get(name).filter(|v| !v.trim().is_empty());
        let (value, state) = match (raw, spec.required) {
            (Some(v), _) => (v, SettingState::Present),
            (None, Requirement::Default(d)) => (d.to_string(), SettingState::Default),
            (None, Requirement::Required) => {
                let how = match spec.kind {
                    SettingKind::Secret => format!("set it with `wrangler secret put {name}`"),
                    SettingKind::Var => "set it under [vars] in wrangler.toml".to_string(),
                };
                self.push(spec, SettingState::Missing, Some(format!("{name} is missing: {how}")), None);
                return None;
            }
            (None, Requirement::Optional) => {
                self.push(spec, SettingState::Unset, None, None);
                return None;
            }
        };
        let shown = (spec.kind == SettingKind::Var).then(|| value.clone());
        match parse(value.trim()) {
            Ok(parsed) => {
                self.push(spec, state, None, shown);
                Some(parsed)
            }
            Err(why) => {
                self.push(spec, SettingState::Malformed, Some(format!("{name} is malformed: {why}")), shown);
                None
            }
        }
    }

    fn push(&mut self, spec: &SettingSpec, state: SettingState, problem: Option<String>, value: Option<String>) {
        self.statuses.push(SettingStatus { name: spec.name, kind: spec.kind, state, problem, value });
    }

    fn status_mut(&mut self, name: &str) -> Option<&mut SettingStatus> {
        self.statuses.iter_mut().find(|s| s.name == name)
    }
}

impl ConfigReport {
    /// Reads and validates every setting.
    pub fn inspect(src: &impl SettingsSource) -> ConfigReport {
        let mut r = Reader { src, statuses: Vec::new() };
        let app = r.read(ATTIO_APP_BASE_URL, parse_base_url);
        let api = r.read(ATTIO_API_BASE_URL, parse_base_url);
        let client_id = r.read(ATTIO_CLIENT_ID, parse_client_id);
        let client_secret = r.read(ATTIO_CLIENT_SECRET, |v| Ok(ClientSecret::new(v.to_string())));
        let vault_keys = r.read(VAULT_KEYS, parse_vault_keys);
        let signing_key = r.read(SIGNING_KEY, |v| parse_key(v).map(KeyMaterial::new));
        let use_pkce = r.read(ATTIO_USE_PKCE, parse_bool);
        let allowed = r.read(ATTIO_ALLOWED_WORKSPACES, parse_list);
        let timeout = r.read(ATTIO_TIMEOUT_MS, parse_timeout);
        let public_origin = r.read(PUBLIC_ORIGIN, parse_origin);
        let exchange = r.read(TOKEN_EXCHANGE_CLIENTS, parse_exchange_clients);
        let mcp_origins = r.read(MCP_ALLOWED_ORIGINS, parse_origins);
        // Read for the report only; /setup decides with `setup_page_enabled`, which also works
        // when the rest of the configuration does not.
        let _ = r.read(SETUP_PAGE, parse_bool);
        let test_mode_asked = r.read(INSECURE_TEST_MODE, parse_bool);
        let test_token = r.read(TEST_ATTIO_TOKEN, |v| Ok(AttioAccessToken::new(v.to_string())));
        let auto_approve = r.read(TEST_AUTO_APPROVE, parse_bool).unwrap_or(false);
        let cimd_allow_loopback = r.read(TEST_CIMD_ALLOW_LOOPBACK, parse_bool).unwrap_or(false);

        let on_loopback = matches!((&app, &api), (Some(a), Some(b)) if is_loopback(a) && is_loopback(b));
        let test_mode = match test_mode_asked {
            Some(true) if on_loopback => Some(TestMode { attio_token: test_token, auto_approve, cimd_allow_loopback }),
            Some(true) => {
                if let Some(s) = r.status_mut(INSECURE_TEST_MODE) {
                    s.state = SettingState::Ignored;
                    s.problem =
                        Some(format!("{INSECURE_TEST_MODE} is ignored because the Attio base URLs are not loopback"));
                }
                None
            }
            _ => None,
        };

        let problems: Vec<String> = r
            .statuses
            .iter()
            .filter(|s| matches!(s.state, SettingState::Missing | SettingState::Malformed))
            .filter_map(|s| s.problem.clone())
            .collect();
        let config = match (app, api, client_id, client_secret, vault_keys, signing_key, use_pkce, timeout) {
            (Some(app), Some(api), Some(id), Some(secret), Some(keys), Some(signing), Some(pkce), Some(timeout))
                if problems.is_empty() =>
            {
                Ok(Config {
                    attio_app_base: app,
                    attio_api_base: api,
                    attio_client_id: id,
                    attio_client_secret: secret,
                    vault_keys: keys,
                    signing_key: signing,
                    attio_use_pkce: pkce,
                    allowed_workspaces: allowed,
                    attio_timeout_ms: timeout,
                    public_origin,
                    exchange_clients: exchange.unwrap_or_default(),
                    mcp_allowed_origins: mcp_origins.unwrap_or_default(),
                    test_mode,
                    derived_keys: OnceCell::new(),
                    derived_vault: OnceCell::new(),
                })
            }
            _ => Err(ConfigError { problems }),
        };
        ConfigReport { settings: r.statuses, config }
    }
}

/// An origin-like base URL: http(s), no credentials, query or fragment; `http` only for
/// loopback (local tests and the demo). Returned without a trailing slash in the path.
pub fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = crate::uri::parse(raw).ok_or_else(|| "not an absolute URL".to_string())?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err("must use https (http is allowed only for loopback hosts)".into()),
        _ => return Err("must be an http(s) URL".into()),
    }
    if url.host().is_none() {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    let mut url = url;
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(url)
}

/// Whether a URL's host is on this machine (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `/setup` is served: on unless `SETUP_PAGE` says `false`; off if it is malformed.
pub fn setup_page_enabled(src: &impl SettingsSource) -> bool {
    src.get(SETUP_PAGE).is_none_or(|v| parse_bool(v.trim()).unwrap_or(false))
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err("use true (or 1) or false (or 0)".into()),
    }
}

fn parse_list(raw: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.is_empty() {
        return Err("list at least one workspace id or slug, or leave it unset".into());
    }
    Ok(items)
}

fn parse_timeout(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(ms) if (100..=60_000).contains(&ms) => Ok(ms),
        _ => Err("a number of milliseconds from 100 to 60000".into()),
    }
}

/// `https://host[:port]` (http only for loopback), nothing after the authority.
fn parse_origin(raw: &str) -> Result<Url, String> {
    let url = parse_base_url(raw)?;
    if url.path() != "" && url.path() != "/" {
        return Err("must be an origin, without a path".into());
    }
    Ok(url)
}

/// The upstream timeout, for the edge to set up its HTTP client before the full configuration
/// is loaded (a malformed value falls back to the default and is reported by `/health`).
pub fn attio_timeout_ms(src: &impl SettingsSource) -> u32 {
    src.get(ATTIO_TIMEOUT_MS).and_then(|v| parse_timeout(v.trim()).ok()).unwrap_or(15_000)
}

/// Origins as browsers send them: `scheme://host[:port]`, no path.
fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = crate::uri::parse(o).ok_or_else(|| format!("{o:?} is not an origin"))?;
            let canonical = url.origin().ascii_serialization();
            if canonical != o || !matches!(url.scheme(), "http" | "https") {
                return Err(format!("{o:?} must be written as an origin, e.g. http://localhost:6274"));
            }
            Ok(canonical)
        })
        .collect()
}

fn parse_exchange_clients(raw: &str) -> Result<Vec<ExchangeClient>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
        .map(|(i, entry)| {
            let (id, secret) =
                entry.split_once(':').ok_or_else(|| format!("entry {} must look like `id:secret`", i + 1))?;
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return Err(format!("entry {}: the id must be [A-Za-z0-9_-]", i + 1));
            }
            if secret.len() < 32 {
                return Err(format!("entry {}: the secret must be at least 32 characters", i + 1));
            }
            Ok(ExchangeClient { id: id.to_string(), secret: ClientSecret::new(secret.to_string()) })
        })
        .collect()
}

fn parse_client_id(raw: &str) -> Result<String, String> {
    if raw.len() > 200 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(raw.to_string())
}

/// 32 bytes, base64 (url-safe or standard, padding optional).
fn parse_key(raw: &str) -> Result<[u8; 32], String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let unpadded = raw.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(unpadded)
        .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
        .map_err(|_| "not base64 (generate keys with scripts/generate-secrets)".to_string())?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("the key must be 32 bytes, this one is {} bytes", b.len()))
}

fn parse_vault_keys(raw: &str) -> Result<VaultKeys, String> {
    let mut keys: Vec<(String, KeyMaterial)> = Vec::new();
    for (i, entry) in raw.split(',').map(str::trim).enumerate() {
        let n = i + 1;
        let (kid, key) = entry.split_once(':').ok_or_else(|| format!("entry {n} must look like `kid:base64key`"))?;
        let kid_ok = !kid.is_empty()
            && kid.len() <= 16
            && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !kid_ok {
            return Err(format!("entry {n}: the key id must be 1-16 characters of [A-Za-z0-9_-]"));
        }
        if keys.iter().any(|(k, _)| k == kid) {
            return Err(format!("entry {n}: key id `{kid}` appears twice"));
        }
        let key = parse_key(key).map_err(|e| format!("entry {n}: {e}"))?;
        keys.push((kid.to_string(), KeyMaterial::new(key)));
    }
    Ok(VaultKeys::from_entries(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{complete_settings as complete, MapSource, KEY_A};

    #[test]
    fn complete_settings_load_with_defaults() {
        let cfg = Config::load(&MapSource::new(complete())).unwrap();
        assert_eq!(cfg.attio_app_base.as_str(), "https://app.attio.com/");
        assert_eq!(cfg.attio_api_base.host_str(), Some("api.attio.com"));
        assert_eq!(cfg.vault_keys.active_id(), Some("k2"));
        assert_eq!(cfg.vault_keys.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["k2", "k1"]);
        assert!(cfg.test_mode.is_none());
    }

    #[test]
    fn missing_and_malformed_settings_are_named_never_shown() {
        let mut m = complete();
        m.remove(ATTIO_CLIENT_SECRET);
        m.insert(SIGNING_KEY, "c2hvcnQ".into()); // "short": 5 bytes
        m.insert(VAULT_KEYS, "k1:not-base64!!".into());
        let err = Config::load(&MapSource::new(m.clone())).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("ATTIO_CLIENT_SECRET is missing"), "{text}");
        assert!(text.contains("wrangler secret put ATTIO_CLIENT_SECRET"), "{text}");
        assert!(text.contains("SIGNING_KEY is malformed: the key must be 32 bytes, this one is 5 bytes"), "{text}");
        assert!(text.contains("VAULT_KEYS is malformed: entry 1"), "{text}");
        for secret in ["c2hvcnQ", "not-base64", "client-123"] {
            assert!(!text.contains(secret), "leaked {secret}: {text}");
        }
        let report = ConfigReport::inspect(&MapSource::new(m));
        let json = serde_json::to_string(&report.settings).unwrap();
        assert!(!json.contains("c2hvcnQ") && !json.contains("client-123"), "{json}");
        assert!(json.contains("https://app.attio.com"), "vars may be shown: {json}");
    }

    #[test]
    fn base_urls_are_validated() {
        assert_eq!(parse_base_url("http://127.0.0.1:8790/").unwrap().as_str(), "http://127.0.0.1:8790/");
        assert_eq!(parse_base_url("https://proxy.example/attio/").unwrap().path(), "/attio");
        assert!(parse_base_url("http://api.attio.com").unwrap_err().contains("https"));
        for bad in ["api.attio.com", "ftp://x.test", "https://u:p@x.test", "https://x.test/?a=1", "https://x.test/#f"] {
            assert!(parse_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn vault_keys_reject_duplicates_and_bad_ids() {
        assert!(parse_vault_keys(&format!("a:{KEY_A},a:{KEY_A}")).unwrap_err().contains("twice"));
        assert!(parse_vault_keys(&format!("bad id:{KEY_A}")).is_err());
        assert!(parse_vault_keys(KEY_A).is_err());
    }

    #[test]
    fn test_mode_needs_loopback_attio() {
        let mut m = complete();
        m.insert(INSECURE_TEST_MODE, "1".into());
        let report = ConfigReport::inspect(&MapSource::new(m.clone()));
        assert!(report.config.unwrap().test_mode.is_none(), "inert against the real Attio");
        let status = report.settings.iter().find(|s| s.name == INSECURE_TEST_MODE).unwrap();
        assert_eq!(status.state, SettingState::Ignored);

        m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
        m.insert(ATTIO_API_BASE_URL, "http://localhost:9".into());
        assert!(Config::load(&MapSource::new(m)).unwrap().test_mode.is_some());
    }

    #[test]
    fn optional_settings() {
        let cfg = Config::load(&MapSource::new(complete())).unwrap();
        assert!(!cfg.attio_use_pkce);
        assert_eq!(cfg.attio_timeout_ms, 15_000);
        assert!(cfg.allowed_workspaces.is_none() && cfg.public_origin.is_none());
        let mut m = complete();
        m.insert(ATTIO_USE_PKCE, "true".into());
        m.insert(ATTIO_ALLOWED_WORKSPACES, " acme, 14beef7a ,".into());
        m.insert(ATTIO_TIMEOUT_MS, "2500".into());
        m.insert(PUBLIC_ORIGIN, "https://gw.example.com".into());
        let cfg = Config::load(&MapSource::new(m.clone())).unwrap();
        assert!(cfg.attio_use_pkce);
        assert_eq!(cfg.allowed_workspaces.unwrap(), ["acme", "14beef7a"]);
        assert_eq!(cfg.attio_timeout_ms, 2500);
        assert_eq!(cfg.public_origin.unwrap().host_str(), Some("gw.example.com"));
        for (name, bad) in [
            (ATTIO_USE_PKCE, "yes"),
            (ATTIO_TIMEOUT_MS, "5"),
            (PUBLIC_ORIGIN, "https://gw.example.com/x"),
            (ATTIO_ALLOWED_WORKSPACES, ","),
        ] {
            let mut m = m.clone();
            m.insert(name, bad.into());
            let err = Config::load(&MapSource::new(m)).unwrap_err().to_string();
            assert!(err.contains(&format!("{name} is malformed")), "{err}");
        }
    }

    #[test]
    fn every_setting_is_listed_once() {
        let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETTINGS.len());
    }
}
