//! `GET /health`: whether the worker is configured, setting by setting, and whether its
//! bindings exist. Safe to expose: secrets are reported as present/missing/malformed only.
//! Answers 200 when the gateway can serve, 503 when it cannot.
//!
//! Anyone may ask, as often as they like, so what it needs from storage (the cron's last pass:
//! `daily_check`) is read at most once per isolate every ten minutes: polling `/health` spends
//! no storage budget.

use http::StatusCode;
use serde_json::json;

use crate::attio::vault;
use crate::base::http::{json, Response};
use crate::config::{ConfigReport, SettingsSource, BINDINGS};
use crate::platform::Platform;

/// How long an isolate shows the daily check it read.
const DAILY_CHECK_CACHE_MS: u64 = 600_000;

type DailyCheck = (serde_json::Value, Vec<String>);

std::thread_local! {
    /// The daily check as this isolate last read it, and when.
    static DAILY_CHECK: std::cell::RefCell<Option<(u64, DailyCheck)>> = const { std::cell::RefCell::new(None) };
}

/// The daily check, from this isolate's copy while it is fresh.
async fn daily_check(p: &impl Platform) -> DailyCheck {
    let now = p.now_ms();
    let fresh = |(at, _): &(u64, DailyCheck)| *at <= now && now - *at < DAILY_CHECK_CACHE_MS;
    if let Some(hit) = DAILY_CHECK.with(|c| c.borrow().as_ref().filter(|c| fresh(c)).map(|(_, v)| v.clone())) {
        return hit;
    }
    let read = vault::daily_check(p).await;
    DAILY_CHECK.with(|c| *c.borrow_mut() = Some((now, read.clone())));
    read
}

/// Forgets this thread's copy (host tests: each fake platform starts without one).
#[cfg(test)]
pub fn forget_cached() {
    DAILY_CHECK.with(|c| *c.borrow_mut() = None);
}

/// `GET /health`.
pub async fn report(p: &impl Platform) -> Response {
    let mut response = report_settings(p, daily_check(p).await);
    crate::base::http::set_header(&mut response, http::header::CACHE_CONTROL, "no-store");
    response
}

fn report_settings(
    settings: &impl SettingsSource,
    (daily_check, vault_warnings): (serde_json::Value, Vec<String>),
) -> Response {
    let report = ConfigReport::inspect(settings);
    let bindings: Vec<_> = BINDINGS
        .iter()
        .map(|b| {
            json!({"name": b.name, "kind": b.kind, "required": b.required, "present": settings.binding_present(b.name)})
        })
        .collect();
    let bindings_ok = BINDINGS.iter().filter(|b| b.required).all(|b| settings.binding_present(b.name));
    let configured = report.config.is_ok() && bindings_ok;
    let mut problems = match &report.config {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.clone(),
    };
    let mut warnings: Vec<String> = vault_warnings;
    for b in BINDINGS.iter().filter(|b| !settings.binding_present(b.name)) {
        if b.required {
            problems.push(format!("the {} binding ({}) is missing: declare it in wrangler.toml", b.name, b.kind));
        } else {
            warnings
                .push(format!("the {} binding ({}) is missing, so its limit is off: {}", b.name, b.kind, b.purpose));
        }
    }
    if let Some(problem) = report.config.as_ref().ok().and_then(crate::auth::owner::gate_problem) {
        warnings.push(problem);
    }
    let test_mode = matches!(&report.config, Ok(c) if c.test_mode.is_some());
    let status = if configured { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    json(
        status,
        &json!({
            "status": if configured { "ok" } else { "misconfigured" },
            "configured": configured,
            "version": env!("CARGO_PKG_VERSION"),
            "problems": problems,
            "warnings": warnings,
            "settings": report.settings,
            "bindings": bindings,
            "test_mode": test_mode,
            "daily_check": daily_check,
        }),
    )
}
