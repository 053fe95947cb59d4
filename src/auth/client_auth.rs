//! Who is calling the token and revocation endpoints (RFC 6749 §2.3): a public client (its id
//! only), a client secret (HTTP Basic, RFC 6749 §2.3.1, or in the form), or a signed JWT
//! assertion (`private_key_jwt`, RFC 7523 §2.2 and §3, RFC 7521 §4.2).
//!
//! The method a client presents must be one its record allows ([`RegisteredClient::allows`]):
//! a metadata document that declares `private_key_jwt` cannot fall back to `none`. Callers
//! authenticate the client before looking up any code or refresh token, so a refused
//! assertion spends nothing. An assertion is checked in this order: its form (algorithm from
//! the server's list), the client it names, its claims, a key of the client's set (refetched
//! once when its `kid` is unknown), the signature, and last its `jti`, which is spent in a
//! `Transitions` object until the assertion expires, so it is used at most once.

use base64::Engine;
use http::header::AUTHORIZATION;

use crate::auth::clients::{self, KeysError};
use crate::base::http::Request;
use crate::base::secret::constant_time_eq;
use crate::config::{Config, ExchangeClient};
use crate::oauth::clients::assertion::{self, Assertion, Expected, ASSERTION_TYPE};
use crate::oauth::clients::client::{AuthMethod, RegisteredClient};
use crate::oauth::clients::sealed_client;
use crate::oauth::params;
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::clients as store_clients;
use crate::store::one_time;

/// How much longer than its acceptance window a spent `jti` is remembered.
const JTI_MARGIN_SECS: u64 = 300;

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| -> Option<String> {
        let plus_as_space = s.replace('+', " ");
        url::form_urlencoded::parse(format!("x={plus_as_space}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?)).filter(|(i, s)| !i.is_empty() && !s.is_empty())
}

/// A backend named in `TOKEN_EXCHANGE_CLIENTS`, by its id and secret (HTTP Basic or the form),
/// for RFC 8693 token exchange. The secret is compared in constant time.
pub fn authenticate_backend<'c>(
    config: &'c Config,
    req: &Request,
    form: &[(String, String)],
) -> Result<&'c ExchangeClient, OAuthError> {
    if config.exchange_clients.is_empty() {
        return Err(OAuthError::unsupported_grant_type("token exchange is not enabled on this gateway"));
    }
    let (id, secret) = match req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) => parse_basic(v).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?,
        None => (
            params::get(form, "client_id").unwrap_or_default().to_string(),
            params::get(form, "client_secret").unwrap_or_default().to_string(),
        ),
    };
    config
        .exchange_clients
        .iter()
        .find(|c| c.id == id && constant_time_eq(c.secret.expose_secret().as_bytes(), secret.as_bytes()))
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}

/// What the request presents.
enum Presented<'a> {
    Secret { client_id: &'a str, secret: &'a str, method: AuthMethod },
    Assertion { client_id: String, assertion: Assertion },
    Public { client_id: &'a str },
}

fn presented<'a>(
    basic: &'a Option<(String, String)>,
    form: &'a [(String, String)],
) -> Result<Presented<'a>, OAuthError> {
    let form_id = params::get(form, "client_id");
    let assertion_type = params::get(form, "client_assertion_type");
    let jwt = params::get(form, "client_assertion");
    if assertion_type.is_some() || jwt.is_some() {
        if basic.is_some() || params::get(form, "client_secret").is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method"));
        }
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_client(format!("client_assertion_type must be {ASSERTION_TYPE}")));
        }
        let jwt = jwt.ok_or_else(|| OAuthError::invalid_request("client_assertion is required"))?;
        let assertion = assertion::parse(jwt).map_err(|e| OAuthError::invalid_client(e.0))?;
        let client_id = assertion::claimed_client(&assertion)
            .ok_or_else(|| OAuthError::invalid_client("the client assertion must have a sub naming the client"))?
            .to_string();
        // RFC 7523 §3: a client_id sent alongside must name the same client.
        if form_id.is_some_and(|f| f != client_id) {
            return Err(OAuthError::invalid_client("client_id does not match the client assertion"));
        }
        return Ok(Presented::Assertion { client_id, assertion });
    }
    Ok(match (basic, params::get(form, "client_secret")) {
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request("use one client authentication method")),
        (Some((id, secret)), None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_client("client_id does not match the credentials"));
            }
            Presented::Secret { client_id: id, secret, method: AuthMethod::ClientSecretBasic }
        }
        (None, Some(secret)) => {
            Presented::Secret { client_id: form_id.unwrap_or(""), secret, method: AuthMethod::ClientSecretPost }
        }
        (None, None) => Presented::Public { client_id: form_id.unwrap_or("") },
    })
}

/// The client a request claims to be, before anything is verified: for counting failures
/// per client ([`crate::auth::rate_limit`]), never for deciding anything.
pub fn claimed_client_id(req: &Request, form: &[(String, String)]) -> Option<String> {
    let basic = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(parse_basic);
    match presented(&basic, form).ok()? {
        Presented::Secret { client_id, .. } | Presented::Public { client_id } => Some(client_id.to_string()),
        Presented::Assertion { client_id, .. } => Some(client_id),
    }
    .filter(|id| !id.is_empty())
}

