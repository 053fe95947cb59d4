//! The authorization server's HTTP endpoints: discovery (RFC 8414, RFC 9728) and dynamic
//! client registration (RFC 7591). CORS is allowed here (no credentials) because browser-based
//! MCP clients (MCP Inspector) call these from their own origin; `/authorize` never gets CORS
//! (RFC 9700 §2.6).

use http::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
};
use http::StatusCode;
use serde_json::json;

use crate::config::Config;
use crate::error::AppError;
use crate::http::{json as json_response, response, Request, Response};
use crate::oauth::cimd;
use crate::oauth::client::{self, RegisteredClient};
use crate::oauth::metadata::{self, Audience};
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::routes::connect::origin;

pub const AS_METADATA: &str = "/.well-known/oauth-authorization-server";
pub const PRM_ROOT: &str = "/.well-known/oauth-protected-resource";
pub const PRM_MCP: &str = "/.well-known/oauth-protected-resource/mcp";
pub const PRM_API: &str = "/.well-known/oauth-protected-resource/v2";
pub const REGISTER: &str = "/register";

/// Open CORS without credentials, for endpoints browser-based clients call directly.
pub fn with_cors(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, mcp-protocol-version, mcp-session-id"),
    );
    resp
}

/// The answer to a CORS preflight.
pub fn preflight() -> Response {
    with_cors(response(StatusCode::NO_CONTENT, "text/plain", Vec::new()))
}

/// Discovery documents. They need no secrets, so they answer even on a half-configured deploy.
pub fn discovery(p: &impl Platform, req: &Request) -> Result<Response, AppError> {
    let config = p.config()?;
    let origin = origin(&config, req);
    let doc = match req.uri().path() {
        AS_METADATA => metadata::authorization_server(&origin, !config.exchange_clients.is_empty()),
        PRM_API => metadata::protected_resource(&origin, Audience::Api),
        // The root document describes the primary resource, the MCP endpoint.
        _ => metadata::protected_resource(&origin, Audience::Mcp),
    };
    let mut resp = json_response(StatusCode::OK, &doc);
    // Public, identical for everyone: let clients cache it briefly.
    resp.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(with_cors(resp))
}

/// `POST /register`.
pub async fn register(p: &impl Platform, req: &Request) -> Result<Response, AppError> {
    let config = p.config()?;
    let reg = match client::validate(req.body()) {
        Ok(r) => r,
        Err(e) => return Ok(with_cors(e.into_response())),
    };
    let keys = config.keys();
    let random = || p.token().map_err(|_| AppError::Unavailable("randomness"));
    let client_id = format!("mcp_{}", random()?);
    let secret = match reg.auth_method {
        client::AuthMethod::None => None,
        _ => Some(format!("agws.{}", random()?)),
    };
    let now = p.now_ms();
    let record = RegisteredClient {
        client_id: client_id.clone(),
        client_name: reg.client_name.clone(),
        redirect_uris: reg.redirect_uris.clone(),
        grant_types: reg.grant_types.clone(),
        auth_method: reg.auth_method,
        secret_hash: secret.as_deref().map(|s| keys.token_hash(s)),
        created_at_ms: now,
    };
    let text = serde_json::to_string(&record).map_err(|_| AppError::Unavailable("encoding"))?;
    if p.kv_put(&RegisteredClient::kv_key(&client_id), &text, Some(client::TTL_SECS)).await.is_err() {
        return Ok(with_cors(
            OAuthError::temporarily_unavailable("registration storage is unavailable").into_response(),
        ));
    }
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
    if let Some(s) = secret {
        body["client_secret"] = json!(s);
        body["client_secret_expires_at"] = json!(0);
    }
    Ok(with_cors(json_response(StatusCode::CREATED, &body)))
}

/// A client by id: a registered one from KV, or, for an `https` id, its metadata document
/// (fetched under the SSRF policy of [`cimd::check_url`], validated, cached in KV for an hour).
pub async fn load_client(
    p: &impl Platform,
    config: &Config,
    client_id: &str,
) -> Result<Option<RegisteredClient>, crate::platform::StoreError> {
    if client_id.is_empty() || client_id.len() > 2000 {
        return Ok(None);
    }
    if cimd::is_url(client_id) {
        return metadata_document_client(p, config, client_id).await;
    }
    Ok(p.kv_get(&RegisteredClient::kv_key(client_id)).await?.and_then(|t| serde_json::from_str(&t).ok()))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CachedDocument {
    client: RegisteredClient,
    expires_at_ms: u64,
}

async fn metadata_document_client(
    p: &impl Platform,
    config: &Config,
    client_id: &str,
) -> Result<Option<RegisteredClient>, crate::platform::StoreError> {
    let allow_loopback = config.test_mode.as_ref().is_some_and(|t| t.cimd_allow_loopback);
    let url = match cimd::check_url(client_id, allow_loopback) {
        Ok(url) => url,
        Err(why) => {
            p.log("cimd.refused", why);
            return Ok(None);
        }
    };
    let keys = config.keys();
    let cache_key = format!("cimd:v1:{}", keys.token_hash(client_id));
    let now = p.now_ms();
    if let Some(cached) = p.kv_get(&cache_key).await?.and_then(|t| serde_json::from_str::<CachedDocument>(&t).ok()) {
        if cached.expires_at_ms > now {
            return Ok(Some(cached.client));
        }
    }
    let Ok(request) =
        http::Request::get(url.as_str()).header(http::header::ACCEPT, "application/json").body(Vec::new())
    else {
        return Ok(None);
    };
    let response = match p.send(request).await {
        Ok(r) if r.status() == StatusCode::OK => r,
        Ok(r) => {
            p.log("cimd.fetch_status", &r.status().as_u16().to_string());
            return Ok(None);
        }
        Err(e) => {
            p.log("cimd.fetch_failed", &e.to_string());
            return Ok(None);
        }
    };
    let client = match cimd::parse_document(client_id, response.body(), now) {
        Ok(c) => c,
        Err(why) => {
            p.log("cimd.invalid", why);
            return Ok(None);
        }
    };
    let cached = CachedDocument { client: client.clone(), expires_at_ms: now + cimd::CACHE_SECS * 1000 };
    if let Ok(text) = serde_json::to_string(&cached) {
        let _ = p.kv_put(&cache_key, &text, Some(cimd::CACHE_SECS)).await;
    }
    Ok(Some(client))
}
