//! The application error, and the one place errors become HTTP responses.
//!
//! Every variant maps to a status and a JSON body in the OAuth error shape
//! (`{"error","error_description"}`, RFC 6749 §5.2). Descriptions name what is wrong but never
//! carry a secret, an upstream body or a stack trace (security checklist H.46).

use http::header::{ALLOW, RETRY_AFTER};
use http::StatusCode;
use serde_json::json;

use crate::attio::AttioError;
use crate::base::http::{json, set_header, Response, TransportError};
use crate::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no route matches this request")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    #[error(transparent)]
    Misconfigured(#[from] ConfigError),
    /// A dependency (storage, randomness) failed; nothing was changed. The answer names the
    /// dependency only; the cause goes to the log line ([`crate::app::handle`]).
    #[error("{what} is temporarily unavailable{}", cause.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Unavailable { what: &'static str, cause: Option<String> },
    #[error(transparent)]
    Upstream(#[from] AttioError),
}

impl AppError {
    /// `what` is unavailable, for no reason worth logging beyond that.
    pub fn unavailable(what: &'static str) -> Self {
        AppError::Unavailable { what, cause: None }
    }

    /// `what` is unavailable because of `cause` (kept for the log, never sent to the caller).
    pub fn unavailable_because(what: &'static str, cause: impl std::fmt::Display) -> Self {
        AppError::Unavailable { what, cause: Some(cause.to_string()) }
    }

    /// A stable name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::MethodNotAllowed { .. } => "method_not_allowed",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::Misconfigured(_) => "misconfigured",
            AppError::Unavailable { .. } => "unavailable",
            AppError::Upstream(_) => "upstream",
        }
    }

    /// The status [`AppError::into_response`] answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Misconfigured(_) | AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(e) => upstream_status(e),
        }
    }

    /// Whether an operator wants to see it: not the 404s and 405s of every scanner.
    pub fn worth_logging(&self) -> bool {
        !matches!(self, AppError::NotFound | AppError::MethodNotAllowed { .. })
    }

    pub fn into_response(self) -> Response {
        match self {
            AppError::NotFound => error(StatusCode::NOT_FOUND, "not_found", "No route matches this request."),
            AppError::MethodNotAllowed { allow } => {
                let mut resp = error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    &format!("This route accepts: {allow}."),
                );
                set_header(&mut resp, ALLOW, allow);
                resp
            }
            AppError::BadRequest(what) => error(StatusCode::BAD_REQUEST, "invalid_request", what),
            AppError::PayloadTooLarge { limit } => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &format!("The request body exceeds {limit} bytes."),
            ),
            AppError::Misconfigured(e) => json(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({
                    "error": "server_misconfigured",
                    "error_description": format!("The gateway is not configured: {}. See GET /health.", e.problems.join("; ")),
                    "problems": e.problems,
                }),
            ),
            AppError::Unavailable { what, .. } => {
                let mut resp = error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    &format!("{what} is temporarily unavailable; try again."),
                );
                set_header(&mut resp, RETRY_AFTER, "1");
                resp
            }
            AppError::Upstream(e) => upstream(e),
        }
    }
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    json(status, &json!({"error": code, "error_description": description}))
}

fn upstream_status(e: &AttioError) -> StatusCode {
    match e {
        AttioError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AttioError::Transport(TransportError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    }
}

fn upstream(e: AttioError) -> Response {
    match e {
        AttioError::RateLimited { retry_after } => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "upstream_rate_limited",
                "Attio's rate limit was reached; retry after the time in Retry-After.",
            );
            if let Some(v) = retry_after {
                set_header(&mut resp, RETRY_AFTER, &v);
            }
            resp
        }
        AttioError::Transport(TransportError::Timeout(_)) => {
            error(StatusCode::GATEWAY_TIMEOUT, "upstream_timeout", "Attio did not answer in time.")
        }
        AttioError::Transport(_) => {
            error(StatusCode::BAD_GATEWAY, "upstream_unavailable", "Attio could not be reached.")
        }
        AttioError::Unauthorized => {
            error(StatusCode::BAD_GATEWAY, "upstream_unauthorized", "Attio rejected the access token.")
        }
        AttioError::Status { status, body } => {
            let detail = body.message.unwrap_or_else(|| "no message".into());
            error(StatusCode::BAD_GATEWAY, "upstream_error", &format!("Attio answered {status}: {detail}"))
        }
        AttioError::Decode(_) => {
            error(StatusCode::BAD_GATEWAY, "upstream_error", "Attio's response could not be read.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_kept_for_the_log_and_never_answered() {
        let e = AppError::unavailable_because("storage", "kv: put failed at colo XYZ");
        assert!(e.to_string().contains("kv: put failed at colo XYZ"), "{e}");
        let resp = e.into_response();
        let body = String::from_utf8_lossy(resp.body()).into_owned();
        assert!(body.contains("storage is temporarily unavailable") && !body.contains("colo XYZ"), "{body}");
    }

    #[test]
    fn the_logged_status_is_the_answered_status() {
        let errors = [
            AppError::NotFound,
            AppError::MethodNotAllowed { allow: "GET" },
            AppError::BadRequest("x"),
            AppError::PayloadTooLarge { limit: 1 },
            AppError::unavailable_because("storage", "kv: timed out"),
            AppError::Upstream(AttioError::RateLimited { retry_after: None }),
            AppError::Upstream(AttioError::Transport(TransportError::Timeout(1))),
            AppError::Upstream(AttioError::Transport(TransportError::Network("x".into()))),
            AppError::Upstream(AttioError::Unauthorized),
            AppError::Upstream(AttioError::Decode("x".into())),
        ];
        for e in errors {
            let (status, kind) = (e.status(), e.kind());
            assert_eq!(e.into_response().status(), status, "{kind}");
        }
    }

    fn body(resp: &Response) -> serde_json::Value {
        serde_json::from_slice(resp.body()).unwrap()
    }

    #[test]
    fn errors_have_protocol_shape_and_status() {
        let r = AppError::NotFound.into_response();
        assert_eq!(r.status(), 404);
        assert_eq!(body(&r)["error"], "not_found");
        assert!(crate::base::http::is_no_store(&r));

        let r = AppError::MethodNotAllowed { allow: "GET, HEAD" }.into_response();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()[ALLOW], "GET, HEAD");

        let r = AppError::Misconfigured(ConfigError { problems: vec!["X is missing".into()] }).into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(body(&r)["problems"][0], "X is missing");

        let r = AppError::Upstream(AttioError::RateLimited { retry_after: Some("1".into()) }).into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[RETRY_AFTER], "1");
        let r = AppError::Upstream(AttioError::Transport(TransportError::Timeout(10))).into_response();
        assert_eq!(r.status(), 504);
    }
}
