//! The deployer's policy, set on `/admin` and applied to every token on its next use: writes
//! off, tool groups off, the REST proxy off, a maximum grant lifetime. Stored in a Durable
//! Object, with a copy in every person's object so that [`crate::auth::access::authenticate`] reads
//! it in the same request as the grant (`store::policy` keeps the copies in step).

use serde::{Deserialize, Serialize};

use crate::oauth::grants::tool_groups::{Group, GROUPS};

/// The record's schema version.
pub const SCHEMA: u8 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    #[serde(default)]
    pub v: u8,
    /// Grows by one with each change: a copy never replaces a newer one.
    #[serde(default)]
    pub version: u64,
    /// No tool or proxied request may change Attio data, whatever the grant says.
    #[serde(default)]
    pub writes_off: bool,
    /// Tool groups no grant may use (their names: `records`, `notes`, …).
    #[serde(default)]
    pub groups_off: Vec<String>,
    /// The REST proxy (`/v2/*`) answers 403 to every token.
    #[serde(default)]
    pub proxy_off: bool,
    /// Grants older than this many days stop working (the app must be approved again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grant_days: Option<u32>,
    /// Client ids no grant of which may be used, refreshed or approved: an app the deployer
    /// blocked (registrations store nothing, so blocking is the way to refuse one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_apps: Vec<String>,
    #[serde(default)]
    pub updated_at_ms: u64,
    /// Who last changed it (an administrator's name), for the page.
    #[serde(default)]
    pub updated_by: String,
}

/// The most apps a policy blocks (each copy of the policy carries them).
const MAX_BLOCKED: usize = 50;

impl Policy {
    /// The groups a grant may use under this policy.
    pub fn allowed_groups(&self, granted: Vec<Group>) -> Vec<Group> {
        granted.into_iter().filter(|g| !self.groups_off.iter().any(|off| off == g.name())).collect()
    }

    /// Whether the deployer blocked the app `client_id`.
    pub fn blocks(&self, client_id: &str) -> bool {
        self.blocked_apps.iter().any(|b| b == client_id)
    }

    /// Whether a grant created at `created_at_ms` has outlived the maximum lifetime.
    pub fn grant_too_old(&self, created_at_ms: u64, now_ms: u64) -> bool {
        self.max_grant_days.is_some_and(|d| now_ms.saturating_sub(created_at_ms) > u64::from(d) * 86_400_000)
    }

    /// This policy with its maximum grant lifetime lowered to `cap_days` when that is shorter:
    /// owner mode's `OWNER_GRANT_DAYS` applies however the deployer set the policy.
    pub fn capped(mut self, cap_days: Option<u32>) -> Policy {
        if let Some(cap) = cap_days {
            self.max_grant_days = Some(self.max_grant_days.map_or(cap, |d| d.min(cap)));
        }
        self
    }

    /// A policy from the `/admin` form fields (`writes_off`, `proxy_off`, `off_<group>`,
    /// `max_grant_days`, `blocked_apps`: client ids, one per line).
    pub fn from_form(form: &[(String, String)]) -> Result<Policy, &'static str> {
        let on = |k: &str| form.iter().any(|(n, v)| n == k && v == "on");
        let days = match form.iter().find(|(n, _)| n == "max_grant_days").map(|(_, v)| v.trim()) {
            None | Some("") => None,
            Some(d) => match d.parse::<u32>() {
                Ok(n) if (1..=3650).contains(&n) => Some(n),
                _ => return Err("the maximum grant lifetime is a number of days from 1 to 3650"),
            },
        };
        let blocked_apps: Vec<String> = form
            .iter()
            .filter(|(n, _)| n == "blocked_apps")
            .flat_map(|(_, v)| v.split_whitespace())
            .map(str::to_string)
            .collect();
        if blocked_apps.len() > MAX_BLOCKED || blocked_apps.iter().any(|b| b.len() > 2000) {
            return Err("at most 50 blocked apps, each a client id of at most 2000 characters");
        }
        Ok(Policy {
            v: SCHEMA,
            version: 0,
            writes_off: on("writes_off"),
            groups_off: GROUPS
                .iter()
                .filter(|g| on(&format!("off_{}", g.name())))
                .map(|g| g.name().to_string())
                .collect(),
            proxy_off: on("proxy_off"),
            max_grant_days: days,
            blocked_apps,
            updated_at_ms: 0,
            updated_by: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_form_becomes_a_policy_and_the_policy_narrows_grants() {
        let p =
            Policy::from_form(&form(&[("writes_off", "on"), ("off_meetings", "on"), ("max_grant_days", "7")])).unwrap();
        assert!(p.writes_off && !p.proxy_off);
        assert_eq!(p.groups_off, ["meetings"]);
        assert_eq!(p.allowed_groups(GROUPS.to_vec()).len(), 5);
        assert!(p.grant_too_old(0, 8 * 86_400_000) && !p.grant_too_old(0, 6 * 86_400_000));
        assert!(Policy::from_form(&form(&[("max_grant_days", "0")])).is_err());
        assert_eq!(Policy::from_form(&form(&[])).unwrap().max_grant_days, None);
        assert!(!Policy::default().grant_too_old(0, u64::MAX));
        let blocking = Policy::from_form(&form(&[("blocked_apps", " mcp2.a.b \r\nhttps://x.test/c.json\n")])).unwrap();
        assert_eq!(blocking.blocked_apps, ["mcp2.a.b", "https://x.test/c.json"]);
        assert!(blocking.blocks("mcp2.a.b") && !blocking.blocks("mcp2.a"));
        let too_many = "x ".repeat(51);
        assert!(Policy::from_form(&form(&[("blocked_apps", too_many.as_str())])).is_err());
    }
}
