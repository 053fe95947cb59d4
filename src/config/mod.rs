//! The gateway's configuration: every setting it reads, validated into a [`Config`].
//!
//! Settings arrive as Worker vars (non-secret, in `wrangler.toml`) and secrets
//! (`wrangler secret put`). Validation reports *which* setting is missing or malformed and why,
//! never its value, so `/health` and error responses are safe to show anyone.
//!
//! [`SETTINGS`] is the single list of what the worker reads; `.dev.vars.example`, `wrangler.toml`
//! and the README document the same names.
//!
//! `settings` names every setting and binding; `parse` reads each value; this file holds the
//! validated [`Config`] and the report `/health` shows.
//!
//! May use `base`, `crypto` and `attio`'s API types; never `store`, `platform` or `routes`.

use std::cell::OnceCell;
use std::rc::Rc;

use url::Url;

use crate::base::secret::{AttioAccessToken, ClientSecret, KeyMaterial};
use crate::crypto::envelope::{Vault, VaultKeys};
use crate::crypto::keys::SigningKeys;
use crate::crypto::password::PasswordHash;

mod parse;
mod settings;

use parse::*;
pub use parse::{attio_timeout_ms, is_loopback, parse_base_url, setup_page_enabled};
pub use settings::*;

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

/// Owner mode ([`crate::auth::owner`]): the workspace's Attio key and the password gate, if set.
#[derive(Debug, Clone)]
pub struct OwnerMode {
    pub key: AttioAccessToken,
    /// Which setting the key came from (`ATTIO_API_KEY` or `ATTIO_ACCESS_TOKEN`).
    pub setting: &'static str,
    pub password: Option<PasswordHash>,
    /// How many days an approval lasts (`OWNER_GRANT_DAYS`): with no member to re-check, the
    /// only way someone taken off the gate loses access.
    pub grant_days: u32,
}

