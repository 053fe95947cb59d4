//! The request context: what every handler needs about the request it serves, worked out once
//! by the router ([`crate::app`]) and handed down, instead of each function re-reading the
//! configuration and recomputing the origin. Today: the validated configuration and the
//! gateway's public origin (the issuer, the resource identifiers, the redirect URI registered at
//! Attio).

use std::ops::Deref;

use crate::base::http::Request;
use crate::config::Config;

/// One request's context. Dereferences to the [`Config`].
#[derive(Debug)]
pub struct Ctx<'a> {
    pub config: &'a Config,
    /// The gateway's public origin for this request (no trailing slash).
    pub origin: String,
    /// On a person's page behind Cloudflare Access: their email, as Access verified it.
    pub person: Option<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(config: &'a Config, req: &Request) -> Self {
        Self { config, origin: origin(config, req), person: None }
    }

    /// The context of a person's page, with who Cloudflare Access says they are.
    pub fn for_person(config: &'a Config, req: &Request, person: &Option<String>) -> Self {
        Self { person: person.clone(), ..Self::new(config, req) }
    }
}

impl Deref for Ctx<'_> {
    type Target = Config;

    fn deref(&self) -> &Config {
        self.config
    }
}

/// The gateway's public origin: configured, or the request's own.
pub fn origin(config: &Config, req: &Request) -> String {
    if let Some(o) = &config.public_origin {
        return o.as_str().trim_end_matches('/').to_string();
    }
    origin_of_request(req)
}

/// The origin the request was addressed to.
pub fn origin_of_request(req: &Request) -> String {
    let uri = req.uri();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => String::new(),
    }
}
