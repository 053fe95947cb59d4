//! Owner mode: the deployer gives the gateway an Attio workspace key (`ATTIO_API_KEY`, or
//! `ATTIO_ACCESS_TOKEN`) instead of registering an Attio OAuth app. The key is the workspace's
//! connection: identified through `GET /v2/self`, sealed in the vault like any Attio token, and
//! used for every tool call and proxied request. MCP clients still go through the gateway's own
//! OAuth and consent, so they never see the key.
//!
//! Because whoever approves an app gets the whole workspace, consent in owner mode is served
//! only behind an admission gate: Cloudflare Access (the person is their verified email) or
//! `OWNER_PASSWORD` (the single owner). Without one the gateway refuses consent and `/health`
//! and `/setup` say why. The person admitted owns the grants and appears in the audit log; an
//! API key has no Attio member, so calls act as the workspace, which `whoami`, `/setup` and
//! the consent page say plainly.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::attio::connection;
use crate::attio::identity::TokenStatus;
use crate::attio::vault::{Connection, ConnectionStatus, Tokens};
use crate::base::secret::AttioAccessToken;
use crate::base::user::UserId;
use crate::config::{Config, OwnerMode};
use crate::error::AppError;
use crate::platform::Platform;

/// How owner mode admits a person, if it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Access,
    Password,
}

/// The gate owner mode would use; `None` when there is none (consent is then refused).
pub fn gate(config: &Config, owner: &OwnerMode) -> Option<Gate> {
    if config.access.is_some() {
        Some(Gate::Access)
    } else if owner.password.is_some() {
        Some(Gate::Password)
    } else {
        None
    }
}

/// Why owner mode cannot serve consent, for `/health` and `/setup`; `None` when it can.
pub fn gate_problem(config: &Config) -> Option<String> {
    let owner = config.owner.as_ref()?;
    gate(config, owner).is_none().then(|| {
        format!(
            "owner mode ({} is set) needs an admission gate before anyone may approve an app: set up Cloudflare \
             Access (ACCESS_TEAM_DOMAIN, ACCESS_AUD) or OWNER_PASSWORD. Until then consent is refused.",
            owner.setting
        )
    })
}

/// The member id the admitted person is known by (a key has no Attio member): UUID-shaped,
/// derived with the signing key from who the gate admitted (an email, or the one owner).
pub fn person_id(config: &Config, who: &str) -> String {
    let mac = config.keys().sign(&format!("owner-person|{who}"));
    let hex: String = mac.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The connection of the person the gate admitted (`who`: an email, or `owner`), or, without
/// one (test mode), of the key's own member: the workspace key, identified and sealed, published
/// as theirs (kept when it is already theirs with this key, so their earlier grants go on).
pub async fn connect<P: Platform>(
    p: &P,
    config: &Config,
    key: &AttioAccessToken,
    who: Option<&str>,
) -> Result<Connection, AppError> {
    let member_id = who.map(|w| person_id(config, w));
    let member_id = member_id.as_deref();
    let identity = match config.attio().identify(p, key).await? {
        TokenStatus::Active(identity) => identity,
        TokenStatus::Inactive => {
            return Err(AppError::unavailable("the configured Attio key (Attio says it is not active)"))
        }
    };
    let member = member_id.unwrap_or(&identity.authorized_by_workspace_member_id);
    let user = UserId::new(&identity.workspace_id, member).ok_or(AppError::unavailable("the Attio identity"))?;
    if let Ok(current) = connection::usable(p, config, config.vault(), &user).await {
        if current.tokens.as_ref().is_some_and(|t| t.access == *key) {
            return Ok(current);
        }
    }
    let now = p.now_ms();
    // The epoch follows from the key, the person and the revision it succeeds: concurrent
    // approvals agree on it, and one made after a disconnect (a later revision) differs.
    let derive = |previous: u64| {
        let mac = config.keys().sign(&format!("owner-epoch|{}|{}|{previous}", key.expose_secret(), user.member_id));
        let bytes: Vec<u8> = URL_SAFE_NO_PAD.decode(mac).unwrap_or_default();
        let first: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).unwrap_or([1; 8]);
        (u64::from_le_bytes(first) >> 11).max(1)
    };
    let make = |revision, epoch| Connection {
        user: user.clone(),
        workspace_slug: identity.workspace_slug.clone(),
        workspace_name: identity.workspace_name.clone(),
        scope: identity.scope.clone(),
        status: ConnectionStatus::Active,
        tokens: Some(Tokens { access: key.clone(), refresh: None }),
        access_expires_at_ms: None,
        connected_at_ms: now,
        updated_at_ms: now,
        revision,
        epoch,
        member_email: who.filter(|w| w.contains('@')).map(str::to_string),
        member_name: None,
    };
    let connection = connection::establish(p, config.vault(), &user, derive, make)
        .await
        .map_err(|e| AppError::unavailable_because("connection storage", e))?;
    Ok(connection)
}
