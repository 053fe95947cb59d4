//! `Authorization` headers: the bearer parser (RFC 6750 §2.1) and Basic client credentials
//! (RFC 6749 §2.3.1). Never a panic; a bearer token found is always non-empty and from the header.
#![no_main]

use attio_gateway::oauth::bearer;
use attio_gateway::auth::client_auth::parse_basic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = http::HeaderValue::from_bytes(data) else { return };
    let req = http::Request::builder().uri("https://gw.test/mcp").header("authorization", value).body(Vec::new());
    if let Ok(req) = req {
        if let Ok(Some(token)) = bearer::token(&req) {
            assert!(!token.is_empty());
            assert!(data.windows(token.len()).any(|w| w == token.as_bytes()));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_basic(text);
    }
});
