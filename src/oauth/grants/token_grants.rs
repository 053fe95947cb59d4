//! The token endpoint's grant types (OAuth 2.1 §4.1.3, §4.3; RFC 8693) and token revocation
//! (RFC 7009), for a client already authenticated ([`crate::auth::client_auth`]): each returns the
//! tokens to issue or the OAuth error to answer with; the route renders either. Codes are
//! single use and bound to the client, redirect URI, PKCE verifier and resource; refresh tokens
//! rotate; every state change goes through [`crate::store`], so it holds under concurrency.

use crate::attio::connection::{self, ConnectionError};
use crate::base::secret::{AuthorizationCode, PkceVerifier};
use crate::config::ExchangeClient;
use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;
use crate::oauth::clients::cimd;
use crate::oauth::clients::client::RegisteredClient;
use crate::oauth::grants::grant::{self, CodeGrant, Grant, Issued, RefreshOutcome, TokenKind};
use crate::oauth::grants::tool_groups;
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::oauth::params;
use crate::oauth::pkce;
use crate::oauth::redirect;
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::clients as store_clients;
use crate::store::connections::ConnectionCopy;
use crate::store::grant_index;
use crate::store::grants::{self, Replaced};
use crate::store::one_time::{self, Redeemed};

/// `grant_type=authorization_code` (OAuth 2.1 §4.1.3): spends the code once, for the client
/// it was issued to, with its redirect URI, PKCE verifier and resource (each checked before the
/// code is spent, so a wrong one leaves it to its owner); a replayed code revokes what it issued.
pub async fn redeem_code<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    client: &RegisteredClient,
    form: &[(String, String)],
) -> Result<Issued, OAuthError> {
    let keys = ctx.keys();
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let code = params::get(form, "code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code = &AuthorizationCode::new(code.to_string());
    let verifier = params::get(form, "code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let verifier = PkceVerifier::new(verifier.to_string());
    let Some(record) = one_time::peek_code(p, keys, code).await.map_err(unavailable)? else {
        return Err(replayed_code(p, keys, code, &verifier, client).await);
    };
    // Checks that must not burn the code: another client, redirect URI or resource.
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if params::get(form, "redirect_uri").is_some_and(|r| r != record.redirect_uri) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    let origin = ctx.origin.clone();
    if params::get(form, "resource").is_some_and(|r| Audience::from_resource(&origin, r) != Some(record.audience)) {
        return Err(OAuthError::invalid_target("resource does not match the authorization request"));
    }
    // The verifier too, before the code is spent: whoever intercepted a code, but not its
    // verifier, must not be able to burn it and deny it to the client that holds both.
    if !pkce::verify(&verifier, &record.code_challenge) {
        return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
    }
    // Now spend it: exactly one request gets past this line.
    if one_time::take_code(p, keys, code).await.map_err(unavailable)?.is_none() {
        return Err(replayed_code(p, keys, code, &verifier, client).await);
    }
    let now = p.now_ms();
    let (grant, issued) = create_grant(p, ctx, &record, client.display_name(), client.allows_refresh(), None).await?;
    let redeemed = Redeemed {
        grant_id: grant.grant_id,
        client_id: client.client_id.clone(),
        code_challenge: record.code_challenge,
    };
    let _ = one_time::mark_redeemed(p, keys, code, &redeemed, now + 600_000).await;
    // A registration is kept long only once it is used (metadata-document clients are not stored).
    if !client.in_use && !cimd::is_url(&client.client_id) {
        if let Err(e) = store_clients::mark_in_use(p, client).await {
            p.log("client.mark_in_use_failed", &e.0);
        }
    }
    Ok(issued)
}

/// What an exchanged grant derives from: its source grant, and how long it may live at most.
struct Derived<'a> {
    source: &'a Grant,
    lifetime_ms: u64,
}

/// Creates a grant with its first tokens, in its own object. A `derived` grant (token exchange)
/// names its source and lives no longer than the lifetime given nor than the source.
async fn create_grant<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    record: &CodeGrant,
    client_name: &str,
    with_refresh: bool,
    derived: Option<Derived<'_>>,
) -> Result<(Grant, Issued), OAuthError> {
    let keys = ctx.keys();
    let random = || p.token().map_err(|_| OAuthError::temporarily_unavailable("randomness"));
    let mut gid = [0u8; 16];
    p.fill(&mut gid).map_err(|_| OAuthError::temporarily_unavailable("randomness"))?;
    let access_secret = random()?;
    let refresh_secret = if with_refresh { Some(random()?) } else { None };
    let now = p.now_ms();
    let (mut grant, mut issued) = Grant::issue(
        keys,
        grant::new_grant_id(gid, &record.user),
        record,
        &access_secret,
        refresh_secret.as_deref(),
        now,
    );
    if let Some(Derived { source, lifetime_ms }) = derived {
        let expires_at_ms = (now + lifetime_ms).min(source.expires_at_ms);
        grant.expires_at_ms = expires_at_ms;
        for a in &mut grant.access {
            a.expires_at_ms = expires_at_ms;
        }
        issued.expires_in_secs = expires_at_ms.saturating_sub(now) / 1000;
        grant.source_grant = Some(source.grant_id.clone());
    }
    // Owner mode: an approval lasts OWNER_GRANT_DAYS at most (access tokens never outlive it).
    if let Some(days) = ctx.config.owner_grant_days() {
        grant.expires_at_ms = grant.expires_at_ms.min(now + u64::from(days) * 86_400_000);
        for a in &mut grant.access {
            a.expires_at_ms = a.expires_at_ms.min(grant.expires_at_ms);
        }
    }
    if grants::create(p, &grant).await != Ok(true) {
        return Err(OAuthError::temporarily_unavailable("could not create the grant"));
    }
    let entry = grant_index::Entry {
        grant_id: grant.grant_id.clone(),
        client_id: record.client_id.clone(),
        client_name: client_name.to_string(),
        redirect_host: redirect::display_host(&record.redirect_uri),
        write: grant.scope.iter().any(|s| s == SCOPE_WRITE),
        audience: match grant.audience {
            Audience::Mcp => "mcp".into(),
            Audience::Api => "rest".into(),
        },
        created_at_ms: now,
        expires_at_ms: grant.expires_at_ms,
    };
    // Only the account page reads the index: a failure here costs a row there, not the grant.
    if let Err(e) = grant_index::record(p, &grant.user, &entry, now).await {
        p.log("grant.index_failed", &e.0);
    }
    Ok((grant, issued))
}

