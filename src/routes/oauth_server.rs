//! The authorization server's HTTP endpoints: discovery (RFC 8414, RFC 9728) and dynamic
//! client registration (RFC 7591). CORS is allowed here (no credentials) because browser-based
//! MCP clients (MCP Inspector) call these from their own origin; `/authorize` never gets CORS
//! (RFC 9700 §2.6).

use http::header::HeaderValue;
use http::StatusCode;
use serde_json::json;

use crate::auth::clients;
use crate::auth::rate_limit::{self, Limit};
use crate::base::http::{json as json_response, with_cors, Request, Response};
use crate::base::secret::IssuedClientSecret;
use crate::context::origin;
use crate::error::AppError;
use crate::oauth::clients::client::{self, KeySource, RegisteredClient};
use crate::oauth::clients::sealed_client;
use crate::oauth::metadata::{self, Audience};
use crate::oauth::OAuthError;
use crate::platform::Platform;

pub const AS_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
pub const PRM_MCP: &str = "/.well-known/oauth-protected-resource/mcp";
pub const PRM_API: &str = "/.well-known/oauth-protected-resource/v2";
pub const REGISTER: &str = "/register";

/// Discovery documents. They need no secrets, so they answer even on a half-configured deploy.
pub fn discovery(p: &impl Platform, req: &Request) -> Result<Response, AppError> {
    let config = p.config()?;
    let origin = origin(&config, req);
    let path = req.uri().path();
    let exchange = !config.exchange_clients.is_empty();
    let body = cached_document(path, &origin, exchange, || match path {
        AS_METADATA => metadata::authorization_server(&origin, exchange),
        PRM_API => metadata::protected_resource(&origin, Audience::Api),
        // The root document describes the primary resource, the MCP endpoint.
        _ => metadata::protected_resource(&origin, Audience::Mcp),
    });
    let mut resp = crate::base::http::response(StatusCode::OK, "application/json", body);
    // Public, identical for everyone: let clients cache it briefly.
    resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(with_cors(resp))
}

/// The most (document, origin) pairs kept: a deploy answers on one origin, or a few.
const CACHED_DOCUMENTS: usize = 8;

thread_local! {
    /// Discovery documents as sent, per isolate: they depend only on the path, the origin and
    /// the settings (fixed for an isolate's life), and they are the most requested routes.
    static DOCUMENTS: std::cell::RefCell<Vec<(String, Vec<u8>)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The serialised document for `path` at `origin`, built by `build` the first time.
fn cached_document(path: &str, origin: &str, exchange: bool, build: impl FnOnce() -> serde_json::Value) -> Vec<u8> {
    let key = format!("{path} {origin} {exchange}");
    if let Some(body) = DOCUMENTS.with_borrow(|docs| docs.iter().find(|(k, _)| *k == key).map(|(_, b)| b.clone())) {
        return body;
    }
    let body = serde_json::to_vec(&build()).unwrap_or_default();
    DOCUMENTS.with_borrow_mut(|docs| {
        if docs.len() == CACHED_DOCUMENTS {
            docs.remove(0);
        }
        docs.push((key, body.clone()));
    });
    body
}

/// `POST /register`.
pub async fn register(p: &impl Platform, req: &Request) -> Result<Response, AppError> {
    // Counted before anything is read or stored: registration is open to anyone.
    if !p.within_limit(Limit::Registration, &rate_limit::by_address(req)).await {
        let refusal =
            OAuthError::rate_limited("too many client registrations from this address; try again in a minute");
        return Ok(with_cors(refusal.into_response()));
    }
    let config = p.config()?;
    let reg = match client::validate(req.body(), clients::allow_loopback(&config)) {
        Ok(r) => r,
        Err(e) => return Ok(with_cors(e.into_response())),
    };
    let keys = config.keys();
    let now = p.now_ms();
    let record = RegisteredClient {
        client_id: String::new(),
        client_name: reg.client_name.clone(),
        redirect_uris: reg.redirect_uris.clone(),
        grant_types: reg.grant_types.clone(),
        auth_method: reg.auth_method,
        secret_hash: None,
        created_at_ms: now,
        other_auth_methods: Vec::new(),
        assertion_keys: reg.assertion_keys.clone(),
        in_use: false,
    };
    // The registration travels in the id: nothing is stored until the client is used.
    let mut nonce = [0u8; 16];
    p.fill(&mut nonce).map_err(|e| AppError::unavailable_because("randomness", e))?;
    let Some(client_id) = sealed_client::seal(keys, &record, &nonce) else {
        let why = format!(
            "the registration does not fit in a client id of {} bytes: register fewer or shorter redirect URIs, \
             a shorter client_name, or a jwks_uri instead of inline jwks",
            sealed_client::MAX_ID
        );
        return Ok(with_cors(OAuthError::invalid_client_metadata(why).into_response()));
    };
    let secret = match reg.auth_method {
        client::AuthMethod::None | client::AuthMethod::PrivateKeyJwt => None,
        client::AuthMethod::ClientSecretBasic | client::AuthMethod::ClientSecretPost => {
            Some(IssuedClientSecret::new(sealed_client::secret(keys, &client_id)))
        }
    };
    let mut body = json!({
        "client_id": client_id,
        "client_id_issued_at": now / 1000,
        "redirect_uris": reg.redirect_uris,
        "grant_types": reg.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": reg.auth_method.as_str(),
    });
    if let Some(name) = &reg.client_name {
        body["client_name"] = json!(name);
    }
    if let Some(keys) = &reg.assertion_keys {
        match &keys.source {
            KeySource::JwksUri(uri) => body["jwks_uri"] = json!(uri),
            KeySource::Jwks(set) => body["jwks"] = json!({"keys": set}),
        }
        if let Some(alg) = keys.alg {
            body["token_endpoint_auth_signing_alg"] = json!(alg.as_str());
        }
    }
    if let Some(s) = secret {
        // The one time an issued client secret leaves the gateway.
        body["client_secret"] = json!(s.expose_secret());
        body["client_secret_expires_at"] = json!(0);
    }
    Ok(with_cors(json_response(StatusCode::CREATED, &body)))
}
