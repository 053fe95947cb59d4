//! Executing `tools/call` (MCP 2025-06-18 §tools, 2026-07-28 stateless rules): the tool and
//! its arguments checked (including 2026-07-28's `Mcp-Param-*` mirrors and a read-only grant's
//! limits), the person's Attio connection used, Attio's answer turned into a tool result an
//! agent can act on (errors say what to do next), and one audit entry per call. The HTTP
//! transport around it is `routes/mcp.rs`.

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::StatusCode;
use serde_json::{json, Value};

use super::jsonrpc::{self, RpcError};
use super::{tools, Revision};
use crate::access::Principal;
use crate::attio::{check_status, AttioError};
use crate::connection::{self, ConnectionError};
use crate::context::Ctx;
use crate::error::AppError;
use crate::http::{header_str, json as json_response, set_header, Request, Response};
use crate::oauth::bearer;
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::platform::Platform;
use crate::store::audit;

/// Most characters of a tool result's text rendering (the structured result is complete).
const MAX_TEXT: usize = 50_000;

/// A JSON-RPC error as the HTTP response carrying it.
pub fn rpc_error(status: StatusCode, error: RpcError) -> Response {
    json_response(status, &error.to_json())
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
    let result = super::shape(revision, "tools/call", result);
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

pub async fn call_tool<P: Platform>(
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
            let header = header_str(req, &format!("mcp-param-{}", suffix.to_ascii_lowercase()));
            if let Err(why) = super::check_param_header(header, args.and_then(|a| a.get(&param))) {
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

/// Bytes of list items one answer carries at most (about 10k tokens); the rest is a page away.
const ITEMS_BUDGET: usize = 40_000;

/// A compact list result cut to [`ITEMS_BUDGET`] by whole items, saying how to continue.
fn paged(tool: &tools::Tool, params: &Value, shaped: Value) -> Value {
    let args = params.get("arguments");
    let arg = |k: &str| args.and_then(|a| a.get(k)).and_then(Value::as_u64);
    let page = tool.pages().then(|| super::compact::Page {
        offset: arg("offset").unwrap_or(0),
        limit: arg("limit").unwrap_or(tools::DEFAULT_LIMIT),
    });
    super::compact::fit(shaped, page, ITEMS_BUDGET)
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
    let conn = match connection::usable_for_grant(p, config, vault, &principal.user, principal.connection_epoch).await {
        Ok(c) => c,
        Err(ConnectionError::NotConnected | ConnectionError::Revoked | ConnectionError::Unreadable) => {
            return Ok(tool_error(&id, revision, format!("The Attio connection is gone. The person must connect again at {}/connect, then re-authorize this app.", ctx.origin.clone())))
        }
        Err(e) => return Ok(tool_error(&id, revision, format!("Attio is temporarily unavailable ({e}); try again shortly."))),
    };
    let token =
        connection::access_token(&conn).map_err(|e| AppError::unavailable_because("the Attio connection", e))?;
    let api = config.attio();
    let mut body = call.body.clone();
    // Search as the connected member (Attio's `request_as`), so an agent sees only what the person
    // would see in Attio, never the whole workspace.
    if let Some(request_as) = body.as_mut().and_then(|b| b.get_mut("request_as")) {
        *request_as = json!({"type": "workspace-member", "workspace_member_id": principal.user.member_id});
    }
    let body = body.map(|b| b.to_string().into_bytes());
    let request = api.request(call.method.clone(), &call.path, token, body);
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
            // Compact unless the agent asked for Attio's own JSON; no indentation either way.
            let raw = params.get("arguments").and_then(|a| a.get(tools::RAW)).and_then(Value::as_bool) == Some(true);
            let shaped = if raw { value } else { paged(tool, params, super::compact::compact(&value)) };
            let text = serde_json::to_string(&shaped).unwrap_or_default();
            let structured = if shaped.is_object() { shaped } else { json!({"result": shaped}) };
            Ok(tool_result(&id, revision, Some(structured), text, false))
        }
        Err(AttioError::RateLimited { .. }) => Ok(tool_error(
            &id,
            revision,
            match retry_after.as_deref().and_then(|v| crate::attio::retry_after_secs(v, p.now_ms())) {
                Some(1) => "Attio's rate limit was reached. Retry in 1 second.".to_string(),
                Some(n) => format!("Attio's rate limit was reached. Retry in {n} seconds."),
                None => "Attio's rate limit was reached. Retry in a few seconds.".to_string(),
            },
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
