//! `/mcp`: the streamable-HTTP MCP endpoint, stateless and JSON-only (SSE is optional in the
//! spec; GET answers 405). Every POST is authenticated with our bearer token for the MCP
//! audience; no session id is issued, so nothing but the token ever identifies a caller.
//!
//! Checks, in order: `Host` when `PUBLIC_ORIGIN` is set and `Origin` (403 if foreign:
//! DNS-rebinding protection), the bearer token
//! (401/403 with `WWW-Authenticate`), `MCP-Protocol-Version` (400 if unsupported),
//! `Content-Type` (415), `Accept` (406), then the JSON-RPC message itself (parse error, invalid
//! request, batch, unknown method, invalid params — each with its JSON-RPC code).

use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use http::StatusCode;
use serde_json::{json, Value};

use crate::access::{authenticate, presented_token, Principal};
use crate::attio::{check_status, AttioError};
use crate::audit;
use crate::connection::{self, ConnectionError};
use crate::context::Ctx;
use crate::error::AppError;
use crate::http::{json as json_response, response, set_header, Request, Response};
use crate::mcp::jsonrpc::{self, Message, RpcError};
use crate::mcp::{self, tools, Revision};
use crate::oauth::bearer;
use crate::oauth::metadata::{Audience, SCOPE_READ, SCOPE_WRITE};
use crate::platform::Platform;

pub const PATH: &str = "/mcp";

/// Most characters of a tool result's text rendering (the structured result is complete).
const MAX_TEXT: usize = 50_000;

fn rpc_error(status: StatusCode, error: RpcError) -> Response {
    json_response(status, &error.to_json())
}

/// The refusals that need only the request head, in the order the spec's checks run: method,
/// `Host`, `Origin`, then a present, well-formed bearer token. [`handle`] runs them first, and
/// the edge runs them before it reads a body ([`crate::app::answer_from_head`]), so a refused
/// request (an MCP client's first, unauthenticated call, say) is answered without waiting for
/// its body.
pub fn refuse_by_head(ctx: &Ctx<'_>, req: &Request) -> Option<Response> {
    let config = ctx.config;
    if *req.method() != http::Method::POST {
        let mut resp = rpc_error(
            StatusCode::METHOD_NOT_ALLOWED,
            RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "this server answers POST only (no SSE stream)"),
        );
        set_header(&mut resp, ALLOW, "POST");
        return Some(resp);
    }
    if !host_allowed(ctx, req) {
        return Some(rpc_error(
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
            return Some(rpc_error(
                StatusCode::FORBIDDEN,
                RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Origin not allowed"),
            ));
        }
    }
    presented_token(ctx, req, Audience::Mcp).err()
}