/// Cloudflare Access: the team's origin (its tokens' `iss`, its keys under
/// `/cdn-cgi/access/certs`) and the application's AUD tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    pub team: String,
    pub aud: String,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub attio_app_base: Url,
    pub attio_api_base: Url,
    pub attio_client_id: String,
    pub attio_client_secret: ClientSecret,
    pub vault_keys: VaultKeys,
    /// `SIGNING_KEY`'s keys, newest first (older ones only recognise what they made).
    pub signing_keys: Vec<KeyMaterial>,
    /// Send a PKCE S256 challenge to Attio.
    pub attio_use_pkce: bool,
    /// Workspaces (ids or slugs) allowed to connect; `None` allows any.
    pub allowed_workspaces: Option<Vec<String>>,
    /// Member emails (lower-case) allowed to connect; `None` allows any member.
    pub allowed_members: Option<Vec<String>>,
    /// Cloudflare Access in front of the people's pages, when configured.
    pub access: Option<AccessSettings>,
    /// Administrators' emails (lower-case), matched against the Access login.
    pub admin_emails: Vec<String>,
    /// Owner mode: a workspace key instead of an Attio OAuth app.
    pub owner: Option<OwnerMode>,
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
    /// Owner mode's cap on a grant's age in days (`OWNER_GRANT_DAYS`); `None` otherwise.
    pub fn owner_grant_days(&self) -> Option<u32> {
        self.owner.as_ref().map(|o| o.grant_days)
    }

    /// The purpose-bound keys derived from `SIGNING_KEY`.
    pub fn keys(&self) -> &SigningKeys {
        self.derived_keys.get_or_init(|| match self.signing_keys.split_first() {
            Some((newest, older)) => SigningKeys::rotating(newest, older),
            // Parsing refuses an empty list; a key of zeros would only ever mean a bug here.
            None => SigningKeys::new(&KeyMaterial::new([0; 32])),
        })
    }

    /// The vault, with every `VAULT_KEYS` entry expanded.
    /// Attio's REST API at the configured base.
    pub fn attio(&self) -> crate::attio::AttioApi {
        crate::attio::AttioApi::new(self.attio_api_base.clone())
    }

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

    /// An optional secret read as set, surrounding whitespace included, so the parser can name
    /// that mistake instead of hiding it.
    fn read_untrimmed<T>(&mut self, name: &'static str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let spec = Self::spec(name);
        let Some(raw) = self.src.get(name) else {
            self.push(spec, SettingState::Unset, None, None);
            return None;
        };
        match parse(&raw) {
            Ok(parsed) => {
                self.push(spec, SettingState::Present, None, None);
                Some(parsed)
            }
            Err(why) => {
                self.push(spec, SettingState::Malformed, Some(format!("{name} {why}")), None);
                None
            }
        }
    }

    /// A setting the gateway needs except in owner mode: read as optional there.
    fn read_unless<T>(
        &mut self,
        owner: bool,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if owner && self.src.get(name).filter(|v| !v.trim().is_empty()).is_none() {
            self.push(Self::spec(name), SettingState::Unset, None, None);
            return None;
        }
        self.read(name, parse)
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
        // Owner mode: a workspace key instead of an OAuth app (the API key wins over a token).
        let api_key = r.read_untrimmed(ATTIO_API_KEY, parse_owner_key).map(|k| (k, ATTIO_API_KEY));
        let access_token = r.read_untrimmed(ATTIO_ACCESS_TOKEN, parse_owner_key).map(|k| (k, ATTIO_ACCESS_TOKEN));
        let owner_password = r.read(OWNER_PASSWORD, PasswordHash::parse);
        let owner_grant_days = r
            .read(OWNER_GRANT_DAYS, parse_owner_grant_days)
            // Malformed: reported, and the configuration does not load.
            .unwrap_or(1);
        let owner_key = api_key.or(access_token);
        let owner = owner_key.is_some();
        let client_id = r.read_unless(owner, ATTIO_CLIENT_ID, parse_client_id);
        let client_secret = r.read_unless(owner, ATTIO_CLIENT_SECRET, |v| Ok(ClientSecret::new(v.to_string())));
        // In owner mode there is no OAuth app: these are never sent anywhere.
        let (client_id, client_secret) = match (owner, client_id, client_secret) {
            (true, id, secret) => (
                Some(id.unwrap_or_else(|| "owner-mode".into())),
                Some(secret.unwrap_or_else(|| ClientSecret::new(String::new()))),
            ),
            (false, id, secret) => (id, secret),
        };
        let vault_keys = r.read(VAULT_KEYS, parse_vault_keys);
        let signing_key = r.read(SIGNING_KEY, parse_signing_keys);
        let use_pkce = r.read(ATTIO_USE_PKCE, parse_bool);
        let allowed = r.read(ATTIO_ALLOWED_WORKSPACES, parse_list);
        let allowed_members = r.read(ATTIO_ALLOWED_MEMBERS, parse_emails);
        let admin_emails = r.read(ADMIN_EMAILS, parse_emails);
        let access_team = r.read(ACCESS_TEAM_DOMAIN, parse_team_domain);
        let access_aud = r.read(ACCESS_AUD, parse_aud);
        let access = match (access_team, access_aud) {
            (Some(team), Some(aud)) => Some(AccessSettings { team, aud }),
            (None, None) => None,
            (team, _) => {
                // One without the other would leave the pages unprotected while looking protected.
                let (missing, present) =
                    if team.is_some() { (ACCESS_AUD, ACCESS_TEAM_DOMAIN) } else { (ACCESS_TEAM_DOMAIN, ACCESS_AUD) };
                if let Some(s) = r.status_mut(missing) {
                    s.state = SettingState::Missing;
                    s.problem = Some(format!("{missing} is needed with {present} (Cloudflare Access)"));
                }
                None
            }
        };
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
                    signing_keys: signing,
                    attio_use_pkce: pkce,
                    allowed_workspaces: allowed,
                    allowed_members,
                    access,
                    admin_emails: admin_emails.unwrap_or_default(),
                    owner: owner_key.map(|(key, setting)| OwnerMode {
                        key,
                        setting,
                        password: owner_password,
                        grant_days: owner_grant_days,
                    }),
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

#[cfg(test)]
mod tests;
