//! Redirect URIs: which ones a client may register, and whether a requested one matches.
//!
//! - Matching is an **exact string comparison** with a registered URI (RFC 9700 §2.1, OAuth 2.1
//!   §4.1.1): no case folding, no normalisation, no prefixes. The single exception is the port
//!   of an `http` loopback URI, which may differ (RFC 8252 §7.3), everything else equal.
//! - Registration accepts `https` URIs, `http` only for loopback hosts (`127.0.0.1`, `[::1]`,
//!   `localhost`), and private-use schemes for native apps (RFC 8252 §7.1, e.g. `cursor://…`),
//!   minus a blocklist of schemes that execute or leak (`javascript:`, `data:`, `file:`, …).
//!   Fragments, credentials, control characters, backslashes and dot segments (plain or
//!   percent-encoded) are refused outright, so no later parser can read the URI differently.

/// What kind of redirect a registered URI is (shown on the consent page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Https,
    Loopback,
    /// A native app's own scheme: shown with a warning, since any app can claim a scheme.
    PrivateUse,
}

/// Longest redirect URI accepted.
pub const MAX_LEN: usize = 2000;

const BLOCKED_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "vbscript",
    "file",
    "blob",
    "mailto",
    "about",
    "ftp",
    "ws",
    "wss",
    "filesystem",
    "view-source",
];

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

/// Rejects anything one parser could read differently from another.
fn reject_ambiguous(raw: &str) -> Result<(), &'static str> {
    if raw.is_empty() || raw.len() > MAX_LEN {
        return Err("must be 1 to 2000 characters");
    }
    if raw.bytes().any(|b| b <= 0x20 || b == 0x7f || b == b'\\') {
        return Err("must not contain spaces, control characters or backslashes");
    }
    if raw.contains('#') {
        return Err("must not contain a fragment");
    }
    let lower = raw.to_ascii_lowercase();
    let path_start = lower.find("://").map_or(0, |i| i + 3);
    let rest = &lower[path_start..];
    let path = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
    let path = path.split('?').next().unwrap_or("");
    let dot_segment = path.split('/').any(|seg| matches!(seg, "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."));
    if dot_segment || path.contains("%2f") || path.contains("%5c") {
        return Err("must not contain dot segments or encoded slashes");
    }
    Ok(())
}

/// Checks a redirect URI a client wants to register.
pub fn validate(raw: &str) -> Result<RedirectKind, &'static str> {
    reject_ambiguous(raw)?;
    let (scheme, rest) = raw.split_once(':').ok_or("must be an absolute URI")?;
    let scheme_ok = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'));
    if !scheme_ok {
        return Err("must start with a valid scheme");
    }
    let scheme_lower = scheme.to_ascii_lowercase();
    if scheme != scheme_lower {
        return Err("the scheme must be lowercase");
    }
    if BLOCKED_SCHEMES.contains(&scheme_lower.as_str()) {
        return Err("this scheme is not allowed");
    }
    let url = crate::base::uri::parse(raw).ok_or("is not a valid URI")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    // For http(s), read the authority from the raw text: parsers disagree on oddities such as
    // `https:///host`, and what we match later is the raw string.
    let raw_authority = rest.strip_prefix("//").map(|r| r.split(['/', '?']).next().unwrap_or(""));
    match scheme {
        "https" => {
            if raw_authority.is_none_or(str::is_empty) || url.host_str().is_none_or(str::is_empty) {
                return Err("must name a host");
            }
            Ok(RedirectKind::Https)
        }
        "http" => {
            let host = strip_port(raw_authority.unwrap_or(""));
            if is_loopback_host(host) {
                Ok(RedirectKind::Loopback)
            } else {
                Err("http is allowed only for loopback hosts (127.0.0.1, [::1], localhost)")
            }
        }
        _ if rest.starts_with("//") || rest.contains('/') || rest.contains(':') => Ok(RedirectKind::PrivateUse),
        _ => Err("must be an https, loopback or app URI"),
    }
}

/// The authority without a trailing `:port`.
fn strip_port(authority: &str) -> &str {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && !host.ends_with(':') => {
            host
        }
        _ => authority,
    }
}

