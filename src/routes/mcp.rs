//! `/mcp`: the streamable-HTTP MCP endpoint, stateless and JSON-only (SSE is optional in the
//! spec; GET answers 405). Every POST is authenticated with our bearer token for the MCP
//! audience; no session id is issued, so nothing but the token ever identifies a caller.
//!
//! Checks, in order: `Host` when `PUBLIC_ORIGIN` is set and `Origin` (403 if foreign:
//! DNS-rebinding protection), the bearer token
//! (401/403 with `WWW-Authenticate`), `MCP-Protocol-Version` (400 if unsupported),
//! `Content-Type` (415), `Accept` (406), then the JSON-RPC message itself (parse error, invalid
//! request, batch, unknown method, invalid params — each with its JSON-RPC code).

use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, ORIGIN};
use http::StatusCode;
use serde_json::{json, Value};

use crate::auth::access::{authenticate, presented_token};
use crate::base::http::{header_str, json as json_response, response, set_header, Request, Response};
use crate::context::Ctx;
use crate::error::AppError;
use crate::mcp::jsonrpc::{self, Message, RpcError};
use crate::mcp::{self, call, prompts, Revision};
use crate::oauth::metadata::{Audience, SCOPE_READ};
use crate::platform::Platform;

pub const PATH: &str = "/mcp";

/// The refusals that need only the request head, in the order the spec's checks run: method,
/// `Host`, `Origin`, then a present, well-formed bearer token. [`handle`] runs them first, and
/// the edge runs them before it reads a body ([`crate::app::answer_from_head`]), so a refused
/// request (an MCP client's first, unauthenticated call, say) is answered without waiting for
/// its body.
pub fn refuse_by_head(ctx: &Ctx<'_>, req: &Request) -> Option<Response> {
    let config = ctx.config;
    if *req.method() != http::Method::POST {
        let mut resp = call::rpc_error(
            StatusCode::METHOD_NOT_ALLOWED,
            RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "this server answers POST only (no SSE stream)"),
        );
        set_header(&mut resp, ALLOW, "POST");
        return Some(resp);
    }
    if !host_allowed(ctx, req) {
        return Some(call::rpc_error(
            StatusCode::FORBIDDEN,
            RpcError::new(
                Value::Null,
                jsonrpc::INVALID_REQUEST,
                "Host not allowed; this gateway answers at PUBLIC_ORIGIN",
            ),
        ));
    }
    let ours = ctx.origin.clone();
    if let Some(o) = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()) {
        if o != ours && !config.mcp_allowed_origins.iter().any(|a| a == o) {
            return Some(call::rpc_error(
                StatusCode::FORBIDDEN,
                RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Origin not allowed"),
            ));
        }
    }
    presented_token(req).err().map(|d| d.into_response(&ctx.origin, Audience::Mcp))
}

/// `/mcp`, any method.
pub async fn handle<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    if let Some(refusal) = refuse_by_head(ctx, req) {
        return Ok(refusal);
    }
    // Parsed before authenticating: a tool call's audit record is stored with the request that
    // reads the grant. Errors in it are answered after authentication, as before.
    let message = jsonrpc::parse(req.body());
    let record = match &message {
        Ok(Message::Request { method, params, .. }) if method == "tools/call" => call::audit_record(params),
        // A completion reads record names from Attio: audited like a search.
        Ok(Message::Request { method, .. }) if method == "completion/complete" => {
            Some(crate::store::audit::Entry::call("completion", "completion/complete", false, Vec::new()))
        }
        _ => None,
    };
    // `initialize` with a token whose tag checks out is answered without storage: it shows only
    // the server's capabilities, and every MCP session opens with it (a Durable Object request
    // saved per session).
    let initialize = matches!(&message, Ok(Message::Request { method, .. }) if method == "initialize");
    if initialize && presented_token(req).is_ok_and(|t| crate::oauth::grants::grant::tagged_and_intact(ctx.keys(), t)) {
        return respond(p, ctx, req, None, message).await;
    }
    let principal = match authenticate(p, ctx, req, Audience::Mcp, SCOPE_READ, record).await {
        Ok(principal) => principal,
        Err(denied) => return Ok(denied.into_response(&ctx.origin, Audience::Mcp)),
    };
    let started = p.now_ms();
    let answer = respond(p, ctx, req, Some(&principal), message).await;
    if let Some(pending) = &principal.audit {
        call::finish_record(p, &principal, pending, &answer, started);
    }
    answer
}