/// The authenticated client of a request to `endpoint` (`{origin}/token` or `{origin}/revoke`).
pub async fn authenticate<P: Platform>(
    p: &P,
    config: &Config,
    origin: &str,
    endpoint: &str,
    req: &Request,
    form: &[(String, String)],
) -> Result<RegisteredClient, OAuthError> {
    let basic = match req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) => Some(parse_basic(v).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?),
        None => None,
    };
    let presented = presented(&basic, form)?;
    let (client_id, method) = match &presented {
        Presented::Secret { client_id, method, .. } => (*client_id, *method),
        Presented::Assertion { client_id, .. } => (client_id.as_str(), AuthMethod::PrivateKeyJwt),
        Presented::Public { client_id } => (*client_id, AuthMethod::None),
    };
    let client = clients::load(p, config, client_id)
        .await
        .map_err(|_| OAuthError::temporarily_unavailable("client storage is unavailable"))?
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    if !client.allows(method) {
        return Err(OAuthError::invalid_client(format!(
            "this client must authenticate with {}",
            client.auth_method.as_str()
        )));
    }
    match presented {
        // A sealed client's secret is derived from its id (its kept copy holds a hash instead).
        Presented::Secret { secret, .. }
            if sealed_client::is_sealed(&client.client_id) && client.secret_hash.is_none() =>
        {
            if !sealed_client::secret_matches(config.keys(), &client.client_id, secret) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            keep_past_rotation(p, config, &client, Some(secret)).await;
        }
        Presented::Secret { secret, .. } => {
            let hash = client.secret_hash.as_deref().unwrap_or_default();
            // A missing hash (a public client) matches nothing: hashes are never empty.
            if hash.is_empty() || !config.keys().hash_matches(secret, hash) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            // Matched under an older SIGNING_KEY: re-hash under the newest, once, so the client
            // keeps working after the old key is retired.
            let newest = config.keys().token_hash(secret);
            if !constant_time_eq(newest.as_bytes(), hash.as_bytes()) {
                let rehashed = RegisteredClient { secret_hash: Some(newest), ..client.clone() };
                let kept = if sealed_client::is_sealed(&rehashed.client_id) {
                    store_clients::keep_sealed_copy(p, &rehashed).await
                } else {
                    store_clients::replace(p, &rehashed).await
                };
                if let Err(e) = kept {
                    p.log("client.rehash_failed", &e.0);
                }
            }
        }
        Presented::Assertion { assertion, .. } => {
            // Only absolute URLs: without a known origin nothing is an acceptable audience.
            let audiences: Vec<String> = [origin.to_string(), format!("{origin}/token"), endpoint.to_string()]
                .into_iter()
                .filter(|a| a.starts_with("https://") || a.starts_with("http://"))
                .collect();
            verify_assertion(p, config, &client, &assertion, &audiences).await?;
        }
        Presented::Public { .. } => {}
    }
    if !matches!(method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost) {
        keep_past_rotation(p, config, &client, None).await;
    }
    Ok(client)
}

/// A sealed client whose id was made under an older `SIGNING_KEY` (one being retired) gets a
/// copy in KV the first time it authenticates, so it keeps working once that key is removed.
/// Best effort: a client idle for the whole rotation registers again.
async fn keep_past_rotation<P: Platform>(p: &P, config: &Config, client: &RegisteredClient, secret: Option<&str>) {
    let keys = config.keys();
    let id = &client.client_id;
    if !sealed_client::is_sealed(id) || !keys.token_intact(id) || keys.token_intact_under_newest(id) {
        return;
    }
    if matches!(store_clients::load_sealed_copy(p, id).await, Ok(Some(_))) {
        return;
    }
    let copy = RegisteredClient { secret_hash: secret.map(|s| keys.token_hash(s)), ..client.clone() };
    if let Err(e) = store_clients::keep_sealed_copy(p, &copy).await {
        p.log("client.keep_copy_failed", &e.0);
    }
}

async fn verify_assertion<P: Platform>(
    p: &P,
    config: &Config,
    client: &RegisteredClient,
    assertion: &Assertion,
    audiences: &[String],
) -> Result<(), OAuthError> {
    let refused = |why: &str| {
        p.log("client_auth.assertion_refused", why);
        OAuthError::invalid_client(why.to_string())
    };
    let expected = Expected {
        client_id: &client.client_id,
        audiences,
        alg: client.assertion_keys.as_ref().and_then(|k| k.alg),
        now_secs: p.now_ms() / 1000,
    };
    let checked = assertion::check(assertion, &expected).map_err(|e| refused(e.0))?;
    let keys_error = |e: KeysError| match e {
        KeysError::Unusable => refused("the client's key set could not be fetched or has no usable key"),
        KeysError::Throttled => {
            refused("the client's key set was fetched less than a minute ago and could not be used")
        }
    };
    let mut keys = clients::keys(p, config, client, false).await.map_err(keys_error)?;
    if assertion::candidate_keys(assertion, &keys).is_empty() {
        // Perhaps the client rotated its keys since we cached them: look once more.
        keys = clients::keys(p, config, client, true).await.map_err(keys_error)?;
    }
    let candidates = assertion::candidate_keys(assertion, &keys);
    if candidates.is_empty() {
        return Err(refused(
            "no key of the client's key set matches the assertion (its set is fetched at most once a minute)",
        ));
    }
    let mut valid = false;
    for key in candidates {
        if p.verify_signature(&key.key, &assertion.signing_input, &assertion.signature).await {
            valid = true;
            break;
        }
    }
    if !valid {
        return Err(refused("the client assertion's signature does not verify with the client's keys"));
    }
    // Kept well past the last moment the assertion could still be accepted (by any clock the
    // checks ran on), so the entry can never be already expired when it is written.
    let expires_at_ms = (checked.exp_secs.max(p.now_ms() / 1000) + assertion::SKEW_SECS + JTI_MARGIN_SECS) * 1000;
    match one_time::spend_jti(p, config.keys(), &client.client_id, &checked.jti, expires_at_ms).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused("the client assertion was already used (jti)")),
        Err(_) => Err(OAuthError::temporarily_unavailable("assertion storage is unavailable")),
    }
}

#[cfg(test)]
#[path = "client_auth_tests.rs"]
mod tests;
