//! Dynamic client registration (RFC 7591): validating what a client asks to be registered as,
//! and the record kept for it ([`crate::store::clients`]).
//!
//! Registration is open (MCP clients register themselves), so everything is bounded: at most 10
//! redirect URIs of at most 2000 characters, names of at most 100 characters, a 16 KiB body.
//! Client secrets, when issued, are stored only as keyed hashes.

use serde::{Deserialize, Serialize};

use crate::oauth::clients::jwk::{ClientKey, JwsAlg};
use crate::oauth::error::OAuthError;
use crate::oauth::redirect::{self, RedirectKind};

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
    /// A JWT signed with a key the client publishes (RFC 7523 §2.2): ChatGPT's method.
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(AuthMethod::None),
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
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
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub jwks_uri: Option<String>,
    pub jwks: Option<serde_json::Value>,
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
    /// Methods the client may use besides `auth_method`: only a metadata document that lists
    /// several (`token_endpoint_auth_methods_supported`) without declaring one has any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_auth_methods: Vec<AuthMethod>,
    /// Where a `private_key_jwt` client's keys are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_keys: Option<AssertionKeys>,
    /// A registered client that has redeemed a code: kept for the long lifetime. Until then it
    /// expires soon, so registrations nobody uses do not pile up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_use: bool,
}

/// A `private_key_jwt` client's public keys (RFC 7591 §2 `jwks_uri` / `jwks`) and the
/// algorithm it declared (`token_endpoint_auth_signing_alg`), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionKeys {
    pub source: KeySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<JwsAlg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// Fetched (under the metadata-document SSRF policy) and cached briefly.
    JwksUri(String),
    /// Given in the metadata itself.
    Jwks(Vec<ClientKey>),
}

impl RegisteredClient {
    /// What to call the client on the consent page.
    pub fn display_name(&self) -> &str {
        self.client_name.as_deref().unwrap_or("An unnamed application")
    }

    /// Whether the client may authenticate with `method`.
    pub fn allows(&self, method: AuthMethod) -> bool {
        self.auth_method == method || self.other_auth_methods.contains(&method)
    }

    pub fn allows_refresh(&self) -> bool {
        self.grant_types.iter().any(|g| g == "refresh_token")
    }
}

/// The keys of a `private_key_jwt` client, from its metadata: `jwks_uri` (which must pass the
/// metadata-document SSRF policy, [`crate::oauth::public_url::check`]) or inline `jwks`, not both
/// (RFC 7591 §2), and the declared signing algorithm, which must be one this server accepts.
/// `None` when the metadata names no keys.
pub fn assertion_keys(
    jwks_uri: Option<&str>,
    jwks: Option<&serde_json::Value>,
    alg: Option<&str>,
    allow_loopback: bool,
) -> Result<Option<AssertionKeys>, &'static str> {
    let alg = match alg {
        None => None,
        Some(a) => Some(JwsAlg::parse(a).ok_or("token_endpoint_auth_signing_alg must be RS256 or ES256")?),
    };
    let source = match (jwks_uri, jwks) {
        (Some(_), Some(_)) => return Err("give jwks_uri or jwks, not both"),
        (Some(uri), None) => {
            crate::oauth::public_url::check(uri, allow_loopback)
                .map_err(|_| "jwks_uri must be a public https URL with a path")?;
            KeySource::JwksUri(uri.to_string())
        }
        (None, Some(set)) => KeySource::Jwks(crate::oauth::clients::jwk::parse_set(set)?),
        (None, None) => return Ok(None),
    };
    Ok(Some(AssertionKeys { source, alg }))
}

/// A validated registration, before ids and secrets are assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegistration {
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub redirect_kinds: Vec<RedirectKind>,
    pub grant_types: Vec<String>,
    pub auth_method: AuthMethod,
    /// For `private_key_jwt`.
    pub assertion_keys: Option<AssertionKeys>,
}

/// Checks a registration request (RFC 7591 §2; security checklist E.30). `allow_loopback`: the
/// test-only exception for a loopback `jwks_uri`.
pub fn validate(body: &[u8], allow_loopback: bool) -> Result<ValidRegistration, OAuthError> {
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
                "token_endpoint_auth_method must be none, client_secret_basic, client_secret_post or private_key_jwt",
            )
        })?,
    };
    let keys = assertion_keys(
        req.jwks_uri.as_deref(),
        req.jwks.as_ref(),
        req.token_endpoint_auth_signing_alg.as_deref(),
        allow_loopback,
    )
    .map_err(OAuthError::invalid_client_metadata)?;
    match (auth_method, &keys) {
        (AuthMethod::PrivateKeyJwt, None) => {
            return Err(OAuthError::invalid_client_metadata("private_key_jwt needs jwks_uri or jwks"))
        }
        (AuthMethod::PrivateKeyJwt, Some(_)) | (_, None) => {}
        (_, Some(_)) => {
            return Err(OAuthError::invalid_client_metadata("jwks_uri and jwks are only for private_key_jwt"))
        }
    }
    Ok(ValidRegistration {
        client_name: req.client_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        redirect_uris: req.redirect_uris,
        redirect_kinds: kinds,
        grant_types,
        auth_method,
        assertion_keys: keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(v: serde_json::Value) -> Result<ValidRegistration, OAuthError> {
        validate(v.to_string().as_bytes(), false)
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
        let signed = reg(serde_json::json!({
            "redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://a.test/jwks.json", "token_endpoint_auth_signing_alg": "RS256"
        }))
        .unwrap();
        assert_eq!(signed.auth_method, AuthMethod::PrivateKeyJwt);
        assert_eq!(
            signed.assertion_keys,
            Some(AssertionKeys {
                source: KeySource::JwksUri("https://a.test/jwks.json".into()),
                alg: Some(JwsAlg::RS256)
            })
        );
    }

    #[test]
    fn records_stored_before_private_key_jwt_still_read() {
        // `client:v1:` and cached-document records as the previous release wrote them.
        let old = r#"{"client_id":"mcp_x","client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback"],
                      "grant_types":["authorization_code","refresh_token"],"auth_method":"client_secret_basic",
                      "secret_hash":"ab","created_at_ms":1}"#;
        let c: RegisteredClient = serde_json::from_str(old).unwrap();
        assert_eq!(
            (c.auth_method, c.other_auth_methods.len(), c.assertion_keys.clone()),
            (AuthMethod::ClientSecretBasic, 0, None)
        );
        assert!(c.allows(AuthMethod::ClientSecretBasic) && !c.allows(AuthMethod::None));
        // And a record with keys round-trips.
        let signed = RegisteredClient {
            auth_method: AuthMethod::PrivateKeyJwt,
            assertion_keys: Some(AssertionKeys { source: KeySource::JwksUri("https://a.test/j".into()), alg: None }),
            ..c
        };
        let text = serde_json::to_string(&signed).unwrap();
        assert!(text.contains(r#""auth_method":"private_key_jwt""#), "{text}");
        assert_eq!(serde_json::from_str::<RegisteredClient>(&text).unwrap(), signed);
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
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt",
                                   "jwks_uri": "https://169.254.169.254/keys"}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "none",
                                   "jwks_uri": "https://a.test/jwks.json"}),
                "invalid_client_metadata",
            ),
            (
                serde_json::json!({"redirect_uris": ["https://a.test/cb"], "token_endpoint_auth_method": "private_key_jwt",
                                   "jwks_uri": "https://a.test/jwks.json", "token_endpoint_auth_signing_alg": "HS256"}),
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
        assert_eq!(validate(&vec![b' '; MAX_BODY + 1], false).unwrap_err().code, "invalid_client_metadata");
    }
}