/// The answer to an authenticated request (`principal`: `None` for an `initialize` answered on
/// the token's tag alone).
async fn respond<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    principal: Option<&crate::auth::access::Principal>,
    message: Result<Message, RpcError>,
) -> Result<Response, AppError> {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Ok(call::rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Content-Type must be application/json"),
        ));
    }
    if let Some(accept) = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()) {
        if !(accept.contains("application/json") || accept.contains("*/*")) {
            return Ok(call::rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Accept must allow application/json"),
            ));
        }
    }
    let headers = mcp::Headers {
        protocol_version: header_str(req, "mcp-protocol-version"),
        method: header_str(req, "mcp-method"),
        name: header_str(req, "mcp-name"),
    };
    let (id, method, params) = match message {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Notification { method }) => {
            // Nothing to answer, but a bad version or header is still refused.
            return Ok(match mcp::check_request(headers, &Value::Null, &method, &json!({})) {
                Err((status, error)) => call::rpc_error(status, error),
                Ok(_) => response(StatusCode::ACCEPTED, "application/json", Vec::new()),
            });
        }
        Ok(Message::Response) => return Ok(response(StatusCode::ACCEPTED, "application/json", Vec::new())),
        Err(e) => return Ok(call::rpc_error(StatusCode::BAD_REQUEST, e)),
    };
    let revision = match mcp::check_request(headers, &id, &method, &params) {
        Ok(revision) => revision,
        Err((status, error)) => return Ok(call::rpc_error(status, error)),
    };
    let result = match (revision, method.as_str()) {
        (Revision::Legacy, "initialize") => {
            mcp::initialize_result(params.get("protocolVersion").and_then(Value::as_str))
        }
        (_, "server/discover") => mcp::discover_result(),
        (Revision::Legacy, "ping") => json!({}),
        // Only `initialize` comes without a principal (see `handle`).
        (_, "tools/list") => {
            let principal = principal.ok_or(AppError::NotFound)?;
            mcp::list_tools(principal.can_write(), &principal.groups())
        }
        (_, "tools/call") => {
            let principal = principal.ok_or(AppError::NotFound)?;
            return call::call_tool(p, ctx, req, principal, revision, id, &params).await;
        }
        (_, "prompts/list") => prompts::list(principal.ok_or(AppError::NotFound)?.can_write()),
        (_, "prompts/get") => {
            let principal = principal.ok_or(AppError::NotFound)?;
            let found = params["name"].as_str().and_then(prompts::find).filter(|p| principal.can_write() || !p.write);
            let answer = found
                .ok_or_else(|| "unknown prompt; see prompts/list".to_string())
                .and_then(|prompt| prompts::get(prompt, params.get("arguments").unwrap_or(&Value::Null)));
            match answer {
                Ok(result) => result,
                Err(why) => {
                    return Ok(call::rpc_error(StatusCode::OK, RpcError::new(id, jsonrpc::INVALID_PARAMS, why)))
                }
            }
        }
        (_, "completion/complete") => {
            let principal = principal.ok_or(AppError::NotFound)?;
            return call::complete(p, ctx, principal, revision, id, &params).await;
        }
        // 2026-07-28 removed `initialize`, `ping` and the rest: 404, like any unknown method.
        (Revision::Stateless, _) => {
            return Ok(call::rpc_error(
                StatusCode::NOT_FOUND,
                RpcError::new(id, jsonrpc::METHOD_NOT_FOUND, format!("method not found: {method}")),
            ))
        }
        (Revision::Legacy, _) => {
            return Ok(call::rpc_error(
                StatusCode::OK,
                RpcError::new(id, jsonrpc::METHOD_NOT_FOUND, format!("method not found: {method}")),
            ))
        }
    };
    let result = mcp::shape(revision, &method, result);
    Ok(json_response(StatusCode::OK, &jsonrpc::result(&id, result)))
}

/// DNS-rebinding protection beyond the `Origin` check: once the gateway knows its public
/// origin (`PUBLIC_ORIGIN`), a request addressed to any other host is refused. (A rebound page
/// sends its own host in both `Host` and `Origin`, so only a configured origin can tell.)
fn host_allowed(ctx: &Ctx<'_>, req: &Request) -> bool {
    let config = ctx.config;
    let Some(public) = &config.public_origin else { return true };
    let expected = match (public.host_str(), public.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => return false,
    };
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string));
    host.is_some_and(|h| h.eq_ignore_ascii_case(&expected))
}
