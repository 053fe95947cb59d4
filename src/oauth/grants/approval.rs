//! An MCP client's authorization request (RFC 6749 §4.1.1, with RFC 7636 PKCE and RFC 8707
//! `resource`): [`check`] turns the query into an [`Approved`] request or a [`RequestError`].
//! Both kinds of error are shown to the person as a page, never redirected: before anyone has
//! seen the consent page, a redirect from our domain to a URI anyone can register would be an
//! open redirect (RFC 9700 §4.11.2). The checked request is what the consent page asks the person
//! about, kept server-side until the decision, and, once approved, what the code is issued for.

use serde::{Deserialize, Serialize};

use crate::oauth::clients::client::RegisteredClient;
use crate::oauth::grants::grant;
use crate::oauth::metadata::{Audience, SCOPE_READ, SCOPE_WRITE};
use crate::oauth::params;
use crate::oauth::pkce;
use crate::oauth::redirect;

/// An authorization request the person approved (or is asked about), kept server-side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub state: Option<String>,
    pub code_challenge: String,
    pub audience: Audience,
    /// What the client asked for (at consent) or what was granted (once approved).
    pub scope: Vec<String>,
}

/// Why an authorization request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The client or its redirect URI is not known good (RFC 6749 §4.1.2.1).
    Page { title: &'static str, message: &'static str },
    /// Anything else, as the OAuth error (§4.1.2.1) the page names.
    Invalid { error: &'static str, description: String },
}

impl RequestError {
    fn page(title: &'static str, message: &'static str) -> Self {
        Self::Page { title, message }
    }
}

/// The client the request names; nothing else can be checked before it is loaded.
pub fn client_id(query: &[(String, String)]) -> Result<&str, RequestError> {
    params::get(query, "client_id").ok_or(RequestError::page("Invalid request", "The request names no client."))
}

/// Checks an authorization request from `client` (already loaded): the redirect URI first, then
/// response type, PKCE, scope and resource. An empty scope asks for everything the gateway offers; the
/// person narrows it on the consent page.
pub fn check(query: &[(String, String)], client: &RegisteredClient, origin: &str) -> Result<Approved, RequestError> {
    let redirect_uri = match params::get(query, "redirect_uri") {
        Some(r) if redirect::matches(&client.redirect_uris, r) => r.to_string(),
        Some(_) => {
            return Err(RequestError::page(
                "Redirect address not allowed",
                "The application asked to be sent back to an address it did not register. Nothing was sent there.",
            ))
        }
        // A client with a single redirect URI may leave it out (RFC 6749 §3.1.2.3).
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Err(RequestError::page("Invalid request", "The request names no redirect_uri.")),
    };
    let invalid =
        |error: &'static str, description: &str| RequestError::Invalid { error, description: description.to_string() };
    if params::get(query, "response_type") != Some("code") {
        return Err(invalid("unsupported_response_type", "response_type must be code"));
    }
    let challenge = params::get(query, "code_challenge").unwrap_or("");
    if let Err(why) = pkce::valid_challenge(challenge, params::get(query, "code_challenge_method")) {
        return Err(invalid("invalid_request", why));
    }
    let scope = match grant::parse_scope(params::get(query, "scope").unwrap_or("")) {
        Ok(s) if s.is_empty() => grant::scopes_for(true),
        // Asking only for some tool groups asks to read them.
        Ok(mut s) if !s.iter().any(|x| x == SCOPE_READ || x == SCOPE_WRITE) => {
            s.insert(0, SCOPE_READ.to_string());
            s
        }
        Ok(s) => s,
        Err(why) => return Err(invalid("invalid_scope", &why)),
    };
    let audience = match params::get(query, "resource") {
        None => Audience::Mcp,
        Some(r) => match Audience::from_resource(origin, r) {
            Some(a) => a,
            None => return Err(invalid("invalid_target", "resource is not one of this server's resources")),
        },
    };
    Ok(Approved {
        client_id: client.client_id.clone(),
        redirect_uri,
        state: params::get(query, "state").map(str::to_string),
        code_challenge: challenge.to_string(),
        audience,
        scope,
    })
}
