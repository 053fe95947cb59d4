//! The MCP server (Model Context Protocol, revisions 2025-06-18, 2025-11-25 and 2026-07-28,
//! streamable HTTP in its stateless JSON-response form): message parsing ([`jsonrpc`]), the
//! tools ([`tools`]), and the method dispatch below. Pure; the HTTP transport and tool execution
//! live in `routes/mcp.rs`.

pub mod jsonrpc;
pub mod tools;

use serde_json::{json, Value};

/// Protocol revisions this server speaks, newest first.
pub const VERSIONS: &[&str] = &["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"];
/// What a client gets when it asks for a revision we do not speak.
pub const PREFERRED: &str = "2025-11-25";

pub fn supported(version: &str) -> bool {
    VERSIONS.contains(&version)
}

/// The `initialize` (and `server/discover`) result, for the revision the client asked for.
pub fn initialize_result(requested: Option<&str>) -> Value {
    let version = requested.filter(|v| supported(v)).unwrap_or(PREFERRED);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "attio-gateway", "title": "Attio", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "Tools for the person's Attio CRM workspace. Start with whoami, list_objects and \
    list_attributes to learn the slugs; query_records and search_records find records; write tools need a \
    read-write grant.",
    })
}

/// The `tools/list` result: only the tools this grant may call.
pub fn list_tools(can_write: bool) -> Value {
    let tools: Vec<Value> = tools::TOOLS.iter().filter(|t| can_write || !t.write).map(tools::Tool::describe).collect();
    json!({ "tools": tools })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_negotiation() {
        assert_eq!(initialize_result(Some("2025-06-18"))["protocolVersion"], "2025-06-18");
        assert_eq!(initialize_result(Some("2026-07-28"))["protocolVersion"], "2026-07-28");
        assert_eq!(initialize_result(Some("1999-01-01"))["protocolVersion"], PREFERRED);
        assert_eq!(initialize_result(None)["protocolVersion"], PREFERRED);
    }

    #[test]
    fn read_only_grants_see_only_read_tools() {
        let read = list_tools(false);
        let names: Vec<&str> = read["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(
            names.contains(&"query_records") && !names.contains(&"create_record") && !names.contains(&"delete_task")
        );
        assert!(read["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));
        assert!(list_tools(true)["tools"].as_array().unwrap().len() > read["tools"].as_array().unwrap().len());
    }
}