/// A code that is gone: if it was redeemed and the same client presents it again with the right
/// PKCE verifier, that is a replay, and what it issued is revoked (OAuth 2.1 §4.1.3; security
/// checklist B.14). Checked only after the client authenticated, and only on proof of the
/// verifier, so someone holding a leaked used code and a public client id cannot revoke
/// anyone's grant.
async fn replayed_code<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
    verifier: &PkceVerifier,
    client: &RegisteredClient,
) -> OAuthError {
    if let Ok(Some(r)) = one_time::redeemed(p, keys, code).await {
        if r.client_id == client.client_id && pkce::verify(verifier, &r.code_challenge) {
            grants::revoke(p, &r.grant_id).await;
            p.log("token.code_replayed", &format!("client {}: grant revoked", client.client_id));
        }
    }
    OAuthError::invalid_grant("the code is invalid, expired or already used")
}

/// `grant_type=refresh_token` (OAuth 2.1 §4.3): rotates the refresh token by compare-and-swap
/// on the grant; a replaced token presented again revokes the grant ([`grant::Grant::refresh`]).
pub async fn refresh<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    client: &RegisteredClient,
    form: &[(String, String)],
) -> Result<Issued, OAuthError> {
    let keys = ctx.keys();
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let presented =
        params::get(form, "refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let Some((TokenKind::Refresh, grant_id)) = grant::parse_token(presented) else {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    };
    // A forged or altered token: refused before anything is read.
    if !grant::intact(keys, presented) {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    }
    let scope = match params::get(form, "scope") {
        Some(s) => Some(grant::parse_scope(s).map_err(OAuthError::invalid_scope)?),
        None => None,
    };
    // Read once: a retry below is about the grant changing, not the policy.
    let policy = crate::store::policy::load(p).await.map_err(unavailable)?.capped(ctx.config.owner_grant_days());
    for _ in 0..5 {
        let Some(current) = grants::load(p, grant_id).await.map_err(unavailable)? else {
            return Err(OAuthError::invalid_grant("unknown refresh token"));
        };
        let grant = &current.grant;
        if grant.client_id != client.client_id {
            return Err(OAuthError::invalid_grant("the token was issued to another client"));
        }
        let origin = ctx.origin.clone();
        if params::get(form, "resource").is_some_and(|r| Audience::from_resource(&origin, r) != Some(grant.audience)) {
            return Err(OAuthError::invalid_target("resource does not match the grant"));
        }
        // A grant lives only as long as the Attio connection behind it, and the person's
        // membership of the workspace.
        let ended = match grant_standing(p, ctx, grant).await? {
            Standing::Live => None,
            Standing::ConnectionGone => Some("the Attio connection behind this grant was revoked; authorize again"),
            Standing::MemberLeft => Some("the person is no longer an active member of the Attio workspace"),
        };
        if let Some(why) = ended {
            grants::revoke(p, grant_id).await;
            return Err(OAuthError::invalid_grant(why));
        }
        if policy.grant_too_old(grant.created_at_ms, p.now_ms()) {
            return Err(OAuthError::invalid_grant("the deployer's maximum grant lifetime has passed; authorize again"));
        }
        if policy.blocks(&grant.client_id) {
            return Err(OAuthError::invalid_grant("the deployer blocked this app on this gateway"));
        }
        let (next, answer) = match grant.refresh(keys, presented, scope.clone(), p.now_ms()) {
            RefreshOutcome::Rotated(next, issued) => (next, Ok(issued)),
            RefreshOutcome::Replayed(issued) => return Ok(issued),
            RefreshOutcome::Reused(dead) => {
                p.log("token.refresh_reused", &format!("client {}: grant revoked", client.client_id));
                (dead, Err(OAuthError::invalid_grant("refresh token reuse detected; the grant was revoked")))
            }
            RefreshOutcome::InvalidScope => return Err(OAuthError::invalid_scope("a refresh cannot widen the scope")),
            RefreshOutcome::Invalid(why) => return Err(OAuthError::invalid_grant(why)),
        };
        match grants::replace(p, &current, &next).await.map_err(unavailable)? {
            Replaced::Stored => return answer,
            // Someone else rotated first: decide again against the new state.
            Replaced::Conflict => continue,
        }
    }
    Err(OAuthError::temporarily_unavailable("the grant is busy; retry"))
}

/// RFC 8693 §3: the only token type exchanged, in and out.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens are short-lived and cannot be refreshed.
const EXCHANGED_TTL_MS: u64 = 15 * 60 * 1000;

/// RFC 8693 token exchange, for backends named in `TOKEN_EXCHANGE_CLIENTS`: a person's access
/// token of ours (the subject) becomes a short-lived token for the REST proxy, with at most the
/// subject's scope. The backend reaches Attio through the gateway without ever holding the
/// Attio app's secret or anyone's Attio token.
pub async fn exchange<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    backend: &ExchangeClient,
    form: &[(String, String)],
) -> Result<Issued, OAuthError> {
    let keys = ctx.keys();
    if params::get(form, "subject_token_type") != Some(ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request("subject_token_type must be an access token"));
    }
    if params::get(form, "requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request("only access tokens can be requested"));
    }
    let origin = ctx.origin.clone();
    let target = params::get(form, "resource").or_else(|| params::get(form, "audience"));
    if target.is_some_and(|r| Audience::from_resource(&origin, r) != Some(Audience::Api)) {
        return Err(OAuthError::invalid_target("exchanged tokens are for the REST proxy only"));
    }
    let subject =
        params::get(form, "subject_token").ok_or_else(|| OAuthError::invalid_request("subject_token is required"))?;
    let Some((TokenKind::Access, grant_id)) = grant::parse_token(subject) else {
        return Err(OAuthError::invalid_grant("the subject token is not valid"));
    };
    if !grant::intact(ctx.keys(), subject) {
        return Err(OAuthError::invalid_grant("the subject token is not valid"));
    }
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let Some(subject_grant) = grants::load(p, grant_id).await.map_err(unavailable)?.map(|v| v.grant) else {
        return Err(OAuthError::invalid_grant("the subject token is not valid"));
    };
    // An exchanged token is not a person's token: exchanging it again would make a chain that
    // outlives every revocation (grants from before `source_grant` existed carry the prefix).
    if subject_grant.source_grant.is_some() || subject_grant.client_id.starts_with("exchange:") {
        return Err(OAuthError::invalid_grant("an exchanged token cannot be exchanged again"));
    }
    let now = p.now_ms();
    let subject_scope = subject_grant
        .check_access(keys, subject, subject_grant.audience, now)
        .map_err(|_| OAuthError::invalid_grant("the subject token is not valid"))?;
    // The REST proxy reaches all of Attio: a grant the person limited to some parts of it
    // (notes only, say) must not become a token that reads everything.
    if tool_groups::granted(&subject_scope).len() < tool_groups::GROUPS.len() {
        return Err(OAuthError::invalid_scope(
            "the subject token is limited to some parts of Attio, and an exchanged token reaches all of Attio \
             through the REST proxy; the person must approve the app for every part first",
        ));
    }
    let scope = match params::get(form, "scope") {
        Some(s) => {
            let wanted = grant::parse_scope(s).map_err(OAuthError::invalid_scope)?;
            if wanted.iter().any(|w| !subject_scope.contains(w)) {
                return Err(OAuthError::invalid_scope("cannot exceed the subject token's scope"));
            }
            tool_groups::narrowed(wanted, &subject_scope)
        }
        None => subject_scope,
    };
    // Every check a refresh of the subject's grant makes: the deployer's maximum grant age (and
    // owner mode's), the Attio connection it was approved under, the person's membership.
    let policy = crate::store::policy::load(p).await.map_err(unavailable)?.capped(ctx.config.owner_grant_days());
    if policy.grant_too_old(subject_grant.created_at_ms, now) {
        return Err(OAuthError::invalid_grant(
            "the deployer's maximum grant lifetime has passed for the subject token",
        ));
    }
    if policy.blocks(&subject_grant.client_id) {
        return Err(OAuthError::invalid_grant("the deployer blocked the app of the subject token"));
    }
    match grant_standing(p, ctx, &subject_grant).await? {
        Standing::Live => {}
        Standing::ConnectionGone => {
            return Err(OAuthError::invalid_grant("the Attio connection behind the subject token was revoked"))
        }
        Standing::MemberLeft => {
            return Err(OAuthError::invalid_grant("the person is no longer an active member of the Attio workspace"))
        }
    }
    let record = CodeGrant {
        client_id: format!("exchange:{}", backend.id),
        redirect_uri: String::new(),
        code_challenge: String::new(),
        audience: Audience::Api,
        scope: scope.clone(),
        user: subject_grant.user.clone(),
        connection_epoch: subject_grant.connection_epoch,
    };
    let name = format!("Backend {}", backend.id);
    let derived = Derived { source: &subject_grant, lifetime_ms: EXCHANGED_TTL_MS };
    let (_, issued) = create_grant(p, ctx, &record, &name, false, Some(derived)).await?;
    p.log("token.exchanged", &format!("backend {}", backend.id));
    Ok(issued)
}

