//! OAuth error responses (RFC 6749 §5.2, RFC 7591 §3.2.2): a JSON body with `error` and
//! `error_description`, `Cache-Control: no-store`, and the right status.

use http::StatusCode;
use serde_json::json;

use crate::base::http::{json, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self { status, code, description: description.into() }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }

    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }

    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }

    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }

    pub fn invalid_target(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_target", d)
    }

    pub fn invalid_redirect_uri(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_redirect_uri", d)
    }

    pub fn invalid_client_metadata(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_client_metadata", d)
    }

    pub fn temporarily_unavailable(d: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", d)
    }

    /// 429: too many requests of this kind; `Retry-After` says when to come back.
    pub fn rate_limited(d: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", d)
    }

    /// Whether the request failed on its credentials (client authentication or the grant):
    /// what the failure limit at the token endpoint counts.
    pub fn is_credential_failure(&self) -> bool {
        matches!(self.code, "invalid_client" | "invalid_grant")
    }

    pub fn into_response(self) -> Response {
        let mut resp = json(self.status, &json!({"error": self.code, "error_description": self.description}));
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a 401 names the authentication scheme the client should use.
            crate::base::http::set_header(&mut resp, http::header::WWW_AUTHENTICATE, "Basic realm=\"attio-gateway\"");
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            crate::base::http::set_header(&mut resp, http::header::RETRY_AFTER, "1");
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            let retry = crate::auth::rate_limit::RETRY_AFTER_SECS.to_string();
            crate::base::http::set_header(&mut resp, http::header::RETRY_AFTER, &retry);
        }
        resp
    }
}
