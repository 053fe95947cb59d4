//! The cron trigger (`[triggers]` in `wrangler.toml`, every minute): the work done for every
//! person, a batch per run, so no run makes more than 45 subrequests (the Free plan allows 50
//! an invocation) however many people there are. Once a UTC day (from ten minutes past
//! midnight, once yesterday's last calls have their outcomes) a pass goes through every
//! connection (and a pass starts again at once when `VAULT_KEYS` gets a new first key): writes
//! the usage totals of the person's closed days (so the pages read one row a day, not the
//! day's records; see [`crate::transitions::usage`]), re-seals
//! a record sealed under an older key (so an old key can be removed once a pass reports nothing
//! left under it) and revokes the connection of a person who
//! is no longer an active member of their workspace; then every copy of the deployer's policy
//! is brought up to date. A policy save that reached only the first holders is carried on by the
//! next run. Progress is kept in KV ([`crate::store::sweep`]); a run with nothing to do reads it
//! and stops. The pass's report (`vault-report:v1`) tells `/health` and `/setup` when it
//! finished, how many people it covered and what failed. The budget model
//! (`src/tests/budgets/budget.rs`) counts a run.

use crate::config::Config;
use crate::platform::Platform;
use crate::store::audit;
use crate::store::policy::{self, Rest};
use crate::store::sweep::{self, Progress};
use crate::store::vault as store_vault;
use crate::transitions::usage::{CLOSE_AFTER_MS, DAY_MS};

/// People a run checks: each costs up to eight subrequests (their record, read twice, the
/// object's disconnect marker, the re-seal's swap and write, the Attio membership call, a
/// revocation, their usage), so five stay within 45 with the run's own four.
pub const PEOPLE_PER_RUN: usize = 5;

/// The day of the pass due at `now_ms`: a day's pass starts once the previous day can be closed.
fn pass_day(now_ms: u64) -> u64 {
    now_ms.saturating_sub(CLOSE_AFTER_MS) / DAY_MS
}

/// One run: the policy copies still pending, else the next people of today's pass.
pub async fn run<P: Platform>(p: &P, config: &Config) {
    let mut progress = sweep::load(p).await;
    // The first run of a release that issues tagged tokens: from an hour after this, tokens of
    // the earlier format are refused without a lookup.
    let first = progress.tagged_tokens_since_ms == 0;
    if first {
        progress.tagged_tokens_since_ms = p.now_ms();
    }
    let worked = match progress.spread.clone() {
        Some(rest) => {
            spread(p, &mut progress, &rest).await;
            true
        }
        None => people(p, config, &mut progress).await,
    };
    if worked || first {
        if let Err(e) = sweep::save(p, &progress).await {
            // The next run redoes this batch (every step is idempotent).
            p.log("cron.progress_unsaved", &e.to_string());
        }
    }
}

/// The next copies of the policy.
async fn spread<P: Platform>(p: &P, progress: &mut Progress, rest: &Rest) {
    match policy::spread_from(p, rest).await {
        Ok(s) => {
            p.log("policy.spread", &format!("{} updated, {} failed", s.updated, s.failed));
            progress.spread = s.rest;
        }
        // The policy's object did not answer: tried again next minute.
        Err(e) => p.log("policy.spread_failed", &e.to_string()),
    }
}

/// The next people of today's pass (a new pass once a day); false when there was nothing to do.
async fn people<P: Platform>(p: &P, config: &Config, progress: &mut Progress) -> bool {
    let today = pass_day(p.now_ms());
    let key = config.vault().active_key_id().unwrap_or_default();
    if progress.day < today || progress.vault_key != key {
        let spread = progress.spread.take();
        *progress = Progress {
            day: today,
            started_at_ms: p.now_ms(),
            vault_key: key.to_string(),
            spread,
            tagged_tokens_since_ms: progress.tagged_tokens_since_ms,
            ..Progress::default()
        };
    } else if progress.done {
        return false;
    }
    let page = match store_vault::list(p, progress.cursor.as_deref()).await {
        Ok(page) => page,
        Err(e) => {
            p.log("cron.list_failed", &e.to_string());
            return false;
        }
    };
    let end = page.users.len().min(progress.offset + PEOPLE_PER_RUN);
    let ask = audit::UsageAsk { from_day: today, destructive: crate::control::admin::destructive_calls() };
    for user in page.users.get(progress.offset..end).unwrap_or_default() {
        progress.people += 1;
        let Some(user) = user else {
            progress.reseal.scanned += 1;
            progress.reseal.unreadable += 1;
            continue;
        };
        crate::attio::vault::reseal_one(p, config.vault(), user, &mut progress.reseal).await;
        crate::attio::connection::check_member(p, config, config.vault(), user, &mut progress.members).await;
        if let Err(e) = audit::usage(p, user, &ask).await {
            // The day is closed by the next view or pass instead.
            p.log("cron.usage_failed", &e.to_string());
        }
    }
    progress.offset = end;
    if end >= page.users.len() {
        match page.cursor {
            Some(next) => {
                progress.cursor = Some(next);
                progress.offset = 0;
            }
            None => finish(p, progress).await,
        }
    }
    true
}

/// The pass is over: its report kept, and every policy copy brought up to date next.
async fn finish<P: Platform>(p: &P, progress: &mut Progress) {
    progress.done = true;
    let report = store_vault::PassReport {
        reseal: store_vault::ResealReport { at_ms: p.now_ms(), ..progress.reseal.clone() },
        people: progress.people,
        members: progress.members.clone(),
        started_at_ms: progress.started_at_ms,
    };
    p.log("cron.pass", &serde_json::to_string(&report).unwrap_or_default());
    store_vault::save_report(p, &report).await;
    progress.spread = Some(Rest::default());
}

/// Runs until today's pass and every pending copy are done (tests; production runs once a
/// minute). At most `runs` runs.
#[cfg(test)]
pub async fn run_until_done<P: Platform>(p: &P, config: &Config, runs: usize) -> Progress {
    for _ in 0..runs {
        run(p, config).await;
        let progress = sweep::load(p).await;
        if progress.done && progress.spread.is_none() && progress.day == pass_day(p.now_ms()) {
            return progress;
        }
    }
    sweep::load(p).await
}
