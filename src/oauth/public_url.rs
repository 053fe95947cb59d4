//! Which URLs taken from outside input the gateway may fetch: the SSRF policy (security
//! checklist E.32) for client metadata documents and key sets (`jwks_uri`). `https` only, a
//! path, no credentials, query or fragment, canonical form, and no IP literal in a private,
//! loopback, link-local or otherwise special range (nor `localhost`). A name that *resolves*
//! to a private address cannot be checked from a Worker, but Workers cannot reach private
//! networks either. Loopback `http` is allowed only with the test-only exception.

use std::net::{Ipv4Addr, Ipv6Addr};

fn special_v4(ip: Ipv4Addr) -> bool {
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.octets()[0] == 0
        || ip.octets()[0] >= 224
        // 100.64.0.0/10 (carrier-grade NAT) and 198.18.0.0/15 (benchmarking).
        || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
        || (ip.octets()[0] == 198 && (ip.octets()[1] & 0xfe) == 18)
}

/// Anything outside global unicast (`2000::/3`, RFC 4291 §2.4) is special: that alone refuses
/// loopback, unspecified, IPv4-compatible and IPv4-mapped (`::/8`), NAT64 (`64:ff9b::/96`,
/// `64:ff9b:1::/48`), unique-local, link-local and multicast. Inside it, the ranges that embed
/// or stand for other addresses are refused too: 6to4 (`2002::/16`), Teredo (`2001::/32`),
/// ORCHID (`2001:10::/28`, `2001:20::/28`), benchmarking (`2001:2::/48`) and documentation
/// (`2001:db8::/32`).
fn special_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    (seg[0] & 0xe000) != 0x2000
        || seg[0] == 0x2002
        || (seg[0] == 0x2001
            && (seg[1] == 0 || seg[1] == 0x0db8 || (seg[1] & 0xffe0) == 0x0020 || (seg[1] & 0xfff0) == 0x0010))
        || (seg[0] == 0x2001 && seg[1] == 2 && seg[2] == 0)
}

/// Checks a document URL before it is fetched. `allow_loopback` is the test-only exception.
pub fn check(raw: &str, allow_loopback: bool) -> Result<url::Url, &'static str> {
    let url = crate::base::uri::parse(raw).ok_or("client_id is not a valid URL")?;
    if url.as_str() != raw {
        return Err("client_id must be in canonical form");
    }
    let loopback_ok =
        allow_loopback && url.scheme() == "http" && matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback());
    if url.scheme() != "https" && !loopback_ok {
        return Err("client_id must be an https URL");
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err("client_id must not have credentials, a query or a fragment");
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("client_id must have a path");
    }
    if !loopback_ok {
        match url.host() {
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost") => {
                return Err("client_id must not point at this machine")
            }
            Some(url::Host::Ipv4(ip)) if special_v4(ip) => return Err("client_id must not point at a private address"),
            Some(url::Host::Ipv6(ip)) if special_v6(ip) => return Err("client_id must not point at a private address"),
            Some(_) => {}
            None => return Err("client_id has no host"),
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_with_a_path_are_fetched() {
        assert!(check("https://app.example.com/oauth/client.json", false).is_ok());
        // Public IPv6, including inside 2001::/16 outside the refused blocks.
        assert!(check("https://[2606:4700::6810:84e5]/c.json", false).is_ok());
        assert!(check("https://[2001:4860:4860::8888]/c.json", false).is_ok());
        for bad in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://user@app.example.com/c.json",
            "https://app.example.com/c.json?x=1",
            "https://app.example.com/c.json#f",
            "https://localhost/c.json",
            "https://x.localhost/c.json",
            "https://127.0.0.1/c.json",
            "https://10.0.0.1/c.json",
            "https://172.16.5.4/c.json",
            "https://192.168.1.1/c.json",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/c.json",
            "https://0.0.0.0/c.json",
            "https://[::1]/c.json",
            "https://[fd00::1]/c.json",
            "https://[fe80::1]/c.json",
            "https://[::ffff:127.0.0.1]/c.json",
            "https://[64:ff9b::a00:1]/c.json",
            "https://[2002:a00:1::]/c.json",
            "https://[::10.0.0.1]/c.json",
            "https://[::a00:1]/c.json",
            "https://[64:ff9b:1::a00:1]/c.json",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/c.json",
            "https://[2001:db8::1]/c.json",
            "https://[ff02::1]/c.json",
            "https://APP.example.com/c.json",
            "https://app.example.com/a/../c.json",
        ] {
            assert!(check(bad, false).is_err(), "{bad} would be fetched");
        }
        // Loopback only with the test setting, and then only http://127.x.
        assert!(check("http://127.0.0.1:9/c.json", false).is_err());
        assert!(check("http://127.0.0.1:9/c.json", true).is_ok());
        assert!(check("http://10.0.0.1:9/c.json", true).is_err());
    }
}
