//! Executing `tools/call` (MCP 2025-06-18 §tools, 2026-07-28 stateless rules): the tool and
//! its arguments checked (including 2026-07-28's `Mcp-Param-*` mirrors and a read-only grant's
//! limits), the person's Attio connection used, Attio's answer turned into a tool result an
//! agent can act on (errors say what to do next), and one audit entry per call. The HTTP
//! transport around it is `routes/mcp.rs`.

use http::header::WWW_AUTHENTICATE;
use http::StatusCode;
use serde_json::{json, Value};

use super::compact::compact;
use super::fetch::{Acting, Failure, Fetcher};
use super::jsonrpc::{self, RpcError};
use super::output::{envelope_for, Output};
use super::paging::{fit, Page};
use super::tools::{self, Plan};
use super::Revision;
use crate::attio::connection::{self, ConnectionError};
use crate::auth::access::Principal;
use crate::base::http::{header_str, json as json_response, set_header, Request, Response};
use crate::context::Ctx;
use crate::error::AppError;
use crate::oauth::bearer;
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::platform::Platform;
use crate::store::audit;

/// A JSON-RPC error as the HTTP response carrying it.
pub fn rpc_error(status: StatusCode, error: RpcError) -> Response {
    json_response(status, &error.to_json())
}

/// A tool result with a text rendering and, for JSON, the structured value.
fn tool_result(id: &Value, revision: Revision, structured: Option<Value>, text: String, is_error: bool) -> Response {
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
            RpcError::new(
                id,
                jsonrpc::INVALID_REQUEST,
                if principal.policy.writes_off {
                    format!("{name} changes data; the administrator of this gateway has turned writes off")
                } else {
                    format!("{name} changes data; this grant is read-only")
                },
            ),
        );
        let challenge = bearer::challenge(&ctx.origin, Audience::Mcp, Some("insufficient_scope"), Some(SCOPE_WRITE));
        set_header(&mut resp, WWW_AUTHENTICATE, &challenge);
        return Ok(resp);
    }
    if !tool.allowed_for(&principal.groups()) {
        let scope = tool.group().map_or("", |g| g.scope());
        let mut resp = rpc_error(
            StatusCode::FORBIDDEN,
            RpcError::new(id, jsonrpc::INVALID_REQUEST, format!("{name} is outside what this grant allows ({scope}), or its tool group is turned off by the gateway's administrator")),
        );
        let challenge = bearer::challenge(&ctx.origin, Audience::Mcp, Some("insufficient_scope"), Some(scope));
        set_header(&mut resp, WWW_AUTHENTICATE, &challenge);
        return Ok(resp);
    }
    run_tool(p, ctx, principal, Answering { id: &id, revision }, tool, params).await
}

/// The audit record of a `tools/call` naming a known tool: the tool, whether it writes, and
/// the ids among its arguments (never other values). `None` for an unknown tool (the call is
/// refused before anything happens).
pub fn audit_record(params: &Value) -> Option<audit::Entry> {
    let tool = tools::find(params.get("name").and_then(Value::as_str)?)?;
    let ids = params
        .get("arguments")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.ends_with("_id") || matches!(k.as_str(), "object" | "list" | "parent_object"))
        .filter_map(|(_, v)| v.as_str())
        .filter(|v| v.len() <= 100)
        .map(str::to_string)
        .collect();
    Some(audit::Entry::call("tool", tool.name, tool.write, ids))
}

/// Attaches a tool call's outcome to its record: `ok`, `error` (the tool reported a failure:
/// Attio's error, or Attio unreachable), or `refused <status>` (the gateway refused it: a write
/// under a read-only grant, a tool group not granted, a malformed request).
pub fn finish_record<P: Platform>(
    p: &P,
    principal: &Principal,
    pending: &audit::Pending,
    answer: &Result<Response, AppError>,
    started_ms: u64,
) {
    let outcome = match answer {
        Ok(resp) => match resp.extensions().get::<ToolFailed>() {
            Some(ToolFailed(false)) => "ok".to_string(),
            Some(ToolFailed(true)) => "error".to_string(),
            None => format!("refused {}", resp.status().as_u16()),
        },
        Err(_) => "error".to_string(),
    };
    let ended = audit::Ended { outcome, status: None, duration_ms: Some(p.now_ms().saturating_sub(started_ms)) };
    audit::finish(p, pending, &principal.client_id, ended);
}

