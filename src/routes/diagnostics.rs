//! Test-only routes. They exist only while [`crate::config::TestMode`] is active, which needs
//! `INSECURE_TEST_MODE=1` *and* loopback Attio base URLs: a real deploy cannot reach a loopback
//! Attio, so there these routes answer 404 like any unknown path.
//!
//! `GET /__test/attio-self` proves the worker can reach Attio (the mock): it calls `/v2/self`
//! with the configured `TEST_ATTIO_TOKEN` and reports what Attio said.
//!
//! `POST /__test/seed-audit` writes synthetic audit entries into a person's log (at most
//! [`SEED_MAX`] a request), so end-to-end tests can look at a large log, or a realistic week,
//! without making every call: `{"workspace_id", "member_id", "count", "newest_ms", "step_ms",
//! "action"}` (as many successful reads of one tool), or `{"workspace_id", "member_id",
//! "entries": [...]}` (the records themselves, as the log keeps them).

use http::StatusCode;
use serde_json::json;

use crate::attio::identity::TokenStatus;
use crate::base::http::{json, Response};
use crate::config::{ConfigError, TEST_ATTIO_TOKEN};
use crate::error::AppError;
use crate::platform::Platform;

pub const ATTIO_SELF: &str = "/__test/attio-self";
pub const SEED_AUDIT: &str = "/__test/seed-audit";

/// The most entries one seeding request writes (157 object requests).
pub const SEED_MAX: u64 = 5_000;

#[derive(serde::Deserialize)]
struct Seed {
    workspace_id: String,
    member_id: String,
    #[serde(default)]
    count: u64,
    #[serde(default)]
    newest_ms: u64,
    #[serde(default)]
    step_ms: u64,
    #[serde(default)]
    action: String,
    #[serde(default)]
    entries: Vec<crate::store::audit::Entry>,
}

/// `POST /__test/seed-audit` (test mode only).
pub async fn seed_audit(p: &impl Platform, req: &crate::base::http::Request) -> Result<Response, AppError> {
    let config = p.config()?;
    config.test_mode.as_ref().ok_or(AppError::NotFound)?;
    let seed: Seed =
        serde_json::from_slice(req.body()).map_err(|_| AppError::BadRequest("seed: a JSON object with every field"))?;
    let user = crate::base::user::UserId::new(&seed.workspace_id, &seed.member_id)
        .ok_or(AppError::BadRequest("seed: not a person"))?;
    let mut entries: Vec<crate::store::audit::Entry> = (0..seed.count.min(SEED_MAX))
        .map(|i| crate::store::audit::Entry {
            at_ms: seed.newest_ms.saturating_sub(i * seed.step_ms),
            client_id: "mcp_seeded".into(),
            outcome: "ok".into(),
            ..crate::store::audit::Entry::call("tool", &seed.action, false, Vec::new())
        })
        .collect();
    entries.extend(seed.entries.into_iter().take(SEED_MAX as usize));
    entries.truncate(SEED_MAX as usize);
    let written =
        crate::store::audit::seed(p, &user, entries).await.map_err(|e| AppError::unavailable_because("storage", e))?;
    Ok(json(StatusCode::OK, &json!({"written": written})))
}

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
