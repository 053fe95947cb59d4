//! Parsing URLs that come from outside (redirect URIs, CIMD client ids, settings, page links).
//!
//! A URI is ASCII (RFC 3986 §2); an IRI is not a URI. Anything else is refused before the `url`
//! parser sees it. With idna's stub back end (pinned in Cargo.toml) a non-ASCII host would be
//! refused anyway, but a label mixing upper-case ASCII with non-ASCII reaches a path the stub
//! does not expect (a debug assertion, found by the `cimd_document` fuzz target); refusing up
//! front keeps that path unreachable, whatever the build.

use url::Url;

/// The URL, when `raw` is ASCII and parses.
pub fn parse(raw: &str) -> Option<Url> {
    if !raw.is_ascii() {
        return None;
    }
    // Percent-escapes can still spell a non-ASCII host (`ws://M%e0`). Parsing the lower-cased
    // text first refuses those without upper-case ASCII ever reaching the stub (only that
    // trips it), and case never decides whether a URL parses, so the original parses exactly
    // when this one does.
    Url::parse(&raw.to_ascii_lowercase()).ok()?;
    Url::parse(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_urls_parse() {
        assert_eq!(
            parse("https://app.example.com/cb").map(String::from).as_deref(),
            Some("https://app.example.com/cb")
        );
        assert!(parse("https://xn--e1afmkfd.example/cb").is_some(), "punycode is ASCII");
        for raw in
            ["https://пример.example/cb", "https://app.example.com/caf\u{e9}", "ws:A\u{41f}", "https://A\u{41f}/"]
        {
            assert!(parse(raw).is_none(), "{raw} parsed");
        }
    }
}
