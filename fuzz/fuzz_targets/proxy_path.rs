//! The proxy's path normaliser. Invariant: whatever the caller sends, the upstream URL keeps the
//! configured origin and stays under `/v2/`. Input: `path\nquery`.
#![no_main]

use attio_gateway::control::proxy_policy::upstream_path;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, query) = match text.split_once('\n') {
        Some((p, q)) => (p, Some(q)),
        None => (text, None),
    };
    let Ok(upstream) = upstream_path(path, query) else { return };
    assert!(upstream.starts_with("/v2/"), "{upstream}");
    let base = url::Url::parse("https://api.attio.com").unwrap();
    let joined = url::Url::parse(&format!("https://api.attio.com{upstream}")).expect("joins");
    assert_eq!(joined.origin(), base.origin(), "{upstream} left the origin");
    assert!(joined.path().starts_with("/v2/"), "{upstream} normalised out of /v2/: {}", joined.path());
    let lower = upstream.split('?').next().unwrap().to_ascii_lowercase();
    assert!(!lower.contains("%2f") && !lower.contains("%5c") && !lower.contains("/../"), "{upstream}");
});
