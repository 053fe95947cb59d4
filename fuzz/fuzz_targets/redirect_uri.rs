//! Redirect-URI validation and matching, against a reference rule: a requested URI matches a
//! registered one only if they are the same string, except that a loopback `http` URI may
//! differ in its port (RFC 8252 §7.3). Input: `registered\nrequested`.
#![no_main]

use attio_gateway::oauth::redirect::{matches, validate, RedirectKind};
use libfuzzer_sys::fuzz_target;

fn without_port(u: &str) -> Option<String> {
    let mut url = url::Url::parse(u).ok()?;
    url.set_port(None).ok()?;
    Some(url.to_string())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (registered, requested) = text.split_once('\n').unwrap_or((text, text));
    let kind = validate(registered);
    if let Ok(kind) = kind {
        let url = url::Url::parse(registered).expect("a valid redirect URI parses");
        assert!(url.fragment().is_none(), "fragment accepted: {registered}");
        if kind == RedirectKind::Https {
            assert_eq!(url.scheme(), "https");
        }
        assert!(matches(&[registered.to_string()], registered), "not reflexive: {registered}");
    }
    let got = matches(&[registered.to_string()], requested);
    if got && registered != requested {
        // Only a loopback port may differ.
        assert_eq!(kind, Ok(RedirectKind::Loopback), "{registered} matched {requested}");
        assert_eq!(without_port(registered), without_port(requested), "{registered} matched {requested}");
    }
});