/// Bytes of list items one answer carries at most (about 10k tokens); the rest is a page away.
const ITEMS_BUDGET: usize = 40_000;

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
    let args = params.get("arguments").unwrap_or(&Value::Null);
    Ok(match execute(p, ctx, principal, tool, args).await? {
        Ok(structured) => {
            // The text carries the whole result (most clients show the model only the text),
            // without indentation.
            let text = serde_json::to_string(&structured).unwrap_or_default();
            tool_result(to.id, to.revision, Some(structured), text, false)
        }
        Err(message) => tool_error(to.id, to.revision, message),
    })
}

/// Runs `tool` with `args` on the person's Attio connection: its structured result, or what
/// to tell the agent (what went wrong and what to do next).
async fn execute<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    principal: &Principal,
    tool: &tools::Tool,
    args: &Value,
) -> Result<Result<Value, String>, AppError> {
    let config = ctx.config;
    let name = tool.name;
    let plan = match tool.build(args) {
        Ok(plan) => plan,
        Err(why) => return Ok(Err(format!("Invalid arguments for {name}: {why}"))),
    };
    let vault = config.vault();
    let conn = match connection::usable_for_grant(p, config, vault, &principal.user, principal.connection_epoch, &principal.connection).await {
        Ok(c) => c,
        Err(ConnectionError::NotConnected | ConnectionError::Revoked | ConnectionError::Unreadable) => {
            return Ok(Err(format!("The Attio connection is gone. The person must connect again at {}/connect, then re-authorize this app.", ctx.origin.clone())))
        }
        Err(e) => return Ok(Err(format!("Attio is temporarily unavailable ({e}); try again shortly."))),
    };
    let token =
        connection::access_token(&conn).map_err(|e| AppError::unavailable_because("the Attio connection", e))?;
    let acting = match config.owner {
        Some(_) => Acting::Workspace { approver_email: conn.member_email.as_deref() },
        None => Acting::Member(&principal.user.member_id),
    };
    let fetcher = Fetcher { platform: p, api: config.attio(), token, acting };
    // No log line here: the audit record is the trace of every call (hot path).
    let answer = match &plan {
        Plan::One(call) => fetcher.get(call).await,
        Plan::Options { options, statuses } => match fetcher.get(options).await {
            // Not a select attribute: perhaps a status one.
            Err(Failure::Status { status: 400, .. }) => fetcher.get(statuses).await,
            other => other,
        },
        Plan::WhoAmI => whoami(&fetcher, principal, config.owner.is_some()).await,
        Plan::Activity(request) => super::activity::run(&fetcher, request, &principal.groups(), p.now_ms()).await,
        Plan::Transcript(request) => super::transcript::run(&fetcher, request).await,
    };
    Ok(match answer {
        Ok(value) => {
            let raw = args.get(tools::RAW).and_then(Value::as_bool) == Some(true);
            Ok(shape(tool, args, value, raw))
        }
        Err(Failure::Unauthorized) => Err(match connection::verify(p, config, vault, &conn).await {
            Err(ConnectionError::Revoked) => format!(
                "Attio revoked this connection. The person must connect again at {}/connect.",
                ctx.origin.clone()
            ),
            _ => "Attio rejected the request momentarily; try again.".into(),
        }),
        Err(failure) => Err(explain(tool, &failure, &ctx.origin)),
    })
}