/// A stored connection that does not open (a `VAULT_KEYS` entry removed too early) is kept,
/// never deleted (docs/storage-schema.md), and so are the grants made under it: restoring the
/// key, or the person connecting again, brings them back. Until then refreshing answers "try
/// later", not "invalid".
fn unreadable_connection() -> OAuthError {
    OAuthError::temporarily_unavailable("the stored Attio connection cannot be opened right now")
}

/// Where a grant stands at refresh time.
enum Standing {
    Live,
    /// The Attio connection it was approved under is revoked, deleted, or replaced (epoch).
    ConnectionGone,
    /// Attio says the person is no longer an active member ([`connection::still_a_member`]).
    MemberLeft,
}

/// The grant's connection (one read, epoch checked) and its person's membership. A connection
/// that cannot be used right now is "try again", never "no".
async fn grant_standing<P: Platform>(p: &P, ctx: &Ctx<'_>, grant: &Grant) -> Result<Standing, OAuthError> {
    let vault = ctx.vault();
    // The object's copy first, as a tool call reads it: KV may lag a minute behind a connection
    // just made, and a grant refused here is revoked for good.
    let copy = crate::store::connections::copy(p, &grant.user).await.unwrap_or(ConnectionCopy::NotRead);
    match connection::usable_for_grant(p, ctx, vault, &grant.user, grant.connection_epoch, &copy).await {
        Ok(c) if connection::still_a_member(p, ctx, vault, &c).await => Ok(Standing::Live),
        Ok(_) => Ok(Standing::MemberLeft),
        Err(ConnectionError::NotConnected | ConnectionError::Revoked) => Ok(Standing::ConnectionGone),
        Err(ConnectionError::Unreadable) => Err(unreadable_connection()),
        Err(ConnectionError::Storage(_)) => {
            Err(OAuthError::temporarily_unavailable("connection storage is unavailable"))
        }
        Err(_) => Err(OAuthError::temporarily_unavailable("Attio is unavailable; retry")),
    }
}

/// Revokes `token` if it is one of `client`'s own (RFC 7009 §2.1); anything else is ignored, as
/// the answer is the same either way.
pub async fn revoke<P: Platform>(p: &P, keys: &SigningKeys, client: &RegisteredClient, token: &str) {
    if !grant::intact(keys, token) {
        return;
    }
    if let Some((_, grant_id)) = grant::parse_token(token) {
        if let Ok(Some(current)) = grants::load(p, grant_id).await {
            if current.grant.client_id == client.client_id && current.grant.owns(keys, token) {
                grants::revoke(p, grant_id).await;
                p.log("revoke.done", &format!("client {}", client.client_id));
            }
        }
    }
}
