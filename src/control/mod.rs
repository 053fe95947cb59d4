//! The deployer's controls: the policy applied to every app ([`policy`]), who administers and
//! what they see ([`admin`]), what the REST proxy may forward ([`proxy_policy`]) and the
//! minute-by-minute cron ([`cron`]). May use everything below the routes; never `routes` or the edge.

pub mod admin;
pub mod cron;
pub mod policy;
pub mod proxy_policy;
