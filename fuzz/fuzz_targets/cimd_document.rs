//! Client ID Metadata Documents: the document must name itself, and only valid redirect URIs
//! survive.
#![no_main]

use attio_gateway::oauth::clients::cimd;
use attio_gateway::oauth::{public_url, redirect};
use libfuzzer_sys::fuzz_target;

const CLIENT_ID: &str = "https://app.example.com/oauth/client.json";

fuzz_target!(|data: &[u8]| {
    if let Ok(client) = cimd::parse_document(CLIENT_ID, data, 1_700_000_000_000, false) {
        assert_eq!(client.client_id, CLIENT_ID);
        for uri in &client.redirect_uris {
            assert!(redirect::validate(uri).is_ok(), "accepted an invalid redirect URI {uri:?}");
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = public_url::check(text, false);
    }
});
