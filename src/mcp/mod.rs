//! The MCP server (Model Context Protocol, revisions 2025-06-18, 2025-11-25 and 2026-07-28,
//! streamable HTTP in its stateless JSON-response form): message parsing ([`jsonrpc`]), the
//! tools ([`tools`]), their arguments ([`arguments`]) and result shapes ([`output`]), executing a
//! tool call ([`call`]) through Attio requests ([`fetch`]), shaping its result ([`compact`],
//! [`paging`]), a record's timeline ([`activity`]), workflows as prompts ([`prompts`]), and the
//! method checks below. The HTTP
//! transport lives in `routes/mcp.rs`.
//!
//! May use everything below the routes but `pages`; never `routes` or the edge.

pub mod activity;
pub mod arguments;
pub mod call;
pub mod compact;
pub mod fetch;
pub mod jsonrpc;
pub mod output;
pub mod paging;
pub mod prompts;
pub mod tools;
pub mod transcript;

use http::StatusCode;
use serde_json::{json, Value};

use crate::oauth::grants::tool_groups::Group;
use jsonrpc::{RpcError, HEADER_MISMATCH, INVALID_PARAMS, UNSUPPORTED_PROTOCOL_VERSION};

/// Protocol revisions this server speaks, newest first.
pub const VERSIONS: &[&str] = &["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];
/// What a client gets when it asks for a revision we do not speak.
pub const PREFERRED: &str = "2025-11-25";

pub fn supported(version: &str) -> bool {
    VERSIONS.contains(&version)
}

/// The stateless revision: no `initialize`, version and capabilities in every request's `_meta`.
pub const STATELESS: &str = "2026-07-28";
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// How long a client may cache `tools/list` and `server/discover` (2026-07-28 list caching):
/// the tools change only with a deploy. `private`, because the list depends on the grant.
const LIST_TTL_MS: u64 = 300_000;

/// Which rules a request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revision {
    /// 2025-03-26 to 2025-11-25: `initialize` first, results without `resultType`.
    Legacy,
    /// 2026-07-28 and later.
    Stateless,
}

/// The protocol headers of a request (values already trimmed of surrounding whitespace).
#[derive(Debug, Default, Clone, Copy)]
pub struct Headers<'a> {
    pub protocol_version: Option<&'a str>,
    pub method: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// Methods whose target is named in `Mcp-Name` (2026-07-28).
fn named(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    }
}

/// Checks a request's protocol headers and `_meta` against its body and says which rules it
/// follows; a failure carries the HTTP status and the JSON-RPC error (with the request's id).
pub fn check_request(h: Headers, id: &Value, method: &str, params: &Value) -> Result<Revision, (StatusCode, RpcError)> {
    let bad = |code, message: String| (StatusCode::BAD_REQUEST, RpcError::new(id.clone(), code, message));
    if let Some(v) = h.protocol_version.filter(|v| !supported(v)) {
        let data = json!({"supported": VERSIONS, "requested": v});
        let message = format!("unsupported MCP-Protocol-Version {v:?}; supported: {}", VERSIONS.join(", "));
        return Err((
            StatusCode::BAD_REQUEST,
            RpcError::new(id.clone(), UNSUPPORTED_PROTOCOL_VERSION, message).with_data(data),
        ));
    }
    let target = named(method).and_then(|field| params.get(field)).and_then(Value::as_str);
    if let Some(header) = h.method.filter(|m| *m != method) {
        return Err(bad(
            HEADER_MISMATCH,
            format!("Mcp-Method header {header:?} does not match the body's method {method:?}"),
        ));
    }
    if let Some(header) = h.name.filter(|n| Some(*n) != target) {
        let body = target.unwrap_or("");
        return Err(bad(HEADER_MISMATCH, format!("Mcp-Name header {header:?} does not match the body's {body:?}")));
    }
    let meta = params.get("_meta");
    let meta_version = meta.and_then(|m| m.get(META_VERSION)).and_then(Value::as_str);
    if h.protocol_version != Some(STATELESS) && meta_version != Some(STATELESS) {
        return Ok(Revision::Legacy);
    }
    let Some(header) = h.protocol_version else {
        return Err(bad(HEADER_MISMATCH, "the MCP-Protocol-Version header is required".into()));
    };
    let missing: Vec<&str> =
        [META_VERSION, META_CAPABILITIES].into_iter().filter(|k| meta.and_then(|m| m.get(*k)).is_none()).collect();
    if !missing.is_empty() {
        return Err(bad(INVALID_PARAMS, format!("invalid params: _meta lacks {}", missing.join(", "))));
    }
    if meta_version != Some(header) {
        return Err(bad(HEADER_MISMATCH, "MCP-Protocol-Version header does not match _meta's protocolVersion".into()));
    }
    if h.method.is_none() {
        return Err(bad(HEADER_MISMATCH, "the Mcp-Method header is required".into()));
    }
    if target.is_some() && h.name.is_none() {
        return Err(bad(HEADER_MISMATCH, "the Mcp-Name header is required for this method".into()));
    }
    Ok(Revision::Stateless)
}

