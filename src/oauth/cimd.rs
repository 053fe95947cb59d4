//! Client ID Metadata Documents (MCP authorization 2025-11-25 §"Client ID Metadata Documents";
//! draft-ietf-oauth-client-id-metadata-document): a `client_id` that is an `https` URL names a
//! JSON document, published by the client, describing it. No registration step.
//!
//! The fetch is the risky part (SSRF, security checklist E.32), so the URL must pass
//! [`check_url`] before anything is fetched: `https` only, a path, no credentials, query or
//! fragment, and no IP literal in a private, loopback, link-local or otherwise special range
//! (nor `localhost`). The fetch itself never follows redirects, has a timeout, and reads at most
//! [`MAX_DOCUMENT`] bytes. (A name that *resolves* to a private address cannot be checked from a
//! Worker, but Workers cannot reach private networks either.) Loopback documents are allowed only
//! in test mode with `TEST_CIMD_ALLOW_LOOPBACK`, for the end-to-end tests.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

use super::client::{AuthMethod, RegisteredClient};
use super::redirect;

pub const MAX_DOCUMENT: usize = 5 * 1024;
/// How long a fetched document is trusted without fetching it again.
pub const CACHE_SECS: u64 = 3600;

/// Whether a `client_id` is a metadata-document URL rather than a registered id.
pub fn is_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

fn special_v4(ip: Ipv4Addr) -> bool {
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.octets()[0] == 0
        || ip.octets()[0] >= 224
        // 100.64.0.0/10 (carrier-grade NAT) and 198.18.0.0/15 (benchmarking).
        || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
        || (ip.octets()[0] == 198 && (ip.octets()[1] & 0xfe) == 18)
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local
        || (seg[0] & 0xffc0) == 0xfe80 // link local
        || ip.to_ipv4_mapped().is_some_and(special_v4)
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed IPv4 addresses.
        || (seg[0] == 0x64 && seg[1] == 0xff9b)
        || seg[0] == 0x2002
}

/// Checks a document URL before it is fetched. `allow_loopback` is the test-only exception.
pub fn check_url(raw: &str, allow_loopback: bool) -> Result<url::Url, &'static str> {
    let url = crate::uri::parse(raw).ok_or("client_id is not a valid URL")?;
    if url.as_str() != raw {
        return Err("client_id must be in canonical form");
    }
    let loopback_ok =
        allow_loopback && url.scheme() == "http" && matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback());
    if url.scheme() != "https" && !loopback_ok {
        return Err("client_id must be an https URL");
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err("client_id must not have credentials, a query or a fragment");
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("client_id must have a path");
    }
    if !loopback_ok {
        match url.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") => {
                return Err("client_id must not point at this machine")
            }
            Some(url::Host::Ipv4(ip)) if special_v4(ip) => return Err("client_id must not point at a private address"),
            Some(url::Host::Ipv6(ip)) if special_v6(ip) => return Err("client_id must not point at a private address"),
            Some(_) => {}
            None => return Err("client_id has no host"),
        }
    }
    Ok(url)
}

#[derive(Debug, Deserialize)]
struct Document {
    client_id: String,
    client_name: String,
    redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// Validates a fetched document for `client_id` into a client record.
pub fn parse_document(client_id: &str, body: &[u8], now_ms: u64) -> Result<RegisteredClient, &'static str> {
    if body.len() > MAX_DOCUMENT {
        return Err("the client metadata document is too large");
    }
    let doc: Document = serde_json::from_slice(body).map_err(|_| "the client metadata document is not valid")?;
    if doc.client_id != client_id {
        return Err("the document's client_id does not equal its URL");
    }
    let name = doc.client_name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("the document needs a client_name of at most 100 printable characters");
    }
    if doc.redirect_uris.is_empty() || doc.redirect_uris.len() > 10 {
        return Err("the document must list 1 to 10 redirect_uris");
    }
    if doc.redirect_uris.iter().any(|r| redirect::validate(r).is_err()) {
        return Err("the document lists a redirect_uri that is not allowed");
    }
    // Documents carry no secret, so these clients are public (PKCE only).
    if doc.token_endpoint_auth_method.as_deref().is_some_and(|m| m != "none") {
        return Err("only token_endpoint_auth_method none is supported for metadata-document clients");
    }
    let grant_types = doc.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if !grant_types.iter().all(|g| g == "authorization_code" || g == "refresh_token") {
        return Err("the document lists an unsupported grant type");
    }
    Ok(RegisteredClient {
        client_id: doc.client_id,
        client_name: Some(name.to_string()),
        redirect_uris: doc.redirect_uris,
        grant_types,
        auth_method: AuthMethod::None,
        secret_hash: None,
        created_at_ms: now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mixed_case_non_ascii_host_is_refused_without_panicking() {
        // Found by the cimd_document and redirect_uri fuzz targets: idna's stub back end asserts
        // (in debug builds) on an ASCII letter next to a non-ASCII one in a host, raw or escaped.
        for raw in [
            "ws:A\u{41f}",
            "https://A\u{41f}.example/client.json",
            "https://app.example/\u{e9}.json",
            "ws://M%e0(\n\n&",
        ] {
            assert!(check_url(raw, false).is_err(), "{raw}");
            assert!(redirect::validate(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn only_public_https_urls_with_a_path_are_fetched() {
        assert!(check_url("https://app.example.com/oauth/client.json", false).is_ok());
        for bad in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://user@app.example.com/c.json",
            "https://app.example.com/c.json?x=1",
            "https://app.example.com/c.json#f",
            "https://localhost/c.json",
            "https://x.localhost/c.json",
            "https://127.0.0.1/c.json",
            "https://10.0.0.1/c.json",
            "https://172.16.5.4/c.json",
            "https://192.168.1.1/c.json",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/c.json",
            "https://0.0.0.0/c.json",
            "https://[::1]/c.json",
            "https://[fd00::1]/c.json",
            "https://[fe80::1]/c.json",
            "https://[::ffff:127.0.0.1]/c.json",
            "https://[64:ff9b::a00:1]/c.json",
            "https://[2002:a00:1::]/c.json",
            "https://APP.example.com/c.json",
            "https://app.example.com/a/../c.json",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad} would be fetched");
        }
        // Loopback only with the test setting, and then only http://127.x.
        assert!(check_url("http://127.0.0.1:9/c.json", false).is_err());
        assert!(check_url("http://127.0.0.1:9/c.json", true).is_ok());
        assert!(check_url("http://10.0.0.1:9/c.json", true).is_err());
    }

    #[test]
    fn documents_must_name_themselves_and_be_well_formed() {
        let id = "https://app.example.com/client.json";
        let good =
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://app.example.com/cb"]});
        let c = parse_document(id, good.to_string().as_bytes(), 1).unwrap();
        assert_eq!(c.auth_method, AuthMethod::None);
        assert_eq!(c.display_name(), "App");
        let cases = [
            serde_json::json!({"client_id": "https://evil.test/client.json", "client_name": "App", "redirect_uris": ["https://app.example.com/cb"]}),
            serde_json::json!({"client_id": id, "redirect_uris": ["https://app.example.com/cb"]}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": []}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["javascript:alert(1)"]}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
        ];
        for doc in cases {
            assert!(parse_document(id, doc.to_string().as_bytes(), 1).is_err(), "{doc}");
        }
        assert!(parse_document(id, &vec![b' '; MAX_DOCUMENT + 1], 1).is_err());
        assert!(parse_document(id, b"<html>", 1).is_err());
    }
}
