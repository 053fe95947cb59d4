//! Test-only routes. They exist only while [`crate::config::TestMode`] is active, which needs
//! `INSECURE_TEST_MODE=1` *and* loopback Attio base URLs: a real deploy cannot reach a loopback
//! Attio, so there these routes answer 404 like any unknown path.
//!
//! `GET /__test/attio-self` proves the worker can reach Attio (the mock): it calls `/v2/self`
//! with the configured `TEST_ATTIO_TOKEN` and reports what Attio said.

use http::StatusCode;
use serde_json::json;

use crate::attio::identity::TokenStatus;
use crate::config::{ConfigError, TEST_ATTIO_TOKEN};
use crate::error::AppError;
use crate::http::{json, Response};
use crate::platform::Platform;

pub const ATTIO_SELF: &str = "/__test/attio-self";

pub async fn attio_self(p: &impl Platform) -> Result<Response, AppError> {
    let config = p.config()?;
    let test = config.test_mode.as_ref().ok_or(AppError::NotFound)?;
    let token = test.attio_token.as_ref().ok_or_else(|| ConfigError {
        problems: vec![format!("{TEST_ATTIO_TOKEN} is missing: the diagnostics route needs it")],
    })?;
    let status = config.attio().identify(p, token).await?;
    let body = match status {
        TokenStatus::Active(id) => json!({
            "reachable": true,
            "active": true,
            "workspace_id": id.workspace_id,
            "workspace_slug": id.workspace_slug,
            "workspace_name": id.workspace_name,
            "member_id": id.authorized_by_workspace_member_id,
            "scopes": id.scope.split_whitespace().collect::<Vec<_>>(),
        }),
        TokenStatus::Inactive => json!({"reachable": true, "active": false}),
    };
    Ok(json(StatusCode::OK, &body))
}