/// `completion/complete` (MCP 2025-06-18 §completion) for a prompt's argument: record names
/// matching what was typed (Attio's record search, as the connected member sees them) or object
/// slugs; nothing for free text. At most ten, best first.
pub async fn complete<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    principal: &Principal,
    revision: Revision,
    id: Value,
    params: &Value,
) -> Result<Response, AppError> {
    let invalid = |why: String| Ok(rpc_error(StatusCode::OK, RpcError::new(id.clone(), jsonrpc::INVALID_PARAMS, why)));
    let reference = &params["ref"];
    let prompt = match (reference["type"].as_str(), reference["name"].as_str().and_then(super::prompts::find)) {
        (Some("ref/prompt"), Some(prompt)) => prompt,
        (Some("ref/prompt"), None) => return invalid("unknown prompt; see prompts/list".into()),
        _ => return invalid("completions are offered for prompt arguments (ref/prompt) only".into()),
    };
    let Some(argument) = params["argument"]["name"].as_str() else {
        return invalid("argument.name is required".into());
    };
    let typed = params["argument"]["value"].as_str().unwrap_or("").trim().to_lowercase();
    let context = &params["context"]["arguments"];
    let (tool, args) = match super::prompts::suggest(prompt, argument) {
        super::prompts::Suggest::Record if !typed.is_empty() => {
            let objects = context["object"].as_str().map_or(json!(["companies", "people", "deals"]), |o| json!([o]));
            ("search_records", json!({"query": typed, "objects": objects, "limit": 10}))
        }
        super::prompts::Suggest::Object => ("list_objects", json!({})),
        _ => ("", Value::Null),
    };
    let mut values: Vec<String> = Vec::new();
    if let Some(tool) = tools::find(tool).filter(|t| t.allowed_for(&principal.groups())) {
        let found = execute(p, ctx, principal, tool, &args).await?.unwrap_or_default();
        let field = if tool.name == "list_objects" { "api_slug" } else { "record_text" };
        values = found["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item[field].as_str())
            .filter(|v| field == "record_text" || v.to_lowercase().starts_with(&typed))
            .map(str::to_string)
            .take(10)
            .collect();
        values.dedup();
    }
    let result = json!({"completion": {"values": values, "hasMore": false}});
    let mut resp =
        json_response(StatusCode::OK, &jsonrpc::result(&id, super::shape(revision, "completion/complete", result)));
    resp.extensions_mut().insert(ToolFailed(false));
    Ok(resp)
}

/// A compact (or, asked for, raw) result: projected to the asked attributes, a page put in a
/// useful order, lists cut to [`ITEMS_BUDGET`] by whole items saying how to continue, in the
/// envelope the tool's output schema declares.
fn shape(tool: &tools::Tool, args: &Value, value: Value, raw: bool) -> Value {
    let arg = |k: &str| args.get(k).and_then(Value::as_u64);
    let page = tool
        .pages()
        .then(|| Page { offset: arg("offset").unwrap_or(0), limit: arg("limit").unwrap_or(tools::DEFAULT_LIMIT) });
    let mut value =
        if raw || matches!(tool.output, Output::WhoAmI | Output::Activity) { value } else { compact(&value) };
    if !raw {
        if let Some(wanted) = args.get(tools::ATTRIBUTES).and_then(Value::as_array) {
            project(&mut value, wanted);
        }
        if let (Output::List(item), Some(items)) = (tool.output, value.get_mut("data").and_then(Value::as_array_mut)) {
            item.order(items);
        }
    }
    let value = if tool.output == Output::Activity { value } else { fit(value, page, ITEMS_BUDGET) };
    envelope_for(tool.output, value)
}

/// Keeps only the wanted attribute slugs in each item's `values`.
fn project(value: &mut Value, wanted: &[Value]) {
    let keep = |item: &mut Value| {
        if let Some(values) = item.get_mut("values").and_then(Value::as_object_mut) {
            values.retain(|k, _| wanted.iter().any(|w| w.as_str() == Some(k)));
        }
    };
    match value.get_mut("data") {
        Some(Value::Array(items)) => items.iter_mut().for_each(keep),
        Some(item) => keep(item),
        None => {}
    }
}

/// `whoami`: the workspace from `/v2/self`, the member's name and email beside it (without them
/// when the app may not read members), and what this grant may do.
async fn whoami<P: Platform>(f: &Fetcher<'_, P>, principal: &Principal, owner_mode: bool) -> Result<Value, Failure> {
    let this = tools::Call::get("/v2/self".into());
    // Owner mode's person is no Attio member: nothing to look up.
    let (identity, member) = if owner_mode {
        (f.get(&this).await, Err(Failure::NotJson))
    } else {
        let me = tools::Call::get(format!("/v2/workspace_members/{}", principal.user.member_id));
        futures_util::future::join(f.get(&this), f.get(&me)).await
    };
    let identity = identity?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let mut person = json!({"id": principal.user.member_id});
    if let Ok(m) = member.as_ref().map(|m| &m["data"]) {
        let name = [text(m, "first_name"), text(m, "last_name")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        person["name"] = json!(name);
        person["email"] = json!(text(m, "email_address"));
        person["access_level"] = json!(text(m, "access_level"));
    }
    let scopes: Vec<&str> = identity.get("scope").and_then(Value::as_str).unwrap_or("").split_whitespace().collect();
    let access = if principal.can_write() { "read-write" } else { "read-only" };
    Ok(json!({"data": {
        "workspace_id": text(&identity, "workspace_id").unwrap_or_else(|| principal.user.workspace_id.clone()),
        "workspace_name": text(&identity, "workspace_name"),
        "workspace_slug": text(&identity, "workspace_slug"),
        "member": person,
        "attio_scopes": scopes,
        "tool_access": access,
        "acting_as": if owner_mode {
            "the whole workspace, through its owner's Attio key (no member: assign tasks by email)"
        } else {
            "the member above"
        },
    }}))
}

/// A failure as a tool error that says what to do next.
fn explain(tool: &tools::Tool, failure: &Failure, origin: &str) -> String {
    match failure {
        Failure::RateLimited(Some(1)) => "Attio's rate limit was reached. Retry in 1 second.".into(),
        Failure::RateLimited(Some(n)) => format!("Attio's rate limit was reached. Retry in {n} seconds."),
        Failure::RateLimited(None) => "Attio's rate limit was reached. Retry in a few seconds.".into(),
        Failure::Unreachable(e) => format!("Attio could not be reached ({e}); try again shortly."),
        Failure::NotJson => "Attio's answer was cut off or is not JSON; nothing is known about its effect. \
                             Check with a read before retrying a write."
            .into(),
        Failure::Unauthorized => "Attio rejected the request momentarily; try again.".into(),
        Failure::NoAuthor(None) => "This gateway reaches Attio with its owner's workspace key, and Attio \
            writes a comment only as a workspace member. The app was approved with the owner password, which \
            names no member, so nothing was written. Write a note instead (create_note), or have the deployer \
            put the gateway behind Cloudflare Access so approvals name a member by email."
            .into(),
        Failure::NoAuthor(Some(email)) => format!(
            "This gateway reaches Attio with its owner's workspace key, and Attio writes a comment only as a \
             workspace member. The person who approved this app ({email}) is not a member of this Attio \
             workspace, so nothing was written. Write a note instead (create_note)."
        ),
        Failure::Status { status, code, message } => {
            let message = message.clone().unwrap_or_else(|| format!("Attio answered {status}"));
            let hint = match (status, code.as_deref()) {
                (403, Some("billing_error" | "quota_exceeded")) => {
                    " Hint: the Attio workspace's plan does not allow this; nothing to retry.".to_string()
                }
                (403, _) => format!(
                    " Hint: the Attio app behind this gateway lacks a scope this tool needs ({}). The deployer \
                     adds it to the app in Attio's developer settings (the gateway's /setup page lists each \
                     tool's scopes); then the person reconnects at {origin}/connect.",
                    tool.scopes.join(", ")
                ),
                (_, Some("value_not_found")) => " Hint: a select or status value is not one the attribute \
                    accepts; call list_attribute_options for its titles (list_attributes for slugs)."
                    .into(),
                (_, Some("filter_error" | "validation_type" | "missing_value")) => {
                    " Hint: call list_attributes for this object to see its attribute slugs and types.".into()
                }
                (404, _) => " Hint: check the object or list slug (list_objects, list_lists) and the id.".into(),
                (_, Some("uniqueness_conflict")) => {
                    " Hint: a record with that unique value exists; use upsert_record instead.".into()
                }
                _ => String::new(),
            };
            format!("Attio error ({status}): {message}{hint}")
        }
    }
}
