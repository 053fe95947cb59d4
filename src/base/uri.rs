//! Parsing URLs that come from outside (redirect URIs, CIMD client ids, settings, page links).
//!
//! A URI is ASCII (RFC 3986 §2); an IRI is not a URI. Refused before the `url` parser sees
//! them: any non-ASCII character, and any percent-escape of a non-ASCII byte (`%80`–`%FF`),
//! which could spell a non-ASCII host (`ws://M%e0`). With idna's stub back end (pinned in
//! Cargo.toml) such a host would be refused anyway, but a label that mixes ASCII letters with
//! non-ASCII reaches a path the stub does not expect (a debug assertion the `cimd_document` and
//! `redirect_uri` fuzz targets found); refusing up front keeps that path unreachable in every
//! build. No client we know registers a redirect URI or client id outside plain ASCII.

use url::Url;

/// The URL, when `raw` is ASCII, escapes no non-ASCII byte, and parses.
pub fn parse(raw: &str) -> Option<Url> {
    if !raw.is_ascii() || escapes_non_ascii(raw) {
        return None;
    }
    Url::parse(raw).ok()
}

/// Whether `raw` has a `%XX` escape of a byte at or above 0x80.
fn escapes_non_ascii(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && matches!(w[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F') && w[2].is_ascii_hexdigit())
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
