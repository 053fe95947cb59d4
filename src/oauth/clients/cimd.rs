//! Client ID Metadata Documents (MCP authorization 2025-11-25 §"Client ID Metadata Documents";
//! draft-ietf-oauth-client-id-metadata-document): a `client_id` that is an `https` URL names a
//! JSON document, published by the client, describing it. No registration step.
//!
//! The fetch is the risky part (SSRF, security checklist E.32), so the URL must pass
//! [`crate::oauth::public_url::check`] before anything is fetched: `https` only, a path, no credentials, query or
//! fragment, and no IP literal in a private, loopback, link-local or otherwise special range
//! (nor `localhost`). The fetch itself ([`crate::auth::clients`]) never follows redirects and reads
//! at most [`MAX_DOCUMENT`] bytes within one deadline for head and body.
//!
//! A document carries no secret, so its client authenticates with `none` (PKCE only) or with
//! `private_key_jwt` (RFC 7523, keys from its `jwks_uri` or `jwks`: ChatGPT). The singular
//! `token_endpoint_auth_method` is binding; a `token_endpoint_auth_methods_supported` list is
//! used only when the singular field is absent. Grant types this server does not offer are
//! ignored, since the document is written once for every server. (A name that *resolves* to a private address cannot be checked from a
//! Worker, but Workers cannot reach private networks either.) Loopback documents are allowed only
//! in test mode with `TEST_CIMD_ALLOW_LOOPBACK`, for the end-to-end tests.

use serde::Deserialize;

use crate::oauth::clients::client::{self, AuthMethod, RegisteredClient};
#[cfg(test)]
use crate::oauth::public_url;
use crate::oauth::redirect;

pub const MAX_DOCUMENT: usize = 5 * 1024;
/// How long a fetched document is trusted without fetching it again.
pub const CACHE_SECS: u64 = 3600;

/// Whether a `client_id` is a metadata-document URL rather than a registered id.
pub fn is_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
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
    /// Not in the draft, but published (ChatGPT): the methods the client can use.
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_signing_alg: Option<String>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    jwks: Option<serde_json::Value>,
}

/// The methods a document allows, first the one it uses. The singular
/// `token_endpoint_auth_method` is binding when present (no downgrade to a method merely listed);
/// only without it may the client use any listed method this server supports. Shared-secret
/// methods are refused: a public document cannot carry a secret.
fn auth_methods(doc: &Document, has_keys: bool) -> Result<Vec<AuthMethod>, &'static str> {
    let allowed = |m: AuthMethod| m == AuthMethod::None || m == AuthMethod::PrivateKeyJwt;
    if let Some(method) = &doc.token_endpoint_auth_method {
        let method = AuthMethod::parse(method)
            .filter(|m| allowed(*m))
            .ok_or("metadata-document clients authenticate with token_endpoint_auth_method none or private_key_jwt")?;
        if method == AuthMethod::PrivateKeyJwt && !has_keys {
            return Err("a private_key_jwt document needs jwks_uri or jwks");
        }
        return Ok(vec![method]);
    }
    let Some(listed) = &doc.token_endpoint_auth_methods_supported else {
        return Ok(vec![AuthMethod::None]);
    };
    let mut methods: Vec<AuthMethod> = Vec::new();
    for m in listed.iter().filter_map(|m| AuthMethod::parse(m)) {
        if allowed(m) && (m != AuthMethod::PrivateKeyJwt || has_keys) && !methods.contains(&m) {
            methods.push(m);
        }
    }
    if methods.is_empty() {
        return Err("the document lists no token endpoint auth method this server supports (none, private_key_jwt)");
    }
    Ok(methods)
}

