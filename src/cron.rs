//! The daily cron trigger (`[triggers]` in `wrangler.toml`): re-seals every vaulted token sealed
//! under an older `VAULT_KEYS` key, so an old key can be removed once a run reports nothing left
//! under it; then revokes the connections of people who are no longer active members of their
//! workspace; then brings every copy of the deployer's policy up to date (after a change that
//! could not reach all). The edge calls [`run`]; the budget model (`src/tests/budget.rs`) counts it.

use crate::config::Config;
use crate::platform::Platform;

/// One run of the daily work, each step's report logged.
pub async fn run<P: Platform>(p: &P, config: &Config) {
    let report = crate::vault::reseal_all(p, config.vault()).await;
    p.log("vault.reseal_all", &serde_json::to_string(&report).unwrap_or_default());
    crate::store::vault::save_report(p, &report).await;
    let members = crate::connection::check_all_members(p, config, config.vault()).await;
    p.log("connection.check_all_members", &serde_json::to_string(&members).unwrap_or_default());
    match crate::store::policy::spread(p).await {
        Ok(s) => p.log("policy.spread", &format!("{} updated, {} failed", s.updated, s.failed)),
        Err(e) => p.log("policy.spread_failed", &e.to_string()),
    }
}
