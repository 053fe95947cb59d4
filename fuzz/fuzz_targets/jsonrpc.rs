//! JSON-RPC messages as /mcp receives them: never a panic; a request always has an object for
//! params; errors answer with a valid id or null.
#![no_main]

use attio_gateway::mcp::jsonrpc::{parse, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(Message::Request { params, id, .. }) => {
            assert!(params.is_object());
            assert!(id.is_string() || id.is_i64() || id.is_u64());
        }
        Ok(_) => {}
        Err(e) => {
            assert!(e.id.is_null() || e.id.is_string() || e.id.is_number());
            let _ = e.to_json().to_string();
        }
    }
});
