//! Reading each setting's value: URLs, origins, booleans, lists, timeouts, keys, client
//! lists. Each parser says what is wrong in words that never include the value.

use base64::Engine;
use url::Url;

use super::settings::{ATTIO_TIMEOUT_MS, SETUP_PAGE};
use super::{ExchangeClient, SettingsSource};
use crate::base::secret::{AttioAccessToken, ClientSecret, KeyMaterial};
use crate::crypto::envelope::VaultKeys;

/// An origin-like base URL: http(s), no credentials, query or fragment; `http` only for
/// loopback (local tests and the demo). Returned without a trailing slash in the path.
pub fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = crate::base::uri::parse(raw).ok_or_else(|| "not an absolute URL".to_string())?;
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

pub(super) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err("use true (or 1) or false (or 0)".into()),
    }
}

pub(super) fn parse_list(raw: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.is_empty() {
        return Err("list at least one workspace id or slug, or leave it unset".into());
    }
    Ok(items)
}

/// Email addresses, lower-cased (Attio matches member emails without regard to case).
pub(super) fn parse_emails(raw: &str) -> Result<Vec<String>, String> {
    let items: Vec<String> =
        raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_ascii_lowercase).collect();
    if items.is_empty() {
        return Err("list at least one email address, or leave it unset".into());
    }
    if let Some(bad) = items.iter().find(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        return Err(format!("{bad:?} is not an email address"));
    }
    Ok(items)
}

/// A Cloudflare Access team domain (`acme.cloudflareaccess.com`) as the team's origin, which
/// is also the `iss` of its tokens. A full origin is accepted too (http only for loopback).
pub(super) fn parse_team_domain(raw: &str) -> Result<String, String> {
    let full = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let url = parse_origin(&full).map_err(|_| "a team domain such as acme.cloudflareaccess.com".to_string())?;
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// An Attio API key or access token for owner mode, read untrimmed so each mistake can be named
/// (never the value itself).
pub(super) fn parse_owner_key(raw: &str) -> Result<AttioAccessToken, String> {
    if raw.trim().is_empty() {
        return Err("is empty".into());
    }
    if raw.trim() != raw {
        return Err("has spaces or line breaks around it (copy the key alone)".into());
    }
    if raw.len() < 20 {
        return Err(format!("is too short ({} characters; an Attio key is longer)", raw.len()));
    }
    if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')) {
        return Err("has characters an Attio key never has".into());
    }
    Ok(AttioAccessToken::new(raw.to_string()))
}

/// An Access application's AUD tag: letters and digits (Cloudflare's are 64 hex characters).
pub(super) fn parse_aud(raw: &str) -> Result<String, String> {
    if (8..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw.to_string())
    } else {
        Err("the Access application's AUD tag (letters and digits)".into())
    }
}

pub(super) fn parse_timeout(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(ms) if (100..=60_000).contains(&ms) => Ok(ms),
        _ => Err("a number of milliseconds from 100 to 60000".into()),
    }
}

pub(super) fn parse_owner_grant_days(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(days) if (1..=30).contains(&days) => Ok(days),
        _ => Err("a number of days from 1 to 30".into()),
    }
}

/// `https://host[:port]` (http only for loopback), nothing after the authority.
pub(super) fn parse_origin(raw: &str) -> Result<Url, String> {
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
pub(super) fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = crate::base::uri::parse(o).ok_or_else(|| format!("{o:?} is not an origin"))?;
            let canonical = url.origin().ascii_serialization();
            if canonical != o || !matches!(url.scheme(), "http" | "https") {
                return Err(format!("{o:?} must be written as an origin, e.g. http://localhost:6274"));
            }
            Ok(canonical)
        })
        .collect()
}

pub(super) fn parse_exchange_clients(raw: &str) -> Result<Vec<ExchangeClient>, String> {
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

pub(super) fn parse_client_id(raw: &str) -> Result<String, String> {
    if raw.len() > 200 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be printable ASCII without spaces".into());
    }
    Ok(raw.to_string())
}

/// 32 bytes, base64 (url-safe or standard, padding optional).
pub(super) fn parse_key(raw: &str) -> Result<[u8; 32], String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let unpadded = raw.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(unpadded)
        .or_else(|_| STANDARD_NO_PAD.decode(unpadded))
        .map_err(|_| "not base64 (generate keys with scripts/generate-secrets)".to_string())?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("the key must be 32 bytes, this one is {} bytes", b.len()))
}

/// `SIGNING_KEY`: one key, or several comma-separated, newest first (for rotation).
pub(super) fn parse_signing_keys(raw: &str) -> Result<Vec<KeyMaterial>, String> {
    let entries: Vec<&str> = raw.split(',').map(str::trim).collect();
    if entries.len() == 1 {
        return parse_key(entries[0]).map(|k| vec![KeyMaterial::new(k)]);
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| parse_key(e).map(KeyMaterial::new).map_err(|why| format!("key {}: {why}", i + 1)))
        .collect()
}

pub(super) fn parse_vault_keys(raw: &str) -> Result<VaultKeys, String> {
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