/// Checks one `Mcp-Param-*` header against the argument it mirrors (SEP-2243): present exactly
/// when the argument is, and equal to it — literally, or as `=?base64?…?=` (standard alphabet,
/// padded) for values a header cannot carry.
pub fn check_param_header(header: Option<&str>, argument: Option<&Value>) -> Result<(), String> {
    use base64::Engine as _;
    let (header, argument) = match (header, argument.filter(|a| !a.is_null())) {
        (None, None) => return Ok(()),
        (None, Some(_)) => return Err("the argument is present but its header is missing".into()),
        (Some(_), None) => return Err("the header is present but the argument is not".into()),
        (Some(h), Some(a)) => (h, a),
    };
    let decoded = match header.strip_prefix("=?base64?").and_then(|rest| rest.strip_suffix("?=")) {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or("the header is not valid base64 UTF-8")?,
        None => header.to_string(),
    };
    let matches = match argument {
        Value::String(s) => *s == decoded,
        Value::Bool(b) => decoded == b.to_string(),
        Value::Number(n) => decoded.parse::<f64>().ok().zip(n.as_f64()).is_some_and(|(h, b)| (h - b).abs() < 1e-9),
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err("the header does not match the argument".into())
    }
}

/// A result as the revision wants it: 2026-07-28 results say they are complete, and list-like
/// ones how long they may be cached.
pub fn shape(revision: Revision, method: &str, mut result: Value) -> Value {
    if revision == Revision::Stateless {
        result["resultType"] = json!("complete");
        if matches!(method, "server/discover" | "tools/list" | "prompts/list") {
            result["ttlMs"] = json!(LIST_TTL_MS);
            result["cacheScope"] = json!("private");
        }
    }
    result
}

fn server_info() -> Value {
    json!({"name": "attio-gateway", "title": "Attio", "version": env!("CARGO_PKG_VERSION")})
}

const INSTRUCTIONS: &str = "Tools for the person's Attio CRM workspace. Start with whoami, list_objects and \
    list_attributes to learn the slugs; query_records and search_records find records; write tools need a \
    read-write grant.";

/// The `server/discover` result (2026-07-28; before `shape`).
pub fn discover_result() -> Value {
    json!({
        "supportedVersions": VERSIONS,
        "capabilities": capabilities(),
        "instructions": INSTRUCTIONS,
        "_meta": {"io.modelcontextprotocol/serverInfo": server_info()},
    })
}

/// What the server offers: tools, prompts (workflows), and completions of prompt arguments.
fn capabilities() -> Value {
    json!({"tools": {"listChanged": false}, "prompts": {"listChanged": false}, "completions": {}})
}

/// The `initialize` result, for the revision the client asked for.
pub fn initialize_result(requested: Option<&str>) -> Value {
    let version = requested.filter(|v| supported(v)).unwrap_or(PREFERRED);
    json!({
        "protocolVersion": version,
        "capabilities": capabilities(),
        "serverInfo": server_info(),
        "instructions": INSTRUCTIONS,
    })
}

