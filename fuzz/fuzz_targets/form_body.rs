//! Form and query parameters (RFC 6749 §3.1: no repeated names).
#![no_main]

use attio_gateway::oauth::params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(pairs) = params::parse(text) {
        for (i, (k, _)) in pairs.iter().enumerate() {
            assert!(!pairs[..i].iter().any(|(other, _)| other == k), "repeated {k:?} accepted");
        }
    }
});
