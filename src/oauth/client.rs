//! Dynamic client registration (RFC 7591): validating what a client asks to be registered as,
//! and the record kept in KV (`client:v1:<client_id>`, 90 days).
//!
//! Registration is open (MCP clients register themselves), so everything is bounded: at most 10
//! redirect URIs of at most 2000 characters, names of at most 100 characters, a 16 KiB body.
//! Client secrets, when issued, are stored only as keyed hashes.

use serde::{Deserialize, Serialize};

use super::error::OAuthError;
use super::redirect::{self, RedirectKind};

pub const KEY_PREFIX: &str = "client:v1:";
/// How long a registration lives (refreshed by registering again).
pub const TTL_SECS: u64 = 90 * 24 * 3600;
pub const MAX_BODY: usize = 16 * 1024;
const MAX_REDIRECTS: usize = 10;
const MAX_NAME: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A public client (PKCE only): MCP desktop and browser clients.
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(AuthMethod::None),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }
}

/// The registration request (unknown members are ignored, RFC 7591 §2).
#[derive(Debug, Deserialize)]
pub struct RegistrationRequest {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
}

/// A registered client, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub auth_method: AuthMethod,
    /// `HMAC(K_token, secret)` when the client is confidential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hash: Option<String>,
    pub created_at_ms: u64,
}

impl RegisteredClient {
    pub fn kv_key(client_id: &str) -> String {
        format!("{KEY_PREFIX}{client_id}")
    }

    /// What to call the client on the consent page.
    pub fn display_name(&self) -> &str {
        self.client_name.as_deref().unwrap_or("An unnamed application")
    }

    pub fn allows_refresh(&self) -> bool {
        self.grant_types.iter().any(|g| g == "refresh_token")
    }
}

/// A validated registration, before ids and secrets are assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegistration {
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub redirect_kinds: Vec<RedirectKind>,
    pub grant_types: Vec<String>,
    pub auth_method: AuthMethod,
}

/// Checks a registration request (RFC 7591 §2; security checklist E.30).
pub fn validate(body: &[u8]) -> Result<ValidRegistration, OAuthError> {
    if body.len() > MAX_BODY {
        return Err(OAuthError::invalid_client_metadata("the registration request is too large"));
    }
    let req: RegistrationRequest = serde_json::from_slice(body)
        .map_err(|_| OAuthError::invalid_client_metadata("the body must be a JSON object of client metadata"))?;
    if req.redirect_uris.is_empty() || req.redirect_uris.len() > MAX_REDIRECTS {
        return Err(OAuthError::invalid_redirect_uri("register 1 to 10 redirect_uris"));
    }
    let mut kinds = Vec::new();
    for uri in &req.redirect_uris {
        let kind =
            redirect::validate(uri).map_err(|why| OAuthError::invalid_redirect_uri(format!("redirect_uri {why}")))?;
        kinds.push(kind);
    }
    if let Some(name) = &req.client_name {
        if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(OAuthError::invalid_client_metadata("client_name must be at most 100 printable characters"));
        }
    }
    let grant_types = req.grant_types.unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types.is_empty() || grant_types.iter().any(|g| g != "authorization_code" && g != "refresh_token") {
        return Err(OAuthError::invalid_client_metadata(
            "grant_types may only be authorization_code and refresh_token",
        ));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(OAuthError::invalid_client_metadata("grant_types must include authorization_code"));
    }
    let response_types = req.response_types.unwrap_or_else(|| vec!["code".into()]);
    if response_types != ["code"] {
        return Err(OAuthError::invalid_client_metadata("response_types must be [\"code\"]"));
    }
    let auth_method = match req.token_endpoint_auth_method.as_deref() {
        // RFC 7591 §2 defaults to client_secret_basic.
        None => AuthMethod::ClientSecretBasic,
        Some(m) => AuthMethod::parse(m).ok_or_else(|| {
            OAuthError::invalid_client_metadata(
                "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
            )
        })?,
    };
    Ok(ValidRegistration {
        client_name: req.client_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        redirect_uris: req.redirect_uris,
        redirect_kinds: kinds,
        grant_types,
        auth_method,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(v: serde_json::Value) -> Result<ValidRegistration, OAuthError> {
        validate(v.to_string().as_bytes())
    }

    #[test]
    fn a_typical_mcp_client_registers() {
        let r = reg(serde_json::json!({
            "client_name": "Claude", "redirect_uris": ["https://claude.ai/api/mcp/auth_callback"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none", "logo_uri": "https://claude.ai/logo.png"
        }))
        .unwrap();
        assert_eq!(r.auth_method, AuthMethod::None);
        assert_eq!(r.redirect_kinds, [RedirectKind::Https]);
        let confidential = reg(serde_json::json!({"redirect_uris": ["http://127.0.0.1:9/cb"]})).unwrap();
        assert_eq!(confidential.auth_method, AuthMethod::ClientSecretBasic, "RFC 7591 default");
        assert_eq!(confidential.grant_types, ["authorization_code"]);
    }

    #[test]
    fn bad_metadata_is_refused_with_the_rfc_error_codes() {
        let cases = [
            (serde_json::json!({}), "invalid_redirect_uri"),
            (serde_json::json!({"redirect_uris": ["javascript:alert(1)"]}), "invalid_redirect_uri"),
            (serde_json::json!({"redirect_uris": ["http://evil.test/cb"]}), "invalid_redirect_uri"),
            (serde_json::json!({"redirect_uris": ["https://a.test/cb#x"]}), "invalid_redirect_uri"),
            (serde_json::json!({"redirect_uris": vec!["https://a.test/cb"; 11]}), "invalid_redirect_uri"),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "grant_types": ["client_credentials"]}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "grant_types": ["refresh_token"]}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "response_types": ["token"]}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "client_name": "x".repeat(101)}),
                "invalid_client_metadata",
            ),
            (serde_json::json!([1, 2]), "invalid_client_metadata"),
        ];
        for (body, code) in cases {
            assert_eq!(reg(body.clone()).unwrap_err().code, code, "{body}");
        }
        assert_eq!(validate(&vec![b' '; MAX_BODY + 1]).unwrap_err().code, "invalid_client_metadata");
    }
}
