//! Dynamic client registration bodies (RFC 7591 §2): every accepted redirect URI is valid.
#![no_main]

use attio_gateway::oauth::clients::client;
use attio_gateway::oauth::redirect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(valid) = client::validate(data, false) {
        assert!(!valid.redirect_uris.is_empty());
        for uri in &valid.redirect_uris {
            assert!(redirect::validate(uri).is_ok(), "accepted an invalid redirect URI {uri:?}");
        }
    }
});
