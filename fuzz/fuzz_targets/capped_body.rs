//! The bounded body reader's accounting (`http::CappedBody`), fed arbitrary chunk sequences:
//! it never holds more than its cap, refuses exactly when the total would pass it, and keeps
//! every byte it accepted, in order.
#![no_main]

use attio_gateway::base::http::CappedBody;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, rest)) = data.split_first() else { return };
    let cap = usize::from(cap) * 16;
    let mut body = CappedBody::new(cap);
    let mut expected = Vec::new();
    // Each chunk: one length byte, then that many bytes (or what is left).
    let mut input = rest;
    while let Some((&len, tail)) = input.split_first() {
        let n = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        let fits = expected.len() + chunk.len() <= cap;
        assert_eq!(body.push(chunk).is_ok(), fits);
        if !fits {
            break;
        }
        expected.extend_from_slice(chunk);
        input = next;
    }
    let bytes = body.into_bytes();
    assert!(bytes.len() <= cap);
    assert_eq!(bytes, expected);
});
