//! Attio's error envelope `{"status_code","type","code","message"}` (OpenAPI spec, every
//! documented non-2xx), and the RFC 6749 shape the OAuth endpoints use.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A REST API error as Attio sends it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: String) -> Self {
        Self { status, kind, code, message }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "invalid_request_error", "not_found", message.into())
    }

    pub fn validation(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "validation_type", message)
    }

    pub fn value_not_found(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "value_not_found", message)
    }

    pub fn filter(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "filter_error", message)
    }

    pub fn missing_value(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "missing_value", message)
    }

    pub fn uniqueness(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "uniqueness_conflict", message)
    }

    pub fn multiple_match(message: String) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", "multiple_match_results", message)
    }

    /// Missing or unusable token. Attio's exact 401 body is undocumented; this is the assumed
    /// shape (`shared/reference/attio-api.md` §7.2).
    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "auth_error", "unauthorized", message.into())
    }

    /// A token without a scope the endpoint requires (body assumed, as for 401).
    pub fn missing_scopes(required: &[&str]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "auth_error",
            "missing_scopes",
            format!("This action requires the scopes: {}.", required.join(", ")),
        )
    }

    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate_limit_exceeded",
            "Rate limit exceeded, please try again later".into(),
        )
    }

    pub fn server_error(status: StatusCode) -> Self {
        Self::new(status, "api_error", "internal_server_error", "An unexpected error occurred.".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "status_code": self.status.as_u16(),
            "type": self.kind,
            "code": self.code,
            "message": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// An RFC 6749 §5.2 error from `/oauth/token` (Attio's shape is undocumented; RFC-style assumed).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    pub fn invalid_request(description: &'static str) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error: "invalid_request", description }
    }

    pub fn invalid_grant(description: &'static str) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error: "invalid_grant", description }
    }

    pub fn invalid_client() -> Self {
        Self { status: StatusCode::UNAUTHORIZED, error: "invalid_client", description: "Client authentication failed." }
    }

    pub fn unsupported_grant_type() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "This grant type is not supported.",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}