/// `/mcp`, any method.
pub async fn handle<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    if let Some(refusal) = refuse_by_head(ctx, req) {
        return Ok(refusal);
    }
    let principal = match authenticate(p, ctx, req, Audience::Mcp, SCOPE_READ).await {
        Ok(principal) => principal,
        Err(resp) => return Ok(resp),
    };
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Ok(rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Content-Type must be application/json"),
        ));
    }
    if let Some(accept) = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()) {
        if !(accept.contains("application/json") || accept.contains("*/*")) {
            return Ok(rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                RpcError::new(Value::Null, jsonrpc::INVALID_REQUEST, "Accept must allow application/json"),
            ));
        }
    }
    let headers = mcp::Headers {
        protocol_version: header(req, "mcp-protocol-version"),
        method: header(req, "mcp-method"),
        name: header(req, "mcp-name"),
    };
    let (id, method, params) = match jsonrpc::parse(req.body()) {
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(Message::Notification { method }) => {
            // Nothing to answer, but a bad version or header is still refused.
            return Ok(match mcp::check_request(headers, &Value::Null, &method, &json!({})) {
                Err((status, error)) => rpc_error(status, error),
                Ok(_) => response(StatusCode::ACCEPTED, "application/json", Vec::new()),
            });
        }
        Ok(Message::Response) => return Ok(response(StatusCode::ACCEPTED, "application/json", Vec::new())),
        Err(e) => return Ok(rpc_error(StatusCode::BAD_REQUEST, e)),
    };
    let revision = match mcp::check_request(headers, &id, &method, &params) {
        Ok(revision) => revision,
        Err((status, error)) => return Ok(rpc_error(status, error)),
    };
    let result = match (revision, method.as_str()) {
        (Revision::Legacy, "initialize") => {
            mcp::initialize_result(params.get("protocolVersion").and_then(Value::as_str))
        }
        (_, "server/discover") => mcp::discover_result(),
        (Revision::Legacy, "ping") => json!({}),
        (_, "tools/list") => mcp::list_tools(principal.can_write()),
        (_, "tools/call") => return call_tool(p, ctx, req, &principal, revision, id, &params).await,
        // 2026-07-28 removed `initialize`, `ping` and the rest: 404, like any unknown method.
        (Revision::Stateless, _) => {
            return Ok(rpc_error(
                StatusCode::NOT_FOUND,
                RpcError::new(id, jsonrpc::METHOD_NOT_FOUND, format!("method not found: {method}")),
            ))
        }
        (Revision::Legacy, _) => {
            return Ok(rpc_error(
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

/// A header's value without surrounding whitespace (RFC 9110 §5.5), if present and text.
fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// A tool result with a text rendering and, for JSON, the structured value.
fn tool_result(id: &Value, revision: Revision, structured: Option<Value>, text: String, is_error: bool) -> Response {
    let mut text = text;
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n… (truncated; the structured result is complete)");
    }
    let mut result = json!({"content": [{"type": "text", "text": text}], "isError": is_error});
    if let Some(s) = structured {
        result["structuredContent"] = s;
    }
    let result = mcp::shape(revision, "tools/call", result);
    let mut resp = json_response(StatusCode::OK, &jsonrpc::result(id, result));
    resp.extensions_mut().insert(ToolFailed(is_error));
    resp
}

/// Whether a tool call's response reports a failure, for the audit log (set where the
/// response is built, so nobody has to parse it back).
#[derive(Debug, Clone, Copy)]
struct ToolFailed(bool);

fn tool_error(id: &Value, revision: Revision, message: String) -> Response {
    tool_result(id, revision, None, message, true)
}

async fn call_tool<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    principal: &Principal,
    revision: Revision,
    id: Value,
    params: &Value,
) -> Result<Response, AppError> {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Ok(rpc_error(
            StatusCode::OK,
            RpcError::new(id, jsonrpc::INVALID_PARAMS, "tools/call needs a tool name"),
        ));
    };
    let Some(tool) = tools::find(name) else {
        return Ok(rpc_error(
            StatusCode::OK,
            RpcError::new(id, jsonrpc::INVALID_PARAMS, format!("unknown tool: {name}")),
        ));
    };
    if revision == Revision::Stateless {
        let args = params.get("arguments");
        for (param, suffix) in tool.mirrored() {
            let header = header(req, &format!("mcp-param-{}", suffix.to_ascii_lowercase()));
            if let Err(why) = mcp::check_param_header(header, args.and_then(|a| a.get(&param))) {
                return Ok(rpc_error(
                    StatusCode::BAD_REQUEST,
                    RpcError::new(id, jsonrpc::HEADER_MISMATCH, format!("Mcp-Param-{suffix}: {why}")),
                ));
            }
        }
    }
    // Enforced here, not only by hiding the tool from a read-only grant's list.
    if tool.write && !principal.can_write() {
        let mut resp = rpc_error(
            StatusCode::FORBIDDEN,
            RpcError::new(id, jsonrpc::INVALID_REQUEST, format!("{name} changes data; this grant is read-only")),
        );
        let challenge = bearer::challenge(&ctx.origin, Audience::Mcp, Some("insufficient_scope"), Some(SCOPE_WRITE));
        set_header(&mut resp, WWW_AUTHENTICATE, &challenge);
        return Ok(resp);
    }
    let resp = run_tool(p, ctx, principal, Answering { id: &id, revision }, tool, params).await?;
    let failed = resp.extensions().get::<ToolFailed>().is_some_and(|f| f.0);
    let outcome = if failed { "error" } else { "ok" }.to_string();
    let entry = audit::Entry {
        at_ms: 0,
        client_id: principal.client_id.clone(),
        kind: "tool".into(),
        action: name.into(),
        write: tool.write,
        outcome,
    };
    audit::record(p, &principal.user, entry);
    Ok(resp)
}

/// Which request a tool result answers, and in which revision's shape.
struct Answering<'a> {
    id: &'a Value,
    revision: Revision,
}

