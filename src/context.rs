//! Facts about the request being served that several routes need: the gateway's public origin
//! (the issuer, the resource identifiers, the redirect URI registered at Attio).

use crate::config::Config;
use crate::http::Request;

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