/// Validates a fetched document for `client_id` into a client record. `allow_loopback` is the
/// test-only exception for a `jwks_uri` on loopback, as for the document itself.
pub fn parse_document(
    client_id: &str,
    body: &[u8],
    now_ms: u64,
    allow_loopback: bool,
) -> Result<RegisteredClient, &'static str> {
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
    let keys = client::assertion_keys(
        doc.jwks_uri.as_deref(),
        doc.jwks.as_ref(),
        doc.token_endpoint_auth_signing_alg.as_deref(),
        allow_loopback,
    )?;
    let methods = auth_methods(&doc, keys.is_some())?;
    let uses_keys = methods.contains(&AuthMethod::PrivateKeyJwt);
    // A document is published once for every server, so it may list grants this one does not
    // offer (VS Code lists the device grant, Claude the JWT bearer grant): those are ignored.
    let mut grant_types = doc.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    grant_types.retain(|g| g == "authorization_code" || g == "refresh_token");
    grant_types.sort();
    grant_types.dedup();
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err("the document must list the authorization_code grant");
    }
    Ok(RegisteredClient {
        client_id: doc.client_id,
        client_name: Some(name.to_string()),
        redirect_uris: doc.redirect_uris,
        grant_types,
        auth_method: methods[0],
        other_auth_methods: methods[1..].to_vec(),
        assertion_keys: if uses_keys { keys } else { None },
        secret_hash: None,
        created_at_ms: now_ms,
        in_use: false,
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
            assert!(public_url::check(raw, false).is_err(), "{raw}");
            assert!(redirect::validate(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn documents_must_name_themselves_and_be_well_formed() {
        let id = "https://app.example.com/client.json";
        let good =
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://app.example.com/cb"]});
        let c = parse_document(id, good.to_string().as_bytes(), 1, false).unwrap();
        assert_eq!(c.auth_method, AuthMethod::None);
        assert_eq!(c.display_name(), "App");
        let cases = [
            serde_json::json!({"client_id": "https://evil.test/client.json", "client_name": "App", "redirect_uris": ["https://app.example.com/cb"]}),
            serde_json::json!({"client_id": id, "redirect_uris": ["https://app.example.com/cb"]}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": []}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["javascript:alert(1)"]}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "client_secret_basic"}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_methods_supported": ["client_secret_post"]}),
            serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://10.0.0.1/jwks.json"}),
        ];
        for doc in cases {
            assert!(parse_document(id, doc.to_string().as_bytes(), 1, false).is_err(), "{doc}");
        }
        assert!(parse_document(id, &vec![b' '; MAX_DOCUMENT + 1], 1, false).is_err());
        assert!(parse_document(id, b"<html>", 1, false).is_err());
    }

    fn chatgpt(extra: serde_json::Value) -> Result<RegisteredClient, &'static str> {
        let id = "https://chatgpt.com/oauth/abc/client.json";
        let mut doc = serde_json::json!({
            "client_id": id, "client_uri": "https://chatgpt.com/", "client_name": "ChatGPT",
            "redirect_uris": ["https://chatgpt.com/connector/oauth/abc"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_signing_alg": "RS256", "jwks_uri": "https://chatgpt.com/oauth/jwks.json"
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        parse_document(id, doc.to_string().as_bytes(), 1, false)
    }

    #[test]
    fn grants_this_server_does_not_offer_are_ignored() {
        let id = "https://vscode.dev/oauth/client-metadata.json";
        let doc = serde_json::json!({"client_id": id, "client_name": "Visual Studio Code",
            "redirect_uris": ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"],
            "grant_types": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]});
        let c = parse_document(id, doc.to_string().as_bytes(), 1, false).unwrap();
        assert_eq!(c.grant_types, ["authorization_code", "refresh_token"]);
        let no_code = serde_json::json!({"client_id": id, "client_name": "x", "redirect_uris": ["https://a.test/cb"],
            "grant_types": ["client_credentials"]});
        assert!(parse_document(id, no_code.to_string().as_bytes(), 1, false).is_err());
    }

    #[test]
    fn a_private_key_jwt_document_is_a_client_that_must_sign() {
        use crate::oauth::clients::client::{AssertionKeys, KeySource};
        use crate::oauth::clients::jwk::JwsAlg;
        let c = chatgpt(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt"})).unwrap();
        assert_eq!((c.auth_method, c.other_auth_methods.as_slice()), (AuthMethod::PrivateKeyJwt, &[][..]));
        assert!(!c.allows(AuthMethod::None));
        assert_eq!(
            c.assertion_keys,
            Some(AssertionKeys {
                source: KeySource::JwksUri("https://chatgpt.com/oauth/jwks.json".into()),
                alg: Some(JwsAlg::RS256)
            })
        );
        // No downgrade: the singular method binds even when the list also names none.
        let both = serde_json::json!({"token_endpoint_auth_method": "private_key_jwt",
                                      "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"]});
        assert!(!chatgpt(both).unwrap().allows(AuthMethod::None));
        // Without the singular field, any listed method this server supports.
        let listed =
            chatgpt(serde_json::json!({"token_endpoint_auth_methods_supported": ["none", "private_key_jwt"]})).unwrap();
        assert!(listed.allows(AuthMethod::None) && listed.allows(AuthMethod::PrivateKeyJwt));
        // Refused: an algorithm we do not accept; keys both inline and by URL.
        assert!(chatgpt(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt",
                                           "token_endpoint_auth_signing_alg": "HS256"}))
        .is_err());
        assert!(chatgpt(serde_json::json!({"token_endpoint_auth_method": "private_key_jwt",
                                           "jwks": {"keys": []}}))
        .is_err());
        // A public client's document stays as it was.
        let public = chatgpt(serde_json::json!({"token_endpoint_auth_method": "none"})).unwrap();
        assert_eq!((public.auth_method, public.assertion_keys), (AuthMethod::None, None));
    }
}
