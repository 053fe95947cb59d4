//! JSON-RPC 2.0 as MCP uses it: one message per POST (batches were removed in 2025-06-18),
//! requests with an `id`, notifications without, and the standard error codes.

use serde_json::{json, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP 2026-07-28: an `Mcp-*` or `MCP-Protocol-Version` header missing or disagreeing with the body.
pub const HEADER_MISMATCH: i64 = -32020;
/// MCP 2026-07-28: the requested protocol revision is not one the server speaks.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A parsed message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
    },
    /// A response from the client (to a request we never send): acknowledged like a notification.
    Response,
}

/// An error to send back, with the id it answers (`null` when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub id: Value,
    pub code: i64,
    pub message: String,
    /// Structured detail (`error.data`), when the code defines one.
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(id: Value, code: i64, message: impl Into<String>) -> Self {
        Self { id, code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        json!({"jsonrpc": "2.0", "id": self.id, "error": error})
    }
}

pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Parses one JSON-RPC message from a request body.
pub fn parse(body: &[u8]) -> Result<Message, RpcError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| RpcError::new(Value::Null, PARSE_ERROR, "parse error: the body is not JSON"))?;
    if value.is_array() {
        return Err(RpcError::new(
            Value::Null,
            INVALID_REQUEST,
            "batches are not supported: send one message per request",
        ));
    }
    let Some(obj) = value.as_object() else {
        return Err(RpcError::new(Value::Null, INVALID_REQUEST, "a JSON-RPC message must be an object"));
    };
    let id = obj.get("id").cloned();
    let id_ok = id.as_ref().is_none_or(|i| i.is_string() || i.is_i64() || i.is_u64());
    let echo = id.clone().filter(|_| id_ok).unwrap_or(Value::Null);
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(RpcError::new(echo, INVALID_REQUEST, "jsonrpc must be \"2.0\""));
    }
    if !id_ok {
        return Err(RpcError::new(Value::Null, INVALID_REQUEST, "id must be a string or an integer"));
    }
    match (obj.get("method"), id) {
        (Some(Value::String(method)), Some(id)) => {
            let params = obj.get("params").cloned().unwrap_or(json!({}));
            if !params.is_object() {
                return Err(RpcError::new(id, INVALID_PARAMS, "params must be an object"));
            }
            Ok(Message::Request { id, method: method.clone(), params })
        }
        (Some(Value::String(method)), None) => Ok(Message::Notification { method: method.clone() }),
        (None, Some(_)) if obj.contains_key("result") || obj.contains_key("error") => Ok(Message::Response),
        (_, id) => Err(RpcError::new(id.unwrap_or(Value::Null), INVALID_REQUEST, "method must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_errors() {
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap(),
            Message::Request { id: json!(1), method: "ping".into(), params: json!({}) }
        );
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
            Message::Notification { method: "notifications/initialized".into() }
        );
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap(), Message::Response);
        assert_eq!(parse(b"{not json").unwrap_err().code, PARSE_ERROR);
        assert_eq!(parse(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).unwrap_err().code, INVALID_REQUEST);
        assert_eq!(
            parse(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#).unwrap_err(),
            RpcError::new(json!(1), INVALID_REQUEST, "jsonrpc must be \"2.0\"")
        );
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#).unwrap_err().id, Value::Null);
        assert_eq!(
            parse(br#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#).unwrap_err().code,
            INVALID_PARAMS
        );
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":3}"#).unwrap_err().code, INVALID_REQUEST);
        assert_eq!(parse(b"42").unwrap_err().code, INVALID_REQUEST);
    }
}