/// The `tools/list` result: only the tools this grant may call.
pub fn list_tools(can_write: bool, groups: &[Group]) -> Value {
    // Descriptions built once per isolate: they change only with a deploy.
    static DESCRIBED: std::sync::OnceLock<Vec<(&'static tools::Tool, Value)>> = std::sync::OnceLock::new();
    let described = DESCRIBED.get_or_init(|| tools::all().map(|t| (t, t.describe())).collect());
    let tools: Vec<Value> = described
        .iter()
        .filter(|(t, _)| (can_write || !t.write) && t.allowed_for(groups))
        .map(|(_, d)| d.clone())
        .collect();
    json!({ "tools": tools })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::grants::tool_groups::GROUPS;

    #[test]
    fn version_negotiation() {
        assert_eq!(initialize_result(Some("2025-06-18"))["protocolVersion"], "2025-06-18");
        assert_eq!(initialize_result(Some("2026-07-28"))["protocolVersion"], "2026-07-28");
        assert_eq!(initialize_result(Some("1999-01-01"))["protocolVersion"], PREFERRED);
        assert_eq!(initialize_result(None)["protocolVersion"], PREFERRED);
    }

    fn modern(method: &'static str, name: Option<&'static str>) -> Headers<'static> {
        Headers { protocol_version: Some(STATELESS), method: Some(method), name }
    }

    fn meta(version: &str) -> Value {
        json!({"_meta": {META_VERSION: version, META_CAPABILITIES: {}}})
    }

    #[test]
    fn legacy_requests_need_no_meta_but_headers_must_agree() {
        let id = json!(7);
        assert_eq!(check_request(Headers::default(), &id, "ping", &json!({})), Ok(Revision::Legacy));
        let old = Headers { protocol_version: Some("2025-06-18"), ..Headers::default() };
        assert_eq!(check_request(old, &id, "tools/list", &json!({})), Ok(Revision::Legacy));
        let (status, e) = check_request(
            Headers { method: Some("tools/list"), ..Headers::default() },
            &id,
            "tools/call",
            &json!({"name": "whoami"}),
        )
        .unwrap_err();
        assert_eq!((status, e.code, e.id), (StatusCode::BAD_REQUEST, HEADER_MISMATCH, id.clone()));
    }

    #[test]
    fn stateless_requests_are_checked_against_their_meta() {
        let id = json!("r1");
        let call = |h, params: Value| check_request(h, &id, "tools/call", &params).map_err(|(s, e)| (s, e.code));
        let mut ok = meta(STATELESS);
        ok["name"] = json!("whoami");
        assert_eq!(call(modern("tools/call", Some("whoami")), ok.clone()), Ok(Revision::Stateless));
        // Missing _meta keys: invalid params.
        assert_eq!(
            call(modern("tools/call", Some("whoami")), json!({"name": "whoami"})),
            Err((StatusCode::BAD_REQUEST, INVALID_PARAMS))
        );
        // The version header is required, must match _meta, and must be one we speak.
        let no_header = Headers { protocol_version: None, ..modern("tools/call", Some("whoami")) };
        assert_eq!(call(no_header, ok.clone()), Err((StatusCode::BAD_REQUEST, HEADER_MISMATCH)));
        let mut other = meta("2025-11-25");
        other["name"] = json!("whoami");
        assert_eq!(call(modern("tools/call", Some("whoami")), other), Err((StatusCode::BAD_REQUEST, HEADER_MISMATCH)));
        let future = Headers { protocol_version: Some("2099-01-01"), ..modern("tools/call", Some("whoami")) };
        let (_, e) = check_request(future, &id, "tools/call", &ok).unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_PROTOCOL_VERSION);
        assert_eq!(e.data.unwrap()["requested"], "2099-01-01");
        // Mcp-Method and (for tools/call) Mcp-Name are required and must match.
        let no_name = Headers { name: None, ..modern("tools/call", None) };
        assert_eq!(call(no_name, ok.clone()), Err((StatusCode::BAD_REQUEST, HEADER_MISMATCH)));
        let no_method = Headers { method: None, ..modern("tools/call", Some("whoami")) };
        assert_eq!(call(no_method, ok.clone()), Err((StatusCode::BAD_REQUEST, HEADER_MISMATCH)));
        assert_eq!(call(modern("tools/call", Some("other")), ok), Err((StatusCode::BAD_REQUEST, HEADER_MISMATCH)));
    }

    #[test]
    fn stateless_results_are_complete_and_lists_cacheable() {
        let list = shape(Revision::Stateless, "tools/list", list_tools(false, &GROUPS));
        assert_eq!((list["resultType"].as_str(), list["cacheScope"].as_str()), (Some("complete"), Some("private")));
        assert!(list["ttlMs"].as_u64().unwrap() > 0);
        let call = shape(Revision::Stateless, "tools/call", json!({"content": []}));
        assert!(call["resultType"] == "complete" && call.get("ttlMs").is_none());
        assert_eq!(shape(Revision::Legacy, "tools/list", json!({})), json!({}));
        let discover = shape(Revision::Stateless, "server/discover", discover_result());
        assert_eq!(discover["supportedVersions"][0], STATELESS);
        assert_eq!(discover["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "attio-gateway");
    }

    #[test]
    fn mirrored_param_headers() {
        let hello = json!("Hello");
        assert_eq!(check_param_header(Some("Hello"), Some(&hello)), Ok(()));
        assert_eq!(check_param_header(Some("=?base64?SGVsbG8=?="), Some(&hello)), Ok(()));
        assert!(check_param_header(Some("=?base64?SGVsbG8?="), Some(&hello)).is_err(), "padding is required");
        assert!(check_param_header(Some("=?base64?SGVs!!!bG8=?="), Some(&hello)).is_err());
        // Without both markers the value is literal.
        let literal = json!("=?base64?SGVsbG8=");
        assert_eq!(check_param_header(Some("=?base64?SGVsbG8="), Some(&literal)), Ok(()));
        assert!(check_param_header(None, Some(&hello)).is_err());
        assert!(check_param_header(Some("Hello"), None).is_err());
        assert!(check_param_header(Some("Other"), Some(&hello)).is_err());
        assert_eq!(check_param_header(None, None), Ok(()));
        assert_eq!(check_param_header(Some("42"), Some(&json!(42))), Ok(()));
        let mirrored = tools::find("query_records").unwrap().mirrored();
        assert_eq!(mirrored, vec![("object".to_string(), "Object".to_string())]);
    }

    #[test]
    fn read_only_grants_see_only_read_tools() {
        let read = list_tools(false, &GROUPS);
        let names: Vec<&str> = read["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"query_records") && !names.contains(&"create_record") && !names.contains(&"delete_task")
        );
        assert!(read["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));
        assert!(list_tools(true, &GROUPS)["tools"].as_array().unwrap().len() > read["tools"].as_array().unwrap().len());
        // A grant limited to notes sees the note tools and those of no group (whoami), no others.
        let notes = list_tools(true, &[Group::Notes]);
        let names: Vec<&str> = notes["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"create_note") && names.contains(&"whoami"), "{names:?}");
        assert!(!names.contains(&"query_records") && !names.contains(&"list_meetings"), "{names:?}");
    }
}
