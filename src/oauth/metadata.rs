//! Discovery documents, built from the gateway's public origin:
//!
//! - RFC 8414 authorization-server metadata, whose `issuer` is exactly the origin clients use
//!   (no trailing slash: RFC 8414 §3.3 requires it to match the well-known URL's issuer);
//! - RFC 9728 protected-resource metadata for each audience: the MCP endpoint (`/mcp`) and the
//!   REST proxy (`/v2`). Every URL in them is absolute, on our own origin.

use serde_json::{json, Value};

use super::clients::jwk::JwsAlg;

/// Read-only access to the person's Attio data.
pub const SCOPE_READ: &str = "attio:read";
/// Read and write access.
pub const SCOPE_WRITE: &str = "attio:write";
/// The OpenID Connect scope for refresh tokens (OIDC Core §11): every client allowed the
/// refresh grant gets one anyway, so it is listed, accepted and never granted ([`super::grants::grant::parse_scope`]).
pub const OFFLINE_ACCESS: &str = "offline_access";
/// Every scope a client may ask for: read, write, and the tool groups ([`super::grants::tool_groups`]).
pub const SCOPES: &[&str] = &[
    SCOPE_READ,
    SCOPE_WRITE,
    "attio:records",
    "attio:lists",
    "attio:notes",
    "attio:tasks",
    "attio:meetings",
    "attio:comments",
];

/// What one of our access tokens may be used for (RFC 8707 resource indicators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// The MCP endpoint, `{origin}/mcp`.
    Mcp,
    /// The REST proxy, `{origin}/v2`.
    Api,
}

impl Audience {
    pub fn path(self) -> &'static str {
        match self {
            Audience::Mcp => "/mcp",
            Audience::Api => "/v2",
        }
    }

    /// The resource identifier: `{origin}{path}`.
    pub fn resource(self, origin: &str) -> String {
        format!("{origin}{}", self.path())
    }

    /// Where this resource's RFC 9728 metadata lives.
    pub fn metadata_url(self, origin: &str) -> String {
        format!("{origin}/.well-known/oauth-protected-resource{}", self.path())
    }

    /// Which of our audiences a `resource` parameter names (exact match, RFC 8707 §2).
    pub fn from_resource(origin: &str, resource: &str) -> Option<Audience> {
        [Audience::Mcp, Audience::Api].into_iter().find(|a| a.resource(origin) == resource)
    }
}

/// How clients may authenticate at the token and revocation endpoints.
const AUTH_METHODS: [&str; 4] = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"];

/// RFC 8693 token exchange.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// `token_exchange`: whether any backend may use it (then it is advertised).
pub fn authorization_server(origin: &str, token_exchange: bool) -> Value {
    let mut grants = vec!["authorization_code", "refresh_token"];
    if token_exchange {
        grants.push(TOKEN_EXCHANGE);
    }
    json!({
        "issuer": origin,
        "authorization_endpoint": format!("{origin}/authorize"),
        "token_endpoint": format!("{origin}/token"),
        "registration_endpoint": format!("{origin}/register"),
        "revocation_endpoint": format!("{origin}/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": JwsAlg::names(),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": JwsAlg::names(),
        "code_challenge_methods_supported": ["S256"],
        // `offline_access` too: accepted and dropped (every client allowed the refresh grant
        // gets a refresh token), and some clients keep refreshing only when it is listed.
        "scopes_supported": SCOPES.iter().copied().chain([OFFLINE_ACCESS]).collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
    })
}

pub fn protected_resource(origin: &str, audience: Audience) -> Value {
    let name = match audience {
        Audience::Mcp => "Attio (MCP)",
        Audience::Api => "Attio REST API (proxy)",
    };
    json!({
        "resource": audience.resource(origin),
        "authorization_servers": [origin],
        // What a client asks for when it asks for everything (mcp-remote requests exactly this
        // list): read and write. The tool-group scopes, listed by the authorization server,
        // only narrow a grant, and the consent page offers them anyway.
        "scopes_supported": [SCOPE_READ, SCOPE_WRITE, OFFLINE_ACCESS],
        "bearer_methods_supported": ["header"],
        "resource_name": name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_and_endpoints_are_absolute_on_our_origin() {
        let m = authorization_server("https://gw.example.com", false);
        assert_eq!(m["issuer"], "https://gw.example.com");
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        for key in ["authorization_endpoint", "token_endpoint", "registration_endpoint", "revocation_endpoint"] {
            assert!(m[key].as_str().unwrap().starts_with("https://gw.example.com/"), "{key}");
        }
    }

    #[test]
    fn resources_round_trip() {
        let o = "https://gw.example.com";
        let prm = protected_resource(o, Audience::Mcp);
        assert_eq!(prm["resource"], "https://gw.example.com/mcp");
        assert_eq!(prm["authorization_servers"], json!([o]));
        assert_eq!(Audience::from_resource(o, "https://gw.example.com/mcp"), Some(Audience::Mcp));
        assert_eq!(Audience::from_resource(o, "https://gw.example.com/v2"), Some(Audience::Api));
        for other in [
            "https://gw.example.com/mcp/",
            "https://gw.example.com",
            "https://evil.test/mcp",
            "https://gw.example.com/mcp#x",
        ] {
            assert_eq!(Audience::from_resource(o, other), None, "{other}");
        }
        assert_eq!(Audience::Mcp.metadata_url(o), "https://gw.example.com/.well-known/oauth-protected-resource/mcp");
    }
}