async fn run_tool<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    principal: &Principal,
    to: Answering<'_>,
    tool: &tools::Tool,
    params: &Value,
) -> Result<Response, AppError> {
    let config = ctx.config;
    let (id, revision, name) = (to.id.clone(), to.revision, tool.name);
    let call = match tool.build(params.get("arguments").unwrap_or(&Value::Null)) {
        Ok(call) => call,
        Err(why) => return Ok(tool_error(&id, revision, format!("Invalid arguments for {name}: {why}"))),
    };
    let vault = config.vault();
    let conn = match connection::usable(p, config, vault, &principal.user).await {
        Ok(c) => c,
        Err(ConnectionError::NotConnected | ConnectionError::Revoked | ConnectionError::Unreadable) => {
            return Ok(tool_error(&id, revision, format!("The Attio connection is gone. The person must connect again at {}/connect, then re-authorize this app.", ctx.origin.clone())))
        }
        Err(e) => return Ok(tool_error(&id, revision, format!("Attio is temporarily unavailable ({e}); try again shortly."))),
    };
    let token = connection::access_token(&conn).map_err(|_| AppError::Unavailable("the Attio connection"))?;
    let api = crate::attio::AttioApi::new(config.attio_api_base.clone());
    let body = call.body.as_ref().map(|b| b.to_string().into_bytes());
    let request = api.request(call.method.clone(), call.path.trim_start_matches("/v2/"), token, body);
    // No log line here: the audit record is the trace of every call (hot path).
    let response = match p.send(request).await {
        Ok(r) => r,
        Err(e) => {
            return Ok(tool_error(&id, revision, format!("Attio could not be reached ({e}); try again shortly.")))
        }
    };
    let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    match check_status(response) {
        Ok(bytes) => {
            let value: Value = if bytes.is_empty() {
                json!({})
            } else {
                match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(_) => {
                        return Ok(tool_error(
                            &id,
                            revision,
                            "Attio's answer was cut off or is not JSON; nothing is known about its effect. \
                             Check with a read before retrying a write."
                                .into(),
                        ))
                    }
                }
            };
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            let structured = if value.is_object() { value } else { json!({"result": value}) };
            Ok(tool_result(&id, revision, Some(structured), text, false))
        }
        Err(AttioError::RateLimited { .. }) => Ok(tool_error(
            &id,
            revision,
            format!("Attio's rate limit was reached. Retry after {}.", retry_after.as_deref().unwrap_or("a second")),
        )),
        Err(AttioError::Unauthorized) => Ok(match connection::verify(p, config, vault, &conn).await {
            Err(ConnectionError::Revoked) => tool_error(
                &id,
                revision,
                format!(
                    "Attio revoked this connection. The person must connect again at {}/connect.",
                    ctx.origin.clone()
                ),
            ),
            _ => tool_error(&id, revision, "Attio rejected the request momentarily; try again.".into()),
        }),
        Err(AttioError::Status { status, body }) => {
            let message = body.message.unwrap_or_else(|| format!("Attio answered {status}"));
            let hint = match body.code.as_deref() {
                Some("filter_error" | "value_not_found" | "validation_type" | "missing_value") => {
                    " Hint: call list_attributes for this object to see its attribute slugs, types and options."
                }
                Some("not_found") => " Hint: check the object slug (list_objects) and the id.",
                Some("uniqueness_conflict") => {
                    " Hint: a record with that unique value exists; use upsert_record instead."
                }
                _ => "",
            };
            Ok(tool_error(&id, revision, format!("Attio error ({status}): {message}{hint}")))
        }
        Err(e) => Ok(tool_error(&id, revision, format!("Attio failed: {e}. Try again shortly."))),
    }
}