/// `http://host:port/rest` → (`http://host`, `/rest`) for loopback URIs; `None` otherwise.
fn loopback_without_port(raw: &str) -> Option<(String, &str)> {
    let rest = raw.strip_prefix("http://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = strip_port(authority);
    is_loopback_host(host).then(|| (format!("http://{host}"), tail))
}

/// Whether `requested` is one of `registered`: byte-equal, or a loopback URI that differs only
/// in its port.
pub fn matches(registered: &[String], requested: &str) -> bool {
    if reject_ambiguous(requested).is_err() {
        return false;
    }
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    let Some((req_base, req_tail)) = loopback_without_port(requested) else { return false };
    registered.iter().any(|r| loopback_without_port(r).is_some_and(|(base, tail)| base == req_base && tail == req_tail))
}

/// How a redirect URI is shown to a person (consent page, account page): its host, or for an
/// app scheme, that it goes to an app on this device.
pub fn display_host(uri: &str) -> String {
    match crate::base::uri::parse(uri) {
        Some(u) if u.scheme() == "https" || u.scheme() == "http" => u.host_str().unwrap_or("").to_string(),
        Some(u) => format!("{}:// (an app on this device)", u.scheme()),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_loopback_and_app_schemes() {
        assert_eq!(validate("https://claude.ai/api/mcp/auth_callback"), Ok(RedirectKind::Https));
        assert_eq!(validate("http://127.0.0.1:33418/callback"), Ok(RedirectKind::Loopback));
        assert_eq!(validate("http://localhost:6274/oauth/callback"), Ok(RedirectKind::Loopback));
        assert_eq!(validate("http://[::1]:8080/cb"), Ok(RedirectKind::Loopback));
        assert_eq!(validate("http://127.0.0.1/cb"), Ok(RedirectKind::Loopback));
        assert_eq!(validate("cursor://anysphere.cursor-mcp/oauth/callback"), Ok(RedirectKind::PrivateUse));
        assert_eq!(validate("com.example.app:/oauth2redirect"), Ok(RedirectKind::PrivateUse));
    }

    #[test]
    fn refuses_dangerous_or_ambiguous_uris() {
        let bad = [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "file:///etc/passwd",
            "http://evil.test/cb",
            "http://127.0.0.1.evil.test/cb",
            "http://localhost.evil.test/cb",
            "https://good.test/cb#frag",
            "https://user@evil.test/cb",
            "https://good.test@evil.test/cb",
            "https://good.test/a/../cb",
            "https://good.test/a/%2e%2e/cb",
            "https://good.test/./cb",
            "https://good.test/cb/.",
            "https://good.test/a%2fb",
            "https://good.test\\@evil.test/",
            "https://good.test/c b",
            "https://good.test/cb\n",
            "HTTPS://good.test/cb",
            "/relative/cb",
            "https:///nohost",
            "",
        ];
        for raw in bad {
            assert!(validate(raw).is_err(), "{raw:?} was accepted");
        }
        assert!(validate(&format!("https://good.test/{}", "a".repeat(2000))).is_err());
    }

    #[test]
    fn unicode_hosts_are_refused_and_punycode_is_accepted() {
        // idna_adapter is pinned to its stub back end (Cargo.toml): no Unicode host parses, so
        // a look-alike host can never be registered; its punycode form is plain ASCII.
        assert!(validate("https://exämple.com/cb").is_err());
        assert!(validate("https://раураl.com/cb").is_err());
        assert_eq!(validate("https://xn--exmple-cua.com/cb"), Ok(RedirectKind::Https));
    }

    #[test]
    fn matching_is_exact_except_the_loopback_port() {
        let reg = vec!["https://app.test/cb".to_string(), "http://127.0.0.1:3000/callback".to_string()];
        assert!(matches(&reg, "https://app.test/cb"));
        for no in [
            "https://app.test/cb/",
            "https://app.test/cbx",
            "https://app.test/cb?x=1",
            "https://APP.test/cb",
            "https://app.test:443/cb",
            "https://app.test/CB",
            "https://app.test/x/../cb",
            "https://app.test/cb#",
            "https://evil.test/cb",
            "https://app.test.evil.test/cb",
            "http://app.test/cb",
        ] {
            assert!(!matches(&reg, no), "{no} matched");
        }
        // Loopback: any port, everything else identical.
        assert!(matches(&reg, "http://127.0.0.1:51234/callback"));
        assert!(matches(&reg, "http://127.0.0.1/callback"));
        for no in [
            "http://127.0.0.1:51234/callback/",
            "http://127.0.0.1:51234/other",
            "http://localhost:51234/callback",
            "https://127.0.0.1:3000/callback",
            "http://127.0.0.1:51234/callback?x",
            "http://127.0.0.1:51234@evil.test/callback",
        ] {
            assert!(!matches(&reg, no), "{no} matched");
        }
    }
}
