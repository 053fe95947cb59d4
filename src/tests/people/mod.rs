//! Host tests of what people and administrators see: /admin, the audit log's views, usage, pages, Cloudflare Access, owner mode, connecting Attio.

mod admin;
mod audit_views;
mod cf_access;
mod connect;
mod owner;
mod pages;
mod usage;
