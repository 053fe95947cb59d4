//! Client assertions (`private_key_jwt`) and key sets: any input is refused or read without a
//! panic, an accepted assertion names one of the two allowed algorithms, and every key kept is
//! one of the two accepted types with its own algorithm.
#![no_main]

use attio_gateway::oauth::clients::assertion::{self, Expected};
use attio_gateway::oauth::clients::jwk::{self, JwsAlg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(a) = assertion::parse(text) {
            assert!(JwsAlg::ALL.contains(&a.alg));
            assert!(!a.signature.is_empty());
            let audiences = ["https://gw.test/token".to_string()];
            let expected = Expected { client_id: "https://c.test/c.json", audiences: &audiences, alg: None, now_secs: 1 };
            let _ = assertion::check(&a, &expected);
        }
    }
    if let Ok(keys) = jwk::parse_set_bytes(data) {
        assert!(!keys.is_empty() && keys.len() <= jwk::MAX_KEYS);
    }
});
